"""The `rolebot` command's core sub-commands, run in-process and as a real console script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "who decides whether we add offline mode?")
    assert code == 0
    assert out.startswith("Product Manager")
    assert "matched:" in out and "score" in out


def test_ask_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "ask", "--json", "who gets docs, training and marketing ready for launch day?"
    )
    data = json.loads(out)
    assert code == 0
    assert data["outcome"] == "answered"
    assert data["role"] == "program_manager" and data["role_name"] == "Program Manager"
    assert isinstance(data["entry_id"], str) and 0 <= data["score"] <= 100
    assert 0.5 < data["confidence"] <= 1.0
    assert data["candidates"] and set(data["candidates"][0]) == {"role", "entry_id", "score"}


def test_ask_json_for_each_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "ask", "--json", "where's the nearest ATM?")
    data = json.loads(out)
    assert data["outcome"] == "unanswered" and data["role"] is None and data["entry_id"] is None
    _, out, _ = run(capsys, "ask", "--json", "who is the PM?")
    data = json.loads(out)
    assert data["outcome"] == "clarify" and len(data["roles"]) == 3


def test_ask_batch_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    questions = [
        "who owns the roadmap",
        "",
        "good morning",
        "who tracks api dependencies across teams",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(questions) + "\n"))
    code, out, _ = run(capsys, "ask", "--json", "-")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [line["question"] for line in lines] == questions
    assert lines[0]["role"] == "product_manager"
    assert lines[2]["outcome"] == "unanswered"


def test_roles_list_card_typo_and_ambiguity(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "roles")
    assert code == 0 and out.count("\n") == 4 and "technical_program_manager" in out
    code, out, _ = run(capsys, "roles", "Techincal Program Manger")
    assert code == 0 and out.startswith("Technical Program Manager")
    code, _, err = run(capsys, "roles", "pm")
    assert code == 1 and "could mean several roles" in err and "Traceback" not in err
    code, _, err = run(capsys, "roles", "astronaut")
    assert code == 1 and err.startswith("rolebot: error: no role called 'astronaut'")


def test_compare(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "tpm", "product owner")
    assert code == 0
    assert (
        "Technical Program Manager" in out.splitlines()[0]
        and "Product Manager" in out.splitlines()[0]
    )
    assert "Technical depth" in out and "Decision making" in out
    code, _, err = run(capsys, "compare", "tpm", "technical program manager")
    assert code == 1 and "two different roles" in err


def test_kb_validate_ok_and_all_errors(
    capsys: pytest.CaptureFixture[str], knowledge_copy: Path
) -> None:
    code, out, _ = run(capsys, "kb", "validate", str(knowledge_copy))
    assert code == 0 and "OK" in out
    (knowledge_copy / "bad.yaml").write_text(
        "entries:\n  - id: a\n    questions: [x y z]\n    owner: ceo\n    distinction: why\n"
        "    answer: ok\n  - id: b\n    questions: [q r s]\n    owner: cto\n    distinction: why\n"
        "    answer: ok\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "kb", "validate", str(knowledge_copy))
    assert code == 1
    assert "2 problems" in err and "'ceo'" in err and "'cto'" in err and "bad.yaml:4" in err


def test_knowledge_option_and_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "ask", "--knowledge", str(tmp_path / "none"), "who owns it")
    assert code == 1 and "ROLEBOT_KNOWLEDGE_DIR" in err and "Traceback" not in err
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE_DIR", str(tmp_path))
    code, _, err = run(capsys, "ask", "who owns it")
    assert code == 1 and "no .yaml files" in err


def test_bad_threshold_variable_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLEBOT_ANSWER_THRESHOLD", "high")
    code, _, err = run(capsys, "ask", "who owns the roadmap")
    assert code == 1 and "ROLEBOT_ANSWER_THRESHOLD" in err


def test_bad_wrong_rate_target_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLEBOT_MAX_WRONG_RATE", "5%")
    code, _, err = run(capsys, "ask", "who owns the roadmap")
    assert code == 1 and "ROLEBOT_MAX_WRONG_RATE" in err


def test_eval_prints_the_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text(
        'questions:\n  - {q: "who owns the roadmap", expect: product_manager}\n'
        '  - {q: "good morning", expect: none}\n  - {q: "the pm?", expect: clarify}\n'
        '  - {q: "who decides whether we add offline mode", expect: project_manager}\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "eval", str(labelled))
    assert code == 0
    assert re.search(r"in-scope accuracy\s+50\.0%", out)
    assert re.search(
        r"wrong answers\s+50\.0%  \(1 of 2 answered: wrong role or out of scope\)", out
    )
    assert "reliability" in out and re.search(r"0\.9-1\.0\s+2\s+0\.9\d\d\s+50\.0%", out)
    assert re.search(r"out-of-scope rejected\s+100\.0%", out)
    assert "confusion" in out and "misses (1)" in out
    code, out, _ = run(capsys, "eval", "--json", str(labelled))
    assert json.loads(out)[str(labelled)]["accuracy"] == 0.5


def test_eval_bad_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text('questions:\n  - {q: "x", expect: ceo}\n', encoding="utf-8")
    code, _, err = run(capsys, "eval", str(labelled))
    assert code == 1 and "set.yaml:2" in err and "unknown expectation 'ceo'" in err


def test_console_script_runs_as_a_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "who owns the roadmap"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["role"] == "product_manager"


@pytest.mark.parametrize("names", ["program, project", "program and project", "program project"])
def test_roles_naming_two_roles_asks_for_one(
    capsys: pytest.CaptureFixture[str], names: str
) -> None:
    code, out, err = run(capsys, "roles", names)
    assert code == 1 and out == ""
    assert "Program Manager (program_manager)" in err
    assert "Project Manager (project_manager)" in err
    assert "name one" in err
    assert "technical_program_manager" not in err


@pytest.mark.parametrize(
    ("name", "title"),
    [("program", "Program Manager"), ("technical program", "Technical Program Manager")],
)
def test_roles_reads_short_names(capsys: pytest.CaptureFixture[str], name: str, title: str) -> None:
    code, out, _ = run(capsys, "roles", name)
    assert code == 0
    assert out.splitlines()[0].startswith(title)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (os.mkfifo, "named pipe (FIFO), not a regular file"),
        (lambda path: path.symlink_to("/dev/zero"), "character device, not a regular file"),
    ],
)
def test_kb_validate_refuses_special_files_at_once(
    knowledge_copy: Path, make: Callable[[Path], None], says: str
) -> None:
    make(knowledge_copy / "team.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "validate", str(knowledge_copy)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,  # a FIFO used to block here forever, /dev/zero to read until MemoryError
    )
    assert done.returncode == 1
    assert "team.yaml" in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr


def test_kb_validate_refuses_a_knowledge_base_without_entries(
    capsys: pytest.CaptureFixture[str], knowledge_copy: Path
) -> None:
    (knowledge_copy / "faq.yaml").unlink()
    code, _, err = run(capsys, "kb", "validate", str(knowledge_copy))
    assert code == 1 and "no FAQ entries" in err


def test_ask_reads_undecodable_bytes_and_invisible_characters() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "-"],
        input=b"who owns the \xff road\xe2\x80\x8bmap\n",
        capture_output=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.decode("utf-8"))
    assert data["question"] == "who owns the \ufffd roadmap"
    assert data["outcome"] == "answered" and data["role"] == "product_manager"
