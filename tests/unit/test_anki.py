"""Reading and writing Anki decks and CSV (domain/anki.py), without services."""
from __future__ import annotations

import io
import sqlite3
import zipfile
from dataclasses import replace
from datetime import datetime, timezone

import genanki
import pytest

from domain import anki
from domain.config import Settings
from domain.errors import Invalid

SETTINGS = Settings()
MODEL = genanki.Model(1607392319, "Basic", fields=[{"name": "Front"}, {"name": "Back"}],
                      templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}])


def apkg(notes: list[tuple[str, str]], tmp_path, revlog: list[tuple[int, int, int]] = ()) -> bytes:
    """A real .apkg built by genanki; `revlog`: (note index, time in ms, ease 1-4)."""
    deck = genanki.Deck(2059400110, "Test")
    for front, back in notes:
        deck.add_note(genanki.Note(model=MODEL, fields=[front, back]))
    path = tmp_path / "deck.apkg"
    genanki.Package(deck).write_to_file(str(path))
    if not revlog:
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        collection = archive.read("collection.anki2")
    db_path = tmp_path / "collection.anki2"
    db_path.write_bytes(collection)
    connection = sqlite3.connect(db_path)
    card_ids = [row[0] for row in connection.execute("SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid "
                                                     "ORDER BY n.id")]
    for index, at_ms, ease in revlog:
        connection.execute("INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                           "VALUES (?, ?, -1, ?, 1, 0, 2500, 3000, 1)", (at_ms, card_ids[index], ease))
    connection.commit()
    connection.close()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.write(db_path, "collection.anki2")
        archive.writestr("media", "{}")
    return out.getvalue()


def test_a_genanki_deck_reads_as_notes_with_html_made_plain(tmp_path):
    notes = anki.read(apkg([("le <b>chat</b>", "the cat&nbsp;[sound:chat.mp3]"), ("maison", "house")], tmp_path),
                      "apkg", SETTINGS)
    assert [(n.front, n.back, n.reviews) for n in notes] == [("le chat", "the cat", []), ("maison", "house", [])]


def test_the_revlog_is_each_notes_history_in_time_order(tmp_path):
    data = apkg([("chat", "cat"), ("chien", "dog")], tmp_path,
                revlog=[(0, 1_764_000_000_000, 3), (1, 1_764_000_100_000, 1), (0, 1_763_000_000_000, 4)])
    chat, chien = anki.read(data, "apkg", SETTINGS)
    assert [(r.at, r.rating) for r in chat.reviews] == [
        (datetime.fromtimestamp(1_763_000_000, tz=timezone.utc), 3),
        (datetime.fromtimestamp(1_764_000_000, tz=timezone.utc), 2)]
    assert [r.rating for r in chien.reviews] == [0]


@pytest.mark.parametrize(("data", "code"), [
    (b"not a zip at all", "anki_not_a_zip"),
    (b"", "anki_file_empty"),
])
def test_bad_apkg_files_are_named(data, code):
    with pytest.raises(Invalid) as caught:
        anki.read(data, "apkg", SETTINGS)
    assert caught.value.code == code


def test_a_zip_without_a_collection_is_named():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("media", "{}")
    with pytest.raises(Invalid) as caught:
        anki.read(out.getvalue(), "apkg", SETTINGS)
    assert caught.value.code == "anki_no_collection"


def test_a_collection_that_is_not_sqlite_is_named():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("collection.anki2", "garbage" * 100)
    with pytest.raises(Invalid) as caught:
        anki.read(out.getvalue(), "apkg", SETTINGS)
    assert caught.value.code == "anki_collection_invalid"


def test_too_large_files_and_too_many_cards_are_refused():
    small = replace(SETTINGS, anki_import_max_bytes=10, anki_import_max_rows=1)
    with pytest.raises(Invalid) as caught:
        anki.read(b"front,back\nchat,cat\n", "csv", small)
    assert caught.value.code == "anki_file_too_large"
    fewer = replace(SETTINGS, anki_import_max_rows=1)
    with pytest.raises(Invalid) as caught:
        anki.read(b"front,back\nchat,cat\nchien,dog\n", "csv", fewer)
    assert caught.value.code == "anki_file_too_large"


def test_csv_with_reviews_reads_and_duplicates_merge():
    data = ("front,back,reviews\nchat,cat,2026-11-02T09:30:00Z=good;2026-11-01T09:30:00+01:00=again\n"
            "Chat,cat,\nchien,dog,\n").encode()
    chat, chien = anki.read(data, "csv", SETTINGS)
    assert chat.front == "chat" and [r.rating for r in chat.reviews] == [0, 2]
    assert chat.reviews[0].at == datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc)
    assert chien.reviews == []


@pytest.mark.parametrize("data", [
    b"word,meaning\nchat,cat\n",  # no front/back header
    b"front,back,reviews\nchat,cat,yesterday=good\n",  # a bad review
    b"front,back,reviews\nchat,cat,2026-11-02T09:30:00=good\n",  # a time without a zone
    b"front,back\n,cat\n",  # an empty front
    b"front,back\nchat,cat,extra\n",  # more values than columns
    "front,back\nchat,cat\n".encode("utf-16"),  # not UTF-8
])
def test_bad_csv_is_named(data):
    with pytest.raises(Invalid) as caught:
        anki.read(data, "csv", SETTINGS)
    assert caught.value.code == "anki_csv_invalid"


def test_export_round_trips_through_both_formats():
    at = datetime(2026, 11, 2, 9, 30, 0, 123000, tzinfo=timezone.utc)
    cards = [anki.ExportCard("word", "chat", "cat", (anki.Review(at, 2), anki.Review(at, 0))),
             anki.ExportCard("own", "la baguette", "the <loaf> & co"),
             anki.ExportCard("error", "je suis allé", "je suis allée")]
    from_apkg = anki.read(anki.to_apkg(cards), "apkg", SETTINGS)
    from_csv = anki.read(anki.to_csv(cards), "csv", SETTINGS)
    # Error cards are exported (kind error, tag parlons_error) but not imported as words.
    for notes in (from_apkg, from_csv):
        assert [(n.front, n.back) for n in notes] == [("chat", "cat"), ("la baguette", "the <loaf> & co")]
    for notes in (from_apkg, from_csv):
        chat = next(n for n in notes if n.front == "chat")
        assert [r.rating for r in chat.reviews] == [2, 0]
        assert chat.reviews[0].at == at


def test_nul_characters_are_dropped():
    [note] = anki.read(b"front,back\nch\x00at,c\x00at\n", "csv", SETTINGS)
    assert (note.front, note.back, anki.front_key("ch\x00at")) == ("chat", "cat", "chat")
