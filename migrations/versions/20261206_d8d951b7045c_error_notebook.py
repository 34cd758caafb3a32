"""error notebook

Revision ID: d8d951b7045c
Revises: f6964bfeebb4
Create Date: 2026-12-06 04:20:00

The error notebook (domain/notebook.py): a learner's error patterns with their
occurrences (one per turn), the FSRS state of the patterns that became cards, and the
reviews of those cards.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'd8d951b7045c'
down_revision: Union[str, Sequence[str], None] = 'f6964bfeebb4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'error_patterns',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('wrong', sa.Text(), nullable=False),
        sa.Column('fix', sa.Text(), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('occurrences', sa.Integer(), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('became_card_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('card_state', sa.SmallInteger(), nullable=True),
        sa.Column('step', sa.SmallInteger(), nullable=True),
        sa.Column('stability', sa.Float(), nullable=True),
        sa.Column('difficulty', sa.Float(), nullable=True),
        sa.Column('due', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_review', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reps', sa.Integer(), nullable=False),
        sa.Column('lapses', sa.Integer(), nullable=False),
        sa.CheckConstraint("state IN ('watching', 'card', 'retired')", name='state_known'),
        sa.CheckConstraint('card_state IS NULL OR card_state IN (1, 2, 3)', name='card_state_known'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_error_patterns_user_key'),
    )
    op.create_index('ix_error_patterns_user_seen', 'error_patterns', ['user_id', 'last_seen_at'])
    op.create_index('ix_error_patterns_cards_due', 'error_patterns', ['user_id', 'due'],
                    postgresql_where=sa.text("state = 'card'"))
    op.create_table(
        'error_occurrences',
        sa.Column('pattern_id', sa.Uuid(), nullable=False),
        sa.Column('turn_id', sa.Uuid(), nullable=False),
        sa.Column('example', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pattern_id'], ['error_patterns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['turn_id'], ['turns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pattern_id', 'turn_id'),
    )
    op.create_table(
        'error_reviews',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('pattern_id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('rating', sa.SmallInteger(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('client_review_id', sa.String(length=64), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('correct', sa.Boolean(), nullable=True),
        sa.Column('result', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint('rating BETWEEN 1 AND 4', name='rating_known'),
        sa.ForeignKeyConstraint(['pattern_id'], ['error_patterns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_error_reviews_client_review_id', 'error_reviews', ['user_id', 'client_review_id'],
                    unique=True, postgresql_where=sa.text('client_review_id IS NOT NULL'))
    op.create_index('ix_error_reviews_pattern', 'error_reviews', ['pattern_id', 'reviewed_at'])


def downgrade() -> None:
    op.drop_index('ix_error_reviews_pattern', table_name='error_reviews')
    op.drop_index('uq_error_reviews_client_review_id', table_name='error_reviews')
    op.drop_table('error_reviews')
    op.drop_table('error_occurrences')
    op.drop_index('ix_error_patterns_cards_due', table_name='error_patterns')
    op.drop_index('ix_error_patterns_user_seen', table_name='error_patterns')
    op.drop_table('error_patterns')
