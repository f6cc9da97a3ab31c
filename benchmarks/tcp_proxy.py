"""A loopback TCP proxy the load benchmark controls, to take the database away for a while.

``DATABASE_URL`` points at the proxy; :meth:`TcpProxy.cut` stops accepting (new connections
are refused) and closes every open connection, as a database that went down would;
:meth:`TcpProxy.restore` accepts again on the same port. The database server itself is never
touched.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._stop = threading.Event()
        self.accepted = 0

    # ------------------------------------------------------------------ control
    def start(self) -> TcpProxy:
        self._listen()
        return self

    def cut(self) -> int:
        """Refuse new connections and close the open ones; how many were closed."""
        self._close_listener()
        with self._lock:
            doomed = list(self._open)
            self._open.clear()
        for sock in doomed:
            _kill(sock)
        return len(doomed)

    def restore(self) -> None:
        """Accept again, on the same port."""
        self._listen()

    def stop(self) -> None:
        self.cut()

    # ------------------------------------------------------------------ internals
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(256)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._stop = threading.Event()
        self._listener = listener
        self._accepting = threading.Thread(
            target=self._accept, args=(listener, self._stop), daemon=True
        )
        self._accepting.start()

    def _close_listener(self) -> None:
        self._stop.set()
        if self._accepting is not None:
            self._accepting.join(timeout=2)
            self._accepting = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _kill(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _kill(source)
            _kill(sink)


def _kill(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
