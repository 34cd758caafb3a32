"""session lifecycle: status, end, recap; greeting turns

Revision ID: dc00c76619a2
Revises: ddf2ad9fdcc3
Create Date: 2026-12-06 04:20:00

A session is active, paused or ended (`chat_sessions.status`); ending it stores its
recap (`recap`, the summary GET /sessions/{id}/summary returns) and `ended_at`, and
`announced_at` records that its `session_summary` event was published (the sweeper
re-announces otherwise). A turn is a learner's message or the character's greeting
that opens a story session (`turns.kind`): at most one greeting per session.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'dc00c76619a2'
down_revision: Union[str, Sequence[str], None] = 'ddf2ad9fdcc3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('chat_sessions', sa.Column('status', sa.String(length=16), server_default='active',
                                             nullable=False))
    op.add_column('chat_sessions', sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('chat_sessions', sa.Column('recap', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('chat_sessions', sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint('status_known', 'chat_sessions', "status IN ('active', 'paused', 'ended')")
    op.create_index('ix_chat_sessions_open_activity', 'chat_sessions', ['last_activity_at'],
                    postgresql_where=sa.text("status <> 'ended'"))
    op.create_index('ix_chat_sessions_unannounced', 'chat_sessions', ['ended_at'],
                    postgresql_where=sa.text("announced_at IS NULL AND status = 'ended'"))
    op.add_column('turns', sa.Column('kind', sa.String(length=16), server_default='message', nullable=False))
    op.create_check_constraint('kind_known', 'turns', "kind IN ('message', 'greeting')")
    op.create_index('uq_turns_one_greeting', 'turns', ['session_id'], unique=True,
                    postgresql_where=sa.text("kind = 'greeting'"))


def downgrade() -> None:
    op.drop_index('uq_turns_one_greeting', table_name='turns')
    op.drop_constraint('kind_known', 'turns', type_='check')
    op.drop_column('turns', 'kind')
    op.drop_index('ix_chat_sessions_unannounced', table_name='chat_sessions')
    op.drop_index('ix_chat_sessions_open_activity', table_name='chat_sessions')
    op.drop_constraint('status_known', 'chat_sessions', type_='check')
    op.drop_column('chat_sessions', 'announced_at')
    op.drop_column('chat_sessions', 'recap')
    op.drop_column('chat_sessions', 'ended_at')
    op.drop_column('chat_sessions', 'status')
