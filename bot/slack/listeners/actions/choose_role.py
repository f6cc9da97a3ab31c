""" "I meant the …" (close call) or "The …" (which PM?): answer in place with that role."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks.message import CHOOSE_ROLE, action_pattern
from bot.slack.replies import ephemeral, update_in_place
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(CHOOSE_ROLE))
    def choose_role(
        ack: Ack,
        action: dict[str, Any],
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        try:
            reply = service.choose_role(action.get("value"), (body.get("channel") or {}).get("id"))
        except Exception:
            logger.exception("answering a chosen role failed")
            ephemeral(respond, service.sorry())
            return
        update_in_place(client, body, respond, reply)
