"""Building the SQLAlchemy engine for ``DATABASE_URL``: SQLite or PostgreSQL (psycopg 3).

SQLite is tuned for several threads and processes writing at once: write-ahead logging, a busy
timeout set on every connection, and ``BEGIN IMMEDIATE`` so a writing transaction takes the
write lock up front (waiting politely) instead of failing half-way with "database is locked".
Reads (:func:`reading`) begin a plain deferred transaction: under write-ahead logging they see
the last committed state and never wait for a writer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import StoreError

DEFAULT_BUSY_TIMEOUT = 3.0
"""Seconds a SQLite write waits for another writer before the question goes to the spool."""
DEFAULT_CONNECT_TIMEOUT = 3
"""Seconds to wait for PostgreSQL to accept a connection (libpq's minimum is 2)."""


def parse_url(url: str) -> URL:
    """The URL, with ``postgres://`` and ``postgresql://`` meaning psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "DATABASE_URL is not a database URL "
            "(use postgresql+psycopg://user:password@host/db or sqlite:///path/to/file.db)"
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        return parsed
    if backend == "postgresql" and driver == "psycopg":
        return parsed
    raise StoreError(
        f"DATABASE_URL: '{parsed.drivername}' is not supported "
        "(use postgresql+psycopg://... or sqlite:///...)"
    )


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden: the only form that may reach logs and messages."""
    try:
        return (url if isinstance(url, URL) else make_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable DATABASE_URL>"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


READ_ONLY = "rolebot_read_only"
"""Execution option: the connection only reads (SQLite: no ``BEGIN IMMEDIATE``)."""


def reading(engine: Engine) -> Engine:
    """``engine`` for reads only: its connections never take SQLite's write lock, so a curator's
    listing or a health check works while a writer (or a stuck process) holds it."""
    return engine.execution_options(**{READ_ONLY: True})


def create_db_engine(
    url: str,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
) -> Engine:
    """An engine for ``url``; the SQLite file's folder is created when missing."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout)
    if importlib.util.find_spec("psycopg") is None:
        raise StoreError(
            "DATABASE_URL points at PostgreSQL but the psycopg driver is not installed "
            "(pip install 'rolebot[postgres]')"
        )
    connect_args: dict[str, Any] = {"connect_timeout": max(2, connect_timeout)}
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL, busy_timeout: float) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise StoreError(
            "DATABASE_URL: use a SQLite file (sqlite:///path/to/rolebot.db), not an in-memory "
            "database: questions must outlive the process"
        )
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    timeout_ms = max(0, int(busy_timeout * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below (the driver's own handling would begin them
        # lazily, and a read lock that later needs upgrading can fail without waiting).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
