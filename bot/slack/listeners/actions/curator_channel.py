"""Curators' channel clicks: Promote to a role, Add to an entry (a picker), Dismiss. What they
do is :mod:`bot.slack.curator_channel`'s; the message itself is edited there, and the person
who clicked gets an ephemeral note (or a polite no)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.answer import notice
from bot.slack.blocks.curator_channel import CURATOR_ADD, CURATOR_DISMISS, CURATOR_PROMOTE
from bot.slack.blocks.message import Message, action_pattern
from bot.slack.replies import ephemeral, kindly
from bot.slack.service import Service

logger = logging.getLogger(__name__)

OFF = "The curators' channel is turned off (ROLEBOT_CURATOR_CHANNEL is not set)."


def register(app: App, service: Service) -> None:
    def handle(what: str, respond: Respond, work: Any) -> None:
        channel = service.curator_channel

        def run() -> Message:
            return notice(OFF) if channel is None else work(channel)

        ephemeral(respond, kindly(logger, what, run, service.sorry))

    @app.action(action_pattern(CURATOR_PROMOTE))
    def promote(ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond) -> None:
        ack()
        user, value = body["user"]["id"], action.get("value")
        handle("promoting from the curators' channel", respond, lambda c: c.promote(value, user))

    @app.action(action_pattern(CURATOR_ADD))
    def add(ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond) -> None:
        ack()
        user, value = body["user"]["id"], (action.get("selected_option") or {}).get("value")
        handle(
            "adding to an entry from the curators' channel",
            respond,
            lambda c: c.promote(value, user),
        )

    @app.action(action_pattern(CURATOR_DISMISS))
    def dismiss(ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond) -> None:
        ack()
        user, value = body["user"]["id"], action.get("value")
        handle("dismissing from the curators' channel", respond, lambda c: c.dismiss(value, user))
