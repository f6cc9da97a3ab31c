"""Which message in the curators' channel shows which logged questions.

Each open question gets one message there, posted by exactly one replica: a replica *claims*
the question (an update only one caller wins) before posting. A question that is a
near-duplicate of an open message's topic (:func:`bot.store.grouping.similarity`) joins that
message instead, which is then edited ("asked 3 times"). When none of a message's questions is
open any more (promoted or dismissed, by any path), one replica *closes* it and shows how it was
handled. Claims and closes take turns (SQLite's write lock; a PostgreSQL advisory lock), so a
question never joins a message that is being closed.

Nothing here knows Slack beyond the shape of a message's ``ts``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError
from bot.store.database import _logged
from bot.store.engine import reading, safe_url
from bot.store.grouping import DEFAULT_SIMILARITY, similarity, topic_key
from bot.store.interface import LoggedQuestion, Status
from bot.store.models import CuratorPost as PostRow
from bot.store.models import UnansweredQuestion as QuestionRow

T = TypeVar("T")

POST_LOCK = 0x63757261  # "cura": PostgreSQL advisory lock held while claiming or closing
OPEN_POSTS_COMPARED = 500
"""Open messages a new question is compared with, at most (the most recent ones)."""
POSTING = timedelta(minutes=2)
"""A message without a ts yet is still being posted for this long (then it never will be)."""
HANDLED = "handled"
UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True)
class CuratorPost:
    """A message in the curators' channel."""

    id: int
    channel_id: str
    message_ts: str | None
    topic: str
    created_at: datetime
    closed_at: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Claim:
    """A question now shown by ``post``: a new message to post (``new``), or one to edit."""

    post: CuratorPost
    new: bool


@dataclass(frozen=True)
class PostState:
    """A message and every question it shows, oldest first."""

    post: CuratorPost
    questions: tuple[LoggedQuestion, ...]

    @property
    def open_ids(self) -> tuple[int, ...]:
        return tuple(q.id for q in self.questions if q.status == Status.OPEN)


