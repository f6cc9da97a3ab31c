"""``rolebot holders list|set|unset|import|history``: who holds each role, per channel.

The same holders ``/role set`` changes in Slack. Roles are named as anywhere else (ids, names,
aliases, typos); people and groups by their Slack ids (``U…``, ``W…``, ``S…``). ``import``
reads a CSV (columns ``channel``, ``role``, ``ids``) and checks every row before changing
anything: one bad row, named by its line, and nothing changes.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import re
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.cli.context import Context
from bot.cli.db import open_cli_store
from bot.core.engine import Engine
from bot.core.normalize import clean
from bot.errors import RolebotError
from bot.store.holders import (
    Holder,
    HolderError,
    HolderStore,
    RoleHolders,
    check_channel,
    check_holders,
    holder,
    holder_store,
)

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = ("channel", "role", "ids")
_SPLIT = re.compile(r"[\s,;]+")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "holders",
        help="who holds each role, per channel (list, set, unset, import, history)",
        description="Role holders per channel: the people answers in that channel name.",
    )
    actions = parser.add_subparsers(dest="holders_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", parents=[common], help="current holders")
    listing.add_argument(
        "--channel", metavar="ID", action="append", help="only this channel (repeatable)"
    )
    listing.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    listing.set_defaults(handler=run_list)

    setting = actions.add_parser("set", parents=[common], help="set a channel's holders of a role")
    setting.add_argument("--channel", metavar="ID", required=True, help="the channel id (C…)")
    setting.add_argument("role", metavar="ROLE", help="role id, name or alias")
    setting.add_argument("ids", metavar="ID", nargs="+", help="user (U…) or user group (S…) ids")
    setting.add_argument("--by", help="who is making the change (default: your login name)")
    setting.set_defaults(handler=run_set)

    unsetting = actions.add_parser(
        "unset", parents=[common], help="clear a channel's holders of a role"
    )
    unsetting.add_argument("--channel", metavar="ID", required=True, help="the channel id (C…)")
    unsetting.add_argument("role", metavar="ROLE", help="role id, name or alias")
    unsetting.add_argument("--by", help="who is making the change (default: your login name)")
    unsetting.set_defaults(handler=run_unset)

    importing = actions.add_parser(
        "import",
        parents=[common],
        help="set holders from a CSV (channel, role, ids), all rows or none",
    )
    importing.add_argument("file", metavar="FILE.csv", type=Path)
    importing.add_argument("--by", help="who is making the change (default: your login name)")
    importing.set_defaults(handler=run_import)

    history = actions.add_parser("history", parents=[common], help="every change, newest first")
    history.add_argument("--channel", metavar="ID", help="only this channel")
    history.add_argument("--limit", type=int, default=50, metavar="N", help="default: 50")
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.set_defaults(handler=run_history)


# --------------------------------------------------------------------------- commands
def run_list(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        found = _holders(store).list(args.channel)
    if args.format == "json":
        print(json.dumps([_json(h) for h in found], indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*CSV_COLUMNS, "set_by", "set_at"])
        for item in found:
            writer.writerow(
                [
                    item.channel_id,
                    item.role_id,
                    " ".join(item.ids),
                    item.set_by or "",
                    item.set_at.isoformat(),
                ]
            )
    elif not found:
        where = f" in {', '.join(args.channel)}" if args.channel else ""
        print(f"no role holders set{where}")
    else:
        print(f"{'CHANNEL':<12}  {'ROLE':<26}  {'SET (UTC)':<16}  HOLDERS")
        for item in found:
            people = " ".join(f"{h.id} ({h.label})" if h.label else h.id for h in item.holders)
            print(
                f"{item.channel_id:<12}  {item.role_id:<26}  {item.set_at:%Y-%m-%d %H:%M}  {people}"
            )
    return 0


def run_set(args: argparse.Namespace, context: Context) -> int:
    channel = check_channel(clean(args.channel))
    role = _role(context.engine, args.role)
    people = check_holders([holder(i) for i in _ids(args.ids)])
    with closing(open_cli_store(context)) as store:
        change = _holders(store).set(channel, role, people, by=_by(args.by), source="cli")
    before = " ".join(change.before) or "nobody"
    print(f"{channel} {role}: {' '.join(change.after)} (before: {before})")
    return 0


def run_unset(args: argparse.Namespace, context: Context) -> int:
    channel = check_channel(clean(args.channel))
    role = _role(context.engine, args.role)
    with closing(open_cli_store(context)) as store:
        change = _holders(store).unset(channel, role, by=_by(args.by), source="cli")
    if change is None:
        print(f"{channel} {role}: nobody was set; nothing changed")
    else:
        print(f"{channel} {role}: cleared (was {' '.join(change.before)})")
    return 0


def run_import(args: argparse.Namespace, context: Context) -> int:
    items = read_csv(args.file, context.engine)
    with closing(open_cli_store(context)) as store:
        changes = _holders(store).set_many(items, by=_by(args.by), source="import")
    print(
        f"{args.file}: set {len(changes)} role(s) in {len({c.channel_id for c in changes})} "
        "channel(s)"
    )
    return 0


def run_history(args: argparse.Namespace, context: Context) -> int:
    with closing(open_cli_store(context)) as store:
        changes = _holders(store).history(args.channel, limit=args.limit)
    if args.format == "json":
        rows = [
            {
                "id": c.id,
                "channel": c.channel_id,
                "role": c.role_id,
                "before": list(c.before),
                "after": list(c.after),
                "changed_by": c.changed_by,
                "changed_at": c.changed_at.isoformat(),
                "source": c.source,
            }
            for c in changes
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not changes:
        print("no changes")
        return 0
    print(f"{'WHEN (UTC)':<16}  {'CHANNEL':<12}  {'ROLE':<26}  {'BY':<16}  BEFORE -> AFTER")
    for c in changes:
        print(
            f"{c.changed_at:%Y-%m-%d %H:%M}  {c.channel_id:<12}  {c.role_id:<26}  "
            f"{(c.changed_by or '-')[:16]:<16}  {' '.join(c.before) or '-'} -> "
            f"{' '.join(c.after) or '-'}"
        )
    return 0


# --------------------------------------------------------------------------- the CSV
def read_csv(path: Path, engine: Engine) -> list[tuple[str, str, tuple[Holder, ...]]]:
    """Every row checked; :class:`HolderError` lists each bad row by its line."""
    try:
        text = clean(path.read_text(encoding="utf-8-sig"))  # no zero-width or bidi marks
    except (OSError, UnicodeDecodeError) as error:
        raise HolderError(f"{path}: cannot read it ({type(error).__name__}: {error})") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if missing:
        raise HolderError(
            f"{path}:1: missing column(s) {', '.join(missing)} "
            f"(fix: a header line 'channel,role,ids')"
        )
    reader.fieldnames = columns
    problems: list[str] = []
    items: list[tuple[str, str, tuple[Holder, ...]]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        try:
            channel = check_channel((row.get("channel") or "").strip())
            role = _role(engine, (row.get("role") or "").strip())
            ids = _ids([row.get("ids") or ""])
            if not ids:
                raise HolderError("no ids (fix: list user or group ids; unset clears a role)")
            people = check_holders([holder(i) for i in ids])
        except RolebotError as error:
            problems.append(f"{path}:{line}: {error}")
            continue
        if (channel, role) in seen:
            problems.append(
                f"{path}:{line}: {channel} {role} is already set on line {seen[channel, role]} "
                "(fix: one row per channel and role)"
            )
            continue
        seen[channel, role] = line
        items.append((channel, role, people))
    if problems:
        count = len(problems)
        raise HolderError(
            f"{count} bad row{'s' if count != 1 else ''}, nothing changed\n  "
            + "\n  ".join(problems)
        )
    if not items:
        raise HolderError(f"{path}: no rows (fix: lines of channel,role,ids after the header)")
    return items


# --------------------------------------------------------------------------- helpers
def _holders(store: object) -> HolderStore:
    found = holder_store(store, cache_ttl=0.0)
    if found is None:  # pragma: no cover - the CLI's store always has a database
        raise HolderError("role holders need the database")
    return found


def _role(engine: Engine, text: str) -> str:
    text = clean(text)
    lookup = engine.lookup_role(text)
    if lookup.role is not None:
        return lookup.role.id
    if lookup.ambiguous:
        names = ", ".join(r.id for r in lookup.ambiguous)
        raise HolderError(f"role '{text}' could mean {names} (fix: name one of them)")
    roles = ", ".join(r.id for r in (lookup.suggestions or engine.knowledge.roles.values()))
    hint = "did you mean" if lookup.suggestions else "the roles are"
    raise HolderError(f"unknown role '{text}' (fix: {hint} {roles})")


def _ids(values: list[str]) -> list[str]:
    """The ids in ``values`` (split at spaces, commas, semicolons), invisible marks removed."""
    return [part for value in values for part in _SPLIT.split(clean(value).strip()) if part]


def _json(item: RoleHolders) -> dict[str, Any]:
    return {
        "channel": item.channel_id,
        "role": item.role_id,
        "holders": [{"id": h.id, "label": h.label} for h in item.holders],
        "set_by": item.set_by,
        "set_at": item.set_at.isoformat(),
    }


def _by(value: str | None) -> str | None:
    if value:
        return value if value.startswith(("U", "W")) and value.isupper() else f"cli:{value}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:"
