"""``rolebot run``: Socket Mode, for development and workspaces without a public URL.

The connection is opened with ``apps.connections.open`` on ``SLACK_API_URL`` (the app-level
token, ``SLACK_APP_TOKEN``), then a WebSocket to the URL Slack returns; no inbound port needed.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings
from bot.slack.runtime import Bot, build_bot

logger = logging.getLogger(__name__)


def socket_handler(bot: Bot) -> SocketModeHandler:
    """The handler; its client calls apps.connections.open with the app's Web API client."""
    return SocketModeHandler(
        bot.app,
        app_token=bot.settings.slack_app_token,
        web_client=bot.app.client,
        logger=logging.getLogger("rolebot.socket_mode"),
    )


def run_socket_mode(settings: Settings) -> None:
    """Connect and answer until interrupted."""
    bot = build_bot(settings, "socket")
    handler = socket_handler(bot)
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        try:
            handler.close()  # type: ignore[no-untyped-call]
        finally:
            bot.close()
