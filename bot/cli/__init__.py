"""The ``rolebot`` command: a second face over the same core calls the Slack app uses.

Each sub-command lives in its own module with a ``register(subparsers, common)`` function.
Errors are one clear line on standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.cli import ask, db, evaluate, holders, kb, roles, slack, stats, unanswered
from bot.cli.context import Context
from bot.errors import KnowledgeError, RolebotError

COMMANDS = [ask, roles, kb, evaluate, unanswered, holders, stats, db, slack]
"""Modules that add sub-commands, in help order."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--knowledge",
        metavar="DIR",
        help="knowledge folder (default: ROLEBOT_KNOWLEDGE_DIR, else the bundled one)",
    )
    parser = argparse.ArgumentParser(
        prog="rolebot",
        description="Settles who owns what between Product, Program, Project and "
        "Technical Program Managers.",
    )
    parser.add_argument("--version", action="version", version=f"rolebot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    context = Context(args)
    try:
        code: int = args.handler(args, context)
        return code
    except KnowledgeError as error:
        print(f"rolebot: {error}", file=sys.stderr)
        return 1
    except RolebotError as error:
        print(f"rolebot: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `rolebot ask --json - | head`
        sys.stderr.close()
        return 0
