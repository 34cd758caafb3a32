"""Email templates (domain/mail.py render): every template, every language, parses and fills."""
from __future__ import annotations

import re

import pytest

from domain import mail

TEMPLATES = ("password_reset", "verify_email", "export_ready", "account_deleted", "streak_reminder",
             "practice_reminder", "assignment_due")


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", ("en", "fr", "es"))
def test_each_template_documents_its_keys_and_fills_them(template, language):
    path = mail.template_path(template, language)
    assert path is not None
    first = path.read_text(encoding="utf-8").splitlines()[0]
    keys = [k.strip().split(" ")[0] for k in first.removeprefix("# Context:").split(",")]
    rendered = mail.render(template, language, {key: f"<{key}>" for key in keys})
    assert rendered.language == language
    assert rendered.subject and "$" not in rendered.subject + rendered.body
    assert set(re.findall(r"<(\w+)>", rendered.subject + rendered.body)) <= set(keys)


def test_unknown_language_falls_back_to_english():
    assert mail.render("account_deleted", "de", {"display_name": "Ana"}).language == "en"
    assert mail.render("account_deleted", None, {"display_name": "Ana"}).language == "en"


def test_missing_key_is_an_error():
    with pytest.raises(KeyError):
        mail.render("password_reset", "en", {"display_name": "Ana"})
