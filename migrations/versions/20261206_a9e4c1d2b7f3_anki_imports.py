"""anki: imports of Anki decks and CSV, and learners' own imported words

Revision ID: a9e4c1d2b7f3
Revises: 3a9c5e7d1b20
Create Date: 2026-12-06 12:05:00

`anki_imports` holds each upload (the file itself only until a task imports it) and its
result; `learner_words` the imported words the vocabulary does not have, each with its
FSRS state (domain/anki.py).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'a9e4c1d2b7f3'
down_revision: Union[str, Sequence[str], None] = '3a9c5e7d1b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'anki_imports',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=True),
        sa.Column('result', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
        sa.Column('error', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("format IN ('apkg', 'csv')", name='format_known'),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name='status_known'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_anki_imports_user_created', 'anki_imports', ['user_id', 'created_at'])
    op.create_table(
        'learner_words',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('front', sa.String(length=255), nullable=False),
        sa.Column('front_key', sa.String(length=255), nullable=False),
        sa.Column('back', sa.Text(), nullable=False),
        sa.Column('state', sa.SmallInteger(), nullable=False),
        sa.Column('step', sa.SmallInteger(), nullable=True),
        sa.Column('stability', sa.Float(), nullable=True),
        sa.Column('difficulty', sa.Float(), nullable=True),
        sa.Column('due', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_review', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reps', sa.Integer(), nullable=False),
        sa.Column('lapses', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('state IN (1, 2, 3)', name='state_known'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'front_key', name='uq_learner_words_user_front'),
    )


def downgrade() -> None:
    op.drop_table('learner_words')
    op.drop_index('ix_anki_imports_user_created', table_name='anki_imports')
    op.drop_table('anki_imports')
