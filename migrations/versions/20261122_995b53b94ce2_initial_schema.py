"""initial schema

Revision ID: 995b53b94ce2
Revises: 
Tables for accounts, chat sessions, turns, messages and the outbox.

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '995b53b94ce2'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ref_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publish_attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'ref_id', name='uq_outbox_kind_ref')
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('target_language', sa.String(length=8), nullable=False),
    sa.Column('native_language', sa.String(length=8), nullable=True),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('xp', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('chat_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('character_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('xp', sa.Integer(), nullable=False),
    sa.Column('turn_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mode IN ('story', 'sandbox')", name='mode_known'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_chat_sessions_user_activity', 'chat_sessions', ['user_id', 'last_activity_at'], unique=False)
    op.create_table('turns',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('client_message_id', sa.String(length=64), nullable=True),
    sa.Column('suggested_word_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('grammar', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('moderation', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('reply_provider', sa.String(length=32), nullable=True),
    sa.Column('reply_attempts', sa.Integer(), nullable=False),
    sa.Column('reply_lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('word_feedback', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('xp_awarded', sa.Integer(), nullable=False),
    sa.Column('degraded', sa.Boolean(), nullable=False),
    sa.Column('error', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'complete', 'failed')", name='status_known'),
    sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_turns_pending_deadline', 'turns', ['deadline_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_turns_session_created', 'turns', ['session_id', 'created_at'], unique=False)
    op.create_index('uq_turns_client_message_id', 'turns', ['session_id', 'client_message_id'], unique=True, postgresql_where=sa.text('client_message_id IS NOT NULL'))
    op.create_table('messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('turn_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('user', 'assistant')", name='role_known'),
    sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['turn_id'], ['turns.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('turn_id', 'role', name='uq_messages_turn_role')
    )
    op.create_index('ix_messages_session_created', 'messages', ['session_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_messages_session_created', table_name='messages')
    op.drop_table('messages')
    op.drop_index('uq_turns_client_message_id', table_name='turns', postgresql_where=sa.text('client_message_id IS NOT NULL'))
    op.drop_index('ix_turns_session_created', table_name='turns')
    op.drop_index('ix_turns_pending_deadline', table_name='turns', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('turns')
    op.drop_index('ix_chat_sessions_user_activity', table_name='chat_sessions')
    op.drop_table('chat_sessions')
    op.drop_table('users')
    op.drop_table('outbox')
