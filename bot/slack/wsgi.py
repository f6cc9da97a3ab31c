"""The WSGI application for ``rolebot serve``: Slack on ``POST /slack/events``, ``GET /healthz``
and ``GET /metrics``.

Events API deliveries, slash commands and interactivity all arrive on ``/slack/events``.
Before any work, each request is held to Slack's shape: a body of at most
:data:`MAX_BODY_BYTES` (413 otherwise, answered without reading the rest), UTF-8 text (400),
a valid signature with a numeric, fresh timestamp (401), and a JSON object where Slack sends one
(400). Only then does Bolt parse and dispatch it. Each request is timed from its arrival here to
its response (``rolebot_ack_seconds``) and counted by status (``rolebot_slack_requests_total``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.slack.health import SlackAuth
from bot.slack.metrics import CONTENT_TYPE, Exposition, Live
from bot.slack.runtime import Bot

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
KIND_KEY = "rolebot.request_kind"
"""Where the Slack handler notes the kind of request in the WSGI environ."""
BODY_KEY = "rolebot.body"
"""Where the checked body of a Slack request waits for Bolt in the WSGI environ."""
MAX_BODY_BYTES = 1024 * 1024
"""Slack's requests are a few kilobytes (a message is at most 4,000 characters): 1 MiB is ample."""

logger = logging.getLogger(__name__)

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
        body = request.environ.get(BODY_KEY)
        if body is None:  # pragma: no cover - WsgiApp checks every POST first
            return BoltResponse(status=400, body="Bad Request")
        try:
            bolt_request = BoltRequest(
                body=body, query=request.query_string, headers=request.get_headers()
            )
        except Exception as error:  # a signed body Bolt cannot make sense of
            logger.warning("refused a Slack request Bolt could not read: %s", type(error).__name__)
            return BoltResponse(status=400, body="Bad Request: not a Slack request")
        return self.app.dispatch(bolt_request)


class Refused(Exception):
    """A request turned away before any work: ``status`` and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def checked_body(environ: dict[str, Any], verifier: SignatureVerifier | None) -> str:
    """The body of a Slack request, read (at most :data:`MAX_BODY_BYTES`) and checked before
    anything parses it: UTF-8, signed (when ``verifier`` is given: HTTP mode), and of the shape
    Slack sends (a JSON object, or a form whose ``payload`` is one). Raises :class:`Refused`."""
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ.get("wsgi.input")
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise Refused(400, "Content-Length is not a number")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise Refused(413, f"the body is over {MAX_BODY_BYTES} bytes")
        raw = stream.read(length) if stream is not None and length else b""
    else:  # chunked, or no body: read one byte past the limit at most
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise Refused(413, f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the body is not UTF-8 text") from None
    if verifier is not None:
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Refused(401, "no valid X-Slack-Request-Timestamp")
        if not signature or not verifier.is_valid(body, timestamp, signature):
            raise Refused(401, "invalid or stale signature")
    content_type = str(environ.get("CONTENT_TYPE") or "") or None
    try:
        parsed = parse_body(body, content_type)
    except ValueError:
        raise Refused(400, "the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise Refused(400, "the body is not a JSON object")
    return body


class WsgiApp:
    """Routes ``/healthz`` and ``/metrics`` itself and everything else to Bolt."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.slack = _SlackHandler(bot.app, path=EVENTS_PATH)
        secret = bot.settings.slack_signing_secret
        self.verifier = SignatureVerifier(secret) if secret else None
        service = bot.service
        self.metrics = service.metrics
        self.slack_auth = SlackAuth(bot.settings.data_dir)
        self.metrics.on_api_error = self.slack_auth.note
        self.exposition = Exposition(
            Live(
                spool_records=service.spool_depth,
                database_up=service.database.up,
                knowledge_entries=lambda: len(service.knowledge.entries),
                slack_up=lambda: self.slack_auth.refused() is None,
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

        if path == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            try:
                body = checked_body(environ, self.verifier)
            except Refused as refused:
                result = _refuse(refused, recording)
            else:
                environ[BODY_KEY] = body
                environ[KIND_KEY] = request_kind(body, str(environ.get("CONTENT_TYPE") or ""))
                result = self.slack(environ, recording)
        else:
            result = self.slack(environ, recording)
        if path == EVENTS_PATH:
            kind = str(environ.get(KIND_KEY) or "other")
            self.metrics.observe_request(
                kind, status[0] if status else 500, time.perf_counter() - started
            )
        return result

    def health(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """``{"status": "ok"|"degraded"|"down", "knowledge_entries": n, "database": bool,
        "slack": bool}``.

        200 while rolebot can answer: a database outage degrades it (questions go to the
        spool) but it still answers, so a load balancer should keep sending it traffic. 503
        ("down", ``"slack": false``, ``"slack_error"``) once Slack refused the bot token: no
        answer can reach anyone until the token is replaced. Answers within about half a second
        even when the database hangs.
        """
        if not _readable(environ, start_response):
            return [b""]
        health = self.bot.service.health()
        refused = self.slack_auth.refused()
        health["slack"] = refused is None
        status = "200 OK"
        if refused is not None:
            health["status"] = "down"
            health["slack_error"] = refused
            status = "503 Service Unavailable"
        body = json.dumps(health).encode()
        return _send(environ, start_response, body, "application/json", status)

    def prometheus(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Every worker's metrics, summed, in the Prometheus text format."""
        if not _readable(environ, start_response):
            return [b""]
        return _send(environ, start_response, self.exposition.render(), CONTENT_TYPE)


def _refuse(refused: Refused, start_response: StartResponse) -> Iterable[bytes]:
    body = f"{refused.reason}\n".encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    if refused.status == 413:
        # The rest of the body is never read: close the connection rather than drain it.
        headers.append(("Connection", "close"))
    reason = {400: "Bad Request", 401: "Unauthorized", 413: "Content Too Large"}[refused.status]
    start_response(f"{refused.status} {reason}", headers)
    return [body]


def _readable(environ: dict[str, Any], start_response: StartResponse) -> bool:
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD"):
        return True
    start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
    return False


def _send(
    environ: dict[str, Any],
    start_response: StartResponse,
    body: bytes,
    content_type: str,
    status: str = "200 OK",
) -> Iterable[bytes]:
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
