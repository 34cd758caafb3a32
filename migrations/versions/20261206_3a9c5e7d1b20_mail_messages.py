"""mail messages and data exports (domain/mail.py, domain/data_export.py)

Revision ID: 3a9c5e7d1b20
Revises: 5f668fcc4175
Create Date: 2026-12-06 12:05:00

One row per queued email, rendered at queue time, removed when the SMTP server accepted
it; its outbox entry (kind `mail`) carries the retries. data_exports: a learner's archive,
served once. user_id cascades with the account.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '3a9c5e7d1b20'
down_revision: Union[str, Sequence[str], None] = '5f668fcc4175'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'mail_messages',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('template', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_messages_user_id', 'mail_messages', ['user_id'])
    op.create_table(
        'data_exports',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('archive', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_data_exports_user_id', 'data_exports', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_data_exports_user_id', table_name='data_exports')
    op.drop_table('data_exports')
    op.drop_index('ix_mail_messages_user_id', table_name='mail_messages')
    op.drop_table('mail_messages')
