"""The app manifests ask for exactly what rolebot uses, and every subscribed event gets a 200."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_signed import mention, message
from slackkit import Running

from bot.config import Settings
from bot.slack.wsgi import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ["app_home_opened", "app_mention", "message.channels", "message.im"]
SCOPES = ["app_mentions:read", "channels:history", "chat:write", "commands", "im:history"]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / name).read_text())
    return data


@pytest.mark.parametrize("name", ["manifest.json", "manifest.http.json"])
def test_manifest_scopes_events_command_and_home(name: str) -> None:
    manifest = _load(name)
    assert manifest["oauth_config"]["scopes"]["bot"] == SCOPES
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == EVENTS
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
        "message.im": message("hello"),
    }
    assert sorted(samples) == EVENTS
    for event in samples.values():
        assert running.slack.event(event).status == 200
