"""Logging for the long-running commands: one line per record, text or JSON (``ROLEBOT_LOG_*``)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bot.config import Settings

_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Bolt and slack-sdk log every request at DEBUG; keep them at INFO unless asked.
    if settings.log_level != "DEBUG":
        for name in ("slack_bolt", "slack_sdk", "rolebot.bolt", "urllib3"):
            logging.getLogger(name).setLevel(max(logging.INFO, root.level))
        # Migrations are announced by the store; Alembic's own lines are noise at start-up.
        logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
