"""A plain message in a channel that turned listening on (``/role listen on``).

Answered only when it looks like an ownership question rolebot can answer; mentions are left
to the app_mention listener. Messages that do not look like one cost no database write.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.replies import from_person, post_in_thread, thread_of
from bot.slack.service import Asked, Service, looks_like_ownership_question
from bot.store.interface import Source

logger = logging.getLogger(__name__)


def _is_channel_message(event: dict[str, Any], context: BoltContext) -> bool:
    if event.get("channel_type") not in ("channel", "group") or not from_person(event, context):
        return False
    mention = f"<@{context.bot_user_id}>" if context.bot_user_id else None
    return not (mention and mention in event.get("text", ""))


def register(app: App, service: Service) -> None:
    @app.event("message", matchers=[_is_channel_message])
    def answer_when_listening(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        channel, ts = event["channel"], event["ts"]
        if not service.listening(channel):
            return
        if not looks_like_ownership_question(event.get("text", "")):
            return
        if not service.first_reply(channel, ts):  # Slack's retry of a message seen already
            return
        thread_ts = thread_of(event)
        asked = Asked(
            text=event.get("text", ""),
            source=Source.LISTEN,
            channel_id=channel,
            user_id=event.get("user"),
            team_id=context.team_id,
            message_ts=ts,
            thread_ts=thread_ts,
            event_id=body.get("event_id"),
        )
        try:
            reply = service.listen_reply(asked)
        except Exception:
            logger.exception("answering a message in a listening channel failed")
            return  # unasked: stay quiet rather than apologise in a channel
        if reply is not None:
            post_in_thread(client, channel, thread_ts, reply)
