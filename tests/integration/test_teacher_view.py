"""A teacher's view of their students on the real stack: each student's stats, analytics
and journey progress, as the student's own endpoints show them, and their penpal letters
only while the student shares them. Anyone but the class's teacher, and any student not
(or no longer) in that class, gets a 404."""
from __future__ import annotations

import pytest
import requests

from tests.support.classes import make_class, teacher
from tests.support.client import Learner, assert_error, register
from tests.support.waits import eventually

LETTER = ("Bonjour Camille ! Samedi, je suis allé au marché avec mes amis. "
          "Nous avons acheté des fromages. Et toi, qu'est-ce que tu fais le week-end ?")
ANSWER = "Je m'appelle Alex et je viens de Berlin. J'habite à Paris depuis deux ans."
QUESTION = "a1-se-presenter-01"


def join(person: Learner, school_class: dict) -> None:
    response = person.post("/api/v1/classes/join", {"code": school_class["invite_code"]})
    assert response.status_code == 200, response.text


def share(person: Learner, on: bool) -> None:
    response = person.patch("/api/v1/auth/me", {"share_letters_with_teachers": on})
    assert response.status_code == 200, response.text
    assert response.json()["share_letters_with_teachers"] is on


def student_url(school_class: dict, student: Learner, view: str) -> str:
    return f"/api/v1/classes/{school_class['id']}/students/{student.user['id']}/{view}"


def review_a_card(student: Learner) -> None:
    word = student.get("/api/v1/progress/queue?limit=0&new_limit=1").json()["new"][0]
    response = student.post("/api/v1/progress/review", {"word_id": word["word_id"], "rating": 2})
    assert response.status_code == 200, response.text


def answer_a_question(student: Learner) -> None:
    response = student.post(f"/api/v1/journey/questions/{QUESTION}/answers", {"answer": ANSWER})
    assert response.status_code == 202, response.text
    answer_id = response.json()["id"]
    eventually(lambda: student.get(f"/api/v1/journey/answers/{answer_id}").json()["status"] == "scored",
               "the journey answer scored")


