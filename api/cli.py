"""Flask CLI commands (`flask --app api:create_app <command>`)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from domain import accounts, vocabulary
from domain.db import session_scope
from domain.errors import Invalid

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
                                  native_language="en", timezone="Europe/Paris")
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
            from domain.vocabulary_sample import sample_rows

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
