"""Impossible numbers given to the curators' commands, on SQLite and PostgreSQL: one line on
standard error and exit 1 (or, for a duration longer than the calendar, everything), never a
traceback, and never the database taken for down."""

from __future__ import annotations

from pathlib import Path

import pytest
from storekit import StoreFactory, record

from bot.cli import main

HUGE_ID = "99999999999999999999999"
BIG_ID = str(2**31)  # past PostgreSQL's INTEGER, within SQLite's


@pytest.fixture
def cli_env(
    db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch, knowledge_copy: Path
) -> str:
    for name in ("ROLEBOT_HASH_USER_IDS", "ROLEBOT_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE_DIR", str(knowledge_copy))
    return db_url


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str) -> str:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rolebot: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("action", ["promote", "dismiss"])
@pytest.mark.parametrize("number", [HUGE_ID, BIG_ID, "0", "-7"])
def test_an_id_no_column_can_hold_names_no_question(
    cli_env: str,
    make_store: StoreFactory,
    capsys: pytest.CaptureFixture[str],
    action: str,
    number: str,
) -> None:
    make_store().log_question(record("who waters the plants"))
    extra = ["--role", "tpm"] if action == "promote" else []
    code, _, err = _run(capsys, "unanswered", action, number, *extra)
    assert f"no logged question with id {number}" in _one_line_error(code, err)


def test_a_negative_limit_is_a_clear_error_not_an_outage(
    cli_env: str,
    make_store: StoreFactory,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_store().log_question(record("who waters the plants"))
    code, _, err = _run(capsys, "unanswered", "list", "--limit", "-1")
    assert "limit of -1" in _one_line_error(code, err)
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]


def test_a_negative_group_limit_is_a_clear_error(
    cli_env: str, make_store: StoreFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_store().log_question(record("who waters the plants"))
    code, _, err = _run(capsys, "unanswered", "groups", "--limit", "-1")
    assert "limit of -1" in _one_line_error(code, err)


def test_a_limit_beyond_any_table_means_no_limit(
    cli_env: str, make_store: StoreFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_store().log_question(record("who waters the plants"))
    code, out, err = _run(capsys, "unanswered", "list", "--limit", HUGE_ID)
    assert code == 0 and err == "" and "who waters the plants" in out


@pytest.mark.parametrize(
    "argv",
    [
        ("unanswered", "list", "--since", "99999999999999d"),
        ("stats", "--since", "99999999999999d"),
        ("unanswered", "purge", "--older-than", "99999999999999d"),
    ],
)
def test_a_duration_longer_than_the_calendar_means_everything(
    cli_env: str,
    make_store: StoreFactory,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
) -> None:
    make_store().log_question(record("who waters the plants"))
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    assert err == ""
    if argv[:2] == ("unanswered", "list"):
        assert "who waters the plants" in out
    if argv[0] == "stats":
        assert "1 open" in out
    if argv[1:2] == ("purge",):
        assert "deleted 0 question(s)" in out


def test_impossible_ids_never_reach_the_driver(make_store: StoreFactory) -> None:
    store = make_store()
    store.log_question(record("who waters the plants"))
    assert store.get_questions([10**30, 2**31, -1, 0]) == []
    assert store.mark_dismissed([10**30], None) == 0
    assert store.healthy()
