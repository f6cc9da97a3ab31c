"""Every button, clicked as Slack sends it (signed block_actions payloads)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_fakes import Call
from slack_signed import mention
from slackkit import Running

from bot.store import SqlStore
from bot.store.interface import LoggedQuestion

ANSWERED = "who owns the product roadmap?"
CLOSE_CALLS = [
    "who owns the schedule",
    "who owns status reports",
    "who tracks risks",
    "who owns the risks",
    "who owns the plan",
    "who owns stakeholder updates",
]
WITH_NEAREST = [
    "who owns onboarding docs for interns",
    "who writes release notes for customers",
    "who handles the vision board party",
    "who owns the office party for the product launch",
]


def _find(running: Running, questions: list[str], outcome: str, nearest: bool = False) -> str:
    for question in questions:
        answer = running.bot.engine.ask(question)
        if answer.outcome == outcome and (answer.nearest or not nearest):
            return question
    pytest.fail(f"none of the example questions is a {outcome} any more: {questions}")


def _ask(running: Running, question: str) -> Call:
    before = len(running.fake.posts())
    event = mention(question)
    running.slack.event(event)
    return running.fake.wait_for("chat.postMessage", before + 1)[-1]


def _button(call: Call, prefix: str, label: str | None = None) -> dict[str, Any]:
    for button in call.buttons():
        if button["action_id"].startswith(prefix) and (
            label is None or label in button["text"]["text"]
        ):
            return button
    raise AssertionError(f"no {prefix} button in {[b['action_id'] for b in call.buttons()]}")


def _click(running: Running, button: dict[str, Any], name: str, **kwargs: Any) -> Call | None:
    """Click; return the response_url reply (None when the click answered another way)."""
    response = running.slack.click(button, running.respond_url(name), **kwargs)
    assert response.status == 200
    return None


def _responded(running: Running, name: str) -> Call:
    (call,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return call


def _wait(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.03)
    raise AssertionError("timed out")


def _open(running: Running) -> list[LoggedQuestion]:
    store = running.bot.store
    assert isinstance(store, SqlStore)
    return list(store.list_questions(status="open"))


def test_helpful_records_positive_feedback(running: Running) -> None:
    post = _ask(running, ANSWERED)
    _click(running, _button(post, "rolebot.helpful"), "helpful")
    thanks = _responded(running, "helpful")
    assert thanks.args["response_type"] == "ephemeral"
    assert thanks.args["replace_original"] is False
    assert "Thanks" in thanks.args["text"]
    store = running.bot.store
    assert isinstance(store, SqlStore)
    entry = _wait(lambda: next((e for e in store.stats().entries if e.helpful), None))
    assert (entry.entry_id, entry.helpful, entry.wrong) == ("product-roadmap", 1, 0)


def test_wrong_role_asks_which_role_and_queues_the_question(running: Running) -> None:
    post = _ask(running, ANSWERED)
    _click(running, _button(post, "rolebot.wrong_role"), "wrong")
    prompt = _responded(running, "wrong")
    assert prompt.args["response_type"] == "ephemeral"
    labels = [b["text"]["text"] for b in prompt.buttons()]
    assert labels == ["Program Manager", "Project Manager", "Technical Program Manager", "Not sure"]
    _click(
        running,
        _button(prompt, "rolebot.wrong_role_pick", "Program Manager"),
        "pick",
        ephemeral=True,
    )
    thanks = _responded(running, "pick")
    assert thanks.args["replace_original"] is True
    assert "Program Manager" in thanks.args["text"]
    (logged,) = _wait(lambda: _open(running))
    assert (logged.text, logged.source, logged.suggested_role, logged.best_entry_id) == (
        ANSWERED,
        "wrong_role",
        "program_manager",
        "product-roadmap",
    )
    store = running.bot.store
    assert isinstance(store, SqlStore)
    entry = _wait(lambda: next((e for e in store.stats().entries if e.wrong), None))
    assert entry.entry_id == "product-roadmap"


def test_role_definition_is_shown_to_the_clicker_only(running: Running) -> None:
    post = _ask(running, ANSWERED)
    _click(running, _button(post, "rolebot.role_definition"), "definition")
    card = _responded(running, "definition")
    assert card.args["response_type"] == "ephemeral"
    assert card.blocks()[0]["text"]["text"] == ":dart: Product Manager"


def test_close_call_offers_each_role_and_the_click_answers_in_place(running: Running) -> None:
    question = _find(running, CLOSE_CALLS, "close_call")
    post = _ask(running, question)
    assert post.args["text"].startswith("Close call")
    choices = [b for b in post.buttons() if b["action_id"].startswith("rolebot.choose_role")]
    assert len(choices) == 2
    assert all(b["text"]["text"].startswith("I meant the ") for b in choices)
    assert len({b["action_id"] for b in choices}) == 2  # unique within the block
    chosen = choices[1]
    role_name = chosen["text"]["text"].removeprefix("I meant the ")
    _click(running, chosen, "choose", channel="C0GENERAL", message_ts="1700000000.000777")
    (update,) = running.fake.wait_for("chat.update")
    assert update.args["channel"] == "C0GENERAL"
    assert update.args["ts"] == "1700000000.000777"
    assert update.args["text"].startswith(role_name)
    assert f"Chosen: the {role_name}." in update.dump()
    assert [b["text"]["text"] for b in update.buttons()][:2] == [
        ":thumbsup: Helpful",
        ":thumbsdown: Wrong role",
    ]


def test_close_call_in_an_ephemeral_reply_is_replaced_through_the_response_url(
    running: Running,
) -> None:
    question = _find(running, CLOSE_CALLS, "close_call")
    running.slack.command(f"ask {question}", running.respond_url("cmd"))
    reply = _responded(running, "cmd")
    _click(running, _button(reply, "rolebot.choose_role"), "choose", ephemeral=True)
    replaced = _responded(running, "choose")
    assert replaced.args["replace_original"] is True
    assert "Chosen: the" in replaced.dump()
    assert running.fake.of("chat.update") == []


def test_which_pm_is_asked_with_buttons(running: Running) -> None:
    post = _ask(running, "the PM")
    assert "Which one do you mean" in post.args["text"]
    labels = [b["text"]["text"] for b in post.buttons()]
    assert labels == ["The Product Manager", "The Program Manager", "The Project Manager"]
    _click(running, _button(post, "rolebot.choose_role.project_manager"), "pm")
    (update,) = running.fake.wait_for("chat.update")
    assert update.args["text"].startswith("Project Manager")


def test_unanswered_offers_the_nearest_entries_and_one_click_answers(running: Running) -> None:
    question = _find(running, WITH_NEAREST, "unanswered", nearest=True)
    post = _ask(running, question)
    assert "I don't know who owns" in post.args["text"]
    nearest = [b for b in post.buttons() if b["action_id"].startswith("rolebot.nearest")]
    assert nearest
    _click(running, nearest[0], "nearest")
    (update,) = running.fake.wait_for("chat.update")
    assert "Chosen from the closest questions." in update.dump()
    entry = running.bot.engine.ask(question).nearest[0]
    assert entry.questions[0] == nearest[0]["text"]["text"]


def test_tampered_or_stale_button_values_get_a_kind_reply(running: Running) -> None:
    fake_button = {
        "action_id": "rolebot.choose_role.nobody",
        "text": {"type": "plain_text", "text": "x"},
        "value": "not json",
    }
    _click(running, fake_button, "tampered")
    (update,) = running.fake.wait_for("chat.update")
    assert "no longer in the knowledge base" in update.args["text"]
    definition = {
        "action_id": "rolebot.role_definition.x",
        "text": {"type": "plain_text", "text": "x"},
        "value": "ghost_manager",
    }
    _click(running, definition, "ghost")
    assert "no longer" in _responded(running, "ghost").args["text"]
