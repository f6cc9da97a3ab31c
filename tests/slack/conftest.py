"""The Slack app running for real on loopback, against a recording stand-in for Slack.

``running`` serves :class:`bot.slack.wsgi.WsgiApp` (Bolt's WSGI adapter plus /healthz) with a
threaded wsgiref server, built by :func:`bot.slack.runtime.build_bot` exactly as a gunicorn
worker builds it, with a fresh SQLite database from ``bot.store.open_store``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_fakes import FakeSlack
from slack_signed import SlackClientSide
from slackkit import (
    AppFactory,
    PgSchema,
    Running,
    make_settings,
    postgres_schema,
    serve_in_thread,
)

from bot.slack.runtime import build_bot
from bot.store.engine import create_db_engine
from bot.store.migrate import upgrade


@pytest.fixture
def postgres() -> Iterator[PgSchema]:
    """A fresh PostgreSQL schema, dropped afterwards (skipped without a server, failed in CI)."""
    with postgres_schema() as schema:
        yield schema


@pytest.fixture
def pg_database(postgres: PgSchema) -> str:
    """A fresh PostgreSQL schema migrated to head (skipped without a server, failed in CI)."""
    engine = create_db_engine(postgres.url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return postgres.url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs twice: on a fresh SQLite file and on PostgreSQL at head."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rolebot.db'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_factory(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> Iterator[AppFactory]:
    """Start the app with some settings changed (``command="/owns"``, ``curators=...``)."""
    stops: list[Callable[[], None]] = []

    def start(**overrides: Any) -> Running:
        settings = make_settings(tmp_path, fake_slack, knowledge_copy, **overrides)
        bot = build_bot(settings, "http")
        server = serve_in_thread(bot)

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
