"""A loopback stand-in for Slack's Web API and response_urls, counting what rolebot sends.

Run by ``benchmarks/load.py`` as its own process (so counting never competes with the load
generator for the interpreter lock)::

    python benchmarks/fake_slack.py        # prints "PORT <n>", serves until stdin closes

``SLACK_API_URL`` is ``http://127.0.0.1:<n>/api/``; response_urls are ``/respond/<key>``.
``GET /_stats`` returns the counts: calls per method, and replies per key (``post:<channel>/
<thread_ts>`` for chat.postMessage, ``ephemeral:<channel>/<user>``, ``update:<channel>/<ts>``,
``respond:<key>``), with the time of each reply (``time.monotonic()``, the same clock in every
process of the machine).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BOT_USER_ID = "UROLEBOT"
TEAM_ID = "T0LOAD"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.methods: Counter[str] = Counter()
        self.replies: dict[str, list[float]] = defaultdict(list)
        self.ts = 0

    def record(self, method: str, key: str | None) -> str:
        with self.lock:
            self.methods[method] += 1
            if key is not None:
                self.replies[key].append(round(time.monotonic(), 4))
            self.ts += 1
            return f"1700000000.{self.ts:06d}"

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "methods": dict(self.methods),
                "replies": {k: list(v) for k, v in self.replies.items()},
            }


RECORDER = Recorder()


def _key(method: str, args: dict[str, Any]) -> str | None:
    channel = args.get("channel")
    if method == "chat.postMessage":
        return f"post:{channel}/{args.get('thread_ts') or '-'}"
    if method == "chat.postEphemeral":
        return f"ephemeral:{channel}/{args.get('user')}"
    if method == "chat.update":
        return f"update:{channel}/{args.get('ts')}"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/_stats":
            self._reply(200, RECORDER.stats())
        else:
            self._reply(404, {"ok": False, "error": "not_found"})

    def do_POST(self) -> None:
        parsed = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        args: dict[str, Any] = {}
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            args = json.loads(raw)
        elif raw:
            args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if parsed.path.startswith("/respond/"):
            RECORDER.record("respond", "respond:" + parsed.path.removeprefix("/respond/"))
            self._reply(200, None)
            return
        method = parsed.path.removeprefix("/api/")
        ts = RECORDER.record(method, _key(method, args))
        if method == "auth.test":
            body: dict[str, Any] = {
                "ok": True,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "BROLEBOT",
                "user": "rolebot",
                "team": "Load",
                "url": "https://load.example/",
            }
        else:
            body = {"ok": True, "channel": args.get("channel"), "ts": args.get("ts") or ts}
        self._reply(200, body)

    def _reply(self, status: int, body: dict[str, Any] | None) -> None:
        data = b"ok" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if body is None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


def main() -> int:
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the load generator closes it (or exits)
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
