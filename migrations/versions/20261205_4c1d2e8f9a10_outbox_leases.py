"""outbox leases

Revision ID: 4c1d2e8f9a10
Revises: e36cba1cd696
Create Date: 2026-12-05 09:30:00

A stage that calls a model first claims its outbox entry for a while (a lease), so a
re-sent or redelivered task finds the work taken and makes no second paid call. The
turn's own reply lease is replaced by its entry's.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '4c1d2e8f9a10'
down_revision: Union[str, Sequence[str], None] = 'e36cba1cd696'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('outbox', sa.Column('claims', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('turns', 'reply_lease_until')
    op.drop_column('turns', 'reply_attempts')


def downgrade() -> None:
    op.add_column('turns', sa.Column('reply_attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('turns', sa.Column('reply_lease_until', sa.DateTime(timezone=True), nullable=True))
    op.drop_column('outbox', 'claims')
    op.drop_column('outbox', 'lease_until')
