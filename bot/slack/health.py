"""What ``/healthz`` reports: whether the database answers, and whether Slack still accepts the
bot token.

``GET /healthz`` and ``/metrics`` must answer at once even when the database hangs: a load
balancer's probe that times out would take a working rolebot out of service. So the check runs
on its own thread; callers wait for it at most ``timeout`` seconds (a database slower than that
counts as down) and reuse a result younger than ``ttl`` seconds. One check runs at a time.

The token is never checked from here (no Web API call per probe): a refusal (``invalid_auth``,
``token_revoked``, ``account_inactive``...) seen by any Web API call is noted (:class:`SlackAuth`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_TTL = 2.0
DEFAULT_TIMEOUT = 0.5


class DatabaseProbe:
    """Caches ``check()`` (True when the database answers) for ``ttl`` seconds."""

    def __init__(
        self,
        check: Callable[[], bool],
        *,
        ttl: float = DEFAULT_TTL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._check = check
        self.ttl = ttl
        self.timeout = timeout
        self._lock = threading.Lock()
        self._value = False
        self._checked_at = float("-inf")
        self._running: threading.Event | None = None

    def up(self) -> bool:
        """The latest answer, checking again if it is older than ``ttl``."""
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl:
                return self._value
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(
                    target=self._run, args=(done,), name="rolebot-db-probe", daemon=True
                ).start()
        if not done.wait(self.timeout):
            return False  # still waiting for the database: as good as down, for now
        with self._lock:
            return self._value

    def _run(self, done: threading.Event) -> None:
        try:
            value = bool(self._check())
        except Exception:
            logger.exception("database health check failed")
            value = False
        with self._lock:
            self._value = value
            self._checked_at = time.monotonic()
            self._running = None
        done.set()


SLACK_AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
"""Web API errors that mean SLACK_BOT_TOKEN no longer works: every answer will fail."""


class SlackAuth:
    """Whether Slack still accepts ``SLACK_BOT_TOKEN``, shared by every process that uses one
    data folder (the gunicorn workers of a machine): a refusal seen by one worker is reported
    by ``/healthz`` in all of them, until a restart whose start-up check passes clears it.

    The refusal is a small file in the data folder; reading it is cached for ``ttl`` seconds.
    """

    FILE = "slack-token-refused"

    def __init__(self, data_dir: Path, *, ttl: float = 1.0) -> None:
        self.path = Path(data_dir) / self.FILE
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[str | None, float] = (None, float("-inf"))

    def note(self, error: str) -> None:
        """A Web API call failed with ``error``: remember it when it means the token is bad."""
        if error not in SLACK_AUTH_ERRORS:
            return
        with self._lock:
            self._cached = (error, time.monotonic())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.FILE}.{os.getpid()}")
            temporary.write_text(error + "\n")
            temporary.replace(self.path)
        except OSError as failure:
            logger.warning("could not note the refused token in %s: %s", self.path, failure)

    def refused(self) -> str | None:
        """Slack's error code when the token was refused, else ``None``."""
        with self._lock:
            value, at = self._cached
            if value is not None or time.monotonic() - at < self.ttl:
                return value
        try:
            value = self.path.read_text(errors="replace").strip()[:40] or None
        except OSError:
            value = None
        with self._lock:
            self._cached = (value, time.monotonic())
        return value

    def clear(self) -> None:
        """The token was accepted (at start-up): forget an earlier refusal."""
        with self._lock:
            self._cached = (None, float("-inf"))
        self.path.unlink(missing_ok=True)
