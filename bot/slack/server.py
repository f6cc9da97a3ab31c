"""``rolebot serve``: gunicorn (gthread workers) serving :class:`bot.slack.wsgi.WsgiApp`.

Gunicorn runs in-process (a ``BaseApplication``), so ``rolebot serve`` is the only command to
know. The app is not preloaded: each worker builds its own store and Bolt app after the fork,
so no database connection or thread pool is shared between processes. The knowledge index,
built once in the master to check the knowledge, reaches the workers through the fork (each
then reloads its own copy when the files change), which spares each worker building it.

What must hold across workers lives outside them: the dedupe of Slack's retries in the database,
the spool in the data folder (file locks), knowledge reloads (each worker watches the folder),
and the metrics, in files under ``PROMETHEUS_MULTIPROC_DIR`` that ``rolebot serve`` sets up
before the workers fork.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from bot.config import Settings
from bot.core.engine import Engine
from bot.slack.metrics import MultiprocessDir, prepare_multiprocess, worker_exited
from bot.slack.runtime import Bot, build_bot
from bot.slack.wsgi import WsgiApp

logger = logging.getLogger(__name__)

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 3000
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8


class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's own lines go through rolebot's logging (same format, JSON too, redacted)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True


class Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn configured in code."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        workers: int = DEFAULT_WORKERS,
        threads: int = DEFAULT_THREADS,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.bot: Bot | None = None
        self.metrics_dir: MultiprocessDir | None = None
        self._master_pid = os.getpid()
        self.options: dict[str, Any] = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "preload_app": False,
            "proc_name": "rolebot",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": settings.log_level.lower(),
            "logger_class": GunicornLogger,
            "worker_exit": _worker_exit,
            "child_exit": _child_exit,
            "on_exit": self._on_exit,
        }
        super().__init__(prog="rolebot serve")

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # Gunicorn 25.1+ opens a control socket under $HOME by default: rolebot needs none, and
        # $HOME may be read-only in a container.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> WsgiApp:
        """Called in each worker, after the fork."""
        # No database work here: the master checked the schema before forking, and a worker
        # that cannot boot while the database is down would make gunicorn stop the server.
        self.bot = build_bot(self.settings, "http", engine=self.engine, check_schema=False)
        return WsgiApp(self.bot)

    def run(self) -> None:
        """Serve until stopped (SIGTERM or SIGINT: finish the requests in flight, then exit)."""
        self.metrics_dir = prepare_multiprocess()
        try:
            super().run()
        finally:
            if os.getpid() == self._master_pid:  # workers leave through here too
                self._remove_metrics_dir()

    def _on_exit(self, server: Any) -> None:
        self._remove_metrics_dir()

    def _remove_metrics_dir(self) -> None:
        if self.metrics_dir is not None:
            self.metrics_dir.remove()
            self.metrics_dir = None


def _worker_exit(server: Any, worker: Any) -> None:
    """Finish background store writes and close the database as a worker stops."""
    application = getattr(server, "app", None)
    bot = getattr(application, "bot", None)
    if isinstance(bot, Bot):
        try:
            bot.close()
        except Exception:
            logger.exception("closing the worker's store failed")


def _child_exit(server: Any, worker: Any) -> None:
    """In the master, when a worker has exited: drop its per-worker metrics."""
    worker_exited(int(worker.pid))
