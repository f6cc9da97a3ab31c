"""Slack plumbing the listeners share: which messages are people's questions, and posting."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks.message import Message
from bot.slack.metrics import get_metrics

logger = logging.getLogger(__name__)


QUESTION_SUBTYPES = frozenset({"file_share", "thread_broadcast"})
"""Message subtypes that are still a person's new message: with a file attached, or a thread
reply also sent to the channel."""


def from_person(event: Mapping[str, Any], context: BoltContext) -> bool:
    """A new message a person wrote (plain, with a file, or a thread reply sent to the channel
    too): not a bot (any ``bot_id``), not rolebot itself, not an edit, deletion, join or any
    other subtype. Answering only these means rolebot never loops."""
    subtype = event.get("subtype")
    if subtype and subtype not in QUESTION_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return False
    if context.bot_user_id is not None and user == context.bot_user_id:
        return False
    return isinstance(event.get("text"), str)


def without_mention(text: str, bot_user_id: str | None) -> str:
    """The question without rolebot's own mention (``<@U…> who owns …``)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def thread_of(event: Mapping[str, Any]) -> str:
    """Replies go in the question's thread: its ``thread_ts``, else its own ``ts``."""
    return str(event.get("thread_ts") or event["ts"])


def post_in_thread(client: WebClient, channel: str, thread_ts: str, reply: Message) -> None:
    """Post a reply in a thread (no unfurling: answers carry no links worth previewing)."""
    try:
        posted = client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=reply["text"],
            blocks=reply["blocks"],
            unfurl_links=False,
            unfurl_media=False,
        )
    except Exception as error:
        api_failed("chat.postMessage", error, channel)
        return
    edit = reply.get("edit")
    if edit is not None and posted.get("ts"):  # mentions added by an edit notify nobody
        try:
            client.chat_update(
                channel=channel, ts=posted["ts"], text=edit["text"], blocks=edit["blocks"]
            )
        except Exception as error:
            api_failed("chat.update", error, channel)


def update_in_place(
    client: WebClient, body: Mapping[str, Any], respond: Respond, reply: Message
) -> None:
    """Replace the message a button was clicked in: chat.update for a channel message, the
    response_url for an ephemeral one (which chat.update cannot reach)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    if container.get("is_ephemeral") or not channel or not ts:
        respond_to(respond, text=reply["text"], blocks=reply["blocks"], replace_original=True)
        return
    try:
        client.chat_update(channel=channel, ts=ts, text=reply["text"], blocks=reply["blocks"])
    except Exception as error:
        api_failed("chat.update", error, channel)


def ephemeral(respond: Respond, reply: Message, *, replace: bool = False) -> None:
    """Only the person who clicked or typed sees this."""
    respond_to(
        respond,
        text=reply["text"],
        blocks=reply["blocks"],
        response_type="ephemeral",
        replace_original=replace,
    )


def api_failed(method: str, error: Exception, where: str | None = None) -> None:
    """Count (``rolebot_slack_api_errors``) and log a failed Web API call: Slack's error code,
    or the exception's name when Slack was not reached (retries are already spent)."""
    if isinstance(error, SlackApiError):
        response = error.response
        code = str(response.get("error") or f"http_{response.status_code}")
    else:
        code = type(error).__name__
    get_metrics().api_error(method, code)
    logger.error(
        "%s%s failed: %s",
        method,
        f" in {where}" if where else "",
        code,
        extra={"method": method, "error": code},
    )


def respond_to(respond: Respond, **message: Any) -> None:
    """Post on the response_url; a refusal or a failure is counted and logged, never raised
    (the person already has the acknowledgement, and there is nobody else to tell)."""
    try:
        response = respond(**message)
    except Exception as error:
        api_failed("response_url", error)
        return
    status = getattr(response, "status_code", 200)
    if status != 200:
        get_metrics().api_error("response_url", f"http_{status}")
        logger.error(
            "the response_url refused the reply: HTTP %s",
            status,
            extra={"method": "response_url", "error": f"http_{status}"},
        )


def kindly(
    log: logging.Logger, what: str, work: Callable[[], Message], sorry: Callable[[], Message]
) -> Message:
    """The handler's work; on failure the traceback goes to ``log``, the person gets ``sorry``."""
    try:
        return work()
    except Exception:
        log.exception("%s failed", what)
        return sorry()
