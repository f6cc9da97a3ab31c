"""Helpers shared by the Slack tests (a module of its own, so imports never depend on
which conftest pytest loaded last)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from slack_fakes import FakeSlack
from slack_signed import SECRET, SlackClientSide, http

from bot.config import Settings
from bot.slack.runtime import Bot

CURATOR = "U0CURATOR"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def make_settings(tmp_path: Path, fake: FakeSlack, knowledge: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "slack_app_token": "xapp-test-token",
        "slack_api_url": fake.url,
        "database_url": f"sqlite:///{tmp_path / 'rolebot.db'}",
        "data_dir": tmp_path / "data",
        "knowledge_dir": knowledge,
        "curators": frozenset({CURATOR}),
        "reload_interval": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Running:
    """The app on ``base_url``, Slack on ``fake``."""

    bot: Bot
    fake: FakeSlack
    base_url: str
    slack: SlackClientSide
    knowledge_dir: Path

    def respond_url(self, name: str = "r1") -> str:
        return self.fake.response_url(name)

    def get(self, path: str) -> Any:
        return http(self.base_url + path)


AppFactory = Callable[..., Running]
