"""Helpers shared by the Slack tests (a module of its own, so imports never depend on
which conftest pytest loaded last)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_fakes import FakeSlack
from slack_signed import SECRET, SlackClientSide, http
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.slack.runtime import Bot
from bot.slack.wsgi import WsgiApp

CURATOR = "U0CURATOR"
POSTGRES_URL = os.environ.get(
    "ROLEBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class PgSchema:
    """A fresh PostgreSQL schema: its name, a URL whose connections use it, and an admin engine."""

    name: str
    url: str
    admin: Engine


@contextlib.contextmanager
def postgres_schema() -> Iterator[PgSchema]:
    """A fresh schema on the test server, dropped (with everything in it) afterwards. Skips
    when the server is unreachable, except under CI (``CI=true``), where it fails."""
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except Exception as error:
        admin.dispose()
        reason = f"PostgreSQL is unreachable ({type(error).__name__})"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"rolebot_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield PgSchema(schema, url.render_as_string(hide_password=False), admin)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def serve_in_thread(bot: Bot) -> WSGIServer:
    """``bot`` served as a gunicorn worker serves it (its WSGI app and /healthz) by a threaded
    wsgiref server on a free loopback port; shut it down and close it afterwards."""
    server = make_server(
        "127.0.0.1",
        0,
        WsgiApp(bot),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


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


# ---------------------------------------------------------------------- real processes
ROLEBOT = Path(sys.executable).with_name("rolebot")


def rolebot_command() -> list[str]:
    """The installed ``rolebot`` command (``python -m bot`` when it is not on disk)."""
    return [str(ROLEBOT)] if ROLEBOT.exists() else [sys.executable, "-m", "bot"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(fake: FakeSlack, **values: str) -> dict[str, str]:
    """The environment of a rolebot process talking to ``fake`` (no inherited ROLEBOT_/SLACK_)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROLEBOT_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url,
            "ROLEBOT_LOG_LEVEL": "INFO",
        }
    )
    env.update(values)
    return env


@dataclass
class Served:
    """A ``rolebot serve`` process on loopback."""

    process: subprocess.Popen[bytes]
    base_url: str

    @property
    def slack(self) -> SlackClientSide:
        return SlackClientSide(self.base_url + "/slack/events")

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err.decode(errors="replace")


def serve(env: dict[str, str], cwd: Path, *, workers: int = 1, timeout: float = 45) -> Served:
    """Start ``rolebot serve`` and wait until ``/healthz`` answers."""
    port = free_port()
    process = subprocess.Popen(
        [*rolebot_command(), "serve", "--host=127.0.0.1", f"--port={port}", f"--workers={workers}"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    served = Served(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"rolebot serve exited early: {served.stop()[1]}")
        try:
            if http(served.base_url + "/healthz").status == 200:
                return served
        except OSError:
            pass
        if time.monotonic() > deadline:
            served.stop()
            raise AssertionError(f"rolebot serve did not answer /healthz within {timeout} s")
        time.sleep(0.1)


def run_rolebot(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*rolebot_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=False,
        text=True,
        timeout=90,
    )
