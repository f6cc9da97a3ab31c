"""The database tables, as SQLAlchemy 2 typed models.

The migrations in ``migrations/versions`` create exactly these (a test compares them).
Times are stored in UTC. User ids are whatever the store was given: raw Slack ids, or their
keyed hashes when ``ROLEBOT_HASH_USER_IDS`` is on. No Slack token is ever stored.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Stable constraint names, so migrations can refer to them on every database."""

SOURCES = ("mention", "dm", "command", "listen", "wrong_role")
STATUSES = ("open", "promoted", "dismissed")
CHANGE_KINDS = ("new_entry", "add_phrasings", "set_answer")
NO_ENTRY = ""
"""``answer_counts.entry_id`` for an outcome without an entry (unanswered, close call)."""

ID_LENGTH = 128
"""Room for a Slack id or its 64-character keyed hash."""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UnansweredQuestion(Base):
    """A question rolebot could not answer, or one a person said went to the wrong role."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (
        CheckConstraint(f"source IN {_in(SOURCES)}", name="source"),
        CheckConstraint(f"status IN {_in(STATUSES)}", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(32), unique=True)
    """Given when the question is first logged; makes a spool replay idempotent."""
    event_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), unique=True)
    """Slack's event id: the same event is stored once."""
    team_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    channel_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    best_entry_id: Mapped[str | None] = mapped_column(String(80))
    best_score: Mapped[float | None] = mapped_column(Float)
    suggested_role: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolved_entry_id: Mapped[str | None] = mapped_column(String(80))
    resolved_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a replica claimed telling the asker a curator answered (set once, by one replica)."""
    curator_post_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The curators' channel message showing this question (``curator_posts.id``), once one
    replica claimed it; near-duplicates share one."""


class Feedback(Base):
    """A "Helpful" or "Wrong role" click on an answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(32), unique=True)
    entry_id: Mapped[str | None] = mapped_column(String(80), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    role_instead: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AnswerCount(Base):
    """How often each entry was given, per outcome and day. Never the question text."""

    __tablename__ = "answer_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    """The entry answered with, or ``""`` (:data:`NO_ENTRY`) when there was none."""
    count: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedEvent(Base):
    """Slack event ids already handled, so a retried event is answered once across workers."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class KnowledgeChange(Base):
    """One curated change to the knowledge, shared by every replica; rows are only appended.

    The knowledge a bot uses is its YAML folder plus these changes, applied in ``id`` order.
    """

    __tablename__ = "knowledge_changes"
    __table_args__ = (CheckConstraint(f"kind IN {_in(CHANGE_KINDS)}", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str] = mapped_column(String(80), index=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    distinction: Mapped[str | None] = mapped_column(String(16))
    phrasings: Mapped[str | None] = mapped_column(Text)
    """A JSON list of the phrasings added (new entry, added phrasings)."""
    answer: Mapped[str | None] = mapped_column(Text)
    question_ids: Mapped[str | None] = mapped_column(Text)
    """A JSON list of the logged questions the change came from."""
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChannelSetting(Base):
    """Per-channel choices, such as answering plain messages (``/role listen on``)."""

    __tablename__ = "channel_settings"

    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    listen: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoleHolder(Base):
    """Who holds a role in a channel (``/role set``): one row per person or group, in order.

    Holder ids are workspace data (who the Product Manager of a team is), not data about the
    person asking: they are stored as given, even with ``ROLEBOT_HASH_USER_IDS`` on.
    """

    __tablename__ = "role_holders"

    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    role_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """A Slack user id (``U…``/``W…``) or user group id (``S…``)."""
    label: Mapped[str | None] = mapped_column(String(80))
    """The name Slack sent with the mention (``<@U…|bob>``), when it did."""
    position: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """Who set them: a user id (hashed when hashing is on), or ``cli:NAME``."""
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoleHolderChange(Base):
    """Every change of a channel's holders, kept: who, when, before and after (append-only)."""

    __tablename__ = "role_holder_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    role_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str] = mapped_column(Text)
    """The holder ids before, space-separated (empty: none)."""
    after: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str] = mapped_column(String(16))
    """``slack``, ``cli`` or ``import``."""


class CuratorPost(Base):
    """A message in the curators' channel (``ROLEBOT_CURATOR_CHANNEL``): one per group of
    near-duplicate open questions (they point at it with ``curator_post_id``)."""

    __tablename__ = "curator_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    """Slack's ts of the message (empty while it is being posted, or if it could not be)."""
    topic: Mapped[str] = mapped_column(Text)
    """The first question's topic words (``bot.store.grouping.topic_key``): near-duplicates of
    it join this message while it is open."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """Set once (by one replica) when its questions were handled, or it could not be posted."""
    outcome: Mapped[str | None] = mapped_column(String(16))
    """``handled`` or ``undeliverable`` once closed."""
