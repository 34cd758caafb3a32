"""The French lexicon the grammar rules, word feedback and the offline provider share.

The words are data: the tab-separated files beside this module (one per kind: nouns,
determiners, adjectives, verbs, pronouns, places and the closed word lists), each with
`#` comments saying what it holds and a header row.  They are small (a few thousand
lines) and read once, on first use.  pyspellchecker's French word list, the big one, is
here too: `is_word` asks it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent


@functools.cache
def table(name: str) -> tuple[dict[str, str], ...]:
    """The rows of `name`.tsv as {column: cell} (a missing cell is "")."""
    lines = [line for line in (DATA / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    return tuple(dict(zip(header, line.split("\t") + [""] * len(header))) for line in lines[1:])


@functools.cache
def ordered_words(list_name: str) -> tuple[str, ...]:
    """The words of one list of word_lists.tsv, in file order."""
    return tuple(row["word"] for row in table("word_lists") if row["list"] == list_name)


def words(list_name: str) -> frozenset[str]:
    """The words of one list of word_lists.tsv."""
    return frozenset(ordered_words(list_name))


def column(name: str, key: str, value: str) -> dict[str, str]:
    """{row[key]: row[value]} for the rows of `name`.tsv where `value` is filled in."""
    return {row[key]: row[value] for row in table(name) if row[value]}


# --- nouns -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Noun:
    gender: str | None  # "m", "f", or None for a noun of either gender
    plural_only: bool


@functools.cache
def nouns() -> dict[str, Noun]:
    return {row["noun"]: Noun(None if row["gender"] == "mf" else row["gender"], row["plural_only"] == "p")
            for row in table("nouns")}


def irregular_plurals() -> dict[str, str]:
    return column("irregular_plurals", "singular", "plural")


@functools.cache
def noun_endings(gender: str) -> tuple[str, ...]:
    return tuple(row["ending"] for row in table("noun_endings") if row["gender"] == gender)


@functools.cache
def feminine_noun_endings() -> tuple[tuple[str, str], ...]:
    """(feminine ending, masculine ending) of nouns for people, in file order."""
    return tuple((row["feminine"], row["masculine"]) for row in table("feminine_nouns"))


# --- determiners -------------------------------------------------------------------------

@dataclass(frozen=True)
class Determiner:
    gender: str | None
    number: str
    kind: str = "article"  # article, possessive, demonstrative or quantifier
    owner: str | None = None  # a possessive's person: "mon" 1s, "vos" 2p


@functools.cache
def determiners() -> dict[str, Determiner]:
    return {row["determiner"]: Determiner(row["gender"] or None, row["number"], row["kind"], row["owner"] or None)
            for row in table("determiners")}


@functools.cache
def other_gender() -> dict[str, tuple[str, str]]:
    """The other gender of a determiner, as (before a consonant, before a vowel)."""
    return {row["determiner"]: (row["other_gender"], row["other_gender_before_vowel"])
            for row in table("determiners") if row["other_gender"]}


# --- adjectives and verbs ----------------------------------------------------------------

@functools.cache
def irregular_adjectives() -> dict[str, tuple[str, str, str, str]]:
    """Base -> (ms, fs, mp, fp), each cell's spellings separated by "|", best first."""
    return {row["adjective"]: (row["ms"], row["fs"], row["mp"], row["fp"]) for row in table("adjectives")}


@functools.cache
def adjective_endings() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(masculine ending, feminine endings most likely first), in file order."""
    return tuple((row["masculine"], tuple(row["feminine"].split())) for row in table("adjective_endings"))


@functools.cache
def verb_families() -> dict[str, tuple[str, str]]:
    """Base verb -> (its shared start, the new starts separated by spaces)."""
    return {row["verb"]: (row["shared_start"], row["new_starts"]) for row in table("verb_families")}


# --- pronouns, elision, places -------------------------------------------------------------

@functools.cache
def elided_heads(words_: frozenset[str]) -> frozenset[str]:
    """`words_` and their elided forms, written without the apostrophe ("je" -> "je", "j")."""
    elisions = column("elisions", "word", "elided")
    spelled = set(words_) | {elisions[w] for w in words_ if w in elisions}
    return frozenset(w.rstrip("'") for w in spelled)


@functools.cache
def contractions() -> dict[tuple[str, str], str]:
    """(preposition, article) -> contraction: ("à", "le") -> "au"."""
    return {(row["preposition"], row["article"]): row["contraction"] for row in table("contractions")}


@functools.cache
def person_swap() -> dict[str, str]:
    """First-person word -> second-person word and back ("mes" <-> "tes", "moi" <-> "toi")."""
    swap: dict[str, str] = {}
    owned = {(d.owner, d.gender, d.number): word for word, d in determiners().items() if d.owner}
    for (owner, gender, number), word in owned.items():
        if owner[0] == "1":
            other = owned[("2" + owner[1], gender, number)]
            swap[word], swap[other] = other, word
    stressed = column("subject_pronouns", "pronoun", "stressed")
    swap[stressed["je"]], swap[stressed["tu"]] = stressed["tu"], stressed["je"]
    return swap


def is_word(word: str) -> bool:
    """True when the French word list knows `word` (lower case expected)."""
    return word.replace("œ", "oe").replace("æ", "ae") in dictionary()


@functools.cache
def dictionary():
    """pyspellchecker's French word list (loaded on first use: it takes a moment)."""
    from spellchecker import SpellChecker

    return SpellChecker(language="fr", distance=1)
