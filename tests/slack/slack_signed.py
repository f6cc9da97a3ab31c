"""Signed Slack requests, built the way Slack builds them (v0 HMAC-SHA256 signatures)."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_fakes import BOT_USER_ID, TEAM_ID
from slack_sdk.signature import SignatureVerifier

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_ids = itertools.count(1)


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: X-Slack-Request-Timestamp and X-Slack-Signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-token",
        "team_id": TEAM_ID,
        "api_app_id": "AROLEBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}
        ],
    }


def next_ts() -> str:
    return f"{int(time.time())}.{next(_ids):06d}"


def mention(
    text: str,
    *,
    channel: str = "C0GENERAL",
    user: str = "U0ALICE",
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts or next_ts(),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    *,
    channel: str = "D0ALICE",
    channel_type: str = "im",
    user: str | None = "U0ALICE",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "channel_type": channel_type,
        "text": text,
        "ts": next_ts(),
    }
    if user is not None:
        event["user"] = user
    event.update(extra)
    return event


def command_form(
    text: str,
    response_url: str,
    *,
    command: str = "/role",
    user: str = "U0ALICE",
    channel: str = "C0GENERAL",
) -> dict[str, str]:
    return {
        "token": "legacy-token",
        "team_id": TEAM_ID,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": "AROLEBOT",
        "response_url": response_url,
        "trigger_id": "1337.42.abcd",
    }


def block_actions(
    button: dict[str, Any],
    response_url: str,
    *,
    user: str = "U0ALICE",
    channel: str = "C0GENERAL",
    message_ts: str = "1700000000.000001",
    ephemeral: bool = False,
    container: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A click on ``button`` (as rolebot posted it)."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "team_id": TEAM_ID},
        "api_app_id": "AROLEBOT",
        "token": "legacy-token",
        "container": container
        or {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": "1337.42.abcd",
        "team": {"id": TEAM_ID, "domain": "example"},
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> Response:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read(), dict(error.headers))


@dataclass
class SlackClientSide:
    """Sends what Slack would send to rolebot's ``/slack/events``."""

    events_url: str
    secret: str = SECRET

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> Response:
        signed = sign(body, secret or self.secret, timestamp)
        all_headers = {"Content-Type": content_type, **signed, **(headers or {})}
        return http(self.events_url, body, all_headers, "POST")

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Response:
        body = json.dumps(event_body(event, event_id)).encode()
        headers = {}
        if retry:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.send(body, "application/json", headers=headers)

    def command(self, text: str, response_url: str, **kwargs: Any) -> Response:
        body = urlencode(command_form(text, response_url, **kwargs)).encode()
        return self.send(body, "application/x-www-form-urlencoded")

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> Response:
        """Submit the modal ``view`` (as rolebot opened it) with ``values`` for its inputs:
        ``{block_id: {action_id: value}}``. The response is rolebot's acknowledgement."""
        state = {
            block: {action: {"type": "plain_text_input", "value": value}}
            for block, inputs in values.items()
            for action, value in inputs.items()
        }
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "example"},
            "user": {"id": user, "username": "curator", "team_id": TEAM_ID},
            "api_app_id": "AROLEBOT",
            "token": "legacy-token",
            "trigger_id": "1337.42.abcd",
            "view": {**view, "id": "VMODAL", "team_id": TEAM_ID, "state": {"values": state}},
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(body, "application/x-www-form-urlencoded")

    def click(self, button: dict[str, Any], response_url: str, **kwargs: Any) -> Response:
        payload = json.dumps(block_actions(button, response_url, **kwargs))
        body = urlencode({"payload": payload}).encode()
        return self.send(body, "application/x-www-form-urlencoded")
