"""dead letters and announcements

Revision ID: 5e8a0c3d7b21
Revises: 4c1d2e8f9a10
Create Date: 2026-12-05 22:20:00

Outbox entries whose work keeps failing stop after OUTBOX_MAX_ATTEMPTS (`dead_at`, with
the reason) until an operator retries them; `claims_at_retry` lets a retried entry count
its claims afresh without reusing a claim number.

Turns, hints and journey answers record when their final event (`turn_result`, `hint`,
`journey_scored`) was published, as penpal replies already do, so the sweeper can
announce again what a Redis blip lost. Rows finished before this revision count as
announced.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '5e8a0c3d7b21'
down_revision: Union[str, Sequence[str], None] = '4c1d2e8f9a10'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_ANNOUNCED = (  # table, the column set when it is finished, what "finished" means
    ('turns', 'completed_at', "status <> 'pending'"),
    ('hints', 'completed_at', 'completed_at IS NOT NULL'),
    ('journey_answers', 'scored_at', 'scored_at IS NOT NULL'),
)


def upgrade() -> None:
    op.add_column('outbox', sa.Column('dead_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('outbox', sa.Column('dead_reason', sa.String(200), nullable=True))
    op.add_column('outbox', sa.Column('claims_at_retry', sa.Integer(), server_default='0', nullable=False))
    for table, finished_at, finished in _ANNOUNCED:
        op.add_column(table, sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f"UPDATE {table} SET announced_at = {finished_at} WHERE {finished}")
        op.create_index(f'ix_{table}_unannounced', table, [finished_at],
                        postgresql_where=sa.text(f'announced_at IS NULL AND {finished}'))


def downgrade() -> None:
    for table, _, _ in _ANNOUNCED:
        op.drop_index(f'ix_{table}_unannounced', table_name=table)
        op.drop_column(table, 'announced_at')
    op.drop_column('outbox', 'claims_at_retry')
    op.drop_column('outbox', 'dead_reason')
    op.drop_column('outbox', 'dead_at')
