"""Block Kit builders as pure functions: content, inert echoes, limits whatever the input."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.engine import Engine
from bot.core.knowledge import Contacts, Knowledge
from bot.core.normalize import clean
from bot.slack.blocks.answer import answer_message, wrong_role_prompt
from bot.slack.blocks.home import home_view
from bot.slack.blocks.message import with_share
from bot.slack.blocks.review import ids_value, parse_ids, review_message
from bot.slack.blocks.roles import compare_message, help_message, lookup_message, role_message
from bot.slack.blocks.safe import (
    clip,
    contact_mentions,
    decode_value,
    echo,
    echo_plain,
    encode_value,
    escape,
    readable,
)
from bot.store.interface import LoggedQuestion, QuestionGroup

ACTIVE = re.compile(r"<[!@#]|<https?:|@(?:channel|here|everyone)\b", re.IGNORECASE)
HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<!subteam^S0ADMINS|@admins>",
    "<@U0BOSS>",
    "<@W0BOSS|boss>",
    "<#C0SECRET|secret>",
    "<https://evil.example|click me>",
    "&lt;!channel&gt;",
    "@here @channel @everyone",
    "&amp;&lt;&gt;",
    "```code``` *bold* _it_ ~strike~",
    "\u0000\u202e\u200b",
]


def walk_limits(blocks: list[dict[str, Any]], max_blocks: int = 50) -> None:
    """Assert every Block Kit limit rolebot relies on."""
    assert len(blocks) <= max_blocks
    for block in blocks:
        kind = block["type"]
        if "block_id" in block:
            assert len(block["block_id"]) <= 255
        if kind == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(0 < len(f["text"]) <= 2000 for f in fields)
        elif kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in block["elements"])
        elif kind == "actions":
            elements = block["elements"]
            assert 0 < len(elements) <= 25
            ids = [e["action_id"] for e in elements]
            assert len(ids) == len(set(ids)), ids
            for element in elements:
                assert 0 < len(element["text"]["text"]) <= 75
                assert len(element["action_id"]) <= 255
                assert len(element.get("value", "")) <= 2000
                if "confirm" in element:
                    assert len(element["confirm"]["title"]["text"]) <= 100
                    assert len(element["confirm"]["text"]["text"]) <= 300
        else:
            assert kind == "divider", kind


def check_message(message: dict[str, Any]) -> None:
    walk_limits(message["blocks"])
    assert 0 < len(message["text"]) <= 40000


# ---------------------------------------------------------------------- safe text
@pytest.mark.parametrize("text", HOSTILE)
def test_echo_makes_every_mention_inert(text: str) -> None:
    assert not ACTIVE.search(echo(text))
    assert not ACTIVE.search(echo_plain(text))


def test_readable_turns_slack_markup_into_plain_words() -> None:
    assert readable("<@U0BOSS> <#C01|general> <!here> <https://x.example|docs> &amp;") == (
        "@U0BOSS #general @here docs &"
    )
    assert readable("<!subteam^S01|@designers> <!date^1392734382^{date}|Feb 18>") == (
        "@designers Feb 18"
    )


def test_escape_and_echo() -> None:
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
    assert echo("<!channel> hi") == "@\u200bchannel hi"
    assert echo("&lt;!channel&gt;") == "&lt;!channel&gt;"


def test_clip_never_cuts_an_entity_or_a_token() -> None:
    assert clip("abcdef", 6) == "abcdef"
    assert clip("abcdefg", 4) == "abc…"
    assert clip("ab &amp; cd", 6) == "ab…"
    assert clip("ab <!subteam^S01> cd", 10) == "ab…"
    assert len(clip("x" * 5000, 3000)) == 3000


@given(st.dictionaries(st.sampled_from("qerc"), st.text(max_size=3000), max_size=4))
@settings(max_examples=60, deadline=None)
def test_button_values_round_trip_within_the_limit(data: dict[str, str]) -> None:
    value = encode_value(data)
    assert len(value) <= 2000
    assert "<" not in value and ">" not in value
    decoded = decode_value(value)
    for key, text in data.items():  # cleaned: no invisible or bidirectional characters
        if key != "q":
            assert decoded.get(key) == clean(text) or value == "{}"
        else:
            assert clean(text).startswith(decoded.get("q", ""))


@pytest.mark.parametrize("value", [None, "", "not json", "[1, 2]", '{"q": 3}'])
def test_malformed_button_values_decode_to_nothing(value: str | None) -> None:
    assert decode_value(value) == {}


def test_contact_mentions_use_only_valid_ids() -> None:
    assert contact_mentions("S0PRODUCT", ("U0ANN", "nope"), "C0ASK") == (
        "<!subteam^S0PRODUCT>, <@U0ANN> in <#C0ASK>"
    )
    assert contact_mentions("S0X>|<!channel", ("<!here>",), None) == ""
    assert contact_mentions(None, (), "C0ASK") == "<#C0ASK>"


def test_ids_survive_a_button_value() -> None:
    ids = list(range(1, 5000))
    text = ids_value(ids)
    assert len(text) <= 1800
    parsed = parse_ids(text)
    assert parsed == ids[: len(parsed)]
    assert parse_ids("1, 2,x,,3") == [1, 2, 3]


# ---------------------------------------------------------------------- answers
def test_answered(engine: Engine) -> None:
    message = answer_message(engine.ask("who owns the product roadmap?"), question="q")
    check_message(message)
    text = str(message)
    assert "*Product Manager* owns this." in text
    assert "Matched FAQ" in text
    labels = [e["text"]["text"] for e in message["blocks"][-1]["elements"]]
    assert labels == [":thumbsup: Helpful", ":thumbsdown: Wrong role", "Role definition"]


def test_definition_question(engine: Engine) -> None:
    message = answer_message(engine.ask("what does a TPM do"), question="what does a TPM do")
    check_message(message)
    assert message["text"].startswith("Technical Program Manager:")


def test_clarify_asks_which_pm(engine: Engine) -> None:
    message = answer_message(engine.ask("the PM"), question="the PM")
    check_message(message)
    buttons = message["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [
        "rolebot.choose_role.product_manager",
        "rolebot.choose_role.program_manager",
        "rolebot.choose_role.project_manager",
    ]
    assert decode_value(buttons[0]["value"]) == {"q": "the PM", "r": "product_manager"}


def test_contacts_from_knowledge_are_named(engine: Engine) -> None:
    answer = engine.ask("who owns the product roadmap?")
    assert answer.role is not None
    role = dataclasses.replace(answer.role, contacts=Contacts("S0PRODUCT", ("U0ANN",), "C0ASK"))
    message = answer_message(dataclasses.replace(answer, role=role), question="q")
    assert "Ask <!subteam^S0PRODUCT>, <@U0ANN> in <#C0ASK>." in str(message)


@given(st.text(max_size=6000) | st.sampled_from(HOSTILE).map(lambda h: h * 300))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_question_gives_an_inert_message_within_limits(engine: Engine, text: str) -> None:
    answer = engine.ask(text)
    for echoed in (False, True):
        message = answer_message(answer, question=text, echo_question=echoed)
        check_message(message)
        shown = [message["text"]] + [
            b["text"]["text"] for b in message["blocks"] if b["type"] == "section"
        ]
        for part in shown:
            assert not ACTIVE.search(part), part


def test_huge_curated_text_stays_within_limits(knowledge: Knowledge, engine: Engine) -> None:
    answer = engine.ask("who owns the product roadmap?")
    assert answer.role is not None and answer.entry is not None
    big = "word " * 3000
    role = dataclasses.replace(
        answer.role,
        name="N" * 400,
        emoji=":x:" * 100,
        question=big,
        definition=big,
        answers=big,
        short_name="S" * 200,
        responsibilities=(big,) * 50,
        skills=(big,) * 30,
        key_metrics=(big,) * 30,
        stakeholders=(big,) * 30,
        aliases=(big,) * 30,
    )
    entry = dataclasses.replace(answer.entry, answer=big, questions=(big,))
    check_message(
        answer_message(
            dataclasses.replace(answer, role=role, entry=entry),
            question=big * 3,
            echo_question=True,
        )
    )
    check_message(role_message(role, knowledge))
    check_message(compare_message(role, role, knowledge))
    huge = dataclasses.replace(
        knowledge, roles={r: dataclasses.replace(role, id=r) for r in knowledge.roles}
    )
    check_message(help_message(huge, "/role"))
    check_message(wrong_role_prompt(huge, None, {"q": big}))
    check_message(with_share(help_message(huge, "/role"), big))
    walk_limits(home_view(huge, "/role", [])["blocks"], 100)


def test_role_lookup_messages(engine: Engine) -> None:
    check_message(lookup_message(engine.lookup_role("pm"), "/role"))
    check_message(lookup_message(engine.lookup_role("<!channel>" * 500), "/role"))
    assert not ACTIVE.search(str(lookup_message(engine.lookup_role("<!channel>"), "/role")))


# ---------------------------------------------------------------------- review and home
def _group(text: str, size: int, first_id: int = 1) -> QuestionGroup:
    members = tuple(
        LoggedQuestion(
            id=first_id + n,
            text=text,
            normalized=text,
            source="mention",
            status="open",
            channel_id="C1",
            user_id="U1",
            best_entry_id="product-roadmap",
            best_score=41.0,
            suggested_role="program_manager" if n % 2 else None,
            created_at=datetime(2025, 1, 2, tzinfo=UTC),
        )
        for n in range(size)
    )
    return QuestionGroup(members[0], members)


def test_review_list_with_hostile_text_and_huge_groups(knowledge: Knowledge) -> None:
    groups = [_group(h * 200, 700, n * 1000) for n, h in enumerate(HOSTILE * 3)]
    message = review_message(groups, knowledge)
    check_message(message)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert all(not ACTIVE.search(s) for s in sections)
    assert "Wrong-role reports say: Program ×350" in sections[1]
    home = home_view(knowledge, "/role", groups * 5)
    walk_limits(home["blocks"], 100)


def test_review_list_when_empty(knowledge: Knowledge) -> None:
    assert "No open questions" in str(review_message([], knowledge))


def test_home_for_everyone_has_no_queue(knowledge: Knowledge) -> None:
    view = home_view(knowledge, "/role")
    assert view["type"] == "home"
    assert "Unanswered" not in str(view)
    walk_limits(view["blocks"], 100)
