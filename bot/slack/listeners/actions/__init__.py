"""Button clicks (block_actions). Action ids are in :mod:`bot.slack.blocks.message`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.actions import (
    choose_role,
    curator_channel,
    dismiss,
    helpful,
    nearest,
    promote,
    role_definition,
    share,
    write_answer,
    wrong_role,
    wrong_role_pick,
)
from bot.slack.service import Service

MODULES = (
    helpful,
    wrong_role,
    wrong_role_pick,
    role_definition,
    choose_role,
    nearest,
    share,
    promote,
    dismiss,
    write_answer,
    curator_channel,
)


def register(app: App, service: Service) -> None:
    for module in MODULES:
        module.register(app, service)
