"""Anki export and import on the real stack (fuzzing off): real .apkg files built with
genanki (one with a revlog added through sqlite3), the history replayed through FSRS,
re-imports that add nothing, export -> import into another learner in both formats, bad
files refused with nothing kept, a large file imported by the task with import_progress
events, and another learner's import is a 404."""
from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from datetime import datetime, timedelta, timezone

import fsrs
import genanki
import pytest

from tests.support.client import Learner, assert_error, register
from tests.support.waits import eventually

MODEL = genanki.Model(1607392319, "Basic", fields=[{"name": "Front"}, {"name": "Back"}],
                      templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}])


def aged(stack, learner: Learner) -> Learner:
    """The account made old enough for the histories these tests replay."""
    with stack.database() as conn:
        conn.execute("UPDATE users SET created_at = created_at - interval '400 days' WHERE id = %s",
                     (learner.user["id"],))
    return learner


def words(learner: Learner, count: int) -> list[dict]:
    response = learner.get("/api/v1/vocabulary", params={"per_page": count})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def apkg(tmp_path, notes: list[tuple[str, str]], revlog: list[tuple[int, datetime, int]] = ()) -> bytes:
    """A real deck built by genanki; `revlog`: (note index, time, ease 1-4) added with sqlite3."""
    deck = genanki.Deck(2059400110, "Français")
    for front, back in notes:
        deck.add_note(genanki.Note(model=MODEL, fields=[front, back]))
    path = tmp_path / "deck.apkg"
    genanki.Package(deck).write_to_file(str(path))
    if not revlog:
        return path.read_bytes()
    collection = tmp_path / "collection.anki2"
    with zipfile.ZipFile(path) as archive:
        collection.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(collection)
    card_ids = [row[0] for row in connection.execute("SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid "
                                                     "ORDER BY n.id")]
    for index, at, ease in revlog:
        connection.execute("INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                           "VALUES (?, ?, -1, ?, 1, 0, 2500, 4000, 1)",
                           (int(at.timestamp() * 1000), card_ids[index], ease))
    connection.commit()
    connection.close()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.write(collection, "collection.anki2")
        archive.writestr("media", "{}")
    return out.getvalue()


def upload(learner: Learner, data: bytes, filename: str, **form):
    return learner.post("/api/v1/anki/imports", files={"file": (filename, data)}, data=form)


def imported(learner: Learner, data: bytes, filename: str) -> dict:
    response = upload(learner, data, filename)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"
    return response.json()["result"]


def history(learner: Learner, word_id: int) -> dict:
    response = learner.get(f"/api/v1/progress/{word_id}")
    assert response.status_code == 200, response.text
    return response.json()


def exported(learner: Learner, fmt: str) -> bytes:
    response = learner.get("/api/v1/anki/export", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Disposition"] == f'attachment; filename="parlons.{fmt}"'
    return response.content


def test_a_deck_with_a_revlog_is_matched_replayed_through_fsrs_and_not_duplicated(stack, learner, tmp_path):
    aged(stack, learner)
    first, second = words(learner, 2)
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=30)
    revlog = [(0, start, 3), (0, start + timedelta(days=3), 1), (0, start + timedelta(days=4), 4)]
    data = apkg(tmp_path, [(first["lemma"], first["translation"]), (f"<i>{second['lemma'].upper()}</i>", "x"),
                           ("zorglubette", "a word no vocabulary has")], revlog)

    assert imported(learner, data, "deck.apkg") == {
        "notes": 3, "matched": 2, "cards_created": 2, "own_words_added": 1, "reviews_replayed": 3,
        "reviews_skipped": 0}

    reference, card = fsrs.Scheduler(enable_fuzzing=False), fsrs.Card()
    for _, at, ease in revlog:
        card, _ = reference.review_card(card, fsrs.Rating(ease), review_datetime=at)
    replayed = history(learner, first["id"])
    assert [r["rating_name"] for r in replayed["reviews"]] == ["good", "again", "easy"]
    assert round(replayed["stability"], 4) == round(card.stability, 4)
    assert replayed["reps"] == 3
    assert history(learner, second["id"])["state"] == "new"  # a card with no history (listed in the export)

    assert imported(learner, data, "deck.apkg") == {
        "notes": 3, "matched": 2, "cards_created": 0, "own_words_added": 0, "reviews_replayed": 0,
        "reviews_skipped": 3}
    assert history(learner, first["id"])["reps"] == 3
    rows = list(csv.DictReader(io.StringIO(exported(learner, "csv").decode())))
    assert sorted(r["front"] for r in rows) == sorted([first["lemma"], second["lemma"], "zorglubette"])