def write_a_letter_and_get_the_reply(student: Learner) -> list[dict]:
    """The student's threads once their letter is answered (so nothing moves while compared)."""
    response = student.post("/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER})
    assert response.status_code == 201, response.text

    def answered():  # the reply delivered (not only written) and the student's letter moderated
        threads = student.get("/api/v1/penpal/letters").json()["threads"]
        settled = threads and threads[0]["letter_count"] == 2 and all(
            letter["reply_id"] is not None and letter["moderation"] is not None
            for letter in threads[0]["letters"] if letter["author"] == "learner")
        return threads if settled else None
    return eventually(answered, "the penpal reply delivered")


@pytest.fixture
def world(stack, learner, other_learner):
    """A teacher with two classes (the learner in the first, a classmate-to-be in the
    second), another teacher with a class of their own, and a learner in no class."""
    mme = teacher(stack)
    first, second = make_class(mme, "Seconde A"), make_class(mme, "Seconde B")
    join(learner, first)
    in_second = register(stack.base_url, stack.ws_url)
    join(in_second, second)
    other_teacher = teacher(stack)
    elsewhere = register(stack.base_url, stack.ws_url)
    join(elsewhere, make_class(other_teacher, "Première C"))
    return {"teacher": mme, "class": first, "student": learner, "in_second": in_second, "elsewhere": elsewhere,
            "outsider": other_learner, "other_teacher": other_teacher}


def test_the_teacher_sees_a_students_stats_analytics_and_journey_as_the_student_does(world):
    mme, school_class, student = world["teacher"], world["class"], world["student"]
    review_a_card(student)
    answer_a_question(student)

    stats = mme.get(student_url(school_class, student, "stats"))
    assert stats.status_code == 200, stats.text
    assert stats.json()["reviews_today"] == 1
    assert stats.json() == student.get("/api/v1/progress/stats").json()

    analytics = mme.get(student_url(school_class, student, "analytics"), params={"days": 7})
    assert analytics.status_code == 200, analytics.text
    assert analytics.json()["days"] == 7 and sum(d["reviews"] for d in analytics.json()["reviews_per_day"]) == 1
    assert analytics.json() == student.get("/api/v1/progress/analytics", params={"days": 7}).json()

    progress = mme.get(student_url(school_class, student, "journey"))
    assert progress.status_code == 200, progress.text
    assert (progress.json()["answers"], progress.json()["questions_answered"]) == (1, 1)
    assert progress.json() == student.get("/api/v1/journey/progress").json()


def test_bad_analytics_days_are_a_422_naming_the_field(world):
    for days in (0, 400, "many"):
        error = assert_error(world["teacher"].get(student_url(world["class"], world["student"], "analytics"),
                                                  params={"days": days}), 422)
        assert "days" in str(error["details"])


def test_letters_are_hidden_until_the_student_shares_them_and_hidden_again_after(world):
    mme, school_class, student = world["teacher"], world["class"], world["student"]
    assert student.user["share_letters_with_teachers"] is False  # off by default
    own = write_a_letter_and_get_the_reply(student)
    url = student_url(school_class, student, "letters")
    assert_error(mme.get(url), 404, "letters_not_shared")

    share(student, True)
    assert student.get("/api/v1/auth/me").json()["share_letters_with_teachers"] is True
    shown = mme.get(url)
    assert shown.status_code == 200, shown.text
    assert shown.json()["threads"] == own
    assert [letter["author"] for letter in shown.json()["threads"][0]["letters"]] == ["character", "learner"]
    page = {"character_id": "camille", "per_thread": 1}
    latest = mme.get(url, params=page)
    assert latest.json()["threads"] == student.get("/api/v1/penpal/letters", params=page).json()["threads"]
    assert len(latest.json()["threads"][0]["letters"]) == 1

    share(student, False)
    assert_error(mme.get(url), 404, "letters_not_shared")


def test_sharing_takes_a_boolean_and_a_bad_value_changes_nothing(world):
    student = world["student"]
    for value in ("yes", None, 2):
        error = assert_error(student.patch("/api/v1/auth/me", {"share_letters_with_teachers": value}), 422)
        assert "share_letters_with_teachers" in str(error["details"])
    assert student.get("/api/v1/auth/me").json()["share_letters_with_teachers"] is False


VIEWS = ["stats", "analytics", "journey", "letters", "notebook"]


@pytest.mark.parametrize("who", ["other_teacher", "outsider", "student", "in_second", "elsewhere"])
def test_anyone_but_the_classs_teacher_gets_a_404(world, who):
    """Another teacher, a learner in no class, the student themself, a student of the
    teacher's other class and a student of another teacher's class: all 404 (the student
    shares their letters, so the letters' 404 is the class's, not the sharing's)."""
    share(world["student"], True)
    for view in VIEWS:
        assert_error(world[who].get(student_url(world["class"], world["student"], view)), 404, "class_not_found")


@pytest.mark.parametrize("who", ["in_second", "elsewhere", "outsider"])
def test_the_teacher_gets_a_404_for_someone_not_in_that_class(world, who):
    """A student of the teacher's other class, of another teacher's class, of no class."""
    share(world[who], True)
    for view in VIEWS:
        assert_error(world["teacher"].get(student_url(world["class"], world[who], view)), 404, "class_not_found")


def test_a_removed_student_and_one_who_left_are_404(world):
    mme, school_class, student, leaver = world["teacher"], world["class"], world["student"], world["outsider"]
    join(leaver, school_class)
    for person in (student, leaver):
        share(person, True)
        for view in VIEWS:
            assert mme.get(student_url(school_class, person, view)).status_code == 200, view

    removed = requests.delete(mme.base_url + f"/api/v1/classes/{school_class['id']}/students/{student.user['id']}",
                              headers=mme.headers, timeout=10)
    assert removed.status_code == 204, removed.text
    left = requests.delete(mme.base_url + f"/api/v1/classes/{school_class['id']}/membership",
                           headers=leaver.headers, timeout=10)
    assert left.status_code == 204, left.text
    for person in (student, leaver):
        for view in VIEWS:
            assert_error(mme.get(student_url(school_class, person, view)), 404, "class_not_found")
