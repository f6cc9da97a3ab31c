"""Logging for the long-running commands: one line per record, text or JSON (``ROLEBOT_LOG_*``).

``ROLEBOT_LOG_FORMAT=json`` writes one JSON object per line: ``time``, ``level``, ``logger``,
``pid``, ``message``, the structured fields a record carries (``outcome``, ``score``,
``source``, ``entry_id``, ``event_id``...) and ``exception`` with the traceback, if any.

Two things never reach the logs:

* **Secrets.** Anything shaped like a Slack token (``xoxb-…``, ``xapp-…``, ``xoxe.xoxp-…``),
  the configured bot and app tokens, signing secret and hash key, and a database URL's
  password are replaced by ``[redacted]`` in every line, gunicorn's and the libraries' too.
* **What people wrote**, unless ``ROLEBOT_LOG_MESSAGE_TEXT`` is on: rolebot's own lines carry
  outcomes and scores only, and Slack's libraries, which would log whole request payloads at
  DEBUG, stay at INFO.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.config import Settings

_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
REDACTED = "[redacted]"

TOKEN_PATTERN = re.compile(r"\b(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]+")
"""Slack tokens: bot, user and app-level tokens, refresh and rotating tokens."""
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(?=@)")
"""The password in ``scheme://user:password@host``."""

FIELDS = (
    "source",
    "outcome",
    "score",
    "entry_id",
    "event_id",
    "kind",
    "method",
    "error",
    "status",
    "duration_ms",
    "count",
    "text",
)
"""Structured fields copied from a record (``logger.info(..., extra={...})``) into JSON lines."""

PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk", "rolebot.bolt", "rolebot.socket_mode", "urllib3")
"""Libraries that log request payloads (with message text) at DEBUG."""


class Redactor:
    """Replaces secrets in a line: token-shaped strings, URL passwords, and known values."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(s) for s in known)) if known else None

    def __call__(self, line: str) -> str:
        if self._known is not None:
            line = self._known.sub(REDACTED, line)
        line = TOKEN_PATTERN.sub(REDACTED, line)
        return _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, line)


class TextFormatter(logging.Formatter):
    """``time LEVEL [pid] logger: message``, secrets redacted."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__(_TEXT_FORMAT)
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, structured fields (and the
    traceback, if any), secrets redacted."""

    def __init__(self, redact: Redactor | None = None, *, message_text: bool = False) -> None:
        super().__init__()
        self.redact = redact or Redactor()
        self.message_text = message_text

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": self.redact(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is None or (name == "text" and not self.message_text):
                continue
            data[name] = self.redact(value) if isinstance(value, str) else _plain(value)
        if record.exc_info:
            data["exception"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            data["exception"] = self.redact(record.exc_text)
        return json.dumps(data, ensure_ascii=False)


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | bool) else str(value)


def secrets_of(settings: Settings) -> list[str | None]:
    """The configured values that must never be logged."""
    found: list[str | None] = [
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
        settings.hash_key,
    ]
    if settings.database_url:
        try:
            from sqlalchemy.engine import make_url  # noqa: PLC0415 - only when a URL is set

            found.append(make_url(settings.database_url).password)
        except Exception:
            found.append(None)
    return found


def make_formatter(settings: Settings) -> logging.Formatter:
    redact = Redactor(secrets_of(settings))
    if settings.log_format == "json":
        return JsonFormatter(redact, message_text=settings.log_message_text)
    return TextFormatter(redact)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send every record to standard error (or ``stream``) in the configured format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(settings))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Bolt and slack-sdk log every request at DEBUG, payloads (so message text) included: keep
    # them at INFO unless asked for DEBUG with message text allowed.
    libraries_debug = settings.log_level == "DEBUG" and settings.log_message_text
    for name in PAYLOAD_LOGGERS:
        level = logging.DEBUG if libraries_debug else max(logging.INFO, root.level)
        logging.getLogger(name).setLevel(level)
    if settings.log_level != "DEBUG":
        # Migrations are announced by the store; Alembic's own lines are noise at start-up.
        logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    return handler
