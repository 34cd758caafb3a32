"""The character library: prompt files on disk, level fallback, hot reload."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml

from domain import characters
from domain.cefr import NORMALIZED_LEVELS as LEVELS
from domain.characters import Character, CharacterLibrary, default_library, nearest_level

REPO_CHARACTERS = Path(__file__).resolve().parents[2] / "prompts" / "characters"
REPO_CHARACTER_IDS = ("amara", "camille", "henri", "lucas")


def make_character(root: Path, character_id: str, levels: tuple[str, ...] = LEVELS, *,
                   hint_levels: tuple[str, ...] | None = None, **fields: object) -> Path:
    """Write a minimal character folder; level files say which level they are for."""
    folder = root / character_id
    folder.mkdir(parents=True, exist_ok=True)
    data = {"id": character_id, "name": character_id.title(), "description": "A test character.",
            "target_language": "fr", "voice": "alloy", "setting": "A test room",
            "offline": {"a1a2": {"follow_ups": ["Ça va ?"]}}}
    data.update(fields)
    (folder / "character.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for level in levels:
        (folder / f"{level}.txt").write_text(f"system prompt {level}", encoding="utf-8")
    for level in levels if hint_levels is None else hint_levels:
        (folder / f"{level}_hint.txt").write_text(f"hint prompt {level}", encoding="utf-8")
    return folder


@pytest.fixture
def library(tmp_path: Path) -> CharacterLibrary:
    return CharacterLibrary(tmp_path, check_interval=0)


# --- the shipped characters ------------------------------------------------------------


def test_repo_has_four_complete_characters() -> None:
    library = CharacterLibrary(REPO_CHARACTERS)
    found = library.all()
    assert [c.id for c in found] == sorted(c.id for c in found)
    assert set(REPO_CHARACTER_IDS) <= {c.id for c in found}
    for character in found:
        assert character.levels == LEVELS
        assert character.target_language == "fr"
        assert character.voice and character.setting and character.description
        for level in LEVELS:
            (REPO_CHARACTERS / character.id / f"{level}_hint.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("character_id", REPO_CHARACTER_IDS)
@pytest.mark.parametrize("level", LEVELS)
def test_repo_system_prompts_ask_for_recasts_and_a_question(character_id: str, level: str) -> None:
    library = CharacterLibrary(REPO_CHARACTERS)
    prompt = library.system_prompt(character_id, level)
    assert library.get(character_id).name in prompt
    assert "Recast" in prompt
    assert "follow-up question" in prompt
    assert level.upper() in prompt
    hint = library.hint_prompt(character_id, level)
    assert "2 or 3" in hint and level.upper() in hint


@pytest.mark.parametrize("character_id", REPO_CHARACTER_IDS)
def test_repo_offline_phrasebook_is_complete(character_id: str) -> None:
    offline = CharacterLibrary(REPO_CHARACTERS).get(character_id).offline
    for band in ("a1a2", "b1b2", "c1c2"):
        section = offline[band]
        assert len(section["follow_ups"]) >= 8
        assert len(set(section["follow_ups"])) == len(section["follow_ups"])
        assert all(q.endswith("?") for q in section["follow_ups"])
        for key in ("openers", "reactions", "recasts", "quoted_recasts", "remarks"):
            assert section[key], f"{band}.{key} is empty"
        assert all("{topic}" in t for t in section["reactions"])
        assert all("{phrase}" in t for t in section["recasts"] + section["quoted_recasts"])


def test_to_dict_lists_public_fields(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe", ("a1", "b2"))
    assert library.get("zoe").to_dict() == {
        "id": "zoe", "name": "Zoe", "description": "A test character.", "target_language": "fr",
        "voice": "alloy", "setting": "A test room", "levels": ["a1", "b2"],
    }


def test_character_is_hashable_despite_its_offline_dict(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe")
    assert isinstance(hash(library.get("zoe")), int)
    assert isinstance(library.get("zoe"), Character)


# --- lookups and fallback ------------------------------------------------------------------


def test_level_is_case_insensitive(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe")
    assert library.system_prompt("zoe", "B1") == library.system_prompt("zoe", "b1") == "system prompt b1"
    assert library.hint_prompt("zoe", "C2") == "hint prompt c2"


@pytest.mark.parametrize(("available", "wanted", "expected"), [
    (("a1", "c1"), "a2", "a1"),
    (("a1", "c1"), "b2", "c1"),
    (("a1", "c1"), "b1", "a1"),  # tie between a1 and c1: the lower one
    (("a2", "b2"), "b1", "a2"),  # tie: the lower one
    (("b1",), "c2", "b1"),
    (("c2",), "a1", "c2"),
])
def test_missing_level_falls_back_to_nearest(library: CharacterLibrary, tmp_path: Path,
                                             available: tuple[str, ...], wanted: str, expected: str) -> None:
    make_character(tmp_path, "zoe", available)
    assert library.get("zoe").levels == available
    assert library.system_prompt("zoe", wanted.upper()) == f"system prompt {expected}"
    assert library.hint_prompt("zoe", wanted) == f"hint prompt {expected}"


def test_hint_fallback_is_independent_of_system_prompts(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe", LEVELS, hint_levels=("c1",))
    assert library.system_prompt("zoe", "a1") == "system prompt a1"
    assert library.hint_prompt("zoe", "a1") == "hint prompt c1"


def test_nearest_level_helper() -> None:
    assert nearest_level("B2", ["a1", "c2"]) == "c2"
    assert nearest_level("a1", []) is None


def test_unknown_character_and_level(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe")
    assert library.get("nobody") is None
    with pytest.raises(KeyError):
        library.system_prompt("nobody", "a1")
    with pytest.raises(ValueError):
        library.system_prompt("zoe", "d1")


def test_missing_root_is_an_empty_library(tmp_path: Path) -> None:
    assert CharacterLibrary(tmp_path / "nowhere").all() == []


# --- invalid folders ------------------------------------------------------------------------


def test_invalid_folders_are_skipped_with_a_warning(library: CharacterLibrary, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    make_character(tmp_path, "good")
    broken = make_character(tmp_path, "novoice")
    data = yaml.safe_load((broken / "character.yaml").read_text(encoding="utf-8"))
    del data["voice"]
    (broken / "character.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    make_character(tmp_path, "mismatch", id="someone-else")
    make_character(tmp_path, "noprompts", levels=())
    (tmp_path / "noyaml").mkdir()
    (tmp_path / "badyaml").mkdir()
    (tmp_path / "badyaml" / "character.yaml").write_text("id: [unclosed", encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a folder", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="domain.characters"):
        found = [c.id for c in library.all()]

    assert found == ["good"]
    logged = caplog.text
    for name in ("novoice", "mismatch", "noprompts", "noyaml", "badyaml"):
        assert name in logged
    assert "voice" in logged


# --- reloading --------------------------------------------------------------------------------


def test_edits_are_picked_up(library: CharacterLibrary, tmp_path: Path) -> None:
    folder = make_character(tmp_path, "zoe", ("a1",))
    assert library.system_prompt("zoe", "a1") == "system prompt a1"

    (folder / "a1.txt").write_text("a rewritten, longer system prompt", encoding="utf-8")
    assert library.system_prompt("zoe", "a1") == "a rewritten, longer system prompt"

    (folder / "b2.txt").write_text("system prompt b2", encoding="utf-8")
    assert library.get("zoe").levels == ("a1", "b2")
    assert library.system_prompt("zoe", "c1") == "system prompt b2"

    make_character(tmp_path, "zoe", ("a1",), name="Zoé Martin")
    assert library.get("zoe").name == "Zoé Martin"


def test_adding_and_removing_a_folder(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe")
    assert [c.id for c in library.all()] == ["zoe"]
    make_character(tmp_path, "alex")
    assert [c.id for c in library.all()] == ["alex", "zoe"]
    shutil.rmtree(tmp_path / "zoe")
    assert [c.id for c in library.all()] == ["alex"]
    assert library.get("zoe") is None


def test_disk_is_checked_at_most_once_per_interval(tmp_path: Path) -> None:
    slow = CharacterLibrary(tmp_path, check_interval=3600)
    assert slow.all() == []
    make_character(tmp_path, "zoe")
    assert slow.all() == []  # not re-scanned yet: lookups stay cheap
    slow.reload()
    assert [c.id for c in slow.all()] == ["zoe"]


def test_default_library_uses_prompts_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    make_character(tmp_path / "characters", "zoe")
    monkeypatch.setattr(characters, "_default", None)
    monkeypatch.setenv("PROMPTS_DIR", str(tmp_path))
    library = default_library()
    assert library is default_library()
    assert [c.id for c in library.all()] == ["zoe"]


def test_default_library_defaults_to_repo_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(characters, "_default", None)
    monkeypatch.delenv("PROMPTS_DIR", raising=False)
    assert default_library().root == REPO_CHARACTERS


def test_a_removed_character_still_answers_a_session(library: CharacterLibrary, tmp_path: Path) -> None:
    make_character(tmp_path, "zoe", target_language="es")
    make_character(tmp_path, "amir")
    assert library.for_session("zoe").id == "zoe"
    assert library.for_session("gone").id == "amir", "the first character stands in"
    assert library.target_language("zoe") == "es"
    assert library.target_language("gone") == "fr", "French, the offline provider's language"
