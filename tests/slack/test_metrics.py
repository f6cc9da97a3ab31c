"""``GET /metrics`` (Prometheus text format) and a quick ``/healthz``: in one process, and under
``rolebot serve`` with two workers whose counts add up."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from knowledgekit import settle
from prometheus_client.parser import text_string_to_metric_families
from slack_fakes import FakeSlack
from slack_signed import SECRET, SlackClientSide, http, mention
from slackkit import Running, free_port, rolebot_command

ANSWERED = "who owns the product roadmap?"
UNANSWERED = "who waters the office plants on the third floor?"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample: (name, sorted labels) -> value."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        v
        for (sample, have), v in samples(text).items()
        if sample == name and set(labels.items()) <= set(have)
    )


# ------------------------------------------------------------------------------ one process
def test_metrics_count_a_signed_request(running: Running) -> None:
    before = running.get("/metrics").body.decode()
    assert running.slack.event(mention(ANSWERED)).status == 200
    assert running.slack.event(mention(UNANSWERED)).status == 200
    running.fake.wait_for("chat.postMessage", 2)
    response = running.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.body.decode()

    def delta(name: str, **labels: str) -> float:
        return value(text, name, **labels) - value(before, name, **labels)

    assert delta("rolebot_questions_total", outcome="answered", source="mention") == 1
    assert delta("rolebot_questions_total", outcome="unanswered", source="mention") == 1
    assert delta("rolebot_match_seconds_count") == 2
    assert delta("rolebot_ack_seconds_count", kind="event") == 2
    assert delta("rolebot_slack_requests_total", kind="event", status="200") == 2
    assert value(text, "rolebot_ack_seconds_bucket", kind="event", le="+Inf") >= 2
    assert value(text, "rolebot_database_up") == 1
    assert value(text, "rolebot_spool_records") == 0
    entries = len(running.bot.engine.knowledge.entries)
    assert value(text, "rolebot_knowledge_entries") == entries
    # Nothing people wrote is in the metrics.
    assert "roadmap" not in text
    assert "plants" not in text


def test_metrics_count_web_api_errors_and_commands(running: Running) -> None:
    before = running.get("/metrics").body.decode()
    running.fake.fail("chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"})
    running.slack.event(mention(ANSWERED))
    running.fake.wait_for("chat.postMessage")
    assert running.slack.command("tpm", running.respond_url("m1")).status == 200
    running.fake.wait_for("respond")
    text = running.get("/metrics").body.decode()
    errors = value(
        text, "rolebot_slack_api_errors_total", method="chat.postMessage", error="channel_not_found"
    ) - value(
        before,
        "rolebot_slack_api_errors_total",
        method="chat.postMessage",
        error="channel_not_found",
    )
    assert errors == 1
    commands = value(text, "rolebot_ack_seconds_count", kind="command") - value(
        before, "rolebot_ack_seconds_count", kind="command"
    )
    assert commands == 1


def test_a_retried_delivery_is_counted_and_answered_once(running: Running) -> None:
    before = running.get("/metrics").body.decode()
    event = mention(ANSWERED)
    for retry in (None, 1):
        assert running.slack.event(event, event_id="Ev0METRIC1", retry=retry).status == 200
    running.fake.wait_for("chat.postMessage")
    running.fake.quiet(0.5)
    assert len(running.fake.posts()) == 1
    text = running.get("/metrics").body.decode()
    duplicates = value(text, "rolebot_duplicate_deliveries_total") - value(
        before, "rolebot_duplicate_deliveries_total"
    )
    assert duplicates == 1


def test_healthz_answers_quickly_while_the_database_hangs(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = threading.Event()

    def hangs() -> bool:
        released.wait(10)
        return True

    monkeypatch.setattr(running.bot.store, "healthy", hangs)
    try:
        for _ in range(2):
            started = time.monotonic()
            response = running.get("/healthz")
            assert time.monotonic() - started < 2.0
            assert response.status == 200
            assert response.json()["status"] == "degraded"
            assert response.json()["database"] is False
        started = time.monotonic()
        text = running.get("/metrics").body.decode()
        assert time.monotonic() - started < 2.0
        assert value(text, "rolebot_database_up") == 0
    finally:
        released.set()


def test_metrics_and_healthz_refuse_other_methods(running: Running) -> None:
    assert http(running.base_url + "/metrics", b"", method="POST").status == 405
    assert http(running.base_url + "/healthz", b"", method="POST").status == 405


# ------------------------------------------------------------------------------ two workers
@pytest.fixture
def two_workers(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``rolebot serve --workers 2``; yields its URL, the process and its temporary folder."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROLEBOT_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake_slack.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'rolebot.db'}",
            "ROLEBOT_DATA_DIR": str(tmp_path / "data"),
            "ROLEBOT_KNOWLEDGE_DIR": str(knowledge_copy),
            "ROLEBOT_RELOAD_INTERVAL": "0",
            "TMPDIR": str(temp),
        }
    )
    port = free_port()
    process = subprocess.Popen(
        [*rolebot_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"rolebot serve exited: {process.communicate()[1].decode()}")
        try:
            if http(base + "/healthz").status == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "rolebot serve did not answer /healthz in 30 s"
        time.sleep(0.05)
    try:
        yield base, process, temp
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _workers(base: str) -> dict[str, float]:
    """Requests served per live worker, by pid."""
    text = http(base + "/metrics").body.decode()
    return {
        dict(labels)["pid"]: v
        for (name, labels), v in samples(text).items()
        if name == "rolebot_worker_requests"
    }


def test_two_workers_add_up_and_share_knowledge_reloads(
    two_workers: tuple[str, subprocess.Popen[bytes], Path],
    fake_slack: FakeSlack,
    knowledge_copy: Path,
) -> None:
    base, process, temp = two_workers
    slack = SlackClientSide(base + "/slack/events")
    # Knowledge edited while serving reaches every worker.
    draft = knowledge_copy / "team.yaml.draft"
    draft.write_text(
        "entries:\n"
        "  - id: zebra-crossing-rota\n"
        "    questions:\n"
        "      - who owns the zebra crossing rota\n"
        "      - who decides the zebra crossing rota\n"
        "      - whose call is the zebra crossing rota\n"
        "      - who sets the zebra crossing rota\n"
        "      - who is responsible for the zebra crossing rota\n"
        "    owner: project_manager\n"
        "    distinction: how\n"
        "    answer: The zebra crossing rota is one project's schedule, run by its manager.\n"
    )
    settle(draft)  # saved a few seconds ago, then moved in: the folder is still
    draft.replace(knowledge_copy / "team.yaml")
    sent = 0
    deadline = time.monotonic() + 20
    # Each round opens four connections at once, so both workers get some of them.
    while len(_workers(base)) < 2 or min(_workers(base).values()) == 0:
        assert time.monotonic() < deadline, f"one worker got everything: {_workers(base)}"
        threads = [
            threading.Thread(
                target=slack.command,
                args=("who owns the zebra crossing rota?", fake_slack.response_url(f"z{sent + i}")),
            )
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent += len(threads)
    replies = fake_slack.wait_for("respond", sent, timeout=15)
    assert all("zebra crossing rota" in r.dump() for r in replies), "a worker kept old knowledge"
    assert all("Project Manager" in r.args["text"] for r in replies)
    text = http(base + "/metrics").body.decode()
    assert value(text, "rolebot_slack_requests_total", kind="command", status="200") == sent
    assert value(text, "rolebot_questions_total", source="command") == sent
    assert value(text, "rolebot_ack_seconds_count", kind="command") == sent

    # A worker that dies is replaced; its counts stay in the sums, its own gauge goes.
    gone = next(iter(_workers(base)))
    os.kill(int(gone), signal.SIGKILL)
    deadline = time.monotonic() + 20
    while gone in _workers(base):
        assert time.monotonic() < deadline, "the dead worker's gauge stayed"
        time.sleep(0.1)
    text = http(base + "/metrics").body.decode()
    assert value(text, "rolebot_slack_requests_total", kind="command", status="200") == sent

    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err.decode()
    assert list(temp.iterdir()) == [], "the metrics folder was left behind"
