"""Whether the database answers, asked at most every couple of seconds and never waited on long.

``GET /healthz`` and ``/metrics`` must answer at once even when the database hangs: a load
balancer's probe that times out would take a working rolebot out of service. So the check runs
on its own thread; callers wait for it at most ``timeout`` seconds (a database slower than that
counts as down) and reuse a result younger than ``ttl`` seconds. One check runs at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

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
