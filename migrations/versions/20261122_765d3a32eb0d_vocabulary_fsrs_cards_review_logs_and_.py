"""vocabulary, FSRS cards, review logs and learner parameters

Revision ID: 765d3a32eb0d
Revises: f76c1e9b3fdd
Create Date: 2026-11-22 13:49:33.222461

The vocabulary (seeded by `flask vocab seed`), each learner's FSRS card per word with
every review logged, the learner's own fitted parameters, and their desired retention.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '765d3a32eb0d'
down_revision: Union[str, Sequence[str], None] = 'f76c1e9b3fdd'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('vocabulary',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lemma', sa.String(length=64), nullable=False),
    sa.Column('pos', sa.String(length=16), nullable=False),
    sa.Column('gender', sa.String(length=2), nullable=True),
    sa.Column('translation', sa.String(length=255), nullable=False),
    sa.Column('frequency_rank', sa.Integer(), nullable=False),
    sa.Column('cefr_level', sa.String(length=2), nullable=False),
    sa.Column('example', sa.Text(), nullable=False),
    sa.CheckConstraint("cefr_level IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2')", name='cefr_level_known'),
    sa.CheckConstraint("gender IS NULL OR gender IN ('m', 'f', 'mf')", name='gender_known'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lemma', 'pos', name='uq_vocabulary_lemma_pos')
    )
    op.create_index('ix_vocabulary_level_rank', 'vocabulary', ['cefr_level', 'frequency_rank'], unique=False)
    op.create_index('ix_vocabulary_rank', 'vocabulary', ['frequency_rank'], unique=False)
    op.create_table('cards',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('word_id', sa.Integer(), nullable=False),
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
    sa.ForeignKeyConstraint(['word_id'], ['vocabulary.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'word_id')
    )
    op.create_index('ix_cards_user_due', 'cards', ['user_id', 'due'], unique=False,
                    postgresql_include=['word_id', 'last_review', 'stability'])
    # The queue reads that index alone while the visibility map says its pages are
    # all-visible; reviews keep dirtying them, so vacuum cards often.
    op.execute("ALTER TABLE cards SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500)")
    op.create_table('learner_parameters',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('parameters', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=False),
    sa.Column('adopted', sa.Boolean(), nullable=False),
    sa.Column('metrics', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=False),
    sa.Column('fitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('review_logs',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('word_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('client_review_id', sa.String(length=64), nullable=True),
    sa.Column('turn_id', sa.Uuid(), nullable=True),
    sa.Column('previous_state', sa.SmallInteger(), nullable=False),
    sa.Column('result', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("source IN ('review', 'conversation')", name='source_known'),
    sa.CheckConstraint('rating BETWEEN 1 AND 4', name='rating_known'),
    sa.ForeignKeyConstraint(['user_id', 'word_id'], ['cards.user_id', 'cards.word_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_review_logs_card', 'review_logs', ['user_id', 'word_id', 'reviewed_at'], unique=False)
    op.create_index('ix_review_logs_user_reviewed', 'review_logs', ['user_id', 'reviewed_at'], unique=False)
    op.create_index('uq_review_logs_client_review_id', 'review_logs', ['user_id', 'client_review_id'], unique=True, postgresql_where=sa.text('client_review_id IS NOT NULL'))
    op.add_column('users', sa.Column('desired_retention', sa.Float(), server_default=sa.text('0.9'), nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('users', 'desired_retention')
    op.drop_index('uq_review_logs_client_review_id', table_name='review_logs', postgresql_where=sa.text('client_review_id IS NOT NULL'))
    op.drop_index('ix_review_logs_user_reviewed', table_name='review_logs')
    op.drop_index('ix_review_logs_card', table_name='review_logs')
    op.drop_table('review_logs')
    op.drop_table('learner_parameters')
    op.drop_index('ix_cards_user_due', table_name='cards')
    op.drop_table('cards')
    op.drop_index('ix_vocabulary_rank', table_name='vocabulary')
    op.drop_index('ix_vocabulary_level_rank', table_name='vocabulary')
    op.drop_table('vocabulary')
