"""Curators: "Write the answer" opens a modal; saving it stores the answer (validated like the
knowledge files) for every replica. See :mod:`bot.slack.curate`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks.curate import ANSWER_MODAL, WRITE_ANSWER
from bot.slack.blocks.message import action_pattern
from bot.slack.replies import api_failed, ephemeral
from bot.slack.service import Service

logger = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    @app.action(action_pattern(WRITE_ANSWER))
    def write_answer(
        ack: Ack, action: dict[str, Any], body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        try:
            view = service.curation.answer_view(action.get("value"), body["user"]["id"])
        except Exception:
            logger.exception("opening the answer modal failed")
            view = service.sorry()
        if view.get("type") != "modal":
            ephemeral(respond, view)  # type: ignore[arg-type]
            return
        try:
            client.views_open(trigger_id=body["trigger_id"], view=dict(view))
        except Exception as error:
            api_failed("views.open", error)

    @app.view(ANSWER_MODAL)
    def answer_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            errors = service.curation.submit_answer(view, body["user"]["id"])
        except Exception:
            logger.exception("saving a curator's answer failed")
            errors = {"answer": "Sorry, that did not work; please try again."}
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()
