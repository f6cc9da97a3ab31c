"""Logs: one line per record, text or JSON; never a token; question text only when asked."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from slack_signed import SECRET, mention
from slackkit import AppFactory, Running

from bot.config import Settings
from bot.slack.logs import PAYLOAD_LOGGERS, JsonFormatter, Redactor, configure_logging

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
QUESTION = "who approves the quokka budget for the zebra offsite"


@contextmanager
def logging_to(settings: Settings) -> Iterator[io.StringIO]:
    """``configure_logging`` into a buffer; the previous configuration comes back after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    names = (*PAYLOAD_LOGGERS, "alembic")
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    configure_logging(settings, stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "log_level": "DEBUG",
    }
    values.update(changes)
    return Settings(**values)


def _ask_and_wait(running: Running, text: str) -> None:
    """Ask in a channel; wait for the reply and for the question to be logged for curators."""
    running.slack.event(mention(text))
    running.fake.wait_for("chat.postMessage")
    deadline = time.monotonic() + 10
    while not running.bot.store.list_questions():  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the unanswered question was never stored"
        time.sleep(0.05)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_by_default_logs_carry_no_token_and_no_question_text(
    app_factory: AppFactory, log_format: str
) -> None:
    with logging_to(_settings(log_format=log_format)) as stream:
        running = app_factory()
        _ask_and_wait(running, f"{QUESTION} {TOKEN}?")
        running.slack.command(f"who owns the walrus roadmap {TOKEN}", running.respond_url("l1"))
        running.fake.wait_for("respond")
        logging.getLogger("rolebot.test").error("a pasted token %s", TOKEN)
    log = stream.getvalue()
    assert "question: unanswered" in log  # rolebot did log the outcome...
    assert TOKEN not in log  # ...never the token,
    assert "xoxb-test-token" not in log  # nor the configured one (slack_sdk at DEBUG would),
    assert SECRET not in log
    for word in ("quokka", "zebra", "walrus"):  # nor what people wrote
        assert word not in log
    assert "[redacted]" in log
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines()]
        asked = [line for line in lines if line.get("outcome") == "unanswered"]
        assert asked
        assert asked[0]["source"] == "mention"
        assert "text" not in asked[0]
        assert {"time", "level", "logger", "pid", "message"} <= set(asked[0])


def test_question_text_is_logged_only_when_asked_for(app_factory: AppFactory) -> None:
    settings = _settings(log_format="json", log_message_text=True, log_level="INFO")
    with logging_to(settings) as stream:
        running = app_factory(log_message_text=True)
        _ask_and_wait(running, f"{QUESTION} {TOKEN}?")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    asked = next(line for line in lines if line.get("outcome") == "unanswered")
    assert "quokka" in asked["text"]
    assert TOKEN not in json.dumps(lines)
    assert "[redacted]" in asked["text"]


def test_redactor_covers_token_shapes_urls_and_known_secrets() -> None:
    redact = Redactor(["s3cr3t-signing-value"])
    line = (
        "xoxb-1-2-abc xoxp-12-34 xapp-1-A0-123 xoxe.xoxp-1-abc xoxe-1-abc "
        "postgresql://rolebot:hunter22@db/rolebot s3cr3t-signing-value ok"
    )
    cleaned = redact(line)
    for secret in ("xoxb-1", "xoxp-12", "xapp-1", "xoxe", "hunter22", "s3cr3t"):
        assert secret not in cleaned
    assert cleaned.endswith(" ok")
    assert "postgresql://rolebot:[redacted]@db/rolebot" in cleaned


def test_json_lines_include_tracebacks_redacted() -> None:
    formatter = JsonFormatter(Redactor())
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    data = json.loads(formatter.format(record))
    assert data["message"] == "boom"
    assert "RuntimeError" in data["exception"]
    assert TOKEN not in data["exception"]
