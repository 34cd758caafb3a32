"""progress analytics: weekly reports, achievements

Revision ID: ab87ddc56ce2
Revises: dc00c76619a2
Create Date: 2026-12-06 04:20:00

A learner's stored weekly reports and unlocked achievements; an index on a learner's
turns by time (turns and minutes per day); each review's result state and stability as
generated columns, covered by the card index (cards by state and words known over time).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'ab87ddc56ce2'
down_revision: Union[str, Sequence[str], None] = 'dc00c76619a2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'weekly_reports',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('week_start', sa.Date(), nullable=False),
        sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'week_start', name='uq_weekly_reports_user_week'),
    )
    op.create_table(
        'user_achievements',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('unlocked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'code'),
    )
    op.create_index('ix_turns_user_created', 'turns', ['user_id', 'created_at'])
    # Each review's result state and stability as columns PostgreSQL computes, and the card
    # index covering them: the analytics read a learner's whole log from the index alone.
    op.add_column('review_logs', sa.Column('state_after', sa.SmallInteger(), sa.Computed(
        "CASE result ->> 'state' WHEN 'learning' THEN 1 WHEN 'review' THEN 2 WHEN 'relearning' THEN 3 END",
        persisted=True), nullable=True))
    op.add_column('review_logs', sa.Column('stability_after', sa.Float(), sa.Computed(
        "CAST(result ->> 'stability' AS float8)", persisted=True), nullable=True))
    op.drop_index('ix_review_logs_card', table_name='review_logs')
    op.create_index('ix_review_logs_card', 'review_logs', ['user_id', 'word_id', 'reviewed_at'],
                    postgresql_include=['previous_state', 'rating', 'source', 'state_after', 'stability_after'])


def downgrade() -> None:
    op.drop_index('ix_review_logs_card', table_name='review_logs')
    op.create_index('ix_review_logs_card', 'review_logs', ['user_id', 'word_id', 'reviewed_at'])
    op.drop_column('review_logs', 'stability_after')
    op.drop_column('review_logs', 'state_after')
    op.drop_index('ix_turns_user_created', table_name='turns')
    op.drop_table('user_achievements')
    op.drop_table('weekly_reports')
