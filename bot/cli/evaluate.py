"""``rolebot eval [FILE]``: answer quality on a labelled set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.context import Context
from bot.errors import RolebotError
from bot.evaluation import evaluate, format_report, load_cases

DEFAULT_SET = Path("tests/eval/questions.yaml")
PROMOTED_SET = Path("tests/eval/promoted.yaml")
"""Questions curators promoted (``rolebot unanswered promote`` appends them): regression cases.

Run with the default set when it exists; every one must still get its role, or the exit is 1.
"""


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "eval",
        parents=[common],
        help="measure answer quality on a labelled question set",
        description="Prints in-scope accuracy, the wrong-answer rate, out-of-scope rejection, "
        "the close-call rate, a confusion matrix per role, and the misses.",
    )
    parser.add_argument(
        "file",
        nargs="*",
        help=f"labelled sets (default: {DEFAULT_SET}, and {PROMOTED_SET} when it exists)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-misses", action="store_true", help="leave out the list of misses")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    files = [Path(f) for f in args.file] or [DEFAULT_SET]
    if not args.file and PROMOTED_SET.is_file():
        files.append(PROMOTED_SET)
    summaries = {}
    regressions = 0
    for path in files:
        if not path.is_file():
            raise RolebotError(
                f"no labelled set at '{path}' (give a path to a questions YAML file)"
            )
        report = evaluate(context.curated_engine, load_cases(path))
        if path.name == PROMOTED_SET.name:
            regressions += len(report.misses())
        if args.json:
            summaries[str(path)] = report.summary()
        else:
            print(format_report(report, f"== {path}", show_misses=not args.no_misses))
            print()
    if args.json:
        print(json.dumps(summaries, indent=2))
    if regressions:
        print(
            f"rolebot: {regressions} promoted question(s) no longer get the role they were "
            f"promoted to (`rolebot eval {PROMOTED_SET}` lists them)",
            file=sys.stderr,
        )
        return 1
    return 0
