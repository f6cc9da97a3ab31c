"""What the curators' channel costs the database: claiming a new question (compared with every
open message's topic), and one background sweep (handled messages, unposted questions).

    .venv/bin/python benchmarks/curator_channel.py                    # SQLite, a Markdown table
    .venv/bin/python benchmarks/curator_channel.py --postgres URL     # and PostgreSQL

For each number of open messages (each a different question of 300 random English words, the
worst case for the similarity), this logs one more question and claims it, 20 times: the
median and the worst claim, in milliseconds. Then it times ``handled()`` plus ``unposted()``,
what every replica runs each reload interval (best of 20).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spellchecker import SpellChecker  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.core.normalize import normalize  # noqa: E402
from bot.store import QuestionRecord, Source, open_store_url  # noqa: E402
from bot.store.curator_posts import OPEN_POSTS_COMPARED, curator_post_store  # noqa: E402

SIZES = (0, 100, 500, 1_000)
CHANNEL = "C0CURATORS"
ROUNDS = 20


def run(url: str, size: int, words: list[str], rng: random.Random) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as data:
        store = open_store_url(url, Path(data), migrate=True)
        posts = curator_post_store(store)
        assert posts is not None

        def log(text: str) -> None:
            store.log_question(QuestionRecord(text, normalize(text), Source.MENTION))

        for _ in range(size):
            log(" ".join(rng.choices(words, k=300)))
        for question in store.list_questions(limit=size):
            posts.claim(question, CHANNEL)
        claims = []
        for _ in range(ROUNDS):
            log(" ".join(rng.choices(words, k=300)))
            (question,) = store.list_questions(limit=1)
            started = time.perf_counter()
            posts.claim(question, CHANNEL)
            claims.append(time.perf_counter() - started)
        sweeps = []
        since = datetime.now(UTC) - timedelta(days=1)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            posts.handled(CHANNEL)
            posts.unposted(since)
            sweeps.append(time.perf_counter() - started)
        store.close()
    return statistics.median(claims) * 1000, max(claims) * 1000, min(sweeps) * 1000


def postgres_schema(base: str) -> tuple[str, str]:
    schema = f"rolebot_bench_{uuid.uuid4().hex[:10]}"
    with create_engine(base).begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to measure too")
    args = parser.parse_args()
    words = sorted(w for w in SpellChecker().word_frequency if w.isalpha())
    rng = random.Random(10)
    print(f"(a new question is compared with the {OPEN_POSTS_COMPARED} newest open messages)")
    print("| database | open messages | claim, median (ms) | claim, worst (ms) | sweep (ms) |")
    print("|---|---:|---:|---:|---:|")
    targets = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    for name, base in targets:
        for size in args.sizes:
            schema = None
            if base is None:
                folder = tempfile.mkdtemp()
                url = f"sqlite:///{folder}/bench.db"
            else:
                url, schema = postgres_schema(base)
            try:
                median, worst, sweep = run(url, size, words, rng)
            finally:
                if schema is not None and base is not None:
                    with create_engine(base).begin() as conn:
                        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            print(f"| {name} | {size:,} | {median:.1f} | {worst:.1f} | {sweep:.2f} |")


if __name__ == "__main__":
    main()
