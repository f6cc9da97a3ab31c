""" "Wrong role": negative feedback, then ask which role it should have been."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.message import WRONG_ROLE, action_pattern
from bot.slack.replies import ephemeral, kindly
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(WRONG_ROLE))
    def wrong_role(
        ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        reply = kindly(
            logger,
            "recording wrong-role feedback",
            lambda: service.wrong_role(action.get("value"), body["user"]["id"]),
            service.sorry,
        )
        ephemeral(respond, reply)
