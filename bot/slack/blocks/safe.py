"""Making text safe to post: nothing echoed pings anyone, and nothing breaks Block Kit's limits.

Every piece of text that reaches Slack goes through this module. Text people typed is first
turned into plain, readable text (:func:`readable`), then escaped for mrkdwn (:func:`echo`):
``<!channel>``, ``<!here>``, ``<!everyone>``, ``<!subteam^…>`` and ``<@U…>`` become inert words,
and ``&``, ``<`` and ``>`` are escaped. Mentions rolebot writes on purpose come only from curated
knowledge (:func:`contact_mentions`), never from what someone typed.

The limits are Slack's (https://api.slack.com/reference/block-kit): clipping never cuts an
HTML entity or a ``<…>`` token in half.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.ids import CHANNEL_ID, GROUP_ID, USER_ID
from bot.core.normalize import clean

Block = dict[str, Any]

MAX_BLOCKS = 50
"""Blocks in one message."""
MAX_VIEW_BLOCKS = 100
"""Blocks in a Home tab or modal view."""
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_MESSAGE_TEXT = 40000
FALLBACK_TEXT = 3000
"""The plain ``text`` of a message is a notification fallback: it never needs more than this."""

ELLIPSIS = "…"
_ZERO_WIDTH = "\u200b"

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([^>|]*)(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone|group)\b)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,8}$")
_TOKEN_TAIL = re.compile(r"<[^>]*$")


# ---------------------------------------------------------------------- text people typed
def readable(text: str) -> str:
    """Slack message text as a person would read it, with every mention made plain text.

    ``<@U123>`` becomes ``@U123``, ``<!here>`` ``@here``, ``<#C1|general>`` ``#general``,
    ``<https://x|label>`` ``label``; entities are unescaped. The result is *not* escaped yet.
    """
    text = clean(_CONTROL.sub("", text))
    text = _USER.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(_special, text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return clean(html.unescape(text)).strip()


def _special(match: re.Match[str]) -> str:
    kind, label = match.group(1), match.group(2)
    if kind.startswith("subteam^"):
        return "@" + (label or "group").lstrip("@")
    if kind.startswith("date^") and label:
        return label
    return "@" + (label or kind).lstrip("@")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats specially."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defang(text: str) -> str:
    """Make ``@channel``, ``@here``, ``@everyone`` inert even where Slack would link names."""
    return _BROADCAST.sub("@" + _ZERO_WIDTH, text)


def echo(text: str, limit: int = 500) -> str:
    """What someone typed, ready to quote in mrkdwn: readable, inert, escaped, clipped."""
    flat = " ".join(readable(text).split())
    return clip(escape(defang(flat)), limit)


def echo_plain(text: str, limit: int = MAX_BUTTON_TEXT) -> str:
    """What someone typed, for a ``plain_text`` object (never parsed by Slack, still inert)."""
    flat = " ".join(readable(text).split())
    return clip(defang(flat).replace("<", "‹").replace(">", "›"), limit)


# ---------------------------------------------------------------------- limits
def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending with an ellipsis when cut.

    Never leaves half an entity (``&am``) or half a ``<…>`` token behind.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    cut = _ENTITY_TAIL.sub("", cut)
    cut = _TOKEN_TAIL.sub("", cut)
    return (cut.rstrip() + ELLIPSIS)[:limit]


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> Block:
    """A mrkdwn text object. ``text`` must already be safe (escaped pieces)."""
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> Block:
    """A plain_text object (Slack rejects empty ones, so it never is)."""
    return {"type": "plain_text", "text": clip(text, limit) or ELLIPSIS, "emoji": True}


def section(text: str, *, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields_section(text: str, fields: Sequence[str]) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [mrkdwn(f, MAX_FIELD_TEXT) for f in fields[:MAX_FIELDS]]
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER_TEXT)}


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def divider() -> Block:
    return {"type": "divider"}


def button(
    label: str,
    action_id: str,
    value: str = "",
    *,
    style: str | None = None,
    confirm: tuple[str, str, str] | None = None,
) -> Block:
    """A button. ``confirm`` is (title, text, confirm label) for a confirmation dialog."""
    element: Block = {
        "type": "button",
        "text": plain(label, MAX_BUTTON_TEXT),
        "action_id": action_id[:MAX_ACTION_ID],
    }
    if value:
        element["value"] = value[:MAX_BUTTON_VALUE]
    if style in ("primary", "danger"):
        element["style"] = style
    if confirm is not None:
        title, text, ok = confirm
        element["confirm"] = {
            "title": plain(title, MAX_CONFIRM_TITLE),
            "text": plain(text, MAX_CONFIRM_TEXT),
            "confirm": plain(ok, 30),
            "deny": plain("Cancel", 30),
        }
    return element


def actions(elements: Sequence[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[:MAX_ACTIONS_ELEMENTS])}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def fit_blocks(blocks: Sequence[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """At most ``limit`` blocks: when there are more, the last kept one says so."""
    if len(blocks) <= limit:
        return list(blocks)
    kept = list(blocks[: limit - 1])
    kept.append(context(f"{ELLIPSIS} and {len(blocks) - len(kept)} more not shown."))
    return kept


def fallback(text: str) -> str:
    """A message's plain ``text`` (notifications, screen readers). ``text`` must be safe."""
    return clip(text, FALLBACK_TEXT) or ELLIPSIS


# ---------------------------------------------------------------------- button values
def _json(payload: Mapping[str, str]) -> str:
    # "<", ">" and "&" as \u escapes: no Slack markup appears in a payload, not even in values.
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def encode_value(data: Mapping[str, str | None], shrink: str = "q") -> str:
    """A button's value: compact JSON within 2000 characters, shrinking ``shrink`` to fit."""
    payload = {k: clean(v) for k, v in data.items() if v is not None}
    text = _json(payload)
    long_value = payload.get(shrink)
    while len(text) > MAX_BUTTON_VALUE and long_value:
        over = len(text) - MAX_BUTTON_VALUE
        long_value = long_value[: max(len(long_value) - max(over // 6, 1), 0)]
        payload[shrink] = long_value
        text = _json(payload)
    if len(text) > MAX_BUTTON_VALUE:  # nothing left to shrink: drop what does not fit
        return "{}"
    return text


def decode_value(value: str | None) -> dict[str, str]:
    """The mapping :func:`encode_value` wrote; anything malformed gives an empty mapping."""
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


# ---------------------------------------------------------------------- curated mentions
def contact_mentions(usergroup: str | None, users: Sequence[str], channel: str | None) -> str:
    """ "<!subteam^S1>, <@U1> or <#C1>": mentions from curated knowledge, ids checked again."""
    parts: list[str] = []
    if usergroup and GROUP_ID.match(usergroup):
        parts.append(f"<!subteam^{usergroup}>")
    parts += [f"<@{user}>" for user in users[:10] if USER_ID.match(user)]
    if not parts and not (channel and CHANNEL_ID.match(channel)):
        return ""
    text = ", ".join(parts)
    if channel and CHANNEL_ID.match(channel):
        text = f"{text} in <#{channel}>" if text else f"<#{channel}>"
    return text
