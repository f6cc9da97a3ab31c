""" "Role definition": the role's card, for the person who clicked."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.message import ROLE_DEFINITION, action_pattern
from bot.slack.replies import ephemeral, kindly
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(ROLE_DEFINITION))
    def role_definition(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        reply = kindly(
            logger,
            "showing a role definition",
            lambda: service.role_definition(action.get("value")),
            service.sorry,
        )
        ephemeral(respond, reply)
