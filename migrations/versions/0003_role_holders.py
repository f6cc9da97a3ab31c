"""Role holders per channel (``/role set``) and the history of every change.

Revision ID: 0003_role_holders
Revises: 0002_knowledge_changes
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_role_holders"
down_revision: str | Sequence[str] | None = "0002_knowledge_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "role_holders",
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "role_id", "holder_id", name=op.f("pk_role_holders")),
    )
    op.create_table(
        "role_holder_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_holder_changes")),
    )
    op.create_index(
        op.f("ix_role_holder_changes_channel_id"), "role_holder_changes", ["channel_id"]
    )
    op.create_index(
        op.f("ix_role_holder_changes_changed_at"), "role_holder_changes", ["changed_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_role_holder_changes_changed_at"), table_name="role_holder_changes")
    op.drop_index(op.f("ix_role_holder_changes_channel_id"), table_name="role_holder_changes")
    op.drop_table("role_holder_changes")
    op.drop_table("role_holders")
