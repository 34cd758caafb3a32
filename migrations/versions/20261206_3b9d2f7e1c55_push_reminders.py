"""push reminders: Web Push subscriptions, reminder settings and the reminders sent

Revision ID: 3b9d2f7e1c55
Revises: a9e4c1d2b7f3
Create Date: 2026-12-06 12:05:00

`push_subscriptions` holds each browser's PushSubscription (unique on its endpoint);
`reminder_settings` a learner's choices (no row: the defaults); `reminders_sent` one row
per learner and local date, the claim that makes the streak reminder once a day.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '3b9d2f7e1c55'
down_revision: Union[str, Sequence[str], None] = 'a9e4c1d2b7f3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('endpoint', sa.String(length=2048), nullable=False),
        sa.Column('p256dh', sa.String(length=200), nullable=False),
        sa.Column('auth', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint'),
    )
    op.create_index('ix_push_subscriptions_user', 'push_subscriptions', ['user_id'])
    op.create_table(
        'reminder_settings',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('reminders_enabled', sa.Boolean(), nullable=False),
        sa.Column('reminder_hour', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('reminder_hour BETWEEN 0 AND 23', name='hour_of_day'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'reminders_sent',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('local_date', sa.Date(), nullable=False),
        sa.Column('channels', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'local_date'),
    )


def downgrade() -> None:
    op.drop_table('reminders_sent')
    op.drop_table('reminder_settings')
    op.drop_index('ix_push_subscriptions_user', table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
