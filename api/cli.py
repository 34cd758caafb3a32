"""Flask CLI commands (`flask --app api:create_app <command>`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import marshmallow as ma
from flask import Flask

from domain import accounts, admin, cefr, outbox, quotas
from domain.config import get_settings
from domain.db import session_scope
from domain.errors import Conflict, Invalid, NotFound, Unavailable
from domain.srs import vocabulary

SAMPLE_CSV = Path(".data") / "vocabulary_sample.csv"


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--email", default="demo@parlons.local", show_default=True)
    @click.option("--password", default="parlons-demo", show_default=True)
    def seed_demo(email: str, password: str) -> None:
        """Create the demo learner if it does not exist yet (idempotent)."""
        with session_scope() as db:
            if accounts.find_by_email(db, email) is None:
                accounts.register(db, email=email, password=password, display_name="Demo Learner", level="A2",
                                  native_language="en", timezone="Europe/Paris", verified=True)
                click.echo(f"created demo learner {email}")
            else:
                click.echo(f"demo learner {email} already exists")

    @app.cli.group("vocab")
    def vocab() -> None:
        """The French vocabulary."""

    @vocab.command("seed")
    @click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help=f"A CSV with the columns {', '.join(vocabulary.CSV_COLUMNS)}.")
    @click.option("--generate-sample", is_flag=True,
                  help="Write the sample vocabulary (glossary ranked by wordfreq) to --output, then load it.")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=SAMPLE_CSV,
                  show_default=True, help="Where --generate-sample writes its CSV.")
    def seed(csv_path: Path | None, generate_sample: bool, output: Path) -> None:
        """Insert or update words (same lemma and part of speech: updated). Idempotent."""
        if (csv_path is None) == (not generate_sample):
            raise click.UsageError("Give exactly one of --csv FILE and --generate-sample.")
        if generate_sample:
            from domain.srs.vocabulary_sample import sample_rows

            vocabulary.write_csv(output, sample_rows())
            click.echo(f"wrote {output}")
            csv_path = output
        try:
            rows = vocabulary.read_csv(csv_path)
        except Invalid as problem:
            raise click.ClickException(f"{csv_path}: {problem.message}") from None
        with session_scope() as db:
            report = vocabulary.seed(db, rows)
        click.echo(f"{report.rows} words from {csv_path}: {report.inserted} new, {report.updated} updated")

    register_user_commands(app)
    register_turn_commands(app)
    register_outbox_commands(app)


# --- users ------------------------------------------------------------------------------

def _registration_check(name: str):
    """A click callback that checks one field as registration does (api.auth.schemas.
    RegisterSchema), so a bad value is refused at its prompt (asked again) or flag."""
    def check(_ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        from api.auth.schemas import RegisterSchema

        if value is None:
            return value
        errors = RegisterSchema().validate({name: value}, partial=True)
        if name in errors:
            raise click.BadParameter(" ".join(errors[name]))
        return value
    return check


def _optional_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An empty answer is no native language; anything else is checked as registration does."""
    value = (value or "").strip() or None
    return _registration_check("native_language")(ctx, param, value)


