"""journey answers

Revision ID: e36cba1cd696
Revises: 7b2c22773dfa
Create Date: 2026-12-04 19:07:23.595058

A learner's answers to the journey's questions, each scored once by the llm worker.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = 'e36cba1cd696'
down_revision: Union[str, Sequence[str], None] = '7b2c22773dfa'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('journey_answers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('question_id', sa.String(length=80), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('analysis', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('result', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=True),
    sa.Column('degraded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 0 AND 100', name='score_in_range'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_journey_answers_user_question', 'journey_answers', ['user_id', 'question_id', 'score'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_journey_answers_user_question', table_name='journey_answers')
    op.drop_table('journey_answers')
