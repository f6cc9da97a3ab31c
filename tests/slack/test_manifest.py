"""The app manifests ask for exactly what rolebot uses (found by sending the app every event it
could be sent and watching what it does), and every subscribed event gets a 200."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from slack_fakes import FakeSlack
from slack_signed import SlackClientSide, mention, message
from slackkit import CURATOR, Running, make_settings, serve_in_thread

from bot.config import Settings
from bot.core.knowledge.paths import bundled_knowledge_dir
from bot.slack.runtime import build_bot
from bot.slack.wsgi import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "who owns the product roadmap?"

CANDIDATE_EVENTS: dict[str, dict[str, Any]] = {
    # Every event rolebot could plausibly be sent, each as Slack sends it, in a channel where
    # listening is on: the manifests must subscribe exactly those the app acts on.
    "app_home_opened": {
        "type": "app_home_opened",
        "user": CURATOR,
        "channel": "D0CUR",
        "tab": "home",
    },
    "app_mention": mention(QUESTION, channel="C0LISTEN"),
    "message.channels": message(QUESTION, channel="C0LISTEN", channel_type="channel"),
    "message.groups": message(QUESTION, channel="G0LISTEN", channel_type="group"),
    "message.im": message(QUESTION),
    "message.mpim": message(QUESTION, channel="G0MPIM", channel_type="mpim"),
    "reaction_added": {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "thumbsup",
        "item": {"type": "message", "channel": "C0LISTEN", "ts": "1.2"},
    },
    "member_joined_channel": {
        "type": "member_joined_channel",
        "user": "U0ALICE",
        "channel": "C0LISTEN",
    },
}
EVENT_SCOPES = {
    # Slack's documented scope for each event (https://api.slack.com/events).
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "reaction_added": "reactions:read",
    "member_joined_channel": "channels:read",
}
METHOD_SCOPES = {
    # Slack's documented scope for each Web API method (None: the token alone).
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "views.publish": None,
}


@pytest.fixture(scope="module")
def observed() -> tuple[list[str], list[str]]:
    """The events the app acts on and the scopes what it then does needs, found by sending
    every candidate through Bolt's real pipeline (signed requests, the loopback Web API)."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        knowledge = tmp / "knowledge"
        shutil.copytree(bundled_knowledge_dir(), knowledge)
        fake = FakeSlack().start()
        bot = build_bot(make_settings(tmp, fake, knowledge), "http")
        server = serve_in_thread(bot)
        try:
            slack = SlackClientSide(f"http://127.0.0.1:{server.server_address[1]}{EVENTS_PATH}")
            for channel in ("C0LISTEN", "G0LISTEN", "G0MPIM"):
                bot.store.set_listen(channel, True)
            acted: list[str] = []
            for name, event in CANDIDATE_EVENTS.items():
                before = len(fake.sent())
                slack.event(event)  # an event no listener takes gets a 404
                fake.quiet(0.6)
                if len(fake.sent()) > before:
                    acted.append(name)
            url = fake.response_url("manifest")
            assert slack.command("help", url).status == 200
            fake.wait_for("respond")
            methods = {call.method for call in fake.calls if call.method != "respond"}
        finally:
            server.shutdown()
            server.server_close()
            bot.close()
            fake.stop()
    unknown = methods - METHOD_SCOPES.keys() - {"respond"}
    assert not unknown, f"the app calls {unknown}: add their scopes to METHOD_SCOPES"
    scopes = {EVENT_SCOPES[name] for name in acted} | {
        METHOD_SCOPES[m] for m in methods if m in METHOD_SCOPES
    }
    scopes.add("commands")  # the slash command answered above
    return sorted(acted), sorted(s for s in scopes if s)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / name).read_text())
    return data


@pytest.mark.parametrize("name", ["manifest.json", "manifest.http.json"])
def test_manifest_scopes_and_events_follow_what_the_app_does(
    name: str, observed: tuple[list[str], list[str]]
) -> None:
    events, scopes = observed
    assert "message.groups" in events  # /role listen works in private channels too
    manifest = _load(name)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == events
    assert manifest["oauth_config"]["scopes"]["bot"] == scopes


@pytest.mark.parametrize("name", ["manifest.json", "manifest.http.json"])
def test_manifest_command_and_home(name: str) -> None:
    manifest = _load(name)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == Settings().command
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert not home["messages_tab_read_only_enabled"]
    assert len(manifest["display_information"]["description"]) <= 140


def test_socket_mode_and_http_variants() -> None:
    socket_mode, http = _load("manifest.json"), _load("manifest.http.json")
    assert socket_mode["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    url = f"https://YOUR-HOST{EVENTS_PATH}"
    assert http["settings"]["event_subscriptions"]["request_url"] == url
    assert http["settings"]["interactivity"]["request_url"] == url
    assert http["features"]["slash_commands"][0]["url"] == url
    assert "request_url" not in socket_mode["settings"]["event_subscriptions"]
    assert "url" not in socket_mode["features"]["slash_commands"][0]


def test_every_subscribed_event_is_acknowledged(running: Running) -> None:
    samples = {
        "app_home_opened": {
            "type": "app_home_opened",
            "user": "U0ALICE",
            "channel": "D0ALICE",
            "tab": "home",
        },
        "app_mention": mention("hello"),
        "message.channels": message("hello", channel="C0GENERAL", channel_type="channel"),
        "message.groups": message("hello", channel="G0PRIVATE", channel_type="group"),
        "message.im": message("hello"),
    }
    assert (
        sorted(samples) == _load("manifest.json")["settings"]["event_subscriptions"]["bot_events"]
    )
    for event in samples.values():
        assert running.slack.event(event).status == 200
