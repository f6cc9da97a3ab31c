"""Block Kit for curators and askers: the answer announcement, the promoted notice, the answer
modal. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.knowledge import Entry, Role
from bot.slack.blocks.message import Message, action_id, message
from bot.slack.blocks.safe import (
    Block,
    actions,
    button,
    context,
    defang,
    echo,
    encode_value,
    escape,
    section,
)

WRITE_ANSWER = "rolebot.write_answer"
ANSWER_MODAL = "rolebot.answer_modal"
ANSWER_BLOCK = "answer"
ANSWER_INPUT = "text"
MODAL_ANSWER_LIMIT = 400


def announcement(role: Role, entry: Entry, *, draft: bool) -> Message:
    """Posted once in the asker's thread when a curator answers their question."""
    name = escape(role.name)
    if draft:
        body = (
            f"A curator answered this: it is the *{name}*'s call. "
            f"The {name} answers “{escape(role.question)}”."
        )
    else:
        body = f"A curator answered this: the *{name}*. {escape(defang(entry.answer))}"
    blocks = [section(body), context("Ask again any time: I know this one now.")]
    return message(body, blocks)


def promoted_notice(text: str, entry_id: str, *, can_write: bool) -> Message:
    """What a curator sees after Promote: what happened, and "Write the answer"."""
    blocks = [section(text)]
    if can_write:
        blocks.append(
            actions(
                [
                    button(
                        "Write the answer",
                        action_id(WRITE_ANSWER),
                        encode_value({"e": entry_id}),
                        style="primary",
                    )
                ]
            )
        )
    return message(text, blocks)


def drafts_blocks(drafts: Sequence[tuple[Entry, Role]]) -> list[Block]:
    """Promoted entries whose answer is still a draft, each with "Write the answer"."""
    if not drafts:
        return []
    blocks: list[Block] = [section("*Draft answers to write* (the bot says they are drafts)")]
    for entry, role in drafts:
        question = entry.questions[0] if entry.questions else entry.id
        blocks.append(
            section(
                f"“{echo(question, 200)}” · {escape(role.short_name)} · `{escape(entry.id)}`",
                accessory=button(
                    "Write the answer",
                    action_id(WRITE_ANSWER, entry.id[:60]),
                    encode_value({"e": entry.id}),
                ),
            )
        )
    return blocks


def answer_modal(entry: Entry, role: Role, current: str, *, draft: bool) -> dict[str, Any]:
    """A modal to write an entry's answer (at most :data:`MODAL_ANSWER_LIMIT` characters)."""
    question = entry.questions[0] if entry.questions else entry.id
    initial = "" if draft else current[:MODAL_ANSWER_LIMIT]
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ANSWER_INPUT,
        "multiline": True,
        "max_length": MODAL_ANSWER_LIMIT,
        "placeholder": {"type": "plain_text", "text": f"Why the {role.name[:60]} owns this"},
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "private_metadata": encode_value({"e": entry.id}),
        "title": {"type": "plain_text", "text": "Write the answer"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                f"*{escape(question[:200])}*\nOwned by the {escape(role.name)} "
                f"(entry `{escape(entry.id)}`)."
            ),
            {
                "type": "input",
                "block_id": ANSWER_BLOCK,
                "label": {"type": "plain_text", "text": "Answer"},
                "element": element,
            },
        ],
    }
