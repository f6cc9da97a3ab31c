"""The one object every face (CLI, Slack) asks: knowledge, matcher and role lookup together.

Reloading builds a whole new state and swaps it in with one assignment, so a question in flight
always sees one consistent knowledge base. A bad reload keeps the old state and says why.

With a :class:`~bot.core.knowledge.changes.ChangeSource` (the database's log of curated changes),
the knowledge is the folder plus those changes; a reload is due when a file changes or the log's
revision moves. While the log cannot be read, the changes last read stay in use.
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
from bot.core.knowledge.changes import ChangeSource, KnowledgeChange, load_with_changes
from bot.core.matching import Matcher
from bot.core.roles import RoleDirectory, RoleLookup
from bot.errors import KnowledgeError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _State:
    knowledge: Knowledge
    matcher: Matcher
    roles: RoleDirectory
    stamp: tuple[tuple[str, int, int], ...]
    revision: int | None = None
    """The change log's revision this state includes (``None``: no log read)."""


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
        changes: ChangeSource | None = None,
    ) -> None:
        self.directory = directory
        self.thresholds = thresholds or Thresholds()
        self.changes = changes
        self._lock = threading.Lock()
        self._log: tuple[KnowledgeChange, ...] = ()
        self._revision: int | None = None
        self._log_down = False
        self._read_log()
        try:
            self._state = self._build()
        except KnowledgeError as error:
            if not self._log:
                raise
            # The files alone may be fine (else this raises again): serve them, and say why.
            logger.error("the curated changes do not validate; serving the files alone: %s", error)
            self._log, self._revision = (), None
            self._state = self._build()
        self._checked = time.monotonic()
        self._failed_stamp: tuple[object, ...] | None = None

    def attach_changes(self, changes: ChangeSource) -> None:
        """Use the curated changes in ``changes`` from now on (loaded at once)."""
        self.changes = changes
        self.reload()

    @property
    def revision(self) -> int | None:
        """The revision of the curated changes in use (``None`` without a log)."""
        return self._state.revision

    # ------------------------------------------------------------------ reading
    @property
    def knowledge(self) -> Knowledge:
        return self._state.knowledge

    @property
    def matcher(self) -> Matcher:
        return self._state.matcher

    def ask(self, question: str) -> Answer:
        state = self._state
        result = state.matcher.match(question)
        return compose(state.knowledge, result, self.thresholds.suggest)

    def lookup_role(self, text: str) -> RoleLookup:
        return self._state.roles.resolve(text)

    # ------------------------------------------------------------------ reloading
    def reload(self, *, read_log: bool = True) -> ReloadResult:
        """Re-read the folder (and the curated changes, unless ``read_log`` is false). On error
        the current knowledge stays and the error is returned."""
        with self._lock:
            if read_log:
                self._read_log()
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

    def reload_if_changed(
        self, min_interval: float = 0.0, *, check_log: bool = True
    ) -> ReloadResult | None:
        """Reload when a file in the folder changed, or (``check_log``) the curated changes'
        revision moved; checked at most every ``min_interval`` s. Without ``check_log`` the
        database is not asked (for a request's path: an unreachable database must not slow an
        answer down); the changes already read stay in use."""
        now = time.monotonic()
        if now - self._checked < min_interval:
            return None
        self._checked = now
        stamp = _stamp(self.directory)
        revision = self._peek_revision() if check_log else self._state.revision
        key = (stamp, revision)
        if key in ((self._state.stamp, self._state.revision), self._failed_stamp):
            return None
        moved = check_log and revision != self._state.revision
        result = self.reload(read_log=moved)
        self._failed_stamp = key if result.error is not None else None
        return result

    def _peek_revision(self) -> int | None:
        """The log's revision now (the one in use when it cannot be read)."""
        if self.changes is None:
            return None
        try:
            revision = self.changes.knowledge_revision()
        except Exception as error:
            self._log_unreadable(error)
            return self._state.revision
        self._log_readable()
        return revision

    def _read_log(self) -> None:
        if self.changes is None:
            return
        try:
            revision = self.changes.knowledge_revision()
            log = tuple(self.changes.knowledge_changes())
        except Exception as error:
            self._log_unreadable(error)
            return
        self._log_readable()
        self._log = log
        self._revision = max([revision, *(c.id or 0 for c in log)])

    def _log_unreadable(self, error: Exception) -> None:
        if not self._log_down:
            logger.warning(
                "cannot read the curated changes (%s); keeping the ones already read", error
            )
        self._log_down = True

    def _log_readable(self) -> None:
        if self._log_down:
            logger.info("the curated changes can be read again")
        self._log_down = False

    def _build(self) -> _State:
        stamp = _stamp(self.directory)
        log, revision = self._log, self._revision
        knowledge = (
            load_with_changes(self.directory, log) if log else load_knowledge(self.directory)
        )
        return _State(
            knowledge,
            Matcher(knowledge, self.thresholds),
            RoleDirectory(knowledge),
            stamp,
            revision,
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
