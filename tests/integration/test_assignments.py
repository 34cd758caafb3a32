"""Assignments on the real stack: a class's teacher assigns journey units with a due time,
students see them with their completion (from the journey's scored answers), outsiders
get 404, and the beat job sends one `assignment_due` reminder per student (event, then
push or email) to those who have not completed the unit."""
from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from domain import journey
from tests.support.classes import make_class, teacher
from tests.support.client import EventSocket, Learner, assert_error
from tests.support.push_endpoint import subscribe_user

UNIT = "a1-se-presenter"


def _delete(person: Learner, path: str) -> requests.Response:
    return requests.delete(person.base_url + path, headers=person.headers, timeout=10)


def _in(**delta) -> str:
    """A due time `delta` from now, written with a +02:00 offset."""
    return (datetime.now(timezone.utc) + timedelta(**delta)).astimezone(timezone(timedelta(hours=2))).isoformat()


@pytest.fixture
def world(stack, learner, other_learner):
    mme = teacher(stack)
    made = make_class(mme, "Seconde C")
    assert learner.post("/api/v1/classes/join", {"code": made["invite_code"]}).status_code == 200
    return {"teacher": mme, "class": made, "student": learner, "outsider": other_learner,
            "other_teacher": teacher(stack)}


def _assign(world, unit_id: str = UNIT, **delta) -> dict:
    response = world["teacher"].post(f"/api/v1/classes/{world['class']['id']}/assignments",
                                     {"unit_id": unit_id, "due_at": _in(**(delta or {"days": 3}))})
    assert response.status_code == 201, response.text
    return response.json()


def _listed(world) -> list[dict]:
    response = world["teacher"].get(f"/api/v1/classes/{world['class']['id']}/assignments")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_teacher_assigns_lists_and_deletes(world):
    cid, student = world["class"]["id"], world["student"]
    due = _in(days=3)
    response = world["teacher"].post(f"/api/v1/classes/{cid}/assignments", {"unit_id": UNIT, "due_at": due})
    assert response.status_code == 201, response.text
    made = response.json()
    assert datetime.fromisoformat(made["due_at"]) == datetime.fromisoformat(due)
    assert made["due_at"].endswith("+00:00")
    assert (made["class_id"], made["unit_id"], made["unit_title"], made["unit_level"]) == (
        cid, UNIT, "Se présenter", "A1")
    assert made["students"] == [{"user_id": student.user["id"], "display_name": "Test Learner", "completed": False}]
    assert (made["completed_count"], made["student_count"]) == (0, 1)
    later = _assign(world, "a1-la-famille", days=5)
    assert [a["id"] for a in _listed(world)] == [made["id"], later["id"]]  # soonest due first
    assert _listed(world)[0] == made

    assert_error(world["teacher"].post(f"/api/v1/classes/{cid}/assignments", {"unit_id": UNIT, "due_at": _in(days=9)}),
                 409, "assignment_exists")
    assert _delete(world["teacher"], f"/api/v1/classes/{cid}/assignments/{made['id']}").status_code == 204
    assert [a["id"] for a in _listed(world)] == [later["id"]]
    assert_error(_delete(world["teacher"], f"/api/v1/classes/{cid}/assignments/{made['id']}"), 404,
                 "assignment_not_found")
    assert_error(_delete(world["teacher"], f"/api/v1/classes/{cid}/assignments/{uuid.uuid4()}"), 404,
                 "assignment_not_found")


