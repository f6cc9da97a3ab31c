"""Small helpers the store tests share (imported by module name: this folder is on sys.path)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.core.normalize import normalize
from bot.store import QuestionRecord, Source, SqlStore
from bot.store.models import UnansweredQuestion

StoreFactory = Callable[..., SqlStore]


def record(text: str, *, source: Source = Source.MENTION, **fields: Any) -> QuestionRecord:
    return QuestionRecord(text=text, normalized=normalize(text), source=source, **fields)


def stored_texts(store: SqlStore) -> list[str]:
    """Every stored question text (duplicates kept), for exactly-once checks."""
    with store.engine.connect() as conn:
        return list(conn.execute(select(UnansweredQuestion.text)).scalars())


def stored_count(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(UnansweredQuestion)).scalar_one())


class TcpProxy:
    """A loopback TCP forwarder to stand between rolebot and PostgreSQL, stopped at will.

    ``stop()`` closes the listening socket and every forwarded connection (as a database that
    went away would); ``start()`` listens again on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._running = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.05)
        self._listener, self._running = listener, True
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        self._running = False
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads = []
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if not self._running:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def schema_url(base: str, schema: str, **changes: Any) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    if changes:
        url = url.set(**changes)
    return url.render_as_string(hide_password=False)
