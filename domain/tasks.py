"""The background tasks' names and the queue each runs on: the one place they are spelled.

The names are on the wire and in operators' dashboards (Flower, the metrics' `task`
label): never rename one. The workers register their tasks under these names
(`workers/*.py`), `workers/celery_app.py` routes them by `QUEUES`, and the domain hands
work over with them (`Runtime.send_task`, the outbox's kind -> tasks table).

Queues, by what their tasks spend: `llm` waits on the network (gevent), `nlp` spends CPU
on spaCy and the rules (prefork), `default` does short database work (prefork).
"""
from __future__ import annotations

TURN_ANALYSE = "turns.analyse"
TURN_RESPOND = "turns.respond"
TURN_TRANSCRIBE = "turns.transcribe"  # a spoken turn's recording, before its pipeline
HINTS_GENERATE = "hints.generate"
HINTS_AFTER_SPEECH = "hints.after_speech"
LANGUAGE_ANALYSE = "language.analyse"
PENPAL_ANALYSE = "penpal.analyse"
PENPAL_WRITE = "penpal.write"
PENPAL_DELIVER = "penpal.deliver"
JOURNEY_ANALYSE = "journey.analyse"
JOURNEY_SCORE = "journey.score"
# The spaced-repetition tasks kept their first names ("progress.") when the feature became `srs`.
SRS_CONVERSATION_REVIEWS = "progress.conversation_reviews"
SRS_FIT_PARAMETERS = "progress.fit_parameters"
SRS_FIT_ALL = "progress.fit_all"
SWEEP = "maintenance.sweep"
SESSIONS_GREET = "sessions.greet"
SESSIONS_END_IDLE = "sessions.end_idle"
ACHIEVEMENTS_CHECK = "achievements.check"
WEEKLY_REPORTS = "progress.weekly_reports"
MAIL_SEND = "mail.send"
DATA_EXPORT_BUILD = "data_export.build"
# The streak reminders: on `llm`, as sending waits on the push services.
REMINDERS_CHECK = "reminders.check"
# The assignment_due reminders: on `llm` too, for the same reason.
ASSIGNMENTS_REMIND = "assignments.remind"
ANKI_IMPORT = "anki.import"

QUEUES = {
    TURN_ANALYSE: "nlp",
    TURN_RESPOND: "llm",
    TURN_TRANSCRIBE: "llm",  # waits on the transcription provider
    HINTS_GENERATE: "llm",
    HINTS_AFTER_SPEECH: "llm",
    LANGUAGE_ANALYSE: "nlp",
    PENPAL_ANALYSE: "nlp",
    PENPAL_WRITE: "llm",
    PENPAL_DELIVER: "default",
    JOURNEY_ANALYSE: "nlp",
    JOURNEY_SCORE: "llm",
    SRS_CONVERSATION_REVIEWS: "default",
    SRS_FIT_PARAMETERS: "default",
    SRS_FIT_ALL: "default",
    SWEEP: "default",
    SESSIONS_GREET: "llm",
    SESSIONS_END_IDLE: "default",
    ACHIEVEMENTS_CHECK: "default",
    WEEKLY_REPORTS: "default",
    MAIL_SEND: "llm",  # waits on the SMTP server: the network queue
    DATA_EXPORT_BUILD: "default",
    REMINDERS_CHECK: "llm",
    ASSIGNMENTS_REMIND: "llm",
    ANKI_IMPORT: "default",  # a large import: short database work
}
