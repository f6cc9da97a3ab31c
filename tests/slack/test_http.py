"""Slack's rules over HTTP: signatures, fast acks, health, rate limits."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from slack_signed import event_body, http, mention, sign
from slackkit import Running

ANSWERED = "who owns the product roadmap?"


def _signed_body(question: str = ANSWERED) -> bytes:
    return json.dumps(event_body(mention(question))).encode()


@pytest.mark.parametrize("kind", ["forged", "other-body", "wrong-secret", "unsigned"])
def test_bad_signatures_get_401_and_do_nothing(running: Running, kind: str) -> None:
    body = _signed_body()
    headers = {
        "forged": {
            "X-Slack-Signature": "v0=" + "0" * 64,
            "X-Slack-Request-Timestamp": str(int(time.time())),
        },
        "other-body": sign(b"some other body"),
        "wrong-secret": sign(body, secret="not-the-secret"),
        "unsigned": {},
    }[kind]
    response = http(
        running.slack.events_url, body, {"Content-Type": "application/json", **headers}, "POST"
    )
    assert response.status == 401
    running.fake.quiet(0.3)
    assert running.fake.calls == []


def test_a_stale_timestamp_gets_401_even_when_correctly_signed(running: Running) -> None:
    response = running.slack.send(
        _signed_body(), "application/json", timestamp=int(time.time()) - 10 * 60
    )
    assert response.status == 401
    running.fake.quiet(0.3)
    assert running.fake.calls == []


def test_a_correct_signature_is_accepted(running: Running) -> None:
    response = running.slack.send(_signed_body(), "application/json")
    assert response.status == 200
    running.fake.wait_for("chat.postMessage")


def test_url_verification_is_answered(running: Running) -> None:
    body = json.dumps({"token": "t", "challenge": "c0ffee", "type": "url_verification"}).encode()
    response = running.slack.send(body, "application/json")
    assert response.status == 200
    assert b"c0ffee" in response.body


def test_healthz_reports_knowledge_and_database(running: Running) -> None:
    response = running.get("/healthz")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    entries = len(running.bot.engine.knowledge.entries)
    assert response.json() == {
        "status": "ok",
        "knowledge_entries": entries,
        "database": True,
        "slack": True,
    }


def test_healthz_is_degraded_when_the_database_does_not_answer(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(running.bot.store, "healthy", lambda: False)
    body = running.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["database"] is False


def test_other_paths_are_404(running: Running) -> None:
    assert running.get("/").status == 404
    assert running.get("/slack/events").status == 404  # GET: nothing there


def test_slow_work_never_delays_the_ack(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply is held until the ack has arrived: if the ack waited for it, it never would."""
    service = running.bot.service
    original = service.command_reply
    acked = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        acked.wait(timeout=15)
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "command_reply", held)
    try:
        response = running.slack.command("tpm", running.respond_url("slow"))
        assert response.status == 200
        assert running.fake.of("respond") == []
    finally:
        acked.set()
    running.fake.wait_for("respond")


def test_logging_to_the_store_never_delays_the_reply(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store write is held until the reply was posted: if it came first, it never would."""
    store = running.bot.store
    original = store.log_question
    posted = threading.Event()
    logged: list[Any] = []

    def held(record: Any) -> None:
        posted.wait(timeout=15)
        original(record)
        logged.append(record)

    monkeypatch.setattr(store, "log_question", held)
    try:
        running.slack.event(mention("who is in charge of the office plants watering rota?"))
        running.fake.wait_for("chat.postMessage", timeout=5)
        assert not logged
    finally:
        posted.set()


def test_rate_limited_calls_are_retried_after_retry_after(running: Running) -> None:
    running.fake.fail("chat.postMessage", 429, headers={"Retry-After": "0"})
    running.slack.event(mention(ANSWERED))
    first, second = running.fake.wait_for("chat.postMessage", 2, timeout=10)
    assert first.args == second.args
    running.fake.quiet(0.3)
    assert len(running.fake.posts()) == 2
