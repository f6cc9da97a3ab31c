"""Roles as Block Kit: the definition card, the comparison, help, and "did you mean"."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.knowledge import Knowledge, Role
from bot.core.roles import RoleLookup
from bot.slack.blocks.message import ROLE_DEFINITION, Message, action_id, message
from bot.slack.blocks.safe import (
    Block,
    actions,
    button,
    clip,
    contact_mentions,
    context,
    divider,
    echo,
    escape,
    fields_section,
    header,
    section,
)

EXAMPLE_QUESTION = "who decides what goes on the roadmap?"


def _bullets(title: str, items: Sequence[str]) -> str:
    lines = [f"*{title}*"] + [f"• {escape(item)}" for item in items]
    return "\n".join(lines)


def role_card(role: Role, knowledge: Knowledge) -> list[Block]:
    """Everything the knowledge says about one role."""
    blocks: list[Block] = [
        header(f"{role.emoji} {role.name}"),
        section(f"_{escape(role.question)}_\nAnswers: *{escape(role.answers)}*"),
        section(escape(role.definition)),
        section(_bullets("Responsibilities", role.responsibilities)),
        fields_section(
            _bullets("Skills", role.skills),
            [
                _bullets("Key metrics", role.key_metrics),
                _bullets("Stakeholders", role.stakeholders),
            ],
        ),
    ]
    if role.hands_off:
        lines = ["*Hands off*"]
        for handoff in role.hands_off:
            other = knowledge.roles.get(handoff.to)
            name = other.name if other is not None else handoff.to
            lines.append(f"• to the {escape(name)}: {escape(handoff.what)}")
        blocks.append(section("\n".join(lines)))
    contacts = role.contacts
    if contacts:
        mentions = contact_mentions(contacts.usergroup, contacts.users, contacts.channel)
        if mentions:
            blocks.append(section(f"*Who to ask here:* {mentions}"))
    if role.aliases:
        blocks.append(context("Also called: " + escape(", ".join(role.aliases))))
    return blocks


def role_message(role: Role, knowledge: Knowledge) -> Message:
    return message(f"{escape(role.name)}: {escape(role.definition)}", role_card(role, knowledge))


def compare_message(first: Role, second: Role, knowledge: Knowledge) -> Message:
    """Two roles side by side, aspect by aspect."""
    title = f"{first.name} vs {second.name}"
    blocks: list[Block] = [header(title)]
    for aspect in knowledge.aspects:
        blocks.append(
            fields_section(
                f"*{escape(aspect.name)}*",
                [
                    f"{first.emoji} *{escape(first.short_name)}*\n"
                    f"{escape(first.compare.get(aspect.id, ''))}",
                    f"{second.emoji} *{escape(second.short_name)}*\n"
                    f"{escape(second.compare.get(aspect.id, ''))}",
                ],
            )
        )
    blocks.append(
        context(
            f"{first.emoji} {escape(first.name)}: {escape(first.answers)} · "
            f"{second.emoji} {escape(second.name)}: {escape(second.answers)}"
        )
    )
    return message(escape(title), blocks)


def roles_list(knowledge: Knowledge) -> str:
    return "\n".join(
        f"{role.emoji} *{escape(role.name)}* ({escape(role.short_name)}): "
        f"{escape(role.answers)}. _{escape(role.question)}_"
        for role in knowledge.roles.values()
    )


def usage_lines(command: str) -> str:
    return "\n".join(
        [
            f"`{command} who owns &lt;question&gt;`: who owns it, and why (also `{command} ask …`)",
            f"`{command} &lt;role&gt;`: what a role does (names, aliases and typos work: "
            f"`{command} tpm`)",
            f"`{command} compare &lt;role&gt; &lt;role&gt;`: two roles side by side",
            f"`{command} listen on|off`: answer ownership questions in this channel "
            "without a mention",
            f"`{command} set &lt;role&gt; @person @group`, `{command} unset &lt;role&gt;`, "
            f"`{command} holders`: who holds each role in this channel (answers here name them)",
            f"`{command} help`: this help",
        ]
    )


def help_message(knowledge: Knowledge, command: str) -> Message:
    text = "Ask me who owns something, and I'll tell you which role, and why."
    blocks: list[Block] = [
        header("Who owns this?"),
        section(
            f"{text} Mention me in a channel or send me a direct message, e.g. “{EXAMPLE_QUESTION}”"
        ),
        section(usage_lines(command)),
        divider(),
        section("*The roles*\n" + roles_list(knowledge)),
    ]
    return message(text, blocks)


def lookup_message(lookup: RoleLookup, command: str) -> Message:
    """No single role matched what was typed: explain, and offer the candidates."""
    typed = echo(lookup.query, 100)
    if lookup.ambiguous:
        head = f"“{typed}” could mean several roles. Which one?"
        roles: Sequence[Role] = lookup.ambiguous
    elif lookup.suggestions:
        names = " or ".join(f"the *{escape(r.name)}*" for r in lookup.suggestions)
        head = f"I don't know a role called “{typed}”. Did you mean {names}?"
        roles = lookup.suggestions
    else:
        head = (
            f"I don't know a role called “{typed}”. Try `{command} help` for the list of "
            f"roles, or `{command} who owns &lt;question&gt;` to ask a question."
        )
        roles = ()
    blocks: list[Block] = [section(head)]
    if roles:
        blocks.append(
            actions(
                [
                    button(clip(role.name, 75), action_id(ROLE_DEFINITION, role.id), role.id)
                    for role in roles
                ]
            )
        )
    return message(head, blocks)