def test_a_bad_unit_or_due_time_is_a_422_and_changes_nothing(world):
    url = f"/api/v1/classes/{world['class']['id']}/assignments"
    naive = (datetime.now(timezone.utc) + timedelta(days=2)).replace(tzinfo=None).isoformat()
    for body, code in (({"unit_id": "z9-nothing", "due_at": _in(days=2)}, "unknown_unit"),
                       ({"unit_id": UNIT, "due_at": _in(minutes=-1)}, "due_at_not_in_future"),
                       ({"unit_id": UNIT, "due_at": _in(days=400)}, "due_at_too_far"),
                       ({"unit_id": UNIT, "due_at": naive}, "validation_error"),
                       ({"unit_id": UNIT, "due_at": "next friday"}, "validation_error"),
                       ({"unit_id": UNIT}, "validation_error"),
                       ({"due_at": _in(days=2)}, "validation_error"),
                       ({"unit_id": "", "due_at": _in(days=2)}, "validation_error")):
        error = assert_error(world["teacher"].post(url, body), 422, code)
        assert error["details"], body
    assert _listed(world) == []


ENDPOINTS = [
    ("post", "/api/v1/classes/{cid}/assignments"),
    ("get", "/api/v1/classes/{cid}/assignments"),
    ("delete", "/api/v1/classes/{cid}/assignments/{aid}"),
]


@pytest.mark.parametrize("who", ["other_teacher", "outsider", "student"])
@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_anyone_but_the_classs_teacher_gets_a_404_and_changes_nothing(world, who, method, path):
    assigned = _assign(world)
    person = world[who]
    url = path.format(cid=world["class"]["id"], aid=assigned["id"])
    if method == "delete":
        response = _delete(person, url)
    elif method == "post":
        response = person.post(url, {"unit_id": "a1-la-famille", "due_at": _in(days=2)})
    else:
        response = person.get(url)
    assert_error(response, 404, "class_not_found")
    assert [a["id"] for a in _listed(world)] == [assigned["id"]]


def _answer_the_whole_unit(learner: Learner, unit_id: str) -> None:
    """Answer each question of the unit well (as tests/integration/test_journey.py does),
    waiting for each score."""
    unit = journey.find_unit(unit_id)
    with learner.socket("/api/v1/ws") as socket:
        for asked in unit.questions:
            text = " ".join(f"Voici le mot {sorted(words)[0]}." for _, words in asked.expected) + \
                " C'est ma réponse pour le cours de français."
            assert _scored(learner, socket, asked.id, text)["passed"], asked.id


def _scored(learner: Learner, socket: EventSocket, question_id: str, text: str) -> dict:
    response = learner.post(f"/api/v1/journey/questions/{question_id}/answers", {"answer": text})
    assert response.status_code == 202, response.text
    answer_id = response.json()["id"]
    received = socket.until(lambda e: e["type"] == "journey_scored" and e["data"]["answer"]["id"] == answer_id)
    return received[-1]["data"]["answer"]


def test_students_see_their_classes_assignments_and_their_completion_until_they_leave(world):
    student, cid = world["student"], world["class"]["id"]
    assigned = _assign(world)
    [mine] = student.get("/api/v1/assignments").json()["items"]
    assert mine == {**{k: assigned[k] for k in ("id", "class_id", "unit_id", "unit_title", "unit_level", "due_at",
                                                "created_at")},
                    "class_name": "Seconde C", "completed": False}
    assert world["outsider"].get("/api/v1/assignments").json()["items"] == []

    _answer_the_whole_unit(student, UNIT)
    assert student.get("/api/v1/assignments").json()["items"][0]["completed"] is True
    [listed] = _listed(world)
    assert listed["students"][0]["completed"] is True and listed["completed_count"] == 1

    assert _delete(student, f"/api/v1/classes/{cid}/membership").status_code == 204
    assert student.get("/api/v1/assignments").json()["items"] == []
    assert _listed(world)[0]["students"] == []


# --- the beat job: in process, on a scratch database (no worker or beat touches it) -----------

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def publisher(stack):
    import redis

    from domain.events import EventPublisher

    return EventPublisher(redis.Redis.from_url(stack.env["REDIS_URL"]), maxlen=100, ttl_seconds=600)


