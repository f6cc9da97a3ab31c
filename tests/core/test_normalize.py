"""Slack text to comparable text: pure functions, no mocks."""

from __future__ import annotations

import pytest

from bot.core.normalize import MAX_QUESTION_CHARS, fold, normalize, slack_to_plain, unshout


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U024BE7LH> who owns the roadmap?", "who owns the roadmap"),
        ("<@U024BE7LH|rolebot> who owns it", "who owns it"),
        ("see <#C024BE7LH|launch-plan> please", "see launch plan please"),
        ("read <https://example.com/spec|the spec> first", "read the spec first"),
        ("link <https://example.com/x> here", "link here"),
        ("<!here> who *owns* _the_ ~old~ `roadmap`?", "who owns the old roadmap"),
        ("<!subteam^S0614TZR7|@product-team> help", "product team help"),
        ("docs &amp; training &lt;now&gt;", "docs training now"),
        (":tada: who runs launch :rocket::skin-tone-2:", "who runs launch"),
        ("Who Owns   The\tROADMAP\n?", "who owns the roadmap"),
        ("Café prioritisation — who’s on it?", "cafe prioritisation who's on it"),
        ("ＲＯＡＤＭＡＰ owner", "roadmap owner"),
        ("> quoted line\nwho owns it", "quoted line who owns it"),
        ("```code block``` who", "code block who"),
        ("🎉", ""),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_snake_case_identifiers_keep_their_words() -> None:
    assert normalize("who owns `feature_flags` rollout") == "who owns feature flags rollout"


def test_plain_keeps_case_and_labels() -> None:
    assert slack_to_plain("Ask <#C1|Launch> about *SSO*") == "Ask Launch about SSO"


def test_very_long_text_is_cut() -> None:
    assert len(normalize("roadmap " * 5000)) <= MAX_QUESTION_CHARS


def test_fold_handles_control_and_symbols() -> None:
    assert fold("a\x00b\u200bc ✔ d") == "a bc d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WHO OWNS THE ROADMAP FOR ORBIT?", "who owns the roadmap for orbit?"),
        ("Who Owns The Roadmap For Orbit?", "who owns the roadmap for orbit?"),
        ("WHO OWNS the API for SSO in ORB", "who owns the api for sso in orb"),
        ("ÉQUIPE: QUI DÉCIDE DU PRIX?", "équipe: qui décide du prix?"),
    ],
)
def test_a_shouted_message_is_lowered(raw: str, expected: str) -> None:
    assert unshout(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "who owns the SSO rollout for Orbit?",  # acronyms and names in an ordinary sentence
        "Who owns the API?",
        "SSO owner?",  # too short to call shouting
        "ALL HANDS: who owns the roadmap for the web app?",
        "",
    ],
)
def test_capitals_in_an_ordinary_sentence_are_kept(raw: str) -> None:
    assert unshout(raw) == raw
