"""``rolebot kb validate|export|changes|answer|schema``: knowledge and curated changes.

Curated changes (promoted questions, answers curators wrote) live in the database, shared by
every replica. ``export`` writes a folder with them merged in, for version control; ``changes``
lists those the files do not hold yet; ``answer`` writes an entry's answer; ``schema`` writes
the JSON Schema editors use for knowledge files.
"""

from __future__ import annotations

import argparse
import getpass
import json
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.cli.context import Context
from bot.cli.db import open_cli_store
from bot.core.knowledge import load_knowledge
from bot.core.knowledge.changes import (
    Applied,
    load_with_changes,
    pending_changes,
    write_changes,
)
from bot.core.knowledge.schema import SCHEMA_FILE, json_schema_text
from bot.curation.review import MAX_CURATED_ANSWER, ReviewError, write_answer
from bot.errors import KnowledgeError, RolebotError


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    kb = subparsers.add_parser("kb", help="knowledge base tools")
    actions = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate", parents=[common], help="validate a knowledge folder (all errors at once)"
    )
    validate.add_argument("directory", nargs="?", help="default: the configured knowledge")
    validate.set_defaults(handler=run_validate)
    schema = actions.add_parser(
        "schema",
        parents=[common],
        help=f"write the knowledge files' JSON Schema (the bundled {SCHEMA_FILE})",
    )
    schema.add_argument(
        "--output", metavar="FILE", help="write it to FILE instead of standard output"
    )
    schema.set_defaults(handler=run_schema)

    export = actions.add_parser(
        "export",
        parents=[common],
        help="write the knowledge with the curated changes merged in, for version control",
        description="Copies the knowledge files into DIR and applies the curated changes from "
        "the database by editing the text (comments and order stay). Changes the files already "
        "hold are not applied again. DIR may be the knowledge folder itself (a checkout).",
    )
    export.add_argument("directory", metavar="DIR")
    export.set_defaults(handler=run_export)

    changes = actions.add_parser(
        "changes", parents=[common], help="curated changes the knowledge files do not hold yet"
    )
    changes.add_argument("--format", choices=("table", "json"), default="table")
    changes.set_defaults(handler=run_changes)

    answer = actions.add_parser(
        "answer",
        parents=[common],
        help="write an entry's answer (replaces a promoted entry's draft)",
        description=f"Stores TEXT (at most {MAX_CURATED_ANSWER} characters) as the answer of "
        "ENTRY_ID for every replica, after validating it like the files.",
    )
    answer.add_argument("entry_id", metavar="ENTRY_ID")
    answer.add_argument("text", metavar="TEXT")
    answer.add_argument("--by", default=None, help="who writes it (default: your login name)")
    answer.set_defaults(handler=run_answer)


def run_validate(args: argparse.Namespace, context: Context) -> int:
    directory = Path(args.directory) if args.directory else context.knowledge_dir
    knowledge = load_knowledge(directory)  # raises KnowledgeError, printed by main()
    print(
        f"{directory}: OK: {len(knowledge.roles)} roles, {len(knowledge.entries)} entries, "
        f"{knowledge.phrasing_count} phrasings"
    )
    return 0


def run_export(args: argparse.Namespace, context: Context) -> int:
    source = context.knowledge_dir
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise ReviewError(f"{target} is a file; give a folder to export into")
    with closing(open_cli_store(context)) as store:
        log = list(store.knowledge_changes())
    load_with_changes(source, log)  # the merge validates before anything is written
    applied = write_changes(source, target, log)
    effective = [a for a in applied if a.effective]
    try:
        knowledge = load_knowledge(target)
    except KnowledgeError as error:  # pragma: no cover - validated above
        raise ReviewError(f"the export in {target} does not validate: {error}") from None
    print(
        f"exported {len(knowledge.entries)} entries to {target}: "
        f"{len(effective)} curated change(s) merged, {len(applied) - len(effective)} already "
        "in the files"
    )
    for item in effective:
        print(f"  #{item.change.id} {item.change.describe()} -> {item.file}")
    return 0


def run_changes(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        log = list(store.knowledge_changes())
    pending = pending_changes(context.knowledge_dir, log)
    if args.format == "json":
        print(json.dumps([_change_json(item) for item in pending], indent=2, ensure_ascii=False))
        return 0
    if not pending:
        print(f"no curated changes beyond the files in {context.knowledge_dir}")
        return 0
    print(f"{'id':>5}  {'when':16}  {'by':14}  change")
    for item in pending:
        change = item.change
        when = change.created_at.strftime("%Y-%m-%d %H:%M") if change.created_at else "-"
        print(
            f"{change.id:>5}  {when:16}  {(change.created_by or '-')[:14]:14}  {change.describe()}"
        )
    print(f"\n{len(pending)} change(s) not in the files: rolebot kb export DIR writes them")
    return 0


def run_answer(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        change = write_answer(store, context.knowledge_dir, args.entry_id, args.text, _by(args.by))
    print(
        f"answer of '{change.entry_id}' stored as change {change.id}: every replica uses it "
        "within its reload interval"
    )
    return 0


def _by(value: str | None) -> str | None:
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def run_schema(args: argparse.Namespace, context: Context) -> int:
    """Print the schema, or write it to ``--output`` (only when it changed)."""
    text = json_schema_text()
    if not args.output:
        print(text, end="")
        return 0
    target = Path(args.output)
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        print(f"{target}: up to date")
        return 0
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RolebotError(
            f"cannot write {target} ({exc.strerror or exc}); "
            "choose a writable file with --output, or leave it out to print the schema"
        ) from exc
    print(f"{target}: written")
    return 0


def _change_json(item: Applied) -> dict[str, object]:
    change = item.change
    return {
        "id": change.id,
        "kind": change.kind,
        "entry_id": change.entry_id,
        "owner": change.owner,
        "phrasings": list(item.phrasings),
        "answer": change.answer if item.answer else None,
        "question_ids": list(change.question_ids),
        "created_by": change.created_by,
        "created_at": change.created_at.isoformat() if change.created_at else None,
        "file": item.file,
    }
