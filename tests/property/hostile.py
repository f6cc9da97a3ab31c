"""Hostile text at volume, and the checks every Slack payload must pass.

Two kinds of text reach rolebot's output and are generated differently:

* **what people type** (:func:`user_text`): anything, including every Slack mention form with
  sentinel ids (``UEVIL…``, ``SEVIL…``), broadcasts (``<!here>``, ``@channel``), HTML-escaped and
  half-open variants, wrapped in mrkdwn, links and quote markers. None of it may come out active.
* **curated knowledge** (:func:`curated_text`): any text the loader accepts, including ``&``,
  ``<``, ``>`` and Slack markup (which must be escaped in mrkdwn), but no broadcasts: knowledge
  is reviewed, and curated mentions come only from validated contact ids.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

# ---------------------------------------------------------------------- text people type
INJECTIONS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!channel|@channel>",
    "<!everyone|everyone>",
    "<!HERE>",
    "<!subteam^SEVIL1>",
    "<!subteam^SEVIL1|@evil-team>",
    "<@UEVIL1>",
    "<@UEVIL1|boss>",
    "<@WEVIL2>",
    "<@WEVIL2|w>",
    "<#CEVIL3|<!here>>",
    "<https://evil.example|<!channel>>",
    "<mailto:a@evil.example|<@UEVIL1>>",
    "<https://evil.example|@here>",
    "&lt;!channel&gt;",
    "&lt;@UEVIL1&gt;",
    "&amp;lt;!here&amp;gt;",
    "<<!here>>",
    "<<@UEVIL1>>",
    "<!here",
    "!here>",
    "<@UEVIL1",
    "<!date^1392734382^{date}|<!channel>>",
    "<!subteam^SEVIL1|<!everyone>>",
    "@here",
    "@channel",
    "@everyone",
    "@Here!",
    "@\u200bhere",
)
"""Every way someone could try to make rolebot ping people."""

MARKUP = (
    "",
    "*",
    "_",
    "~",
    "`",
    "```",
    "> ",
    "&gt; ",
    "\n",
    "\n> ",
    "<",
    ">",
    "&",
    "|",
    "<https://x.example|",
    "<#C024BE7LH|",
    ":tada:",
    "&amp;",
    "\u202e",
    "\u200b",
    "\x00",
)
"""What may surround an injection: mrkdwn marks, quote markers, link openers, controls."""

ODD = (
    "\ufdfa",  # one character, 18 after NFKD
    "\u337b",  # a square era name, 4 after NFKD
    "\ufb03",  # the "ffi" ligature
    "\u0130",  # dotted capital I
    "\u00df",  # sharp s
    "\u1e9e",  # capital sharp s
    "\uab70",  # Cherokee small letter, folds to capital
    "e\u0301",  # combining accent
    "\u0301\u0301\u0301",
    "\u2019",  # curly apostrophe
    "'",
    "''",
    "\u02bc",
    "\ufeff",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\r\n",
    "\t",
    "\x7f",
    "\x1b[31m",
    "\U0001f389",
    "\U0001f469\u200d\U0001f4bb",
    "\uff32\uff2f\uff21\uff24",  # fullwidth letters
    "\u0661\u0662",  # Arabic-Indic digits
    "\U0001d7d8",  # mathematical double-struck zero
)
"""Characters where folding, cutting or escaping could go wrong."""

SLACK_BITS = (
    "<@U024BE7LH>",
    "<@U024BE7LH|rolebot>",
    "<#C024BE7LH|launch-plan>",
    "<#C024BE7LH>",
    "<https://example.com/spec|the spec>",
    "<https://example.com/x>",
    "<mailto:a@example.com>",
    "<!subteam^S0614TZR7|@product-team>",
    "<!date^1392734382^{date_short}|Feb 18, 2014>",
    "<tel:+15551234|call>",
    "<ftp://x>",
    "<weird>",
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&#60;",
    "&#x3c;",
    "&nbsp;",
    ":rocket::skin-tone-2:",
    ":+1:",
    "*bold*",
    "_it_",
    "~strike~",
    "`code`",
    "```block```",
    "snake_case_word",
    "who owns the roadmap?",
    "who's on the hook",
)
"""Ordinary Slack markup a question may carry."""

WORDS = (
    "who",
    "owns",
    "decides",
    "the",
    "roadmap",
    "launch",
    "date",
    "PM",
    "TPM",
    "product",
    "program",
    "project",
    "manager",
    "budget",
    "lunch",
    "okta",
)

_TEXT = st.text(max_size=24)
_CONTROL = st.text(st.characters(min_codepoint=0, max_codepoint=0x9F), max_size=12)


@st.composite
def injection(draw: st.DrawFn) -> str:
    """One mention attempt, bare or wrapped in markup."""
    return (
        draw(st.sampled_from(MARKUP))
        + draw(st.sampled_from(INJECTIONS))
        + draw(st.sampled_from(MARKUP))
    )


def _parts(with_injections: bool) -> st.SearchStrategy[str]:
    choices: list[st.SearchStrategy[str]] = [
        _TEXT,
        _CONTROL,
        st.sampled_from(SLACK_BITS),
        st.sampled_from(ODD),
        st.sampled_from(WORDS),
        st.sampled_from(MARKUP),
    ]
    if with_injections:
        choices.append(injection())
    return st.one_of(choices)


def _joined(parts: st.SearchStrategy[str], max_parts: int) -> st.SearchStrategy[str]:
    items = st.lists(parts, max_size=max_parts)
    return items.map("".join) | items.map(" ".join)


def huge(text: st.SearchStrategy[str], limit: int = 50_000) -> st.SearchStrategy[str]:
    """``text`` repeated up to ``limit`` characters (drawing 50k characters one by one is slow)."""
    return st.tuples(text, st.integers(1, limit)).map(
        lambda pair: (pair[0] * max(1, pair[1] // max(len(pair[0]), 1)))[:limit]
    )


def user_text(max_parts: int = 24, limit: int = 50_000) -> st.SearchStrategy[str]:
    """What someone could type in Slack: any Unicode (no surrogates), markup, injections, huge."""
    small = _joined(_parts(with_injections=True), max_parts)
    return st.one_of(st.text(), small, huge(small, limit), huge(st.sampled_from(INJECTIONS)))


def plain_question(max_parts: int = 24, limit: int = 50_000) -> st.SearchStrategy[str]:
    """Any text for the normaliser and the matcher: Unicode, controls, Slack markup, huge."""
    small = _joined(_parts(with_injections=True), max_parts)
    return st.one_of(st.text(), _CONTROL, small, huge(small, limit))


# ---------------------------------------------------------------------- curated text
_CURATED_BITS = (
    "&",
    "<",
    ">",
    "&amp;",
    "&lt;b&gt;",
    "<b>",
    "<@UCURATED>",
    "<#CCURATED|x>",
    "<https://curated.example|docs>",
    "*why*",
    "_how_",
    "`code`",
    "R&D",
    "a < b > c",
    "\u2022 item",
    ":dart:",
    "\U0001f3af",
    "\n",
    "  ",
)
_NO_BROADCAST = re.compile(r"<!|@(?!UCURATED>)")


def _without_broadcasts(text: str) -> str:
    while True:  # removing one "<!" can join another ("<<!!")
        cleaned = _NO_BROADCAST.sub("", text)
        if cleaned == text:
            return text
        text = cleaned


def curated_text(max_parts: int = 12) -> st.SearchStrategy[str]:
    """Text a knowledge file could hold: any characters and markup, but never a broadcast."""
    parts = st.one_of(st.text(max_size=30), st.sampled_from(_CURATED_BITS), st.sampled_from(ODD))
    return _joined(parts, max_parts).map(_without_broadcasts)


def curated_pool() -> st.SearchStrategy[list[str]]:
    """A few curated strings (some empty, some long) that a knowledge base's fields draw from."""
    text = curated_text()
    return st.lists(text | huge(text, 5000).map(_without_broadcasts), min_size=1, max_size=6)


