"""``rolebot stats [--since 30d]``: how rolebot is doing, from the daily answer counts.

Answered, close-call, clarify and unanswered rates; the most asked entries with their
"Helpful" and "Wrong role" clicks; and the state of the unanswered log.
"""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from typing import Any

from bot.cli.context import Context
from bot.cli.db import open_cli_store
from bot.cli.unanswered import since_arg
from bot.store import Stats

_LABELS = {
    "answered": "answered",
    "close_call": "close call",
    "clarify": "asked which PM",
    "unanswered": "unanswered",
}


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "stats",
        parents=[common],
        help="answer rates, most asked entries, helpful vs wrong clicks",
        description="Counts come from per-entry daily totals; no question text is kept for "
        "answered questions.",
    )
    parser.add_argument(
        "--since", metavar="DURATION", help="only the last 30d, 2w, ... (default: everything)"
    )
    parser.add_argument("--top", type=int, default=10, metavar="N", help="entries to show")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    since = since_arg(args.since)
    with closing(open_cli_store(context)) as store:
        stats = store.stats(since, top=args.top)
    if args.json:
        print(json.dumps(to_json(stats), indent=2))
    else:
        print(render(stats, args.since))
    return 0


def to_json(stats: Stats) -> dict[str, Any]:
    return {
        "since": stats.since.isoformat() if stats.since else None,
        "total": stats.total,
        "outcomes": dict(stats.outcomes),
        "rates": {k: round(stats.rate(k), 4) for k in stats.outcomes},
        "entries": [
            {"entry_id": e.entry_id, "answered": e.answered, "helpful": e.helpful, "wrong": e.wrong}
            for e in stats.entries
        ],
        "other": dict(stats.other),
        "unanswered_log": dict(stats.logged),
    }


def render(stats: Stats, since_text: str | None = None) -> str:
    period = f"in the last {since_text}" if since_text else "so far"
    lines = [f"questions {period}: {stats.total}"]
    for outcome, count in stats.outcomes.items():
        label = _LABELS.get(outcome, outcome)
        lines.append(f"  {label:<16}{stats.rate(outcome):7.1%}  ({count})")
    if stats.other:
        lines.append("  also counted: " + ", ".join(f"{k} {v}" for k, v in stats.other.items()))
    logged = stats.logged
    lines.append(
        "unanswered log: "
        + ", ".join(f"{logged.get(s, 0)} {s}" for s in ("open", "promoted", "dismissed"))
    )
    if stats.entries:
        lines += ["", f"{'most asked entries':<40}{'answered':>9}{'helpful':>9}{'wrong':>7}"]
        for entry in stats.entries:
            lines.append(
                f"  {entry.entry_id:<38}{entry.answered:>9}{entry.helpful:>9}{entry.wrong:>7}"
            )
    return "\n".join(lines)
