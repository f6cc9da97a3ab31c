"""The role it should have been (or "Not sure"): the question goes to the review queue."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.slack.blocks.message import WRONG_ROLE_PICK, action_pattern
from bot.slack.replies import ephemeral
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(WRONG_ROLE_PICK))
    def wrong_role_pick(
        ack: Ack,
        action: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        respond: Respond,
    ) -> None:
        ack()
        try:
            reply = service.wrong_role_pick(
                action.get("value"), body["user"]["id"], context.channel_id, context.team_id
            )
        except Exception:
            logger.exception("recording the suggested role failed")
            reply = service.sorry()
        ephemeral(respond, reply, replace=True)
