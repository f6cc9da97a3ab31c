"""What sub-commands share: the settings and the engine, each built once, on first use."""

from __future__ import annotations

import argparse
import sys
from functools import cached_property
from pathlib import Path

from bot.config import Settings
from bot.core.engine import Engine
from bot.core.knowledge import resolve_knowledge_dir
from bot.errors import RolebotError


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @cached_property
    def settings(self) -> Settings:
        settings = Settings.from_env()
        knowledge = getattr(self.args, "knowledge", None)
        if knowledge:
            settings = settings.with_overrides(knowledge_dir=Path(knowledge))
        return settings

    @cached_property
    def knowledge_dir(self) -> Path:
        return resolve_knowledge_dir(self.settings.knowledge_dir)

    @cached_property
    def engine(self) -> Engine:
        settings = self.settings
        return Engine(
            self.knowledge_dir,
            settings.thresholds,
            semantic=settings.semantic != "off",
            semantic_cache=settings.semantic_cache_dir,
        )

    @cached_property
    def curated_engine(self) -> Engine:
        """The knowledge folder plus the curated changes in the database, as the bot uses it;
        the folder alone when there is no database yet or it cannot be read (said on stderr)."""
        settings = self.settings
        if not settings.database_url and not (settings.data_dir / "rolebot.db").exists():
            return self.engine
        from bot.store import open_store  # noqa: PLC0415 - only commands that answer need it

        try:
            store = open_store(settings)
        except RolebotError as error:
            print(f"rolebot: curated changes not read ({error})", file=sys.stderr)
            return self.engine
        return Engine(
            self.knowledge_dir,
            settings.thresholds,
            semantic=settings.semantic != "off",
            semantic_cache=settings.semantic_cache_dir,
            changes=store,
        )
