"""Knowledge edited under a running app (reload checked on every question here): a file caught
half-written, emptied, removed, or replaced by a special file never empties the bot."""

from __future__ import annotations

import logging
import os

import pytest
from knowledgekit import settle
from slack_signed import message
from slackkit import Running

QUESTION = "who owns the product roadmap?"


def _ask(running: Running) -> str:
    before = len(running.fake.posts())
    running.slack.event(message(QUESTION))
    posts = running.fake.wait_for("chat.postMessage", before + 1)
    return str(posts[-1].args["text"])


def _entries(running: Running) -> int:
    return int(running.get("/healthz").json()["knowledge_entries"])


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_truncated_faq_is_an_error_and_the_knowledge_stays(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    entries = _entries(running)
    faq = running.knowledge_dir / "faq.yaml"
    faq.write_bytes(b"")  # what `cp` and `cat >` leave before they write
    settle(*running.knowledge_dir.iterdir())
    assert _ask(running).startswith("Product Manager")
    assert _entries(running) == entries
    (error,) = [m for m in _errors(caplog) if "faq.yaml" in m]
    assert "empty" in error and "restore" in error
    assert all(r.levelno >= logging.ERROR for r in caplog.records if "faq.yaml" in r.getMessage())


def test_a_half_written_file_is_not_loaded_while_it_is_being_written(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    faq = running.knowledge_dir / "faq.yaml"
    whole = faq.read_bytes()
    faq.write_bytes(whole[: len(whole) // 2])  # written just now: the folder is not still
    assert _ask(running).startswith("Product Manager")
    assert not [m for m in _errors(caplog) if "knowledge" in m]  # not even tried
    faq.write_bytes(whole)
    settle(*running.knowledge_dir.iterdir())
    assert _ask(running).startswith("Product Manager")
    assert not [m for m in _errors(caplog) if "knowledge" in m]


def test_a_removed_faq_leaves_no_entries_which_is_an_error(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    entries = _entries(running)
    (running.knowledge_dir / "faq.yaml").unlink()
    settle(*running.knowledge_dir.iterdir())
    assert _ask(running).startswith("Product Manager")
    assert _entries(running) == entries
    messages = _errors(caplog)
    assert any("faq.yaml was removed" in m for m in messages)
    assert any("no FAQ entries" in m for m in messages)
    assert not [r for r in caplog.records if r.levelno == logging.INFO and "reloaded" in r.msg]


def test_a_fifo_among_the_knowledge_files_blocks_nothing(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    os.mkfifo(running.knowledge_dir / "team.yaml")
    settle(*running.knowledge_dir.iterdir())
    assert _ask(running).startswith("Product Manager")
    assert running.get("/healthz").json()["knowledge_entries"] > 0
    assert any("named pipe" in m and "team.yaml" in m for m in _errors(caplog))


def test_a_link_to_dev_zero_is_refused_without_reading_it(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    (running.knowledge_dir / "team.yaml").symlink_to("/dev/zero")
    settle(*running.knowledge_dir.iterdir())
    assert _ask(running).startswith("Product Manager")
    assert any("character device" in m and "team.yaml" in m for m in _errors(caplog))
