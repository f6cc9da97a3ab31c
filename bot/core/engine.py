"""The one object every face (CLI, Slack) asks: knowledge, matcher and role lookup together.

Reloading builds a whole new state and swaps it in with one assignment, so a question in flight
always sees one consistent knowledge base. A bad reload keeps the old state and says why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Thresholds
from bot.core.answers import Answer, compose
from bot.core.knowledge import Knowledge, load_knowledge
from bot.core.matching import Matcher
from bot.core.matching.semantic import SemanticIndex
from bot.core.roles import RoleDirectory, RoleLookup
from bot.errors import KnowledgeError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _State:
    knowledge: Knowledge
    matcher: Matcher
    roles: RoleDirectory
    stamp: tuple[tuple[str, int, int], ...]
    semantic: SemanticIndex | None = None


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    error: KnowledgeError | None = None


class Engine:
    """Ask questions, look up roles, reload knowledge."""

    def __init__(
        self,
        directory: Path,
        thresholds: Thresholds | None = None,
        *,
        semantic: bool = False,
        semantic_cache: Path | None = None,
    ) -> None:
        """``semantic``: also build the semantic index (when its extra is installed), caching
        its vectors in ``semantic_cache``."""
        self.directory = directory
        self.thresholds = thresholds or Thresholds()
        self._semantic = semantic
        self._semantic_cache = semantic_cache
        self._lock = threading.Lock()
        self._state = self._build()
        self._checked = time.monotonic()
        self._failed_stamp: tuple[tuple[str, int, int], ...] | None = None

    # ------------------------------------------------------------------ reading
    @property
    def knowledge(self) -> Knowledge:
        return self._state.knowledge

    @property
    def matcher(self) -> Matcher:
        return self._state.matcher

    @property
    def semantic(self) -> SemanticIndex | None:
        """The semantic index of the current knowledge; ``None`` when off or not installed."""
        return self._state.semantic

    def ask(self, question: str) -> Answer:
        state = self._state
        result = state.matcher.match(question)
        return compose(state.knowledge, result, self.thresholds.suggest)

    def lookup_role(self, text: str) -> RoleLookup:
        return self._state.roles.resolve(text)

    # ------------------------------------------------------------------ reloading
    def reload(self) -> ReloadResult:
        """Re-read the folder. On error the current knowledge stays and the error is returned."""
        with self._lock:
            try:
                state = self._build()
            except KnowledgeError as error:
                logger.error("knowledge reload failed, keeping the current knowledge: %s", error)
                return ReloadResult(False, error)
            changed = state.knowledge.fingerprint != self._state.knowledge.fingerprint
            self._state = state
            if changed:
                logger.info("knowledge reloaded: %d entries", len(state.knowledge.entries))
            return ReloadResult(changed)

    def reload_if_changed(self, min_interval: float = 0.0) -> ReloadResult | None:
        """Reload when a file in the folder changed (checked at most every ``min_interval`` s)."""
        now = time.monotonic()
        if now - self._checked < min_interval:
            return None
        self._checked = now
        stamp = _stamp(self.directory)
        if stamp in (self._state.stamp, self._failed_stamp):
            return None
        result = self.reload()
        self._failed_stamp = stamp if result.error is not None else None
        return result

    def _build(self) -> _State:
        stamp = _stamp(self.directory)
        knowledge = load_knowledge(self.directory)
        semantic = SemanticIndex.build(knowledge, self._semantic_cache) if self._semantic else None
        return _State(
            knowledge,
            Matcher(knowledge, self.thresholds, semantic=semantic),
            RoleDirectory(knowledge),
            stamp,
            semantic,
        )


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    result = []
    for path in files:
        try:
            info = path.stat()
        except FileNotFoundError:  # pragma: no cover - removed between glob and stat
            continue
        result.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(result)
