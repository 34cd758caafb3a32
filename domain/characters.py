"""Characters the learner talks to, read from `prompts/characters/<id>/`.

Each folder holds `character.yaml` (identity, voice, offline phrasebook) plus, per CEFR
level, `<level>.txt` (system prompt) and `<level>_hint.txt` (hint meta-prompt). The files
are the source of truth at run time: the library notices edits, new folders and removed
folders without a restart, and a broken folder is skipped with a warning so one typo
cannot take the other characters down.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from domain.cefr import NORMALIZED_LEVELS, normalize_level
from domain.prompt_files import prompts_dir

log = logging.getLogger(__name__)

REQUIRED_FIELDS = ("id", "name", "description", "target_language", "voice", "setting")


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    description: str
    target_language: str
    voice: str
    setting: str
    levels: tuple[str, ...]  # levels that have a <level>.txt file, in NORMALIZED_LEVELS order
    offline: dict = field(default_factory=dict, hash=False, compare=False)  # raw `offline:` section

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "target_language": self.target_language,
            "voice": self.voice,
            "setting": self.setting,
            "levels": list(self.levels),
        }


@dataclass(frozen=True)
class _Entry:
    """One loaded folder: the character and its prompt texts keyed by file stem."""
    character: Character
    system: dict[str, str]  # level -> system prompt
    hints: dict[str, str]  # level -> hint meta-prompt


def nearest_level(level: str, available: tuple[str, ...] | list[str]) -> str | None:
    """The available level closest to `level`; on a tie the lower one (easier French is
    the safer mistake). None when nothing is available."""
    wanted = NORMALIZED_LEVELS.index(normalize_level(level))
    candidates = [lv for lv in NORMALIZED_LEVELS if lv in available]
    if not candidates:
        return None
    return min(candidates, key=lambda lv: (abs(NORMALIZED_LEVELS.index(lv) - wanted), NORMALIZED_LEVELS.index(lv)))


class CharacterLibrary:
    """The characters under `root`, reloaded when their files change.

    The file tree is stat-ed at most once per `check_interval` seconds, so lookups on the
    hot path cost a clock read; a change anywhere reloads the whole (small) tree.
    """

    def __init__(self, root: Path, *, check_interval: float = 1.0) -> None:
        self.root = Path(root)
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._signature: tuple | None = None
        self._checked_at = float("-inf")

    # --- public API ---------------------------------------------------------------

    def all(self) -> list[Character]:
        entries = self._current()
        return [entries[key].character for key in sorted(entries)]

    def get(self, character_id: str) -> Character | None:
        entry = self._current().get(character_id)
        return entry.character if entry is not None else None

    def for_session(self, character_id: str) -> Character:
        """A session's character; if its folder was removed since, the first character, so
        the session still gets answers."""
        return self.get(character_id) or self.all()[0]

    def target_language(self, character_id: str) -> str:
        """The language a session with this character practises (French, the offline
        provider's, if the character is gone)."""
        character = self.get(character_id)
        return character.target_language if character else "fr"

    def system_prompt(self, character_id: str, level: str) -> str:
        """The system prompt for `level`, or for the nearest level that has one."""
        return self._prompt(character_id, level, hint=False)

    def hint_prompt(self, character_id: str, level: str) -> str:
        """The hint meta-prompt for `level`, or for the nearest level that has one."""
        return self._prompt(character_id, level, hint=True)

    def reload(self) -> None:
        """Force a re-read now (the periodic check makes this rarely necessary)."""
        with self._lock:
            self._checked_at = float("-inf")
            self._signature = None
        self._current()

    # --- loading --------------------------------------------------------------------

    def _prompt(self, character_id: str, level: str, *, hint: bool) -> str:
        entry = self._current().get(character_id)
        if entry is None:
            raise KeyError(f"unknown character {character_id!r}")
        texts = entry.hints if hint else entry.system
        chosen = nearest_level(level, tuple(texts))
        if chosen is None:
            kind = "hint" if hint else "system"
            raise LookupError(f"character {character_id!r} has no {kind} prompt files")
        return texts[chosen]

    def _current(self) -> dict[str, _Entry]:
        now = time.monotonic()
        if now - self._checked_at < self.check_interval:
            return self._entries
        with self._lock:
            if now - self._checked_at >= self.check_interval:
                signature = self._scan_signature()
                if signature != self._signature:
                    self._entries = self._load_all()
                    self._signature = signature
                self._checked_at = time.monotonic()
            return self._entries

    def _scan_signature(self) -> tuple:
        """(folder, file, mtime, size) for every file: any edit, addition or removal changes it."""
        items: list[tuple[str, str, int, int]] = []
        try:
            folders = sorted(os.scandir(self.root), key=lambda e: e.name)
        except FileNotFoundError:
            return ()
        for folder in folders:
            if not folder.is_dir():
                continue
            try:
                for item in os.scandir(folder.path):
                    stat = item.stat()
                    items.append((folder.name, item.name, stat.st_mtime_ns, stat.st_size))
            except OSError:
                items.append((folder.name, "", 0, 0))
        return tuple(sorted(items))

    def _load_all(self) -> dict[str, _Entry]:
        entries: dict[str, _Entry] = {}
        if not self.root.is_dir():
            log.warning("character folder %s does not exist; no characters loaded", self.root)
            return entries
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            entry = _load_folder(folder)
            if entry is not None:
                entries[entry.character.id] = entry
        return entries


def _load_folder(folder: Path) -> _Entry | None:
    """Parse one character folder, or log why it is skipped and return None."""
    try:
        data = yaml.safe_load((folder / "character.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("skipping character folder %s: no character.yaml", folder)
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        log.warning("skipping character folder %s: unreadable character.yaml (%s)", folder, exc)
        return None
    problem = _validate(data, folder.name)
    if problem:
        log.warning("skipping character folder %s: %s", folder, problem)
        return None
    system = _read_level_files(folder, "{level}.txt")
    if not system:
        log.warning("skipping character folder %s: no <level>.txt system prompt", folder)
        return None
    character = Character(
        **{name: str(data[name]).strip() for name in REQUIRED_FIELDS},
        levels=tuple(lv for lv in NORMALIZED_LEVELS if lv in system),
        offline=data.get("offline") if isinstance(data.get("offline"), dict) else {},
    )
    return _Entry(character=character, system=system, hints=_read_level_files(folder, "{level}_hint.txt"))


def _validate(data: Any, folder_name: str) -> str | None:
    if not isinstance(data, dict):
        return "character.yaml is not a mapping"
    missing = [name for name in REQUIRED_FIELDS if not str(data.get(name) or "").strip()]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    if str(data["id"]).strip() != folder_name:
        # Sessions store the id and look the folder up by it, so they must agree.
        return f"id {data['id']!r} does not match the folder name"
    return None


def _read_level_files(folder: Path, pattern: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for level in NORMALIZED_LEVELS:
        path = folder / pattern.format(level=level)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("ignoring unreadable prompt %s (%s)", path, exc)
            continue
        if text:
            texts[level] = text
    return texts


_default: CharacterLibrary | None = None
_default_lock = threading.Lock()


def default_library() -> CharacterLibrary:
    """The process-wide library on `<prompts>/characters`."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = CharacterLibrary(prompts_dir() / "characters")
    return _default
