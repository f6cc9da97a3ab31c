"""The Slack app running for real on loopback, against a recording stand-in for Slack.

``running`` serves :class:`bot.slack.wsgi.WsgiApp` (Bolt's WSGI adapter plus /healthz) with a
threaded wsgiref server, built by :func:`bot.slack.runtime.build_bot` exactly as a gunicorn
worker builds it, with a fresh SQLite database from ``bot.store.open_store``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_fakes import FakeSlack
from slack_signed import SECRET, SlackClientSide, http

from bot.config import Settings
from bot.slack.runtime import Bot, build_bot
from bot.slack.wsgi import WsgiApp

CURATOR = "U0CURATOR"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


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


@pytest.fixture
def app_factory(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> Iterator[AppFactory]:
    """Start the app with some settings changed (``command="/owns"``, ``curators=...``)."""
    stops: list[Callable[[], None]] = []

    def start(**overrides: Any) -> Running:
        settings = make_settings(tmp_path, fake_slack, knowledge_copy, **overrides)
        bot = build_bot(settings, "http")
        server = make_server(
            "127.0.0.1",
            0,
            WsgiApp(bot),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

        def stop() -> None:
            server.shutdown()
            server.server_close()
            bot.close()

        stops.append(stop)
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        events = SlackClientSide(base_url + "/slack/events")
        return Running(bot, fake_slack, base_url, events, knowledge_copy)

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def running(app_factory: AppFactory) -> Running:
    return app_factory()
