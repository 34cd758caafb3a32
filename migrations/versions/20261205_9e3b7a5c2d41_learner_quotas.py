"""learner quotas

Revision ID: 9e3b7a5c2d41
Revises: 5e8a0c3d7b21
Create Date: 2026-12-05 22:50:00

An admin's overrides of a learner's quotas (`flask users set-quota`), and why a turn
was answered offline (`turns.degraded_reason`, e.g. budget_exhausted).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '9e3b7a5c2d41'
down_revision: Union[str, Sequence[str], None] = '5e8a0c3d7b21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'learner_quotas',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('limits', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.add_column('turns', sa.Column('degraded_reason', sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column('turns', 'degraded_reason')
    op.drop_table('learner_quotas')
