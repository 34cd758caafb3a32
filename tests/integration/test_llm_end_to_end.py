"""Conversations with real models, end to end: a second stack (web, workers, beat) whose
OpenAI and Anthropic settings point at the loopback fake servers, so the official SDKs
run inside the real workers. Replies stream from the primary, fall back to the
secondary, then offline (degraded) — never past the turn's deadline; moderation, hints
and voice-session secrets use the models too."""
from __future__ import annotations

import subprocess
import time

import pytest

from domain.greetings import GREETING_INSTRUCTION
from tests.support.client import register, turn_result_for
from tests.support.fake_llm import COMPLETION_TOKENS, PROMPT_TOKENS, FakeLLM
from tests.support.stack import BIN, REPO, fresh_database, running_stack

TURN_DEADLINE_SECONDS = 10
SENTENCE = "Je suis allé au marché hier avec mes amie."


@pytest.fixture(scope="module")
def fake():
    with FakeLLM() as servers:
        yield servers


@pytest.fixture(scope="module")
def models_stack(stack, fake):
    with running_stack(
        "test-models",
        extra_env={**fake.env(), "PRIMARY_LLM_PROVIDER": "openai", "SECONDARY_LLM_PROVIDER": "anthropic",
                   "TURN_DEADLINE_SECONDS": str(TURN_DEADLINE_SECONDS), "LLM_REQUEST_TIMEOUT_SECONDS": "2",
                   "LLM_MAX_RETRIES": "1"},
        database_url=fresh_database(stack, migrate=False),
        redis_url=stack.env["REDIS_URL"].rsplit("/", 1)[0] + "/1",  # its own queues and keys
    ) as running:
        yield running


@pytest.fixture
def learner(models_stack, fake):
    fake.openai.reset()
    fake.anthropic.reset()
    fake.openai.up(), fake.anthropic.up()
    return register(models_stack.base_url, models_stack.ws_url)


def _turn(learner, session, text=SENTENCE):
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()
    started = time.monotonic()
    turn = learner.send(session["id"], text).json()["turn"]
    events = socket.until(turn_result_for(turn["id"]), timeout=TURN_DEADLINE_SECONDS + 10)
    socket.close()
    return events, time.monotonic() - started


def _of(events, event_type):
    return [e["data"] for e in events if e["type"] == event_type]


def test_the_reply_streams_from_the_primary_with_the_characters_prompt(learner, fake):
    fake.openai.reply_text = "Avec tes amies, au marché ? Super ! Qu'est-ce que vous avez acheté ?"
    session = learner.new_session(level="B1")

    events, _ = _turn(learner, session)

    result = _of(events, "turn_result")[-1]["turn"]
    assert result["status"] == "complete" and result["reply_provider"] == "openai" and not result["degraded"]
    assert result["assistant_message"]["content"] == fake.openai.reply_text
    deltas = _of(events, "reply_delta")
    assert len(deltas) >= 1 and "".join(d["delta"] for d in sorted(deltas, key=lambda d: d["index"])) == \
        fake.openai.reply_text
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if c.body.get("stream")][-1]
    system = request["messages"][0]
    assert system["role"] == "system" and "You are Camille" in system["content"]
    assert "CEFR level B1" in system["content"], "the system prompt for the session's level"
    assert '"amie" should be "amies" (number agreement)' in system["content"], \
        "the tutor's note carries the grammar result"
    assert request["messages"][-1] == {"role": "user", "content": SENTENCE}
    assert not [c for c in fake.anthropic.calls("/v1/messages") if c.body.get("stream")], \
        "the secondary is not asked for the reply while the primary answers"


def test_the_models_corrections_are_merged_into_the_rules_feedback(learner, fake):
    fake.openai.reply_json = {"corrections": [
        {"wrong": "allé", "correction": "allée", "category": "past_participle",
         "explanation": "The speaker is a woman: the participle agrees with her."},
        {"wrong": "mes amie", "correction": "mes amies", "category": "number_agreement",
         "explanation": "Plural after mes."},
    ]}
    session = learner.new_session()

    events, _ = _turn(learner, session)

    grammar = _of(events, "grammar_feedback")[-1]
    found = [(SENTENCE[e["start"]:e["end"]], e["suggestions"][0], e["category"]) for e in grammar["errors"]]
    assert found == [("allé", "allée", "past_participle"), ("amie", "amies", "number_agreement")], \
        "the model's extra correction, and its duplicate of the rule's folded into it"
    assert grammar["corrected_text"] == "Je suis allée au marché hier avec mes amies."
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if c.body.get("response_format")][-1]
    assert request["response_format"]["json_schema"]["strict"] is True
    result = _of(events, "turn_result")[-1]["turn"]
    assert result["grammar"] == {k: grammar[k] for k in ("errors", "corrected_text")}


