"""Both ways to run, for real: ``rolebot serve`` (gunicorn) and ``rolebot run`` (Socket Mode),
started as the ``rolebot`` command in a subprocess, talking to the loopback stand-in for Slack."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_fakes import FakeSlack, FakeSocketModeServer
from slack_signed import SECRET, SlackClientSide, event_body, http, mention
from slackkit import (
    POSTGRES_URL,
    PgSchema,
    free_port,
    process_env,
    rolebot_command,
    run_rolebot,
)

ANSWERED = "who owns the product roadmap?"


def _env(tmp_path: Path, fake: FakeSlack, knowledge: Path, **extra: str) -> dict[str, str]:
    """:func:`slackkit.process_env` with a SQLite file and data folder in ``tmp_path``."""
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rolebot.db'}",
        "ROLEBOT_DATA_DIR": str(tmp_path / "data"),
        "ROLEBOT_KNOWLEDGE_DIR": str(knowledge),
    }
    return process_env(fake, **{**values, **extra})


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err.decode(errors="replace")


@pytest.fixture
def serve(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    yield from _serving(tmp_path, _env(tmp_path, fake_slack, knowledge_copy))


def _serving(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
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
            _, err = process.communicate()
            pytest.fail(f"rolebot serve exited early: {err.decode(errors='replace')}")
        try:
            if http(base + "/healthz").status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            _stop(process, signal.SIGKILL)
            pytest.fail("rolebot serve did not answer /healthz within 30 s")
        time.sleep(0.1)
    try:
        yield base, process
    finally:
        _stop(process)


def test_serve_answers_healthz_and_signed_requests(
    serve: tuple[str, subprocess.Popen[bytes]], fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    base, process = serve
    health = http(base + "/healthz").json()
    assert health["status"] == "ok"
    assert health["database"] is True
    assert health["knowledge_entries"] > 0
    slack = SlackClientSide(base + "/slack/events")
    event = mention(ANSWERED)
    # Three deliveries of one event (Slack's retries), spread over both workers: one reply.
    for retry in (None, 1, 2):
        assert slack.event(event, event_id="Ev0SERVE01", retry=retry).status == 200
    (post,) = fake_slack.wait_for("chat.postMessage", timeout=15)
    assert post.args["thread_ts"] == event["ts"]
    assert "Product Manager" in post.args["text"]
    fake_slack.quiet(1.0)
    assert len(fake_slack.posts()) == 1
    bad = http(
        base + "/slack/events",
        json.dumps(event_body(event)).encode(),
        {"Content-Type": "application/json"},
        "POST",
    )
    assert bad.status == 401
    code, err = _stop(process)
    assert code == 0, err
    assert "Traceback" not in err


def test_serve_without_the_signing_secret_says_which_variable(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    env = _env(tmp_path, fake_slack, knowledge_copy)
    del env["SLACK_SIGNING_SECRET"]
    result = run_rolebot(env, tmp_path, "serve", "--port", str(free_port()))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "rolebot: error: SLACK_SIGNING_SECRET is not set: it is required for http mode "
        "(see .env.example and the README's 'Set up in Slack')"
    ]


def test_run_without_the_app_token_says_which_variable(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    result = subprocess.run(
        [*rolebot_command(), "run"],
        env=_env(tmp_path, fake_slack, knowledge_copy),
        cwd=tmp_path,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SLACK_APP_TOKEN is not set" in result.stderr
    assert fake_slack.calls == []


def test_run_connects_over_socket_mode_and_answers(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    event = mention(ANSWERED)
    envelope = {
        "envelope_id": "env-0001",
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": event_body(event, "Ev0SOCKET1"),
    }
    ws = FakeSocketModeServer([envelope]).start()
    fake_slack.socket_url = ws.url
    env = _env(tmp_path, fake_slack, knowledge_copy, SLACK_APP_TOKEN="xapp-test-token")
    del env["SLACK_SIGNING_SECRET"]  # not needed in Socket Mode
    process = subprocess.Popen(
        [*rolebot_command(), "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        (opened,) = fake_slack.wait_for("apps.connections.open", timeout=30)
        assert opened.headers["authorization"] == "Bearer xapp-test-token"
        deadline = time.monotonic() + 15
        while not ws.handshakes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ws.handshakes, (
            "no WebSocket connection attempt to the URL apps.connections.open gave"
        )
        request_line = ws.handshakes[0].splitlines()[0]
        assert request_line.startswith("GET /link/?ticket=test HTTP/1.1")
        assert "upgrade: websocket" in ws.handshakes[0].lower()
        (post,) = fake_slack.wait_for("chat.postMessage", timeout=15)
        assert post.args["thread_ts"] == event["ts"]
        assert "Product Manager" in post.args["text"]
        deadline = time.monotonic() + 5
        while not any(m.get("envelope_id") == "env-0001" for m in ws.received):
            assert time.monotonic() < deadline, f"envelope not acknowledged: {ws.received}"
            time.sleep(0.05)
    finally:
        code, err = _stop(process, signal.SIGINT)
        ws.stop()
    assert code in (0, 130), err


# ---------------------------------------------------------------------- faults while serving
def _workers(process: subprocess.Popen[bytes]) -> set[int]:
    """The gunicorn workers: the master's child processes."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    try:
        return {int(pid) for pid in children.read_text().split()}
    except OSError:
        return set()


