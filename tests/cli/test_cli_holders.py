"""`rolebot holders list|set|unset|import|history` on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "ROLEBOT_HASH_USER_IDS", "ROLEBOT_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, "holders", "list", "--format", "json")
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_set_list_unset_and_history(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "holders", "set", "--channel", "C0PAYMENTS", "product manager", "U0BOB0001"
    )
    assert (code, err) == (0, "")
    assert "C0PAYMENTS product_manager: U0BOB0001 (before: nobody)" in out
    run(
        capsys, "holders", "set", "--channel", "C0CORE", "tpm", "S0PLAT001,U0TINA001", "--by", "ops"
    )

    (first, second) = listed(capsys)
    assert (first["channel"], first["role"]) == ("C0CORE", "technical_program_manager")
    assert [h["id"] for h in first["holders"]] == ["S0PLAT001", "U0TINA001"]
    assert first["set_by"] == "cli:ops"
    assert (second["channel"], second["role"]) == ("C0PAYMENTS", "product_manager")

    code, out, _ = run(capsys, "holders", "list", "--channel", "C0PAYMENTS")
    assert code == 0 and "U0BOB0001" in out and "C0CORE" not in out
    code, out, _ = run(capsys, "holders", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["channel"], r["role"], r["ids"]) for r in rows] == [
        ("C0CORE", "technical_program_manager", "S0PLAT001 U0TINA001"),
        ("C0PAYMENTS", "product_manager", "U0BOB0001"),
    ]

    code, out, _ = run(capsys, "holders", "unset", "--channel", "C0PAYMENTS", "product_manager")
    assert code == 0 and "cleared (was U0BOB0001)" in out
    code, out, _ = run(capsys, "holders", "unset", "--channel", "C0PAYMENTS", "product_manager")
    assert code == 0 and "nothing changed" in out
    assert [r["channel"] for r in listed(capsys)] == ["C0CORE"]

    code, out, _ = run(capsys, "holders", "history", "--format", "json")
    history = json.loads(out)
    assert [(h["channel"], h["before"], h["after"], h["source"]) for h in history] == [
        ("C0PAYMENTS", ["U0BOB0001"], [], "cli"),
        ("C0CORE", [], ["S0PLAT001", "U0TINA001"], "cli"),
        ("C0PAYMENTS", [], ["U0BOB0001"], "cli"),
    ]
    code, out, _ = run(capsys, "holders", "history", "--channel", "C0CORE")
    assert "C0CORE" in out and "C0PAYMENTS" not in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--channel", "C0PAY", "pm", "U0BOB0001"], "role 'pm' could mean product_manager"),
        (["--channel", "C0PAY", "zebra", "U0BOB0001"], "unknown role 'zebra'"),
        (["--channel", "D0ALICE", "tpm", "U0BOB0001"], "'D0ALICE' is not a channel id"),
        (["--channel", "C0PAY", "tpm", "C0GENERAL"], "'C0GENERAL' is a channel id, not a person"),
        (["--channel", "C0PAY", "tpm", "bob"], "'bob' is not a person or group id"),
        (["--channel", "C0PAY", "tpm", *(f"U0P{n:06d}" for n in range(11))], "at most 10"),
    ],
)
def test_bad_set_is_one_line_and_changes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    code, out, err = run(capsys, "holders", "set", *argv)
    assert code == 1 and out == ""
    assert err.startswith("rolebot: error: ") and says in err
    assert len(err.strip().splitlines()) == 1
    assert listed(capsys) == []


def test_import_sets_every_row(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "holders.csv"
    path.write_text(
        "channel,role,ids\n"
        "C0PAYMENTS,product_manager,U0BOB0001\n"
        'C0PAYMENTS,tpm,"S0PLAT001, U0TINA001"\n'
        "\n"
        "C0CORE,Programme Manager,U0PAT0001;U0SAM0001\n"
    )
    code, out, err = run(capsys, "holders", "import", str(path))
    assert (code, err) == (0, "")
    assert "set 3 role(s) in 2 channel(s)" in out
    got = {(r["channel"], r["role"]): [h["id"] for h in r["holders"]] for r in listed(capsys)}
    assert got == {
        ("C0CORE", "program_manager"): ["U0PAT0001", "U0SAM0001"],
        ("C0PAYMENTS", "product_manager"): ["U0BOB0001"],
        ("C0PAYMENTS", "technical_program_manager"): ["S0PLAT001", "U0TINA001"],
    }


def test_import_with_bad_rows_names_each_line_and_changes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "holders", "set", "--channel", "C0KEEP", "tpm", "U0KEEP001")
    path = env / "bad.csv"
    path.write_text(
        "channel,role,ids\n"
        "C0PAYMENTS,product_manager,U0BOB0001\n"
        "C0PAYMENTS,zebra,U0BOB0001\n"
        "D0ALICE,tpm,U0BOB0001\n"
        "C0CORE,tpm,<!channel>\n"
        "C0CORE,project manager,\n"
        "C0PAYMENTS,product manager,U0OTHER01\n"
        "C0KEEP,tpm,C0GENERAL\n"
    )
    code, out, err = run(capsys, "holders", "import", str(path))
    assert code == 1 and out == ""
    assert "6 bad rows, nothing changed" in err
    for line, says in [
        (3, "unknown role 'zebra'"),
        (4, "'D0ALICE' is not a channel id"),
        (5, "'<!channel>' is not a person or group id"),
        (6, "no ids"),
        (7, "already set on line 2"),
        (8, "'C0GENERAL' is a channel id"),
    ]:
        assert f"{path}:{line}: " in err and says in err
    assert f"{path}:2:" not in err
    assert [(r["channel"], r["role"]) for r in listed(capsys)] == [
        ("C0KEEP", "technical_program_manager")
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("channel,ids\nC0A,U0BOB0001\n", ":1: missing column(s) role"),
        ("channel,role,ids\n", "no rows"),
        (b"\xff\xfe\x00bad", "cannot read it"),
    ],
)
def test_import_of_an_unusable_file_says_why(
    env: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, says: str
) -> None:
    path = env / "x.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    code, _, err = run(capsys, "holders", "import", str(path))
    assert code == 1 and says in err


def test_importing_a_missing_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "holders", "import", str(env / "nope.csv"))
    assert code == 1 and "nope.csv: cannot read it" in err


def test_invisible_characters_pasted_into_ids_are_removed(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ids copied from a chat or a spreadsheet can carry zero-width or bidi characters, which
    the error would echo invisibly ("'U0BOB0001' is not a person id"): they are dropped, as
    everywhere else text comes in."""
    code, out, err = run(
        capsys,
        "holders",
        "set",
        "--channel",
        "C0PAY\u200bMENTS",
        "product\u00ad manager",
        "\u2066U0BOB\u200b0001\u2069",
    )
    assert (code, err) == (0, "")
    assert "C0PAYMENTS product_manager: U0BOB0001 (before: nobody)" in out
    (env / "holders.csv").write_text(
        "channel,role,ids\n\ufeffC0CORE\u200b,tpm,U0TINA\u2060001 \u202aS0PLAT001\u202c\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "holders", "import", str(env / "holders.csv"))
    assert (code, err) == (0, "")
    assert [(h["channel"], [p["id"] for p in h["holders"]]) for h in listed(capsys)] == [
        ("C0CORE", ["U0TINA001", "S0PLAT001"]),
        ("C0PAYMENTS", ["U0BOB0001"]),
    ]