def test_the_reply_does_not_wait_for_the_models_grammar_pass(learner, fake):
    fake.openai.json_delay = 3  # the correction call is slow; the reply is not
    fake.openai.reply_json = {"corrections": []}
    session = learner.new_session()
    text = "Samedi je joue au tennis avec mes amie."  # not SENTENCE: its correction call may be cached

    events, _ = _turn(learner, session, text)

    types = [e["type"] for e in events]
    assert types.index("reply_delta") < types.index("grammar_feedback")
    grammar = _of(events, "grammar_feedback")[-1]
    assert [text[e["start"]:e["end"]] for e in grammar["errors"]] == ["amie"]  # the rules' result stands
    assert _of(events, "turn_result")[-1]["turn"]["grammar"]["errors"] == grammar["errors"]


def test_primary_down_the_secondary_answers(learner, fake):
    fake.anthropic.reply_text = "Ah, au marché avec tes amies ! C'était bien ?"
    fake.openai.down()
    session = learner.new_session()

    events, _ = _turn(learner, session)

    result = _of(events, "turn_result")[-1]["turn"]
    assert (result["reply_provider"], result["degraded"]) == ("anthropic", False)
    assert result["assistant_message"]["content"] == fake.anthropic.reply_text
    assert fake.anthropic.calls("/v1/messages")[-1].body["stream"] is True


def test_a_primary_failing_mid_reply_hands_over_and_clients_are_told_to_reset(learner, fake):
    fake.openai.reply_text = "Un deux trois quatre cinq six sept huit neuf dix onze douze"
    fake.openai.disconnect_after = 2
    fake.openai.piece_delay = 0.08  # so the first pieces go out as deltas before the cut
    fake.anthropic.reply_text = "Reprenons : c'était bien, le marché ?"
    session = learner.new_session()

    events, _ = _turn(learner, session)

    result = _of(events, "turn_result")[-1]["turn"]
    assert result["reply_provider"] == "anthropic"
    deltas = sorted(_of(events, "reply_delta"), key=lambda d: d["index"])
    resets = [d["index"] for d in deltas if d.get("reset")]
    assert len(resets) == 1, "one reset, on the first delta of the new provider"
    after = "".join(d["delta"] for d in deltas if d["index"] >= resets[0])
    assert after == result["assistant_message"]["content"] == fake.anthropic.reply_text


def test_every_provider_down_the_turn_completes_offline_degraded(learner, fake):
    fake.openai.down(), fake.anthropic.down()
    session = learner.new_session()

    events, took = _turn(learner, session)

    result = _of(events, "turn_result")[-1]["turn"]
    assert result["status"] == "complete" and result["degraded"] is True and result["reply_provider"] == "offline"
    assert result["assistant_message"]["content"].rstrip().endswith("?"), "the offline provider's reply"
    assert took < 5, "refused connections fail fast"
    assert result["degraded_reason"] == "providers_failed"


def set_quota(stack, email: str, *flags: str) -> None:
    subprocess.run([BIN / "flask", "--app", "api:create_app", "users", "set-quota", email, *flags],
                   env=stack.env, cwd=REPO, check=True, capture_output=True, timeout=120)


def test_a_learner_past_the_daily_token_budget_is_answered_offline_with_the_reason(models_stack, learner, fake):
    # One call (the reply) reports 20 tokens: a budget of 20 is spent by the first turn.
    set_quota(models_stack, learner.email, "--tokens-per-day", str(PROMPT_TOKENS + COMPLETION_TOKENS))
    session = learner.new_session(mode="sandbox")  # a story session's greeting would spend the budget first

    first = _of(_turn(learner, session, "Bonjour, je m'appelle Léa.")[0], "turn_result")[-1]["turn"]
    assert first["reply_provider"] == "openai" and first["degraded"] is False
    replies = [call for call in fake.openai.calls("/v1/chat/completions") if call.body.get("stream")]
    assert replies[0].body["stream_options"] == {"include_usage": True}, "the streamed reply asks for its usage"
    model_calls = len(fake.openai.calls("/v1/chat/completions")) + len(fake.anthropic.calls("/v1/messages"))

    second = _of(_turn(learner, session, "J'habite à Lyon avec ma sœur.")[0], "turn_result")[-1]["turn"]
    assert second["status"] == "complete" and second["reply_provider"] == "offline"
    assert second["degraded"] is True and second["degraded_reason"] == "budget_exhausted"
    assert second["assistant_message"]["content"], "the offline provider answered"
    assert len(fake.openai.calls("/v1/chat/completions")) + len(fake.anthropic.calls("/v1/messages")) == model_calls, \
        "no model was called for the learner past their budget"
    assert learner.get(f"/api/v1/turns/{second['id']}").json()["degraded_reason"] == "budget_exhausted"


