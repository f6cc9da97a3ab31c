"""``rolebot ask``: who owns this? Readable, or JSON for scripts (one object a line with ``-``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.context import Context
from bot.core.answers import Answer


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "ask",
        parents=[common],
        help="ask who owns something",
        description="Ask who owns something. With '-', read questions one per line from "
        "standard input (with --json: one JSON object per line, in order).",
    )
    parser.add_argument("question", help="the question, or '-' to read questions from stdin")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    engine = context.curated_engine
    if args.question == "-":
        for line in sys.stdin:
            question = line.rstrip("\n")
            answer = engine.ask(question)
            print(json.dumps(to_json(answer)) if args.json else render(answer) + "\n", flush=True)
        return 0
    answer = engine.ask(args.question)
    print(json.dumps(to_json(answer), indent=2) if args.json else render(answer))
    return 0


def to_json(answer: Answer) -> dict[str, Any]:
    """The stable JSON shape scripts rely on."""
    result = answer.result
    return {
        "question": answer.question,
        "outcome": answer.outcome,
        "kind": result.kind,
        "role": answer.role.id if answer.role else None,
        "role_name": answer.role.name if answer.role else None,
        "entry_id": answer.entry.id if answer.entry else None,
        "score": round(answer.score, 1),
        "confidence": round(result.confidence, 3),
        "distinction": answer.entry.distinction if answer.entry else None,
        "answer": answer.entry.answer if answer.entry else None,
        "matched_question": result.best.phrasing if answer.entry and result.best else None,
        "roles": list(result.roles) if answer.outcome in ("close_call", "clarify") else [],
        "candidates": [
            {"role": c.role, "entry_id": c.entry_id, "score": c.score} for c in result.candidates
        ],
    }


def render(answer: Answer) -> str:
    result = answer.result
    lines: list[str] = []
    if answer.outcome == "answered" and answer.role is not None:
        if answer.entry is not None:
            lines.append(f"{answer.role.name}  ({answer.distinction})")
            lines.append(f"  why:     {answer.entry.answer}")
            lines.append(
                f'  matched: {answer.entry.id}  "{result.best.phrasing if result.best else ""}"'
                f"  score {answer.score:.1f}  confidence {result.confidence:.2f}"
            )
        else:
            lines.append(f"{answer.role.name}: {answer.role.question}")
            lines.append(f"  {answer.role.definition}")
    elif answer.outcome == "close_call":
        names = " or ".join(r.name for r in answer.roles)
        lines.append(f"Close call: {names}. Which did you mean?")
    elif answer.outcome == "clarify":
        names = ", ".join(r.name for r in answer.roles)
        lines.append(f"Which one do you mean? It could be: {names}.")
    else:
        lines.append("I don't know that one yet; curators will see it.")
        if answer.nearest:
            lines.append("  nearest: " + "; ".join(e.questions[0] for e in answer.nearest))
    others = result.candidates[1:] if answer.outcome == "answered" else result.candidates
    if others:
        lines.append(
            "  runners-up: "
            + ", ".join(f"{c.entry_id} ({c.role}, {c.score:.1f})" for c in others[:4])
        )
    return "\n".join(lines)
