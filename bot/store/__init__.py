"""The unanswered-question log, feedback, answer counts and event dedupe, in a database.

Open it with :func:`open_store` (the Slack app and the CLI both do). SQLite files are created
and migrated on open; PostgreSQL is only checked, and migrated by ``rolebot db upgrade``.
Nothing here imports Slack.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.store.database import SqlStore
from bot.store.engine import DEFAULT_BUSY_TIMEOUT, create_db_engine, is_sqlite, safe_url
from bot.store.interface import (
    CuratorStore,
    EntryStats,
    LoggedQuestion,
    PurgeResult,
    QuestionGroup,
    QuestionRecord,
    Source,
    Stats,
    Status,
    Store,
)
from bot.store.migrate import ensure_schema
from bot.store.models import Base

metadata = Base.metadata
"""Every table rolebot uses (what the migrations create)."""


def open_store(settings: Settings, *, migrate: bool | None = None) -> SqlStore:
    """The store for ``settings`` (``DATABASE_URL``, else ``data/rolebot.db`` in the data folder).

    ``migrate``: ``None`` migrates a SQLite file automatically and only checks PostgreSQL
    (raising :class:`~bot.errors.StoreError` that says to run ``rolebot db upgrade`` when it
    is behind); ``True`` migrates either; ``False`` neither migrates nor checks.
    """
    return open_store_url(
        settings.effective_database_url,
        settings.data_dir,
        hash_key=settings.hash_key if settings.hash_user_ids else None,
        migrate=migrate,
    )


def open_store_url(
    url: str,
    data_dir: Path,
    *,
    hash_key: str | None = None,
    migrate: bool | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    retry_interval: float = 2.0,
    replay_interval: float = 5.0,
) -> SqlStore:
    """Like :func:`open_store`, from a URL and a data folder (the spool lives there)."""
    engine = create_db_engine(url, busy_timeout=busy_timeout)
    try:
        if migrate is not False:
            ensure_schema(engine, auto=migrate is True or (migrate is None and is_sqlite(engine)))
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(
        engine,
        Path(data_dir),
        hash_key=hash_key,
        retry_interval=retry_interval,
        replay_interval=replay_interval,
    )


__all__ = [
    "CuratorStore",
    "EntryStats",
    "LoggedQuestion",
    "PurgeResult",
    "QuestionGroup",
    "QuestionRecord",
    "Source",
    "SqlStore",
    "Stats",
    "Status",
    "Store",
    "metadata",
    "open_store",
    "open_store_url",
    "safe_url",
]
