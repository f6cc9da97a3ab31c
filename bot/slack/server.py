"""``rolebot serve``: gunicorn (gthread workers) serving :class:`bot.slack.wsgi.WsgiApp`.

Gunicorn runs in-process (a ``BaseApplication``), so ``rolebot serve`` is the only command to
know. The app is not preloaded: each worker builds its own engine, store and Bolt app after the
fork, so no database connection or thread pool is shared between processes.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.config import Settings
from bot.slack.runtime import Bot, build_bot
from bot.slack.wsgi import WsgiApp

logger = logging.getLogger(__name__)

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 3000
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8


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
    ) -> None:
        self.settings = settings
        self.bot: Bot | None = None
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
            "worker_exit": _worker_exit,
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
        self.bot = build_bot(self.settings, "http")
        return WsgiApp(self.bot)


def _worker_exit(server: Any, worker: Any) -> None:
    """Finish background store writes and close the database as a worker stops."""
    application = getattr(server, "app", None)
    bot = getattr(application, "bot", None)
    if isinstance(bot, Bot):
        try:
            bot.close()
        except Exception:
            logger.exception("closing the worker's store failed")
