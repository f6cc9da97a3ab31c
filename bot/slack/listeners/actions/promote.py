"""Curators: promote an unanswered question group to a new FAQ entry owned by a role."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks.message import PROMOTE, action_pattern
from bot.slack.listeners.views.home import after_review
from bot.slack.replies import kindly
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(PROMOTE))
    def promote(
        ack: Ack,
        action: dict[str, Any],
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        user = body["user"]["id"]
        reply = kindly(
            logger,
            "promoting questions",
            lambda: service.curation.promote(action.get("value"), user),
            service.sorry,
        )
        after_review(service, client, body, respond, reply)
