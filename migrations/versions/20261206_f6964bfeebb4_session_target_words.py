"""session target words

Revision ID: f6964bfeebb4
Revises: 9e3b7a5c2d41
Create Date: 2026-12-06 04:20:00

The words a session currently offers the learner (`chat_sessions.target_words`: due
cards, then a few new words, domain/srs/targets.py) and, per turn, the ones offered when
the learner wrote it (`turns.target_words`), each as {word_id, lemma, translation}.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'f6964bfeebb4'
down_revision: Union[str, Sequence[str], None] = '9e3b7a5c2d41'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ('chat_sessions', 'turns'):
        op.add_column(table, sa.Column('target_words', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                                       server_default=sa.text("'[]'::jsonb")))


def downgrade() -> None:
    for table in ('turns', 'chat_sessions'):
        op.drop_column(table, 'target_words')
