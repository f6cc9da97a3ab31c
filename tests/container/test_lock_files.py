"""The lock files: what the README's commands, CI and the image install.

A fresh clone must install the versions the tests passed with, so the README's two commands, CI
and the Dockerfile install from ``requirements/*.txt`` (every package pinned, with hashes), and
those files must still satisfy ``pyproject.toml`` (a dependency added there without running
``scripts/lock`` fails here). The build backend is locked too: both files pin pyproject's
``[build-system]`` requirements, and rolebot is built with them (``--no-build-isolation``)
rather than with whatever the index offers that day."""

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
DOCKERFILE = (ROOT / "Dockerfile").read_text()
LOCKS = {
    "runtime": ("requirements/runtime.txt", ["postgres"]),
    "test": ("requirements/test.txt", ["test"]),
}
BUILD_REQUIRES = [Requirement(line) for line in PYPROJECT["build-system"]["requires"]]
LINUX_PY311 = {
    "python_version": "3.11",
    "python_full_version": "3.11.9",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
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


def _requirement_lines(path: str) -> list[str]:
    lines = (ROOT / path).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _dockerfile_runs() -> list[str]:
    """The Dockerfile's RUN instructions, continuation lines joined and comments dropped."""
    lines = DOCKERFILE.splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    joined = re.sub(r"\\\n", " ", text)
    return [line.strip()[4:] for line in joined.splitlines() if line.strip().startswith("RUN ")]


def test_the_readme_test_command_is_what_ci_runs_word_for_word() -> None:
    command = _readme_command("pytest")
    assert command in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(("word", "lock"), [("pytest", "test"), ("rolebot ask", "runtime")])
def test_the_readme_commands_install_the_locks_with_their_hashes(word: str, lock: str) -> None:
    command = _readme_command(word)
    assert f"pip install --require-hashes -r {LOCKS[lock][0]}" in command
    # rolebot itself, nothing unlocked: no dependency, and no build backend fetched for an
    # isolated build (the lock just installed hatchling)
    assert "pip install --no-deps --no-build-isolation -e ." in command
    assert command.index("--require-hashes") < command.index("--no-build-isolation")


def test_the_image_installs_the_runtime_lock_with_its_hashes() -> None:
    assert "--require-hashes -r requirements/runtime.txt" in DOCKERFILE
    assert "COPY requirements/runtime.txt" in DOCKERFILE


def test_the_image_builds_rolebot_with_the_locked_backend_and_leaves_it_behind() -> None:
    """The builder installs hatchling only from the wheels made from the hashed lock, builds
    rolebot's wheel with it, and the runtime stage installs rolebot's requirements only."""
    builder, runtime = (
        next(run for run in _dockerfile_runs() if "/wheels" in run and marker in run)
        for marker in ("pip wheel", "from=builder")
    )
    steps = [step.strip() for step in builder.split("&&")]
    locked = steps.index(
        next(step for step in steps if "--require-hashes -r requirements/runtime.txt" in step)
    )
    backend = steps.index(
        next(step for step in steps if step.startswith("pip install") and "build.in" in step)
    )
    build = steps.index(
        next(step for step in steps if step.endswith("--no-deps --no-build-isolation ."))
    )
    assert locked < backend < build
    assert "--no-index --find-links=/wheels -r requirements/build.in" in steps[backend]
    assert "COPY requirements/runtime.txt requirements/build.in ./requirements/" in DOCKERFILE
    # the runtime stage: rolebot's wheel (with the PostgreSQL extra) and what it depends on
    assert "printf '%s[postgres]\\n' /wheels/rolebot-*.whl > /wheels/requirements.txt" in builder
    assert "--no-index --find-links=/wheels -r /wheels/requirements.txt" in runtime
    assert "requirements/runtime.txt" not in runtime


def test_the_build_input_names_pyprojects_build_system() -> None:
    """scripts/lock compiles requirements/build.in into both locks beside pyproject.toml."""
    named = [Requirement(line) for line in _requirement_lines("requirements/build.in")]
    for requirement in BUILD_REQUIRES:
        assert requirement in named, f"requirements/build.in does not name '{requirement}'"
    assert "pip compile pyproject.toml requirements/build.in" in (ROOT / "scripts/lock").read_text()


def _what_the_backend_asks_for(monkeypatch: pytest.MonkeyPatch) -> list[Requirement]:
    """pyproject's [build-system] requires, then what hatchling itself asks pip for to build
    rolebot's wheel and its editable install (PEP 517 and PEP 660 hooks, run in the checkout)."""
    from hatchling import build

    monkeypatch.chdir(ROOT)
    asked = build.get_requires_for_build_wheel() + build.get_requires_for_build_editable()
    return BUILD_REQUIRES + [Requirement(line) for line in asked]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_the_lock_pins_what_building_rolebot_needs_with_hashes(
    lock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = LOCKS[lock][0]
    pins = _pins(path)
    needed = _what_the_backend_asks_for(monkeypatch)
    assert {"hatchling", "editables"} <= {canonicalize_name(r.name) for r in needed}
    for requirement in needed:
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"{path} does not lock {name}, needed to build rolebot: add it to "
            "requirements/build.in and run scripts/lock"
        )
        for version, marker, hashes in pins[name]:
            assert marker is None, f"{path} locks {name} only where {marker}"
            assert hashes, f"{path} pins {name}=={version} without hashes"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{path} pins {name}=={version}, outside the build's '{requirement}': "
                "run scripts/lock"
            )


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
    environment = LINUX_PY311
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
