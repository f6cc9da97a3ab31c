"""How long the curators' views take to group the open questions.

    .venv/bin/python benchmarks/grouping_speed.py                 # all sizes, a Markdown table
    .venv/bin/python benchmarks/grouping_speed.py --sizes 1000

``rolebot unanswered groups``, ``/role unanswered`` and the Home tab all call
``SqlStore.open_groups``: read the open questions, then group near-duplicates. This logs N
questions into a real SQLite store in a temporary folder and times that call, in two shapes:

- *hostile*: every question is 300 words drawn at random from an English word list (the
  worst case: long, all different, many words sharing their first letters);
- *realistic*: short questions, a third of them rewordings or typos of earlier ones.

Each figure is the best of three runs (seconds), with the number of groups found.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spellchecker import SpellChecker  # noqa: E402

from bot.core.normalize import normalize  # noqa: E402
from bot.store import QuestionRecord, Source, open_store_url  # noqa: E402

SIZES = (30, 100, 1_000, 5_000)
WORDS_PER_QUESTION = 300
TOPICS = (
    "sso rollout",
    "quarterly budget review",
    "vendor contracts",
    "release notes",
    "customer interviews",
    "launch checklist",
    "api deprecation",
    "hiring plan",
    "design system",
    "billing migration",
)


def hostile(count: int, rng: random.Random) -> list[str]:
    words = sorted(w for w in SpellChecker().word_frequency if w.isalpha())
    return [" ".join(rng.choices(words, k=WORDS_PER_QUESTION)) for _ in range(count)]


def realistic(count: int, rng: random.Random) -> list[str]:
    openers = ("who owns the", "who is in charge of the", "who decides on the", "who runs the")
    questions: list[str] = []
    for number in range(count):
        if questions and rng.random() < 0.33:
            base = rng.choice(questions).split()
            spot = rng.randrange(len(base))
            base[spot] = base[spot][:-1] if len(base[spot]) > 4 else base[spot]
            questions.append(" ".join(base))
        else:
            topic = rng.choice(TOPICS)
            questions.append(f"{rng.choice(openers)} {topic} for team {number}?")
    return questions


def measure(texts: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        store = open_store_url(f"sqlite:///{data / 'rolebot.db'}", data, migrate=True)
        try:
            for text in texts:
                store.log_question(QuestionRecord(text, normalize(text), Source.MENTION))
            best = float("inf")
            groups = 0
            for _ in range(3):
                started = time.perf_counter()
                found = store.open_groups(limit=20, scan=len(texts))
                best = min(best, time.perf_counter() - started)
                groups = len(store.open_groups(limit=None, scan=len(texts)))  # type: ignore[arg-type]
                del found
            return best, groups
        finally:
            store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    print("| open questions | shape | words each | open_groups (s) | groups |")
    print("|---:|---|---:|---:|---:|")
    for size in args.sizes:
        for shape, make in (("hostile", hostile), ("realistic", realistic)):
            texts = make(size, random.Random(size))
            words = round(sum(len(t.split()) for t in texts) / len(texts))
            seconds, groups = measure(texts)
            print(f"| {size:,} | {shape} | {words} | {seconds:.3f} | {groups:,} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