def test_export_then_import_into_another_learner_in_both_formats(stack, learner, other_learner):
    third = register(stack.base_url, stack.ws_url)
    chosen = words(learner, 3)
    for word, rating in zip(chosen, (2, 0, 3)):
        response = learner.post("/api/v1/progress/review", {"word_id": word["id"], "rating": rating})
        assert response.status_code == 200, response.text
    deck, table = exported(learner, "apkg"), exported(learner, "csv")
    assert zipfile.is_zipfile(io.BytesIO(deck))
    assert table.decode().splitlines()[0] == "front,back,reviews,kind"

    for receiver, data, name in ((other_learner, deck, "parlons.apkg"), (third, table, "parlons.csv")):
        result = imported(receiver, data, name)
        assert result["matched"] == 3 and result["reviews_replayed"] == 3, result
        for word, rating in zip(chosen, ("good", "again", "easy")):
            assert [r["rating_name"] for r in history(receiver, word["id"])["reviews"]] == [rating]


def test_a_csv_with_a_history_in_the_documented_form(stack, learner):
    aged(stack, learner)
    [word] = words(learner, 1)
    day = (datetime.now(timezone.utc) - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = f"front,back,reviews\n{word['lemma']},{word['translation']},{day}=good;{later}=hard\n".encode()
    assert imported(learner, data, "mine.csv")["reviews_replayed"] == 2
    assert [r["rating_name"] for r in history(learner, word["id"])["reviews"]] == ["good", "hard"]


@pytest.mark.parametrize(("data", "filename", "code"), [
    (b"this is not a zip", "deck.apkg", "anki_not_a_zip"),
    (None, "deck.apkg", "anki_no_collection"),
    (b"word,meaning\nchat,cat\n", "deck.csv", "anki_csv_invalid"),
    (b"front,back,reviews\nchat,cat,2026-11-02T09:30:00Z=good\nchien,dog,tomorrow=good\n", "deck.csv",
     "anki_csv_invalid"),
    (b"front,back\nchat,cat\n", "deck.txt", "anki_format_unknown"),
])
def test_bad_files_get_a_422_naming_the_problem_and_change_nothing(learner, data, filename, code):
    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("media", "{}")
        data = out.getvalue()
    form = {"format": "docx"} if code == "anki_format_unknown" else {}
    error = assert_error(upload(learner, data, filename, **form), 422, code)
    assert error["message"]
    assert exported(learner, "csv").decode().splitlines() == ["front,back,reviews,kind"]


def test_an_upload_without_a_file_is_a_422(learner):
    form_without_file = {"format": (None, "csv")}  # multipart, as uploads are sent, with no `file` part
    assert_error(learner.post("/api/v1/anki/imports", files=form_without_file), 422, "anki_file_missing")


def test_a_large_file_is_imported_by_the_task_with_progress_events(learner, other_learner):
    rows = "".join(f"motinconnu{index},unknown word {index}\n" for index in range(260))
    data = f"front,back\n{rows}".encode()
    with learner.socket("/api/v1/ws") as socket:
        response = upload(learner, data, "big.csv")
        assert response.status_code == 202, response.text
        queued = response.json()
        assert queued["status"] == "queued" and queued["result"] == {"notes": 260, "done": 0}
        events = socket.until(lambda e: e["type"] == "import_progress" and e["data"]["status"] == "done")
    progress = [e["data"] for e in events if e["type"] == "import_progress"]
    assert all(p["import_id"] == queued["id"] for p in progress)
    assert [p["done"] for p in progress if p["status"] == "running"][-1] == 260
    assert progress[-1]["result"]["own_words_added"] == 260
    final = learner.get(f"/api/v1/anki/imports/{queued['id']}")
    assert final.status_code == 200 and final.json()["status"] == "done", final.text
    assert final.json()["result"]["own_words_added"] == 260
    assert_error(other_learner.get(f"/api/v1/anki/imports/{queued['id']}"), 404, "import_not_found")
    assert_error(learner.get("/api/v1/anki/imports/not-a-uuid"), 404, "import_not_found")
    again = upload(learner, data, "big.csv")  # the same file again: the task adds nothing
    assert again.status_code == 202, again.text
    second = eventually(lambda: (found := learner.get(f"/api/v1/anki/imports/{again.json()['id']}").json())
                        ["status"] == "done" and found, "the second import done")
    assert second["result"]["own_words_added"] == 0 and second["result"]["notes"] == 260
