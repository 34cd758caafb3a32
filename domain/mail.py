"""Outgoing email: templates in prompts/email/, queued in the caller's transaction,
sent by the `mail.send` task (llm queue: it waits on the SMTP server).

`queue_mail` renders the template in the learner's native language when a translation
exists (else English), stores the message (mail_messages) with an outbox entry (kind
`mail`) and leaves the publish to the caller after commit (`workers.dispatch
.dispatch_best_effort(outbox.MAIL, id)`; the sweeper sends it if that publish is lost).
A failed send lets the entry go; the sweeper re-sends it with its backoff, and buries it
after OUTBOX_MAX_ATTEMPTS (the project's one retry approach).

Templates: `prompts/email/<template>.<lang>.txt`. Lines starting with `#` at the top are
comments (they name the context keys); then `Subject: ...`, a blank line, the body.
Placeholders are `$name` (string.Template); a missing key is an error at queue time.

Without SMTP_URL the message is written to the log (logger `domain.mail`) instead.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from domain import outbox
from domain.config import REPO_ROOT, Settings
from domain.db import session_scope, statement_scope
from domain.errors import NotFound
from domain.models import MailMessage, User, utcnow

log = logging.getLogger(__name__)

TEMPLATE_DIR = REPO_ROOT / "prompts" / "email"
DEFAULT_LANGUAGE = "en"
OUTBOX_KIND = outbox.MAIL
SEND_LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


@cache
def _read(path: Path) -> tuple[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not lines[0].startswith("Subject:"):
        raise ValueError(f"{path}: the first line after the comments must be 'Subject: ...'")
    subject = lines[0][len("Subject:"):].strip()
    body = "\n".join(lines[1:]).strip("\n") + "\n"
    return subject, body


def template_path(template: str, language: str) -> Path | None:
    path = TEMPLATE_DIR / f"{template}.{language}.txt"
    return path if path.is_file() else None


def render(template: str, language: str | None, context: dict) -> Rendered:
    """The template in `language` when it exists, else in English. Raises KeyError for a
    missing context key and FileNotFoundError for an unknown template."""
    chosen = language if language and template_path(template, language) else DEFAULT_LANGUAGE
    path = template_path(template, chosen)
    if path is None:
        raise FileNotFoundError(f"no email template {template!r} ({TEMPLATE_DIR})")
    subject, body = _read(path)
    values = {key: str(value) for key, value in context.items()}
    return Rendered(Template(subject).substitute(values), Template(body).substitute(values), chosen)


def queue_mail(db: Session, *, user_id: uuid.UUID, template: str, context: dict,
               to_address: str | None = None) -> uuid.UUID:
    """Store one email for the user (their address unless `to_address`) with its outbox
    entry, in the caller's transaction; returns its id, to publish after commit."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("user")
    rendered = render(template, user.native_language, {"display_name": user.display_name, **context})
    now = utcnow()
    message = MailMessage(id=uuid.uuid4(), user_id=user.id, template=template, language=rendered.language,
                          to_address=to_address or user.email, subject=rendered.subject, body=rendered.body,
                          created_at=now)
    db.add(message)
    db.flush()
    outbox.add(db, OUTBOX_KIND, message.id, now)
    return message.id


def describe_transport(settings: Settings) -> str:
    """One line for start-up logs: where mail goes."""
    if not settings.smtp_url:
        return "SMTP_URL is not set: outgoing mail is written to the log instead of being sent"
    parts = urlsplit(settings.smtp_url)
    tls = "SSL" if parts.scheme == "smtps" else ("STARTTLS" if settings.smtp_starttls else "plain")
    return f"outgoing mail through {parts.hostname}:{parts.port or _default_port(parts.scheme)} ({tls})"


def _default_port(scheme: str) -> int:
    return 465 if scheme == "smtps" else 25


def build_message(settings: Settings, message: MailMessage) -> EmailMessage:
    email = EmailMessage()
    name, address = parseaddr(settings.mail_from)
    email["From"] = formataddr((name, address))
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=message.id.hex, domain=address.rpartition("@")[2] or None)
    email.set_content(message.body)
    email["Content-Language"] = message.language  # after set_content, which clears Content-* headers
    return email


def deliver(settings: Settings, email: EmailMessage) -> None:
    """Hand the message to the SMTP server (or the log without SMTP_URL); raises on failure."""
    if not settings.smtp_url:
        log.info("mail (no SMTP_URL, not sent) to=%s subject=%s\n%s", email["To"], email["Subject"],
                 email.get_content())
        return
    parts = urlsplit(settings.smtp_url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    host, port = parts.hostname or "localhost", parts.port or _default_port(parts.scheme)
    timeout = settings.smtp_timeout_seconds
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if parts.scheme == "smtp" and settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(email)


def send(settings: Settings, message_id: uuid.UUID) -> bool:
    """The task's work: send the stored message once, then remove it and its outbox
    entry. False when there was nothing to do (already sent, or another delivery holds it).
    A failure raises after letting the entry go: the sweeper sends it again later."""
    with outbox.holding(OUTBOX_KIND, message_id, SEND_LEASE_SECONDS) as claim:
        if claim is None:
            return False
        with statement_scope() as db:
            message = db.get(MailMessage, message_id)
            if message is None:
                outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[message_id])
                return False
            email = build_message(settings, message)
        deliver(settings, email)
        with session_scope() as db:
            db.query(MailMessage).filter(MailMessage.id == message_id).delete()
            outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[message_id])
    log.info("mail %s sent", message_id)
    return True
