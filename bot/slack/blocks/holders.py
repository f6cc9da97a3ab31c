"""Role holders as Block Kit: who to ask in answers, ``/role holders``, confirmations, Home.

Pure functions. Holder ids come from the database and are checked again here before they
become mentions (as ``contacts:`` ids are), so nothing stored can turn into ``<!channel>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.ids import CHANNEL_ID, GROUP_ID, USER_ID
from bot.core.knowledge import Knowledge, Role
from bot.slack.blocks.message import Message, message
from bot.slack.blocks.safe import (
    Block,
    contact_mentions,
    context,
    defang,
    divider,
    escape,
    header,
    section,
)
from bot.store.holders import Holder, RoleHolders


@dataclass(frozen=True)
class People:
    """Who to name in an answer: a channel's holders by role id, and how to name them."""

    holders: Mapping[str, tuple[Holder, ...]] = field(default_factory=dict)
    mention: bool = True
    """``True``: ``<@U…>`` mentions (they notify when posted); ``False``: names, no mention."""


def holder_names(holders: Sequence[Holder], *, mention: bool = True) -> str:
    """ "<@U1>, <!subteam^S1>" (or "@bob, @payments-pms" unmentioned); bad ids are left out."""
    parts: list[str] = []
    for item in holders:
        if not (USER_ID.match(item.id) or GROUP_ID.match(item.id)):
            continue
        if mention:
            parts.append(f"<!subteam^{item.id}>" if item.is_group else f"<@{item.id}>")
        else:
            parts.append(escape(defang("@" + (item.label or item.id))))
    return ", ".join(parts)


def _contact_names(role: Role, mention: bool) -> str:
    contacts = role.contacts
    if not contacts:
        return ""
    if mention:
        return contact_mentions(contacts.usergroup, contacts.users, contacts.channel)
    people = [Holder(contacts.usergroup)] if contacts.usergroup else []
    people += [Holder(user) for user in contacts.users[:10]]
    text = holder_names(people, mention=False)
    channel = contacts.channel
    if channel and CHANNEL_ID.match(channel):  # a channel link notifies nobody
        text = f"{text} in <#{channel}>" if text else f"<#{channel}>"
    return text


def people_line(role: Role, people: People | None) -> str | None:
    """ "Ask …": this channel's holders of ``role``, else the workspace contacts, else None."""
    mention = people.mention if people is not None else True
    here = people.holders.get(role.id, ()) if people is not None else ()
    names = holder_names(here, mention=mention)
    if names:
        return f"Ask {names} (the {escape(role.name)} here)."
    names = _contact_names(role, mention)
    return f"Ask {names}." if names else None


def role_people(role: Role, people: People | None) -> str:
    """For a role offered in a close call or "which PM?": " Here: …" or ""."""
    line = people_line(role, people)
    return f"\n      {line}" if line else ""


# ---------------------------------------------------------------------- /role holders
def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _who(set_by: str | None) -> str:
    if set_by is None:
        return "someone"
    if USER_ID.match(set_by):
        return f"<@{set_by}>"
    if set_by.startswith("cli:"):
        return f"`{escape(set_by[4:][:40] or 'the CLI')}` (CLI)"
    return "someone"  # a hashed id: who it was is not kept in clear


def holders_message(
    knowledge: Knowledge,
    channel_id: str,
    current: Mapping[str, RoleHolders],
    command: str,
) -> Message:
    """This channel's holders of every role, beside the workspace defaults."""
    here = f"<#{channel_id}>" if CHANNEL_ID.match(channel_id) else "this channel"
    head = f"Who holds each role in {here}"
    blocks: list[Block] = [section(f"*{head}*")]
    for role in knowledge.roles.values():
        held = current.get(role.id)
        lines = [f"{role.emoji} *{escape(role.name)}*"]
        if held is not None and holder_names(held.holders):
            lines.append(
                f"Here: {holder_names(held.holders)}, set by {_who(held.set_by)} "
                f"on {_when(held.set_at)}"
            )
        else:
            lines.append("Here: nobody set")
        default = _contact_names(role, True)
        lines.append(f"Workspace default: {default or 'none'}")
        blocks.append(section("\n".join(lines)))
    blocks.append(context(_how_to(command)))
    return message(head, blocks)


def _how_to(command: str) -> str:
    return (
        f"`{command} set ROLE @person @group` sets this channel's holders of a role, "
        f"`{command} unset ROLE` clears them. Answers here then name them; elsewhere the "
        "workspace defaults apply."
    )


def set_message(
    role: Role, channel_id: str, holders: Sequence[Holder], before: Sequence[str]
) -> Message:
    """The confirmation of ``/role set``."""
    here = f"<#{channel_id}>" if CHANNEL_ID.match(channel_id) else "this channel"
    names = holder_names(holders)
    text = f"Done: {names} now hold the *{escape(role.name)}* role in {here}."
    lines = [text]
    if before:
        lines.append(f"Before: {holder_names([Holder(b) for b in before])}.")
    lines.append("Answers in this channel now name them.")
    return message(text, [section("\n".join(lines))])


def unset_message(role: Role, channel_id: str, before: Sequence[str] | None) -> Message:
    """The confirmation of ``/role unset`` (``before`` is ``None`` when nothing was set)."""
    here = f"<#{channel_id}>" if CHANNEL_ID.match(channel_id) else "this channel"
    if not before:
        text = f"Nobody held the *{escape(role.name)}* role in {here}: nothing changed."
    else:
        names = holder_names([Holder(b) for b in before])
        text = (
            f"Done: the *{escape(role.name)}* role in {here} is cleared (it was {names}). "
            "Answers here fall back to the workspace default."
        )
    return message(text, [section(text)])


# ---------------------------------------------------------------------- App Home
def defaults_blocks(knowledge: Knowledge, command: str) -> list[Block]:
    """The workspace defaults (``contacts:``) and how to set holders per channel."""
    lines = []
    for role in knowledge.roles.values():
        default = _contact_names(role, True)
        lines.append(f"{role.emoji} *{escape(role.name)}*: {default or '_nobody set_'}")
    return [
        divider(),
        header("Who to ask"),
        section("*Workspace defaults*\n" + "\n".join(lines)),
        context(
            f"Each channel can name its own: {_how_to(command)} "
            f"`{command} holders` shows a channel's holders."
        ),
    ]
