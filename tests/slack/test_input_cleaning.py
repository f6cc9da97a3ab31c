"""Text that must not lose a question or mislead, through Bolt's real pipeline: lone surrogates,
invisible characters inside words, bidirectional controls, messages with a file or broadcast from
a thread."""

from __future__ import annotations

import json
import time

import pytest
from slack_fakes import Call
from slack_signed import message
from slackkit import Running

from bot.store import SqlStore

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _command(running: Running, text: str, **kwargs: str) -> Call:
    url = running.respond_url(f"cmd{len(running.fake.of('respond'))}")
    assert running.slack.command(text, url, **kwargs).status == 200
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith(url[-6:]))
    return reply


def _wait_for_open(store: SqlStore, count: int) -> list[str]:
    texts: list[str] = []
    for _ in range(100):
        texts = [q.text for q in store.list_questions(status="open")]
        if len(texts) >= count:
            break
        time.sleep(0.05)
    return texts


def test_a_lone_surrogate_is_answered_and_the_question_is_stored_not_lost(
    running: Running,
) -> None:
    # "\ud83d" alone: json.dumps sends it as the JSON escape Slack clients can produce.
    question = "who is in charge of the office plants \ud83d watering rota?"
    running.slack.event(message(question))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert "I don't know who owns" in post.args["text"]
    store = running.bot.store
    assert isinstance(store, SqlStore)
    texts = _wait_for_open(store, 1)
    assert texts == ["who is in charge of the office plants \ufffd watering rota?"]
    assert store.healthy()
    assert store.spool.count() == 0  # stored, not spooled as if the database were down


def test_zero_width_characters_inside_a_word_are_removed_not_split(running: Running) -> None:
    running.slack.event(message("who owns the road\u200bmap?"))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["text"].startswith("Product Manager")


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\u2060", "\ufeff"])
def test_role_lookup_ignores_invisible_characters(running: Running, char: str) -> None:
    reply = _command(running, f"t{char}pm")
    assert "Technical Program Manager" in reply.args["text"]
    assert "could mean" not in reply.dump()


def test_bidirectional_controls_never_reach_what_is_shown(running: Running) -> None:
    reply = _command(running, f"who owns the {BIDI}elif.exe{BIDI} product roadmap?")
    shown = reply.dump() + json.dumps(reply.args, ensure_ascii=False)
    assert "You asked" in shown
    assert "elif.exe" in shown
    for char in BIDI:
        assert char not in shown
    for button in reply.buttons():
        assert not any(char in button.get("value", "") for char in BIDI)


def test_a_direct_message_with_a_file_is_answered(running: Running) -> None:
    event = message(
        "who owns the product roadmap?",
        subtype="file_share",
        files=[{"id": "F0SPEC", "name": "spec.pdf"}],
    )
    running.slack.event(event)
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == event["ts"]
    assert post.args["text"].startswith("Product Manager")


def test_a_thread_reply_sent_to_a_listening_channel_is_answered(running: Running) -> None:
    running.bot.store.set_listen("C0TEAM", True)
    event = message(
        "who owns the product roadmap?",
        channel="C0TEAM",
        channel_type="channel",
        subtype="thread_broadcast",
        thread_ts="1699999999.000100",
    )
    running.slack.event(event)
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0TEAM"
    assert post.args["thread_ts"] == "1699999999.000100"
    assert post.args["text"].startswith("Product Manager")


def test_edits_and_other_subtypes_are_still_ignored(running: Running) -> None:
    for subtype in ("message_changed", "channel_join", "bot_message", "me_message"):
        running.slack.event(message("who owns the product roadmap?", subtype=subtype))
    running.fake.quiet()
    assert running.fake.posts() == []
