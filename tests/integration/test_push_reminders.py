"""Reminders by Web Push: the subscription endpoints, the reminder settings, and the
streak reminder sent to a loopback push service that checks the VAPID header and
decrypts the payload (tests/support/push_endpoint.py)."""
from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.client import assert_error, register
from tests.support.push_endpoint import subscribe_user

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def push_settings(db_scope, vapid):
    from domain.config import get_settings

    return dataclasses.replace(get_settings(), vapid_private_key=vapid[0], vapid_public_key=vapid[1],
                               vapid_subject="mailto:ops@parlons.test", reminder_default_hour=0)


def _learner(db_scope, *, zone: str = "UTC", due_cards: int = 2, hour: int | None = 0,
             enabled: bool = True) -> uuid.UUID:
    from sqlalchemy import text

    user_id = uuid.uuid4()
    with db_scope() as db:
        db.execute(text("""
            INSERT INTO users (id, email, password_hash, display_name, target_language, level, timezone, role, xp,
                               created_at, updated_at)
            VALUES (:id, :email, 'x', 'Learner', 'fr', 'A1', :zone, 'learner', 0, now(), now())
        """), {"id": user_id, "email": f"{user_id.hex}@example.com", "zone": zone})
        first = db.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM vocabulary"))
        for word_id in range(first, first + 3):
            db.execute(text("""
                INSERT INTO vocabulary (id, lemma, pos, translation, frequency_rank, cefr_level, example)
                VALUES (:id, 'mot' || :id, 'noun', 'word', :id, 'A1', '')
            """), {"id": word_id})
            due = NOW - timedelta(hours=1) if word_id - first < due_cards else NOW + timedelta(days=3)
            db.execute(text("""
                INSERT INTO cards (user_id, word_id, state, due, reps, lapses, created_at)
                VALUES (:user_id, :word_id, 2, :due, 1, 0, now() - interval '5 days')
            """), {"user_id": user_id, "word_id": word_id, "due": due})
        if hour is not None:
            db.execute(text("INSERT INTO reminder_settings (user_id, reminders_enabled, reminder_hour, updated_at)"
                            " VALUES (:user_id, :enabled, :hour, now())"),
                       {"user_id": user_id, "enabled": enabled, "hour": hour})
    return user_id


def _sent_dates(db_scope, user_id: uuid.UUID) -> list:
    from sqlalchemy import text

    with db_scope() as db:
        return list(db.scalars(text("SELECT local_date FROM reminders_sent WHERE user_id = :u"), {"u": user_id}))


def test_the_reminder_is_pushed_encrypted_with_a_valid_vapid_header(db_scope, push, push_settings, vapid):
    from domain import reminders

    user_id = _learner(db_scope, zone="Pacific/Auckland", due_cards=2)
    subscription = subscribe_user(db_scope, push, user_id)
    reminders.run(push_settings, now=NOW)
    [delivery] = push.delivered_to(subscription)
    assert delivery.problems == []
    assert delivery.vapid_key == vapid[1]
    local_date = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Auckland")).date()
    assert delivery.payload == {
        "type": "streak_reminder", "title": "Parlons : keep your streak",
        "body": "You have 2 cards due today. A few minutes keep your streak going.",
        "due_cards": 2, "local_date": local_date.isoformat(), "url": "/"}
    assert _sent_dates(db_scope, user_id) == [local_date]


