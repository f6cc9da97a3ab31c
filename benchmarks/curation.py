"""How fast a curator's promote reaches every replica, with 0 to 300 earlier changes in the log.

    .venv/bin/python benchmarks/curation.py                      # SQLite, and PostgreSQL if up
    .venv/bin/python benchmarks/curation.py --changes 0 100 --postgres URL

Two stores on one database stand for two replicas, each with its own Engine over the bundled
knowledge (read-only) plus the log. For each size the log is first filled with that many
curated changes (new entries, phrasings, answers); then, a few times over, a question is logged
and promoted through replica A (validated with the whole log, stored in one transaction), and
replica B, checking the revision every ``--interval`` seconds like a running bot, reloads and
answers it. Printed: the promote's own time, one revision check, B's reload, and the time from
the promote's commit to B's first right answer (median and worst), as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine

from bot.core.engine import Engine
from bot.core.knowledge import bundled_knowledge_dir
from bot.core.knowledge.changes import ADD_PHRASINGS, NEW_ENTRY, SET_ANSWER, KnowledgeChange
from bot.core.normalize import normalize
from bot.curation.review import promote
from bot.store import QuestionRecord, Source, SqlStore, open_store_url

SIZES = (0, 30, 300)
ROUNDS = 5
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORDS = """alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike
november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu""".split()


def _fill(store: SqlStore, count: int) -> None:
    for number in range(count):
        word = f"{WORDS[number % len(WORDS)]}{number}"
        kind = (NEW_ENTRY, ADD_PHRASINGS, SET_ANSWER)[number % 3]
        entry = f"bench-{number - number % 3}"
        change = KnowledgeChange(
            kind,
            entry,
            "program_manager",
            "how",
            (f"who coordinates the {word} rollout across teams",) if kind != SET_ANSWER else (),
            f"The {word} rollout spans teams: the Program Manager's call."
            if kind != ADD_PHRASINGS
            else None,
        )
        store.append_change(change, expected_revision=store.knowledge_revision(), by="bench")


def _run(url: str, data: Path, size: int, interval: float) -> dict[str, float]:
    a = open_store_url(url, data / "a", migrate=True)
    b = open_store_url(url, data / "b")
    try:
        _fill(a, size)
        knowledge = bundled_knowledge_dir()
        replica = Engine(knowledge, changes=b)
        promote_s, check_s, reload_s, reach_s = [], [], [], []
        for round_ in range(ROUNDS):
            text = f"who owns the {WORDS[round_]} escrow audit number {size}?"
            a.log_question(QuestionRecord(text, normalize(text), Source.MENTION))
            [question] = [q for q in a.list_questions() if q.text == text]
            started = time.perf_counter()
            result = promote(a, knowledge, [question.id], "program_manager", by="bench")
            committed = time.perf_counter()
            promote_s.append(committed - started)
            while True:
                check = time.perf_counter()
                b.knowledge_revision()
                check_s.append(time.perf_counter() - check)
                before = time.perf_counter()
                if replica.reload_if_changed(interval) is not None:
                    reload_s.append(time.perf_counter() - before)
                answer = replica.ask(text)
                if answer.entry is not None and answer.entry.id == result.entry_id:
                    reach_s.append(time.perf_counter() - committed)
                    break
                time.sleep(0.01)
        return {
            "promote": statistics.median(promote_s),
            "check": statistics.median(check_s),
            "reload": statistics.median(reload_s),
            "reach": statistics.median(reach_s),
            "reach_max": max(reach_s),
        }
    finally:
        a.close()
        b.close()


def _postgres_schema(url: str) -> tuple[str, str] | None:
    admin = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            schema = f"rolebot_bench_{uuid.uuid4().hex[:10]}"
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception:
        return None
    finally:
        admin.dispose()
    from sqlalchemy.engine import make_url

    with_path = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return with_path.render_as_string(hide_password=False), schema


def _drop(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--interval", type=float, default=2.0, help="ROLEBOT_RELOAD_INTERVAL")
    parser.add_argument("--postgres", default=os.environ.get("ROLEBOT_TEST_POSTGRES_URL", POSTGRES))
    args = parser.parse_args()
    print(f"reload interval {args.interval} s; {ROUNDS} promotes per row; medians (worst)")
    print()
    print(
        "| database | changes in the log | promote (s) | revision check (ms) | reload (s) "
        "| promote to answered on the other replica (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for backend in ("sqlite", "postgresql"):
        for size in args.changes:
            work = Path(tempfile.mkdtemp(prefix="rolebot-bench-"))
            schema = None
            try:
                if backend == "sqlite":
                    url = f"sqlite:///{work / 'rolebot.db'}"
                else:
                    made = _postgres_schema(args.postgres)
                    if made is None:
                        print(f"| postgresql | {size} | unreachable | | | |")
                        continue
                    url, schema = made
                row = _run(url, work, size, args.interval)
            finally:
                if schema is not None:
                    _drop(args.postgres, schema)
                shutil.rmtree(work, ignore_errors=True)
            print(
                f"| {backend} | {size} | {row['promote']:.2f} | {row['check'] * 1000:.2f} "
                f"| {row['reload']:.2f} | {row['reach']:.2f} ({row['reach_max']:.2f}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
