"""Bolt listeners, one small handler per module, grouped by the kind of request they handle.

Listeners translate between Slack payloads and :class:`bot.slack.service.Service`; they hold no
business logic of their own.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, commands, events, messages, views
from bot.slack.service import Service


def register(app: App, service: Service) -> None:
    for kind in (events, messages, commands, actions, views):
        kind.register(app, service)
