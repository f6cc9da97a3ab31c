"""Building the app: no network until a request, Socket Mode needs no signature, logging."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pytest
from slack_bolt.request import BoltRequest
from slack_fakes import FakeSlack
from slack_signed import event_body, mention
from slackkit import make_settings

from bot.cli.context import Context
from bot.cli.slack import prepare
from bot.config import Settings
from bot.core.engine import Engine
from bot.core.knowledge.changes import NEW_ENTRY, KnowledgeChange
from bot.errors import ConfigError
from bot.slack.app import create_app
from bot.slack.logs import JsonFormatter, configure_logging
from bot.slack.runtime import build_bot
from bot.store import open_store


def test_building_the_app_calls_nothing(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    bot = build_bot(make_settings(tmp_path, fake_slack, knowledge_copy), "http")
    try:
        assert bot.app.client.base_url == fake_slack.url
        assert fake_slack.calls == []
    finally:
        bot.close()


def test_socket_mode_dispatch_needs_no_signature(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    settings = make_settings(tmp_path, fake_slack, knowledge_copy, slack_signing_secret=None)
    bot = build_bot(settings, "socket")
    try:
        event = mention("who owns the product roadmap?")
        body = json.dumps(event_body(event))
        response = bot.app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200
        (post,) = fake_slack.wait_for("chat.postMessage")
        assert post.args["thread_ts"] == event["ts"]
    finally:
        bot.close()


def test_missing_tokens_are_named(tmp_path: Path, fake_slack: FakeSlack, engine: Engine) -> None:
    settings = Settings(slack_bot_token="xoxb-x", slack_api_url=fake_slack.url)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        build_bot(settings, "http")
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set"):
        build_bot(settings, "socket")
    app = create_app(settings, engine, _NoStore(), mode="socket")  # the app itself is lenient
    assert app.client.token == "xoxb-x"


class _NoStore:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the store was used: {name}")


def test_json_logging(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(Settings(log_format="json", log_level="INFO"))
        logging.getLogger("rolebot.test").info("hello %s", "there")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert (record["level"], record["logger"], record["message"]) == (
            "INFO",
            "rolebot.test",
            "hello there",
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_json_formatter_includes_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    data = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in data["exception"]


def test_a_worker_booting_while_the_database_is_down_answers_the_curated_changes(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    """``rolebot serve``: the master reads the curated changes before forking, so a worker that
    replaces a lost one while the database is unreachable answers what its siblings answer."""
    question = "who keeps the llama petting zoo permits current?"
    folder = tmp_path / "db"
    settings = make_settings(
        tmp_path, fake_slack, knowledge_copy, database_url=f"sqlite:///{folder / 'rolebot.db'}"
    )
    store = open_store(settings)
    change = KnowledgeChange(
        NEW_ENTRY, "llama-permits", "program_manager", "how", (question,), "The Program Manager."
    )
    store.append_change(change, expected_revision=store.knowledge_revision(), by=None)
    store.close()
    context = Context(argparse.Namespace())
    context.settings = settings  # type: ignore[misc]  # the cached property, given
    prepare(context, "http")  # the master: database, knowledge, token
    folder.rename(tmp_path / "gone")  # the database is unreachable from here on
    bot = build_bot(settings, "http", engine=context.engine, check_schema=False)  # a worker
    try:
        answer = bot.engine.ask(question)
        assert answer.outcome == "answered" and answer.entry is not None
        assert answer.entry.id == "llama-permits"
    finally:
        bot.close()
