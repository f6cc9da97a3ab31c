"""The WSGI application for ``rolebot serve``: Slack on ``POST /slack/events``, ``GET /healthz``
and ``GET /metrics``.

Events API deliveries, slash commands and interactivity all arrive on ``/slack/events``; Bolt's
WSGI adapter verifies the signature (401 when it is bad or stale) and dispatches them. Each
such request is timed from its arrival here to its response (``rolebot_ack_seconds``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.metrics import CONTENT_TYPE, Exposition, Live
from bot.slack.runtime import Bot

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
KIND_KEY = "rolebot.request_kind"
"""Where the Slack handler notes the kind of request in the WSGI environ."""

StartResponse = Callable[..., Any]


def request_kind(body: str, content_type: str) -> str:
    """``event`` (Events API, JSON), ``interactive`` (a ``payload`` form field: buttons,
    views), ``command`` (a slash command's form), or ``other``."""
    if "json" in content_type:
        return "event"
    if body.startswith("payload=") or "&payload=" in body:
        return "interactive"
    if body.startswith("command=") or "&command=" in body:
        return "command"
    return "other"


class _SlackHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, noting which kind of request each one is."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        body = request.get_body()
        content_type = str(request.environ.get("CONTENT_TYPE") or "")
        request.environ[KIND_KEY] = request_kind(body, content_type)
        return self.app.dispatch(
            BoltRequest(body=body, query=request.query_string, headers=request.get_headers())
        )


class WsgiApp:
    """Routes ``/healthz`` and ``/metrics`` itself and everything else to Bolt."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.slack = _SlackHandler(bot.app, path=EVENTS_PATH)
        service = bot.service
        self.metrics = service.metrics
        self.exposition = Exposition(
            Live(
                spool_records=service.spool_depth,
                database_up=service.database.up,
                knowledge_entries=lambda: len(service.knowledge.entries),
            ),
            service.metrics,
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path == HEALTH_PATH:
            return self.health(environ, start_response)
        if path == METRICS_PATH:
            return self.prometheus(environ, start_response)
        status: list[int] = []

        def recording(code: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            status.append(int(code.split(" ", 1)[0]))
            return start_response(code, headers, *args)

        result: Iterable[bytes] = self.slack(environ, recording)
        if path == EVENTS_PATH:
            kind = str(environ.get(KIND_KEY) or "other")
            self.metrics.observe_request(
                kind, status[0] if status else 500, time.perf_counter() - started
            )
        return result

    def health(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """``{"status": "ok"|"degraded", "knowledge_entries": n, "database": bool}``.

        Always 200 while the process answers: a database outage degrades rolebot (questions go
        to the spool) but it still answers, so a load balancer should keep sending it traffic.
        Answers within about half a second even when the database hangs.
        """
        if not _readable(environ, start_response):
            return [b""]
        body = json.dumps(self.bot.service.health()).encode()
        return _send(environ, start_response, body, "application/json")

    def prometheus(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Every worker's metrics, summed, in the Prometheus text format."""
        if not _readable(environ, start_response):
            return [b""]
        return _send(environ, start_response, self.exposition.render(), CONTENT_TYPE)


def _readable(environ: dict[str, Any], start_response: StartResponse) -> bool:
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD"):
        return True
    start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
    return False


def _send(
    environ: dict[str, Any], start_response: StartResponse, body: bytes, content_type: str
) -> Iterable[bytes]:
    start_response(
        "200 OK",
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
