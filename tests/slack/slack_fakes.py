"""A loopback stand-in for Slack: the Web API (via SLACK_API_URL), response_urls, and a
Socket Mode WebSocket endpoint. Every call is recorded, so tests assert on what rolebot sent."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BOT_USER_ID = "UROLEBOT"
BOT_ID = "BROLEBOT"
TEAM_ID = "T0TEAM"


@dataclass
class Call:
    """One request rolebot made."""

    method: str
    """Web API method (``chat.postMessage``) or ``respond`` for a response_url."""
    path: str
    args: dict[str, Any]
    headers: dict[str, str]

    def blocks(self) -> list[dict[str, Any]]:
        view = self.args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        blocks = (view or {}).get("blocks") or self.args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return list(blocks)

    def buttons(self) -> list[dict[str, Any]]:
        return buttons_in(self.blocks())

    def dump(self) -> str:
        """Everything sent, as one string (for "never appears" assertions)."""
        return json.dumps(self.args, ensure_ascii=False)


def buttons_in(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.append(element)
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            found.append(accessory)
    return found


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class FakeSlack:
    """Start with :meth:`start`; ``url`` is what SLACK_API_URL points at."""

    calls: list[Call] = field(default_factory=list)
    socket_url: str = "ws://127.0.0.1:9/link"
    delays: dict[str, float] = field(default_factory=dict)
    """Seconds to wait before answering a method (a slow Slack)."""
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    # -------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def response_url(self, name: str = "r1") -> str:
        return self.url.replace("/api/", f"/respond/{name}")

    # -------------------------------------------------------------- scripting
    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` answer ``status`` (e.g. 429, Retry-After: 0)."""
        failure = _Failure(
            status, headers or {}, body or {"ok": False, "error": "ratelimited"}, times
        )
        with self._lock:
            self._failures.setdefault(method, []).append(failure)

    # -------------------------------------------------------------- assertions
    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` (matching ``where``) arrived."""
        deadline = time.monotonic() + timeout
        while True:
            calls = [c for c in self.of(method) if where is None or where(c)]
            if len(calls) >= count:
                return calls
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s), got {len(calls)}: {seen}")
            time.sleep(0.02)

    def quiet(self, seconds: float = 0.5) -> None:
        """Wait so that a call that should *not* happen would have happened by now."""
        time.sleep(seconds)

    def posts(self) -> list[Call]:
        return self.of("chat.postMessage")

    def sent(self) -> list[Call]:
        """Everything rolebot sent that people can see (not auth.test)."""
        with self._lock:
            return [c for c in self.calls if c.method not in ("auth.test", "apps.connections.open")]

    # -------------------------------------------------------------- serving
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        content_type = request.headers.get("Content-Type", "")
        args: dict[str, Any] = {}
        if raw and "json" in content_type:
            args = json.loads(raw)
        elif raw:
            args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        args.update({k: v[0] for k, v in parse_qs(parsed.query).items()})
        headers = {k.lower(): v for k, v in request.headers.items()}
        if parsed.path.startswith("/respond/"):
            call = Call("respond", parsed.path, args, headers)
            with self._lock:
                self.calls.append(call)
            self._reply(request, 200, b"ok", "text/plain")
            return
        method = parsed.path.removeprefix("/api/")
        call = Call(method, parsed.path, args, headers)
        with self._lock:
            self.calls.append(call)
            queue = self._failures.get(method) or []
            failure = queue[0] if queue else None
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
        if method in self.delays:
            time.sleep(self.delays[method])
        if failure is not None:
            body = json.dumps(failure.body).encode()
            self._reply(request, failure.status, body, "application/json", failure.headers)
            return
        self._reply(
            request, 200, json.dumps(self._answer(method, args)).encode(), "application/json"
        )

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "rolebot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "ts": ts},
            }
        if method == "views.publish":
            return {"ok": True, "view": {"id": "VHOME", "type": "home"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return {"ok": True}

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)


# ---------------------------------------------------------------------- Socket Mode
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketModeServer:
    """Accepts Socket Mode WebSocket connections on loopback; records the handshake, sends
    envelopes (``hello``, then any queued), and collects the frames the client sends back."""

    def __init__(
        self, envelopes: list[dict[str, Any]] | None = None, *, silent_connections: int = 0
    ) -> None:
        self.envelopes = list(envelopes or [])
        self.silent_connections = silent_connections
        """The first connections go silent after the envelopes, as a dropped network path does:
        open, but no pong, no close."""
        self.handshakes: list[str] = []
        self.received: list[dict[str, Any]] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._sock.getsockname()[1]}/link/?ticket=test"

    def start(self) -> FakeSocketModeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._converse, args=(conn,), daemon=True).start()

    def _converse(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    if self._stop.is_set():
                        return
                    continue
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode()
            self.handshakes.append(head)
            key = next(
                line.split(":", 1)[1].strip()
                for line in head.split("\r\n")
                if line.lower().startswith("sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
            conn.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            conn.sendall(
                _frame(
                    json.dumps(
                        {"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}}
                    )
                )
            )
            silent = len(self.handshakes) <= self.silent_connections
            for envelope in self.envelopes:
                conn.sendall(_frame(json.dumps(envelope)))
            buffer = b""
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buffer += chunk
                while True:
                    parsed = _read_frame(buffer)
                    if parsed is None:
                        break
                    opcode, payload, buffer = parsed
                    if opcode == 0x1:
                        self.received.append(json.loads(payload))
                    elif opcode == 0x9 and not silent:  # ping
                        conn.sendall(_frame(payload.decode(errors="replace"), opcode=0xA))
                    elif opcode == 0x8:
                        return
        except OSError:
            return
        finally:
            conn.close()


def _frame(text: str, opcode: int = 0x1) -> bytes:
    payload = text.encode()
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 65536:
        head += bytes([126]) + struct.pack(">H", len(payload))
    else:
        head += bytes([127]) + struct.pack(">Q", len(payload))
    return head + payload


def _read_frame(buffer: bytes) -> tuple[int, bytes, bytes] | None:
    if len(buffer) < 2:
        return None
    opcode = buffer[0] & 0x0F
    masked = buffer[1] & 0x80
    length = buffer[1] & 0x7F
    offset = 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length = struct.unpack(">H", buffer[2:4])[0]
        offset = 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length = struct.unpack(">Q", buffer[2:10])[0]
        offset = 10
    mask = b""
    if masked:
        mask = buffer[offset : offset + 4]
        offset += 4
    if len(buffer) < offset + length:
        return None
    payload = buffer[offset : offset + length]
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload, buffer[offset + length :]
