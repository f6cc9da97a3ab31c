"""A direct message to rolebot: every message is a question, answered in its thread."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.replies import from_person, kindly, post_in_thread, thread_of, without_mention
from bot.slack.service import Asked, Service
from bot.store.interface import Source

logger = logging.getLogger(__name__)


def _is_direct(event: dict[str, Any], context: BoltContext) -> bool:
    return event.get("channel_type") == "im" and from_person(event, context)


def register(app: App, service: Service) -> None:
    @app.event("message", matchers=[_is_direct])
    def answer_direct_message(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        channel, ts = event["channel"], event["ts"]
        if not service.first_reply(channel, ts):
            return
        thread_ts = thread_of(event)
        asked = Asked(
            text=without_mention(event.get("text", ""), context.bot_user_id),
            source=Source.DM,
            channel_id=channel,
            user_id=event.get("user"),
            team_id=context.team_id,
            message_ts=ts,
            thread_ts=thread_ts,
            event_id=body.get("event_id"),
        )
        reply = kindly(
            logger, "answering a direct message", lambda: service.reply_to(asked), service.sorry
        )
        post_in_thread(client, channel, thread_ts, reply)
