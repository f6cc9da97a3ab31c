"""What the rest of rolebot may ask of the store. The store knows nothing of Slack.

The Slack listeners and the CLI depend on this protocol only; :mod:`bot.store.database`
implements it with SQLAlchemy (SQLite or PostgreSQL) and a local spool file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core.knowledge.changes import KnowledgeChange
from bot.errors import RolebotError


class ChangeConflict(RolebotError):
    """A curated change was not stored: the log moved on while it was validated (try again),
    or its questions were resolved meanwhile (``resolved`` lists them)."""

    def __init__(self, message: str, resolved: Sequence[LoggedQuestion] = ()) -> None:
        super().__init__(message)
        self.resolved = tuple(resolved)


class Source(StrEnum):
    """Where a logged question came from."""

    MENTION = "mention"
    DM = "dm"
    COMMAND = "command"
    LISTEN = "listen"
    WRONG_ROLE = "wrong_role"


class Status(StrEnum):
    OPEN = "open"
    PROMOTED = "promoted"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class QuestionRecord:
    """An unanswered question (or a "Wrong role" click) to log."""

    text: str
    normalized: str
    source: Source
    team_id: str | None = None
    channel_id: str | None = None
    user_id: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    best_entry_id: str | None = None
    best_score: float | None = None
    event_id: str | None = None
    """Unique: the same event logged twice is stored once."""
    suggested_role: str | None = None
    """For wrong-role feedback: the role the person said it should have been."""


@dataclass(frozen=True)
class LoggedQuestion:
    """A stored question, as curators see it."""

    id: int
    text: str
    normalized: str
    source: str
    status: str
    channel_id: str | None
    user_id: str | None
    best_entry_id: str | None
    best_score: float | None
    suggested_role: str | None
    created_at: datetime
    resolved_entry_id: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    notified_at: datetime | None = None


@dataclass(frozen=True)
class QuestionGroup:
    """Near-duplicate open questions, most asked first: what to write next."""

    representative: LoggedQuestion
    members: tuple[LoggedQuestion, ...]

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(m.id for m in self.members)


class Store(Protocol):
    """The unanswered log, feedback, answer counts and event dedupe."""

    def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is seen, across all processes; False after."""

    def log_question(self, record: QuestionRecord) -> None:
        """Store the question. Never raises: on a database failure it goes to the spool."""

    def record_feedback(
        self,
        entry_id: str | None,
        helpful: bool,
        user_id: str | None,
        role_instead: str | None = None,
    ) -> None:
        """A "Helpful" or "Wrong role" click. Never raises."""

    def count_answer(self, entry_id: str | None, outcome: str) -> None:
        """Count one answer per entry and outcome per day (no question text). Never raises."""

    def open_groups(self, limit: int = 20) -> Sequence[QuestionGroup]:
        """Open questions grouped by near-duplicates, most asked first."""

    def get_questions(self, ids: Sequence[int]) -> Sequence[LoggedQuestion]: ...

    def mark_promoted(self, ids: Sequence[int], entry_id: str, by: str | None) -> int: ...

    def mark_dismissed(self, ids: Sequence[int], by: str | None) -> int: ...

    def set_listen(self, channel_id: str, on: bool) -> None:
        """Turn answering plain channel messages (``/role listen on|off``) on or off."""

    def listening(self, channel_id: str) -> bool:
        """Whether plain messages in the channel are answered (off unless turned on)."""

    def knowledge_revision(self) -> int:
        """The newest curated change's id (0: none). Raises StoreError when unreadable."""

    def knowledge_changes(self) -> Sequence[KnowledgeChange]:
        """Every curated change, oldest first. Raises StoreError when unreadable."""

    def append_change(
        self, change: KnowledgeChange, *, expected_revision: int, by: str | None
    ) -> KnowledgeChange:
        """Store ``change`` and mark its questions promoted, in one transaction; the stored
        change. Raises :class:`ChangeConflict` when the log is no longer at
        ``expected_revision`` or a question is no longer open; StoreError when down."""

    def unannounced(self, limit: int = 50) -> Sequence[LoggedQuestion]:
        """Promoted questions whose askers have not been told yet."""

    def claim_announcement(self, question_id: int) -> bool:
        """True for exactly one caller (across processes): that one tells the asker."""

    def healthy(self) -> bool:
        """The database answers right now."""

    def close(self) -> None: ...


# --------------------------------------------------------------------------- curator views
@dataclass(frozen=True)
class EntryStats:
    """How one entry fared: answers given with it, and the clicks on those answers."""

    entry_id: str
    answered: int = 0
    helpful: int = 0
    wrong: int = 0


@dataclass(frozen=True)
class Stats:
    """Answer outcomes (from the daily counts), entries most asked, and the unanswered log."""

    since: datetime | None
    outcomes: Mapping[str, int]
    """answered / close_call / clarify / unanswered: how many questions ended each way."""
    entries: tuple[EntryStats, ...]
    """Most asked first."""
    logged: Mapping[str, int]
    """Unanswered log by status (open / promoted / dismissed)."""
    other: Mapping[str, int] = field(default_factory=dict)
    """Other counted events (such as a role chosen after a close call); not in the rates."""

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def rate(self, outcome: str) -> float:
        return self.outcomes.get(outcome, 0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class PurgeResult:
    questions: int
    feedback: int


class CuratorStore(Store, Protocol):
    """What the review tools add to :class:`Store`: listing, statistics, retention, replay."""

    def list_questions(
        self,
        *,
        status: str | None = "open",
        since: datetime | None = None,
        channel_id: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> Sequence[LoggedQuestion]:
        """Logged questions, newest first (``status=None``: every status)."""

    def stats(self, since: datetime | None = None, top: int = 10) -> Stats: ...

    def purge(self, before: datetime) -> PurgeResult:
        """Delete questions and feedback logged before ``before`` (retention)."""

    def replay_spool(self) -> int:
        """Move spooled records into the database now; how many. Raises StoreError if down."""
