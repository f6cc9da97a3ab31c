"""What the semantic index says about a labelled set, beside the lexical matcher (figures only).

    .venv/bin/python benchmarks/semantic_quality.py                          # the tuning set
    .venv/bin/python benchmarks/semantic_quality.py tests/eval/holdout.yaml  # for information

Prints, for in-scope questions, how often the nearest phrasing's role is the right role by its
cosine and by the role margin (best role's cosine minus the second's); the out-of-scope
questions' best cosines; and the "support" of the lexical matcher's top role (that role's best
cosine minus the best other role's) against whether the lexical top role is right. Nothing here
picks a threshold: choose features and cut-offs on the tuning set only, never on a holdout.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("product_manager", "program_manager", "project_manager", "technical_program_manager")
COSINE_BINS = (0.0, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1.01)
MARGIN_BINS = (0.0, 0.02, 0.05, 0.1, 0.2, 2.0)
SUPPORT_BINS = (-2.0, -0.05, 0.0, 0.05, 0.1, 0.2, 2.0)


@dataclass
class Row:
    expect: str
    cosine: float
    role: str | None
    margin: float
    lexical_role: str | None
    lexical_answered: bool
    support: float | None


def _share(rows: list[Row], right: int) -> str:
    return f"{right / len(rows):.0%}" if rows else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "tests/eval/questions.yaml")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import yaml

    from bot.core.engine import Engine
    from bot.core.knowledge import bundled_knowledge_dir

    engine = Engine(bundled_knowledge_dir(), semantic=True)
    index = engine.semantic
    if index is None:
        raise SystemExit("wordllama is not installed: pip install -e '.[semantic]'")
    items = yaml.safe_load(args.file.read_text(encoding="utf-8"))["questions"]
    rows = []
    for item in items:
        view = index.view(item["q"], k=1)
        result = engine.matcher.match(item["q"])
        scores = sorted(view.role_scores.values(), reverse=True)
        lexical = result.best.role if result.best else None
        rows.append(
            Row(
                expect=item["expect"],
                cosine=view.hits[0].cosine if view.hits else 0.0,
                role=view.hits[0].role if view.hits else None,
                margin=scores[0] - scores[1] if len(scores) > 1 else 0.0,
                lexical_role=lexical,
                lexical_answered=result.role is not None,
                support=view.support(lexical) if lexical else None,
            )
        )
    inside = [r for r in rows if r.expect in ROLES]
    outside = [r for r in rows if r.expect == "none"]
    right = sum(r.role == r.expect for r in inside)
    lexical_right = sum(r.lexical_role == r.expect for r in inside)
    print(f"{args.file.name}: {len(inside)} in-scope, {len(outside)} out-of-scope questions")
    print(
        f"nearest phrasing's role right: {right} of {len(inside)} ({_share(inside, right)}); "
        f"lexical top candidate's role right: {_share(inside, lexical_right)}"
    )

    print("\n| nearest cosine | in-scope | role right | out-of-scope |")
    print("|---|---:|---:|---:|")
    for low, high in pairwise(COSINE_BINS):
        chosen = [r for r in inside if low <= r.cosine < high]
        off = [r for r in outside if low <= r.cosine < high]
        good = sum(r.role == r.expect for r in chosen)
        print(f"| {low:.2f}-{high:.2f} | {len(chosen)} | {_share(chosen, good)} | {len(off)} |")
    print(f"(out-of-scope with no vector at all: {sum(r.role is None for r in outside)})")

    print("\n| role margin | in-scope | role right |")
    print("|---|---:|---:|")
    for low, high in pairwise(MARGIN_BINS):
        chosen = [r for r in inside if low <= r.margin < high]
        good = sum(r.role == r.expect for r in chosen)
        print(f"| {low:.2f}-{high:.2f} | {len(chosen)} | {_share(chosen, good)} |")

    print(
        "\n| support of the lexical top role | in-scope | lexical right | declined (right) "
        "| out-of-scope | of them answered |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for low, high in pairwise(SUPPORT_BINS):
        chosen = [r for r in inside if r.support is not None and low <= r.support < high]
        off = [r for r in outside if r.support is not None and low <= r.support < high]
        declined = [r for r in chosen if not r.lexical_answered]
        print(
            f"| {low:+.2f} to {high:+.2f} | {len(chosen)} | "
            f"{_share(chosen, sum(r.lexical_role == r.expect for r in chosen))} | "
            f"{len(declined)} ({sum(r.lexical_role == r.expect for r in declined)}) | "
            f"{len(off)} | {sum(r.lexical_answered for r in off)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
