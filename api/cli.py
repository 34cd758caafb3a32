"""Flask CLI commands (`flask --app api:create_app <command>`)."""
from __future__ import annotations

import click
from flask import Flask

from domain import accounts
from domain.db import session_scope


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--email", default="demo@parlons.local", show_default=True)
    @click.option("--password", default="parlons-demo", show_default=True)
    def seed_demo(email: str, password: str) -> None:
        """Create the demo learner if it does not exist yet (idempotent)."""
        with session_scope() as db:
            if accounts.find_by_email(db, email) is None:
                accounts.register(db, email=email, password=password, display_name="Demo Learner", level="A2",
                                  native_language="en", timezone="Europe/Paris")
                click.echo(f"created demo learner {email}")
            else:
                click.echo(f"demo learner {email} already exists")
