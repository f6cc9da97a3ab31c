"""One of the nearest questions offered with an unanswered one: answer in place with it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks.message import NEAREST, action_pattern
from bot.slack.replies import ephemeral, update_in_place
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(NEAREST))
    def nearest(
        ack: Ack,
        action: dict[str, Any],
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        try:
            reply = service.nearest(action.get("value"), (body.get("channel") or {}).get("id"))
        except Exception:
            logger.exception("answering with a nearest question failed")
            ephemeral(respond, service.sorry())
            return
        update_in_place(client, body, respond, reply)
