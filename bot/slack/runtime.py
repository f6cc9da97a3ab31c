"""Building everything one process needs: settings in, a ready Bolt app out."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App

from bot.config import RunMode, Settings
from bot.core.engine import Engine
from bot.core.knowledge import resolve_knowledge_dir
from bot.slack.app import create_app
from bot.slack.curate import Announcer
from bot.slack.curator_channel import curator_channel
from bot.slack.service import Service
from bot.store import open_store
from bot.store.interface import Store

logger = logging.getLogger(__name__)


@dataclass
class Bot:
    """One process's engine, store, service and Bolt app."""

    settings: Settings
    engine: Engine
    store: Store
    service: Service
    app: App
    announcer: Announcer | None = None

    def close(self) -> None:
        """Finish background store writes, then close the database."""
        try:
            if self.announcer is not None:
                self.announcer.stop()
            self.service.shutdown()
        finally:
            self.store.close()


def build_bot(
    settings: Settings,
    mode: RunMode,
    *,
    engine: Engine | None = None,
    check_schema: bool = True,
) -> Bot:
    """Check the Slack settings for ``mode``, load the knowledge (unless ``engine`` is given),
    open the store, build the app.

    ``check_schema=False`` opens the store without touching the database: a gunicorn worker
    (whose master has checked the schema) must boot and answer, spooling, while the database
    is down or locked."""
    settings.require_slack(mode)
    store = open_store(settings, migrate=None if check_schema else False)
    if engine is None:
        directory = resolve_knowledge_dir(settings.knowledge_dir)
        engine = Engine(
            directory,
            settings.thresholds,
            semantic=settings.semantic != "off",
            semantic_cache=settings.semantic_cache_dir,
            changes=store,
        )
    else:
        engine.attach_changes(store)  # the curated changes in the database
    service = Service(settings, engine, store)
    app = create_app(settings, engine, store, mode=mode, service=service)
    service.curator_channel = curator_channel(service, app.client)
    announcer = Announcer(service, app.client, settings.reload_interval).start()
    logger.info(
        "rolebot ready (%s mode): %d roles, %d FAQ entries",
        mode,
        len(engine.knowledge.roles),
        len(engine.knowledge.entries),
    )
    return Bot(settings, engine, store, service, app, announcer)