def test_at_most_once_a_day_even_under_concurrent_runs(db_scope, push, push_settings):
    from domain import reminders

    user_id = _learner(db_scope)
    subscription = subscribe_user(db_scope, push, user_id)
    runs = [threading.Thread(target=reminders.run, args=(push_settings,), kwargs={"now": NOW}) for _ in range(4)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    reminders.run(push_settings, now=NOW + timedelta(minutes=5))
    assert len(push.delivered_to(subscription)) == 1
    assert len(_sent_dates(db_scope, user_id)) == 1


def test_not_sent_when_practised_today_no_cards_due_disabled_or_before_the_hour(db_scope, push, push_settings):
    from sqlalchemy import text

    from domain import reminders

    practised = _learner(db_scope)
    with db_scope() as db:
        word_id = db.scalar(text("SELECT min(word_id) FROM cards WHERE user_id = :u"), {"u": practised})
        db.execute(text("""
            INSERT INTO review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)
            VALUES (:u, :w, 3, :at, 'review', 2, '{"state": "review", "stability": 3.0}')
        """), {"u": practised, "w": word_id, "at": NOW - timedelta(minutes=1)})
    nothing_due = _learner(db_scope, due_cards=0)
    disabled = _learner(db_scope, enabled=False)
    local_hour = NOW.hour
    too_early = _learner(db_scope, hour=local_hour + 1) if local_hour < 23 else None
    learners = [practised, nothing_due, disabled] + ([too_early] if too_early else [])
    subscriptions = [subscribe_user(db_scope, push, user_id) for user_id in learners]
    reminded = _learner(db_scope)  # the positive signal that the run did look at everyone
    signal = subscribe_user(db_scope, push, reminded)
    reminders.run(push_settings, now=NOW)
    assert len(push.delivered_to(signal)) == 1
    assert all(push.delivered_to(subscription) == [] for subscription in subscriptions)
    assert all(_sent_dates(db_scope, user_id) == [] for user_id in learners)


def test_a_subscription_the_push_service_says_is_gone_is_deleted(db_scope, push, push_settings):
    from sqlalchemy import text

    from domain import reminders

    user_id = _learner(db_scope)
    gone = subscribe_user(db_scope, push, user_id, status=410)
    kept = subscribe_user(db_scope, push, user_id)
    reminders.run(push_settings, now=NOW)
    assert len(push.delivered_to(gone)) == 1 and len(push.delivered_to(kept)) == 1
    with db_scope() as db:
        left = list(db.scalars(text("SELECT endpoint FROM push_subscriptions WHERE user_id = :u"), {"u": user_id}))
    assert left == [kept.endpoint]


def test_learners_without_a_subscription_are_reminded_by_email(db_scope, push, push_settings):
    from sqlalchemy import text

    from domain import mail, reminders
    from tests.support.smtp import LoopbackSMTP

    with_streak, without_streak, subscribed = _learner(db_scope), _learner(db_scope), _learner(db_scope)
    with db_scope() as db:  # reviews yesterday and the day before: a two-day streak to keep
        word_id = db.scalar(text("SELECT min(word_id) FROM cards WHERE user_id = :u"), {"u": with_streak})
        for days_ago in (1, 2):
            db.execute(text("""
                INSERT INTO review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)
                VALUES (:u, :w, 3, :at, 'review', 2, '{"state": "review", "stability": 3.0}')
            """), {"u": with_streak, "w": word_id, "at": NOW - timedelta(days=days_ago)})
    pushed = subscribe_user(db_scope, push, subscribed)
    with LoopbackSMTP() as smtp:
        settings = dataclasses.replace(push_settings, smtp_url=smtp.url, public_base_url="https://parlons.test")
        reminders.run(settings, now=NOW)
        with db_scope() as db:
            queued = {row.to_address: row.id for row in db.execute(text("SELECT id, to_address FROM mail_messages"))}
        assert set(queued) == {f"{with_streak.hex}@example.com", f"{without_streak.hex}@example.com"}
        for message_id in queued.values():  # what the mail task does (the stack's worker reads another database)
            assert mail.send(settings, message_id)
        [streak_mail] = smtp.to(f"{with_streak.hex}@example.com")
        [practice_mail] = smtp.to(f"{without_streak.hex}@example.com")
    assert streak_mail["Subject"] == "Keep your 2-day streak going"
    assert "You have 2 cards due today" in streak_mail.get_content()
    assert "https://parlons.test" in streak_mail.get_content()
    assert practice_mail["Subject"] == "2 cards are waiting for you"
    assert len(push.delivered_to(pushed)) == 1  # push, and no mail, for the subscribed learner
    assert all(len(_sent_dates(db_scope, user_id)) == 1 for user_id in (with_streak, without_streak, subscribed))


def test_without_smtp_or_with_reminder_email_off_no_mail_is_queued(db_scope, push_settings):
    from sqlalchemy import text

    from domain import reminders

    for settings in (push_settings, dataclasses.replace(push_settings, smtp_url="smtp://127.0.0.1:1",
                                                        reminder_email=False)):
        user_id = _learner(db_scope)
        reminders.run(settings, now=NOW)
        assert _sent_dates(db_scope, user_id) == [NOW.date()]  # the day is marked: the run looked at them
        with db_scope() as db:
            assert db.scalar(text("SELECT count(*) FROM mail_messages WHERE user_id = :u"), {"u": user_id}) == 0


def test_without_vapid_keys_push_answers_503_and_reminder_settings_still_work(stack, learner):
    assert_error(requests_get(stack.base_url + "/api/v1/push/vapid-public-key"), 503, "push_unavailable")
    body = {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "B" * 87, "auth": "a" * 22}}
    assert_error(learner.post("/api/v1/push/subscriptions", body), 503, "push_unavailable")
    assert learner.get("/api/v1/push/reminders").json() == {"reminders_enabled": True, "reminder_hour": 19}
    assert learner.patch("/api/v1/push/reminders", {"reminder_hour": 7}).json() == {
        "reminders_enabled": True, "reminder_hour": 7}
    assert learner.patch("/api/v1/push/reminders", {"reminders_enabled": False}).json() == {
        "reminders_enabled": False, "reminder_hour": 7}
    for bad in ({"reminder_hour": 24}, {"reminder_hour": -1}, {"reminders_enabled": "maybe"}, {"other": 1}):
        assert_error(learner.patch("/api/v1/push/reminders", bad), 422)
    assert learner.get("/api/v1/push/reminders").json() == {"reminders_enabled": False, "reminder_hour": 7}