@pytest.fixture(scope="module")
def job_settings(db_scope, vapid):
    from domain.config import get_settings

    return dataclasses.replace(get_settings(), vapid_private_key=vapid[0], vapid_public_key=vapid[1],
                               vapid_subject="mailto:ops@parlons.test", assignment_reminder_hours=24,
                               public_base_url="https://parlons.test")


def _person(db, role: str = "learner", zone: str = "UTC", native: str | None = None) -> uuid.UUID:
    from sqlalchemy import text

    user_id = uuid.uuid4()
    db.execute(text("""
        INSERT INTO users (id, email, password_hash, display_name, target_language, native_language, level,
                           timezone, role, xp, created_at, updated_at)
        VALUES (:id, :email, 'x', 'Élève', 'fr', :native, 'A1', :zone, :role, 0, now(), now())
    """), {"id": user_id, "email": f"{user_id.hex}@example.com", "zone": zone, "role": role, "native": native})
    return user_id


def _class_with(db_scope, *, due_in: timedelta, students: int, unit_id: str = UNIT):
    """A teacher's class with `students` students and one assignment due in `due_in`."""
    from domain.models import Assignment, ClassMembership, SchoolClass

    with db_scope() as db:
        class_id = uuid.uuid4()
        db.add(SchoolClass(id=class_id, teacher_id=_person(db, role="teacher"), name="Terminale B",
                           invite_code=uuid.uuid4().hex))
        people = [_person(db, zone="Pacific/Auckland", native="fr") for _ in range(students)]
        db.flush()
        db.add_all([ClassMembership(class_id=class_id, user_id=user_id) for user_id in people])
        assignment = Assignment(id=uuid.uuid4(), class_id=class_id, unit_id=unit_id, due_at=NOW + due_in)
        db.add(assignment)
    return class_id, assignment.id, people


def _pass_the_unit(db_scope, user_id: uuid.UUID, unit_id: str = UNIT) -> None:
    from domain.models import JourneyAnswer

    with db_scope() as db:
        for asked in journey.find_unit(unit_id).questions:
            db.add(JourneyAnswer(user_id=user_id, question_id=asked.id, unit_id=unit_id, level="A1", answer="…",
                                 score=90, result={}, provider="offline", scored_at=NOW))


def _events(publisher, user_id: uuid.UUID) -> list[dict]:
    return [e.data for e in publisher.replay(user_id, "0-0") if e.type == "assignment_due"]


def _claims(db_scope, assignment_id: uuid.UUID) -> dict:
    from sqlalchemy import text

    with db_scope() as db:
        rows = db.execute(text("SELECT user_id, channels FROM assignment_reminders WHERE assignment_id = :a"),
                          {"a": assignment_id})
        return {row.user_id: row.channels for row in rows}