class CuratorPostStore:
    """The curators' channel messages, on the rolebot database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: Engine,
        *,
        user_key: Callable[[str | None], str | None] | None = None,
        threshold: float = DEFAULT_SIMILARITY,
    ) -> None:
        self.engine = engine
        self.user_key = user_key or (lambda user: user)
        self.threshold = threshold

    # ------------------------------------------------------------------ reads
    def unposted(self, since: datetime, limit: int = 20) -> list[LoggedQuestion]:
        """Open questions logged since ``since`` that no message shows yet, oldest first."""
        query = (
            select(QuestionRow)
            .where(
                QuestionRow.status == Status.OPEN.value,
                QuestionRow.curator_post_id.is_(None),
                QuestionRow.created_at >= since,
            )
            .order_by(QuestionRow.id)
            .limit(limit)
        )
        return self._run(
            "reading questions for the curators' channel",
            lambda conn: [_logged(row) for row in conn.execute(query).mappings()],
            write=False,
        )

    def state(self, post_id: int) -> PostState | None:
        """The message ``post_id`` and its questions (``None``: no such message)."""

        def run(conn: Any) -> PostState | None:
            row = conn.execute(select(PostRow).where(PostRow.id == post_id)).mappings().first()
            if row is None:
                return None
            questions = conn.execute(
                select(QuestionRow)
                .where(QuestionRow.curator_post_id == post_id)
                .order_by(QuestionRow.created_at, QuestionRow.id)
            ).mappings()
            return PostState(_post(row), tuple(_logged(q) for q in questions))

        return self._run("reading a curators' channel message", run, write=False)

    def handled(self, channel_id: str, limit: int = 20) -> list[CuratorPost]:
        """Open messages (posted) none of whose questions is open any more."""
        query = (
            select(PostRow)
            .where(
                PostRow.channel_id == channel_id,
                PostRow.closed_at.is_(None),
                PostRow.message_ts.is_not(None),
                ~_has_open_question(),
            )
            .order_by(PostRow.id)
            .limit(limit)
        )
        return self._run(
            "reading handled curators' channel messages",
            lambda conn: [_post(row) for row in conn.execute(query).mappings()],
            write=False,
        )

    # ------------------------------------------------------------------ writes
    def claim(self, question: LoggedQuestion, channel_id: str) -> Claim | None:
        """Show ``question`` in the curators' channel: join the open message of its most
        similar topic (at least ``threshold``), or start a new one. ``None`` when another
        caller claimed it first (or it is no longer open)."""
        topic = topic_key(question.normalized or question.text)
        now = datetime.now(UTC)

        def run(conn: Any) -> Claim | None:
            self._lock(conn)
            candidates = conn.execute(
                select(PostRow)
                .where(
                    PostRow.channel_id == channel_id,
                    PostRow.closed_at.is_(None),
                    # Being posted, or posted: one whose poster died before it was posted is
                    # left alone (its question stays in the review views).
                    or_(PostRow.message_ts.is_not(None), PostRow.created_at >= now - POSTING),
                )
                .order_by(PostRow.id.desc())
                .limit(OPEN_POSTS_COMPARED)
            ).mappings()
            best: tuple[float, Any] | None = None
            for row in candidates:
                score = similarity(topic, row["topic"])
                if score >= self.threshold and (best is None or score > best[0]):
                    best = (score, row)
            if best is not None:
                post, new = _post(best[1]), False
            else:
                new_id = conn.execute(
                    insert(PostRow)
                    .values(channel_id=channel_id, topic=topic, created_at=now)
                    .returning(PostRow.id)
                ).scalar_one()
                post, new = CuratorPost(int(new_id), channel_id, None, topic, now), True
            taken = conn.execute(
                update(QuestionRow)
                .where(
                    QuestionRow.id == question.id,
                    QuestionRow.curator_post_id.is_(None),
                    QuestionRow.status == Status.OPEN.value,
                )
                .values(curator_post_id=post.id)
            ).rowcount
            if taken != 1:
                raise _Taken  # rolls the new message back
            return Claim(post, new)

        try:
            return self._run("claiming a question for the curators' channel", run)
        except _Taken:
            return None

    def posted(self, post_id: int, message_ts: str) -> None:
        """Remember the ts Slack gave the message."""
        statement = update(PostRow).where(PostRow.id == post_id).values(message_ts=message_ts)
        self._run("saving a curators' channel message", lambda conn: conn.execute(statement))

    def close(self, post_id: int, outcome: str = HANDLED) -> bool:
        """True for exactly one caller: the message is closed (no question joins it any more).
        A message with an open question is not closed as handled."""

        def run(conn: Any) -> bool:
            self._lock(conn)
            conditions = [PostRow.id == post_id, PostRow.closed_at.is_(None)]
            if outcome == HANDLED:
                conditions.append(~_has_open_question())
            statement = (
                update(PostRow)
                .where(*conditions)
                .values(closed_at=datetime.now(UTC), outcome=outcome)
            )
            return int(conn.execute(statement).rowcount) == 1

        return self._run("closing a curators' channel message", run)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _lock(conn: Any) -> None:
        if conn.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE holds the write lock
            conn.execute(select(func.pg_advisory_xact_lock(POST_LOCK)))

    def _run(self, doing: str, work: Callable[[Any], T], *, write: bool = True) -> T:
        try:
            with self.engine.begin() if write else reading(self.engine).connect() as conn:
                return work(conn)
        except SQLAlchemyError as error:
            original = getattr(error, "orig", None) or error
            lines = str(original).strip().splitlines()
            reason = f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__
            raise StoreError(
                f"{doing} in the database at {safe_url(self.engine.url)} failed: {reason}"
            ) from None


class _Taken(Exception):
    """Another caller claimed the question first."""


def _has_open_question() -> Any:
    return exists().where(
        and_(
            QuestionRow.curator_post_id == PostRow.id,
            QuestionRow.status == Status.OPEN.value,
        )
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _post(row: Any) -> CuratorPost:
    created = _aware(row["created_at"])
    assert created is not None
    return CuratorPost(
        id=int(row["id"]),
        channel_id=row["channel_id"],
        message_ts=row["message_ts"],
        topic=row["topic"],
        created_at=created,
        closed_at=_aware(row["closed_at"]),
        outcome=row["outcome"],
    )


def curator_post_store(store: object) -> CuratorPostStore | None:
    """The curators' channel messages of a store that has a database engine (else ``None``)."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        return None
    return CuratorPostStore(engine, user_key=getattr(store, "user_key", None))


__all__ = [
    "HANDLED",
    "UNDELIVERABLE",
    "Claim",
    "CuratorPost",
    "CuratorPostStore",
    "PostState",
    "curator_post_store",
]
