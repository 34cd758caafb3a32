"""The model's correction pass through the chain production builds (settings, the stack's
Redis), with the official SDKs against the loopback server: the strict-schema request,
aligned and merged answers, and invalid answers that fall back or give None."""
from __future__ import annotations

import time
import uuid

import pytest

from domain.language import check_grammar
from domain.language.llm_pass import CORRECTION_SCHEMA, apply, correction_request, llm_corrections, merge
from domain.llm.chain import ProviderChain
from tests.support.in_process import chain_against

REFERENCE = "Je suis allé au marché hier avec mes amie."
# What a model answers for REFERENCE: the rule's error quoted with context, and one the rules miss.
REFERENCE_ANSWER = {"corrections": [
    {"wrong": "mes amie", "correction": "mes amies", "category": "number_agreement",
     "explanation": "After “mes” the noun is plural: “amies”."},
    {"wrong": "marché hier", "correction": "marché hier", "category": "spelling", "explanation": "No change."},
]}


@pytest.fixture
def chain(stack, fake) -> ProviderChain:
    # Answers to temperature-0 requests are cached in Redis across tests: a model name of
    # its own gives each test its own cache keys.
    test_model = f"test-{uuid.uuid4().hex[:8]}"
    with chain_against(stack, fake, OPENAI_MODEL=f"gpt-{test_model}", ANTHROPIC_MODEL=f"claude-{test_model}",
                       LLM_MAX_RETRIES="1") as built:
        yield built


def corrections(chain: ProviderChain, text: str = REFERENCE, seconds: float = 5) -> list[dict] | None:
    return llm_corrections(chain, text, "A2", native_language="en", deadline=time.monotonic() + seconds)


def test_openai_is_asked_with_the_strict_schema_at_temperature_zero(chain, fake):
    fake.openai.reply_json = REFERENCE_ANSWER
    corrections(chain)
    [call] = fake.openai.calls("/v1/chat/completions")
    expected = correction_request(REFERENCE, "A2", "en")
    assert call.body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "answer", "schema": CORRECTION_SCHEMA, "strict": True}}
    assert call.body["temperature"] == 0 and call.body["max_tokens"] == expected.max_tokens
    assert call.body["messages"] == [{"role": "system", "content": expected.system},
                                     {"role": "user", "content": REFERENCE}]
    assert fake.anthropic.requests == []


def test_a_realistic_answer_is_aligned_and_merged_with_the_rules(chain, fake):
    fake.openai.reply_json = REFERENCE_ANSWER
    found = corrections(chain)
    assert found == [{"start": 37, "end": 41, "category": "number_agreement",
                      "message": "After “mes” the noun is plural: “amies”.", "suggestions": ["amies"]}]

    rules = check_grammar(REFERENCE).to_dict()["errors"]
    merged = merge(rules, found)
    assert [(e["start"], e["end"], e["suggestions"][0]) for e in merged] == [(37, 41, "amies")]
    assert apply(REFERENCE, merged) == "Je suis allé au marché hier avec mes amies."


def test_errors_the_rules_miss_are_added_in_place(chain, fake):
    text = "Hier, j’ai rencontré un ami qui habite a Lyon et un ami qui habite a Paris."
    fake.openai.reply_json = {"corrections": [
        {"wrong": "habite a Paris", "correction": "habite à Paris", "category": "spelling",
         "explanation": "The preposition is “à”."},
        {"wrong": "J'ai rencontré", "correction": "j'ai rencontré", "category": "spelling", "explanation": "Case."},
        {"wrong": "habite a Lyon", "correction": "habite à Lyon", "category": "spelling",
         "explanation": "The preposition is “à”."},
    ]}
    found = corrections(chain, text)
    assert [(text[e["start"]:e["end"]], e["start"], e["suggestions"]) for e in found] == [
        ("a", 39, ["à"]), ("a", 67, ["à"])]
    assert apply(text, merge(check_grammar(text).to_dict()["errors"], found)) == text.replace(" a ", " à ")


@pytest.mark.parametrize("answer", [
    {"corrections": [{"wrong": "amie", "correction": "amies", "category": "plural", "explanation": "?"}]},
    {"corrections": [{"wrong": "amie", "correction": "amies", "category": "number_agreement"}]},
    {"errors": []},
    "Il y a une faute : amie -> amies",
])
def test_an_answer_off_the_schema_falls_back_to_anthropic(chain, fake, answer):
    fake.openai.reply_json = answer
    fake.anthropic.reply_json = REFERENCE_ANSWER
    assert [(e["start"], e["end"]) for e in corrections(chain)] == [(37, 41)]
    [call] = fake.anthropic.calls("/v1/messages")
    assert call.body["tool_choice"] == {"type": "tool", "name": "answer"}
    assert call.body["tools"][0]["input_schema"] == CORRECTION_SCHEMA


def test_no_valid_answer_from_anyone_is_none(chain, fake):
    fake.openai.malformed = True
    fake.anthropic.reply_json = {"corrections": "amies"}
    assert corrections(chain) is None


def test_no_provider_configured_is_none_without_a_call(stack, fake):
    with chain_against(stack, fake, PRIMARY_LLM_PROVIDER="offline") as offline:
        assert offline.providers == [] and corrections(offline) is None
    assert fake.openai.requests == fake.anthropic.requests == []


def test_a_slow_provider_gives_none_by_the_deadline(chain, fake):
    fake.openai.delay = fake.anthropic.delay = 5
    started = time.monotonic()
    assert corrections(chain, seconds=1) is None
    assert time.monotonic() - started < 3.0, "given up near the deadline (1 s), not after the hang (5 s)"
