"""The store, on SQLAlchemy: SQLite or PostgreSQL, with a local spool for bad moments.

Writes that come from answering (:meth:`SqlStore.log_question`, :meth:`SqlStore.record_feedback`,
:meth:`SqlStore.count_answer`) never raise and never wait long: if the database is down or locked,
the record goes to the spool (:mod:`bot.store.spool`) and, for a few seconds, later records go
straight there too. The spool is replayed after the next successful write (at most every few
seconds) and by ``rolebot unanswered replay``. Questions and feedback carry a unique
``client_id`` and replays insert-or-ignore, so none is stored twice. (Answer counts carry no id:
only a replay cut off half-way by a new outage can count some answers twice.)

Curator operations (listing, promoting, dismissing, statistics) raise :class:`StoreError` with a
one-line reason instead: a person is waiting for them and should know.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import math
import os
import re
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)

from bot.core.knowledge.changes import KnowledgeChange
from bot.core.normalize import clean, normalize
from bot.errors import StoreError
from bot.store.engine import is_sqlite, reading, safe_url
from bot.store.grouping import group_questions
from bot.store.interface import (
    ChangeConflict,
    EntryStats,
    LoggedQuestion,
    PurgeResult,
    QuestionGroup,
    QuestionRecord,
    Source,
    Stats,
    Status,
)
from bot.store.models import (
    NO_ENTRY,
    AnswerCount,
    Base,
    ChannelSetting,
    Feedback,
    ProcessedEvent,
    UnansweredQuestion,
)
from bot.store.models import (
    KnowledgeChange as ChangeRow,
)
from bot.store.spool import Record, Spool

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TEXT = 4000
"""Longer question text is cut here (Slack messages are at most 4,000 characters anyway)."""
EVENT_MEMORY = 10_000
"""Event ids remembered in-process too, so a retry is caught even while the database is down."""
EVENT_RETENTION = timedelta(days=1)
"""Processed event ids older than this are pruned (Slack retries within minutes)."""
PRUNE_EVERY = 3600.0
LOCAL_CLAIM_RETENTION = 900.0
"""Seconds an event's claim file is kept: Slack retries within about five minutes."""
LOCAL_PRUNE_EVERY = 60.0
REPLAY_BATCH = 500
"""Spooled records written per transaction on replay (short transactions keep SQLite fluid)."""
OUTCOMES = ("answered", "close_call", "clarify", "unanswered")
"""How a question ends (the matcher's outcomes): the rates in ``rolebot stats``."""
NO_ANSWER = ("close_call", "clarify", "unanswered")
CHANGE_LOCK = 0x726F6C65  # "role": PostgreSQL advisory lock held while appending a change

_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp|xoxe\.xox[a-z])-[A-Za-z0-9-]{8,}")
"""Slack tokens someone pasted into a question: never stored."""
_LABELLED_SECRET = re.compile(
    r"(?i)(pass(?:word|wd)?|pwd|secret|token|api[_ -]?key|access[_ -]?key|private[_ -]?key|"
    r"hash[_ -]?key|credentials?)(\s*[:=]\s*|\s+is\s+)(?!\[)(\S+)"
)
"""``password=hunter2``, ``SLACK_SIGNING_SECRET: 8f…``, ``the api key is abc``: the value goes."""
_LONG_RUN = re.compile(r"[A-Za-z0-9+/_=.-]{20,}")
_PIECE = re.compile(r"[-_/+=.]")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
SECRET_REMOVED = "[secret removed]"


