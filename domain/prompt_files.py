"""Prompt files under prompts/ (or PROMPTS_DIR), read at run time and re-read when they
change (DESIGN §7).

A file's modification stamp is checked at most once a second, so lookups on the hot path
cost a clock read; an edit is picked up without a restart.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from domain.config import REPO_ROOT

log = logging.getLogger(__name__)


def prompts_dir() -> Path:
    """`PROMPTS_DIR` when set (in the environment or `.env`), else the repo's prompts/.
    Read here rather than from Settings: prompts are loaded by code that runs without
    the rest of the configuration (the offline provider, unit tests, evaluations)."""
    configured = os.environ.get("PROMPTS_DIR")
    return Path(configured) if configured else REPO_ROOT / "prompts"


class _WatchedFile:
    def __init__(self, path: Path, parse: Callable[[str], Any], check_interval: float = 1.0) -> None:
        self.path = path
        self.parse = parse
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._data: Any = None

    def data(self) -> Any:
        """The parsed content; None (logged) while the file is missing or unreadable."""
        now = time.monotonic()
        if now - self._checked_at < self.check_interval:
            return self._data
        with self._lock:
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
                if stamp != self._stamp:
                    self._data = self.parse(self.path.read_text(encoding="utf-8"))
                    self._stamp = stamp
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                log.error("cannot read %s (%s)", self.path, exc)
                self._data, self._stamp = None, None
            self._checked_at = now
            return self._data


_files: dict[tuple[Path, Callable[[str], Any]], _WatchedFile] = {}
_files_lock = threading.Lock()


def _watched(path: Path, parse: Callable[[str], Any]) -> _WatchedFile:
    with _files_lock:
        return _files.setdefault((path, parse), _WatchedFile(path, parse))


def text(name: str) -> str:
    """The text of prompts/<name>, stripped. A prompt the code needs must exist: raises
    LookupError when it does not."""
    found = _watched(prompts_dir() / name, str.strip).data()
    if found is None:
        raise LookupError(f"prompt file {name} is missing or unreadable")
    return found


def yaml_data(path: Path) -> Any:
    """A YAML file's data; None (logged) while it is missing or broken, for callers that
    have a fallback."""
    return _watched(path, yaml.safe_load).data()
