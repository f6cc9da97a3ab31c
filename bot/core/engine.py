"""The one object every face (CLI, Slack) asks: knowledge, matcher and role lookup together.

Reloading builds a whole new state and swaps it in with one assignment, so a question in flight
always sees one consistent knowledge base. A bad reload keeps the old state and says why.

Edited files are picked up only once the folder has been still for :data:`SETTLE_SECONDS`
(no file newer than that, or the same sizes and times seen that long apart), so a file caught
half-written (``cp`` and ``cat >`` empty it first) is never loaded. A file that was loaded and
is now empty is an error (the current knowledge stays); one that was removed is a warning.

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
        semantic: bool = False,
        semantic_cache: Path | None = None,
        changes: ChangeSource | None = None,
    ) -> None:
        """``semantic``: also build the semantic index (when its extra is installed), caching
        its vectors in ``semantic_cache``. ``changes``: the curated changes to apply on top of
        the folder."""
        self.directory = directory
        self.thresholds = thresholds or Thresholds()
        self._semantic = semantic
        self._semantic_cache = semantic_cache
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
        self._seen: tuple[Stamp, float] | None = None
        """A changed stamp first seen at a moment (monotonic): loaded once it stays still."""

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
    def reload(self, *, read_log: bool = True) -> ReloadResult:
        """Re-read the folder (and the curated changes, unless ``read_log`` is false). On error
        the current knowledge stays and the error is returned."""
        with self._lock:
            if read_log:
                self._read_log()
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
        self,
        min_interval: float = 0.0,
        settle: float = SETTLE_SECONDS,
        *,
        check_log: bool = True,
    ) -> ReloadResult | None:
        """Reload when a file in the folder changed and the folder has been still for ``settle``
        seconds since, or (``check_log``) the curated changes' revision moved; checked at most
        every ``min_interval`` s. Without ``check_log`` the database is not asked (for a
        request's path: an unreachable database must not slow an answer down); the changes
        already read stay in use."""
        now = time.monotonic()
        if now - self._checked < min_interval:
            return None
        self._checked = now
        stamp = _stamp(self.directory)
        revision = self._peek_revision() if check_log else self._state.revision
        key = (stamp, revision)
        if key in ((self._state.stamp, self._state.revision), self._failed_stamp):
            self._seen = None
            return None
        if stamp != self._state.stamp and not self._still(stamp, now, settle):
            return None
        self._seen = None
        moved = check_log and revision != self._state.revision
        result = self.reload(read_log=moved)
        self._failed_stamp = key if result.error is not None else None
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

    def _build(self, previous: Stamp = ()) -> _State:
        stamp = _stamp(self.directory)
        _check_lost_files(self.directory, previous, stamp)
        log, revision = self._log, self._revision
        knowledge = (
            load_with_changes(self.directory, log) if log else load_knowledge(self.directory)
        )
        semantic = SemanticIndex.build(knowledge, self._semantic_cache) if self._semantic else None
        return _State(
            knowledge,
            Matcher(knowledge, self.thresholds, semantic=semantic),
            RoleDirectory(knowledge),
            stamp,
            semantic,
            revision,
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
