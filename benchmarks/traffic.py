"""Slack-shaped requests for the load benchmark: signed exactly as Slack signs them.

A realistic mix: questions rolebot answers (mentions and direct messages), questions it cannot
answer (each unique, so each must be logged exactly once), close calls, "which PM?", slash
commands, button clicks, and Slack's retries of an event already delivered
(``X-Slack-Retry-Num``). Every request knows the reply it should cause, so the benchmark can
count missing and duplicated replies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot.core.engine import Engine
from bot.slack.blocks.answer import answer_message
from bot.slack.blocks.message import CHOOSE_ROLE, HELPFUL, ROLE_DEFINITION

BOT_USER_ID = "UROLEBOT"
TEAM_ID = "T0LOAD"

CLOSE_CALLS = (
    "who writes the launch plan covering docs, training and marketing for offline mode",
    "who coordinates the international launch across the uk, germany and france teams",
    "who decides whether the self-serve growth program gets more budget",
    "who writes the project plan for the customer survey tool project",
    "who gives the status update on this project specifically, not the whole program",
    "who decides the due date for the customer survey deliverable",
    "*who* is running the app store screenshots project? need to know who to send the assets to",
)
CLARIFY = ("who's the PM here?", "is there a pm for this?", "i need to talk to the pm asap")
COMMANDS = (
    "tpm",
    "compare product manager tpm",
    "who owns the product roadmap?",
    "program manager",
    "help",
    "who decides what goes on the roadmap?",
)
_PLACES = ("room", "floor", "desk", "locker", "bay", "wing")
_CHORES = (
    "restocks the snack drawer",
    "waters the plants",
    "books the meeting room",
    "fixes the coffee machine",
    "orders the team hoodies",
    "cleans the fridge",
    "resets the badge reader",
)

# How often each kind of request appears (relative weights).
MIX: dict[str, float] = {
    "answered": 36,
    "answered_dm": 10,
    "unanswered": 15,
    "close_call": 7,
    "clarify": 3,
    "command": 14,
    "click_helpful": 5,
    "click_choose": 3,
    "click_role": 2,
    "retry": 5,
}


@dataclass
class Request:
    """One request to send, and what it should cause."""

    kind: str
    body: bytes
    headers: dict[str, str]
    due: float = 0.0
    reply_key: str | None = None
    """The fake Slack's key for the one reply this request must cause (None: no reply)."""
    event_id: str | None = None
    unanswered: bool = False
    """An unanswered question: exactly one row must be logged for ``event_id``."""


@dataclass
class Pools:
    """Question texts by the outcome rolebot gives them (checked with the engine)."""

    answered: list[str]
    close_calls: list[str]
    clarify: list[str]
    helpful_value: str
    choose_value: str
    role_value: str
    engine: Engine
    notes: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, engine: Engine, limit: int = 400) -> Pools:
        notes: list[str] = []
        answered: list[str] = []
        for entry in engine.knowledge.entries:
            for question in entry.questions[:3]:
                if engine.ask(question).outcome == "answered":
                    answered.append(question)
            if len(answered) >= limit:
                break
        close = [q for q in CLOSE_CALLS if engine.ask(q).outcome == "close_call"]
        if len(close) < len(CLOSE_CALLS):
            notes.append(f"{len(CLOSE_CALLS) - len(close)} close-call question(s) no longer are")
        clarify = [q for q in CLARIFY if engine.ask(q).outcome == "clarify"]
        reply = answer_message(engine.ask(answered[0]), question=answered[0])
        helpful = _button(reply, HELPFUL)
        definition = _button(reply, ROLE_DEFINITION, required=False)
        source = close[0] if close else answered[0]
        choose = _button(answer_message(engine.ask(source), question=source), CHOOSE_ROLE)
        role = next(iter(engine.knowledge.roles.values()))
        return cls(
            answered=answered,
            close_calls=close or answered[:1],
            clarify=clarify or answered[:1],
            helpful_value=helpful or "{}",
            choose_value=choose or helpful or "{}",
            role_value=definition or role.id,
            engine=engine,
            notes=notes,
        )


def _button(message: Any, action: str, *, required: bool = True) -> str | None:
    for block in message["blocks"]:
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        for element in elements:
            if str(element.get("action_id", "")).startswith(action):
                return str(element.get("value", ""))
    if required:
        raise RuntimeError(f"no {action} button in the reply")
    return None


