"""A message as the builders return it, and the action ids their buttons carry."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict

from bot.slack.blocks.safe import (
    MAX_BLOCKS,
    Block,
    actions,
    button,
    encode_value,
    fallback,
    fit_blocks,
)

HELPFUL = "rolebot.helpful"
WRONG_ROLE = "rolebot.wrong_role"
WRONG_ROLE_PICK = "rolebot.wrong_role_pick"
ROLE_DEFINITION = "rolebot.role_definition"
CHOOSE_ROLE = "rolebot.choose_role"
NEAREST = "rolebot.nearest"
SHARE = "rolebot.share"
PROMOTE = "rolebot.promote"
DISMISS = "rolebot.dismiss"


def action_id(base: str, *suffix: str | int) -> str:
    """``base`` plus suffixes, so several buttons of one kind in a block stay unique."""
    return ".".join([base, *(str(s) for s in suffix)])


def action_pattern(base: str) -> re.Pattern[str]:
    """Matches ``base`` and every :func:`action_id` built from it."""
    return re.compile(rf"^{re.escape(base)}(?:\..*)?$")


class Message(TypedDict):
    """Keyword arguments for chat.postMessage, chat.update or a response_url."""

    text: str
    blocks: list[Block]
    edit: NotRequired[Message]
    """Posted messages only: what to turn the message into right after posting it. Slack
    notifies nobody of mentions an edit adds, so role holders can be named without a ping."""


def message(text: str, blocks: Sequence[Block], limit: int = MAX_BLOCKS) -> Message:
    """A message within Slack's limits. ``text`` must already be safe mrkdwn."""
    return {"text": fallback(text), "blocks": fit_blocks(blocks, limit)}


def with_share(reply: Message, command_text: str) -> Message:
    """An ephemeral reply plus a "Share in channel" button that posts the same content."""
    share = actions(
        [button("Share in channel", SHARE, encode_value({"c": command_text}, shrink="c"))]
    )
    blocks = fit_blocks(reply["blocks"], MAX_BLOCKS - 1)
    return {"text": reply["text"], "blocks": [*blocks, share]}
