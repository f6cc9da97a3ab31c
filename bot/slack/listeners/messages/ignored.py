"""Every other message event: acknowledged (HTTP 200) and otherwise ignored.

Edits, deletions, joins, bot messages (rolebot's own included), channels not listening.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.service import Service


def register(app: App, service: Service) -> None:
    @app.event("message")
    def ignore_message() -> None:
        return None
