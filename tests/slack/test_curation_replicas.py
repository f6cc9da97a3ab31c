"""The curator loop in production, for real: ``rolebot serve`` replicas (each with its own data
folder) share one database and a knowledge folder nobody writes to. A question logged through
one replica is promoted with the CLI and with the Slack button; every replica, and one started
afterwards, answers it within seconds; the asker's thread gets exactly one post; export and
validate pass. On PostgreSQL with two replicas (and a third started later), on SQLite with one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_fakes import Call, FakeSlack
from slack_signed import mention
from slackkit import CURATOR, Served, postgres_schema, process_env, run_rolebot, serve

from bot.slack.blocks.safe import decode_value
from bot.store import SqlStore, open_store_url

BY_CLI = "who owns the quarterly vendor escrow audit schedule?"
BY_BUTTON = "who keeps the llama petting zoo permits current?"
ANNOUNCED = "A curator answered this"
SECONDS = 10.0
"""How long every replica may take to answer a promoted question ("within a few seconds")."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'rolebot.db'}"
        return
    with postgres_schema() as schema:
        yield schema.url


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _read_only(folder: Path) -> None:
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)


def _ask(replica: Served, fake: FakeSlack, text: str, channel: str = "C0ASKERS") -> Call:
    event = mention(text, channel=channel)
    assert replica.slack.event(event).status == 200
    (reply,) = fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("thread_ts") == event["ts"], timeout=20
    )
    return reply


def _answered_by(replica: Served, fake: FakeSlack, text: str, role: str) -> int:
    """Ask until ``role`` answers (fails after :data:`SECONDS`); how many asks it took."""
    started = time.monotonic()
    asks = 0
    while True:
        reply = _ask(replica, fake, text, channel="C0LATER")
        asks += 1
        if reply.args["text"].startswith(role):
            return asks
        assert time.monotonic() - started < SECONDS, f"{replica.base_url}: {reply.args['text']}"
        time.sleep(0.2)


def _logged(store: SqlStore, text: str) -> int:
    deadline = time.monotonic() + 15
    while True:
        found = [q for q in store.list_questions() if q.text == text]
        if found:
            return found[0].id
        assert time.monotonic() < deadline, f"not logged: {text}"
        time.sleep(0.1)


def _told(fake: FakeSlack, thread_ts: str) -> list[Call]:
    return [
        c
        for c in fake.of("chat.postMessage")
        if c.args.get("thread_ts") == thread_ts and ANNOUNCED in c.args["text"]
    ]


