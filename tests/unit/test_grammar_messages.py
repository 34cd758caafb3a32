"""Grammar messages in the learner's native language (domain/language/messages.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from domain.language import analyse_message, check_grammar, grammar
from domain.language.messages import FALLBACK, LANGUAGES, MESSAGES, message_language, placeholders, render

_DEV_SET = Path(__file__).resolve().parents[1] / "data" / "fr_errors_dev.jsonl"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_is_translated_with_the_same_quoted_words(key):
    translations = MESSAGES[key]
    assert set(translations) == set(LANGUAGES)
    english_fields = placeholders(translations["en"])
    for language, template in translations.items():
        assert placeholders(template) == english_fields, (key, language)


def test_every_message_is_used_by_a_rule_and_every_rule_message_exists():
    rules = Path(grammar.__file__).parent / "rules"
    source = "\n".join(path.read_text() for path in sorted(rules.glob("*.py")))
    unused = [key for key in MESSAGES if f'"{key}"' not in source]
    assert not unused, f"messages no rule uses: {unused}"
    # A rule's message key is the string after its category in `_error(...)`.
    categories = "|".join(grammar.CATEGORIES)
    used = set(re.findall(rf'_error\([^()"]*"(?:{categories})",\s*"(\w+)"', source))
    assert len(used) >= 30 and used <= set(MESSAGES)


@pytest.mark.parametrize("given, expected", [
    ("es", "es"), ("ES", "es"), ("pt-BR", "pt"), ("de_AT", "de"), ("it", "it"),
    ("ja", FALLBACK), ("", FALLBACK), (None, FALLBACK), ("spanish", FALLBACK),
])
def test_the_learners_language_picks_the_translation(given, expected):
    assert message_language(given) == expected


def test_every_error_on_the_dev_set_renders_in_every_language():
    texts = [json.loads(line)["text"] for line in _DEV_SET.read_text().splitlines() if line.strip()]
    errors = [error for text in texts for error in check_grammar(text).errors]
    assert len({error.message_key for error in errors}) >= 20
    for error in errors:
        assert error.to_dict()["message"] == error.message
        for language in LANGUAGES:
            message = error.to_dict(language)["message"]
            assert message and "{" not in message, (error, language)
            if language != "en":
                assert message != error.message, (error, language)


def test_a_spanish_learner_reads_spanish_and_the_quoted_words_stay_french():
    result = analyse_message("Je suis allé au marché hier avec mes amie.", "fr", native_language="es")
    assert [error["message"] for error in result["errors"]] == [
        "Después de «mes» el sustantivo va en plural: «amies»."]


def test_a_learner_without_a_translation_reads_english():
    text = "La chat dort."
    japanese = analyse_message(text, "fr", native_language="ja")["errors"]
    assert [error["message"] for error in japanese] == ["“chat” is masculine: use “Le”."]
    assert japanese == analyse_message(text, "fr")["errors"]


def test_render_fills_the_quoted_words():
    assert render("verb_takes_etre", {"fixed": "je suis"}, "de") == \
        "Dieses Verb bildet das Perfekt mit „être“: „je suis“."
