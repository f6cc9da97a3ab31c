"""Message events: direct messages, listening channels, and everything else (acknowledged).

Bolt runs the first listener that matches, so the order here matters: questions first, then a
catch-all that acknowledges every other message event (edits, deletions, bots, joins), since an
unanswered delivery would make Slack retry it.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.messages import direct, ignored, listen
from bot.slack.service import Service


def register(app: App, service: Service) -> None:
    direct.register(app, service)
    listen.register(app, service)
    ignored.register(app, service)
