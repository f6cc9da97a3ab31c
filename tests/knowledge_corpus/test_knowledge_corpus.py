"""Malformed knowledge, file by file: refused with a clear message, never half-loaded.

Every case (see README.md) is dropped next to a copy of the bundled knowledge and must give a
:class:`KnowledgeError` whose problem names the file, the line, the entry and field where they
apply, and the fix; quickly, and with little memory, however hostile the file. A running engine
keeps its knowledge when the case appears, and ``rolebot kb validate`` lists the problems.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.engine import Engine
from bot.core.knowledge import Knowledge, bundled_knowledge_dir, load_knowledge
from bot.core.knowledge.loader import MAX_DEPTH, MAX_FILE_BYTES
from bot.errors import KnowledgeError, Problem

CORPUS = Path(__file__).resolve().parent
CASES = CORPUS / "cases"
ALLOWED = CORPUS / "allowed"
KEYS = ("expect", "file", "line", "entry", "field", "fix", "problems")
_HEADER = re.compile(rb"^# (" + "|".join(KEYS).encode() + rb"): (.*)$")

LOAD_SECONDS = 3.0
"""The bundled knowledge loads in about 0.1 s; no case may take much longer."""
PEAK_BYTES = 64_000_000
"""Memory (Python allocations) a hostile case may use while loading."""
VOLUME = frozenset(
    {
        "alias-bomb.yaml",
        "self-referencing-alias.yaml",
        "merge-key.yaml",
        "nested-too-deep.yaml",
        "huge-number.yaml",
        "huge.yaml",
        "deep.yaml",
        "diagram.yaml",
    }
)
"""Cases built to exhaust memory or time: their memory use is measured too."""


@dataclass(frozen=True)
class Expected:
    """What the problem must say, read from a case's header lines (see README.md)."""

    expect: str
    file: str
    line: str
    entry: str
    field: str
    fix: str
    problems: int = 1


def read_header(path: Path) -> dict[str, str]:
    header: dict[str, str] = {}
    for raw in path.read_bytes().split(b"\n"):
        found = _HEADER.match(raw)
        if found is None:
            break
        header[found.group(1).decode()] = found.group(2).decode("ascii").strip()
    return header


def expectations(case: Path) -> Expected:
    files = [case] if case.is_file() else sorted(case.iterdir())
    headed = [(f, h) for f in files if (h := read_header(f))]
    assert len(headed) == 1, f"{case.name}: exactly one file must carry the expectations"
    path, header = headed[0]
    missing = {"expect", "line", "entry", "field", "fix"} - set(header)
    assert not missing, f"{case.name}: header lacks {sorted(missing)}"
    return Expected(
        expect=header["expect"],
        file=header.get("file", path.name),
        line=header["line"],
        entry=header["entry"],
        field=header["field"],
        fix=header["fix"],
        problems=int(header.get("problems", "1")),
    )


# ---------------------------------------------------------------------- generated cases
def _huge(folder: Path) -> None:
    entry = (
        b"  - id: generated-%d\n    questions:\n      - who owns generated thing %d\n"
        b"    owner: project_manager\n    distinction: how\n    answer: One project.\n"
    )
    body = b"entries:\n" + b"".join(entry % (n, n) for n in range(40_000))
    assert len(body) > 5_000_000 > MAX_FILE_BYTES
    (folder / "huge.yaml").write_bytes(body[:5_200_000])


