"""users.email_verified_at (email verification); existing accounts count as verified

Revision ID: a0d4b5c6e7f8
Revises: d7a1e2f3b4c5
Create Date: 2026-12-06 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a0d4b5c6e7f8"
down_revision = "d7a1e2f3b4c5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    # Accounts made before verification existed are trusted: turning
    # REQUIRE_EMAIL_VERIFICATION on must not lock any of them out.
    op.execute("UPDATE users SET email_verified_at = now()")


def downgrade() -> None:
    op.drop_column("users", "email_verified_at")
