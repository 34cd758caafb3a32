"""The lexicon's data files (domain/language/lexicon/): no entry twice, no entry that
contradicts another, and every file readable the way the code reads it."""
from __future__ import annotations

from collections import Counter

import pytest

from domain.language import lexicon

# Lists a word may not be in twice over: a word belongs to one side only.
EXCLUSIVE_LISTS = [
    ("prenominal_adjective", "postnominal_adjective"),
    ("finir_verb", "vendre_verb"),
    ("finir_verb", "doubling_verb"),
    ("vendre_verb", "doubling_verb"),
    ("instrument", "sport"),
    ("english_marker", "french_marker"),
    ("predicate_adverb", "adverb_after_etre"),
]
KEYS = {"nouns": "noun", "irregular_plurals": "singular", "noun_endings": "ending", "determiners": "determiner",
        "adjectives": "adjective", "adjective_endings": "masculine", "verbs": "infinitive", "verb_families": "verb",
        "subject_pronouns": "pronoun", "object_pronouns": "pronoun", "elisions": "word",
        "h_muet": "prefix", "feminine_nouns": "feminine"}


def duplicates(values) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


@pytest.mark.parametrize("name, key", sorted(KEYS.items()))
def test_no_entry_is_listed_twice(name, key):
    assert duplicates(row[key] for row in lexicon.table(name)) == []


def test_no_word_is_twice_in_a_word_list():
    assert duplicates((row["list"], row["word"]) for row in lexicon.table("word_lists")) == []


def test_a_noun_has_one_gender_and_either_gender_is_said_so():
    genders = {row["gender"] for row in lexicon.table("nouns")}
    assert genders <= {"m", "f", "mf"}
    assert {row["plural_only"] for row in lexicon.table("nouns")} <= {"", "p"}


@pytest.mark.parametrize("first, second", EXCLUSIVE_LISTS)
def test_exclusive_lists_share_no_word(first, second):
    assert lexicon.words(first) and lexicon.words(second)
    assert lexicon.words(first) & lexicon.words(second) == set()


def test_a_place_has_one_kind_except_quebec_city_and_province():
    kinds = Counter(row["place"] for row in lexicon.table("places"))
    assert [place for place, count in kinds.items() if count > 1] == ["québec"]


def test_an_irregular_plural_is_not_the_regular_one():
    from domain.language.inflection import nouns

    for singular, plural in lexicon.irregular_plurals().items():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(nouns, "_IRREGULAR_PLURALS", {})
            assert nouns.pluralize(singular) != plural, singular


def test_a_feminine_ending_is_not_a_masculine_one():
    assert set(lexicon.noun_endings("f")) & set(lexicon.noun_endings("m")) == set()


def test_verb_rows_have_six_persons_and_families_extend_known_verbs():
    for row in lexicon.table("verbs"):
        for column in ("present", "subjunctive"):
            assert len(row[column].split()) in (0, 6), (row["infinitive"], column)
        assert bool(row["present"]) == bool(row["participle"]), row["infinitive"]
    irregular = lexicon.column("verbs", "infinitive", "present")
    for verb, (shared, _) in lexicon.verb_families().items():
        assert verb in irregular and verb.startswith(shared), verb


def test_determiners_and_pronouns_are_consistent():
    determiners = lexicon.determiners()
    for word, (before_consonant, before_vowel) in lexicon.other_gender().items():
        assert determiners[word].gender is not None, word
    assert set(lexicon.person_swap()) == {"mon", "ma", "mes", "ton", "ta", "tes", "notre", "nos", "votre", "vos",
                                          "moi", "toi"}
    persons = lexicon.column("subject_pronouns", "pronoun", "person")
    assert set(persons.values()) == {"1s", "2s", "3s", "1p", "2p", "3p"}


def test_an_invariable_noun_of_the_lexicon_has_its_singular_as_plural():
    from domain.language.inflection.nouns import pluralize

    listed = lexicon.words("invariable_noun") & set(lexicon.nouns())
    assert listed and [noun for noun in listed if pluralize(noun) != noun] == []
