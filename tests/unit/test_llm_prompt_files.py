import os

import pytest

from domain import prompt_files


def test_text_is_read_stripped_and_reread_after_an_edit(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTS_DIR", str(tmp_path))
    (tmp_path / "note.txt").write_text("  Bonjour  \n", encoding="utf-8")
    assert prompt_files.text("note.txt") == "Bonjour"
    (tmp_path / "note.txt").write_text("Salut, encore\n", encoding="utf-8")
    os.utime(tmp_path / "note.txt", ns=(1, 1))  # a different stamp even within the same clock tick
    watched = prompt_files._watched(tmp_path / "note.txt", str.strip)
    watched._checked_at = float("-inf")  # past the once-a-second check
    assert prompt_files.text("note.txt") == "Salut, encore"


def test_a_missing_text_prompt_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTS_DIR", str(tmp_path))
    with pytest.raises(LookupError):
        prompt_files.text("absent.txt")


def test_broken_or_missing_yaml_is_none(tmp_path):
    (tmp_path / "broken.yaml").write_text("a: [unclosed", encoding="utf-8")
    assert prompt_files.yaml_data(tmp_path / "broken.yaml") is None
    assert prompt_files.yaml_data(tmp_path / "absent.yaml") is None
    (tmp_path / "good.yaml").write_text("a: [1, 2]", encoding="utf-8")
    assert prompt_files.yaml_data(tmp_path / "good.yaml") == {"a": [1, 2]}
