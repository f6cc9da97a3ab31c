"""``rolebot db upgrade|current|downgrade``: the database schema (Alembic migrations).

A SQLite file is migrated automatically when rolebot opens it; PostgreSQL only by
``rolebot db upgrade`` (run it once per release, before starting the new version).
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.context import Context
from bot.store import SqlStore, open_store
from bot.store.engine import create_db_engine, safe_url
from bot.store.migrate import downgrade, schema_state, upgrade


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    db = subparsers.add_parser(
        "db",
        help="database schema: upgrade, current revision",
        description="The database is DATABASE_URL, else data/rolebot.db in ROLEBOT_DATA_DIR.",
    )
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="migrate the database to the newest schema")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=run_upgrade)
    current = actions.add_parser("current", help="show the database's schema revision")
    current.set_defaults(handler=run_current)
    down = actions.add_parser(
        "downgrade", help="migrate the database down ('base' removes every rolebot table)"
    )
    down.add_argument("revision", help="target revision, e.g. base")
    down.set_defaults(handler=run_downgrade)


def open_cli_store(context: Context) -> SqlStore:
    """The store for CLI commands (a SQLite file is created and migrated on first use)."""
    return open_store(context.settings)


def run_upgrade(args: argparse.Namespace, context: Context) -> int:
    engine = create_db_engine(context.settings.effective_database_url)
    try:
        before = schema_state(engine)
        after = upgrade(engine, args.revision)
    finally:
        engine.dispose()
    where = safe_url(engine.url)
    if before.current == after.current:
        print(f"{where}: already at {after.describe()}")
    else:
        was = ", ".join(before.current) or "empty"
        print(f"{where}: upgraded from {was} to {after.describe()}")
    return 0


def run_current(args: argparse.Namespace, context: Context) -> int:
    engine = create_db_engine(context.settings.effective_database_url)
    try:
        state = schema_state(engine)
    finally:
        engine.dispose()
    print(f"{safe_url(engine.url)}: {state.describe()}")
    return 0


def run_downgrade(args: argparse.Namespace, context: Context) -> int:
    engine = create_db_engine(context.settings.effective_database_url)
    try:
        state = downgrade(engine, args.revision)
    finally:
        engine.dispose()
    print(f"{safe_url(engine.url)}: now at {state.describe()}")
    return 0
