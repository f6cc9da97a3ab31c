"""Role holders per channel through Bolt's real pipeline: ``/role set|unset|holders`` and the
answers that name them, signed requests against the loopback Web API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from knowledgekit import settle
from slack_fakes import Call
from slack_signed import mention, message
from slackkit import CURATOR, AppFactory, Running
from sqlalchemy import insert

from bot.cli import main
from bot.slack.blocks.holders import holder_names
from bot.slack.blocks.safe import encode_value
from bot.store.engine import create_db_engine
from bot.store.holders import Holder, HolderStore
from bot.store.models import RoleHolder

PAYMENTS = "C0PAYMENTS"
ROADMAP = "who decides what goes on the roadmap?"
BOB = "<@U0BOB0001|bob>"
CLOSE_CALLS = ["who owns the schedule", "who owns status reports", "who tracks risks"]


# ---------------------------------------------------------------------- the databases
@pytest.fixture
def app(app_factory: AppFactory, database_url: str) -> Running:
    return app_factory(database_url=database_url)


# ---------------------------------------------------------------------- helpers
def command(running: Running, text: str, *, channel: str = PAYMENTS, user: str = "U0ALICE") -> Call:
    url = running.respond_url(f"h{uuid.uuid4().hex[:10]}")
    response = running.slack.command(text, url, channel=channel, user=user)
    assert response.status == 200
    assert response.body == b""
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith(url[-11:]))
    assert reply.args["response_type"] == "ephemeral"
    return reply


def ask(running: Running, text: str, channel: str) -> Call:
    before = len(running.fake.posts())
    event = mention(text, channel=channel)
    assert running.slack.event(event).status == 200
    posts = running.fake.wait_for("chat.postMessage", count=before + 1)
    (post,) = [p for p in posts if p.args.get("thread_ts") == event["ts"]]
    return post


def nothing_changed(running: Running) -> None:
    assert running.bot.service.holders.store is not None
    assert running.bot.service.holders.store.history() == []


# ---------------------------------------------------------------------- done when
def test_set_list_answer_cli_and_unset(
    app: Running,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    reply = command(app, f"set product_manager {BOB}")
    text = reply.dump()
    assert "Done" in text and "<@U0BOB0001>" in text and "Product Manager" in text
    assert f"<#{PAYMENTS}>" in text

    listed = command(app, "holders")
    blocks = json.dumps(listed.blocks())
    pm_block = next(
        b["text"]["text"] for b in listed.blocks() if "Product Manager*" in b["text"]["text"]
    )
    assert "Here: <@U0BOB0001>, set by <@U0ALICE> on " in pm_block
    assert "Workspace default" in pm_block
    assert blocks.count("U0BOB0001") == 1  # only the Product Manager holds it here
    assert "Share in channel" not in blocks

    post = ask(app, ROADMAP, PAYMENTS)
    assert post.args["text"].startswith("Product Manager")
    assert "<@U0BOB0001>" in post.dump()
    assert "Ask <@U0BOB0001> (the Product Manager here)." in post.dump()
    elsewhere = ask(app, ROADMAP, "C0GENERAL")
    assert elsewhere.args["text"].startswith("Product Manager")
    assert "U0BOB0001" not in elsewhere.dump()

    for name in ("DATABASE_URL", "ROLEBOT_HASH_USER_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.chdir(tmp_path)
    assert main(["holders", "list", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["channel"] == PAYMENTS
    assert row["role"] == "product_manager"
    assert row["holders"] == [{"id": "U0BOB0001", "label": "bob"}]
    assert row["set_by"] == "U0ALICE"

    gone = command(app, "unset product_manager")
    assert "cleared" in gone.dump() and "<@U0BOB0001>" in gone.dump()
    after = ask(app, ROADMAP, PAYMENTS)
    assert after.args["text"].startswith("Product Manager")
    assert "U0BOB0001" not in after.dump()
    again = command(app, "unset product_manager")
    assert "nothing changed" in again.dump()

    store = app.bot.service.holders.store
    assert store is not None
    history = store.history(PAYMENTS)
    assert [(c.before, c.after, c.changed_by) for c in history] == [
        (("U0BOB0001",), (), "U0ALICE"),
        ((), ("U0BOB0001",), "U0ALICE"),
    ]


def test_a_change_is_seen_by_another_replica_at_once(app: Running, database_url: str) -> None:
    replica = HolderStore(create_db_engine(database_url), cache_ttl=0.0)
    try:
        assert replica.for_channel(PAYMENTS) == {}
        command(app, f"set tpm {BOB} <!subteam^S0PLATFORM|@platform-tpms>")
        (held,) = replica.for_channel(PAYMENTS).values()
        assert held.role_id == "technical_program_manager"
        assert held.ids == ("U0BOB0001", "S0PLATFORM")
        assert held.holders[1].label == "platform-tpms"
    finally:
        replica.engine.dispose()


# ---------------------------------------------------------------------- roles as typed
@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("product manager", "Product Manager"),
        ("TPM", "Technical Program Manager"),
        ("programme manager", "Program Manager"),
        ("the project managers", "Project Manager"),
    ],
)
def test_role_names_aliases_and_typos_are_understood(
    running: Running, role: str, name: str
) -> None:
    reply = command(running, f"set {role} {BOB}")
    assert f"hold the *{name}* role" in reply.dump()


def test_bare_pm_asks_which_pm(running: Running) -> None:
    reply = command(running, f"set pm {BOB}")
    text = reply.dump()
    assert "Nothing changed" in text
    assert "Product Manager, Program Manager, Project Manager: which one?" in text
    nothing_changed(running)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"set zebra {BOB}", "I don't know a role called “zebra”"),
        (f"set prodct managr owner {BOB}", "I don't know a role called"),
        ("set product_manager", "name the people or groups who hold the Product Manager role"),
        (f"set {BOB}", "name a role first"),
        ("set product_manager <#C0OTHER|general>", "#general is a channel, not a person"),
        ("set product_manager C0OTHER123", "C0OTHER123 is a channel id, not a person"),
        ("set product_manager <!here>", "@here is not a person"),
        ("set product_manager <!channel> <@U0BOB0001>", "@channel is not a person"),
        ("set product_manager @bob", "“@bob” is not a Slack id"),
        ("set product_manager U0BOB0001 bob", "“bob” is not a Slack id"),
        ("set product_manager <@U0BOB0001|bob> <script>", "is not a Slack id"),
        (
            "set product_manager " + " ".join(f"<@U0PERSON{n:02d}>" for n in range(11)),
            "11 holders is too many: at most 10",
        ),
        ("unset zebra", "I don't know a role called “zebra”"),
        ("unset", "name a role first"),
    ],
)
def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    running: Running, text: str, says: str
) -> None:
    reply = command(running, text)
    sent = reply.dump()
    assert "Nothing changed" in sent, sent
    assert says in sent, sent
    assert "<!channel>" not in sent and "<!here>" not in sent
    nothing_changed(running)


def test_invisible_characters_never_reach_the_stored_holders(running: Running) -> None:
    """Zero-width and bidi characters pasted into ``/role set`` are removed before the role and
    the people are read: the role is found, and no stored name or reply carries them."""
    reply = command(running, "set prod\u00aduct man\u200bager <@U0BOB0001|b\u202eob\u2066>")
    assert "Done" in reply.dump(), reply.dump()
    store = running.bot.service.holders.store
    assert store is not None
    (held,) = store.list([PAYMENTS])
    assert held.role_id == "product_manager"
    assert [(h.id, h.label) for h in held.holders] == [("U0BOB0001", "bob")]
    shown = command(running, "holders").dump()
    assert not any(c in shown for c in "\u00ad\u200b\u202e\u2066"), shown


def test_unknown_role_suggests_the_nearest(running: Running) -> None:
    reply = command(running, f"set techincal {BOB}")
    sent = reply.dump()
    assert "Nothing changed" in sent
    assert "Did you mean Technical Program Manager (technical_program_manager)?" in sent
    nothing_changed(running)


def test_set_in_a_direct_message_says_holders_are_per_channel(running: Running) -> None:
    for text in (f"set product_manager {BOB}", "unset product_manager"):
        reply = command(running, text, channel="D0ALICE")
        assert "Holders are per channel" in reply.dump()
    nothing_changed(running)
    shown = command(running, "holders", channel="D0ALICE")
    assert "Workspace default" in shown.dump()


def test_only_curators_may_change_when_so_configured(app_factory: AppFactory) -> None:
    running = app_factory(holders_editors="curators")
    refused = command(running, f"set product_manager {BOB}")
    assert "only curators can change role holders" in refused.dump()
    nothing_changed(running)
    allowed = command(running, f"set product_manager {BOB}", user=CURATOR)
    assert "Done" in allowed.dump()
    assert "Here: <@U0BOB0001>" in command(running, "holders").dump()  # anyone may look


def test_stored_ids_are_checked_again_when_rendered(running: Running) -> None:
    store = running.bot.service.holders.store
    assert store is not None
    with store.engine.begin() as conn:  # as if someone wrote the table by hand
        conn.execute(
            insert(RoleHolder),
            [
                {
                    "channel_id": PAYMENTS,
                    "role_id": "product_manager",
                    "holder_id": bad,
                    "label": "x",
                    "position": n,
                    "set_by": "U0ALICE",
                    "set_at": datetime.now(UTC),
                }
                for n, bad in enumerate(["<!channel>", "U0OK00001", "C0CHANNEL"])
            ],
        )
    post = ask(running, ROADMAP, PAYMENTS)
    sent = post.dump()
    assert "Ask <@U0OK00001> (the Product Manager here)." in sent
    assert "<!channel>" not in sent and "C0CHANNEL" not in sent
    listed = command(running, "holders").dump()
    assert "<!channel>" not in listed and "<@U0OK00001>" in listed


# ---------------------------------------------------------------------- answers
def test_close_calls_and_which_pm_show_the_holders_of_each_role(running: Running) -> None:
    command(running, f"set product_manager {BOB}")
    command(running, "set project_manager <@U0CAROL001|carol>")
    command(running, "set program_manager <!subteam^S0PROGRAM|@pgms>")
    which = ask(running, "what does the pm do?", PAYMENTS)
    text = which.dump()
    assert which.args["text"].startswith("Which one do you mean")
    for held in ("<@U0BOB0001>", "<@U0CAROL001>", "<!subteam^S0PROGRAM>"):
        assert held in text
    question = next(q for q in CLOSE_CALLS if running.bot.engine.ask(q).outcome == "close_call")
    close = ask(running, question, PAYMENTS)
    offered = running.bot.engine.ask(question).roles
    names = {"product_manager": "U0BOB0001", "project_manager": "U0CAROL001"}
    for role in offered:
        if role.id in names:
            assert f"<@{names[role.id]}>" in close.dump()


def test_who_owns_command_and_listen_mode_name_the_holders(running: Running) -> None:
    command(running, f"set product_manager {BOB}")
    reply = command(running, "who owns the product roadmap?")
    assert "Ask <@U0BOB0001> (the Product Manager here)." in reply.dump()
    running.bot.store.set_listen(PAYMENTS, True)
    event = message(ROADMAP, channel=PAYMENTS, channel_type="channel")
    running.slack.event(event)
    (post,) = running.fake.wait_for("chat.postMessage")
    assert "<@U0BOB0001>" in post.dump()


def _write_settled(path: Path, text: str) -> None:
    """Write a knowledge file as if saved a few seconds ago: the folder is still, so a running
    app loads it on the next question."""
    path.write_text(text)
    settle(path)


def test_a_direct_message_names_the_workspace_default(running: Running) -> None:
    contacts = running.knowledge_dir / "contacts.yaml"
    _write_settled(contacts, "contacts:\n  product_manager:\n    usergroup: S0PRODUCT\n")
    command(running, f"set product_manager {BOB}")
    running.slack.event(message(ROADMAP))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert "Ask <!subteam^S0PRODUCT>." in post.dump()
    assert "U0BOB0001" not in post.dump()
    here = ask(running, ROADMAP, PAYMENTS)  # the channel's holder wins over the default
    assert "<@U0BOB0001>" in here.dump() and "S0PRODUCT" not in here.dump()
    listed = command(running, "holders").dump()
    assert "Workspace default: <!subteam^S0PRODUCT>" in listed


def test_quiet_mode_names_first_and_mentions_by_an_edit(app_factory: AppFactory) -> None:
    running = app_factory(holders_notify=False)
    command(running, f"set product_manager {BOB}")
    post = ask(running, ROADMAP, PAYMENTS)
    assert "<@U0BOB0001>" not in post.dump()
    assert "Ask @bob (the Product Manager here)." in post.dump()
    (edit,) = running.fake.wait_for("chat.update")
    assert edit.args["channel"] == PAYMENTS
    assert edit.args["ts"]  # the message just posted
    assert "Ask <@U0BOB0001> (the Product Manager here)." in edit.dump()
    running.fake.quiet(0.2)
    elsewhere = ask(running, ROADMAP, "C0GENERAL")  # nobody to name: no edit
    assert "bob" not in elsewhere.dump()
    running.fake.quiet(0.3)
    assert len(running.fake.of("chat.update")) == 1


def test_home_shows_the_defaults_and_how_to_set_holders(running: Running) -> None:
    contacts = running.knowledge_dir / "contacts.yaml"
    _write_settled(contacts, "contacts:\n  technical_program_manager:\n    users: [U0TINA001]\n")
    event: dict[str, Any] = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}
    running.slack.event(event)
    (publish,) = running.fake.wait_for("views.publish")
    sent = publish.dump()
    assert "Workspace defaults" in sent
    assert "Technical Program Manager*: <@U0TINA001>" in sent
    assert "/role set ROLE @person @group" in sent
    assert "/role holders" in sent


@pytest.mark.parametrize("name", ["manifest.json", "manifest.http.json"])
def test_the_command_escapes_mentions(name: str) -> None:
    root = Path(__file__).resolve().parents[2]
    manifest = json.loads((root / name).read_text())
    (slash,) = manifest["features"]["slash_commands"]
    assert slash["should_escape"] is True


@pytest.mark.parametrize("label", ["here", "channel", "<!everyone>", "a&b", "*bold*", None])
def test_names_without_a_mention_are_inert(label: str | None) -> None:
    named = holder_names([Holder("U0BOB0001", label), Holder("<!here>", "x")], mention=False)
    assert "<" not in named and ">" not in named.replace("&gt;", "")
    assert "@here" not in named and "@channel" not in named and "@everyone" not in named
    assert named.startswith("@")
    assert holder_names([Holder("U0BOB0001", label)]) == "<@U0BOB0001>"


def test_a_forged_share_button_changes_nothing(running: Running) -> None:
    button = {
        "action_id": "rolebot.share",
        "text": {"type": "plain_text", "text": "Share in channel"},
        "value": encode_value({"c": f"set product_manager {BOB}"}),
    }
    url = running.respond_url("share1")
    assert running.slack.click(button, url, channel=PAYMENTS).status == 200
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("share1"))
    assert "can't be shared" in reply.dump()
    nothing_changed(running)
