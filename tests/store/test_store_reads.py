"""Reads never wait for SQLite's write lock: with write-ahead logging a reader sees the last
committed state while a writer works, so the curators' commands (``rolebot unanswered list``,
``stats``, ``db current``) and the worker's checks must not begin with ``BEGIN IMMEDIATE``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from storekit import record

from bot.store import SqlStore, open_store_url

ROLEBOT = Path(sys.executable).with_name("rolebot")


@pytest.fixture
def locked_database(tmp_path: Path) -> Iterator[Path]:
    """A migrated SQLite file holding one question, whose write lock another process holds."""
    path = tmp_path / "rolebot.db"
    store = open_store_url(f"sqlite:///{path}", tmp_path / "data", migrate=True)
    store.log_question(record("who signs off the vendor contract?"))
    store.close()
    holder = sqlite3.connect(path, isolation_level=None, timeout=10)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE unanswered_questions SET channel_id = 'C0LOCKED'")
    try:
        yield path
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLEBOT_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite:///{path}"
    env["ROLEBOT_DATA_DIR"] = str(path.parent / "data")
    command = [str(ROLEBOT)] if ROLEBOT.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run(
        [*command, *args],
        env=env,
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("unanswered", "list"),
        ("unanswered", "list", "--format", "json"),
        ("unanswered", "groups"),
        ("stats",),
        ("db", "current"),
    ],
)
def test_curator_reads_work_while_a_writer_holds_the_lock(
    locked_database: Path, args: tuple[str, ...]
) -> None:
    result = _cli(locked_database, *args)
    assert result.returncode == 0, result.stderr
    assert "locked" not in result.stderr
    if args[0] == "unanswered":
        # the committed state: the writer's uncommitted change is not seen
        assert "vendor contract" in result.stdout
        assert "C0LOCKED" not in result.stdout


@pytest.fixture
def locked_store(locked_database: Path) -> Iterator[SqlStore]:
    """A store on the locked file, waiting at most 0.2 s for the lock."""
    store = open_store_url(
        f"sqlite:///{locked_database}", locked_database.parent / "data", migrate=False,
        busy_timeout=0.2,
    )  # fmt: skip
    try:
        yield store
    finally:
        store.close()


def test_store_reads_and_the_health_check_work_while_a_writer_holds_the_lock(
    locked_store: SqlStore,
) -> None:
    store = locked_store
    assert [q.text for q in store.list_questions()] == ["who signs off the vendor contract?"]
    assert store.healthy()
    assert store.listening("C0GENERAL") is False


def test_a_write_still_waits_for_the_lock_and_then_goes_to_the_spool(
    locked_store: SqlStore,
) -> None:
    """Writes keep BEGIN IMMEDIATE: they wait (politely) for the writer, then spool."""
    locked_store.log_question(record("who owns the launch checklist?"))
    assert locked_store.spool.count() == 1
