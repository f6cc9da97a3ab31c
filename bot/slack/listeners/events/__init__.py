"""Events API events (other than messages and the Home tab)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.events import app_mention
from bot.slack.service import Service


def register(app: App, service: Service) -> None:
    app_mention.register(app, service)
