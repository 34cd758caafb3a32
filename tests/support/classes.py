"""Teachers and their classes for the tests: a new account given the teacher role by the
operators' command (`flask users set-role`), and a class it makes over the API."""
from __future__ import annotations

from typing import Any

from tests.support.client import Learner, register
from tests.support.stack import Stack


def teacher(stack: Stack, **fields: Any) -> Learner:
    person = register(stack.base_url, stack.ws_url, **fields)
    result = stack.flask("users", "set-role", person.email, "teacher")
    assert result.returncode == 0, result.stderr
    return person


def make_class(person: Learner, name: str = "Terminale B") -> dict:
    response = person.post("/api/v1/classes", {"name": name})
    assert response.status_code == 201, response.text
    return response.json()
