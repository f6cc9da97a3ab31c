"""The WSGI application for ``rolebot serve``: Slack on ``POST /slack/events``, ``GET /healthz``.

Events API deliveries, slash commands and interactivity all arrive on ``/slack/events``; Bolt's
WSGI adapter verifies the signature (401 when it is bad or stale) and dispatches them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.runtime import Bot

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


class WsgiApp:
    """Routes ``/healthz`` itself and everything else to Bolt."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.slack = SlackRequestHandler(bot.app, path=EVENTS_PATH)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == HEALTH_PATH:
            return self.health(environ, start_response)
        result: Iterable[bytes] = self.slack(environ, start_response)
        return result

    def health(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """``{"status": "ok"|"degraded", "knowledge_entries": n, "database": bool}``.

        Always 200 while the process answers: a database outage degrades rolebot (questions go
        to the spool) but it still answers, so a load balancer should keep sending it traffic.
        """
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        body = json.dumps(self.bot.service.health()).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
