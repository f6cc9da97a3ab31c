"""``rolebot run``: Socket Mode, for development and workspaces without a public URL.

The connection is opened with ``apps.connections.open`` on ``SLACK_API_URL`` (the app-level
token, ``SLACK_APP_TOKEN``), then a WebSocket to the URL Slack returns; no inbound port needed.

SIGTERM and SIGINT stop it cleanly: the socket is closed (no new envelopes), the answers under
way are finished and the store's queued writes are done, then the process exits 0. A
connection that stops answering pings (a dropped network path sends no FIN) is replaced within
about :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings
from bot.slack.runtime import Bot, build_bot

logger = logging.getLogger(__name__)

PING_INTERVAL = 3.0
"""Seconds between pings. The SDK declares a connection stale after four intervals without a
pong and checks once an interval, so a silent connection is replaced within 12 to 15 seconds
(the SDK's default of 10 s took up to 50)."""
STALE_AFTER = PING_INTERVAL * 5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def socket_handler(bot: Bot) -> SocketModeHandler:
    """The handler; its client calls apps.connections.open with the app's Web API client."""
    return SocketModeHandler(
        bot.app,
        app_token=bot.settings.slack_app_token,
        web_client=bot.app.client,
        logger=logging.getLogger("rolebot.socket_mode"),
        ping_interval=PING_INTERVAL,
    )


def _close(handler: SocketModeHandler, wait: float = 3.0) -> None:
    """Close the socket and stop the client's threads, never hanging the stop.

    The SDK's session thread marks a new session "not terminated" as it starts reading it; a
    close that lands just before that (a signal right after connecting) is forgotten, and the
    close then waits for that thread forever. Marking the session terminated again ends it."""
    closer = threading.Thread(target=handler.close, name="rolebot-socket-close", daemon=True)
    closer.start()
    closer.join(wait)
    if closer.is_alive():
        state = getattr(handler.client, "current_session_state", None)
        if state is not None:
            state.terminated = True
        closer.join(wait)
    if closer.is_alive():  # pragma: no cover - the SDK's threads are daemons: exit anyway
        logger.warning("the Socket Mode client did not stop within %.0f s; exiting anyway", wait)


def run_socket_mode(settings: Settings, *, check_schema: bool = True) -> None:
    """Connect and answer until SIGTERM or SIGINT, then stop cleanly."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()
        for number, before in previous.items():  # a second signal acts at once
            signal.signal(number, before)

    previous: dict[int, signal._HANDLER] = {}
    for stop_signal in STOP_SIGNALS:
        previous[stop_signal] = signal.getsignal(stop_signal)
        signal.signal(stop_signal, request_stop)
    try:
        bot = build_bot(settings, "socket", check_schema=check_schema)
        try:
            handler = socket_handler(bot)
            try:
                if not stop.is_set():
                    handler.connect()  # type: ignore[no-untyped-call]
                    logger.info("connected over Socket Mode; SIGTERM or Ctrl-C stops")
                while not stop.wait(1.0):
                    pass
            finally:
                _close(handler)
        finally:
            bot.close()  # finish the answers under way, then the store's writes
        logger.info("stopped")
    finally:
        for number, before in previous.items():
            if signal.getsignal(number) is request_stop:
                signal.signal(number, before)
