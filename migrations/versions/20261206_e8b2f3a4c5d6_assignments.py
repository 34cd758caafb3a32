"""assignments: journey units a teacher sets a class, and the assignment_due reminders sent

Revision ID: e8b2f3a4c5d6
Revises: c1a55e5c0de1
Create Date: 2026-12-06 20:00:00

`assignments` one unit per class with its due time; `assignment_reminders` one row per
assignment and student, the claim that makes the `assignment_due` reminder once.
"""
import sqlalchemy as sa
from alembic import op

revision = "e8b2f3a4c5d6"
down_revision = "c1a55e5c0de1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("class_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["classes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("class_id", "unit_id", name="uq_assignments_class_unit"),
    )
    op.create_index("ix_assignments_due_at", "assignments", ["due_at"])
    op.create_table(
        "assignment_reminders",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("channels", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assignment_id", "user_id"),
    )
    op.create_index("ix_assignment_reminders_user_id", "assignment_reminders", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_assignment_reminders_user_id", table_name="assignment_reminders")
    op.drop_table("assignment_reminders")
    op.drop_index("ix_assignments_due_at", table_name="assignments")
    op.drop_table("assignments")