def _wait_for_workers(process: subprocess.Popen[bytes], count: int, gone: set[int]) -> set[int]:
    deadline = time.monotonic() + 30
    while True:
        workers = _workers(process) - gone
        if len(workers) >= count:
            return workers
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, f"workers not replaced: {_workers(process)}"
        time.sleep(0.05)


def test_a_worker_lost_while_the_database_is_locked_is_replaced_and_answers(
    serve: tuple[str, subprocess.Popen[bytes]], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """SIGKILL a worker while another process holds SQLite's write lock: the replacement boots
    without the database (no schema check in the worker), the server stays up, and every
    question is answered, its record kept in the spool until the lock is gone."""
    import sqlite3

    base, process = serve
    first = _wait_for_workers(process, 2, set())
    holder = sqlite3.connect(tmp_path / "rolebot.db", isolation_level=None, timeout=10)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long migration or a backup holds it
    try:
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = _wait_for_workers(process, 2, {victim})
        assert replaced - first, "no new worker"
        slack = SlackClientSide(base + "/slack/events")
        asked = [f"who owns the lunch menu {n} of zanzibar?" for n in range(4)]
        for n, question in enumerate(asked):
            assert slack.event(mention(question), event_id=f"Ev0LOCKED{n}").status == 200
        fake_slack.wait_for("chat.postMessage", count=len(asked), timeout=40)
        # Longer than SQLite's busy timeout (3 s): a worker that waited for the database to boot
        # would have failed by now, and gunicorn would have stopped the server.
        time.sleep(5.0)
        assert process.poll() is None, _stop(process)[1]
        assert len(_workers(process) - {victim}) == 2
        assert http(base + "/healthz").status == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The lock is gone: the spooled questions reach the database, once each.
    deadline = time.monotonic() + 30
    while True:
        with sqlite3.connect(tmp_path / "rolebot.db") as db:
            stored = [row[0] for row in db.execute("SELECT text FROM unanswered_questions")]
        if sorted(stored) == sorted(asked) or time.monotonic() > deadline:
            break
        SlackClientSide(base + "/slack/events").event(mention(ANSWERED))  # a write replays
        time.sleep(1.0)
    assert sorted(stored) == sorted(asked)
    code, err = _stop(process)
    assert code == 0, err
    assert "Worker failed to boot" not in err


def _raw_request(base: str, head: str, body: bytes = b"", *, wait: float = 15.0) -> bytes:
    """Send a request by hand (headers as given, maybe less body than announced) and return
    what the server answers before ``wait`` seconds, without sending the rest."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def _signed_raw(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    import hashlib
    import hmac

    stamp = timestamp or str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_serve_refuses_oversized_and_unparseable_requests_before_any_work(
    serve: tuple[str, subprocess.Popen[bytes]], fake_slack: FakeSlack
) -> None:
    base, process = serve
    events = base + "/slack/events"
    as_json = {"Content-Type": "application/json"}
    as_form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases: list[tuple[str, bytes, dict[str, str], tuple[int, ...]]] = [
        ("unsigned, malformed JSON", b"{not json", as_json, (400, 401)),
        ("unsigned JSON array", b"[1, 2, 3]", as_json, (400, 401)),
        ("unsigned invalid UTF-8", b"\xff\xfe{\x00}", as_json, (400, 401)),
        ("signed, malformed JSON", b'{"type": "event_callback", ', as_json, (400,)),
        ("signed JSON array", b"[1, 2, 3]", as_json, (400,)),
        ("signed JSON string", b'"event_callback"', as_json, (400,)),
        ("signed, broken payload=", b"payload=%7B%22type%22%3A", as_form, (400,)),
        ("signed payload= array", b"payload=%5B1%5D", as_form, (400,)),
        ("signed invalid UTF-8", b"\xff\xfe{\x00}", as_json, (400,)),
    ]
    statuses: dict[int, int] = {}
    for what, body, content_type, expected in cases:
        headers = {**content_type}
        if what.startswith("signed"):
            headers.update(_signed_raw(body))
        response = http(events, body, headers, "POST")
        assert response.status in expected, (what, response.status, response.body[:300])
        assert b"Traceback" not in response.body
        statuses[response.status] = statuses.get(response.status, 0) + 1
    # A timestamp that is not a number, with or without a signature.
    body = json.dumps(event_body(mention(ANSWERED))).encode()
    for headers in (
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64},
        _signed_raw(body, timestamp="abc"),
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
    ):
        response = http(events, body, {**as_json, **headers}, "POST")
        assert response.status == 401, (headers, response.status, response.body[:300])
        statuses[401] = statuses.get(401, 0) + 1
    # 50 MB announced, 1 KB sent: the answer comes at once, without waiting for (or reading) the
    # rest; chunked bodies are cut at the limit too.
    answer = _raw_request(
        base,
        "POST /slack/events HTTP/1.1\nHost: x\nContent-Type: application/json\n"
        f"Content-Length: {50 * 1024 * 1024}\n",
        b"{" + b" " * 1023,
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    chunk = b" " * 65536
    chunked = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 20 + b"0\r\n\r\n"
    answer = _raw_request(
        base,
        "POST /slack/events HTTP/1.1\nHost: x\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked\n",
        chunked,
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    statuses[413] = 2
    # Nothing reached Slack, the server still answers signed requests, and /metrics counts it all.
    slack = SlackClientSide(events)
    assert slack.event(mention(ANSWERED)).status == 200
    fake_slack.wait_for("chat.postMessage", timeout=15)
    metrics = http(base + "/metrics").body.decode()
    for status, count in statuses.items():
        seen = _metric(metrics, "rolebot_slack_requests_total", status=str(status))
        assert seen == count, (status, seen, count)
    code, err = _stop(process)
    assert code == 0, err
    assert "Traceback" not in err


# ---------------------------------------------------------------------- Socket Mode: signals
def _socket_mode(
    tmp_path: Path,
    fake_slack: FakeSlack,
    knowledge: Path,
    ws: FakeSocketModeServer,
    prefix: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    fake_slack.socket_url = ws.url
    env = _env(tmp_path, fake_slack, knowledge, SLACK_APP_TOKEN="xapp-test-token")
    del env["SLACK_SIGNING_SECRET"]
    return subprocess.Popen(
        [*prefix, *rolebot_command(), "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _envelope(question: str, envelope_id: str, event_id: str) -> dict[str, object]:
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": event_body(mention(question), event_id),
    }


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _stored_questions(tmp_path: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(tmp_path / "rolebot.db") as db:
        return [row[0] for row in db.execute("SELECT text FROM unanswered_questions")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_on_a_signal_after_finishing_answers_and_writes(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path, sig: signal.Signals
) -> None:
    """The signal arrives while an answer is on its way (Slack answers slowly): the reply is
    sent, the question is stored, the socket is closed, and the process exits 0."""
    question = "who owns the lunch menu of zanzibar?"
    ws = FakeSocketModeServer([_envelope(question, "env-slow", "Ev0SIGNAL1")]).start()
    fake_slack.delays["chat.postMessage"] = 2.0
    process = _socket_mode(tmp_path, fake_slack, knowledge_copy, ws)
    try:
        _wait(
            lambda: any(m.get("envelope_id") == "env-slow" for m in ws.received),
            30,
            "envelope not acknowledged",
        )
        fake_slack.wait_for("chat.postMessage", timeout=15)  # the answer is under way
        process.send_signal(sig)
        code, err = _stop(process, sig)
    finally:
        if process.poll() is None:
            process.kill()
        ws.stop()
    assert code == 0, err
    assert f"{signal.Signals(sig).name} received: stopping" in err
    assert "Traceback" not in err
    assert _stored_questions(tmp_path) == [question]  # written before the process left
    assert err.rstrip().endswith("stopped")


def test_run_as_pid_1_stops_on_sigterm(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    """As PID 1 (a container without an init) a process gets no default signal handling:
    SIGTERM must reach rolebot's own handler."""
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("cannot make a PID namespace here (needs root): " + probe.stderr.decode())
    ws = FakeSocketModeServer().start()
    # --kill-child: rolebot goes with unshare, whatever happens to the test
    unshare = ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child")
    process = _socket_mode(tmp_path, fake_slack, knowledge_copy, ws, unshare)
    try:
        _wait(lambda: ws.handshakes, 30, "no WebSocket connection")
        (rolebot,) = _children(process.pid)  # PID 1 inside its namespace
        (nspid,) = [
            line for line in Path(f"/proc/{rolebot}/status").read_text().splitlines()
            if line.startswith("NSpid:")
        ]  # fmt: skip
        assert nspid.split()[-1] == "1"
        os.kill(rolebot, signal.SIGTERM)
        code, err = _stop(process, signal.SIGCONT)  # unshare exits with its child
    finally:
        if process.poll() is None:
            process.kill()
        ws.stop()
    assert code == 0, err
    assert "SIGTERM received: stopping" in err
    assert err.rstrip().endswith("stopped")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.timeout(90)
def test_run_replaces_a_connection_that_went_silent(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    """A network path that drops without a FIN leaves the socket open and silent: no pong comes
    back. rolebot notices from the pings and opens a new connection within about 15 seconds
    (the SDK's default ping took up to 50)."""
    ws = FakeSocketModeServer(silent_connections=1).start()
    process = _socket_mode(tmp_path, fake_slack, knowledge_copy, ws)
    try:
        _wait(lambda: ws.handshakes, 30, "no WebSocket connection")
        first = time.monotonic()
        _wait(lambda: len(ws.handshakes) >= 2, 25, "the silent connection was never replaced")
        replaced_after = time.monotonic() - first
        assert len(fake_slack.of("apps.connections.open")) >= 2  # a fresh URL for the new one
        assert replaced_after < 20, replaced_after
    finally:
        code, err = _stop(process)
        ws.stop()
    assert code == 0, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_on_a_signal_after_finishing_answers_and_writes(
    serve: tuple[str, subprocess.Popen[bytes]],
    fake_slack: FakeSlack,
    tmp_path: Path,
    sig: signal.Signals,
) -> None:
    base, process = serve
    question = "who owns the lunch menu of zanzibar?"
    fake_slack.delays["chat.postMessage"] = 2.0
    assert SlackClientSide(base + "/slack/events").event(mention(question)).status == 200
    fake_slack.wait_for("chat.postMessage", timeout=15)  # the answer is under way
    code, err = _stop(process, sig)
    assert code == 0, err
    assert "Traceback" not in err
    assert _stored_questions(tmp_path) == [question]


# ---------------------------------------------------------------------- the bot token
@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_token_slack_refuses_stops_start_up_with_one_line(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path, error: str, command: str
) -> None:
    fake_slack.fail("auth.test", 200, body={"ok": False, "error": error})
    env = _env(tmp_path, fake_slack, knowledge_copy, SLACK_APP_TOKEN="xapp-test-token")
    args = ["serve", "--port", str(free_port())] if command == "serve" else ["run"]
    result = run_rolebot(env, tmp_path, *args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"rolebot: error: SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User "
        "OAuth Token (xoxb-...) from the app's OAuth & Permissions page, or reinstall the app"
    )
    assert "Traceback" not in result.stderr
    assert len(fake_slack.of("auth.test")) == 1
    assert fake_slack.of("apps.connections.open") == []


def test_the_token_is_checked_once_by_the_master_not_by_each_worker(
    serve: tuple[str, subprocess.Popen[bytes]], fake_slack: FakeSlack
) -> None:
    base, process = serve
    _wait_for_workers(process, 2, set())
    assert http(base + "/healthz").json()["slack"] is True
    (check,) = fake_slack.of("auth.test")
    assert check.headers["authorization"] == "Bearer xoxb-test-token"


def test_healthz_reports_slack_down_once_the_token_is_refused(
    serve: tuple[str, subprocess.Popen[bytes]], fake_slack: FakeSlack
) -> None:
    """The token is revoked while rolebot runs: the first failed reply (in whichever worker)
    turns /healthz to 503 "down" in every worker, and /metrics shows it."""
    base, _process = serve
    assert http(base + "/healthz").status == 200
    fake_slack.fail("chat.postMessage", 200, body={"ok": False, "error": "token_revoked"})
    assert SlackClientSide(base + "/slack/events").event(mention(ANSWERED)).status == 200
    fake_slack.wait_for("chat.postMessage", timeout=15)
    deadline = time.monotonic() + 10
    while http(base + "/healthz").status != 503:
        assert time.monotonic() < deadline, http(base + "/healthz").body
        time.sleep(0.1)
    time.sleep(1.1)  # past every worker's cached reading
    for _ in range(10):  # each of them answers the same
        response = http(base + "/healthz")
        assert response.status == 503
        health = response.json()
        assert (health["status"], health["slack"], health["slack_error"]) == (
            "down",
            False,
            "token_revoked",
        )
    metrics = http(base + "/metrics").body.decode()
    assert "rolebot_slack_up 0.0" in metrics


# ---------------------------------------------------------------------- PostgreSQL cut


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_a_worker_lost_while_postgres_is_cut_is_replaced_and_answers(
    tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path, postgres: PgSchema
) -> None:
    """PostgreSQL becomes unreachable, then a worker dies: its replacement boots without the
    database, the server stays up and answers; the questions reach PostgreSQL once it is back."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
    from storekit import TcpProxy, schema_url

    admin, schema = postgres.admin, postgres.name
    parsed = make_url(POSTGRES_URL)
    proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    proxy.start()
    try:
        url = schema_url(POSTGRES_URL, schema, host="127.0.0.1", port=proxy.port)
        env = _env(tmp_path, fake_slack, knowledge_copy, DATABASE_URL=url)
        upgrade = subprocess.run(
            [*rolebot_command(), "db", "upgrade"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert upgrade.returncode == 0, upgrade.stderr
        serving = _serving(tmp_path, env)
        base, process = next(serving)
        try:
            first = _wait_for_workers(process, 2, set())
            proxy.stop()  # PostgreSQL is gone: connections refused, open ones closed
            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            _wait_for_workers(process, 2, {victim})
            slack = SlackClientSide(base + "/slack/events")
            asked = [f"who owns the lunch menu {n} of zanzibar?" for n in range(3)]
            for n, question in enumerate(asked):
                assert slack.event(mention(question), event_id=f"Ev0PGCUT{n}").status == 200
            fake_slack.wait_for("chat.postMessage", count=len(asked), timeout=40)
            time.sleep(5.0)  # a worker that needed the database to boot would have failed
            assert process.poll() is None, _stop(process)[1]
            assert len(_workers(process) - {victim}) == 2
            proxy.start()
            deadline = time.monotonic() + 60
            while True:
                with admin.connect() as conn:
                    stored = list(
                        conn.execute(text(f'SELECT text FROM "{schema}".unanswered_questions'))
                        .scalars()
                    )  # fmt: skip
                if sorted(stored) == sorted(asked) or time.monotonic() > deadline:
                    break
                slack.event(mention(ANSWERED))  # a write, which replays the spool
                time.sleep(1.0)
            assert sorted(stored) == sorted(asked)
            code, err = _stop(process)
            assert code == 0, err
            assert "Worker failed to boot" not in err
        finally:
            serving.close()
    finally:
        proxy.stop()
