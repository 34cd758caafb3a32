"""Moderation everywhere a learner writes (domain/moderation.py): penpal letters, journey
answers and voice transcripts go through the same verdict as turns. On the real stack
(no model: the local check) a flagged letter gets the kind out-of-character note, a
flagged answer is not scored, a flagged transcript segment prompts no hint, and each
verdict is stored and visible. In this process, against the loopback OpenAI server that
flags everything: one moderation call each, and no model is asked to reply or score."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import select

from domain import accounts, journey, penpal
from domain.characters import default_library
from domain.config import get_settings
from domain.events import EventPublisher
from domain.llm.offline import OfflineProvider
from domain.models import JourneyAnswer, OutboxEntry, PenpalLetter
from domain.runtime import Runtime
from tests.support.client import Learner
from tests.support.fake_llm import FakeLLM
from tests.support.in_process import chain_against
from tests.support.signals import tasks_finished
from tests.support.waits import eventually

CLEAN_LETTER = "Bonjour Camille ! Samedi, je suis allée au marché. Et toi, qu'est-ce que tu fais le week-end ?"
FLAGGED_LETTER = "Bonjour Camille. T'es un connard et je ne veux plus jamais te lire."
CLEAN_ANSWER = "Je m'appelle Alex et je viens de Berlin. J'habite à Paris depuis deux ans."
FLAGGED_ANSWER = "Je m'appelle Alex, ferme ta gueule, sale connard."
FIRST_QUESTION = "a1-se-presenter-01"
CLEAN_VERDICT = {"flagged": False, "categories": [], "source": "local"}
HARASSMENT = {"flagged": True, "categories": ["harassment"], "source": "local"}


# --- letters ------------------------------------------------------------------------------


def _letter_and_reply(learner: Learner, body: str) -> tuple[dict, dict]:
    """Send a letter, wait until its reply is delivered; (the letter, the reply) as GET shows them."""
    sent = learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": body})
    assert sent.status_code == 201, sent.text
    letter_id = sent.json()["letter"]["id"]
    assert sent.json()["letter"]["moderation"] is None, "checked by the worker, before the reply is written"
    letter = eventually(lambda: (view := learner.get(f"/api/v1/penpal/letters/{letter_id}").json())["reply_id"]
                        and view, "the reply delivered", timeout=40)
    return letter, learner.get(f"/api/v1/penpal/letters/{letter['reply_id']}").json()


def test_a_flagged_letter_gets_the_kind_out_of_character_note_not_the_characters_reply(learner):
    letter, reply = _letter_and_reply(learner, FLAGGED_LETTER)

    assert letter["moderation"] == HARASSMENT
    assert reply["out_of_character"] is True and reply["author"] == "character"
    assert "L'équipe Parlons" in reply["body"] and "Camille" in reply["body"], reply["body"]
    assert learner.user["display_name"] in reply["body"]
    assert reply["corrections"] == [], "a flagged letter is not corrected either"
    [thread] = learner.get("/api/v1/penpal/letters").json()["threads"]
    listed = {item["id"]: item for item in thread["letters"]}
    assert listed[letter["id"]]["moderation"] == HARASSMENT and listed[reply["id"]]["out_of_character"] is True


def test_a_clean_letter_gets_the_characters_reply_with_its_verdict(learner):
    letter, reply = _letter_and_reply(learner, CLEAN_LETTER)

    assert letter["moderation"] == CLEAN_VERDICT
    assert reply["out_of_character"] is False
    assert "L'équipe Parlons" not in reply["body"]


# --- journey answers ----------------------------------------------------------------------


def _answered(learner: Learner, socket, text: str) -> dict:
    response = learner.post(f"/api/v1/journey/questions/{FIRST_QUESTION}/answers", {"answer": text})
    assert response.status_code == 202, response.text
    pending = response.json()
    assert (pending["status"], pending["moderation"]) == ("pending", None)
    [event] = [e for e in socket.until(lambda e: e["type"] == "journey_scored"
                                       and e["data"]["answer"]["id"] == pending["id"]) if e["type"] == "journey_scored"]
    return event["data"]["answer"]


def test_a_flagged_answer_is_not_scored_and_says_why(learner):
    with learner.socket("/api/v1/ws") as socket:
        finished = _answered(learner, socket, FLAGGED_ANSWER)

    assert finished["moderation"] == HARASSMENT, "the event carries the verdict"
    assert (finished["status"], finished["score"], finished["passed"]) == ("flagged", None, None)
    assert finished["provider"] == "moderation", "no scorer ran"
    assert finished["scored_at"] is not None and "not scored" in finished["feedback"]
    assert learner.get(f"/api/v1/journey/answers/{finished['id']}").json() == finished
    assert learner.get("/api/v1/journey/next").json()["question"]["id"] == FIRST_QUESTION, \
        "a flagged answer does not count: the question is still to answer"
    progress = learner.get("/api/v1/journey/progress").json()
    assert (progress["answers"], progress["questions_answered"]) == (1, 0)


def test_a_clean_answer_is_scored_with_its_verdict(learner):
    with learner.socket("/api/v1/ws") as socket:
        scored = _answered(learner, socket, CLEAN_ANSWER)

    assert scored["moderation"] == CLEAN_VERDICT
    assert scored["status"] == "scored" and scored["passed"] and scored["provider"] == "offline"


# --- voice transcripts --------------------------------------------------------------------


def _segments(learner: Learner, session_id: str) -> list[dict]:
    response = learner.get(f"/api/v1/sessions/{session_id}/transcripts")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_flagged_transcript_is_stored_with_its_verdict_and_prompts_no_hint(stack, learner):
    session = learner.new_session(mode="sandbox")
    checks_before = tasks_finished(stack, "hints.after_speech")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        posted = learner.post(f"/api/v1/sessions/{session['id']}/transcripts",
                              {"role": "user", "text": "T'es un connard."})
        assert posted.status_code == 202 and posted.json()["moderation"] is None
        feedback = socket.until(lambda e: e["type"] == "moderation_feedback")[-1]["data"]

    assert feedback == {"session_id": session["id"], "segment_id": posted.json()["id"], **HARASSMENT}
    [segment] = _segments(learner, session["id"])
    assert segment["moderation"] == HARASSMENT and segment["text"] == "T'es un connard."
    eventually(lambda: tasks_finished(stack, "hints.after_speech") >= checks_before + 1,
               "the segment's check finished", timeout=15)
    assert learner.get(f"/api/v1/sessions/{session['id']}/hints").json()["items"] == [], \
        "a flagged segment prompts no hint"


def test_a_clean_transcript_gets_its_verdict_and_its_hint(learner):
    session = learner.new_session(mode="sandbox")
    learner.post(f"/api/v1/sessions/{session['id']}/transcripts", {"role": "assistant", "text": "Tu habites où ?"})
    learner.post(f"/api/v1/sessions/{session['id']}/transcripts", {"role": "user", "text": "J'habite à Lyon."})

    eventually(lambda: learner.get(f"/api/v1/sessions/{session['id']}/hints").json()["items"],
               "the hint after the pause", timeout=15)
    character, spoken = _segments(learner, session["id"])
    assert character["moderation"] is None, "only the learner's speech is moderated"
    assert spoken["moderation"] == CLEAN_VERDICT


def test_transcripts_of_another_learner_are_not_found(learner, other_learner):
    theirs = other_learner.new_session(mode="sandbox")
    assert learner.get(f"/api/v1/sessions/{theirs['id']}/transcripts").status_code == 404


# --- one paid moderation call, and no reply or scoring call, with OpenAI --------------------


@pytest.fixture
def openai_runtime(stack, db_scope) -> Iterator[tuple[Runtime, FakeLLM]]:
    """The workers' domain functions in this process, on a scratch database, with OpenAI
    (the loopback fake) flagging every text."""
    with FakeLLM() as fake, chain_against(stack, fake) as chain:
        fake.openai.moderation_flags = {"harassment", "harassment/threatening"}
        client = redis.Redis.from_url(stack.env["REDIS_URL"])
        settings = get_settings()
        sent: list = []
        try:
            yield Runtime(settings=settings, redis=client, characters=default_library(), chain=chain,
                          publisher=EventPublisher(client, maxlen=100, ttl_seconds=60), offline=OfflineProvider(),
                          send_task=lambda name, args, kwargs: sent.append(name)), fake
        finally:
            client.close()


def _new_learner(db_scope) -> uuid.UUID:
    with db_scope() as db:
        return accounts.register(db, email=f"{uuid.uuid4().hex[:10]}@example.com", password="long enough",
                                 display_name="Léa").id


def test_with_openai_a_flagged_letter_costs_one_moderation_call_and_no_reply_call(openai_runtime, db_scope):
    runtime, fake = openai_runtime
    user_id = _new_learner(db_scope)
    with db_scope() as db:
        letter, reply = penpal.send_letter(db, user_id=user_id, level="A2", characters=runtime.characters,
                                           settings=runtime.settings, character_id="camille", body=CLEAN_LETTER)
        letter_id, reply_id = letter.id, reply.id

    penpal.write_reply(runtime, reply_id)
    penpal.write_reply(runtime, reply_id)  # a redelivery finds it written

    assert len(fake.openai.calls("/v1/moderations")) == 1
    assert fake.openai.calls("/v1/chat/completions") == [] and fake.anthropic.calls("/v1/messages") == []
    with db_scope() as db:
        stored = db.get(PenpalLetter, letter_id)
        answer = db.get(PenpalLetter, reply_id)
        assert stored.moderation == {"flagged": True, "categories": ["harassment"], "source": "openai"}
        assert answer.provider == penpal.REDIRECTED and "L'équipe Parlons" in answer.body
        assert db.scalar(select(OutboxEntry).where(OutboxEntry.ref_id == reply_id)) is None, "the work is done"
    with db_scope() as db:
        _, following = penpal.send_letter(db, user_id=user_id, level="A2", characters=runtime.characters,
                                          settings=runtime.settings, character_id="camille", body=CLEAN_LETTER)
        assert penpal.pending_reply(db, following.id).history == [], \
            "the character does not remember the flagged letter, nor the note that answered it"


def test_with_openai_a_flagged_answer_costs_one_moderation_call_and_no_scoring_call(openai_runtime, db_scope):
    runtime, fake = openai_runtime
    user_id = _new_learner(db_scope)
    with db_scope() as db:
        answer_id = journey.submit_answer(db, user_id=user_id, question_id=FIRST_QUESTION, answer=CLEAN_ANSWER).id
        journey.store_analysis(db, answer_id, {"errors": [], "lemmas": [], "word_count": 14})

    journey.score(runtime, answer_id)
    journey.score(runtime, answer_id)  # a redelivery finds it finished

    assert len(fake.openai.calls("/v1/moderations")) == 1
    assert fake.openai.calls("/v1/chat/completions") == [] and fake.anthropic.calls("/v1/messages") == []
    with db_scope() as db:
        finished = journey.present_answer(db.get(JourneyAnswer, answer_id))
    assert (finished["status"], finished["score"]) == ("flagged", None)
    assert finished["moderation"] == {"flagged": True, "categories": ["harassment"], "source": "openai"}
