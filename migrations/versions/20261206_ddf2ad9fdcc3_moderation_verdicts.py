"""moderation verdicts

Revision ID: ddf2ad9fdcc3
Revises: d8d951b7045c
Create Date: 2026-12-06 04:20:00

The moderation verdict ({flagged, categories, source}) on what learners write besides
turns: a learner's penpal letter, a journey answer, a learner's voice transcript segment.
NULL until checked.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'ddf2ad9fdcc3'
down_revision: Union[str, Sequence[str], None] = 'd8d951b7045c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_TABLES = ('penpal_letters', 'journey_answers', 'transcript_segments')


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column('moderation', postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_column(table, 'moderation')