def test_the_beat_job_reminds_each_student_once_by_event_and_push_or_email(db_scope, push, publisher, job_settings):
    from sqlalchemy import text

    from domain import assignments, mail, reminders
    from tests.support.smtp import LoopbackSMTP

    class_id, assignment_id, (pushed, mailed, done, quiet) = _class_with(db_scope, due_in=timedelta(hours=5),
                                                                         students=4)
    subscription = subscribe_user(db_scope, push, pushed)
    _pass_the_unit(db_scope, done)
    quiet_subscription = subscribe_user(db_scope, push, quiet)
    with db_scope() as db:
        reminders.update_settings(db, job_settings, user_id=quiet, changes={"reminders_enabled": False})
    with LoopbackSMTP() as smtp:
        settings = dataclasses.replace(job_settings, smtp_url=smtp.url)
        runs = [threading.Thread(target=assignments.run, args=(settings, publisher), kwargs={"now": NOW})
                for _ in range(3)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        assert assignments.run(settings, publisher, now=NOW + timedelta(minutes=5)) == 0  # the second beat: nothing
        with db_scope() as db:
            queued = list(db.execute(text("SELECT id, user_id, template FROM mail_messages WHERE user_id = ANY(:ids)"),
                                     {"ids": [pushed, mailed, done, quiet]}))
        assert [(row.user_id, row.template) for row in queued] == [(mailed, "assignment_due")]
        assert mail.send(settings, queued[0].id)  # what the mail task does (its worker reads another database)
        [message] = smtp.to(f"{mailed.hex}@example.com")

    expected = {"assignment_id": str(assignment_id), "class_id": str(class_id), "unit_id": UNIT,
                "unit_title": "Se présenter", "due_at": (NOW + timedelta(hours=5)).isoformat()}
    for student in (pushed, mailed, quiet):  # the event always, once
        assert _events(publisher, student) == [expected]
    assert _events(publisher, done) == []
    [delivery] = push.delivered_to(subscription)
    assert delivery.problems == []
    local_due = (NOW + timedelta(hours=5)).astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Auckland")).date()
    assert delivery.payload == {**expected, "type": "assignment_due", "title": "Parlons : Se présenter",
                                "body": f"Due {local_due.isoformat()} for \u201cTerminale B\u201d.", "url": "/"}
    assert push.delivered_to(quiet_subscription) == []  # reminders off: no push, no mail
    assert message["Subject"] == f"Devoir à rendre le {local_due.isoformat()} : Se présenter"  # native: fr
    assert "« Terminale B »" in message.get_content() and "https://parlons.test" in message.get_content()
    assert _claims(db_scope, assignment_id) == {pushed: "push", mailed: "email", quiet: ""}


def test_far_off_past_due_and_completed_assignments_are_not_reminded(db_scope, publisher, job_settings):
    from domain import assignments

    _, far_off, [later] = _class_with(db_scope, due_in=timedelta(hours=30), students=1)
    _, past_due, [late] = _class_with(db_scope, due_in=timedelta(minutes=-5), students=1)
    _, completed, [done] = _class_with(db_scope, due_in=timedelta(hours=2), students=1)
    _pass_the_unit(db_scope, done)
    _, soon, [signal] = _class_with(db_scope, due_in=timedelta(hours=23), students=1)  # the run did look
    assert assignments.run(job_settings, publisher, now=NOW) >= 1
    assert len(_events(publisher, signal)) == 1 and _claims(db_scope, soon) == {signal: ""}
    for assignment_id, student in ((far_off, later), (past_due, late), (completed, done)):
        assert _events(publisher, student) == [] and _claims(db_scope, assignment_id) == {}
    # Once it comes within ASSIGNMENT_REMINDER_HOURS, the far-off one is reminded.
    assignments.run(job_settings, publisher, now=NOW + timedelta(hours=7))
    assert len(_events(publisher, later)) == 1 and _claims(db_scope, far_off) == {later: ""}


# --- the beat on the stack ------------------------------------------------------------------------

@pytest.fixture
def fast_beat(stack):
    """The stack's beat checking reminders (and assignments) every second."""
    from tests.support.stack import BIN

    stack.stop_process("beat")
    stack.spawn("beat", [BIN / "celery", "-A", "workers.celery_app", "beat", "--loglevel=WARNING",
                         "--schedule", str(stack.data_dir / "beat-assignments-schedule")],
                {"REMINDER_CHECK_INTERVAL_SECONDS": "1"})
    yield stack
    stack.stop_process("beat")
    stack.start_beat()


def test_the_beat_on_the_llm_worker_publishes_assignment_due_to_the_student(fast_beat, world):
    student = world["student"]
    with student.socket("/api/v1/ws") as socket:
        assigned = _assign(world, hours=2)
        received = socket.until(lambda e: e["type"] == "assignment_due", timeout=60)
    assert received[-1]["data"] == {"assignment_id": assigned["id"], "class_id": world["class"]["id"],
                                    "unit_id": UNIT, "unit_title": "Se présenter", "due_at": assigned["due_at"]}
