"""users.share_letters_with_teachers: a learner lets their classes' teachers read their letters

Revision ID: d7a1e2f3b4c5
Revises: f9c3a4b5d6e7
Create Date: 2026-12-06 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "d7a1e2f3b4c5"
down_revision = "f9c3a4b5d6e7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("share_letters_with_teachers", sa.Boolean(), server_default=sa.false(),
                                     nullable=False))


def downgrade() -> None:
    op.drop_column("users", "share_letters_with_teachers")
