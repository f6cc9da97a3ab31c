"""Questions by mention, direct message and listening channel, through Bolt's real pipeline."""

from __future__ import annotations

import re

import pytest
from knowledgekit import settle
from slack_fakes import BOT_ID, BOT_USER_ID
from slack_signed import mention, message
from slackkit import Running

from bot.store import SqlStore

ANSWERED = "who owns the product roadmap?"
UNANSWERED = "who is in charge of the office plants watering rota?"


def _open_questions(running: Running) -> list[str]:
    return [g.representative.text for g in running.bot.store.open_groups(limit=50)]


def test_mention_is_answered_in_a_thread_with_role_reason_and_buttons(running: Running) -> None:
    event = mention(ANSWERED)
    response = running.slack.event(event)
    assert response.status == 200
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0GENERAL"
    assert post.args["thread_ts"] == event["ts"]
    assert post.headers["authorization"] == "Bearer xoxb-test-token"
    text = post.dump()
    assert "Product Manager" in text
    assert re.search(r"A \*(why|what)\* question: the Product Manager\.", text)
    assert "Matched FAQ" in text
    assert post.args["text"].startswith("Product Manager")
    labels = [b["text"]["text"] for b in post.buttons()]
    assert labels == [":thumbsup: Helpful", ":thumbsdown: Wrong role", "Role definition"]
    assert running.fake.of("auth.test")  # Bolt learned its bot user id from the fake API


def test_mention_inside_a_thread_replies_in_that_thread(running: Running) -> None:
    event = mention(ANSWERED, thread_ts="1699999999.000100")
    running.slack.event(event)
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1699999999.000100"


def test_direct_message_is_answered_in_its_thread(running: Running) -> None:
    event = message("who sets the product vision")
    assert running.slack.event(event).status == 200
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "D0ALICE"
    assert post.args["thread_ts"] == event["ts"]
    assert "Product Manager" in post.args["text"]


def test_the_same_event_delivered_three_times_gets_exactly_one_reply(running: Running) -> None:
    event = mention(ANSWERED)
    statuses = [
        running.slack.event(event, event_id="Ev0RETRY01", retry=n).status for n in (None, 1, 2)
    ]
    assert statuses == [200, 200, 200]
    running.fake.wait_for("chat.postMessage")
    running.fake.quiet()
    assert len(running.fake.posts()) == 1


def test_a_mention_also_seen_as_a_message_is_answered_once(running: Running) -> None:
    running.bot.store.set_listen("C0GENERAL", True)
    event = mention(ANSWERED)
    running.slack.event(event)
    same = message(event["text"], channel="C0GENERAL", channel_type="channel", ts=event["ts"])
    assert running.slack.event(same).status == 200
    running.fake.wait_for("chat.postMessage")
    running.fake.quiet()
    assert len(running.fake.posts()) == 1


def test_bots_own_messages_edits_deletions_and_subtypes_are_acknowledged_and_ignored(
    running: Running,
) -> None:
    ignored = [
        message(ANSWERED, bot_id="B0OTHER"),
        message(ANSWERED, user=None, subtype="bot_message", bot_id="B0OTHER"),
        message(ANSWERED, user=BOT_USER_ID, bot_id=BOT_ID),
        message(
            ANSWERED,
            subtype="message_changed",
            message={"text": ANSWERED, "user": "U0ALICE", "ts": "1.1"},
        ),
        message("", user=None, subtype="message_deleted", deleted_ts="1.1"),
        message("joined", subtype="channel_join"),
        message(ANSWERED, channel="C0GENERAL", channel_type="channel"),  # not listening
        message(ANSWERED, channel="G0PRIVATE", channel_type="group"),
        message(ANSWERED, channel="C0MPIM", channel_type="mpim"),
        {**mention(ANSWERED), "bot_id": "B0OTHER"},
    ]
    for event in ignored:
        response = running.slack.event(event)
        assert response.status == 200, event
    running.fake.quiet()
    assert running.fake.posts() == []


def test_unanswered_question_says_so_and_reaches_the_curators(running: Running) -> None:
    running.slack.event(mention(UNANSWERED))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert "I don't know who owns" in post.args["text"]
    assert "curators" in post.args["text"]
    for _ in range(100):
        if _open_questions(running):
            break
        running.fake.quiet(0.05)
    assert _open_questions(running) == [f"{UNANSWERED}"]


