"""Matcher speed and memory at 100 to 100 000 phrasings.

    .venv/bin/python benchmarks/match_speed.py            # all sizes, a Markdown table
    .venv/bin/python benchmarks/match_speed.py --sizes 1000 10000

The bundled knowledge is grown synthetically: extra entries whose phrasings mix the real
phrasings' words with invented ones (Zipf-distributed, so common words stay common and the
vocabulary grows as a real one would). Each size runs in a fresh process pinned to one core,
so RSS and timings are its own. Per-question latency is measured warm (after one pass) over the
labelled evaluation questions plus FAQ phrasings with a typo, each asked once per round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1_000, 10_000, 100_000)


def grow(knowledge, phrasings: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """A knowledge base with about ``phrasings`` phrasings, built from the real one."""
    from bot.core.knowledge import Entry

    rng = random.Random(seed)
    real = list(knowledge.entries)
    words = sorted({w for e in real for q in e.questions for w in q.lower().split()})
    invented = [f"{rng.choice(words)[:4]}{rng.randrange(10**6):x}" for _ in range(20_000)]
    vocabulary = words + invented
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    rng.shuffle(weights)
    entries = []
    count = 0
    for entry in real:
        if count >= phrasings:
            break
        keep = entry.questions[: max(1, min(len(entry.questions), phrasings - count))]
        entries.append(replace(entry, questions=keep, related=()))
        count += len(keep)
    number = 0
    while count < phrasings:
        base = rng.choice(real)
        questions = []
        for _ in range(min(6, phrasings - count)):
            template = rng.choice(base.questions).split()
            extra = rng.choices(vocabulary, weights=weights, k=rng.randint(1, 3))
            questions.append(" ".join([*template, *extra]))
        entries.append(
            Entry(
                f"synthetic-{number}", tuple(questions), base.owner, base.distinction, base.answer
            )
        )
        count += len(questions)
        number += 1
    return replace(knowledge, entries=tuple(entries))


def questions(knowledge) -> list[str]:  # type: ignore[no-untyped-def]
    import yaml

    data = yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text(encoding="utf-8"))
    asked = [item["q"] for item in data["questions"]]
    rng = random.Random(3)
    for entry in rng.sample(list(knowledge.entries), min(60, len(knowledge.entries))):
        text = entry.questions[0]
        cut = rng.randrange(1, max(2, len(text) - 1))
        asked.append(text[:cut] + text[cut + 1 :])  # a dropped letter
    return asked


def measure(size: int, rounds: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from bot.core.knowledge import bundled_knowledge_dir, load_knowledge
    from bot.core.matching import Matcher
    from bot.core.matching.index import english_words

    base = load_knowledge(bundled_knowledge_dir())
    english_words()  # a one-off load shared by every index; timed separately below
    knowledge = grow(base, size)
    started = time.perf_counter()
    matcher = Matcher(knowledge)
    build = time.perf_counter() - started
    asked = questions(base)
    for text in asked:  # warm-up pass
        matcher.match(text)
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text in asked:
            begin, begin_cpu = time.perf_counter_ns(), time.thread_time_ns()
            matcher.match(text)
            cpu.append((time.thread_time_ns() - begin_cpu) / 1e6)
            samples.append((time.perf_counter_ns() - begin) / 1e6)
    samples.sort()
    cpu.sort()
    hostile = 0.0
    for text in (
        "who owns the roadmap " * 2000,
        "🎉" * 20_000,
        "<@U1> *_~`<https://x.io|y>` " * 1400,
    ):
        begin = time.perf_counter_ns()
        matcher.match(text)
        hostile = max(hostile, (time.perf_counter_ns() - begin) / 1e6)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "phrasings": knowledge.phrasing_count,
        "entries": len(knowledge.entries),
        "build_s": build,
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[int(len(samples) * 0.99) - 1],
        "max_ms": samples[-1],
        "p99_cpu_ms": cpu[int(len(cpu) * 0.99) - 1],
        "hostile_ms": hostile,
        "questions": len(samples),
        "rss_mb": rss_mb,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.rounds)))
        return 0
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--rounds", str(args.rounds)]
        if sys.platform.startswith("linux"):
            command = ["taskset", "-c", "0", *command]
        output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
        rows.append(json.loads(output.stdout.strip().splitlines()[-1]))
        print(f"measured {size}", file=sys.stderr)
    print(f"cpu: {os.cpu_count()} cores, one used; python {sys.version.split()[0]}")
    print(
        "| phrasings | entries | build (s) | p50 (ms) | p99 (ms) | p99 CPU (ms) | max (ms) "
        "| hostile max (ms) | RSS (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['phrasings']:,} | {row['entries']:,} | {row['build_s']:.2f} | "
            f"{row['p50_ms']:.3f} | {row['p99_ms']:.3f} | {row['p99_cpu_ms']:.3f} | "
            f"{row['max_ms']:.2f} | {row['hostile_ms']:.1f} | {row['rss_mb']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
