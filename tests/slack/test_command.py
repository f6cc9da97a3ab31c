"""``/role`` in all its forms: signed slash-command requests, replies on the response_url."""

from __future__ import annotations

import re

import pytest
from slack_fakes import Call
from slackkit import CURATOR, AppFactory, Running

from bot.store.interface import QuestionRecord, Source


def _command(running: Running, text: str, **kwargs: str) -> Call:
    url = running.respond_url(f"cmd{len(running.fake.of('respond'))}")
    response = running.slack.command(text, url, **kwargs)
    assert response.status == 200
    assert response.body == b""  # acknowledged at once; the reply follows on the response_url
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith(url[-6:]))
    assert reply.args["response_type"] == "ephemeral"
    return reply


def _labels(call: Call) -> list[str]:
    return [b["text"]["text"] for b in call.buttons()]


@pytest.mark.parametrize("text", ["", "help", "  HELP  "])
def test_help_lists_usage_and_the_roles(running: Running, text: str) -> None:
    reply = _command(running, text)
    sent = reply.dump()
    assert "/role who owns" in sent
    for name in (
        "Product Manager",
        "Program Manager",
        "Project Manager",
        "Technical Program Manager",
    ):
        assert name in sent
    assert _labels(reply) == ["Share in channel"]


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("tpm", "Technical Program Manager"),
        ("product manger", "Product Manager"),
        ("Programme Manager", "Program Manager"),
        ("the project managers", "Project Manager"),
    ],
)
def test_a_role_alias_or_typo_gives_the_definition_card(
    running: Running, text: str, role: str
) -> None:
    reply = _command(running, text)
    header = reply.blocks()[0]
    assert header["type"] == "header"
    assert role in header["text"]["text"]
    assert "Responsibilities" in reply.dump()


def test_an_ambiguous_abbreviation_offers_the_roles(running: Running) -> None:
    reply = _command(running, "pm")
    assert "could mean several roles" in reply.args["text"]
    assert _labels(reply)[:3] == ["Product Manager", "Program Manager", "Project Manager"]


def test_an_unknown_role_says_so_helpfully(running: Running) -> None:
    reply = _command(running, "zebra")
    assert "I don't know a role called “zebra”" in reply.args["text"]
    assert "/role help" in reply.args["text"]


def test_compare_shows_two_roles_aspect_by_aspect(running: Running) -> None:
    reply = _command(running, "compare product manager vs tpm")
    blocks = reply.blocks()
    assert blocks[0]["text"]["text"] == "Product Manager vs Technical Program Manager"
    aspects = [b for b in blocks if b.get("fields")]
    assert len(aspects) == 6
    assert all(len(b["fields"]) == 2 for b in aspects)
    assert "Technical depth" in reply.dump()


@pytest.mark.parametrize("text", ["compare pgm project manager", "compare program manager, pjm"])
def test_compare_without_a_separator(running: Running, text: str) -> None:
    reply = _command(running, text)
    assert reply.blocks()[0]["text"]["text"] == "Program Manager vs Project Manager"


@pytest.mark.parametrize("text", ["compare", "compare tpm", "compare tpm tpm", "compare x y"])
def test_compare_with_the_wrong_roles_explains(running: Running, text: str) -> None:
    reply = _command(running, text)
    assert "Name two roles" in reply.args["text"] or "Both names" in reply.args["text"]


@pytest.mark.parametrize(
    "text", ["who owns the product roadmap?", "ask who owns the product roadmap"]
)
def test_who_owns_and_ask_answer_like_a_mention(running: Running, text: str) -> None:
    reply = _command(running, text)
    assert "Product Manager" in reply.args["text"]
    assert "You asked" in reply.dump()
    assert _labels(reply) == [
        ":thumbsup: Helpful",
        ":thumbsdown: Wrong role",
        "Role definition",
        "Share in channel",
    ]


