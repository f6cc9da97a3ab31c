"""Initial schema: unanswered log, feedback, answer counts, processed events, channel settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.String(length=128), nullable=True),
        sa.Column("channel_id", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("best_entry_id", sa.String(length=80), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("suggested_role", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_entry_id", sa.String(length=80), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('mention', 'dm', 'command', 'listen', 'wrong_role')",
            name=op.f("ck_unanswered_questions_source"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'promoted', 'dismissed')",
            name=op.f("ck_unanswered_questions_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
        sa.UniqueConstraint("client_id", name=op.f("uq_unanswered_questions_client_id")),
        sa.UniqueConstraint("event_id", name=op.f("uq_unanswered_questions_event_id")),
    )
    op.create_index(
        op.f("ix_unanswered_questions_channel_id"), "unanswered_questions", ["channel_id"]
    )
    op.create_index(
        op.f("ix_unanswered_questions_created_at"), "unanswered_questions", ["created_at"]
    )
    op.create_index(op.f("ix_unanswered_questions_status"), "unanswered_questions", ["status"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("role_instead", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("client_id", name=op.f("uq_feedback_client_id")),
    )
    op.create_index(op.f("ix_feedback_created_at"), "feedback", ["created_at"])
    op.create_index(op.f("ix_feedback_entry_id"), "feedback", ["entry_id"])

    op.create_table(
        "answer_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "outcome", "entry_id", name=op.f("pk_answer_counts")),
    )

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_index(op.f("ix_processed_events_claimed_at"), "processed_events", ["claimed_at"])

    op.create_table(
        "channel_settings",
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("listen", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_settings")),
    )


def downgrade() -> None:
    op.drop_table("channel_settings")
    op.drop_index(op.f("ix_processed_events_claimed_at"), table_name="processed_events")
    op.drop_table("processed_events")
    op.drop_table("answer_counts")
    op.drop_index(op.f("ix_feedback_entry_id"), table_name="feedback")
    op.drop_index(op.f("ix_feedback_created_at"), table_name="feedback")
    op.drop_table("feedback")
    op.drop_index(op.f("ix_unanswered_questions_status"), table_name="unanswered_questions")
    op.drop_index(op.f("ix_unanswered_questions_created_at"), table_name="unanswered_questions")
    op.drop_index(op.f("ix_unanswered_questions_channel_id"), table_name="unanswered_questions")
    op.drop_table("unanswered_questions")