def test_realtime_secrets_past_the_quota_are_429_and_create_nothing(models_stack, learner, fake):
    set_quota(models_stack, learner.email, "--realtime-secrets-per-minute", "1")
    assert learner.post("/api/v1/sandbox/sessions", {"character_id": "camille"}).status_code == 201

    refused = learner.post("/api/v1/sandbox/sessions", {"character_id": "camille"})

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert refused.json()["error"]["details"]["quota"] == "realtime_secrets_per_minute"
    assert len(learner.get("/api/v1/sessions").json()["items"]) == 1
    assert len(fake.openai.calls("/v1/realtime/client_secrets")) == 1


def test_providers_that_hang_cannot_hold_a_turn_past_its_deadline(learner, fake):
    fake.openai.delay = fake.anthropic.delay = 60
    session = learner.new_session()

    events, took = _turn(learner, session)

    result = _of(events, "turn_result")[-1]["turn"]
    assert result["status"] == "complete" and result["degraded"] is True
    assert took < TURN_DEADLINE_SECONDS, f"answered in {took:.1f} s"
    fake.openai.delay = fake.anthropic.delay = 0


def test_moderation_uses_openai_and_a_flagged_message_gets_a_kind_redirect(learner, fake):
    fake.openai.moderation_flags = {"harassment", "harassment/threatening"}
    fake.openai.moderation_delay = 1  # the reply's request, started beside moderation, answers first
    fake.openai.reply_text = "Quelle belle journée pour parler de cuisine ensemble !"
    session = learner.new_session()

    events, _ = _turn(learner, session, "Tu es vraiment nul.")

    verdict = _of(events, "moderation_feedback")[-1]
    assert (verdict["flagged"], verdict["categories"], verdict["source"]) == (True, ["harassment"], "openai"), \
        "OpenAI's categories in the local vocabulary"
    result = _of(events, "turn_result")[-1]["turn"]
    assert result["moderation"]["source"] == "openai"
    replies = [c for c in fake.openai.calls("/v1/chat/completions")
               if c.body.get("stream") and c.body["messages"][-1]["content"] != GREETING_INSTRUCTION]
    assert len(replies) == 1, "the character's reply was asked for while moderation spoke"
    shown = "".join(d["delta"] for d in _of(events, "reply_delta"))
    redirect = result["assistant_message"]["content"]
    assert redirect and shown == redirect, "only the redirect reached the learner"
    assert "cuisine" not in redirect, "the character's reply to a flagged message is never shown"


def test_moderation_falls_back_to_the_local_check_when_openai_fails(learner, fake):
    fake.openai.down()
    session = learner.new_session()
    events, _ = _turn(learner, session, "J'aime le fromage.")
    assert _of(events, "moderation_feedback")[-1]["source"] == "local"


def test_hints_come_from_the_hint_prompt_and_the_conversation(learner, fake):
    session = learner.new_session(level="A2")
    _turn(learner, session, "Bonjour ! J'habite à Lyon.")
    fake.openai.reply_text = "1. J'aime le café.\n2. Je travaille à Lyon.\n3. Et toi, tu aimes Paris ?"
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()

    socket.send("hint_request", {})

    hint = socket.until(lambda e: e["type"] == "hint", timeout=15)[-1]["data"]
    assert hint["hints"] == ["J'aime le café.", "Je travaille à Lyon.", "Et toi, tu aimes Paris ?"]
    stored = learner.get(f"/api/v1/sessions/{session['id']}/hints").json()["items"][0]
    assert (stored["provider"], stored["degraded"]) == ("openai", False)
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if c.body.get("stream")][-1]
    assert "suggest 2 or 3 things the learner could say next" in request["messages"][0]["content"]
    assert "CEFR level A2" in request["messages"][0]["content"]
    assert "Learner: Bonjour ! J'habite à Lyon." in request["messages"][-1]["content"]
    socket.close()


