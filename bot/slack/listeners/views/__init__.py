"""Views: the App Home tab."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.views import home
from bot.slack.service import Service


def register(app: App, service: Service) -> None:
    home.register(app, service)
