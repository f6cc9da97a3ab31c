"""Messages in the curators' channel, and which one shows each logged question.

Revision ID: 0004_curator_posts
Revises: 0003_role_holders
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_curator_posts"
down_revision: str | Sequence[str] | None = "0003_role_holders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "curator_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curator_posts")),
    )
    op.create_index(op.f("ix_curator_posts_closed_at"), "curator_posts", ["closed_at"])
    op.add_column("unanswered_questions", sa.Column("curator_post_id", sa.Integer(), nullable=True))
    op.create_index(
        op.f("ix_unanswered_questions_curator_post_id"),
        "unanswered_questions",
        ["curator_post_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_unanswered_questions_curator_post_id"), table_name="unanswered_questions"
    )
    op.drop_column("unanswered_questions", "curator_post_id")  # SQLite 3.35+: native
    op.drop_index(op.f("ix_curator_posts_closed_at"), table_name="curator_posts")
    op.drop_table("curator_posts")