class Traffic:
    """Builds signed requests for one phase (``tag`` keeps its ids apart from other phases)."""

    def __init__(
        self, pools: Pools, secret: str, respond_base: str, tag: str, seed: int = 7
    ) -> None:
        self.pools = pools
        self.secret = secret.encode()
        self.respond_base = respond_base.rstrip("/")
        self.tag = tag
        self.rng = random.Random(seed)
        self.count = 0
        self.base_ts = int(time.time())
        self.sent_events: list[Request] = []

    def schedule(self, total: int, rate: float | None) -> list[Request]:
        """``total`` requests; with ``rate``, due times spread evenly at that rate (retries come
        0.5 to 2 seconds after the event they repeat, as Slack's would, only sooner)."""
        kinds = list(MIX)
        weights = [MIX[k] for k in kinds]
        last = (total - 1) / rate if rate else 0.0
        out: list[Request] = []
        for index in range(total):
            due = index / rate if rate else 0.0
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "retry":
                if not self.sent_events:
                    kind = "answered"
                else:
                    original = self.rng.choice(self.sent_events[-200:])
                    later = original.due + self.rng.uniform(0.5, 2.0)
                    retry_due = max(due, min(later, last)) if rate else due
                    out.append(self.retry(original, retry_due))
                    continue
            request = self.make(kind)
            request.due = due
            out.append(request)
        out.sort(key=lambda r: r.due)
        return out

    def make(self, kind: str) -> Request:
        pools, rng = self.pools, self.rng
        if kind == "answered":
            return self.event(rng.choice(pools.answered), kind)
        if kind == "answered_dm":
            return self.event(rng.choice(pools.answered), kind, direct=True)
        if kind == "unanswered":
            return self.event(self.unanswered_question(), kind, unanswered=True)
        if kind == "close_call":
            return self.event(rng.choice(pools.close_calls), kind)
        if kind == "clarify":
            return self.event(rng.choice(pools.clarify), kind)
        if kind == "command":
            return self.command(rng.choice(COMMANDS))
        if kind == "click_helpful":
            return self.click(HELPFUL, pools.helpful_value, kind, in_place=False)
        if kind == "click_choose":
            return self.click(CHOOSE_ROLE, pools.choose_value, kind, in_place=True)
        return self.click(ROLE_DEFINITION, pools.role_value, kind, in_place=False)

    # ------------------------------------------------------------------ the requests
    def _next(self) -> int:
        self.count += 1
        return self.count

    def unanswered_question(self) -> str:
        """A question nobody has asked before, that rolebot cannot answer."""
        for _ in range(20):
            nonce = f"{self.tag.lower()}{self.rng.randrange(16**6):06x}"
            text = f"who {self.rng.choice(_CHORES)} in {self.rng.choice(_PLACES)} {nonce}?"
            if self.pools.engine.ask(text).outcome == "unanswered":
                return text
        raise RuntimeError("could not make an unanswered question")

    def event(
        self, question: str, kind: str, *, direct: bool = False, unanswered: bool = False
    ) -> Request:
        n = self._next()
        channel = f"D{self.tag}{n % 50:02d}" if direct else f"C{self.tag}{n % 20:02d}"
        ts = f"{self.base_ts}.{n:06d}"
        event_id = f"Ev{self.tag}{n:08d}"
        text = question if direct else f"<@{BOT_USER_ID}> {question}"
        event: dict[str, Any] = {
            "type": "message" if direct else "app_mention",
            "user": f"U0USER{n % 300:03d}",
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
        if direct:
            event["channel_type"] = "im"
        body = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "AROLEBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}
            ],
        }
        raw = json.dumps(body).encode()
        request = Request(
            kind,
            raw,
            self.sign(raw, "application/json"),
            reply_key=f"post:{channel}/{ts}",
            event_id=event_id,
            unanswered=unanswered,
        )
        self.sent_events.append(request)
        return request

    def retry(self, original: Request, due: float) -> Request:
        headers = {
            **self.sign(original.body, "application/json"),
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        }
        return Request("retry", original.body, headers, due=due, event_id=original.event_id)

    def command(self, text: str) -> Request:
        n = self._next()
        key = f"{self.tag}-c{n}"
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "team_domain": "load",
            "channel_id": f"C{self.tag}{n % 20:02d}",
            "channel_name": "general",
            "user_id": f"U0USER{n % 300:03d}",
            "user_name": "someone",
            "command": "/role",
            "text": text,
            "api_app_id": "AROLEBOT",
            "response_url": f"{self.respond_base}/{key}",
            "trigger_id": f"{n}.42.abcd",
        }
        raw = urlencode(form).encode()
        return Request(
            "command",
            raw,
            self.sign(raw, "application/x-www-form-urlencoded"),
            reply_key=f"respond:{key}",
        )

    def click(self, action: str, value: str, kind: str, *, in_place: bool) -> Request:
        n = self._next()
        key = f"{self.tag}-a{n}"
        channel = f"C{self.tag}{n % 20:02d}"
        message_ts = f"{self.base_ts}.{n:06d}"
        payload = {
            "type": "block_actions",
            "user": {"id": f"U0USER{n % 300:03d}", "username": "someone", "team_id": TEAM_ID},
            "api_app_id": "AROLEBOT",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{n}.42.abcd",
            "team": {"id": TEAM_ID, "domain": "load"},
            "channel": {"id": channel, "name": "general"},
            "response_url": f"{self.respond_base}/{key}",
            "actions": [
                {
                    "action_id": f"{action}.0",
                    "block_id": "b1",
                    "text": {"type": "plain_text", "text": "button"},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        raw = urlencode({"payload": json.dumps(payload)}).encode()
        reply = f"update:{channel}/{message_ts}" if in_place else f"respond:{key}"
        return Request(
            kind, raw, self.sign(raw, "application/x-www-form-urlencoded"), reply_key=reply
        )

    def sign(self, body: bytes, content_type: str) -> dict[str, str]:
        stamp = str(int(time.time()))
        base = b"v0:" + stamp.encode() + b":" + body
        digest = hmac.new(self.secret, base, hashlib.sha256).hexdigest()
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
        }


def expected(requests: Sequence[Request]) -> tuple[set[str], set[str]]:
    """The reply keys these requests must cause, and the event ids that must be logged."""
    replies = {r.reply_key for r in requests if r.reply_key}
    logged = {r.event_id for r in requests if r.unanswered and r.event_id}
    return replies, logged