class SqlStore:
    """The unanswered log, feedback, answer counts, event dedupe and channel settings."""

    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        *,
        hash_key: str | None = None,
        retry_interval: float = 2.0,
        replay_interval: float = 5.0,
        listen_cache_ttl: float = 5.0,
    ) -> None:
        self.engine = engine
        self.spool = Spool(Path(data_dir))
        self._claims_dir = Path(data_dir) / "claims"
        self._hash_key = hash_key.encode() if hash_key else None
        self.retry_interval = retry_interval
        self.replay_interval = replay_interval
        self.listen_cache_ttl = listen_cache_ttl
        self._sqlite = is_sqlite(engine)
        self._state_lock = threading.Lock()
        self._replay_lock = threading.Lock()
        self._down_until = 0.0
        self._down = False
        self._last_replay = float("-inf")
        self._last_prune = float("-inf")
        self._last_local_prune = float("-inf")
        self._recent_events: OrderedDict[str, None] = OrderedDict()
        self._listen_cache: dict[str, tuple[bool, float]] = {}
        self._count_upsert: Any = None

    def __repr__(self) -> str:
        return f"SqlStore({safe_url(self.engine.url)})"

    # ================================================================== writes while answering
    def log_question(self, record: QuestionRecord) -> None:
        try:
            row = self._question_row(record)
        except Exception:  # a malformed record must not take the caller down
            logger.exception("could not log a question: the record is malformed")
            return
        self._write_or_spool("question", row, lambda conn: self._insert_questions(conn, [row]))

    def record_feedback(
        self,
        entry_id: str | None,
        helpful: bool,
        user_id: str | None,
        role_instead: str | None = None,
    ) -> None:
        try:
            row = {
                "client_id": uuid.uuid4().hex,
                "entry_id": _clip(entry_id, 80),
                "helpful": bool(helpful),
                "role_instead": _clip(role_instead, 64),
                "user_id": self.user_key(user_id),
                "created_at": _now(),
            }
        except Exception:
            logger.exception("could not record feedback: the record is malformed")
            return
        self._write_or_spool("feedback", row, lambda conn: self._insert_feedback(conn, [row]))

    def count_answer(self, entry_id: str | None, outcome: str) -> None:
        row = {
            "day": _now().date(),
            "outcome": str(outcome)[:16],
            "entry_id": _clip(entry_id, 80) or NO_ENTRY,
            "count": 1,
        }
        self._write_or_spool("count", row, lambda conn: self._add_counts(conn, [row]))

    def claim_event(self, event_id: str) -> bool:
        with self._state_lock:
            if event_id in self._recent_events:
                return False
            self._recent_events[event_id] = None
            while len(self._recent_events) > EVENT_MEMORY:
                self._recent_events.popitem(last=False)
        if not self._claim_locally(event_id):
            return False  # another worker on this machine has it
        if self._sqlite and self._claims_dir.is_dir():
            # SQLite is one file on one machine, beside the claims folder: every worker that
            # can write the database sees the same claim files, so they are the dedupe.
            return True
        if not self._available():
            return True
        now = _now()
        # rowcount is 0 when the id was already there (kept for INSERT only on request)
        statement = (
            self._insert(ProcessedEvent)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
        try:
            with self.engine.begin() as conn:
                claimed = conn.execute(
                    statement, {"event_id": event_id[:128], "claimed_at": now}
                ).rowcount
                if time.monotonic() - self._last_prune >= PRUNE_EVERY:
                    self._last_prune = time.monotonic()
                    conn.execute(
                        delete(ProcessedEvent).where(
                            ProcessedEvent.claimed_at < now - EVENT_RETENTION
                        )
                    )
        except Exception as error:
            self._mark_down(error)
            return True  # claimed on this machine; better to answer twice than never
        self._mark_up()
        return bool(claimed)

    def _claim_locally(self, event_id: str) -> bool:
        """An exclusive file per event in the data folder, seen by every worker on this machine,
        kept as long as Slack retries. It holds while the database is down, and across its
        return; the database claim then covers other machines. If the file cannot be made,
        the database decides alone."""
        name = hashlib.sha256(event_id.encode()).hexdigest()[:40]
        try:
            self._claims_dir.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self._claims_dir / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        except OSError:
            logger.warning("could not claim an event locally; answering it anyway")
            return True
        self._prune_local_claims()
        return True

    def _prune_local_claims(self) -> None:
        cutoff = time.time() - LOCAL_CLAIM_RETENTION
        with self._state_lock:
            if time.monotonic() - self._last_local_prune < LOCAL_PRUNE_EVERY:
                return
            self._last_local_prune = time.monotonic()
        for path in self._claims_dir.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue

    # ================================================================== channel settings
    def set_listen(self, channel_id: str, on: bool) -> None:
        statement = self._insert(ChannelSetting)
        values = {"channel_id": channel_id, "listen": bool(on), "updated_at": _now()}
        upsert = statement.on_conflict_do_update(
            index_elements=[ChannelSetting.channel_id],
            set_={"listen": statement.excluded.listen, "updated_at": statement.excluded.updated_at},
        )
        self._curate("saving the channel setting", lambda conn: conn.execute(upsert, values))
        with self._state_lock:
            self._listen_cache[channel_id] = (bool(on), time.monotonic())

    def listening(self, channel_id: str) -> bool:
        now = time.monotonic()
        with self._state_lock:
            cached = self._listen_cache.get(channel_id)
        if cached is not None and now - cached[1] < self.listen_cache_ttl:
            return cached[0]
        try:
            with reading(self.engine).connect() as conn:
                value = conn.execute(
                    select(ChannelSetting.listen).where(ChannelSetting.channel_id == channel_id)
                ).scalar_one_or_none()
        except Exception as error:
            self._mark_down(error)
            return cached[0] if cached is not None else False
        on = bool(value)
        with self._state_lock:
            self._listen_cache[channel_id] = (on, now)
        return on

    # ================================================================== curator reads
    def get_questions(self, ids: Sequence[int]) -> list[LoggedQuestion]:
        ids = _possible_ids(ids)
        if not ids:
            return []
        query = select(UnansweredQuestion).where(UnansweredQuestion.id.in_(list(ids)))
        return self._read("reading questions", query.order_by(UnansweredQuestion.id))

    def list_questions(
        self,
        *,
        status: str | None = "open",
        since: datetime | None = None,
        channel_id: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[LoggedQuestion]:
        query = select(UnansweredQuestion)
        if status is not None:
            query = query.where(UnansweredQuestion.status == Status(status).value)
        if since is not None:
            query = query.where(UnansweredQuestion.created_at >= since)
        if channel_id is not None:
            query = query.where(UnansweredQuestion.channel_id == channel_id)
        if source is not None:
            query = query.where(UnansweredQuestion.source == Source(source).value)
        query = query.order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        if limit is not None and limit < 0:
            raise StoreError(f"a limit of {limit} questions: give 0 or more")
        if limit is not None and limit > MAX_LIMIT:
            limit = None  # more than a table can hold: no limit
        if since is not None and since.year <= 1:
            since = None  # "the last 10,000 years": everything
        if limit is not None:
            query = query.limit(limit)
        return self._read("listing questions", query)

    def open_groups(self, limit: int = 20, *, scan: int = 5000) -> list[QuestionGroup]:
        """Groups among the ``scan`` most recent open questions, most asked first."""
        if limit is not None and limit < 0:
            raise StoreError(f"a limit of {limit} groups: give 0 or more")
        return group_questions(self.list_questions(status="open", limit=scan), limit=limit)

    def stats(self, since: datetime | None = None, top: int = 10) -> Stats:
        if since is not None and since.year <= 1:
            since = None  # "the last 10,000 years": everything
        day = since.astimezone(UTC).date() if since is not None else None

        def run(conn: Any) -> Stats:
            totals = select(AnswerCount.outcome, func.sum(AnswerCount.count))
            # Answers given with an entry: every outcome but those that gave none.
            per_entry = select(AnswerCount.entry_id, func.sum(AnswerCount.count)).where(
                AnswerCount.outcome.not_in(NO_ANSWER), AnswerCount.entry_id != NO_ENTRY
            )
            clicks = select(Feedback.entry_id, Feedback.helpful, func.count()).where(
                Feedback.entry_id.is_not(None)
            )
            logged = select(UnansweredQuestion.status, func.count())
            if day is not None:
                totals = totals.where(AnswerCount.day >= day)
                per_entry = per_entry.where(AnswerCount.day >= day)
            if since is not None:
                clicks = clicks.where(Feedback.created_at >= since)
                logged = logged.where(UnansweredQuestion.created_at >= since)
            outcomes = dict.fromkeys(OUTCOMES, 0)
            other: dict[str, int] = {}
            for outcome, total in conn.execute(totals.group_by(AnswerCount.outcome)):
                (outcomes if outcome in OUTCOMES else other)[outcome] = int(total or 0)
            answered: Counter[str] = Counter()
            for entry_id, total in conn.execute(per_entry.group_by(AnswerCount.entry_id)):
                answered[entry_id] = int(total or 0)
            helpful: Counter[str] = Counter()
            wrong: Counter[str] = Counter()
            for entry_id, was_helpful, total in conn.execute(
                clicks.group_by(Feedback.entry_id, Feedback.helpful)
            ):
                (helpful if was_helpful else wrong)[entry_id] += int(total)
            by_status = {s.value: 0 for s in Status}
            for status, total in conn.execute(logged.group_by(UnansweredQuestion.status)):
                by_status[status] = int(total)
            ids = sorted(
                set(answered) | set(helpful) | set(wrong),
                key=lambda e: (-answered[e], -(helpful[e] + wrong[e]), e),
            )[:top]
            entries = tuple(EntryStats(e, answered[e], helpful[e], wrong[e]) for e in ids)
            return Stats(since, outcomes, entries, by_status, other)

        return self._curate("reading statistics", run, write=False)

    # ================================================================== curator writes
    def mark_promoted(self, ids: Sequence[int], entry_id: str, by: str | None) -> int:
        return self._resolve(ids, Status.PROMOTED, entry_id, by)

    def mark_dismissed(self, ids: Sequence[int], by: str | None) -> int:
        return self._resolve(ids, Status.DISMISSED, None, by)

    def _resolve(
        self, ids: Sequence[int], status: Status, entry_id: str | None, by: str | None
    ) -> int:
        ids = _possible_ids(ids)
        if not ids:
            return 0
        statement = (
            update(UnansweredQuestion)
            .where(
                UnansweredQuestion.id.in_(list(ids)),
                UnansweredQuestion.status == Status.OPEN.value,
            )
            .values(
                status=status.value,
                resolved_entry_id=entry_id,
                resolved_by=self.user_key(by),
                resolved_at=_now(),
            )
        )
        return self._curate(
            f"marking questions {status.value}", lambda conn: int(conn.execute(statement).rowcount)
        )

    def purge(self, before: datetime) -> PurgeResult:
        def run(conn: Any) -> PurgeResult:
            questions = conn.execute(
                delete(UnansweredQuestion).where(UnansweredQuestion.created_at < before)
            ).rowcount
            feedback = conn.execute(delete(Feedback).where(Feedback.created_at < before)).rowcount
            conn.execute(
                delete(ProcessedEvent).where(ProcessedEvent.claimed_at < _now() - EVENT_RETENTION)
            )
            return PurgeResult(questions, feedback)

        return self._curate("purging old questions", run)

    def replay_spool(self) -> int:
        with self._replay_lock:
            self._last_replay = time.monotonic()
            try:
                count = self.spool.replay(self._apply)
            except SQLAlchemyError as error:
                self._mark_down(error)
                raise _store_error("replaying the spool into", self.engine, error) from None
        if count:
            logger.info("replayed %d spooled record(s) into the database", count)
        self._mark_up()
        return count

    # ================================================================== curated knowledge
    def knowledge_revision(self) -> int:
        return self._curate(
            "reading the knowledge revision",
            lambda conn: int(conn.execute(select(func.max(ChangeRow.id))).scalar() or 0),
            write=False,
        )

    def knowledge_changes(self) -> list[KnowledgeChange]:
        def run(conn: Any) -> list[KnowledgeChange]:
            rows = conn.execute(select(ChangeRow).order_by(ChangeRow.id)).mappings()
            return [_change(row) for row in rows]

        return self._curate("reading the knowledge changes", run, write=False)

    def append_change(
        self, change: KnowledgeChange, *, expected_revision: int, by: str | None
    ) -> KnowledgeChange:
        created = _now()
        by_key = self.user_key(by)

        def run(conn: Any) -> KnowledgeChange:
            if conn.dialect.name == "postgresql":  # one writer of the log at a time
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK})
            # (SQLite: BEGIN IMMEDIATE already holds the write lock.)
            ids = list(change.question_ids)
            if ids:
                marked = conn.execute(
                    update(UnansweredQuestion)
                    .where(
                        UnansweredQuestion.id.in_(ids),
                        UnansweredQuestion.status == Status.OPEN.value,
                    )
                    .values(
                        status=Status.PROMOTED.value,
                        resolved_entry_id=change.entry_id,
                        resolved_by=by_key,
                        resolved_at=created,
                    )
                ).rowcount
                if marked != len(ids):
                    rows = conn.execute(
                        select(UnansweredQuestion).where(
                            UnansweredQuestion.id.in_(ids),
                            UnansweredQuestion.status != Status.OPEN.value,
                        )
                    ).mappings()
                    resolved = [_logged(row) for row in rows]
                    raise ChangeConflict("already resolved", resolved)  # rolls back
            revision = int(conn.execute(select(func.max(ChangeRow.id))).scalar() or 0)
            if revision != expected_revision:
                raise ChangeConflict(
                    f"the knowledge changed meanwhile (revision {revision}, "
                    f"not {expected_revision}); try again"
                )
            new_id = conn.execute(
                self._insert(ChangeRow)
                .values(
                    kind=change.kind,
                    entry_id=change.entry_id,
                    owner=change.owner,
                    distinction=change.distinction,
                    phrasings=json.dumps(list(change.phrasings), ensure_ascii=False),
                    answer=change.answer,
                    question_ids=json.dumps(ids),
                    created_by=by_key,
                    created_at=created,
                )
                .returning(ChangeRow.id)
            ).scalar_one()
            return dataclasses.replace(
                change, id=int(new_id), created_by=by_key, created_at=created
            )

        return self._curate("storing a knowledge change", run)

    def unannounced(self, limit: int = 50) -> list[LoggedQuestion]:
        query = (
            select(UnansweredQuestion)
            .where(
                UnansweredQuestion.status == Status.PROMOTED.value,
                UnansweredQuestion.notified_at.is_(None),
            )
            .order_by(UnansweredQuestion.id)
            .limit(limit)
        )
        return self._read("reading promoted questions", query)

    def claim_announcement(self, question_id: int) -> bool:
        statement = (
            update(UnansweredQuestion)
            .where(
                UnansweredQuestion.id == question_id,
                UnansweredQuestion.status == Status.PROMOTED.value,
                UnansweredQuestion.notified_at.is_(None),
            )
            .values(notified_at=_now())
        )
        return self._curate(
            "claiming an announcement", lambda conn: int(conn.execute(statement).rowcount) == 1
        )

    # ================================================================== health
    def healthy(self) -> bool:
        try:
            with reading(self.engine).connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as error:
            self._mark_down(error)
            return False
        self._mark_up()
        self._maybe_replay()
        return True

    def close(self) -> None:
        self.engine.dispose()

    def user_key(self, user_id: str | None) -> str | None:
        """What is stored for a user id: the id, or its HMAC-SHA256 when hashing is on."""
        if user_id is None:
            return None
        if self._hash_key is None:
            return clean(user_id)[:128]
        return hmac.new(self._hash_key, clean(user_id).encode(), hashlib.sha256).hexdigest()

    # ================================================================== internals
    def _text(self, value: str) -> str:
        """Question text as stored (:func:`_clean`); with user ids hashed, the people it
        mentions are stored as ``@user-`` and the start of their hash, and the hash key
        itself, if pasted, is removed."""
        text = _clean(value)
        if self._hash_key is None:
            return text
        key = self._hash_key.decode(errors="replace")
        if len(key) >= 8:
            text = text.replace(key, SECRET_REMOVED)
        return _MENTION.sub(lambda m: f"@user-{(self.user_key(m.group(1)) or '')[:12]}", text)

    def _question_row(self, record: QuestionRecord) -> dict[str, Any]:
        text = self._text(record.text)
        normalized = self._text(record.normalized)
        if text != clean(str(record.text)).replace("\x00", "")[:MAX_TEXT]:
            # Something was scrubbed: the normalised form (punctuation gone) is made again from
            # the scrubbed text, since "password hunter2" no longer looks like a secret.
            normalized = self._text(normalize(text))
        score = float(record.best_score) if record.best_score is not None else None
        if score is not None and not math.isfinite(score):
            score = None
        return {
            "client_id": uuid.uuid4().hex,
            "event_id": _clip(record.event_id, 128),
            "team_id": _clip(record.team_id, 128),
            "channel_id": _clip(record.channel_id, 128),
            "user_id": self.user_key(record.user_id),
            "message_ts": _clip(record.message_ts, 32),
            "thread_ts": _clip(record.thread_ts, 32),
            "source": Source(record.source).value,
            "text": text,
            "normalized": normalized,
            "best_entry_id": _clip(record.best_entry_id, 80),
            "best_score": score,
            "suggested_role": _clip(record.suggested_role, 64),
            "status": Status.OPEN.value,
            "created_at": _now(),
        }

    def _insert(self, model: type[Base]) -> Any:
        dialect = sqlite if self._sqlite else postgresql
        return dialect.insert(model)

    def _insert_questions(self, conn: Any, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(self._insert(UnansweredQuestion).on_conflict_do_nothing(), list(rows))

    def _insert_feedback(self, conn: Any, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(self._insert(Feedback).on_conflict_do_nothing(), list(rows))

    def _add_counts(self, conn: Any, rows: Iterable[dict[str, Any]]) -> None:
        totals: Counter[tuple[date, str, str]] = Counter()
        for row in rows:
            totals[(row["day"], row["outcome"], row["entry_id"])] += int(row["count"])
        upsert = self._count_upsert
        if upsert is None:  # built once: building it cost more than running it
            statement = self._insert(AnswerCount)
            upsert = self._count_upsert = statement.on_conflict_do_update(
                index_elements=[AnswerCount.day, AnswerCount.outcome, AnswerCount.entry_id],
                set_={"count": AnswerCount.count + statement.excluded["count"]},
            )
        for (day, outcome, entry_id), count in totals.items():
            conn.execute(
                upsert, {"day": day, "outcome": outcome, "entry_id": entry_id, "count": count}
            )

    def _write_or_spool(self, kind: str, row: dict[str, Any], write: Callable[[Any], None]) -> None:
        record = {"kind": kind, "row": _to_json(row)}
        if self._available():
            try:
                with self.engine.begin() as conn:
                    write(conn)
            except Exception as error:
                if _refused(error):
                    # The database works but will not take this record: set it aside.
                    logger.warning("the database refused a %s record (%s)", kind, _reason(error))
                    self._set_aside([record])
                    return
                self._mark_down(error)
            else:
                self._mark_up()
                self._maybe_replay()
                return
        try:
            self.spool.append(record)
        except Exception as error:
            logger.error(
                "lost a %s record: the database is unavailable and the spool at %s "
                "could not be written (%s)",
                kind,
                self.spool.path,
                type(error).__name__,
            )

    def _set_aside(self, records: Sequence[Record]) -> None:
        try:
            self.spool.reject(records)
        except OSError as error:
            logger.error("lost %d record(s) the database refused (%s)", len(records), error)

    def _apply(self, records: Sequence[Record]) -> None:
        """Write spooled records, insert-or-ignore, a few hundred per short transaction."""
        for start in range(0, len(records), REPLAY_BATCH):
            self._apply_batch(records[start : start + REPLAY_BATCH])

    def _apply_batch(self, records: Sequence[Record]) -> None:
        parsed = [(r, _parse(r)) for r in records]
        bad = [r for r, p in parsed if p is None]
        good = [(r, p) for r, p in parsed if p is not None]
        try:
            with self.engine.begin() as conn:
                self._write_parsed(conn, [p for _, p in good])
        except SQLAlchemyError as error:
            if not _refused(error):
                raise  # the database is down: keep the batch for later
            # One record the database refuses must not hold the others back.
            for record, item in good:
                try:
                    with self.engine.begin() as conn:
                        self._write_parsed(conn, [item])
                except SQLAlchemyError as single:
                    if not _refused(single):
                        raise
                    bad.append(record)
        if bad:
            logger.warning("%d spooled record(s) the database refused were set aside", len(bad))
            self._set_aside(bad)

    def _write_parsed(self, conn: Any, items: Sequence[tuple[str, dict[str, Any]]]) -> None:
        self._insert_questions(conn, [row for kind, row in items if kind == "question"])
        self._insert_feedback(conn, [row for kind, row in items if kind == "feedback"])
        self._add_counts(conn, [row for kind, row in items if kind == "count"])

    def _read(self, doing: str, query: Select[Any]) -> list[LoggedQuestion]:
        def run(conn: Any) -> list[LoggedQuestion]:
            return [_logged(row) for row in conn.execute(query).mappings()]

        return self._curate(doing, run, write=False)

    def _curate(self, doing: str, run: Callable[[Any], T], *, write: bool = True) -> T:
        try:
            with self.engine.begin() if write else reading(self.engine).connect() as conn:
                result = run(conn)
        except SQLAlchemyError as error:
            if not _refused(error):  # a request the database refuses is no outage
                self._mark_down(error)
            raise _store_error(doing + " in", self.engine, error) from None
        self._mark_up()
        return result

    # -- availability
    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _mark_down(self, error: BaseException) -> None:
        with self._state_lock:
            self._down_until = time.monotonic() + self.retry_interval
            was_down, self._down = self._down, True
        if not was_down:
            logger.warning(
                "the database at %s is unavailable (%s); questions go to the spool at %s",
                safe_url(self.engine.url),
                _reason(error),
                self.spool.path,
            )

    def _mark_up(self) -> None:
        if self._down:
            with self._state_lock:
                was_down, self._down = self._down, False
            if was_down:
                logger.info("the database at %s is back", safe_url(self.engine.url))

    def _maybe_replay(self) -> None:
        """After a successful write: replay the spool if it holds anything (checked every
        ``replay_interval`` seconds at most, by one thread at a time)."""
        if time.monotonic() - self._last_replay < self.replay_interval:
            return
        self._last_replay = time.monotonic()
        if not self.spool.pending():
            return
        if not self._replay_lock.acquire(blocking=False):
            return
        try:
            count = self.spool.replay(self._apply)
            if count:
                logger.info("replayed %d spooled record(s) into the database", count)
        except Exception as error:
            self._mark_down(error)
        finally:
            self._replay_lock.release()


# --------------------------------------------------------------------------- helpers
def _change(row: Mapping[str, Any]) -> KnowledgeChange:
    return KnowledgeChange(
        kind=row["kind"],
        entry_id=row["entry_id"],
        owner=row["owner"],
        distinction=row["distinction"],
        phrasings=tuple(json.loads(row["phrasings"] or "[]")),
        answer=row["answer"],
        question_ids=tuple(int(i) for i in json.loads(row["question_ids"] or "[]")),
        id=row["id"],
        created_by=row["created_by"],
        created_at=_aware(row["created_at"]),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


MAX_ID = 2**31 - 1
"""The largest id the question and feedback tables' INTEGER column holds (on PostgreSQL)."""
MAX_LIMIT = 2**63 - 1
"""The largest LIMIT either database takes."""


def _possible_ids(ids: Sequence[int]) -> list[int]:
    """Ids a row can have: others (0, -3, 10**30) match nothing, and must not overflow the
    driver."""
    return [int(i) for i in ids if 0 < int(i) <= MAX_ID]


def _clip(value: str | None, length: int) -> str | None:
    if value is None:
        return None
    value = clean(str(value)).replace("\x00", "")
    return value[:length] or None


def _clean(value: str) -> str:
    """Question text as stored: valid Unicode, no NUL characters, nothing that looks like a
    secret (Slack tokens, signing secrets, keys, ``password=…``), bounded length."""
    return scrub_secrets(clean(str(value)).replace("\x00", ""))[:MAX_TEXT]


def scrub_secrets(text: str) -> str:
    """``text`` without anything shaped like a secret someone pasted by mistake.

    Slack tokens (``xoxb-…``), values after a label (``password=``, ``secret:``, ``token=``,
    ``api key is …``), and long random-looking runs: hex of 32 digits or more (signing secrets,
    hash keys) and base64 of 20 characters or more mixing letters and digits in one piece
    (URL paths and slugs, made of short pieces, stay).
    """
    text = _TOKEN.sub("[token removed]", text)
    text = _LABELLED_SECRET.sub(_labelled, text)
    return _LONG_RUN.sub(_random_run, text)


def _labelled(match: re.Match[str]) -> str:
    label, between, value = match.groups()
    if between.strip() == "is" and not (
        len(value) >= 8 and re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value)
    ):
        return match.group(0)  # "the password is reset by whom?": words, not a secret
    return label + between + SECRET_REMOVED


def _random_run(match: re.Match[str]) -> str:
    run = match.group(0)
    longest = max(_PIECE.split(run), key=len)
    if len(longest) >= 32 and re.fullmatch(r"[0-9a-fA-F]+", longest):
        return SECRET_REMOVED
    if (
        len(longest) >= 20
        and any(c.isdigit() for c in longest)
        and any(c.isalpha() for c in longest)
        and sum(c.isdigit() for c in longest) >= 3
    ):
        return SECRET_REMOVED
    if (  # standard base64 with "/" and "+" inside: no words, no hyphens, all three kinds
        len(run) >= 32
        and not re.search(r"[-.]", run)
        and re.search(r"[A-Z]", run)
        and re.search(r"[a-z]", run)
        and re.search(r"[0-9]", run)
    ):
        return SECRET_REMOVED
    return run


def _logged(row: Mapping[str, Any]) -> LoggedQuestion:
    created = _aware(row["created_at"])
    assert created is not None
    return LoggedQuestion(
        id=row["id"],
        text=row["text"],
        normalized=row["normalized"],
        source=row["source"],
        status=row["status"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        best_entry_id=row["best_entry_id"],
        best_score=row["best_score"],
        suggested_role=row["suggested_role"],
        created_at=created,
        resolved_entry_id=row["resolved_entry_id"],
        resolved_by=row["resolved_by"],
        resolved_at=_aware(row["resolved_at"]),
        message_ts=row["message_ts"],
        thread_ts=row["thread_ts"],
        notified_at=_aware(row["notified_at"]),
    )


def _to_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in row.items()}


_DATETIME_FIELDS = {"created_at", "resolved_at", "updated_at", "notified_at"}
_COLUMNS = {
    "question": [c.key for c in UnansweredQuestion.__table__.columns if c.key != "id"],
    "feedback": [c.key for c in Feedback.__table__.columns if c.key != "id"],
    "count": [c.key for c in AnswerCount.__table__.columns],
}
"""What each kind of spooled record holds (missing fields are empty, unknown ones dropped)."""


def _parse(record: Record) -> tuple[str, dict[str, Any]] | None:
    """A spooled record back to a row, or ``None`` if it is not one this version wrote."""
    kind, row = record.get("kind"), record.get("row")
    if kind not in ("question", "feedback", "count") or not isinstance(row, dict):
        return None
    try:
        parsed: dict[str, Any] = {key: row.get(key) for key in _COLUMNS[kind]}
        if kind == "question" and parsed["status"] is None:
            parsed["status"] = Status.OPEN.value
        for key in _DATETIME_FIELDS & parsed.keys():
            if parsed[key] is not None:
                parsed[key] = _aware(datetime.fromisoformat(parsed[key]))
        if kind == "count":
            parsed["day"] = date.fromisoformat(parsed["day"])
            parsed["count"] = int(parsed["count"])
        if kind in ("question", "feedback") and not parsed.get("client_id"):
            return None
    except (TypeError, ValueError, KeyError):
        return None
    return kind, parsed


def _refused(error: BaseException) -> bool:
    """The database refused the data itself (as opposed to being unreachable or locked).

    Text the driver cannot encode is such a refusal, never an outage."""
    if isinstance(error, UnicodeError) or isinstance(getattr(error, "orig", None), UnicodeError):
        return True
    if not isinstance(error, SQLAlchemyError):
        return False
    if isinstance(error, DataError | IntegrityError):
        return True
    return isinstance(error, StatementError) and not isinstance(error, DBAPIError)


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__


def _store_error(doing: str, engine: Engine, error: BaseException) -> StoreError:
    return StoreError(f"{doing} the database at {safe_url(engine.url)} failed: {_reason(error)}")