def test_replicas_share_the_curated_changes_and_tell_the_asker_once(
    database: str, tmp_path: Path, fake_slack: FakeSlack, knowledge_copy: Path
) -> None:
    postgres = database.startswith("postgresql")
    _read_only(knowledge_copy)
    before = _snapshot(knowledge_copy)
    probe = open_store_url(database, tmp_path / "probe", migrate=True)

    def env(name: str) -> dict[str, str]:
        return process_env(
            fake_slack,
            DATABASE_URL=database,
            ROLEBOT_DATA_DIR=str(tmp_path / name / "data"),
            ROLEBOT_KNOWLEDGE_DIR=str(knowledge_copy),
            ROLEBOT_RELOAD_INTERVAL="0.5",
            ROLEBOT_CURATORS=CURATOR,
        )

    for name in ("a", "b", "c", "cli"):
        (tmp_path / name).mkdir()
    replicas = [serve(env("a"), tmp_path / "a", workers=2)]
    if postgres:
        replicas.append(serve(env("b"), tmp_path / "b", workers=2))
    first, last = replicas[0], replicas[-1]
    started: list[Served] = []
    try:
        # Both questions are logged through replica A.
        asked: dict[str, Any] = {}
        for text in (BY_CLI, BY_BUTTON):
            reply = _ask(first, fake_slack, text)
            assert "don't know" in reply.args["text"] or "not sure" in reply.args["text"].lower()
            asked[text] = reply.args["thread_ts"]
        cli_id, button_id = _logged(probe, BY_CLI), _logged(probe, BY_BUTTON)

        # Promoted with the CLI...
        done = run_rolebot(
            env("cli"),
            tmp_path / "cli",
            "unanswered",
            "promote",
            str(cli_id),
            "--role",
            "program_manager",
            "--by",
            "U0CLI",
        )
        assert done.returncode == 0, done.stderr
        for replica in replicas:
            _answered_by(replica, fake_slack, BY_CLI, "Program Manager")
        # ...and with the Promote button, clicked in the list the last replica shows.
        last.slack.command("unanswered", fake_slack.response_url("list"), user=CURATOR)
        (listing,) = fake_slack.wait_for("respond", where=lambda c: c.path.endswith("/list"))
        # (the group of BY_BUTTON: BY_CLI may be open again, asked before a replica reloaded)
        [button] = [
            b
            for b in listing.buttons()
            if b["text"]["text"] == "Promote: Project"
            and str(button_id) in decode_value(b["value"])["i"].split(",")
        ]
        last.slack.click(button, fake_slack.response_url("promote"), user=CURATOR, ephemeral=True)
        (clicked,) = fake_slack.wait_for(
            "respond", where=lambda c: c.path.endswith("/promote"), timeout=20
        )
        assert "Promoted 1 question to the Project Manager" in clicked.args["text"]
        assert {q.status for q in probe.get_questions([cli_id, button_id])} == {"promoted"}
        # Within a few seconds every replica answers both...
        for replica in replicas:
            _answered_by(replica, fake_slack, BY_BUTTON, "Project Manager")
        # ...and so does a replica started afterwards.
        if postgres:
            started.append(serve(env("c"), tmp_path / "c"))
        else:
            first.stop()
            started.append(serve(env("a"), tmp_path / "a"))
            replicas = []
        for replica in started:  # it read the log at start: the first answer is right
            assert _answered_by(replica, fake_slack, BY_CLI, "Program Manager") == 1
            assert _answered_by(replica, fake_slack, BY_BUTTON, "Project Manager") == 1

        # The asker's thread got exactly one post, naming the role: across replicas, workers
        # and a second of sweeps more.
        for text in (BY_CLI, BY_BUTTON):
            fake_slack.wait_for(
                "chat.postMessage",
                where=lambda c, ts=asked[text]: (
                    c.args.get("thread_ts") == ts and ANNOUNCED in c.args["text"]
                ),
                timeout=SECONDS,
            )
        fake_slack.quiet(1.5)
        for text, role in ((BY_CLI, "Program Manager"), (BY_BUTTON, "Project Manager")):
            (post,) = _told(fake_slack, asked[text])
            assert post.args["channel"] == "C0ASKERS" and role in post.args["text"]

        # No file in the knowledge folder changed.
        assert _snapshot(knowledge_copy) == before

        # Export, then validate: both questions are in the YAML.
        exported = tmp_path / "exported"
        done = run_rolebot(env("cli"), tmp_path / "cli", "kb", "export", str(exported))
        assert done.returncode == 0, done.stderr
        assert "2 curated change(s) merged" in done.stdout
        done = run_rolebot(env("cli"), tmp_path / "cli", "kb", "validate", str(exported))
        assert done.returncode == 0, done.stderr
        entries = yaml.safe_load((exported / "promoted.yaml").read_text())["entries"]
        questions = {q: e["owner"] for e in entries for q in e["questions"]}
        assert questions[BY_CLI] == "program_manager"
        assert questions[BY_BUTTON] == "project_manager"
        for replica in [*replicas, *started]:
            code, err = replica.stop()
            assert code == 0, err
            assert "Traceback" not in err
    finally:
        for replica in [*replicas, *started]:
            replica.stop()
        probe.close()
        knowledge_copy.chmod(0o755)