@pytest.fixture
def web_with_push(stack, vapid):
    stack.restart_web(VAPID_PRIVATE_KEY=vapid[0], VAPID_PUBLIC_KEY=vapid[1])
    yield stack
    stack.restart_web()


def test_subscriptions_are_validated_idempotent_and_private(web_with_push, vapid, push):
    stack = web_with_push
    learner = register(stack.base_url, stack.ws_url)
    other = register(stack.base_url, stack.ws_url)
    assert requests_get(stack.base_url + "/api/v1/push/vapid-public-key").json() == {"public_key": vapid[1]}
    subscription = push.subscribe().as_json()
    first = learner.post("/api/v1/push/subscriptions", subscription)
    assert first.status_code == 201, first.text
    again = learner.post("/api/v1/push/subscriptions", subscription)
    assert again.status_code == 200 and again.json()["endpoint"] == subscription["endpoint"]
    count = stack.database().execute("SELECT count(*) FROM push_subscriptions WHERE endpoint = %s",
                                     (subscription["endpoint"],)).fetchone()[0]
    assert count == 1
    for bad in ({**subscription, "endpoint": "not a url"}, {"endpoint": subscription["endpoint"]},
                {**subscription, "keys": {"p256dh": "short", "auth": subscription["keys"]["auth"]}},
                {**subscription, "keys": {**subscription["keys"], "auth": "not base64url!!!!!!!"}}):
        assert_error(learner.post("/api/v1/push/subscriptions", bad), 422)
    assert_error(requests_delete(other, {"endpoint": subscription["endpoint"]}), 404)
    assert requests_delete(learner, {"endpoint": subscription["endpoint"]}).status_code == 204
    assert_error(requests_delete(learner, {"endpoint": subscription["endpoint"]}), 404)
    assert_error(requests_delete(learner, {}), 422)


def requests_get(url: str):
    import requests

    return requests.get(url, timeout=30)


def requests_delete(learner, payload):
    import requests

    return requests.delete(learner.base_url + "/api/v1/push/subscriptions", json=payload, headers=learner.headers,
                           timeout=30)


@pytest.fixture
def stack_with_push(stack, vapid):
    """The stack's llm worker and beat with VAPID keys, beat checking reminders every second."""
    env = {"VAPID_PRIVATE_KEY": vapid[0], "VAPID_PUBLIC_KEY": vapid[1], "REMINDER_CHECK_INTERVAL_SECONDS": "1"}
    beat = [stack_bin() / "celery", "-A", "workers.celery_app", "beat", "--loglevel=WARNING",
            "--schedule", str(stack.data_dir / "beat-push-schedule")]
    stack.stop_process("worker_llm")
    stack.start_ready_worker("llm", **env)
    stack.stop_process("beat")
    stack.spawn("beat", beat, env)
    stack.restart_web(**env)
    yield stack
    stack.stop_process("beat")
    stack.start_beat()
    stack.stop_process("worker_llm")
    stack.start_ready_worker("llm")
    stack.restart_web()


def stack_bin():
    from tests.support.stack import BIN

    return BIN


def test_the_beat_job_on_the_llm_workers_pushes_the_reminder(stack_with_push, push):
    from tests.support.waits import eventually

    stack = stack_with_push
    learner = register(stack.base_url, stack.ws_url)
    user_id = learner.user["id"]
    with stack.database() as db:
        word_id = db.execute("SELECT min(id) FROM vocabulary").fetchone()[0]
        db.execute("INSERT INTO cards (user_id, word_id, state, due, reps, lapses, created_at)"
                   " VALUES (%s, %s, 2, now() - interval '1 hour', 1, 0, now())", (user_id, word_id))
        db.commit()
    subscription = push.subscribe()
    assert learner.post("/api/v1/push/subscriptions", subscription.as_json()).status_code == 201
    assert learner.patch("/api/v1/push/reminders", {"reminder_hour": 0}).status_code == 200
    [delivery] = eventually(lambda: push.delivered_to(subscription), "the reminder is pushed", timeout=60)
    assert delivery.problems == []
    assert delivery.payload["type"] == "streak_reminder" and delivery.payload["due_cards"] == 1
