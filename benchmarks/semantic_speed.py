"""The semantic layer's start-up, cache build and per-question latency (the `semantic` extra).

    .venv/bin/python benchmarks/semantic_speed.py                 # the bundled FAQ and 10 000
    .venv/bin/python benchmarks/semantic_speed.py --sizes 2288 100000

For each size, two fresh processes pinned to one core share an empty cache folder: the first
starts cold (loads WordLlama, embeds every phrasing, writes the cache), the second starts warm
(loads WordLlama, reads the cache) and then times :meth:`SemanticIndex.view` (the k=5 nearest
entries and every role's best cosine, from one embedding) over the labelled evaluation questions
plus FAQ phrasings with a typo, warm (after one pass). Start-up counts from before the first
rolebot import to a ready index. Knowledge larger than the bundled FAQ is grown as in
``match_speed.py``. The last column is the slowest of a few hostile messages (40 000 characters,
emoji only, Slack markup only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
SIZES = (2288, 10_000)

HOSTILE = [
    "who owns the roadmap? " * 2000,
    "x" * 40_000,
    ":tada: " * 5000,
    "<@U0123ABCD> <!here> <#C0123|general> <https://example.com|link> " * 500,
    "🎉" * 20_000,
]


def _knowledge(size: int):  # type: ignore[no-untyped-def]
    from match_speed import grow

    from bot.core.knowledge import bundled_knowledge_dir, load_knowledge

    base = load_knowledge(bundled_knowledge_dir())
    if size == base.phrasing_count:
        return base, base
    return base, grow(base, size)


def measure(size: int, cache: Path, rounds: int, warm: bool) -> dict[str, float]:
    started = time.perf_counter()
    from bot.core.matching import semantic
    from bot.core.matching.semantic import SemanticIndex

    imported = time.perf_counter()
    base, knowledge = _knowledge(size)
    loaded_knowledge = time.perf_counter()
    if semantic._load_model() is None:
        raise SystemExit("wordllama is not installed: pip install -e '.[semantic]'")
    model = time.perf_counter()
    index = SemanticIndex.build(knowledge, cache)
    ready = time.perf_counter()
    assert index is not None
    result: dict[str, float] = {
        "phrasings": index.size,
        "model_s": model - loaded_knowledge,
        "vectors_s": ready - model,
        # Start-up: imports, model and vectors; the knowledge loading is the lexical side's.
        "startup_s": (imported - started) + (ready - loaded_knowledge),
    }
    if not warm:
        return result
    from match_speed import questions

    asked = questions(base)
    for text in asked:
        index.view(text)
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text in asked:
            begin, begin_cpu = time.perf_counter_ns(), time.thread_time_ns()
            index.view(text)
            cpu.append((time.thread_time_ns() - begin_cpu) / 1e6)
            samples.append((time.perf_counter_ns() - begin) / 1e6)
    samples.sort()
    cpu.sort()
    hostile = []
    for text in HOSTILE:
        begin = time.perf_counter_ns()
        index.view(text)
        hostile.append((time.perf_counter_ns() - begin) / 1e6)
    result.update(
        p50_ms=statistics.median(samples),
        p99_ms=samples[int(len(samples) * 0.99) - 1],
        max_ms=samples[-1],
        cpu_p99_ms=cpu[int(len(cpu) * 0.99) - 1],
        hostile_ms=max(hostile),
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return result


def _one(size: int, cache: Path, rounds: int, warm: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", str(size), "--cache", str(cache)]
    command += ["--rounds", str(rounds)] + (["--warm"] if warm else [])
    if sys.platform.startswith("linux"):
        command = ["taskset", "-c", "0", *command]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    data: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(args.one, args.cache, args.rounds, args.warm)))
        return 0
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="rolebot-semantic-") as folder:
            cold = _one(size, Path(folder), args.rounds, warm=False)
            warm = _one(size, Path(folder), args.rounds, warm=True)
        rows.append((cold, warm))
        print(f"measured {size}", file=sys.stderr)
    from importlib.metadata import version

    print(
        f"cpu: {os.cpu_count()} cores, one used; load average {os.getloadavg()[0]:.1f}; "
        f"python {sys.version.split()[0]}; wordllama {version('wordllama')}"
    )
    print(
        "| phrasings | model load (s) | embed + cache write (s) | start-up cold (s) "
        "| start-up warm (s) | p50 (ms) | p99 (ms) | p99 CPU (ms) | max (ms) "
        "| hostile max (ms) | RSS (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cold, warm in rows:
        print(
            f"| {warm['phrasings']:,.0f} | {warm['model_s']:.2f} | {cold['vectors_s']:.2f} | "
            f"{cold['startup_s']:.2f} | {warm['startup_s']:.2f} | {warm['p50_ms']:.3f} | "
            f"{warm['p99_ms']:.3f} | {warm['cpu_p99_ms']:.3f} | {warm['max_ms']:.2f} | "
            f"{warm['hostile_ms']:.1f} | {warm['rss_mb']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