def test_a_voice_session_gets_a_realtime_secret_configured_for_the_character(learner, fake):
    response = learner.post("/api/v1/sandbox/sessions", {"character_id": "lucas", "level": "A1"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["session"]["mode"] == "sandbox" and body["session"]["character_id"] == "lucas"
    assert body["realtime"]["value"].startswith("ek_") and body["realtime"]["expires_at"] > time.time()
    assert body["realtime"]["voice"] == "verse"
    sent = fake.openai.calls("/v1/realtime/client_secrets")[-1].body["session"]
    assert sent["type"] == "realtime" and sent["audio"]["output"]["voice"] == "verse"
    assert "Lucas" in sent["instructions"] and "CEFR level A1" in sent["instructions"]
    assert sent["audio"]["input"]["transcription"]["model"]


def test_openai_refusing_the_secret_is_a_502_and_creates_nothing(learner, fake):
    fake.openai.fail_next(5, status=500)
    response = learner.post("/api/v1/sandbox/sessions", {"character_id": "camille"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "realtime_refused"
    assert learner.get("/api/v1/sessions").json()["items"] == []


# --- penpal letters and journey scoring with models ----------------------------------------

LETTER = "Bonjour Camille ! Samedi, je suis allé au marché avec mes amie. Et toi, que fais-tu le week-end ?"


def _penpal_reply(learner) -> dict:
    with learner.socket("/api/v1/ws") as socket:
        response = learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER})
        assert response.status_code == 201, response.text
        event = socket.until(lambda e: e["type"] == "penpal_reply", timeout=30)[-1]
    return event["data"]["letter"]


def test_a_penpal_reply_is_written_by_the_model_in_the_characters_voice(learner, fake):
    fake.openai.reply_text = "Bonjour ! Merci pour ta lettre. Au marché avec tes amies, quelle chance ! Camille"
    reply = _penpal_reply(learner)
    assert reply["body"] == fake.openai.reply_text
    assert [(c["original"], c["correction"]) for c in reply["corrections"]] == [("amie", "amies")]
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if c.body.get("stream")][-1]
    assert "You are Camille" in request["messages"][0]["content"]
    assert "has written you a letter" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": LETTER}


def test_the_second_reply_reads_the_thread_in_order(learner, fake):
    fake.openai.reply_text = "Bonjour ! Quelle belle lettre. Camille"
    first = _penpal_reply(learner)
    _penpal_reply(learner)
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if c.body.get("stream")][-1]
    assert [(m["role"], m["content"]) for m in request["messages"][1:]] == [
        ("user", LETTER), ("assistant", first["body"]), ("user", LETTER)]


def test_a_penpal_reply_falls_back_to_the_offline_letter_near_its_due_time(learner, fake):
    fake.openai.down(), fake.anthropic.down()
    reply = _penpal_reply(learner)  # due in two seconds: no time to wait for the providers
    assert reply["body"].rstrip().endswith("Camille") and "amies" in reply["body"]


def _scored(learner, text: str) -> dict:
    with learner.socket("/api/v1/ws") as socket:
        response = learner.post("/api/v1/journey/questions/a1-se-presenter-01/answers", {"answer": text})
        assert response.status_code == 202, response.text
        event = socket.until(lambda e: e["type"] == "journey_scored", timeout=30)[-1]
    return event["data"]["answer"]


def test_a_journey_answer_is_scored_by_the_model_through_the_schema(learner, fake):
    fake.openai.reply_json = {"score": 88, "feedback": "Très clair !", "covered_points": ["says their name"],
                              "corrections": [{"wrong": "viens de la Berlin", "correction": "viens de Berlin",
                                               "explanation": "No article before a city."}]}
    scored = _scored(learner, "Je m'appelle Alex et je viens de la Berlin.")
    assert (scored["score"], scored["provider"], scored["degraded"]) == (88, "openai", False)
    assert scored["covered_points"] == ["says their name"]
    assert scored["missing_points"] == ["says where they come from"]
    assert scored["corrections"] == [{"original": "viens de la Berlin", "correction": "viens de Berlin",
                                      "message": "No article before a city."}]
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if not c.body.get("stream")][-1]
    assert "Comment tu t'appelles" in request["messages"][0]["content"]


def test_malformed_scores_are_asked_again_once_then_scored_offline(learner, fake):
    fake.openai.reply_json = "{not json"
    fake.anthropic.reply_json = {"score": 150, "feedback": "?", "covered_points": [], "corrections": []}  # invalid
    scored = _scored(learner, "Je m'appelle Alex et je viens de Berlin. J'habite à Paris.")
    assert (scored["provider"], scored["degraded"]) == ("offline", True)
    assert scored["covered_points"] == ["says their name", "says where they come from"] and scored["passed"]
    scoring_calls = [c for c in fake.openai.calls("/v1/chat/completions") if not c.body.get("stream")]
    assert len(scoring_calls) >= 2, "asked again once"
