"""review days: the review log by learner and local day, for the progress analytics

Revision ID: 5f668fcc4175
Revises: ab87ddc56ce2
Create Date: 2026-12-06 05:20:00

`review_days` holds each learner's reviews by local day (counts, and the changes of cards
by state and of words known), kept by each review (domain/analytics.py count_review);
`review_days_built` what they were built with (time zone, known threshold). Backfilled
from review_logs with the same rule as domain/analytics.py's rebuild.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '5f668fcc4175'
down_revision: Union[str, Sequence[str], None] = 'ab87ddc56ce2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# WORDS_KNOWN_STABILITY_DAYS' default: a learner read with another setting is rebuilt on that read.
KNOWN_STABILITY_DAYS = 21.0


def upgrade() -> None:
    op.create_table(
        'review_days',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            'reviews', 'from_conversation', 'recall_attempts', 'recalled', 'learning', 'review', 'relearning',
            'known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'day'),
    )
    op.create_table(
        'review_days_built',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('known_stability_days', sa.Float(), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.execute(sa.text("""
        INSERT INTO review_days (user_id, day, reviews, from_conversation, recall_attempts, recalled, learning,
                                 review, relearning, known)
        SELECT user_id, day, count(*),
               count(*) FILTER (WHERE source = 'conversation'),
               count(*) FILTER (WHERE previous_state = 2),
               count(*) FILTER (WHERE previous_state = 2 AND rating > 1),
               count(*) FILTER (WHERE state_after = 1) - count(*) FILTER (WHERE state_before = 1),
               count(*) FILTER (WHERE state_after = 2) - count(*) FILTER (WHERE state_before = 2),
               count(*) FILTER (WHERE state_after = 3) - count(*) FILTER (WHERE state_before = 3),
               count(*) FILTER (WHERE known_after) - count(*) FILTER (WHERE known_before)
        FROM (SELECT r.user_id, CAST(timezone(u.timezone, r.reviewed_at) AS date) - DATE '1970-01-01' AS day,
                     r.source, r.previous_state, r.rating, r.state_after,
                     r.stability_after >= :known AS known_after,
                     lag(r.state_after) OVER card AS state_before,
                     lag(r.stability_after) OVER card >= :known AS known_before
              FROM review_logs r JOIN users u ON u.id = r.user_id
              WINDOW card AS (PARTITION BY r.user_id, r.word_id ORDER BY r.reviewed_at, r.id)) logs
        GROUP BY user_id, day
    """).bindparams(known=KNOWN_STABILITY_DAYS))
    op.execute(sa.text("""
        INSERT INTO review_days_built (user_id, timezone, known_stability_days, built_at)
        SELECT id, timezone, :known, now() FROM users
    """).bindparams(known=KNOWN_STABILITY_DAYS))


def downgrade() -> None:
    op.drop_table('review_days_built')
    op.drop_table('review_days')
