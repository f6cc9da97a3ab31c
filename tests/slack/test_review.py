"""Curators: the unanswered list, promote and dismiss (in a reply and in the Home tab)."""

from __future__ import annotations

import time

from slack_fakes import Call
from slack_signed import mention
from slackkit import CURATOR, Running

from bot.store import SqlStore
from bot.store.interface import QuestionRecord, Source

QUESTION = "who owns the quarterly llama grooming budget?"


def _log(running: Running, text: str = QUESTION) -> None:
    running.bot.store.log_question(QuestionRecord(text, text.rstrip("?"), Source.MENTION))


def _unanswered(running: Running, user: str = CURATOR, name: str = "list") -> Call:
    running.slack.command("unanswered", running.respond_url(name), user=user)
    (reply,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return reply


def _responded(running: Running, name: str) -> Call:
    (call,) = running.fake.wait_for("respond", where=lambda c: c.path.endswith("/" + name))
    return call


def _status(running: Running) -> list[tuple[str, str, str | None]]:
    store = running.bot.store
    assert isinstance(store, SqlStore)
    return [(q.text, q.status, q.resolved_entry_id) for q in store.list_questions(status=None)]


def test_promote_writes_a_new_entry_and_the_bot_answers_it_next_time(running: Running) -> None:
    _log(running)
    listing = _unanswered(running)
    promote = next(b for b in listing.buttons() if b["text"]["text"] == "Promote: Program")
    running.slack.click(promote, running.respond_url("promote"), user=CURATOR, ephemeral=True)
    done = _responded(running, "promote")
    assert done.args["replace_original"] is True
    assert "Promoted 1 question to the Program Manager" in done.args["text"]
    assert "No open questions" in done.dump()  # the refreshed list follows
    ((text, status, entry_id),) = _status(running)
    assert (text, status) == (QUESTION, "promoted")
    assert entry_id in done.args["text"]
    assert (running.knowledge_dir / "promoted.yaml").is_file()
    running.slack.event(mention(QUESTION))
    (post,) = running.fake.wait_for("chat.postMessage")
    assert post.args["text"].startswith("Program Manager")


def test_dismiss_takes_the_group_out_of_the_queue(running: Running) -> None:
    _log(running)
    _log(running, "Who owns the quarterly llama grooming budget")
    listing = _unanswered(running)
    assert "asked 2 times" in listing.dump()
    dismiss = next(b for b in listing.buttons() if b["text"]["text"] == "Dismiss")
    assert dismiss["style"] == "danger" and "confirm" in dismiss
    running.slack.click(dismiss, running.respond_url("dismiss"), user=CURATOR, ephemeral=True)
    done = _responded(running, "dismiss")
    assert "Dismissed 2 questions." in done.args["text"]
    assert {status for _, status, _ in _status(running)} == {"dismissed"}


def test_only_curators_can_promote_or_dismiss(running: Running) -> None:
    _log(running)
    listing = _unanswered(running)
    for label, name in (("Promote: Product", "p"), ("Dismiss", "d")):
        button = next(b for b in listing.buttons() if b["text"]["text"] == label)
        running.slack.click(button, running.respond_url(name), user="U0MALLORY", ephemeral=True)
        refused = _responded(running, name)
        assert "only curators" in refused.args["text"]
        assert "llama" not in refused.dump()
    assert [status for _, status, _ in _status(running)] == ["open"]


def test_home_tab_for_everyone_and_the_queue_for_curators(running: Running) -> None:
    _log(running)
    event = {
        "type": "app_home_opened",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    assert running.slack.event(event).status == 200
    (home,) = running.fake.wait_for("views.publish")
    assert home.args["user_id"] == "U0ALICE"
    view = home.args["view"]
    assert view["type"] == "home"
    sent = home.dump()
    assert "Technical Program Manager" in sent and "roadmap" in sent
    assert "llama" not in sent and "Unanswered" not in sent
    assert running.slack.event({**event, "user": CURATOR}).status == 200
    curator_home = running.fake.wait_for("views.publish", 2)[-1]
    assert curator_home.args["user_id"] == CURATOR
    assert "llama" in curator_home.dump()
    assert len(curator_home.args["view"]["blocks"]) <= 100
    # A click in the Home tab re-publishes it.
    dismiss = next(b for b in curator_home.buttons() if b["text"]["text"] == "Dismiss")
    running.slack.click(
        dismiss,
        running.respond_url("home"),
        user=CURATOR,
        container={"type": "view", "view_id": "VHOME"},
    )
    refreshed = running.fake.wait_for("views.publish", 3)[-1]
    assert "llama" not in refreshed.dump()


def test_opening_the_messages_tab_is_acknowledged_quietly(running: Running) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "tab": "messages",
        "event_ts": f"{time.time():.6f}",
    }
    assert running.slack.event(event).status == 200
    running.fake.quiet(0.3)
    assert running.fake.of("views.publish") == []
