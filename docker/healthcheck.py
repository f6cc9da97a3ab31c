#!/usr/bin/env python3
"""The container's health check: ``GET /healthz`` on the port ``rolebot serve`` listens on.

Exit 0 when it answers 200, 1 otherwise. In Socket Mode there is no HTTP server: the process
running is all there is to check, so the check passes.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def _setting(name: str) -> str:
    return os.environ.get(name, "").strip()


def main() -> int:
    if (_setting("ROLEBOT_MODE") or "http").lower() == "socket":
        return 0
    port = _setting("ROLEBOT_PORT") or _setting("PORT") or "3000"
    host = _setting("ROLEBOT_HOST")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{port}/healthz"
    # Never through a proxy: the server is in this container.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=4) as response:
            status = int(response.status)
    except OSError as error:
        print(f"rolebot-healthcheck: {url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"rolebot-healthcheck: {url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
