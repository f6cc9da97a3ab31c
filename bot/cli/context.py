"""What sub-commands share: the settings and the engine, each built once, on first use."""

from __future__ import annotations

import argparse
from functools import cached_property
from pathlib import Path

from bot.config import Settings
from bot.core.engine import Engine
from bot.core.knowledge import resolve_knowledge_dir


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
