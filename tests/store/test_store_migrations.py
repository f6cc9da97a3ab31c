"""Migrations on both databases: empty -> head -> base -> head, and models == migrations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.cli import main
from bot.config import Settings
from bot.errors import StoreError
from bot.store import metadata, open_store, open_store_url
from bot.store import migrate as migrate_module
from bot.store.engine import create_db_engine
from bot.store.migrate import (
    alembic_config,
    downgrade,
    head_revision,
    migrations_dir,
    schema_state,
    upgrade,
)

TABLES = {
    "unanswered_questions",
    "feedback",
    "answer_counts",
    "processed_events",
    "channel_settings",
    "role_holders",
    "role_holder_changes",
    "knowledge_changes",
    "curator_posts",
}


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_empty_head_base_head(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        assert schema_state(engine).empty
        assert upgrade(engine).up_to_date
        assert _tables(db_url) == TABLES
        assert downgrade(engine, "base").empty
        assert _tables(db_url) == set()
        state = upgrade(engine)
        assert state.current == (head_revision(),)
        assert _tables(db_url) == TABLES
    finally:
        engine.dispose()


def test_curator_posts_migration_keeps_the_questions(db_url: str) -> None:
    """0003 -> 0004 adds the curators' channel messages; the logged questions stay, both
    ways."""
    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0003_role_holders")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO unanswered_questions (client_id, source, text, normalized, status,"
                " created_at) VALUES ('c1', 'mention', 'who owns llamas?', 'who owns llamas',"
                " 'open', '2026-12-01 10:00:00+00:00')"
            )
        assert upgrade(engine).current == (head_revision(),)
        with engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT text, curator_post_id FROM unanswered_questions"
            ).one()
        assert tuple(row) == ("who owns llamas?", None)
        assert "curator_posts" in _tables(db_url)
        downgrade(engine, "0003_role_holders")
        assert "curator_posts" not in _tables(db_url)
        with engine.connect() as conn:
            texts = conn.exec_driver_sql("SELECT text FROM unanswered_questions").scalars().all()
        assert texts == ["who owns llamas?"]
    finally:
        engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_sqlite_default_is_created_and_migrated_on_open(tmp_path: Path) -> None:
    settings = Settings.from_env({"ROLEBOT_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None)
    store = open_store(settings)
    try:
        assert (tmp_path / "data" / "rolebot.db").is_file()
        assert schema_state(store.engine).up_to_date
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_behind_head_says_run_db_upgrade(pg_url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"run `rolebot db upgrade`"):
        open_store_url(pg_url, tmp_path)
    assert _tables(pg_url) == set()  # checked, never migrated behind anyone's back
    open_store_url(pg_url, tmp_path, migrate=True).close()
    open_store_url(pg_url, tmp_path).close()  # at head: opens


@pytest.mark.postgres
def test_db_commands_on_postgres(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert main(["db", "current"]) == 0
    assert "empty" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from empty to {head_revision()}" in out
    assert main(["db", "upgrade"]) == 0
    assert "already at" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "downgrade", "base"]) == 0
    assert _tables(pg_url) == set()


def test_bad_revision_is_one_line(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    try:
        with pytest.raises(StoreError, match="migrating the database"):
            upgrade(engine, "nonexistent")
    finally:
        engine.dispose()


def test_migrations_run_from_the_bundled_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """As after a plain `pip install .`: the scripts live in bot/_bundled/migrations."""
    package = tmp_path / "site-packages" / "bot"
    shutil.copytree(migrations_dir(), package / "_bundled" / "migrations")
    monkeypatch.setattr(migrate_module, "_PACKAGE", package)
    assert migrations_dir() == package / "_bundled" / "migrations"
    config = alembic_config()
    assert config.get_main_option("script_location") == str(package / "_bundled" / "migrations")
    engine = create_db_engine(sqlite_url)
    try:
        assert upgrade(engine).up_to_date
    finally:
        engine.dispose()


def test_unsupported_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not supported"):
        open_store_url("mysql://x@localhost/db", tmp_path)
    with pytest.raises(StoreError, match="in-memory"):
        open_store_url("sqlite://", tmp_path)
    with pytest.raises(StoreError, match="not a database URL"):
        open_store_url("::nonsense::", tmp_path)
