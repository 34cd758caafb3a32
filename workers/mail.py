"""Mail task: sends one stored email (domain/mail.py). On the `llm` queue: it waits on
the SMTP server, a parked greenlet rather than a held process."""
from __future__ import annotations

import logging
import uuid

from celery.signals import worker_ready

from domain import mail, tasks
from domain.config import get_settings
from workers.celery_app import celery

log = logging.getLogger(__name__)


@celery.task(name=tasks.MAIL_SEND)
def send(message_id: str) -> bool:
    return mail.send(get_settings(), uuid.UUID(message_id))


@worker_ready.connect
def _say_where_mail_goes(**_: object) -> None:
    settings = get_settings()
    log.log(logging.INFO if settings.smtp_url else logging.WARNING, mail.describe_transport(settings))
