"""Who holds each role, per channel, and every change to it: set, unset, list, history.

The current holders of a (channel, role) are rows of ``role_holders``; each change also appends
a row to ``role_holder_changes`` (who, when, before, after), in the same transaction. Reads go
to the database, so every replica sees a change at once; a channel's holders are cached in
process for at most ``cache_ttl`` seconds (one second by default), and a change made here
clears that entry at once.

Holder ids are workspace data, not data about the person asking: they are stored as given even
when user ids are hashed. Who made a change is a person's id and is stored through the store's
``user_key`` (hashed when hashing is on). Nothing here knows Slack beyond the shape of its ids.
"""

from __future__ import annotations

import builtins
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.core.ids import CHANNEL_ID, GROUP_ID, USER_ID
from bot.errors import RolebotError, StoreError
from bot.store.engine import safe_url
from bot.store.models import RoleHolder, RoleHolderChange

logger = logging.getLogger(__name__)

MAX_HOLDERS = 10
"""Holders of one role in one channel, at most."""
SOURCES = ("slack", "cli", "import")

_LABEL = re.compile(r"[\x00-\x1f\x7f<>&|*_~`]")


class HolderError(RolebotError):
    """A change that cannot be made as asked; nothing was changed."""


@dataclass(frozen=True)
class Holder:
    """A person (``U…``/``W…``) or a user group (``S…``), with the name Slack sent, if any."""

    id: str
    label: str | None = None

    @property
    def is_group(self) -> bool:
        return self.id.startswith("S")


@dataclass(frozen=True)
class RoleHolders:
    """A channel's current holders of one role, and the latest change (who set them, when)."""

    channel_id: str
    role_id: str
    holders: tuple[Holder, ...]
    set_by: str | None
    set_at: datetime

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(h.id for h in self.holders)


@dataclass(frozen=True)
class HolderChange:
    """One change, as kept in the history."""

    id: int
    channel_id: str
    role_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    changed_by: str | None
    changed_at: datetime
    source: str


def holder(value: str, label: str | None = None) -> Holder:
    """A checked :class:`Holder`: ``value`` must be a user or user group id."""
    if CHANNEL_ID.match(value) or (value.startswith("D") and value[1:].isalnum()):
        raise HolderError(
            f"'{value}' is a channel id, not a person: name people (U…) or user groups (S…)"
        )
    if not (USER_ID.match(value) or GROUP_ID.match(value)):
        raise HolderError(
            f"'{value}' is not a person or group id (a user id like U0123ABCD, "
            "or a user group id like S0123ABCD)"
        )
    clean = _LABEL.sub("", label or "").strip().lstrip("@")[:80] or None
    return Holder(value, clean)


def check_channel(channel_id: str) -> str:
    """``channel_id`` if it is a channel id (``C…`` or ``G…``)."""
    if not CHANNEL_ID.match(channel_id):
        raise HolderError(
            f"'{channel_id}' is not a channel id (like C0123ABCD; holders are per channel, "
            "never for a direct message)"
        )
    return channel_id


def check_holders(holders: Sequence[Holder]) -> tuple[Holder, ...]:
    """At least one holder, at most :data:`MAX_HOLDERS`, each once, ids checked again."""
    unique: dict[str, Holder] = {}
    for item in holders:
        checked = holder(item.id, item.label)
        unique.setdefault(checked.id, checked)
    if not unique:
        raise HolderError("name at least one person or group (to clear a role, unset it)")
    if len(unique) > MAX_HOLDERS:
        raise HolderError(
            f"{len(unique)} holders is too many: at most {MAX_HOLDERS} per role and channel "
            "(name a user group instead)"
        )
    return tuple(unique.values())


