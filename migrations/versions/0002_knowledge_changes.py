"""Curated knowledge changes shared by every replica; telling the asker once.

Revision ID: 0002_knowledge_changes
Revises: 0001
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_knowledge_changes"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("distinction", sa.String(length=16), nullable=True),
        sa.Column("phrasings", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("question_ids", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('new_entry', 'add_phrasings', 'set_answer')",
            name=op.f("ck_knowledge_changes_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_changes")),
    )
    op.create_index(op.f("ix_knowledge_changes_entry_id"), "knowledge_changes", ["entry_id"])
    op.add_column(
        "unanswered_questions",
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Questions resolved before this revision were never announced: do not announce them now.
    op.execute(
        "UPDATE unanswered_questions SET notified_at = resolved_at WHERE status = 'promoted'"
    )


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("notified_at")
    op.drop_index(op.f("ix_knowledge_changes_entry_id"), table_name="knowledge_changes")
    op.drop_table("knowledge_changes")
