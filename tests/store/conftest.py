"""Databases for the store tests: a fresh SQLite file, and a fresh PostgreSQL schema.

PostgreSQL comes from ``ROLEBOT_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Each test gets its own schema, dropped afterwards. When the server is unreachable the
PostgreSQL tests are skipped with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from storekit import schema_url

from bot.store import SqlStore, open_store_url, safe_url

POSTGRES_URL = os.environ.get(
    "ROLEBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except Exception as error:
        reason = (
            f"PostgreSQL is unreachable at {safe_url(POSTGRES_URL)} "
            f"({type(error).__name__}); start it or set ROLEBOT_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def pg_schema(postgres_server: str) -> Iterator[str]:
    """A fresh, empty schema; dropped (with everything in it) after the test."""
    schema = f"rolebot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def pg_url(postgres_server: str, pg_schema: str) -> str:
    return schema_url(postgres_server, pg_schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'rolebot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on both databases."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


StoreFactory = Callable[..., SqlStore]


@pytest.fixture
def make_store(db_url: str, data_dir: Path) -> Iterator[StoreFactory]:
    """Open stores on ``db_url`` (migrated); all are closed after the test."""
    opened: list[SqlStore] = []

    def factory(**options: Any) -> SqlStore:
        options.setdefault("migrate", True)
        store = open_store_url(
            options.pop("url", db_url), options.pop("data_dir", data_dir), **options
        )
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> SqlStore:
    return make_store()
