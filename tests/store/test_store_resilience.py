"""Never lose a question, never slow an answer: the database goes away mid-run and comes back.

SQLite is blocked by another connection holding the write lock; PostgreSQL is "killed" by
stopping a loopback TCP proxy that stands between rolebot and the server (the server itself is
never touched). Either way every question must end up in the database exactly once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from storekit import StoreFactory, TcpProxy, record, schema_url, stored_texts

from bot.errors import StoreError
from bot.store import SqlStore, open_store_url
from bot.store.spool import REJECTED_NAME, Spool

ROOT = Path(__file__).resolve().parents[2]
FAST = {"retry_interval": 0.05, "replay_interval": 0.0}


def _texts(prefix: str, count: int) -> list[str]:
    return [f"{prefix} question number {i}" for i in range(count)]


def _assert_exactly_once(store: SqlStore, expected: list[str]) -> None:
    stored = Counter(stored_texts(store))
    assert set(stored) == set(expected), set(expected) ^ set(stored)
    assert max(stored.values()) == 1, [t for t, n in stored.items() if n > 1]


# --------------------------------------------------------------------------- SQLite
def test_sqlite_locked_mid_run_loses_nothing(sqlite_url: str, data_dir: Path) -> None:
    store = open_store_url(sqlite_url, data_dir, busy_timeout=0.1, **FAST)
    path = make_url(sqlite_url).database
    assert path is not None
    locker = sqlite3.connect(path, isolation_level=None)
    texts = _texts("sqlite", 30)
    try:
        for index, text in enumerate(texts):
            if index == 10:
                locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            if index == 20:
                locker.execute("COMMIT")
                time.sleep(0.06)
            started = time.monotonic()
            store.log_question(record(text, event_id=f"Ev-{index}"))
            assert time.monotonic() - started < 1.0  # never waits long
            if 10 <= index < 20:
                assert store.spool.pending()
        # the first write after the lock went away replayed the spool
        assert not store.spool.pending()
        _assert_exactly_once(store, texts)
    finally:
        locker.close()
        store.close()


def test_sqlite_many_threads_and_processes_at_once(sqlite_url: str, data_dir: Path) -> None:
    """No "database is locked": every write lands directly, nothing needs the spool."""
    script = textwrap.dedent(
        """
        import sys, threading
        from pathlib import Path
        sys.path.insert(0, sys.argv[4])
        from storekit import record
        from bot.store import open_store_url
        url, data, tag = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
        store = open_store_url(url, data)  # several processes migrate a fresh file at once
        def work(thread):
            for i in range(40):
                store.log_question(record(f"{tag}-{thread}-{i}"))
                store.count_answer("product-vision", "answered")
        threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
        store.close()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    here = str(Path(__file__).parent)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, sqlite_url, str(data_dir), f"p{n}", here], env=env
        )
        for n in range(3)
    ]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0]
    store = open_store_url(sqlite_url, data_dir)
    try:
        expected = [f"p{n}-{t}-{i}" for n in range(3) for t in range(3) for i in range(40)]
        _assert_exactly_once(store, expected)
        assert store.stats().outcomes["answered"] == len(expected)
        assert not store.spool.pending(), "a write fell back to the spool"
    finally:
        store.close()


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
def test_postgres_down_mid_run_loses_nothing(
    postgres_server: str, pg_schema: str, data_dir: Path
) -> None:

    server = make_url(postgres_server)
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
    proxy.start()
    store = open_store_url(
        schema_url(postgres_server, pg_schema, port=proxy.port), data_dir, migrate=True, **FAST
    )
    per_thread = 25
    outage_starts, outage_over = threading.Barrier(4), threading.Barrier(4)
    down, up = threading.Event(), threading.Event()

    def ask(name: str) -> None:
        for index in range(per_thread):
            if index == 8:
                outage_starts.wait(10)
                down.wait(5)
            if index == 16:
                outage_over.wait(5)
                up.wait(5)
            store.log_question(
                record(f"{name} question number {index}", event_id=f"{name}-{index}")
            )
            store.record_feedback("product-vision", index % 2 == 0, f"U{index}")
            store.count_answer("product-vision", "answered")

    workers = [threading.Thread(target=ask, args=(f"t{n}",)) for n in range(3)]
    try:
        for worker in workers:
            worker.start()
        outage_starts.wait(10)  # each thread has asked 8 questions
        proxy.stop()  # the database "goes down" while questions keep coming
        down.set()
        outage_over.wait(10)  # each thread asked 8 more while it was down
        assert not store.healthy()
        assert store.spool.count() == 3 * 8 * 3  # question, feedback and count each
        proxy.start()
        time.sleep(0.1)
        up.set()
        for worker in workers:
            worker.join(timeout=30)
        assert store.healthy()
        store.replay_spool()  # also what `rolebot unanswered replay` does
        expected = [f"t{n} question number {i}" for n in range(3) for i in range(per_thread)]
        _assert_exactly_once(store, expected)
        stats = store.stats()
        assert stats.outcomes["answered"] == 3 * per_thread
        [entry] = stats.entries
        assert entry.helpful + entry.wrong == 3 * per_thread
        assert not store.spool.pending()
    finally:
        store.close()
        proxy.stop()


