"""Penpal letters: due times, the model's request, the offline letter, corrections."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from domain import penpal
from domain.characters import default_library
from domain.config import load_settings

ARRIVED = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
LETTER = "Samedi, je suis allé au marché avec mes amie. Et toi, qu'est-ce que tu fais le week-end ?"
ANALYSIS = {"errors": [{"start": 40, "end": 44, "category": "number_agreement", "message": "…",
                        "suggestions": ["amies"]}],
            "corrected_text": LETTER.replace("mes amie", "mes amies")}


def settings(**values: str):
    return load_settings({"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x", **values})


def given(history=(), level="A2", analysis=ANALYSIS) -> penpal.LetterInput:
    return penpal.LetterInput(
        reply_id=uuid.UUID(int=7), letter_id=uuid.UUID(int=6), user_id=uuid.UUID(int=1), character_id="camille",
        level=level, learner_name="Alex", native_language="en", subject=None, body=LETTER, analysis=analysis,
        history=list(history), deliver_at=ARRIVED + timedelta(hours=6), write_attempts=0, retry_at=None)


def test_a_reply_is_due_after_the_delay_plus_a_jitter_within_its_bound():
    configured = settings(PENPAL_REPLY_DELAY_SECONDS="21600", PENPAL_REPLY_JITTER_SECONDS="3600")
    rng = random.Random(4)
    offsets = [(penpal.reply_due_at(ARRIVED, configured, rng) - ARRIVED).total_seconds() for _ in range(500)]
    assert all(21600 <= offset <= 25200 for offset in offsets)
    assert max(offsets) - min(offsets) > 3000  # spread over the hour, not a constant


def test_no_jitter_when_it_is_zero():
    configured = settings(PENPAL_REPLY_DELAY_SECONDS="2", PENPAL_REPLY_JITTER_SECONDS="0")
    assert penpal.reply_due_at(ARRIVED, configured) == ARRIVED + timedelta(seconds=2)


def test_the_defaults_are_six_hours_and_one_hour():
    defaults = settings()
    assert (defaults.penpal_reply_delay_seconds, defaults.penpal_reply_jitter_seconds,
            defaults.penpal_delivery_interval_seconds) == (21600, 3600, 15)


def test_corrections_quote_the_letter_and_are_capped():
    assert penpal.corrections_from(LETTER, ANALYSIS) == [{
        "start": 40, "end": 44, "original": "amie", "correction": "amies", "category": "number_agreement",
        "message": "…"}]
    many = {"errors": [{"start": 0, "end": 6, "category": "spelling", "message": "m", "suggestions": ["x"]}] * 9}
    assert len(penpal.corrections_from(LETTER, many)) == penpal.MAX_CORRECTIONS
    assert penpal.corrections_from(LETTER, None) == []


def test_the_models_request_carries_the_thread_as_alternating_turns():
    camille = default_library().get("camille")
    history = [("user", "Première lettre"), ("assistant", "Première réponse"), ("user", "Deuxième lettre")]
    request = penpal.reply_request(camille, "SYSTEM", given(history=history))
    assert request.system.startswith("SYSTEM\n\n") and "Alex" in request.system and "A2" in request.system
    assert "{" not in request.system
    assert [m["role"] for m in request.messages] == ["user", "assistant", "user"]
    # The letter before still unanswered and this one are one turn: roles alternate.
    assert request.messages[-1]["content"] == f"Deuxième lettre\n\n{LETTER}"


def test_the_offline_letter_is_framed_recasts_the_mistake_and_is_deterministic():
    camille = default_library().get("camille")
    letter = penpal.offline_letter(camille, given())
    assert letter == penpal.offline_letter(camille, given())
    assert letter.split("\n\n")[0] in ("Bonjour Alex !", "Salut Alex !", "Coucou Alex !")
    assert letter.rstrip().endswith("\nCamille")
    assert "amies" in letter and "?" in letter


def test_a_failed_writing_waits_while_there_is_time_and_gives_up_near_the_due_time():
    waiting = given()
    assert penpal.should_retry_later(waiting, ARRIVED + timedelta(minutes=1))
    assert not penpal.should_retry_later(waiting, waiting.deliver_at - timedelta(minutes=29))
