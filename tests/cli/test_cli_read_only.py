"""The CLI on a read-only filesystem (a real read-only bind mount, in a mount namespace of its
own): one line naming what and the fix, never a traceback."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.normalize import normalize
from bot.store import QuestionRecord, Source, open_store_url


def _read_only(folder: Path, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``rolebot ARGV`` with ``folder`` mounted read-only (EROFS), in a new mount namespace."""
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "bot", *argv))
    where = shlex.quote(str(folder))
    script = (
        f"mount --bind {where} {where} && mount -o remount,bind,ro {where} && "
        f"touch {where}/.probe 2>/dev/null && exit 99; exec {command}"
    )
    unshare = [] if os.geteuid() == 0 else ["--map-root-user", "--user"]
    return subprocess.run(
        ["unshare", *unshare, "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder.parent,  # never the checkout: promote adds eval cases under ./tests/eval
        env=env,
        timeout=120,
    )


@pytest.fixture
def setup(tmp_path: Path, knowledge_dir: Path) -> tuple[Path, Path, dict[str, str]]:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a folder read-only")
    knowledge = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir, knowledge)
    data = tmp_path / "data"
    store = open_store_url(f"sqlite:///{data / 'rolebot.db'}", data, migrate=True)
    text = "who waters the office plants"
    store.log_question(QuestionRecord(text, normalize(text), Source.DM))
    store.close()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ROLEBOT_", "DATABASE_URL", "SLACK_"))
    }
    env.update(ROLEBOT_KNOWLEDGE_DIR=str(knowledge), ROLEBOT_DATA_DIR=str(data))
    probe = _read_only(tmp_path, "--help", env=env)
    if probe.returncode not in (0,):
        pytest.skip(f"cannot mount read-only here: {probe.stderr.strip()[:200]}")
    return knowledge, data, env


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_promoting_with_a_read_only_knowledge_folder(
    setup: tuple[Path, Path, dict[str, str]],
) -> None:
    """Curated changes go to the database: a read-only knowledge folder (as in the image) is
    no obstacle, and no file in it changes."""
    knowledge, data, env = setup
    before = {p.name: p.read_bytes() for p in knowledge.iterdir()}
    done = _read_only(knowledge, "unanswered", "promote", "1", "--role", "tpm", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in knowledge.iterdir()} == before
    store = open_store_url(f"sqlite:///{data / 'rolebot.db'}", data)
    try:
        assert [q.status for q in store.list_questions(status=None)] == ["promoted"]
    finally:
        store.close()


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


@pytest.mark.parametrize("argv", [("unanswered", "list"), ("serve", "--host", "127.0.0.1")])
def test_a_sqlite_database_in_a_read_only_folder(
    setup: tuple[Path, Path, dict[str, str]], argv: tuple[str, ...]
) -> None:
    _, data, env = setup
    env = {**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "test-secret"}
    if argv[0] == "serve":
        argv = (*argv, "--port", _free_port())
    line = _one_line(_read_only(data, *argv, env=env))
    assert "not writable" in line and "ROLEBOT_DATA_DIR" in line