class Seeded(random.Random):
    """A seeded random source: bulk choices cost one Hypothesis draw, and print their seed."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.seed_value = seed

    def __repr__(self) -> str:
        return f"Seeded({self.seed_value})"


def seeded() -> st.SearchStrategy[random.Random]:
    return st.integers(0, 2**32 - 1).map(Seeded)


def pick(rnd: random.Random, pool: Sequence[str], *, nonempty: bool = False) -> str:
    """One string of ``pool``, sometimes repeated past every Slack limit."""
    text = _without_broadcasts(rnd.choice(pool) * rnd.choice((1, 1, 1, 2, 30)))
    return text if text.strip() or not nonempty else "x"


# ---------------------------------------------------------------------- checks
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

_FROM_USERS = re.compile(r"<!(?:channel|here|everyone)|<!subteam\^SEVIL|<@[UW]EVIL", re.IGNORECASE)
"""Mention syntax that can only have come from what someone typed (anywhere, values included)."""
_BROADCAST_WORD = re.compile(r"@(?:channel|here|everyone)\b", re.IGNORECASE)
"""A bare broadcast word: harmless in a button value (never shown), made inert where shown."""
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def text_objects(value: Any) -> Iterable[Mapping[str, Any]]:
    """Every Block Kit text object (``{"type": "mrkdwn" or "plain_text", "text": …}``)."""
    if isinstance(value, Mapping):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            yield value
        for item in value.values():
            yield from text_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from text_objects(item)


def _around(text: str, found: re.Match[str] | None) -> str:
    return "" if found is None else text[max(found.start() - 60, 0) : found.end() + 60]


def _without_values(value: Any) -> Any:
    """The payload without button values (opaque data Slack hands back, never displays)."""
    if isinstance(value, Mapping):
        return {k: _without_values(v) for k, v in value.items() if k != "value"}
    if isinstance(value, list):
        return [_without_values(item) for item in value]
    return value


def assert_inert(payload: Mapping[str, Any], curated_mentions: Iterable[str] = ()) -> None:
    """Nothing typed by a person is active anywhere; every mrkdwn text is escaped.

    ``curated_mentions`` are the contact mentions the knowledge itself asks for: the only ``<…>``
    tokens a mrkdwn text may hold.
    """
    serialized = json.dumps(payload, ensure_ascii=False)
    found = _FROM_USERS.search(serialized)
    assert found is None, f"active mention from user text: {_around(serialized, found)!r}"
    shown = json.dumps(_without_values(payload), ensure_ascii=False)
    found = _BROADCAST_WORD.search(shown)
    assert found is None, f"broadcast word from user text: {_around(shown, found)!r}"
    allowed = sorted({m for m in curated_mentions if m}, key=len, reverse=True)
    for obj in text_objects(payload):
        if obj["type"] != "mrkdwn":
            continue
        text = obj["text"]
        for mention in allowed:
            text = text.replace(mention, "")
        assert "<" not in text and ">" not in text, f"unescaped angle bracket in {obj['text']!r}"
        assert _ENTITY.search(text) is None, f"unescaped '&' in {obj['text']!r}"


def assert_limits(blocks: Sequence[Mapping[str, Any]], max_blocks: int) -> None:
    """Slack's Block Kit limits, for every block kind rolebot builds."""
    assert len(blocks) <= max_blocks, len(blocks)
    action_ids: list[str] = []
    block_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        if "block_id" in block:
            assert 0 < len(block["block_id"]) <= 255
            block_ids.append(block["block_id"])
        if kind == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(0 < len(field["text"]) <= 2000 for field in fields)
            assert "accessory" not in block or block["accessory"]["type"] == "button"
        elif kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(element["text"]) <= 3000 for element in block["elements"])
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                assert element["type"] == "button"
                assert element["text"]["type"] == "plain_text"
                assert 0 < len(element["text"]["text"]) <= 75
                assert 0 < len(element["action_id"]) <= 255
                action_ids.append(element["action_id"])
                assert len(element.get("value", "")) <= 2000
                confirm = element.get("confirm")
                if confirm is not None:
                    assert 0 < len(confirm["title"]["text"]) <= 100
                    assert 0 < len(confirm["text"]["text"]) <= 300
                    assert 0 < len(confirm["confirm"]["text"]) <= 30
                    assert 0 < len(confirm["deny"]["text"]) <= 30
        else:
            assert kind == "divider", kind
    assert len(action_ids) == len(set(action_ids)), f"action ids repeat: {action_ids}"
    assert len(block_ids) == len(set(block_ids)), f"block ids repeat: {block_ids}"


def assert_message(message: Mapping[str, Any], curated_mentions: Iterable[str] = ()) -> None:
    """A chat message: limits, a usable fallback text, and nothing active from user text."""
    assert set(message) == {"text", "blocks"}
    assert isinstance(message["text"], str) and 0 < len(message["text"]) <= 40_000
    assert message["text"].strip()
    assert_limits(message["blocks"], MAX_MESSAGE_BLOCKS)
    assert_inert(message, curated_mentions)


def assert_view(view: Mapping[str, Any], curated_mentions: Iterable[str] = ()) -> None:
    """A Home tab view: the 100-block view limit, and nothing active from user text."""
    assert view["type"] == "home"
    assert_limits(view["blocks"], MAX_VIEW_BLOCKS)
    assert_inert(view, curated_mentions)
