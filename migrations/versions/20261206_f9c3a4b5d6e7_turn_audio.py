"""turn_audio: a spoken turn's recording, kept until it is transcribed

Revision ID: f9c3a4b5d6e7
Revises: e8b2f3a4c5d6
Create Date: 2026-12-06 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "f9c3a4b5d6e7"
down_revision = "e8b2f3a4c5d6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_audio",
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["turn_id"], ["turns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("turn_id"),
    )


def downgrade() -> None:
    op.drop_table("turn_audio")
