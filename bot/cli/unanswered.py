"""``rolebot unanswered list|groups|promote|dismiss|replay|purge``: the curator review loop.

What rolebot could not answer (and every "Wrong role" click) lands in the unanswered log.
``groups`` shows what to write next; ``promote`` turns questions into knowledge (phrasings of an
existing entry, or a new entry): a curated change in the database that every running replica
picks up without a restart (``rolebot kb export`` writes it into YAML). Promoted questions are
also appended to ``tests/eval/promoted.yaml`` when that folder exists, so ``rolebot eval``
keeps checking they still reach their role.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from contextlib import closing
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cli.context import Context
from bot.cli.db import open_cli_store
from bot.config import parse_duration
from bot.curation.review import REGRESSION_FILE, dismiss, promote
from bot.store import LoggedQuestion, Source, Status

FORMATS = ("table", "csv", "json")
CSV_FIELDS = (
    "id",
    "created_at",
    "source",
    "status",
    "channel_id",
    "user_id",
    "best_entry_id",
    "best_score",
    "suggested_role",
    "resolved_entry_id",
    "resolved_by",
    "resolved_at",
    "text",
    "normalized",
)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "unanswered",
        help="review what rolebot could not answer (list, groups, promote, dismiss, purge)",
        description="The unanswered log: questions rolebot could not answer and "
        "'Wrong role' clicks, for curators to turn into knowledge.",
    )
    actions = parser.add_subparsers(dest="unanswered_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", parents=[common], help="list logged questions")
    listing.add_argument(
        "--status",
        choices=[*(s.value for s in Status), "all"],
        default="open",
        help="which questions (default: open)",
    )
    listing.add_argument("--since", metavar="DURATION", help="only the last 7d, 12h, 2w, ...")
    listing.add_argument("--channel", metavar="ID", help="only questions from this channel id")
    listing.add_argument("--source", choices=[s.value for s in Source], help="only this source")
    listing.add_argument("--limit", type=int, metavar="N", help="at most N, newest first")
    listing.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    listing.set_defaults(handler=run_list)

    groups = actions.add_parser(
        "groups",
        parents=[common],
        help="open questions grouped by near-duplicates, most asked first",
    )
    groups.add_argument("--limit", type=int, default=20, metavar="N", help="default: 20")
    groups.add_argument("--format", choices=("table", "json"), default="table")
    groups.set_defaults(handler=run_groups)

    prom = actions.add_parser(
        "promote",
        parents=[common],
        help="add questions to the knowledge base and mark them promoted",
        description="Adds the questions as phrasings of an existing entry (--entry ID of that "
        "role) or as a new entry with a draft answer (`rolebot kb answer` writes it), as a "
        "curated change in the database that every replica picks up; no file is written. The "
        "knowledge with the change is validated; on failure nothing changes. "
        f"When ./{REGRESSION_FILE.parent} exists the questions are also appended to "
        f"{REGRESSION_FILE}, which `rolebot eval` runs.",
    )
    prom.add_argument("ids", nargs="+", type=int, metavar="ID", help="question ids")
    prom.add_argument("--role", required=True, help="the owning role: id, name or alias (tpm)")
    prom.add_argument("--entry", metavar="ENTRY_ID", help="existing entry, or the new entry's id")
    prom.add_argument("--by", default=None, help="who promotes (default: your login name)")
    prom.set_defaults(handler=run_promote)

    dis = actions.add_parser(
        "dismiss", parents=[common], help="mark questions as not worth an entry"
    )
    dis.add_argument("ids", nargs="+", type=int, metavar="ID")
    dis.add_argument("--by", default=None, help="who dismisses (default: your login name)")
    dis.set_defaults(handler=run_dismiss)

    replay = actions.add_parser(
        "replay",
        parents=[common],
        help="move questions spooled while the database was down into the database now",
    )
    replay.set_defaults(handler=run_replay)

    purge = actions.add_parser(
        "purge", parents=[common], help="delete questions and feedback older than a duration"
    )
    purge.add_argument(
        "--older-than", required=True, metavar="DURATION", help="e.g. 90d (retention period)"
    )
    purge.set_defaults(handler=run_purge)


# --------------------------------------------------------------------------- handlers
def run_list(args: argparse.Namespace, context: Context) -> int:
    since = since_arg(args.since)
    with closing(open_cli_store(context)) as store:
        questions = store.list_questions(
            status=None if args.status == "all" else args.status,
            since=since,
            channel_id=args.channel,
            source=args.source,
            limit=args.limit,
        )
    if args.format == "json":
        print(json.dumps([_question_json(q) for q in questions], indent=2))
    elif args.format == "csv":
        # RFC 4180's CRLF: with it as the terminator, a CR or LF inside a question is quoted.
        writer = csv.writer(sys.stdout, lineterminator="\r\n")
        writer.writerow(CSV_FIELDS)
        for question in questions:
            row = _question_json(question)
            writer.writerow([csv_cell(row[f]) for f in CSV_FIELDS])
    elif not questions:
        print(
            f"no {'' if args.status == 'all' else args.status + ' '}questions"
            + (f" in the last {args.since}" if args.since else "")
        )
    else:
        print(
            f"{'ID':>6}  {'ASKED (UTC)':<16}  {'SOURCE':<10}  {'STATUS':<9}  {'CHANNEL':<11}  "
            f"{'NEAREST ENTRY':<28}  QUESTION"
        )
        for q in questions:
            best = q.best_entry_id or ""
            if best and q.best_score is not None:
                best += f" ({q.best_score:.0f})"
            print(
                f"{q.id:>6}  {q.created_at:%Y-%m-%d %H:%M}  {q.source:<10}  {q.status:<9}  "
                f"{q.channel_id or '':<11}  {_clip(best, 28):<28}  "
                f"{_clip(q.text, 80)}"
            )
    return 0


def run_groups(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        groups = store.open_groups(limit=args.limit)
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "count": g.count,
                        "ids": list(g.ids),
                        "question": g.representative.text,
                        "normalized": g.representative.normalized,
                        "latest": max(m.created_at for m in g.members).isoformat(),
                        "questions": [m.text for m in g.members],
                    }
                    for g in groups
                ],
                indent=2,
            )
        )
        return 0
    if not groups:
        print("no open questions: nothing to write next")
        return 0
    print(f"{'ASKED':>5}  {'IDS':<24}  QUESTION (most asked wording)")
    for group in groups:
        ids = ",".join(str(i) for i in group.ids)
        print(f"{group.count:>5}  {_clip(ids, 24):<24}  {_clip(group.representative.text, 90)}")
    first = groups[0]
    print(
        f"\npromote a group:  rolebot unanswered promote "
        f"{' '.join(str(i) for i in first.ids[:8])} --role ROLE [--entry ENTRY_ID]"
    )
    return 0


def run_promote(args: argparse.Namespace, context: Context) -> int:
    regression = REGRESSION_FILE if REGRESSION_FILE.parent.is_dir() else None
    with closing(open_cli_store(context)) as store:
        result = promote(
            store,
            context.knowledge_dir,
            args.ids,
            args.role,
            args.entry,
            _by(args.by),
            regression_file=regression,
        )
    count = len(result.ids)
    noun = "question" if count == 1 else "questions"
    what = "the new entry" if result.created else "the entry"
    print(
        f"promoted {count} {noun} to {what} '{result.entry_id}' ({result.role}) "
        f"as change {result.change_id}: every replica answers it within its reload interval"
    )
    if result.created:
        print(f'  its answer is a draft: rolebot kb answer {result.entry_id} "WHY THAT ROLE"')
    for phrasing in result.added:
        print(f"  + {phrasing}")
    for phrasing in result.skipped:
        print(f"  = {phrasing} (already in the knowledge base)")
    if result.regression_file is not None and result.regression_added:
        print(f"  {result.regression_added} regression case(s) added to {result.regression_file}")
    return 0


def run_dismiss(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        result = dismiss(store, args.ids, _by(args.by))
    print(
        f"dismissed {len(result.dismissed)} question(s)"
        + (
            f"; left alone (already resolved): {', '.join(map(str, result.skipped))}"
            if result.skipped
            else ""
        )
    )
    return 0


def run_replay(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        waiting = store.spool.count()
        if not waiting:
            print(f"nothing to replay (no spool records in {store.spool.directory})")
            return 0
        done = store.replay_spool()
    print(f"replayed {done} spooled record(s) into the database")
    return 0


def run_purge(args: argparse.Namespace, context: Context) -> int:
    before = _ago(parse_duration(args.older_than))
    with closing(open_cli_store(context)) as store:
        result = store.purge(before)
    print(
        f"deleted {result.questions} question(s) and {result.feedback} feedback click(s) "
        f"logged before {before:%Y-%m-%d %H:%M} UTC"
    )
    return 0


# --------------------------------------------------------------------------- helpers
def since_arg(text: str | None) -> datetime | None:
    """``--since 7d`` as a UTC moment (shared with ``rolebot stats``); a duration longer than
    the calendar goes back to its start (everything)."""
    if not text:
        return None
    return _ago(parse_duration(text))


def _ago(seconds: float) -> datetime:
    """``seconds`` before now, or the earliest moment a date can be when that is before it."""
    try:
        return datetime.now(UTC) - timedelta(seconds=seconds)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with ``=``, ``+``, ``-``, ``@``, a
    tab or a carriage return (OWASP's list) gets a leading apostrophe, so a question like
    ``=HYPERLINK(…)`` is shown as typed instead of becoming a formula. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _by(value: str | None) -> str | None:
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _question_json(question: LoggedQuestion) -> dict[str, Any]:
    data = asdict(question)
    for key in ("created_at", "resolved_at", "notified_at"):
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return data
