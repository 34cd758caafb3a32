"""classes and class memberships (teachers)

Revision ID: c1a55e5c0de1
Revises: 3b9d2f7e1c55
Create Date: 2026-12-06 12:05:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c1a55e5c0de1"
down_revision = "3b9d2f7e1c55"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("teacher_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("invite_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["teacher_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_code"),
    )
    op.create_index("ix_classes_teacher_id", "classes", ["teacher_id"])
    op.create_table(
        "class_memberships",
        sa.Column("class_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["classes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("class_id", "user_id"),
    )
    op.create_index("ix_class_memberships_user_id", "class_memberships", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_class_memberships_user_id", table_name="class_memberships")
    op.drop_table("class_memberships")
    op.drop_index("ix_classes_teacher_id", table_name="classes")
    op.drop_table("classes")
