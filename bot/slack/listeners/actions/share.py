""" "Share in channel": post what the command showed privately, for everyone."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.slack.blocks.message import SHARE, action_pattern
from bot.slack.replies import ephemeral, respond_to
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(SHARE))
    def share(
        ack: Ack,
        action: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        respond: Respond,
    ) -> None:
        ack()
        try:
            reply = service.shared(action.get("value"), body["user"]["id"], context.channel_id)
        except Exception:
            logger.exception("sharing a reply failed")
            ephemeral(respond, service.sorry())
            return
        respond_to(
            respond,
            text=reply["text"],
            blocks=reply["blocks"],
            response_type="in_channel",
            replace_original=False,
        )
