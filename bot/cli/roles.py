"""``rolebot roles [ROLE]`` and ``rolebot compare ROLE ROLE``."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from bot.cli.context import Context
from bot.core.knowledge import Knowledge, Role
from bot.core.roles import RoleLookup
from bot.errors import RolebotError


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    roles = subparsers.add_parser(
        "roles", parents=[common], help="role definitions (aliases and typos resolve)"
    )
    roles.add_argument("role", nargs="?", help="a role, alias or abbreviation (e.g. tpm)")
    roles.set_defaults(handler=run_roles)
    compare = subparsers.add_parser(
        "compare", parents=[common], help="two roles side by side, aspect by aspect"
    )
    compare.add_argument("first")
    compare.add_argument("second")
    compare.set_defaults(handler=run_compare)


def resolve(context: Context, text: str) -> Role:
    lookup = context.engine.lookup_role(text)
    if lookup.role is not None:
        return lookup.role
    raise RolebotError(explain(lookup))


def explain(lookup: RoleLookup) -> str:
    if lookup.ambiguous:
        names = ", ".join(f"{r.name} ({r.id})" for r in lookup.ambiguous)
        return f"'{lookup.query}' could mean several roles: {names}; name one"
    if lookup.suggestions:
        names = " or ".join(f"'{r.name}'" for r in lookup.suggestions)
        return f"no role called '{lookup.query}'; did you mean {names}?"
    return f"no role called '{lookup.query}'; try `rolebot roles` for the list"


def run_roles(args: argparse.Namespace, context: Context) -> int:
    knowledge = context.engine.knowledge
    if args.role is None:
        for role in knowledge.roles.values():
            print(f"{role.name:<28} {role.id:<28} {role.question}")
        return 0
    print(card(resolve(context, args.role), knowledge))
    return 0


def card(role: Role, knowledge: Knowledge) -> str:
    wrap = textwrap.TextWrapper(width=96, initial_indent="  ", subsequent_indent="  ")
    lines = [f"{role.name} ({role.id})", f"  answers: {role.answers}. {role.question}", ""]
    lines += wrap.wrap(role.definition)
    for title, items in (
        ("Responsibilities", role.responsibilities),
        ("Skills", role.skills),
        ("Key metrics", role.key_metrics),
        ("Stakeholders", role.stakeholders),
    ):
        lines += ["", f"  {title}:"] + [f"    - {item}" for item in items]
    lines += ["", "  Hands off:"] + [
        f"    - to the {knowledge.roles[h.to].name}: {h.what}" for h in role.hands_off
    ]
    if role.aliases:
        lines += ["", "  Also called: " + ", ".join(role.aliases)]
    return "\n".join(lines)


def run_compare(args: argparse.Namespace, context: Context) -> int:
    first, second = resolve(context, args.first), resolve(context, args.second)
    if first.id == second.id:
        raise RolebotError(f"both names mean the {first.name}; name two different roles")
    knowledge = context.engine.knowledge
    width = 44
    wrap = textwrap.TextWrapper(width=width)
    print(f"{'':<24}{first.name:<{width + 2}}{second.name}")
    for aspect in knowledge.aspects:
        left = wrap.wrap(first.compare[aspect.id])
        right = wrap.wrap(second.compare[aspect.id])
        for row in range(max(len(left), len(right))):
            label = aspect.name if row == 0 else ""
            a = left[row] if row < len(left) else ""
            b = right[row] if row < len(right) else ""
            print(f"{label:<24}{a:<{width + 2}}{b}")
        print()
    return 0
