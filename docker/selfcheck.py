#!/usr/bin/env python3
"""Checks a built rolebot image from inside it; exits 1 with the reason at the first failure.

    rolebot-selfcheck [--postgres URL] [--timeout SECONDS] [--outside-image]

1. The image: an unprivileged user, no compiler, the knowledge bundled inside the package, and
   tini as PID 1 (it passes signals on: a process that is PID 1 gets no default handling).
2. The CLI: ``rolebot ask --json`` answers with the right role, on the bundled knowledge and on
   a folder given by ``ROLEBOT_KNOWLEDGE_DIR``.
3. The entry point, for real: it migrates the default SQLite database in the data folder and
   starts ``rolebot serve`` on a loopback port, talking to a stand-in for Slack's Web API on
   loopback (``SLACK_API_URL``). ``/healthz`` must answer 200 within ``--timeout`` seconds and
   the health check script must pass; a signed ``url_verification`` gets its challenge back, an
   unsigned request gets 401, and a signed ``app_mention`` is answered in its thread through the
   Web API. SIGTERM must then stop the server cleanly.
4. With ``--postgres URL`` (a PostgreSQL server, e.g. ``postgresql+psycopg://...``):
   ``rolebot db upgrade`` migrates a fresh schema there (dropped afterwards), and a second run
   finds it up to date.

Only the standard library and the ``rolebot``, ``rolebot-entrypoint`` and ``rolebot-healthcheck``
commands are used (SQLAlchemy for step 4). ``--outside-image`` skips step 1, to run the rest from
a checkout with those commands on ``PATH``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

QUESTION = "who decides whether we add offline mode?"
EXPECTED_ROLE = "product_manager"
BOT_TOKEN = "xoxb-test"
SIGNING_SECRET = "test-secret"
BOT_USER_ID = "UROLEBOT"
TEAM_ID = "T0TEAM"


class CheckFailed(Exception):
    """One check did not pass; the message says which and why."""


def ok(message: str) -> None:
    print(f"ok    {message}", flush=True)


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# ---------------------------------------------------------------------- a stand-in for Slack
@dataclass
class FakeWebApi:
    """Slack's Web API on loopback: answers like Slack and records every call."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> FakeWebApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in self.headers.get("Content-Type", ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                method = urlparse(self.path).path.removeprefix("/api/")
                with fake.lock:
                    fake.calls.append((method, args))
                body = json.dumps(fake.answer(method, args)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    @staticmethod
    def answer(method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "rolebot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "BROLEBOT",
                "is_enterprise_install": False,
            }
        if method.startswith("chat."):
            ts = f"{time.time():.6f}"
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        return {"ok": True}

    def wait_for(self, method: str, where: Callable[[dict[str, Any]], bool], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for name, args in self.calls:
                    if name == method and where(args):
                        return args
            time.sleep(0.05)
        with self.lock:
            seen = [name for name, _ in self.calls]
        raise CheckFailed(f"no matching {method} call within {timeout:.0f} s (calls: {seen})")


# ---------------------------------------------------------------------- helpers
@dataclass
class Reply:
    status: int
    body: bytes


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxies


def request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    method = "GET" if body is None else "POST"
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with _OPENER.open(req, timeout=10) as response:
            return Reply(response.status, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read())


def signed(body: bytes, content_type: str) -> dict[str, str]:
    """The headers Slack sends: a v0 HMAC-SHA256 signature over ``v0:timestamp:body``."""
    stamp = str(int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(command: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run a command; its standard output, or CheckFailed with its error output."""
    try:
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CheckFailed(f"`{' '.join(command)}`: {error}") from None
    if result.returncode != 0:
        raise CheckFailed(
            f"`{' '.join(command)}` exited {result.returncode}: {result.stderr.strip()[-2000:]}"
        )
    return result.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without Slack, database or rolebot settings that would change a check
    (the data folder stays), plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key == "ROLEBOT_DATA_DIR"
        or not (key.startswith(("SLACK_", "ROLEBOT_")) or key in ("DATABASE_URL", "PORT"))
    }
    env.update(extra)
    return env


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------- the checks
def check_image() -> None:
    require(os.getuid() != 0, "the image runs as root; it should run as an unprivileged user")
    ok(f"runs as uid {os.getuid()}, not root")
    tools = [tool for tool in ("gcc", "cc", "make") if shutil.which(tool)]
    require(not tools, f"build tools in the image: {', '.join(tools)}")
    ok("no build tools")
    pip_cache = Path.home() / ".cache" / "pip"
    require(not pip_cache.exists(), f"a pip cache was left in the image: {pip_cache}")
    ok("no pip cache")
    init = Path("/proc/1/comm").read_text().strip()
    require(
        init == "tini",
        f"PID 1 is '{init}', not tini: SIGTERM would not reach rolebot (see the ENTRYPOINT)",
    )
    ok("PID 1 is tini, which passes SIGTERM and SIGINT on to rolebot")


def default_knowledge(in_image: bool) -> Path:
    out = run(["rolebot", "kb", "validate"], clean_env()).strip()
    require(": OK:" in out, f"`rolebot kb validate` said: {out}")
    folder = Path(out.split(": OK:", 1)[0])
    if in_image:
        require(
            "_bundled" in folder.parts,
            f"the knowledge is not the one bundled in the package: {folder}",
        )
    ok(f"the default knowledge is valid: {out}")
    return folder


def check_ask(env: dict[str, str], where: str) -> None:
    out = run(["rolebot", "ask", "--json", QUESTION], env)
    try:
        answer = json.loads(out)
    except ValueError:
        raise CheckFailed(f"`rolebot ask --json` printed no JSON: {out[:500]}") from None
    require(
        answer.get("role") == EXPECTED_ROLE,
        f"`rolebot ask` on {where}: expected role {EXPECTED_ROLE}, got {answer.get('role')} "
        f"(outcome {answer.get('outcome')})",
    )
    ok(f"`rolebot ask --json` on {where}: {EXPECTED_ROLE} ({answer.get('entry_id')})")


def check_knowledge_override(bundled: Path, scratch: Path) -> None:
    mounted = scratch / "knowledge"
    shutil.copytree(bundled, mounted)
    env = clean_env(ROLEBOT_KNOWLEDGE_DIR=str(mounted))
    out = run(["rolebot", "kb", "validate"], env).strip()
    require(out.startswith(f"{mounted}: OK:"), f"ROLEBOT_KNOWLEDGE_DIR was not used: {out}")
    check_ask(env, "ROLEBOT_KNOWLEDGE_DIR")


def check_serve(scratch: Path, timeout: float) -> None:
    fake = FakeWebApi().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.url,
        ROLEBOT_HOST="127.0.0.1",
        PORT=str(port),
    )
    log = scratch / "serve.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["rolebot-entrypoint"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _serve_checks(process, fake, base, env, started, timeout)
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise CheckFailed("the server did not stop within 30 s of SIGTERM") from None
        require(code == 0, f"the server exited {code} on SIGTERM")
        require("Traceback" not in log.read_text(errors="replace"), "a traceback in the log")
        ok("SIGTERM stops the server cleanly (exit 0, no traceback)")
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}\n--- entry point output ---\n{tail(log)}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        fake.stop()


def _serve_checks(
    process: subprocess.Popen[bytes],
    fake: FakeWebApi,
    base: str,
    env: dict[str, str],
    started: float,
    timeout: float,
) -> None:
    deadline = started + timeout
    while True:
        code = process.poll()
        require(code is None, f"the entry point exited early with status {code}")
        try:
            health = request(base + "/healthz")
            if health.status == 200:
                break
        except OSError:
            pass
        require(time.monotonic() < deadline, f"/healthz did not answer 200 within {timeout:.0f} s")
        time.sleep(0.1)
    body = json.loads(health.body)
    ok(f"/healthz answered 200 after {time.monotonic() - started:.1f} s: {body}")
    require(body.get("status") == "ok", f"/healthz status is not ok: {body}")
    require(body.get("database") is True, f"/healthz reports no database: {body}")
    data_dir = Path(env.get("ROLEBOT_DATA_DIR") or "data")
    require(
        (data_dir / "rolebot.db").is_file(),
        f"no SQLite database in the data folder {data_dir}",
    )
    ok(f"the entry point migrated the default SQLite database in {data_dir}")

    run(["rolebot-healthcheck"], env, timeout=10)
    ok("rolebot-healthcheck passes")

    events = base + "/slack/events"
    challenge = uuid.uuid4().hex
    body_bytes = json.dumps(
        {"token": "legacy", "challenge": challenge, "type": "url_verification"}
    ).encode()
    reply = request(events, body_bytes, signed(body_bytes, "application/json"))
    require(reply.status == 200, f"signed url_verification: HTTP {reply.status}")
    require(challenge.encode() in reply.body, f"url_verification: no challenge: {reply.body!r}")
    ok("signed url_verification: 200 with the challenge")

    reply = request(events, body_bytes, {"Content-Type": "application/json"})
    require(reply.status == 401, f"an unsigned request got HTTP {reply.status}, not 401")
    ok("unsigned request: 401")

    ts = f"{int(time.time())}.000100"
    event = {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "AROLEBOT",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": "U0ALICE",
            "text": f"<@{BOT_USER_ID}> {QUESTION}",
            "ts": ts,
            "channel": "C0GENERAL",
            "event_ts": ts,
        },
        "authorizations": [
            {"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}
        ],
    }
    body_bytes = json.dumps(event).encode()
    reply = request(events, body_bytes, signed(body_bytes, "application/json"))
    require(reply.status == 200, f"signed app_mention: HTTP {reply.status}: {reply.body!r}")
    post = fake.wait_for("chat.postMessage", lambda args: args.get("thread_ts") == ts, 15)
    require(
        "Product Manager" in str(post.get("text")),
        f"the reply does not name the Product Manager: {str(post.get('text'))[:300]}",
    )
    ok("signed app_mention: 200, answered in its thread (Product Manager)")


def check_postgres(url: str) -> None:
    from sqlalchemy import create_engine  # noqa: PLC0415 - only this check needs it
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    schema = f"rolebot_selfcheck_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as error:
        admin.dispose()
        reason = str(error).strip().splitlines()[0]
        raise CheckFailed(f"PostgreSQL at {make_url(url)!r} is unusable: {reason}") from None
    try:
        target = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        env = clean_env(DATABASE_URL=target.render_as_string(hide_password=False))
        first = run(["rolebot", "db", "upgrade"], env).strip()
        require("upgraded from empty" in first, f"`rolebot db upgrade`: {first}")
        second = run(["rolebot", "db", "upgrade"], env).strip()
        require("already at" in second, f"a second `rolebot db upgrade`: {second}")
        current = run(["rolebot", "db", "current"], env).strip()
        require("up to date" in current, f"`rolebot db current`: {current}")
        ok(f"`rolebot db upgrade` on PostgreSQL: {first}")
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rolebot-selfcheck", description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="also migrate a PostgreSQL database")
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds for /healthz to answer (default 20)"
    )
    parser.add_argument(
        "--outside-image",
        action="store_true",
        help="skip the checks of the image itself (user, build tools, bundled knowledge)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="rolebot-selfcheck-") as scratch:
            if not args.outside_image:
                check_image()
            knowledge = default_knowledge(in_image=not args.outside_image)
            check_ask(clean_env(), "the bundled knowledge")
            check_knowledge_override(knowledge, Path(scratch))
            check_serve(Path(scratch), args.timeout)
            if args.postgres:
                check_postgres(args.postgres)
    except CheckFailed as failure:
        print(f"rolebot-selfcheck: FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    print(f"rolebot-selfcheck: all checks passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
