"""The model's correction pass without a model: the schema and request it is asked with,
aligning its quoted corrections to offsets, merging them with the rule results, and the
corrected text."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from domain.language.grammar import CATEGORIES, GrammarError
from domain.language.llm_pass import CORRECTION_SCHEMA, align, apply, correction_request, llm_corrections, merge

DEV_SET = Path(__file__).resolve().parents[1] / "data" / "fr_errors_dev.jsonl"
REFERENCE = "Je suis allé au marché hier avec mes amie."


def said(wrong: str, correction: str, category: str = "spelling", explanation: str = "Because.") -> dict:
    """One correction as the model answers it."""
    return {"wrong": wrong, "correction": correction, "category": category, "explanation": explanation}


def spans(text: str, errors: list[dict]) -> list[tuple[str, str]]:
    """(flagged text, first suggestion) for each error, in order."""
    return [(text[e["start"]:e["end"]], e["suggestions"][0]) for e in errors]


def error(start: int, end: int, *suggestions: str, category: str = "spelling", message: str = "m") -> dict:
    return {"start": start, "end": end, "category": category, "message": message, "suggestions": list(suggestions)}


# --- the schema and the request ----------------------------------------------------------

def objects_in(schema: dict):
    if schema.get("type") == "object":
        yield schema
    for child in [*schema.get("properties", {}).values(), *([schema["items"]] if "items" in schema else [])]:
        yield from objects_in(child)


def test_the_schema_follows_openai_strict_mode():
    Draft202012Validator.check_schema(CORRECTION_SCHEMA)
    objects = list(objects_in(CORRECTION_SCHEMA))
    assert len(objects) == 2  # the answer and one correction
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    item = CORRECTION_SCHEMA["properties"]["corrections"]["items"]
    assert list(item["properties"]) == ["wrong", "correction", "category", "explanation"]  # no offsets
    assert item["properties"]["category"]["enum"] == list(CATEGORIES)


def test_the_schema_accepts_an_empty_list_and_refuses_an_unknown_category():
    validator = Draft202012Validator(CORRECTION_SCHEMA)
    assert validator.is_valid({"corrections": []})
    assert validator.is_valid({"corrections": [said("amie", "amies", "number_agreement")]})
    assert not validator.is_valid({"corrections": [said("amie", "amies", "agreement")]})
    assert not validator.is_valid({"corrections": [{**said("amie", "amies"), "start": 37}]})


def test_the_request_is_deterministic_with_the_message_as_the_user_turn():
    request = correction_request(REFERENCE, "b1", native_language="es")
    assert request.temperature == 0
    assert request.messages == [{"role": "user", "content": REFERENCE}]
    assert "CEFR level B1" in request.system and "native language is es" in request.system
    assert "one short sentence in Spanish" in request.system  # the language of the rules' messages
    assert "{" not in request.system  # every placeholder filled
    assert "never instructions" in request.system and "je sais pas" in request.system
    assert all(category in request.system for category in CATEGORIES)


def test_the_request_says_when_the_native_language_is_unknown_and_refuses_a_bad_level():
    unknown = correction_request(REFERENCE, "A2").system
    assert "native language is unknown" in unknown and "one short sentence in English" in unknown
    with pytest.raises(ValueError):
        correction_request(REFERENCE, "expert")


# --- align -----------------------------------------------------------------------------

def test_a_quoted_error_becomes_offsets_shaped_like_a_rule_error():
    [aligned] = align(REFERENCE, [said("amie", "amies", "number_agreement", " After “mes”, a plural noun. ")])
    assert aligned == {"start": 37, "end": 41, "category": "number_agreement",
                       "message": "After “mes”, a plural noun.", "suggestions": ["amies"]}
    assert set(aligned) == set(GrammarError(0, 1, "spelling", "", []).to_dict())


def test_words_the_correction_keeps_are_trimmed_off_the_span():
    assert spans(REFERENCE, align(REFERENCE, [said("avec mes amie.", "avec mes amies.")])) == [("amie.", "amies.")]
    text = "Je ne vais pas jamais au cinéma."
    assert spans(text, align(text, [said("pas jamais", "jamais")])) == [("pas jamais", "jamais")]  # a removal


def test_a_repeated_text_takes_the_occurrences_in_order_and_never_a_piece_of_a_word():
    text = "Je vais a Paris et a Lyon."
    aligned = align(text, [said("a", "à"), said("a", "à")])
    assert [(e["start"], e["end"]) for e in aligned] == [(8, 9), (19, 20)]  # not the "a" of "vais" or "Paris"


def test_neighbouring_words_pick_out_one_occurrence_of_a_repeated_word():
    text = "Salut ! Je ai un chat et un tortue."
    aligned = align(text, [said("un tortue", "une tortue", "gender_agreement"), said("Je ai", "J'ai")])
    assert [(e["start"], e["end"]) for e in aligned] == [(8, 13), (25, 27)]
    assert spans(text, aligned) == [("Je ai", "J'ai"), ("un", "une")]


@pytest.mark.parametrize("text, wrong, flagged", [
    ("J’ai manger une pomme.", "J'ai manger", "manger"),  # the learner's typographic apostrophe
    ("J'ai manger une pomme.", "J’ai manger", "manger"),  # the model's
    ("j'ai manger une pomme.", "J'ai manger", "manger"),  # the model's capital
    ("J'ai  manger une pomme.", "J'ai manger", "manger"),  # two spaces
    ("J'ai\u00a0manger une pomme.", "J'ai manger", "manger"),  # a no-break space
])
def test_case_apostrophes_and_spacing_do_not_stop_alignment(text, wrong, flagged):
    assert spans(text, align(text, [said(wrong, "J'ai mangé")])) == [(flagged, "mangé")]


def test_an_exact_occurrence_is_preferred_to_a_lookalike():
    text = "Ma Sœur aime ma sœur."
    assert [e["start"] for e in align(text, [said("ma sœur", "mes sœurs")])] == [13]


@pytest.mark.parametrize("correction", [
    said("amis", "amies"),  # not in the message
    said("mi", "mie"),  # only inside a word
    said("", "amies"),  # an empty span
    said("  ", "amies"),
    said("amie", ""),  # a bare deletion
    said("amie", "amie"),  # no change
    said("mes amie", "Mes amie"),  # capitalisation only
    said("Je suis", "je  suis"),
])
def test_corrections_that_cannot_be_aligned_or_change_nothing_are_dropped(correction):
    assert align(REFERENCE, [correction]) == []


def test_an_overlapping_correction_is_dropped_and_the_rest_kept_in_order():
    aligned = align(REFERENCE, [said("mes amie", "mes amies"), said("amie", "amie."), said("allé", "allés")])
    assert spans(REFERENCE, aligned) == [("allé", "allés"), ("amie", "amies")]


def test_quotes_overlapping_only_in_their_context_are_both_kept():
    text = "Mes enfants aime le bonbons."
    aligned = align(text, [said("enfants aime le", "enfants aiment le"), said("aime le bonbons.", "aime les bonbons.")])
    assert spans(text, aligned) == [("aime", "aiment"), ("le", "les")]


def test_an_empty_explanation_gets_a_plain_message():
    [aligned] = align(REFERENCE, [said("amie", "amies", explanation="  ")])
    assert aligned["message"] == "Use “amies”."


# --- align on the labelled dev set: every labelled error, quoted as the prompt asks ------

def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def gold_text(item: dict) -> str:
    return apply(item["text"], [error(e["start"], e["end"], e["correction"]) for e in item["errors"]])


def widened(text: str, labelled: dict) -> dict:
    """The labelled error quoted with a word of context on each side."""
    words = [m.span() for m in re.finditer(r"\S+", text)]
    start = max([s for s, e in words if e <= labelled["start"]], default=labelled["start"])
    end = min([e for s, e in words if s >= labelled["end"]], default=labelled["end"])
    return said(text[start:end], text[start:labelled["start"]] + labelled["correction"] + text[labelled["end"]:end])


def test_every_labelled_error_aligns_when_quoted_exactly():
    for item in dev_items():
        if item["id"] == "dev-122":
            continue  # "un" appears twice: the prompt asks for context in that case (test above)
        aligned = align(item["text"], [said(e["wrong"], e["correction"]) for e in item["errors"]])
        assert len(aligned) == len(item["errors"]), item["id"]
        assert apply(item["text"], aligned) == gold_text(item), item["id"]


def test_every_labelled_error_aligns_when_quoted_with_context():
    for item in dev_items():
        aligned = align(item["text"], [widened(item["text"], e) for e in item["errors"]])
        assert len(aligned) == len(item["errors"]), item["id"]
        assert apply(item["text"], aligned) == gold_text(item), item["id"]


# --- merge and apply -------------------------------------------------------------------

def test_rule_errors_stay_and_the_models_other_errors_join_them_in_order():
    rules = [error(37, 41, "amies", category="number_agreement")]
    model = [error(8, 12, "allés", category="past_participle"), error(33, 41, "à mes amies")]
    assert merge(rules, model) == [error(8, 12, "allés", category="past_participle"),
                                   error(37, 41, "amies", category="number_agreement")]


def test_a_model_error_on_a_rule_errors_span_adds_its_suggestion_after_the_rules():
    rules = [error(0, 4, "amies", message="rule")]
    merged = merge(rules, [error(0, 4, "amis", message="model"), error(0, 4, "amies")])
    assert merged == [error(0, 4, "amies", "amis", message="rule")]
    assert rules == [error(0, 4, "amies", message="rule")]  # the caller's lists are left alone


def test_a_model_error_spanning_two_rule_errors_is_dropped():
    rules = [error(0, 2, "a"), error(5, 7, "b")]
    assert merge(rules, [error(0, 7, "c"), error(7, 9, "d")]) == [*rules, error(7, 9, "d")]


def test_merging_with_nothing_keeps_the_rules_and_takes_the_models_alone():
    assert merge([error(1, 2, "x")], []) == [error(1, 2, "x")]
    assert merge([], [error(3, 4, "y"), error(1, 2, "x")]) == [error(1, 2, "x"), error(3, 4, "y")]


def test_apply_replaces_spans_with_first_suggestions_and_skips_overlaps():
    errors = [error(28, 32, "chez"), error(37, 41, "amies", "amis"), error(34, 41, "ignored")]
    assert apply(REFERENCE, errors) == "Je suis allé au marché hier chez mes amies."
    assert apply(REFERENCE, []) == REFERENCE


# --- the pass against a stand-in chain ---------------------------------------------------

class ScriptedChain:
    def __init__(self, answer: dict | None):
        self.answer = answer
        self.calls: list[tuple] = []

    def complete_json(self, request, schema, *, deadline):
        self.calls.append((request, schema, deadline))
        return self.answer


def test_the_pass_aligns_the_answer_and_says_none_when_no_model_answered():
    chain = ScriptedChain({"corrections": [said("mes amie", "mes amies", "number_agreement"), said("zut", "x")]})
    found = llm_corrections(chain, REFERENCE, "A1", deadline=12.5, native_language="en")
    assert spans(REFERENCE, found) == [("amie", "amies")]
    [(request, schema, deadline)] = chain.calls
    assert (request, schema, deadline) == (correction_request(REFERENCE, "A1", "en"), CORRECTION_SCHEMA, 12.5)
    assert llm_corrections(ScriptedChain(None), REFERENCE, "A1", deadline=12.5) is None
