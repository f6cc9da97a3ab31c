"""Block Kit for the curators' channel (``ROLEBOT_CURATOR_CHANNEL``). Pure functions.

An open question (a group of near-duplicates) is one message: what was asked, how often, and
one-click buttons (promote to each role, add to one of the nearest entries, dismiss). Once
handled it says who handled it and how, and has no buttons left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.ids import CHANNEL_ID
from bot.core.knowledge import Entry, Knowledge, Role
from bot.slack.blocks.message import Message, action_id, message
from bot.slack.blocks.safe import (
    Block,
    actions,
    button,
    context,
    echo,
    echo_plain,
    encode_value,
    escape,
    plain,
    section,
)
from bot.store.interface import LoggedQuestion

CURATOR_PROMOTE = "rolebot.curator.promote"
CURATOR_ADD = "rolebot.curator.add"
CURATOR_DISMISS = "rolebot.curator.dismiss"
MAX_OPTIONS = 5
"""Nearest entries offered in the "Add to an entry" picker."""
MAX_OPTION_VALUE = 150
_SOURCES = {
    "mention": "a mention",
    "dm": "a direct message",
    "command": "the slash command",
    "listen": "a listening channel",
    "wrong_role": "a “Wrong role” report",
}


@dataclass(frozen=True)
class Handled:
    """How some of a message's questions were handled; ``by`` is safe mrkdwn."""

    status: str
    """``promoted`` or ``dismissed``."""
    by: str
    count: int = 1
    role: Role | None = None
    entry_id: str | None = None


def _times(count: int) -> str:
    return f"asked {count} time{'s' if count != 1 else ''}"


def _facts(questions: Sequence[LoggedQuestion]) -> str:
    latest = questions[-1]
    facts = [_times(len(questions)), f"first {questions[0].created_at:%Y-%m-%d %H:%M} UTC"]
    where = _SOURCES.get(latest.source, "Slack")
    if latest.channel_id and CHANNEL_ID.match(latest.channel_id):
        where += f" in <#{latest.channel_id}>"
    facts.append(f"latest from {where}")
    if latest.best_entry_id:
        score = f" ({latest.best_score:.0f})" if latest.best_score is not None else ""
        facts.append(f"nearest `{escape(latest.best_entry_id)}`{score}")
    return " · ".join(facts)


def _quote(questions: Sequence[LoggedQuestion]) -> str:
    return f"*“{echo(questions[-1].text, 600)}”*"


def open_post(
    post_id: int,
    questions: Sequence[LoggedQuestion],
    knowledge: Knowledge,
    nearest: Sequence[Entry],
) -> Message:
    """A question for curators, with its buttons. ``questions`` oldest first (the latest
    wording is shown); ``nearest``: entries to offer in the picker, best first."""
    if not questions:
        return closed_post(questions, (), note="No longer in the log.")
    key = str(post_id)
    buttons: list[Block] = [
        button(
            f"Promote: {role.short_name}",
            action_id(CURATOR_PROMOTE, role.id),
            encode_value({"p": key, "r": role.id}),
        )
        for role in knowledge.roles.values()
    ]
    options = []
    for entry in nearest:
        value = encode_value({"p": key, "e": entry.id})
        role = knowledge.roles.get(entry.owner)
        if len(value) > MAX_OPTION_VALUE or role is None:
            continue
        label = f"{role.short_name}: {entry.questions[0] if entry.questions else entry.id}"
        options.append({"text": plain(echo_plain(label, 75), 75), "value": value})
        if len(options) == MAX_OPTIONS:
            break
    if options:
        buttons.append(
            {
                "type": "static_select",
                "action_id": action_id(CURATOR_ADD),
                "placeholder": plain("Add to an entry…", 150),
                "options": options,
            }
        )
    count = len(questions)
    buttons.append(
        button(
            "Dismiss",
            action_id(CURATOR_DISMISS),
            encode_value({"p": key}),
            style="danger",
            confirm=(
                "Dismiss this question?",
                f"{count} question{'s' if count != 1 else ''} will leave the queue.",
                "Dismiss",
            ),
        )
    )
    text = f"Unanswered question, {_times(count)}: “{echo(questions[-1].text, 300)}”"
    blocks = [section(_quote(questions)), context(_facts(questions)), actions(buttons)]
    return message(text, blocks)


def handled_line(item: Handled) -> str:
    """ "Promoted to the Program Manager by <@U…> as entry `x`" / "Dismissed by …"."""
    several = f" ({item.count} questions)" if item.count > 1 else ""
    if item.status == "dismissed":
        return f"Dismissed by {item.by}{several}."
    role = f" to the {escape(item.role.name)}" if item.role is not None else ""
    entry = f" as entry `{escape(item.entry_id)}`" if item.entry_id else ""
    return f"Promoted{role} by {item.by}{entry}{several}."


def closed_post(
    questions: Sequence[LoggedQuestion], handled: Sequence[Handled], *, note: str = ""
) -> Message:
    """The message once handled: who handled it and how, no buttons."""
    lines = [handled_line(item) for item in handled] or [note or "Handled."]
    outcome = " ".join(lines)
    if not questions:
        return message(outcome, [section(outcome)])
    text = f"{outcome} “{echo(questions[-1].text, 300)}”"
    blocks = [section(_quote(questions)), context(_facts(questions)), section(outcome)]
    return message(text, blocks)


__all__ = [
    "CURATOR_ADD",
    "CURATOR_DISMISS",
    "CURATOR_PROMOTE",
    "Handled",
    "closed_post",
    "handled_line",
    "open_post",
]
