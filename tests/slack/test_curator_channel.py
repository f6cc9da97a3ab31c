"""The curators' channel (``ROLEBOT_CURATOR_CHANNEL``) through Bolt's real pipeline: signed
requests, the loopback Web API, on SQLite and PostgreSQL.

A new unanswered question is posted there once; a near-duplicate edits that message; Promote,
Add to an entry and Dismiss work for curators only; a question handled anywhere else (the CLI)
edits the message too; a channel rolebot cannot post in is survived.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_fakes import Call
from slack_signed import block_actions, mention
from slackkit import CURATOR, AppFactory, Running

from bot.cli import main
from bot.config import Settings
from bot.errors import ConfigError
from bot.store import SqlStore
from bot.store.curator_posts import CuratorPostStore, curator_post_store

CURATORS = "C0CURATORS"
ASKERS = "C0ASKERS"
QUESTION = "who owns the quarterly llama grooming budget?"
AGAIN = "Who owns the quarterly llama grooming budgets, then?"
OTHER = "who books the zeppelin hangar for the offsite?"


# ---------------------------------------------------------------------- the databases
@pytest.fixture
def app(app_factory: AppFactory, database_url: str) -> Running:
    return app_factory(database_url=database_url, curator_channel=CURATORS)


# ---------------------------------------------------------------------- helpers
def store_of(running: Running) -> SqlStore:
    store = running.bot.store
    assert isinstance(store, SqlStore)
    return store


def posts_of(running: Running) -> CuratorPostStore:
    posts = curator_post_store(running.bot.store)
    assert posts is not None
    return posts


def wait(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def in_channel(running: Running, method: str = "chat.postMessage") -> list[Call]:
    return [c for c in running.fake.of(method) if c.args.get("channel") == CURATORS]


def ask(running: Running, text: str) -> dict[str, Any]:
    """A real mention (unanswered, so it is logged with its thread)."""
    logged = len(store_of(running).list_questions(status=None))
    event = mention(text, channel=ASKERS)
    assert running.slack.event(event).status == 200
    running.fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("thread_ts") == event["ts"]
    )
    wait(
        lambda: len(store_of(running).list_questions(status=None)) > logged,
        "the question was not logged",
    )
    return event


def posted(running: Running, count: int = 1) -> list[Call]:
    return running.fake.wait_for(
        "chat.postMessage", count, where=lambda c: c.args.get("channel") == CURATORS
    )


def updated(running: Running, where: Callable[[Call], bool]) -> Call:
    calls = running.fake.wait_for(
        "chat.update", where=lambda c: c.args.get("channel") == CURATORS and where(c)
    )
    return calls[-1]


def ts_of(running: Running, question_text: str) -> str:
    """The ts Slack gave the message showing ``question_text`` (from the database)."""
    store = store_of(running)
    (question,) = [q for q in store.list_questions(status=None) if q.text == question_text]
    with store.engine.connect() as conn:
        post_id = conn.exec_driver_sql(
            f"SELECT curator_post_id FROM unanswered_questions WHERE id = {question.id}"
        ).scalar()
    # The ts is stored once chat.postMessage has answered, which the fake sees a moment before.
    deadline = time.monotonic() + 5
    while True:
        state = posts_of(running).state(int(post_id))
        if (state is not None and state.post.message_ts) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert state is not None and state.post.message_ts
    return state.post.message_ts


def button(call: Call, label: str) -> dict[str, Any]:
    return next(b for b in call.buttons() if b["text"]["text"] == label)


def picker(call: Call) -> dict[str, Any]:
    return next(
        e
        for block in call.blocks()
        for e in block.get("elements", [])
        if e.get("type") == "static_select"
    )


def click(running: Running, element: dict[str, Any], name: str, *, user: str = CURATOR) -> Call:
    """Click a button of the curators' channel message; rolebot's ephemeral note."""
    url = running.respond_url(name)
    running.slack.click(element, url, user=user, channel=CURATORS)
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return reply


def choose(running: Running, select: dict[str, Any], option: dict[str, Any], name: str) -> Call:
    """Pick ``option`` in the "Add to an entry" picker, as Slack sends it."""
    url = running.respond_url(name)
    payload = block_actions({"action_id": "x", "text": {}}, url, user=CURATOR, channel=CURATORS)
    payload["actions"] = [
        {
            "action_id": select["action_id"],
            "block_id": "b1",
            "type": "static_select",
            "selected_option": option,
            "action_ts": f"{time.time():.6f}",
        }
    ]
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert running.slack.send(body, "application/x-www-form-urlencoded").status == 200
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return reply


def statuses(running: Running) -> dict[str, str]:
    return {q.text: q.status for q in store_of(running).list_questions(status=None)}


def told(running: Running, event: dict[str, Any]) -> list[Call]:
    return [
        c
        for c in running.fake.of("chat.postMessage")
        if c.args.get("thread_ts") == event["ts"] and "curator answered" in c.args["text"]
    ]


def has_buttons(call: Call) -> bool:
    return any(b.get("type") == "actions" for b in call.blocks())


# ---------------------------------------------------------------------- the tests
def test_posted_once_and_a_near_duplicate_updates_the_message(app: Running) -> None:
    ask(app, QUESTION)
    (first,) = posted(app)
    assert "asked 1 time" in first.dump() and "llama grooming budget" in first.dump()
    labels = [b["text"]["text"] for b in first.buttons()]
    assert labels == [
        "Promote: Product",
        "Promote: Program",
        "Promote: Project",
        "Promote: TPM",
        "Dismiss",
    ]
    assert picker(first)["options"]  # the nearest entries, from the matcher
    assert f"<#{ASKERS}>" in first.dump()
    ts = ts_of(app, QUESTION)

    ask(app, AGAIN)
    update = updated(app, lambda c: "asked 2 times" in c.dump())
    assert update.args["ts"] == ts
    assert "budgets, then" in update.dump()  # the latest wording
    assert has_buttons(update)

    ask(app, OTHER)  # a different question: a message of its own
    second = posted(app, 2)[-1]
    assert "zeppelin" in second.dump() and "llama" not in second.dump()
    app.fake.quiet(1.5)  # several sweeps later: still one message each
    assert len(in_channel(app)) == 2


def test_a_curator_promotes_from_the_channel(app: Running) -> None:
    store = store_of(app)
    files = {p.name: p.read_bytes() for p in app.knowledge_dir.iterdir()}
    first, second = ask(app, QUESTION), ask(app, AGAIN)
    updated(app, lambda c: "asked 2 times" in c.dump())
    (message,) = posted(app)
    before = len(store.knowledge_changes())

    reply = click(app, button(message, "Promote: Program"), "promote")
    assert reply.args["response_type"] == "ephemeral"
    assert "Promoted 2 questions to the Program Manager" in reply.args["text"]
    assert len(store.knowledge_changes()) == before + 1  # the change log grew
    assert set(statuses(app).values()) == {"promoted"}
    done = updated(app, lambda c: "Promoted to the Program Manager" in c.dump())
    assert done.args["ts"] == ts_of(app, QUESTION)
    (entry_id,) = {q.resolved_entry_id for q in store.list_questions(status=None)}
    assert f"by <@{CURATOR}> as entry `{entry_id}`" in done.dump()
    assert not has_buttons(done)

    for event in (first, second):  # each asker is told, once
        wait(lambda e=event: told(app, e), "the asker was not told")
    app.fake.quiet(1.5)
    assert len(told(app, first)) == 1 and len(told(app, second)) == 1
    assert {p.name: p.read_bytes() for p in app.knowledge_dir.iterdir()} == files
    # A later asking is answered by the new entry, and posts nothing in the channel.
    again = mention(QUESTION, channel=ASKERS)
    app.slack.event(again)
    (answer,) = app.fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("thread_ts") == again["ts"]
    )
    assert answer.args["text"].startswith("Program Manager")
    assert len(in_channel(app)) == 1


def test_add_to_an_existing_entry_from_the_picker(app: Running) -> None:
    store = store_of(app)
    ask(app, QUESTION)
    (message,) = posted(app)
    select = picker(message)
    option = select["options"][0]
    entry_id = json.loads(option["value"])["e"]
    reply = choose(app, select, option, "add")
    assert "Promoted 1 question" in reply.args["text"] and entry_id in reply.args["text"]
    change = store.knowledge_changes()[-1]
    assert (change.kind, change.entry_id) == ("add_phrasings", entry_id)
    done = updated(app, lambda c: "Promoted to the" in c.dump())
    assert f"as entry `{entry_id}`" in done.dump() and not has_buttons(done)


def test_a_non_curator_click_changes_nothing(app: Running) -> None:
    store = store_of(app)
    ask(app, QUESTION)
    (message,) = posted(app)
    updates = len(in_channel(app, "chat.update"))
    for label, name in (("Promote: Product", "p"), ("Dismiss", "d")):
        refused = click(app, button(message, label), name, user="U0MALLORY")
        assert refused.args["response_type"] == "ephemeral"
        assert "only curators" in refused.args["text"]
    select = picker(message)
    url = app.respond_url("a")
    payload = block_actions({"action_id": "x", "text": {}}, url, user="U0MALLORY")
    payload["actions"] = [
        {"action_id": select["action_id"], "selected_option": select["options"][0]}
    ]
    app.slack.send(
        urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    )
    (refused,) = app.fake.wait_for("respond", where=lambda c: c.path.endswith("/a"))
    assert "only curators" in refused.args["text"]
    app.fake.quiet(1.0)
    assert statuses(app) == {QUESTION: "open"}
    assert store.knowledge_changes() == []
    assert len(in_channel(app, "chat.update")) == updates


def test_dismiss_from_the_channel(app: Running) -> None:
    event = ask(app, QUESTION)
    (message,) = posted(app)
    dismiss = button(message, "Dismiss")
    assert dismiss["style"] == "danger" and "confirm" in dismiss
    reply = click(app, dismiss, "dismiss")
    assert "Dismissed 1 question." in reply.args["text"]
    assert statuses(app) == {QUESTION: "dismissed"}
    done = updated(app, lambda c: "Dismissed by" in c.dump())
    assert f"Dismissed by <@{CURATOR}>." in done.dump() and not has_buttons(done)
    # A second click on a stale copy of the message does nothing more.
    again = click(app, dismiss, "again")
    assert "Already handled" in again.args["text"]
    app.fake.quiet(1.0)
    assert told(app, event) == []  # dismissed questions are never announced


def test_handled_from_the_cli_updates_the_message(
    app: Running,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ask(app, QUESTION)
    posted(app)
    (question,) = store_of(app).list_questions(status=None)
    for name in ("DATABASE_URL", "ROLEBOT_HASH_USER_IDS", "ROLEBOT_KNOWLEDGE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE_DIR", str(app.knowledge_dir))
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.chdir(tmp_path)
    code = main(["unanswered", "promote", str(question.id), "--role", "tpm", "--by", "ops-alice"])
    assert code == 0, capsys.readouterr().err
    done = updated(app, lambda c: "Promoted to the Technical Program Manager" in c.dump())
    assert "by `ops-alice` (command line) as entry" in done.dump()
    assert done.args["ts"] == ts_of(app, QUESTION) and not has_buttons(done)
    app.fake.quiet(1.0)  # closed once, by one sweep
    closing = [c for c in in_channel(app, "chat.update") if "Promoted" in c.dump()]
    assert len(closing) == 1


def test_hostile_text_pings_nobody(app: Running) -> None:
    hostile = "<!channel> <!here> who owns the <@U0BOB0001> llama <!subteam^S0TEAM> budget?"
    event = mention(hostile, channel=ASKERS)
    app.slack.event(event)
    (message,) = posted(app)
    sent = message.dump()
    for ping in ("<!channel>", "<!here>", "<@U0BOB0001>", "<!subteam"):
        assert ping not in sent
    assert "llama" in sent


def test_a_channel_rolebot_cannot_post_in_is_survived(
    app: Running, caplog: pytest.LogCaptureFixture
) -> None:
    app.fake.fail(
        "chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"}, times=2
    )
    with caplog.at_level(logging.DEBUG, logger="bot.slack.curator_channel"):
        for number, text in enumerate((QUESTION, OTHER)):  # slash commands: no thread posts
            url = app.respond_url(f"c{number}")
            assert app.slack.command(text, url).status == 200
            app.fake.wait_for("respond", where=lambda c, u=url: c.path == u[u.index("/respond") :])
            wait(
                lambda n=number: len(in_channel(app)) > n,
                "the curators' channel was not tried",
            )
        wait(lambda: "channel_not_found" in caplog.text, "the failure was not logged")
        app.fake.quiet(1.0)  # sweeps: nothing is tried again
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "curators' channel" in r.getMessage()
    ]
    assert len(warnings) == 1  # logged once
    assert "ROLEBOT_CURATOR_CHANNEL" in warnings[0].getMessage()
    assert len(in_channel(app)) == 2
    assert set(statuses(app)) == {QUESTION, OTHER}  # the questions are still logged
    assert set(statuses(app).values()) == {"open"}
    # rolebot carries on, and the curators' channel works again once it can post.
    ask(app, "who feeds the office axolotl on weekends?")
    assert "axolotl" in posted(app, 3)[-1].dump()


def test_the_setting_is_checked() -> None:
    settings = Settings.from_env({"ROLEBOT_CURATOR_CHANNEL": "C0123ABCD"}, dotenv_path=None)
    assert settings.curator_channel == "C0123ABCD"
    assert Settings.from_env({}, dotenv_path=None).curator_channel is None
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"ROLEBOT_CURATOR_CHANNEL": "#curators"}, dotenv_path=None)
    assert str(raised.value).startswith("ROLEBOT_CURATOR_CHANNEL: '#curators'")
    assert "\n" not in str(raised.value)


def test_without_the_setting_nothing_is_posted(app_factory: AppFactory) -> None:
    running = app_factory()
    assert running.bot.service.curator_channel is None
    ask(running, QUESTION)
    running.fake.quiet(1.0)
    assert not [c for c in running.fake.posts() if "asked 1 time" in c.dump()]


def test_with_hashed_user_ids_the_curator_is_still_named(app_factory: AppFactory) -> None:
    running = app_factory(
        curator_channel=CURATORS, hash_user_ids=True, hash_key="k3y-for-tests-" + "0" * 20
    )
    ask(running, QUESTION)
    (message,) = posted(running)
    click(running, button(message, "Dismiss"), "dismiss")
    (question,) = store_of(running).list_questions(status=None)
    assert question.resolved_by and CURATOR not in question.resolved_by  # stored hashed
    done = updated(running, lambda c: "Dismissed by" in c.dump())
    assert f"Dismissed by <@{CURATOR}>." in done.dump()
