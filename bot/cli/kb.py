"""``rolebot kb validate [DIR]``: check a knowledge folder; exit 1 listing every problem."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.context import Context
from bot.core.knowledge import load_knowledge


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    kb = subparsers.add_parser("kb", help="knowledge base tools")
    actions = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate", parents=[common], help="validate a knowledge folder (all errors at once)"
    )
    validate.add_argument("directory", nargs="?", help="default: the configured knowledge")
    validate.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace, context: Context) -> int:
    directory = Path(args.directory) if args.directory else context.knowledge_dir
    knowledge = load_knowledge(directory)  # raises KnowledgeError, printed by main()
    print(
        f"{directory}: OK: {len(knowledge.roles)} roles, {len(knowledge.entries)} entries, "
        f"{knowledge.phrasing_count} phrasings"
    )
    return 0
