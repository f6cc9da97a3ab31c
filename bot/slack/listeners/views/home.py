"""The Home tab, published when opened (app_home_opened) and after a curator's review click."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.slack.blocks.message import Message, message
from bot.slack.replies import api_failed, ephemeral
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def publish_home(service: Service, client: WebClient, user_id: str) -> None:
    try:
        view = service.home(user_id)
    except Exception:
        logger.exception("building the Home tab failed")
        return
    try:
        client.views_publish(user_id=user_id, view=view)
    except Exception as error:
        api_failed("views.publish", error)


def after_review(
    service: Service,
    client: WebClient,
    body: Mapping[str, Any],
    respond: Respond,
    reply: Message,
) -> None:
    """After promote/dismiss: refresh where the click happened (Home tab or the ephemeral list)."""
    user = body["user"]["id"]
    if (body.get("container") or {}).get("type") == "view":
        publish_home(service, client, user)
        return
    if not service.is_curator(user):
        ephemeral(respond, reply)
        return
    try:
        fresh = service.review(user)
        combined = message(reply["text"], [*reply["blocks"], *fresh["blocks"]])
    except Exception:
        logger.exception("refreshing the unanswered list failed")
        combined = reply
    ephemeral(respond, combined, replace=True)


def register(app: App, service: Service) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish_home(service, client, event["user"])