def test_hostile_text_never_pings_anyone(running: Running) -> None:
    hostile = (
        "<!channel> <!here> <!everyone> <!subteam^S0ADMINS|@admins> <@U0BOSS> "
        "&lt;!channel&gt; @here who owns the lunch <https://evil.example|click> &amp; menu?"
    )
    running.slack.event(mention(hostile))
    (post,) = running.fake.wait_for("chat.postMessage")
    sent = post.dump()
    for active in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U0BOSS>", "<https://"):
        assert active not in sent
    assert not re.search(r"@(?:channel|here|everyone)", sent)  # only with a zero-width space
    assert "&lt;!channel&gt;" in sent  # shown as text, escaped
    assert "&amp;" in sent


def test_empty_mention_gets_help_not_an_error(running: Running) -> None:
    running.slack.event(mention(""))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert "who owns" in post.args["text"].lower()


def test_huge_question_gets_a_reply_within_block_kit_limits(running: Running) -> None:
    running.slack.event(mention("who owns " + "the very long roadmap " * 3000))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert len(post.blocks()) <= 50
    assert len(post.args["text"]) <= 40000
    for block in post.blocks():
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_listening_channel_answers_ownership_questions_only(running: Running) -> None:
    running.bot.store.set_listen("C0LISTEN", True)
    chatter = message("lunch at noon?", channel="C0LISTEN", channel_type="channel")
    question = message(ANSWERED, channel="C0LISTEN", channel_type="channel")
    assert running.slack.event(chatter).status == 200
    assert running.slack.event(question).status == 200
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0LISTEN"
    assert post.args["thread_ts"] == question["ts"]
    running.fake.quiet()
    assert len(running.fake.posts()) == 1


def test_answers_are_counted(running: Running) -> None:
    running.slack.event(mention(ANSWERED))
    running.fake.wait_for("chat.postMessage")
    running.slack.event(mention(UNANSWERED))
    running.fake.wait_for("chat.postMessage", 2)
    store = running.bot.store
    assert isinstance(store, SqlStore)
    for _ in range(100):
        stats = store.stats()
        if stats.outcomes.get("answered") and stats.outcomes.get("unanswered"):
            break
        running.fake.quiet(0.05)
    assert {k: v for k, v in stats.outcomes.items() if v} == {"answered": 1, "unanswered": 1}
    assert [e.entry_id for e in stats.entries] == ["product-roadmap"]


def test_a_failing_listener_apologises_kindly(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(question: str) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(running.bot.engine, "ask", broken)
    running.slack.event(mention(ANSWERED))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert "Sorry, something went wrong on my side" in post.args["text"]


def test_edited_knowledge_is_used_without_a_restart(running: Running) -> None:
    question = "who owns the llama grooming rota?"
    running.slack.event(mention(question))
    first = running.fake.wait_for("chat.postMessage")[-1]
    assert "I don't know who owns" in first.args["text"]
    draft = running.knowledge_dir / "llamas.yaml.draft"
    draft.write_text(
        "entries:\n"
        "  - id: llama-grooming\n"
        "    questions:\n"
        "      - who owns the llama grooming rota\n"
        "      - who schedules llama grooming\n"
        "      - whose job is the llama grooming plan\n"
        "      - who decides when the llamas get groomed\n"
        "      - who keeps the llama grooming calendar\n"
        "    owner: project_manager\n"
        "    distinction: when\n"
        "    answer: The grooming rota is one project's schedule, so its Project Manager owns it.\n"
    )
    settle(draft)  # saved a few seconds ago, then moved in: the folder is still
    draft.replace(running.knowledge_dir / "llamas.yaml")
    running.slack.event(mention(question))
    second = running.fake.wait_for("chat.postMessage", 2)[-1]
    assert second.args["text"].startswith("Project Manager")
    assert "grooming rota is one project" in second.args["text"]


@pytest.mark.parametrize("text", ["thanks!", "hello", "help"])
def test_small_talk_in_a_direct_message_gets_a_hint_and_is_not_logged(
    running: Running, text: str
) -> None:
    running.slack.event(message(text, thread_ts="1700000000.000001"))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700000000.000001"
    assert "who owns" in post.dump().lower()
    assert "/role help" in post.dump() or "/role who owns" in post.dump()
    running.fake.quiet(0.3)
    assert _open_questions(running) == []


def test_listen_on_in_a_private_channel_answers_its_questions(running: Running) -> None:
    url = running.respond_url("listen")
    running.slack.command("listen on", url, channel="G0PRIVATE")
    (reply,) = running.fake.wait_for("respond")
    assert "Listening is *on*" in reply.args["text"]
    event = message(ANSWERED, channel="G0PRIVATE", channel_type="group")
    running.slack.event(event)
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "G0PRIVATE" and post.args["thread_ts"] == event["ts"]
    assert post.args["text"].startswith("Product Manager")
