"""``create_app``: the Bolt app, its Web API client and the listeners.

Every request is acknowledged first, in the request's own thread (:func:`acknowledge_first`);
the listeners then run on a bounded thread pool (``Service.answering``). So the HTTP response
never waits for matching, the database or the Web API. Deliveries Slack retries are recognised
in the listeners, after the acknowledgement (:meth:`Service.first_reply`, in the database,
across workers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import RunMode, Settings
from bot.core.engine import Engine
from bot.slack import listeners
from bot.slack.service import Service
from bot.store.interface import Store

logger = logging.getLogger(__name__)

API_TIMEOUT = 15
"""Seconds for one Web API call."""
RATE_LIMIT_RETRIES = 3
"""429 responses retried (after Retry-After) before giving up."""


def web_client(settings: Settings) -> WebClient:
    """The Web API client: ``SLACK_API_URL``, and retries on rate limits and dropped connections."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=API_TIMEOUT,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def create_app(
    settings: Settings,
    engine: Engine,
    store: Store,
    *,
    mode: RunMode | None = None,
    service: Service | None = None,
    client: WebClient | None = None,
) -> App:
    """The Bolt app. Nothing is called on Slack until a request arrives.

    ``mode`` (default ``settings.mode``) decides whether HTTP requests are verified: they are
    over HTTP (the signing secret), not in Socket Mode (the connection is authenticated).
    """
    mode = mode or settings.mode
    service = service or Service(settings, engine, store)
    bolt_logger = logging.getLogger("rolebot.bolt")
    if not any(isinstance(f, _SameTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_SameTokenNotice())
    app = App(
        name="rolebot",
        signing_secret=settings.slack_signing_secret if mode == "http" else None,
        client=client or web_client(settings),  # carries SLACK_BOT_TOKEN
        token_verification_enabled=False,
        request_verification_enabled=mode == "http",
        process_before_response=False,  # listeners run on the pool, after the response
        listener_executor=service.answering,
        logger=bolt_logger,
    )
    app.use(acknowledge_first)
    listeners.register(app, service)
    app.error(_log_error)
    return app


def acknowledge_first(ack: Ack, body: dict[str, Any], next_: Callable[[], None]) -> None:
    """A global middleware: acknowledge (an empty 200) before any listener runs.

    rolebot never answers in the acknowledgement itself: replies go by the Web API or the
    response_url. Bolt acknowledges events by itself, but for commands and button clicks it
    would wait for the listener's ``ack()`` on the thread pool, polling every 10 ms; acking here
    makes every acknowledgement immediate. (The listeners' own ``ack()`` then changes nothing.)
    A modal's submission is the exception: its listener acknowledges, so it can show errors.
    """
    if body.get("type") != "view_submission":
        ack()
    next_()


class _SameTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that the
    client's token wins over it; they are the same token, so the warning only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _log_error(error: Exception, body: dict[str, Any]) -> None:
    logger.error("unhandled error in a listener (%s): %s", body.get("type"), error, exc_info=error)
