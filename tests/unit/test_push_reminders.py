"""The reminder's channel decision (domain/reminders.py choose_channels) and its payload."""
from __future__ import annotations

import uuid
from datetime import date

from domain import reminders


def test_push_when_configured_and_subscribed():
    assert reminders.choose_channels(push_configured=True, subscriptions=2, email_available=True) == ["push"]
    assert reminders.choose_channels(push_configured=True, subscriptions=1, email_available=False) == ["push"]


def test_email_is_the_fallback_without_a_subscription_or_without_push():
    assert reminders.choose_channels(push_configured=True, subscriptions=0, email_available=True) == ["email"]
    assert reminders.choose_channels(push_configured=False, subscriptions=3, email_available=True) == ["email"]


def test_no_channel_without_push_and_email():
    assert reminders.choose_channels(push_configured=False, subscriptions=1, email_available=False) == []
    assert reminders.choose_channels(push_configured=True, subscriptions=0, email_available=False) == []


def test_the_payload_counts_the_due_cards():
    due = reminders.Due(uuid.uuid4(), date(2026, 12, 6), 1, None)
    assert reminders.payload(due)["body"].startswith("You have 1 card due today.")
    assert reminders.payload(due)["local_date"] == "2026-12-06"