class HolderStore:
    """Role holders per channel, on the rolebot database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: Engine,
        *,
        user_key: Callable[[str | None], str | None] | None = None,
        cache_ttl: float = 1.0,
        retry_interval: float = 2.0,
    ) -> None:
        """``retry_interval``: after a failed read, how long answers use the holders last read
        (and do not wait for the database) before it is tried again."""
        self.engine = engine
        self._user_key = user_key or (lambda user: user)
        self.cache_ttl = cache_ttl
        self.retry_interval = retry_interval
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[dict[str, RoleHolders], float]] = {}
        self._down_until = 0.0

    # ------------------------------------------------------------------ changes
    def set(
        self,
        channel_id: str,
        role_id: str,
        holders: Sequence[Holder],
        *,
        by: str | None,
        source: str = "slack",
    ) -> HolderChange:
        """Make ``holders`` the channel's holders of ``role_id``; the change, as kept."""
        (change,) = self.set_many([(channel_id, role_id, holders)], by=by, source=source)
        return change

    def set_many(
        self,
        items: Sequence[tuple[str, str, Sequence[Holder]]],
        *,
        by: str | None,
        source: str = "import",
    ) -> list[HolderChange]:
        """Several (channel, role, holders) at once, all or nothing (a CSV import)."""
        checked = [
            (check_channel(channel), _role(role), check_holders(holders))
            for channel, role, holders in items
        ]
        changes = self._change(checked, by, source, "saving role holders")
        return [c for c in changes if c is not None]

    def unset(
        self, channel_id: str, role_id: str, *, by: str | None, source: str = "slack"
    ) -> HolderChange | None:
        """Clear the channel's holders of ``role_id``; ``None`` when there were none."""
        (change,) = self._change(
            [(check_channel(channel_id), _role(role_id), ())], by, source, "clearing role holders"
        )
        return change

    def _change(
        self,
        items: Sequence[tuple[str, str, tuple[Holder, ...]]],
        by: str | None,
        source: str,
        doing: str,
    ) -> builtins.list[HolderChange | None]:
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        who = self._user_key(by)
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    changes = [self._apply(conn, *item, who, source) for item in items]
                break
            except IntegrityError:
                if attempt == 2:  # two writers raced three times in a row: give up
                    raise StoreError(f"{doing}: another change got in the way; try again") from None
            except SQLAlchemyError as error:
                raise _error(doing, self.engine, error) from None
        with self._lock:
            for channel, _, _ in items:
                self._cache.pop(channel, None)
        return changes

    def _apply(
        self,
        conn: Any,
        channel: str,
        role: str,
        holders: tuple[Holder, ...],
        who: str | None,
        source: str,
    ) -> HolderChange | None:
        where = (RoleHolder.channel_id == channel, RoleHolder.role_id == role)
        if conn.dialect.name == "postgresql":  # writers of one (channel, role) take turns
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{channel} {role}"))))
        # Deleting first takes SQLite's write lock at once (no read-then-upgrade deadlock).
        removed = conn.execute(
            delete(RoleHolder).where(*where).returning(RoleHolder.holder_id, RoleHolder.position)
        ).all()
        before = tuple(holder_id for holder_id, _ in sorted(removed, key=lambda r: r[1]))
        after = tuple(h.id for h in holders)
        if not holders and not before:
            return None
        now = datetime.now(UTC)
        if holders:
            conn.execute(
                insert(RoleHolder),
                [
                    {
                        "channel_id": channel,
                        "role_id": role,
                        "holder_id": h.id,
                        "label": h.label,
                        "position": n,
                        "set_by": who,
                        "set_at": now,
                    }
                    for n, h in enumerate(holders)
                ],
            )
        row = {
            "channel_id": channel,
            "role_id": role,
            "before": " ".join(before),
            "after": " ".join(after),
            "changed_by": who,
            "changed_at": now,
            "source": source,
        }
        new_id = conn.execute(insert(RoleHolderChange), row).inserted_primary_key[0]
        return HolderChange(int(new_id), channel, role, before, after, who, now, source)

    # ------------------------------------------------------------------ reads
    def list(self, channel_ids: Iterable[str] | None = None) -> list[RoleHolders]:
        """Current holders, by channel then role (all channels, or only ``channel_ids``)."""
        query = select(RoleHolder)
        if channel_ids is not None:
            query = query.where(RoleHolder.channel_id.in_(list(channel_ids)))
        query = query.order_by(RoleHolder.channel_id, RoleHolder.role_id, RoleHolder.position)
        try:
            with self.engine.connect() as conn:
                rows = list(conn.execute(query).mappings())
        except SQLAlchemyError as error:
            raise _error("reading role holders", self.engine, error) from None
        return _grouped(rows)

    def for_channel(self, channel_id: str) -> dict[str, RoleHolders]:
        """The channel's holders by role id (cached for at most ``cache_ttl`` seconds). While
        the database cannot be read, the holders last read (tried again every
        ``retry_interval`` s); raises :class:`StoreError` when there are none."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(channel_id)
            down = now < self._down_until
        if cached is not None and (down or now - cached[1] < self.cache_ttl):
            return cached[0]
        if down:
            raise StoreError(
                f"reading role holders: the database at {safe_url(self.engine.url)} is "
                "unavailable (tried again in a moment)"
            )
        try:
            found = {r.role_id: r for r in self.list([channel_id])}
        except StoreError:
            with self._lock:
                was_up, self._down_until = self._down_until == 0.0, now + self.retry_interval
            if was_up:
                logger.warning("cannot read the role holders; answers use the ones last read")
            if cached is not None:
                return cached[0]
            raise
        with self._lock:
            if self._down_until:
                logger.info("the role holders can be read again")
            self._down_until = 0.0
            self._cache[channel_id] = (found, now)
            if len(self._cache) > 10_000:
                self._cache.clear()
        return found

    def history(
        self,
        channel_id: str | None = None,
        role_id: str | None = None,
        *,
        limit: int | None = None,
    ) -> builtins.list[HolderChange]:
        """Changes, newest first."""
        if limit is not None and limit < 0:
            raise HolderError(f"a limit of {limit} changes: give 0 or more")
        query = select(RoleHolderChange)
        if channel_id is not None:
            query = query.where(RoleHolderChange.channel_id == channel_id)
        if role_id is not None:
            query = query.where(RoleHolderChange.role_id == role_id)
        query = query.order_by(RoleHolderChange.changed_at.desc(), RoleHolderChange.id.desc())
        if limit is not None:
            query = query.limit(limit)
        try:
            with self.engine.connect() as conn:
                rows = list(conn.execute(query).mappings())
        except SQLAlchemyError as error:
            raise _error("reading the role holder history", self.engine, error) from None
        return [
            HolderChange(
                id=row["id"],
                channel_id=row["channel_id"],
                role_id=row["role_id"],
                before=tuple(row["before"].split()),
                after=tuple(row["after"].split()),
                changed_by=row["changed_by"],
                changed_at=_aware(row["changed_at"]),
                source=row["source"],
            )
            for row in rows
        ]


def _role(role_id: str) -> str:
    if not role_id or len(role_id) > 64:
        raise HolderError(f"'{role_id}' is not a role id")
    return role_id


def _grouped(rows: Sequence[Any]) -> list[RoleHolders]:
    result: list[RoleHolders] = []
    current: list[Any] = []
    for row in [*rows, None]:
        if current and (
            row is None
            or (row["channel_id"], row["role_id"])
            != (current[0]["channel_id"], current[0]["role_id"])
        ):
            first = current[0]
            result.append(
                RoleHolders(
                    channel_id=first["channel_id"],
                    role_id=first["role_id"],
                    holders=tuple(Holder(r["holder_id"], r["label"]) for r in current),
                    set_by=first["set_by"],
                    set_at=_aware(first["set_at"]),
                )
            )
            current = []
        if row is not None:
            current.append(row)
    return result


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _error(doing: str, engine: Engine, error: SQLAlchemyError) -> StoreError:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    reason = f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__
    return StoreError(f"{doing} in the database at {safe_url(engine.url)} failed: {reason}")


def holder_store(store: object, *, cache_ttl: float = 1.0) -> HolderStore | None:
    """The holders of a store that has a database engine (``None`` for one that has none)."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        return None
    user_key = getattr(store, "user_key", None)
    return HolderStore(engine, user_key=user_key, cache_ttl=cache_ttl)


__all__ = [
    "MAX_HOLDERS",
    "Holder",
    "HolderChange",
    "HolderError",
    "HolderStore",
    "RoleHolders",
    "check_channel",
    "check_holders",
    "holder",
    "holder_store",
]