def test_share_in_channel_posts_the_same_content_for_everyone(running: Running) -> None:
    reply = _command(running, "compare tpm product manager")
    share = next(b for b in reply.buttons() if b["action_id"] == "rolebot.share")
    response = running.slack.click(share, running.respond_url("share"), ephemeral=True)
    assert response.status == 200
    (shared,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("share"))
    assert shared.args["response_type"] == "in_channel"
    assert shared.args["replace_original"] is False
    assert shared.blocks()[0] == reply.blocks()[0]
    assert "Share in channel" not in _labels(shared)


def test_unanswered_is_for_curators_only(running: Running) -> None:
    running.bot.store.log_question(
        QuestionRecord("who owns the secret plan?", "who owns the secret plan", Source.MENTION)
    )
    refused = _command(running, "unanswered")
    assert "only for curators" in refused.args["text"]
    assert "secret plan" not in refused.dump()
    assert refused.buttons() == []
    shown = _command(running, "unanswered", user=CURATOR)
    assert "secret plan" in shown.dump()
    labels = _labels(shown)
    assert "Promote: Product" in labels and "Dismiss" in labels
    assert "Share in channel" not in labels


def test_listen_on_and_off_is_stored_per_channel(running: Running) -> None:
    assert "*off*" in _command(running, "listen", channel="C0TEAM").args["text"]
    assert "*on*" in _command(running, "listen on", channel="C0TEAM").args["text"]
    assert running.bot.store.listening("C0TEAM")
    assert "*off*" in _command(running, "listen off", channel="C0TEAM").args["text"]
    assert not running.bot.store.listening("C0TEAM")
    assert "always answer" in _command(running, "listen on", channel="D0ALICE").args["text"]


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> <!here> <@U0BOSS> <!subteam^S0ADM|@admins>",
        "who owns <!everyone> &lt;script&gt; &amp;?",
        "compare <!channel> <@U0BOSS>",
        "ask <!here>",
        "x" * 5000,
        "who owns " + "roadmap " * 800,
        "\u202e\u0000\u200b",
    ],
)
def test_empty_huge_or_hostile_text_gets_a_safe_helpful_reply(running: Running, text: str) -> None:
    reply = _command(running, text)
    sent = reply.dump()
    assert "Sorry, something went wrong" not in sent
    for active in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U0BOSS>"):
        assert active not in sent
    assert not re.search(r"@(?:channel|here|everyone)", sent)
    assert len(reply.blocks()) <= 50
    for block in reply.blocks():
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_the_command_name_is_configurable(app_factory: AppFactory) -> None:
    running = app_factory(command="/owns")
    reply = _command(running, "help", command="/owns")
    assert "/owns who owns" in reply.dump()
    other = running.slack.command("help", running.respond_url("x"), command="/role")
    assert other.status == 404  # not registered: Bolt does not know it


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("compare product program", "Product Manager vs Program Manager"),
        ("compare program, technical program", "Program Manager vs Technical Program Manager"),
        ("compare technical program project", "Technical Program Manager vs Project Manager"),
        ("compare product and project", "Product Manager vs Project Manager"),
    ],
)
def test_compare_reads_short_role_names(running: Running, text: str, title: str) -> None:
    reply = _command(running, text)
    assert reply.blocks()[0]["text"]["text"] == title


def test_compare_with_three_roles_asks_for_two(running: Running) -> None:
    reply = _command(running, "compare product, program, project")
    text = reply.args["text"]
    assert "3 roles" in text and "Name two roles" in text
    assert "Technical Program Manager" not in reply.dump()


@pytest.mark.parametrize("text", ["program", "programs", "the program manager"])
def test_program_alone_is_the_program_manager(running: Running, text: str) -> None:
    reply = _command(running, text)
    assert reply.blocks()[0]["text"]["text"].endswith(" Program Manager")
    assert "Technical" not in reply.blocks()[0]["text"]["text"]
