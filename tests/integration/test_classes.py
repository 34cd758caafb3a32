"""Teachers and classes on the real stack: roles granted by an admin only, invite codes,
joining and leaving, and every outsider getting a 404."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.classes import make_class, teacher
from tests.support.client import Learner, assert_error, register


def delete(person: Learner, path: str) -> requests.Response:
    return requests.delete(person.base_url + path, headers=person.headers, timeout=10)


def test_the_role_is_never_self_assigned(stack, learner):
    response = requests.post(stack.base_url + "/api/v1/auth/register", json={
        "email": f"role-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse battery",
        "display_name": "Sneaky", "role": "teacher"}, timeout=10)
    assert_error(response, 422)
    assert_error(learner.patch("/api/v1/auth/me", {"role": "teacher"}), 422)
    assert_error(learner.post("/api/v1/classes", {"name": "Mine"}), 404, "not_found")
    assert learner.get("/api/v1/auth/me").json()["role"] == "learner"


def test_a_teacher_makes_a_class_a_learner_joins_is_on_the_roster_and_leaves(stack, learner):
    mme = teacher(stack)
    made = make_class(mme)
    code = made["invite_code"]
    assert len(code) >= 16
    assert_error(learner.post("/api/v1/classes/join", {"code": "nope"}), 404, "class_not_found")
    joined = learner.post("/api/v1/classes/join", {"code": code})
    assert joined.status_code == 200, joined.text
    assert joined.json()["id"] == made["id"] and joined.json()["invite_code"] is None
    assert learner.post("/api/v1/classes/join", {"code": code}).status_code == 200  # again: no change
    roster = mme.get(f"/api/v1/classes/{made['id']}/students").json()["items"]
    assert [s["user_id"] for s in roster] == [learner.user["id"]]
    assert [c["id"] for c in learner.get("/api/v1/classes").json()["items"]] == [made["id"]]

    fresh = mme.post(f"/api/v1/classes/{made['id']}/code").json()["invite_code"]
    assert fresh != code
    late = register(stack.base_url, stack.ws_url)
    assert_error(late.post("/api/v1/classes/join", {"code": code}), 404, "class_not_found")
    assert late.post("/api/v1/classes/join", {"code": fresh}).status_code == 200

    assert delete(learner, f"/api/v1/classes/{made['id']}/membership").status_code == 204
    roster = mme.get(f"/api/v1/classes/{made['id']}/students").json()["items"]
    assert [s["user_id"] for s in roster] == [late.user["id"]]
    assert learner.get("/api/v1/classes").json()["items"] == []


def test_bad_input_is_a_422_and_changes_nothing(stack):
    mme = teacher(stack)
    for body in ({}, {"name": ""}, {"name": "x" * 121}, {"name": 3}):
        assert_error(mme.post("/api/v1/classes", body), 422)
    assert mme.get("/api/v1/classes").json()["items"] == []
    assert_error(mme.post("/api/v1/classes/join", {}), 422)


@pytest.fixture
def world(stack, learner, other_learner):
    mme = teacher(stack)
    made = make_class(mme)
    assert learner.post("/api/v1/classes/join", {"code": made["invite_code"]}).status_code == 200
    return {"teacher": mme, "class": made, "student": learner, "outsider": other_learner,
            "other_teacher": teacher(stack)}


ENDPOINTS = [
    ("get", "/api/v1/classes/{cid}/students"),
    ("post", "/api/v1/classes/{cid}/code"),
    ("get", "/api/v1/classes/{cid}/students/{sid}/notebook"),
    ("delete", "/api/v1/classes/{cid}/students/{sid}"),
]


@pytest.mark.parametrize("who", ["other_teacher", "outsider", "student"])
@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_anyone_but_the_classs_teacher_gets_a_404(world, who, method, path):
    person = world[who]
    url = path.format(cid=world["class"]["id"], sid=world["student"].user["id"])
    response = delete(person, url) if method == "delete" else getattr(person, method)(url)
    assert_error(response, 404, "class_not_found")
    roster = world["teacher"].get(f"/api/v1/classes/{world['class']['id']}/students").json()["items"]
    assert [s["user_id"] for s in roster] == [world["student"].user["id"]]  # nothing changed


def test_an_outsider_cannot_leave_a_class_they_are_not_in(world):
    assert_error(delete(world["outsider"], f"/api/v1/classes/{world['class']['id']}/membership"), 404,
                 "class_not_found")


def test_a_deleted_teacher_takes_their_classes_and_memberships_with_them(stack, world):
    with stack.database() as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (world["teacher"].user["id"],))
        left = conn.execute("SELECT count(*) FROM class_memberships WHERE class_id = %s",
                            (world["class"]["id"],)).fetchone()[0]
    assert left == 0
    assert world["student"].get("/api/v1/classes").json()["items"] == []


def test_an_admin_grants_the_teacher_role_over_the_api_and_nobody_else_can(stack, learner, other_learner):
    boss = register(stack.base_url, stack.ws_url)
    assert stack.flask("users", "set-role", boss.email, "admin").returncode == 0
    assert_error(requests.put(stack.base_url + "/api/v1/admin/roles", headers=learner.headers, timeout=10,
                              json={"email": other_learner.email, "role": "teacher"}), 404, "not_found")
    assert other_learner.get("/api/v1/auth/me").json()["role"] == "learner"
    assert_error(requests.put(stack.base_url + "/api/v1/admin/roles", headers=boss.headers, timeout=10,
                              json={"email": other_learner.email, "role": "king"}), 422)
    response = requests.put(stack.base_url + "/api/v1/admin/roles", headers=boss.headers, timeout=10,
                            json={"email": other_learner.email, "role": "teacher"})
    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["previous"]) == ("teacher", "learner")
    assert other_learner.post("/api/v1/classes", {"name": "Seconde A"}).status_code == 201


def test_the_teacher_reads_a_students_notebook_but_not_an_outsiders(world):
    cid = world["class"]["id"]
    mine = world["teacher"].get(f"/api/v1/classes/{cid}/students/{world['student'].user['id']}/notebook")
    assert mine.status_code == 200, mine.text
    assert mine.json()["items"] == world["student"].get("/api/v1/notebook").json()["items"]
    assert_error(world["teacher"].get(f"/api/v1/classes/{cid}/students/{world['outsider'].user['id']}/notebook"),
                 404, "class_not_found")
