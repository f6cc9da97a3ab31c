"""What naming role holders costs an answer: reading a channel's holders from the database.

Fills a fresh database with CHANNELS channels, each with holders for the four roles, then times
``HolderStore.for_channel`` with the cache off (a database read every time, what every replica
pays at most once a second per channel) and on, and ``set`` (a change with its history row).

    .venv/bin/python benchmarks/holders_read.py [--channels 2000] [--url DATABASE_URL]

Without ``--url`` it uses a fresh SQLite file; a PostgreSQL URL gets a fresh schema, dropped after.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.store.engine import create_db_engine
from bot.store.holders import Holder, HolderStore
from bot.store.migrate import upgrade

ROLES = ("product_manager", "program_manager", "project_manager", "technical_program_manager")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(url: str, channels: int, reads: int) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    names = [f"C{n:08d}" for n in range(channels)]
    uncached = HolderStore(engine, cache_ttl=0.0)
    batch = [
        (channel, role, [Holder(f"U{n:05d}{r}{k}X") for k in range(3)])
        for n, channel in enumerate(names)
        for r, role in enumerate(ROLES)
    ]
    for start in range(0, len(batch), 400):
        uncached.set_many(batch[start : start + 400], by="cli:bench")
    rng = random.Random(7)
    timings: dict[str, list[float]] = {"read (no cache)": [], "read (cached)": [], "set": []}
    cached = HolderStore(engine, cache_ttl=3600.0)
    for channel in names:  # warm: every channel read once
        cached.for_channel(channel)
    for name, store in (("read (no cache)", uncached), ("read (cached)", cached)):
        for _ in range(reads):
            channel = rng.choice(names)
            started = time.perf_counter()
            found = store.for_channel(channel)
            timings[name].append((time.perf_counter() - started) * 1000)
            assert len(found) == 4
    for n in range(min(reads, 500)):
        channel = rng.choice(names)
        started = time.perf_counter()
        uncached.set(channel, ROLES[n % 4], [Holder(f"U{n:07d}Y")], by="cli:bench")
        timings["set"].append((time.perf_counter() - started) * 1000)
    engine.dispose()
    print(f"{make_url(url).get_backend_name()}, {channels} channels x 4 roles x 3 holders")
    print(f"{'operation':<16} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in timings.items():
        print(
            f"{name:<16} {len(values):>6} {statistics.median(values):>8.3f} "
            f"{percentile(values, 0.99):>8.3f} {max(values):>8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--url", help="a PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    if not args.url:
        with tempfile.TemporaryDirectory() as folder:
            measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.channels, args.reads)
        return
    schema = f"rolebot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
        measure(url.render_as_string(hide_password=False), args.channels, args.reads)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