@pytest.mark.postgres
def test_postgres_unreachable_at_start_is_a_clear_error(tmp_path: Path) -> None:
    proxy = TcpProxy(("127.0.0.1", 5432))  # never started: nothing listens on its port
    url = f"postgresql+psycopg://rolebot:supersecret@127.0.0.1:{proxy.port}/test"
    with pytest.raises(StoreError) as caught:
        open_store_url(url, tmp_path)
    message = str(caught.value)
    assert "supersecret" not in message and "***" in message
    assert "\n" not in message


# --------------------------------------------------------------------------- the spool
def test_replay_is_idempotent_after_a_crash(store: SqlStore) -> None:
    """A replay that stored the records but died before deleting the file stores nothing twice."""
    store._mark_down(RuntimeError("test"))
    store.retry_interval = 60
    store._mark_down(RuntimeError("test"))
    texts = _texts("spooled", 5)
    for text in texts:
        store.log_question(record(text))
    store.count_answer(None, "unanswered")
    store.record_feedback("x", True, "U1")
    assert store.spool.count() == 7
    saved = store.spool.path.read_bytes()
    assert store.replay_spool() == 7
    store.spool.path.write_bytes(saved)  # as if the file had never been deleted
    store.replay_spool()
    _assert_exactly_once(store, texts)


def test_unreadable_and_refused_records_are_set_aside(store: SqlStore) -> None:
    store.retry_interval = 60
    store._mark_down(RuntimeError("test"))
    store.log_question(record("good, spooled"))
    store.spool.append({"kind": "question", "row": {"client_id": "c1", "text": "no source"}})
    store.spool.append({"kind": "question", "row": {"text": "no client id"}})
    store.spool.append({"kind": "mystery", "row": {}})
    with store.spool.path.open("ab") as handle:
        handle.write(b'{"kind": "question", "row": {"torn')  # a write cut short
    assert store.replay_spool() == 4
    rejected = (store.spool.directory / REJECTED_NAME).read_text().splitlines()
    assert len(rejected) == 4  # kept for a person to look at, not dropped
    assert stored_texts(store) == ["good, spooled"]
    assert not store.spool.pending()


def test_spool_appends_from_many_processes_while_replaying(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from bot.store.spool import Spool
        spool = Spool(Path(sys.argv[1]))
        for i in range(300):
            spool.append({"kind": "question", "row": {"client_id": f"{sys.argv[2]}-{i}"}})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", script, str(spool_dir), f"p{n}"], env=env)
        for n in range(3)
    ]
    spool = Spool(spool_dir)
    seen: list[str] = []

    def take(records: list[dict[str, dict[str, str]]]) -> None:
        seen.extend(r["row"]["client_id"] for r in records)

    while any(child.poll() is None for child in children):
        spool.replay(take)  # type: ignore[arg-type]
        time.sleep(0.005)
    assert [child.returncode for child in children] == [0, 0, 0]
    spool.replay(take)  # type: ignore[arg-type]
    assert len(seen) == 900 and len(set(seen)) == 900
    assert not spool.pending()


def test_failed_replay_keeps_the_records(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append({"kind": "question", "row": {"client_id": "a"}})

    def broken(records: object) -> None:
        raise ConnectionError("still down")

    with pytest.raises(ConnectionError):
        spool.replay(broken)
    assert spool.count() == 1
    got: list[object] = []
    assert spool.replay(got.extend) == 1
    assert got == [{"kind": "question", "row": {"client_id": "a"}}]
    assert not spool.pending()


def test_spool_lines_are_json_and_private(store: SqlStore) -> None:
    store.retry_interval = 60
    store._mark_down(RuntimeError("test"))
    store.log_question(record("what a question", user_id="U1"))
    line = store.spool.path.read_text().strip()
    assert json.loads(line)["row"]["text"] == "what a question"
    assert oct(store.spool.path.stat().st_mode & 0o777) == "0o600"


def test_events_are_claimed_once_while_the_database_is_down(make_store: StoreFactory) -> None:
    """Slack's retries reach other workers; with the database down they still get one reply."""
    first, second = make_store(), make_store()  # two workers sharing one data folder
    for store in (first, second):
        store._mark_down(RuntimeError("test"))
    assert first.claim_event("Ev-outage") is True
    assert second.claim_event("Ev-outage") is False
    assert first.claim_event("Ev-outage") is False
    assert second.claim_event("Ev-other") is True
