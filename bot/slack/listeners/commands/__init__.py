"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.commands import role
from bot.slack.service import Service


def register(app: App, service: Service) -> None:
    role.register(app, service)
