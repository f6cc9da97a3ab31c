"""``rolebot kb validate [DIR]``: check a knowledge folder; exit 1 listing every problem.
``rolebot kb schema [--output FILE]``: the JSON Schema editors use for knowledge files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.context import Context
from bot.core.knowledge import load_knowledge
from bot.core.knowledge.schema import SCHEMA_FILE, json_schema_text
from bot.errors import RolebotError


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


def run_validate(args: argparse.Namespace, context: Context) -> int:
    directory = Path(args.directory) if args.directory else context.knowledge_dir
    knowledge = load_knowledge(directory)  # raises KnowledgeError, printed by main()
    print(
        f"{directory}: OK: {len(knowledge.roles)} roles, {len(knowledge.entries)} entries, "
        f"{knowledge.phrasing_count} phrasings"
    )
    return 0


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
