"""The lock files: what the README's commands, CI and the image install.

A fresh clone must install the versions the tests passed with, so the README's two commands, CI
and the Dockerfile install from ``requirements/*.txt`` (every package pinned, with hashes), and
those files must still satisfy ``pyproject.toml`` (a dependency added there without running
``scripts/lock`` fails here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()
LOCKS = {
    "runtime": ("requirements/runtime.txt", ["postgres"]),
    "test": ("requirements/test.txt", ["test"]),
}


def _fenced_lines(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line.strip())
    return lines


def _readme_command(word: str) -> str:
    return next(line for line in _fenced_lines(README) if word in line)


def _pins(path: str) -> dict[str, list[tuple[str, Marker | None, list[str]]]]:
    """name -> [(version, marker, hashes)] from a pip-compile style lock."""
    text = (ROOT / path).read_text()
    pins: dict[str, list[tuple[str, Marker | None, list[str]]]] = {}
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\\", 1)[0].strip()
        if not first or first.startswith("#"):
            continue
        requirement, _, marker = first.partition(";")
        name, _, version = requirement.strip().partition("==")
        assert version, f"{path}: '{first}' is not pinned with =="
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        pins.setdefault(canonicalize_name(name), []).append(
            (version.strip(), Marker(marker) if marker.strip() else None, hashes)
        )
    return pins


def test_the_readme_test_command_is_what_ci_runs_word_for_word() -> None:
    command = _readme_command("pytest")
    assert command in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(("word", "lock"), [("pytest", "test"), ("rolebot ask", "runtime")])
def test_the_readme_commands_install_the_locks_with_their_hashes(word: str, lock: str) -> None:
    command = _readme_command(word)
    assert f"pip install --require-hashes -r {LOCKS[lock][0]}" in command
    assert "pip install --no-deps -e ." in command  # rolebot itself, nothing unlocked


def test_the_image_installs_the_runtime_lock_with_its_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/runtime.txt" in dockerfile
    assert "COPY requirements/runtime.txt" in dockerfile
    assert "--no-deps ." in dockerfile


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_locked_package_is_pinned_with_hashes(lock: str) -> None:
    for name, pins in _pins(LOCKS[lock][0]).items():
        for version, _marker, hashes in pins:
            assert hashes, f"{name}=={version} has no hash"


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_the_lock_satisfies_pyproject_for_python_3_11_on_linux(lock: str) -> None:
    """Every dependency pyproject declares (and its extra's) is locked within its range."""
    path, extras = LOCKS[lock]
    pins = _pins(path)
    environment = {
        "python_version": "3.11",
        "python_full_version": "3.11.9",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    declared = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        declared += PYPROJECT["project"]["optional-dependencies"][extra]
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but not in {path}: run scripts/lock"
        versions = [
            version
            for version, marker, _ in pins[name]
            if marker is None or marker.evaluate(environment)
        ]
        assert versions, f"{path} has no {name} for Python 3.11 on Linux: run scripts/lock"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{path} pins {name}=={version}, outside pyproject's '{requirement.specifier}': "
                "run scripts/lock"
            )
        for extra_name in requirement.extras:  # psycopg[binary] -> psycopg-binary
            assert canonicalize_name(f"{name}-{extra_name}") in pins
