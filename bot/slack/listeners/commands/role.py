"""``/role …`` (the name is configurable): help, a role, compare, ask, listen, unanswered.

Acknowledged at once; the reply follows on the response_url, visible only to the person.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.replies import ephemeral
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.command(service.command)
    def role_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            reply = service.command_reply(
                str(command.get("text") or ""),
                user_id=command.get("user_id"),
                channel_id=command.get("channel_id"),
                team_id=command.get("team_id"),
            )
        except Exception:
            logger.exception("the %s command failed", service.command)
            reply = service.sorry()
        ephemeral(respond, reply)
