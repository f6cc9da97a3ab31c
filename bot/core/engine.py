"""The one object every face (CLI, Slack) asks: knowledge, matcher and role lookup together.

Reloading builds a whole new state and swaps it in with one assignment, so a question in flight
always sees one consistent knowledge base. A bad reload keeps the old state and says why.

Edited files are picked up only once the folder has been still for :data:`SETTLE_SECONDS`
(no file newer than that, or the same sizes and times seen that long apart), so a file caught
half-written (``cp`` and ``cat >`` empty it first) is never loaded. A file that was loaded and
is now empty is an error (the current knowledge stays); one that was removed is a warning.
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
from bot.core.normalize import clean
from bot.core.roles import RoleDirectory, RoleLookup
from bot.errors import KnowledgeError, Problem

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 1.0
"""How long the knowledge folder must be still before an edit is loaded."""

Stamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class _State:
    knowledge: Knowledge
    matcher: Matcher
    roles: RoleDirectory
    stamp: Stamp
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
        self._failed_stamp: Stamp | None = None
        self._seen: tuple[Stamp, float] | None = None
        """A changed stamp first seen at a moment (monotonic): loaded once it stays still."""

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
        result = state.matcher.match(clean(question))
        return compose(state.knowledge, result, self.thresholds.suggest)

    def lookup_role(self, text: str) -> RoleLookup:
        return self._state.roles.resolve(text)

    def lookup_roles(self, text: str) -> tuple[RoleLookup, ...]:
        """Every role name in ``text`` ("product, program"), in order."""
        return self._state.roles.names(text)

    # ------------------------------------------------------------------ reloading
    def reload(self) -> ReloadResult:
        """Re-read the folder. On error the current knowledge stays and the error is returned."""
        with self._lock:
            try:
                state = self._build(previous=self._state.stamp)
            except KnowledgeError as error:
                logger.error("knowledge reload failed, keeping the current knowledge: %s", error)
                return ReloadResult(False, error)
            changed = state.knowledge.fingerprint != self._state.knowledge.fingerprint
            self._state = state
            if changed:
                logger.info("knowledge reloaded: %d entries", len(state.knowledge.entries))
            return ReloadResult(changed)

    def reload_if_changed(
        self, min_interval: float = 0.0, settle: float = SETTLE_SECONDS
    ) -> ReloadResult | None:
        """Reload when a file in the folder changed (checked at most every ``min_interval`` s)
        and the folder has been still for ``settle`` seconds since."""
        now = time.monotonic()
        if now - self._checked < min_interval:
            return None
        self._checked = now
        stamp = _stamp(self.directory)
        if stamp in (self._state.stamp, self._failed_stamp):
            self._seen = None
            return None
        if not self._still(stamp, now, settle):
            return None
        self._seen = None
        result = self.reload()
        self._failed_stamp = stamp if result.error is not None else None
        return result

    def _still(self, stamp: Stamp, now: float, settle: float) -> bool:
        """No file touched in the last ``settle`` seconds, or the same stamp seen that long."""
        newest = max((mtime for _, mtime, _ in stamp), default=0)
        if time.time() - newest / 1e9 >= settle:
            return True
        if self._seen is None or self._seen[0] != stamp:
            self._seen = (stamp, now)
            return False
        return now - self._seen[1] >= settle

    def _build(self, previous: Stamp = ()) -> _State:
        stamp = _stamp(self.directory)
        _check_lost_files(self.directory, previous, stamp)
        knowledge = load_knowledge(self.directory)
        semantic = SemanticIndex.build(knowledge, self._semantic_cache) if self._semantic else None
        return _State(
            knowledge,
            Matcher(knowledge, self.thresholds, semantic=semantic),
            RoleDirectory(knowledge),
            stamp,
            semantic,
        )


def _check_lost_files(directory: Path, previous: Stamp, current: Stamp) -> None:
    """A loaded file now empty is refused (it is being rewritten, or was truncated by mistake);
    a removed one is logged as a warning (its entries go with it)."""
    now = {name: size for name, _, size in current}
    emptied = [(name, size) for name, _, size in previous if size and now.get(name) == 0]
    for name, _, _ in previous:
        if name not in now:
            logger.warning(
                "knowledge file %s was removed from %s: its entries are no longer answered",
                name,
                directory,
            )
    if emptied:
        raise KnowledgeError(
            [
                Problem(
                    str(directory / name),
                    None,
                    None,
                    None,
                    f"the file is empty now (it held {size:,} bytes when last loaded)",
                    "restore its content, or delete the file if its entries should go",
                )
                for name, size in emptied
            ]
        )


def _stamp(directory: Path) -> Stamp:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    result = []
    for path in files:
        try:
            info = path.stat()
        except FileNotFoundError:  # pragma: no cover - removed between glob and stat
            continue
        result.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(result)