def _binary(folder: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    (folder / "diagram.yaml").write_bytes(png)


def _utf16(folder: Path) -> None:
    (folder / "windows.yaml").write_bytes("entries: []\n".encode("utf-16"))


def _deep(folder: Path) -> None:
    (folder / "deep.yaml").write_text("entries: " + "[" * 200_000 + "]" * 200_000 + "\n")


def _folder(folder: Path) -> None:
    (folder / "drafts.yaml").mkdir()
    (folder / "drafts.yaml" / "note.txt").write_text("work in progress\n")


def _dangling(folder: Path) -> None:
    (folder / "old.yaml").symlink_to(folder / "gone" / "old.yaml")


_NO_SUCH = os.strerror(2)

GENERATED: dict[str, tuple[Callable[[Path], None], Expected]] = {
    "huge.yaml": (
        _huge,
        Expected(
            "the file is 5.2 MB, over the limit of 2 MB for one knowledge file",
            "huge.yaml",
            "-",
            "-",
            "-",
            "split it into several .yaml files in the folder, or move it out if it is not "
            "knowledge",
        ),
    ),
    "diagram.yaml": (
        _binary,
        Expected(
            "not UTF-8 text (invalid start byte at byte 0)",
            "diagram.yaml",
            "1",
            "-",
            "-",
            "save the file as UTF-8 text",
        ),
    ),
    "windows.yaml": (
        _utf16,
        Expected("not UTF-8 text", "windows.yaml", "1", "-", "-", "save the file as UTF-8 text"),
    ),
    "deep.yaml": (
        _deep,
        Expected(
            f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
            "deep.yaml",
            "1",
            "-",
            "-",
            "knowledge needs four levels at most: look for unclosed brackets or runaway "
            "indentation",
        ),
    ),
    "drafts.yaml": (
        _folder,
        Expected(
            "cannot be read (",
            "drafts.yaml",
            "-",
            "-",
            "-",
            "make it a readable file, or move it out of the knowledge folder",
        ),
    ),
    "old.yaml": (
        _dangling,
        Expected(
            f"cannot be read ({_NO_SUCH})",
            "old.yaml",
            "-",
            "-",
            "-",
            "make it a readable file, or move it out of the knowledge folder",
        ),
    ),
}

STATIC = sorted(p.name for p in CASES.iterdir())
ALL_CASES = [*STATIC, *GENERATED]


def install(name: str, folder: Path) -> list[Path]:
    """Put case ``name`` into ``folder``; returns the paths it wrote."""
    if name in GENERATED:
        before = set(folder.iterdir())
        GENERATED[name][0](folder)
        return sorted(set(folder.iterdir()) - before)
    case = CASES / name
    written: list[Path] = []
    for source in [case] if case.is_file() else sorted(case.iterdir()):
        target = folder / source.name
        shutil.copyfile(source, target)
        written.append(target)
    return written


def expected_for(name: str) -> Expected:
    return GENERATED[name][1] if name in GENERATED else expectations(CASES / name)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(bundled_knowledge_dir(), target)
    return target


def refuse(folder: Path, *, trace: bool) -> tuple[KnowledgeError, float, int]:
    """Load ``folder``, which must fail: the error, the seconds it took, the memory peak."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(folder)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        if trace:
            tracemalloc.stop()
    return info.value, elapsed, peak


def the_problem(error: KnowledgeError, expected: Expected) -> Problem:
    found = [p for p in error.problems if expected.expect in p.message]
    assert found, f"no problem says {expected.expect!r}:\n{error}"
    if expected.entry != "-":
        found = [p for p in found if p.entry == expected.entry] or found
    return found[0]


# ---------------------------------------------------------------------- the corpus itself
def test_the_corpus_is_large_and_every_case_has_expectations() -> None:
    assert len(STATIC) >= 25
    assert len(ALL_CASES) >= 40
    assert set(VOLUME) <= set(ALL_CASES)
    for name in STATIC:
        expectations(CASES / name)  # raises when the header is missing or incomplete
    suffixes = {p.suffix for p in CASES.rglob("*") if p.is_file()}
    assert suffixes <= {".yaml", ".yml"}, suffixes


# ---------------------------------------------------------------------- loading
@pytest.mark.parametrize("name", ALL_CASES)
def test_a_malformed_file_is_refused_with_a_clear_message(folder: Path, name: str) -> None:
    expected = expected_for(name)
    install(name, folder)
    error, elapsed, _ = refuse(folder, trace=False)
    assert elapsed < LOAD_SECONDS, f"{name}: loading took {elapsed:.1f} s"
    if name in VOLUME:  # the hostile file alone, traced: its own cost, not the bundled FAQ's
        alone = folder.parent / "alone"
        alone.mkdir()
        install(name, alone)
        _, _, peak = refuse(alone, trace=True)
        assert peak < PEAK_BYTES, f"{name}: loading used {peak / 1e6:.0f} MB"
    assert len(error.problems) == expected.problems, str(error)
    problem = the_problem(error, expected)
    shown = str(problem)
    assert "\n" not in shown
    assert Path(problem.file).name == expected.file, shown
    if expected.line == "-":
        assert problem.line is None, shown
    elif expected.line == "any":
        assert problem.line is not None, shown
    else:
        assert problem.line == int(expected.line), shown
        assert f"{expected.file}:{expected.line}" in shown
    assert problem.entry == (None if expected.entry == "-" else expected.entry), shown
    assert problem.field == (None if expected.field == "-" else expected.field), shown
    if expected.fix == "-":
        assert not problem.fix, shown
    else:
        assert problem.fix == expected.fix, shown
        assert shown.endswith(f"(fix: {expected.fix})")
    assert f"  {shown}" in str(error).splitlines()


@pytest.mark.parametrize("path", sorted(ALLOWED.iterdir()), ids=lambda p: p.name)
def test_an_empty_or_comment_only_file_is_allowed(
    folder: Path, knowledge: Knowledge, path: Path
) -> None:
    shutil.copyfile(path, folder / path.name)
    loaded = load_knowledge(folder)
    assert [e.id for e in loaded.entries] == [e.id for e in knowledge.entries]
    assert list(loaded.roles) == list(knowledge.roles)


# ---------------------------------------------------------------------- a running engine
@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """One engine over a copy of the bundled knowledge, as the Slack app runs it."""
    folder = tmp_path_factory.mktemp("running") / "knowledge"
    shutil.copytree(bundled_knowledge_dir(), folder)
    yield Engine(folder), folder


@contextmanager
def dropped_in(name: str, folder: Path) -> Iterator[None]:
    """Case ``name`` in ``folder`` for the duration; the folder is restored afterwards."""
    written = install(name, folder)
    try:
        yield
    finally:
        bundled = bundled_knowledge_dir()
        for path in written:
            if path.is_symlink() or path.is_file():
                path.unlink()
            else:
                shutil.rmtree(path)
            if (bundled / path.name).is_file():
                shutil.copyfile(bundled / path.name, path)


@pytest.mark.parametrize("name", ALL_CASES)
def test_a_running_engine_keeps_its_knowledge(running: tuple[Engine, Path], name: str) -> None:
    engine, folder = running
    before = engine.knowledge
    question = before.entries[0].questions[0]
    with dropped_in(name, folder):
        result = engine.reload()
        assert result.error is not None and not result.changed
        assert the_problem(result.error, expected_for(name))
        assert engine.knowledge is before  # nothing of the bad file got in
        answer = engine.ask(question)
        assert answer.entry is not None and answer.entry.id == before.entries[0].id
    # Restored for the next case: the bundled files again, and nothing else.
    bundled = bundled_knowledge_dir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in bundled.iterdir())
    assert all(p.read_bytes() == (bundled / p.name).read_bytes() for p in folder.iterdir())


# ---------------------------------------------------------------------- rolebot kb validate
@pytest.mark.parametrize("name", ALL_CASES)
def test_kb_validate_lists_every_problem(
    folder: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = expected_for(name)
    install(name, folder)
    assert main(["kb", "validate", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    head, *lines = err.splitlines()
    count = expected.problems
    assert head == f"rolebot: {count} problem{'s' if count != 1 else ''} in the knowledge base"
    assert len(lines) == count, err
    assert all(line.startswith("  ") for line in lines), err
    assert any(expected.expect in line and expected.file in line for line in lines), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "name",
    [
        "deep.yaml",
        "alias-bomb.yaml",
        "reviewed-impossible-date.yaml",
        "number-as-top-level-key.yaml",
    ],
)
def test_kb_validate_in_a_real_process(folder: Path, name: str) -> None:
    """Cases that once crashed the process (a segfault, a hang, tracebacks) now exit 1."""
    install(name, folder)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "validate", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    head, *lines = done.stderr.splitlines()
    assert head.startswith("rolebot: ") and len(lines) == expected_for(name).problems
    assert expected_for(name).expect in done.stderr
