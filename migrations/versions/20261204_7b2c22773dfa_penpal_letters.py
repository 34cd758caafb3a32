"""penpal letters

Revision ID: 7b2c22773dfa
Revises: 765d3a32eb0d
Create Date: 2026-12-04 18:58:42.094247

Penpal letters: a learner's letters to a character and the character's replies, each
reply held until its `deliver_at` and delivered by a beat job.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '7b2c22773dfa'
down_revision: Union[str, Sequence[str], None] = '765d3a32eb0d'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('penpal_letters',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('character_id', sa.String(length=64), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('in_reply_to', sa.Uuid(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('analysis', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('corrections', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=True),
    sa.Column('degraded', sa.Boolean(), nullable=False),
    sa.Column('write_attempts', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deliver_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(author = 'learner') = (in_reply_to IS NULL)", name='replies_answer_a_letter'),
    sa.CheckConstraint("author IN ('learner', 'character')", name='author_known'),
    sa.ForeignKeyConstraint(['in_reply_to'], ['penpal_letters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('in_reply_to')
    )
    op.create_index('ix_penpal_letters_thread', 'penpal_letters', ['user_id', 'character_id', 'delivered_at'], unique=False)
    op.create_index('ix_penpal_letters_unannounced', 'penpal_letters', ['delivered_at'], unique=False, postgresql_where=sa.text("author = 'character' AND delivered_at IS NOT NULL AND announced_at IS NULL"))
    op.create_index('ix_penpal_letters_undelivered', 'penpal_letters', ['deliver_at'], unique=False, postgresql_where=sa.text('delivered_at IS NULL'))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_penpal_letters_undelivered', table_name='penpal_letters', postgresql_where=sa.text('delivered_at IS NULL'))
    op.drop_index('ix_penpal_letters_unannounced', table_name='penpal_letters', postgresql_where=sa.text("author = 'character' AND delivered_at IS NOT NULL AND announced_at IS NULL"))
    op.drop_index('ix_penpal_letters_thread', table_name='penpal_letters')
    op.drop_table('penpal_letters')
