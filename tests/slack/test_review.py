"""Curators: the unanswered list, promote and dismiss (in a reply and in the Home tab)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from slack_fakes import Call
from slack_signed import mention
from slackkit import CURATOR, Running

from bot.store import SqlStore
from bot.store.interface import QuestionRecord, Source

QUESTION = "who owns the quarterly llama grooming budget?"


def _log(running: Running, text: str = QUESTION) -> None:
    running.bot.store.log_question(QuestionRecord(text, text.rstrip("?"), Source.MENTION))


def _unanswered(running: Running, user: str = CURATOR, name: str = "list") -> Call:
    running.slack.command("unanswered", running.respond_url(name), user=user)
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return reply


def _responded(running: Running, name: str) -> Call:
    (call,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return call


def _status(running: Running) -> list[tuple[str, str, str | None]]:
    store = running.bot.store
    assert isinstance(store, SqlStore)
    return [(q.text, q.status, q.resolved_entry_id) for q in store.list_questions(status=None)]


def _asked(running: Running, text: str = QUESTION) -> dict[str, str]:
    """Ask through a real mention (unanswered, so it is logged with its thread)."""
    event = mention(text, channel="C0ASKERS")
    running.slack.event(event)
    running.fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("thread_ts") == event["ts"]
    )
    deadline = time.monotonic() + 10
    while not _status(running):
        assert time.monotonic() < deadline, "the question was not logged"
        time.sleep(0.05)
    return event


def _told(running: Running, event: dict[str, str]) -> list[Call]:
    return [
        c
        for c in running.fake.of("chat.postMessage")
        if c.args.get("thread_ts") == event["ts"] and "curator answered" in c.args["text"]
    ]


def _promote_to_program(running: Running) -> Call:
    """A curator clicks "Promote: Program" in the review list: the response that follows."""
    listing = _unanswered(running)
    promote = next(b for b in listing.buttons() if b["text"]["text"] == "Promote: Program")
    running.slack.click(promote, running.respond_url("promote"), user=CURATOR, ephemeral=True)
    return _responded(running, "promote")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_promote_is_answered_next_time_and_the_asker_is_told_once(running: Running) -> None:
    files = _files(running.knowledge_dir)
    event = _asked(running)
    done = _promote_to_program(running)
    assert done.args["replace_original"] is True
    assert "Promoted 1 question to the Program Manager" in done.args["text"]
    assert "No open questions" in done.dump()  # the refreshed list follows
    ((text, status, entry_id),) = _status(running)
    assert (text, status) == (QUESTION, "promoted")
    assert entry_id and entry_id in done.args["text"]
    assert _files(running.knowledge_dir) == files  # no file in the knowledge folder changes
    (told,) = running.fake.wait_for(
        "chat.postMessage", where=lambda c: "curator answered" in c.args["text"]
    )
    assert told.args["channel"] == "C0ASKERS" and told.args["thread_ts"] == event["ts"]
    assert "Program Manager" in told.args["text"] and "<!" not in told.dump()
    again = mention(QUESTION)
    running.slack.event(again)
    (post,) = running.fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("thread_ts") == again["ts"]
    )
    assert post.args["text"].startswith("Program Manager")
    running.fake.quiet(1.5)  # several sweeps later: still once
    assert len(_told(running, event)) == 1


def test_the_asker_thread_gone_is_logged_and_skipped(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    event = _asked(running)
    running.fake.fail(
        "chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"}, times=1
    )
    listing = _unanswered(running)
    promote = next(b for b in listing.buttons() if b["text"]["text"] == "Promote: Project")
    with caplog.at_level(logging.WARNING, logger="bot.curation.announce"):
        running.slack.click(promote, running.respond_url("promote"), user=CURATOR, ephemeral=True)
        assert "Promoted 1 question" in _responded(running, "promote").args["text"]
        deadline = time.monotonic() + 10
        while "thread in C0ASKERS is gone" not in caplog.text:
            assert time.monotonic() < deadline, "the failed announcement was not logged"
            time.sleep(0.05)
    assert "channel_not_found" in caplog.text
    running.fake.quiet(1.5)
    assert len(_told(running, event)) == 1  # tried once, not retried forever
    store = running.bot.store
    assert isinstance(store, SqlStore)
    assert store.unannounced() == []
    # The bot carries on: the promoted question is answered.
    again = mention(QUESTION)
    running.slack.event(again)
    (post,) = running.fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("thread_ts") == again["ts"]
    )
    assert post.args["text"].startswith("Project Manager")


def test_a_curator_writes_the_answer_in_a_modal(running: Running) -> None:
    files = _files(running.knowledge_dir)
    event = _asked(running)
    done = _promote_to_program(running)
    (told,) = running.fake.wait_for(
        "chat.postMessage", where=lambda c: "curator answered" in c.args["text"]
    )
    assert "Program Manager" in told.args["text"]
    assert any(b["text"]["text"] == "Write the answer" for b in done.buttons())
    # The review list offers the drafts too.
    listing = _unanswered(running, name="drafts")
    assert "Draft answers to write" in listing.dump()
    write = next(b for b in listing.buttons() if b["text"]["text"] == "Write the answer")
    running.slack.click(write, running.respond_url("write"), user=CURATOR, ephemeral=True)
    (opened,) = running.fake.wait_for("views.open")
    view = opened.args["view"]
    if isinstance(view, str):
        view = json.loads(view)
    assert view["type"] == "modal" and view["blocks"][1]["element"]["max_length"] == 400
    block, action = view["blocks"][1]["block_id"], view["blocks"][1]["element"]["action_id"]
    refused = running.slack.submit(view, {block: {action: "A bell \x07 rings"}}, user=CURATOR)
    errors = refused.json()
    assert errors["response_action"] == "errors"
    assert "curated changes" in errors["errors"][block]  # the loader's message
    not_curator = running.slack.submit(view, {block: {action: "Mine."}}, user="U0MALLORY")
    assert "Only curators" in not_curator.json()["errors"][block]
    text = "Llama grooming budgets span several teams and quarters: the program's call."
    saved = running.slack.submit(view, {block: {action: text}}, user=CURATOR)
    assert saved.status == 200 and saved.body in (b"", b"{}")
    deadline = time.monotonic() + 10  # the answer is used within the reload interval
    while True:
        again = mention(QUESTION)
        running.slack.event(again)
        (post,) = running.fake.wait_for(
            "chat.postMessage", where=lambda c, ts=again["ts"]: c.args.get("thread_ts") == ts
        )
        if "several teams and quarters" in post.dump():
            break
        assert time.monotonic() < deadline, post.dump()
        time.sleep(0.2)
    assert "Draft answers" not in _unanswered(running, name="after").dump()
    assert _files(running.knowledge_dir) == files
    assert len(_told(running, event)) == 1


def test_dismiss_takes_the_group_out_of_the_queue(running: Running) -> None:
    _log(running)
    _log(running, "Who owns the quarterly llama grooming budget")
    listing = _unanswered(running)
    assert "asked 2 times" in listing.dump()
    dismiss = next(b for b in listing.buttons() if b["text"]["text"] == "Dismiss")
    assert dismiss["style"] == "danger" and "confirm" in dismiss
    running.slack.click(dismiss, running.respond_url("dismiss"), user=CURATOR, ephemeral=True)
    done = _responded(running, "dismiss")
    assert "Dismissed 2 questions." in done.args["text"]
    assert {status for _, status, _ in _status(running)} == {"dismissed"}


def test_only_curators_can_promote_or_dismiss(running: Running) -> None:
    _log(running)
    listing = _unanswered(running)
    for label, name in (("Promote: Product", "p"), ("Dismiss", "d")):
        button = next(b for b in listing.buttons() if b["text"]["text"] == label)
        running.slack.click(button, running.respond_url(name), user="U0MALLORY", ephemeral=True)
        refused = _responded(running, name)
        assert "only curators" in refused.args["text"]
        assert "llama" not in refused.dump()
    assert [status for _, status, _ in _status(running)] == ["open"]


def test_home_tab_for_everyone_and_the_queue_for_curators(running: Running) -> None:
    _log(running)
    event = {
        "type": "app_home_opened",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    assert running.slack.event(event).status == 200
    (home,) = running.fake.wait_for("views.publish")
    assert home.args["user_id"] == "U0ALICE"
    view = home.args["view"]
    assert view["type"] == "home"
    sent = home.dump()
    assert "Technical Program Manager" in sent and "roadmap" in sent
    assert "llama" not in sent and "Unanswered" not in sent
    assert running.slack.event({**event, "user": CURATOR}).status == 200
    curator_home = running.fake.wait_for("views.publish", 2)[-1]
    assert curator_home.args["user_id"] == CURATOR
    assert "llama" in curator_home.dump()
    assert len(curator_home.args["view"]["blocks"]) <= 100
    # A click in the Home tab re-publishes it.
    dismiss = next(b for b in curator_home.buttons() if b["text"]["text"] == "Dismiss")
    running.slack.click(
        dismiss,
        running.respond_url("home"),
        user=CURATOR,
        container={"type": "view", "view_id": "VHOME"},
    )
    refreshed = running.fake.wait_for("views.publish", 3)[-1]
    assert "llama" not in refreshed.dump()


def test_opening_the_messages_tab_is_acknowledged_quietly(running: Running) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "tab": "messages",
        "event_ts": f"{time.time():.6f}",
    }
    assert running.slack.event(event).status == 200
    running.fake.quiet(0.3)
    assert running.fake.of("views.publish") == []


def test_the_home_tab_offers_draft_answers_to_curators(running: Running) -> None:
    _log(running)
    listing = _unanswered(running)
    promote = next(b for b in listing.buttons() if b["text"]["text"] == "Promote: TPM")
    running.slack.click(promote, running.respond_url("promote"), user=CURATOR, ephemeral=True)
    assert "Promoted 1 question" in _responded(running, "promote").args["text"]
    event = {
        "type": "app_home_opened",
        "user": CURATOR,
        "channel": "D0CURATOR",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    assert running.slack.event(event).status == 200
    (home,) = running.fake.wait_for("views.publish")
    assert "Draft answers to write" in home.dump() and len(home.args["view"]["blocks"]) <= 100
    write = next(b for b in home.buttons() if b["text"]["text"] == "Write the answer")
    running.slack.click(
        write,
        running.respond_url("home"),
        user=CURATOR,
        container={"type": "view", "view_id": "VHOME"},
    )
    (opened,) = running.fake.wait_for("views.open")
    assert "modal" in opened.dump() and "llama" in opened.dump()
    assert running.slack.event({**event, "user": "U0ALICE"}).status == 200
    everyone = running.fake.wait_for("views.publish", 2)[-1]
    assert "Draft answers" not in everyone.dump()