def _new_email(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A well-formed email no account has yet (checked before the password is asked for;
    the unique index still decides at the end)."""
    value = _registration_check("email")(ctx, param, value)
    if value is not None:
        with session_scope() as db:
            if accounts.find_by_email(db, value) is not None:
                raise click.BadParameter(f"An account with this email already exists ({value}).")
    return value


def _problems(error: ma.ValidationError) -> str:
    messages = error.messages if isinstance(error.messages, dict) else {"input": error.messages}
    return "; ".join(f"{name}: {' '.join(map(str, problems))}" for name, problems in messages.items())


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(text) for text in column) for column in zip(headers, *rows)]
    lines = [headers, tuple("-" * width for width in widths), *rows]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in lines)


def register_user_commands(app: Flask) -> None:
    @app.cli.group("users")
    def users() -> None:
        """Accounts: create, list, change roles, reset passwords."""

    @users.command("create")
    @click.option("--email", prompt=True, callback=_new_email)
    @click.option("--display-name", prompt=True, callback=_registration_check("display_name"))
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                  callback=_registration_check("password"), help="8 to 128 characters (prompted, hidden, if absent).")
    @click.option("--role", type=click.Choice(admin.ROLES), default="learner", show_default=True, prompt=True)
    @click.option("--level", type=click.Choice(cefr.LEVELS, case_sensitive=False), default="A1",
                  show_default=True, prompt=True)
    @click.option("--native-language", default="", prompt="Native language (ISO 639 code, empty for none)",
                  callback=_optional_language, help="Two or three letters, e.g. en.")
    @click.option("--timezone", default="UTC", show_default=True, help="An IANA time zone, e.g. Europe/Paris.")
    def create_user(email: str, display_name: str, password: str, role: str, level: str,
                    native_language: str | None, timezone: str) -> None:
        """Create an account (prompts for what the flags do not give). Prints its id."""
        from api.auth.schemas import RegisterSchema

        try:
            fields = RegisterSchema().load({"email": email, "display_name": display_name, "password": password,
                                            "level": level, "native_language": native_language,
                                            "timezone": timezone})
        except ma.ValidationError as error:
            raise click.ClickException(f"Invalid account: {_problems(error)}") from None
        try:
            with session_scope() as db:
                user = admin.create_user(db, role=role, **fields)
                user_id, user_email = user.id, user.email
        except (Conflict, Invalid) as problem:
            raise click.ClickException(f"{problem.message} ({fields['email']})") from None
        click.echo(f"created {role} {user_email}", err=True)
        click.echo(str(user_id))

    @users.command("list")
    @click.option("--role", type=click.Choice(admin.ROLES), help="Only accounts with this role.")
    @click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
    def list_users(role: str | None, limit: int) -> None:
        """Accounts, newest first."""
        with session_scope() as db:
            found, total = admin.list_users(db, role=role, per_page=limit)
            rows = [(str(u.id), u.email, u.display_name, u.role, u.level, u.created_at.isoformat(timespec="seconds"))
                    for u in found]
        click.echo(_table(("id", "email", "display name", "role", "level", "created_at"), rows))
        click.echo(f"{len(rows)} of {total} account{'s' if total != 1 else ''}")

    @users.command("set-role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(admin.ROLES))
    def set_role(email: str, role: str) -> None:
        """Give an account a role (learner, teacher or admin); it applies from the account's next request."""
        try:
            with session_scope() as db:
                user, previous = admin.set_role(db, email=email, role=role)
                user_email = user.email
        except NotFound as problem:
            raise click.ClickException(problem.message) from None
        if previous == role:
            click.echo(f"{user_email} is already {role}")
        else:
            click.echo(f"{user_email}: {previous} -> {role}")

    @users.command("reset-password")
    @click.argument("email")
    @click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
                  callback=_registration_check("password"), help="8 to 128 characters (prompted, hidden, if absent).")
    def reset_password(email: str, password: str) -> None:
        """Set a new password for an account, without the current one."""
        try:
            with session_scope() as db:
                user = admin.reset_password(db, email=email, new_password=password)
                user_email = user.email
        except (NotFound, Unavailable) as problem:
            raise click.ClickException(problem.message) from None
        click.echo(f"password reset for {user_email}; every token issued before is revoked")

    def quota_options(command):
        """One --<limit> option per quota (domain/quotas.py LIMIT_NAMES)."""
        for name in reversed(quotas.LIMIT_NAMES):
            command = click.option(f"--{name.replace('_', '-')}", name, type=click.IntRange(min=0),
                                   help=f"QUOTA_{name.upper()} for this learner.")(command)
        return command

    @users.command("set-quota")
    @click.argument("email")
    @quota_options
    @click.option("--reset", "reset_names", multiple=True, type=click.Choice(quotas.LIMIT_NAMES),
                  help="Back to the default for this limit (repeatable).")
    def set_quota(email: str, reset_names: tuple[str, ...], **limits: int | None) -> None:
        """Change one learner's quotas, e.g. `--turns-per-day 5000 --tokens-per-day 2000000`.
        Every web and worker process applies it within QUOTA_OVERRIDE_CACHE_SECONDS; a raised
        limit starts a fresh count. Without options, shows the learner's quotas."""
        changes: dict[str, int | None] = {name: value for name, value in limits.items() if value is not None}
        changes |= {name: None for name in reset_names}
        try:
            with session_scope() as db:
                _, overrides = quotas.set_overrides(db, email=email, values=changes)
        except NotFound as problem:
            raise click.ClickException(problem.message) from None
        defaults = quotas.default_limits(get_settings())
        rows = [(name, str(overrides.get(name, defaults[name])), "set" if name in overrides else "default")
                for name in quotas.LIMIT_NAMES]
        click.echo(_table(("quota", "limit", "source"), rows))


