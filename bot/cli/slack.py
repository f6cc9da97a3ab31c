"""``rolebot run`` (Socket Mode) and ``rolebot serve`` (HTTP, under gunicorn): the Slack app."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.context import Context
from bot.config import Settings
from bot.errors import ConfigError

# Bolt, gunicorn and the database are imported only when these commands run, so the other
# sub-commands start fast (hence the function-level imports below).


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    run = subparsers.add_parser(
        "run",
        parents=[common],
        help="run the Slack app in Socket Mode (no public URL needed)",
        description="Connect to Slack over Socket Mode and answer until interrupted. Needs "
        "SLACK_BOT_TOKEN and SLACK_APP_TOKEN (see .env.example).",
    )
    run.set_defaults(handler=run_socket)
    serve = subparsers.add_parser(
        "serve",
        parents=[common],
        help="serve the Slack app over HTTP (Events API, commands, interactivity)",
        description="Serve POST /slack/events (events, slash commands, interactivity) and "
        "GET /healthz with gunicorn. Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.",
    )
    serve.add_argument("--host", help="address to listen on (default: ROLEBOT_HOST or 0.0.0.0)")
    serve.add_argument(
        "--port", type=int, help="port (default: ROLEBOT_PORT, else PORT, else 3000)"
    )
    serve.add_argument(
        "--workers", type=int, help="worker processes (default: ROLEBOT_WORKERS or 2)"
    )
    serve.add_argument("--threads", type=int, default=8, help="threads per worker (default: 8)")
    serve.set_defaults(handler=run_http)


def prepare(context: Context, mode: str) -> None:
    """Fail fast, with one line, before anything starts: settings, knowledge, database, token.
    (In the master, once: the workers then touch neither the database nor Slack to boot.)"""
    from bot.slack.logs import configure_logging  # noqa: PLC0415
    from bot.store import open_store  # noqa: PLC0415

    settings = context.settings
    settings.require_slack("socket" if mode == "socket" else "http")
    configure_logging(settings)
    store = open_store(settings)  # creates or upgrades the database once, before any worker
    try:
        # Loads and validates the knowledge (KnowledgeError is printed), with the curated
        # changes: a worker that boots while the database is down then answers them too.
        engine = context.engine
        engine.attach_changes(store)
        engine.changes = None  # each worker reads the log through its own store
    finally:
        store.close()
    _check_token(settings)


def _check_token(settings: Settings) -> None:
    """One ``auth.test``: a token Slack refuses stops start-up with one line; Slack being
    unreachable only warns (rolebot answers once it is back)."""
    import logging  # noqa: PLC0415

    from slack_sdk.errors import SlackApiError  # noqa: PLC0415

    from bot.slack.app import web_client  # noqa: PLC0415
    from bot.slack.health import SLACK_AUTH_ERRORS, SlackAuth  # noqa: PLC0415

    log = logging.getLogger("bot.cli.slack")
    try:
        web_client(settings).auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        if code in SLACK_AUTH_ERRORS:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({code}): copy the Bot User OAuth Token "
                "(xoxb-...) from the app's OAuth & Permissions page, or reinstall the app"
            ) from None
        log.warning("checking SLACK_BOT_TOKEN with auth.test failed (%s); starting anyway", code)
        return
    except Exception as error:
        log.warning(
            "could not reach Slack to check SLACK_BOT_TOKEN (%s); starting anyway",
            type(error).__name__,
        )
        return
    SlackAuth(settings.data_dir).clear()  # a refusal noted before this start is over


def run_socket(args: argparse.Namespace, context: Context) -> int:
    prepare(context, "socket")
    from bot.slack.socket_mode import run_socket_mode  # noqa: PLC0415

    run_socket_mode(context.settings, check_schema=False)  # prepare checked it
    return 0


def run_http(args: argparse.Namespace, context: Context) -> int:
    settings = context.settings
    port = args.port if args.port is not None else settings.port
    workers = args.workers if args.workers is not None else settings.workers
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port: {port} is not a port number (1 to 65535)")
    if not 1 <= workers <= 64:
        raise ConfigError(f"--workers: {workers} is out of range (1 to 64)")
    if not 1 <= args.threads <= 256:
        raise ConfigError(f"--threads: {args.threads} is out of range (1 to 256)")
    prepare(context, "http")
    from bot.slack.server import Server  # noqa: PLC0415

    Server(
        settings,
        host=args.host or settings.host,
        port=port,
        workers=workers,
        threads=args.threads,
        engine=context.engine,  # built by prepare; the workers inherit it
    ).run()
    return 0