# --- turns ------------------------------------------------------------------------------

def register_turn_commands(app: Flask) -> None:
    @app.cli.group("turns")
    def turns_group() -> None:
        """Turns in the pipeline."""

    @turns_group.command("requeue")
    @click.option("--stuck", is_flag=True, help="Requeue every turn still pending after --older-than seconds.")
    @click.option("--older-than", type=click.FloatRange(min=0), default=60.0, show_default=True,
                  help="Seconds since the turn was submitted.")
    @click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True,
                  help="At most this many turns, oldest first (run again for more).")
    @click.option("-v", "--verbose", is_flag=True, help="List the requeued turns' ids.")
    def requeue(stuck: bool, older_than: float, limit: int, verbose: bool) -> None:
        """Publish the work of stuck turns again (after an incident: a lost broker, dead workers).

        Each turn's outbox entry is written again if it is missing, then its stage tasks are
        sent, as the sweeper does; the tasks are idempotent, so a turn already in progress
        is not harmed."""
        if not stuck:
            raise click.UsageError("Say which turns to requeue: --stuck.")
        from workers.dispatch import dispatch

        report = outbox.requeue_stuck_turns(session_scope, dispatch, older_than_seconds=older_than, limit=limit)
        count = len(report.requeued)
        click.echo(f"requeued {count} stuck turn{'' if count == 1 else 's'} (pending for more than {older_than:g} s)")
        if report.outbox_recreated:
            click.echo(f"  {report.outbox_recreated} had lost their outbox entry: written again")
        if report.overdue:
            click.echo(f"  {report.overdue} were past their deadline (the sweeper fails those a worker does not "
                       "finish first)")
        if report.pruned:
            click.echo(f"  removed {report.pruned} outbox entr{'y' if report.pruned == 1 else 'ies'} of finished "
                       "turns")
        if verbose:
            for turn_id in report.requeued:
                click.echo(str(turn_id))
        if report.unpublished:
            raise click.ClickException(
                f"{len(report.unpublished)} turn(s) could not be published (is the broker up?); their outbox "
                "entries remain, so the sweeper sends them once it is: " + ", ".join(map(str, report.unpublished)))


def register_outbox_commands(app: Flask) -> None:
    @app.cli.group("outbox")
    def outbox_group() -> None:
        """Work waiting to reach the broker, and work given up on."""

    @outbox_group.command("list")
    @click.option("--dead", is_flag=True, help="The entries given up on (OUTBOX_MAX_ATTEMPTS), not those waiting.")
    @click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
    def list_entries(dead: bool, limit: int) -> None:
        """Outbox entries, oldest first."""
        with session_scope() as db:
            rows = [(str(entry.id), entry.kind, str(entry.ref_id), entry.created_at.isoformat(timespec="seconds"),
                     str(entry.publish_attempts), str(entry.claims - entry.claims_at_retry),
                     entry.dead_reason or "") for entry in outbox.entries(db, dead=dead, limit=limit)]
        if not rows:
            click.echo("no dead entries" if dead else "no entries waiting")
            return
        click.echo(_table(("id", "kind", "ref_id", "created_at", "sent", "started", "reason"), rows))

    @outbox_group.command("retry")
    @click.argument("entry_id", type=click.IntRange(min=1))
    def retry(entry_id: int) -> None:
        """Put a dead entry back: the next sweep sends it, with fresh attempts."""
        with session_scope() as db:
            entry = outbox.revive(db, entry_id)
            if entry is None:
                raise click.ClickException(f"no dead outbox entry {entry_id} (flask outbox list --dead)")
            kind, ref_id = entry.kind, entry.ref_id
        click.echo(f"outbox entry {entry_id} ({kind} {ref_id}) will be sent at the next sweep")
