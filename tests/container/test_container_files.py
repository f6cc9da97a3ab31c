"""The container files, without a container engine: the Dockerfile, .dockerignore, compose.yaml,
and the scripts baked into the image (entry point, health check, self-check) run from the
checkout. ``.ci/run`` builds the image and runs the self-check inside it."""

from __future__ import annotations

import fnmatch
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE = (ROOT / "Dockerfile").read_text()
VENV_BIN = Path(sys.executable).parent


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


# ---------------------------------------------------------------------- Dockerfile
def test_dockerfile_builds_on_python_slim_in_two_stages() -> None:
    froms = [rest for keyword, rest in _instructions() if keyword == "FROM"]
    assert froms == ["python:3.11-slim AS builder", "python:3.11-slim"]


def test_dockerfile_label_version_is_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"ARG VERSION={version}" in DOCKERFILE


def test_dockerfile_runs_unprivileged_and_serves_port_3000() -> None:
    instructions = dict(_instructions())
    assert instructions["USER"] == "10001:10001"
    assert instructions["EXPOSE"] == "3000"
    assert instructions["WORKDIR"] == "/app"
    assert instructions["VOLUME"] == '["/app/data"]'
    # tini as PID 1 forwards SIGTERM/SIGINT to rolebot and reaps orphans
    assert instructions["ENTRYPOINT"] == '["/usr/bin/tini", "--", "rolebot-entrypoint"]'
    assert instructions["HEALTHCHECK"].endswith('CMD ["rolebot-healthcheck"]')
    assert "ROLEBOT_DATA_DIR=/app/data" in instructions["ENV"]


def test_dockerfile_installs_from_wheels_whose_hashes_key_the_layer() -> None:
    """The wheels are bind-mounted into the final stage; the hash list copied just before the
    install makes a changed wheel rebuild that layer on every builder."""
    instructions = _instructions()
    install = next(
        i for i, (keyword, rest) in enumerate(instructions)
        if keyword == "RUN" and "from=builder" in rest
    )  # fmt: skip
    rest = instructions[install][1]
    assert "--no-index" in rest and "--no-cache-dir" in rest and "sha256sum --check" in rest
    assert instructions[install - 1] == (
        "COPY",
        "--from=builder /wheels/SHA256SUMS /usr/local/share/rolebot/wheels.sha256",
    )


def test_dockerfile_copies_only_what_exists() -> None:
    for keyword, rest in _instructions():
        if keyword != "COPY" or "--from" in rest:
            continue
        *sources, _target = [part for part in rest.split() if not part.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing"


# ---------------------------------------------------------------------- .dockerignore
def _ignored(path: str) -> bool:
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").removeprefix("**/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes + parts):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [".env", ".env.production", ".git/config", ".venv/bin/python", "tests/conftest.py",
     "benchmarks/match_speed.py", "data/rolebot.db", "rolebot.db", "bot/__pycache__/x.pyc",
     ".mypy_cache/x", "dist/rolebot.whl"],
)  # fmt: skip
def test_dockerignore_keeps_out(path: str) -> None:
    assert _ignored(path)


@pytest.mark.parametrize(
    "path",
    ["pyproject.toml", "README.md", "bot/__init__.py", "knowledge/faq.yaml",
     "migrations/env.py", "docker/entrypoint.sh", "docker/selfcheck.py", ".env.example"],
)  # fmt: skip
def test_dockerignore_keeps_the_build_inputs(path: str) -> None:
    assert not _ignored(path)


# ---------------------------------------------------------------------- compose.yaml
def test_compose_runs_rolebot_on_a_healthy_postgres() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    db, bot = compose["services"]["db"], compose["services"]["rolebot"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["env_file"] == ".env"
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://rolebot:")
    assert "@db:5432/rolebot" in bot["environment"]["DATABASE_URL"]
    assert bot["ports"] == ["3000:3000"]
    assert "data:/app/data" in bot["volumes"]
    assert set(compose["volumes"]) == {"postgres", "data"}
    text = (ROOT / "compose.yaml").read_text()
    assert "# - ./knowledge:/app/knowledge:ro" in text
    assert "# ROLEBOT_KNOWLEDGE_DIR: /app/knowledge" in text


# ---------------------------------------------------------------------- the entry point
@pytest.mark.parametrize("script", ["entrypoint.sh", "healthcheck.py", "selfcheck.py"])
def test_scripts_are_executable(script: str) -> None:
    assert (DOCKER / script).stat().st_mode & stat.S_IXUSR


FAKE_ROLEBOT = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in "db upgrade") exit "${UPGRADE_STATUS:-0}" ;; esac
"""


def _entrypoint(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[str], str]:
    """Run the entry point with a stand-in ``rolebot`` that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "rolebot"
    fake.write_text(FAKE_ROLEBOT)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROLEBOT_") and k != "PORT"}
    base.update(PATH=f"{bin_dir}:{os.environ['PATH']}", CALLS=str(calls), **env)
    result = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, recorded, result.stderr


def test_entrypoint_migrates_then_serves_http_on_3000(tmp_path: Path) -> None:
    code, calls, _ = _entrypoint(tmp_path)
    assert code == 0
    assert calls == ["db upgrade", "serve --host 0.0.0.0 --port 3000"]


def test_entrypoint_port_host_and_options(tmp_path: Path) -> None:
    assert _entrypoint(tmp_path, PORT="8080")[1][-1] == "serve --host 0.0.0.0 --port 8080"
    _, calls, _ = _entrypoint(tmp_path, "--workers", "4", ROLEBOT_PORT="9000", PORT="8080")
    assert calls[-1] == "serve --host 0.0.0.0 --port 9000 --workers 4"
    assert _entrypoint(tmp_path, ROLEBOT_HOST="127.0.0.1")[1][-1].startswith(
        "serve --host 127.0.0.1 "
    )


def test_entrypoint_socket_mode(tmp_path: Path) -> None:
    code, calls, _ = _entrypoint(tmp_path, ROLEBOT_MODE=" Socket ")
    assert code == 0
    assert calls == ["db upgrade", "run"]


def test_entrypoint_rejects_an_unknown_mode(tmp_path: Path) -> None:
    code, calls, err = _entrypoint(tmp_path, ROLEBOT_MODE="websocket")
    assert code == 1
    assert calls == []
    assert err.strip() == (
        "rolebot: error: ROLEBOT_MODE: must be 'http' or 'socket', got 'websocket'"
    )


def test_entrypoint_stops_when_the_migration_fails(tmp_path: Path) -> None:
    code, calls, _ = _entrypoint(tmp_path, UPGRADE_STATUS="1")
    assert code == 1
    assert calls == ["db upgrade"]


def test_entrypoint_runs_a_given_command_instead(tmp_path: Path) -> None:
    code, calls, _ = _entrypoint(tmp_path, "rolebot", "ask", "who owns the roadmap?")
    assert code == 0
    assert calls == ["ask who owns the roadmap?"]


# ---------------------------------------------------------------------- the health check
@pytest.fixture
def health_server() -> Iterator[tuple[int, list[int]]]:
    """A loopback server answering /healthz with the status at the head of the list."""
    statuses = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[0] if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield int(server.server_address[1]), statuses
    server.shutdown()
    server.server_close()


def _healthcheck(**env: str) -> int:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROLEBOT_") and k != "PORT"}
    base.update(env)
    command = [sys.executable, str(DOCKER / "healthcheck.py")]
    result = subprocess.run(command, env=base, capture_output=True, timeout=30, check=False)
    return result.returncode


def test_healthcheck_follows_healthz(health_server: tuple[int, list[int]]) -> None:
    port, statuses = health_server
    assert _healthcheck(PORT=str(port)) == 0
    assert _healthcheck(ROLEBOT_PORT=str(port), PORT="1") == 0
    assert _healthcheck(PORT=str(port), HTTP_PROXY="http://127.0.0.1:1") == 0
    statuses[0] = 503
    assert _healthcheck(PORT=str(port)) == 1


def test_healthcheck_fails_without_a_server_and_passes_in_socket_mode() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        unused = str(sock.getsockname()[1])
    assert _healthcheck(PORT=unused) == 1
    assert _healthcheck(PORT=unused, ROLEBOT_MODE="socket") == 0


# ---------------------------------------------------------------------- the self-check
@pytest.mark.timeout(180)
def test_selfcheck_passes_from_the_checkout(tmp_path: Path) -> None:
    """The in-image self-check, run against this checkout's ``rolebot`` (image checks off)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rolebot-entrypoint").symlink_to(DOCKER / "entrypoint.sh")
    (bin_dir / "rolebot-healthcheck").symlink_to(DOCKER / "healthcheck.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLEBOT_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        PATH=os.pathsep.join([str(bin_dir), str(VENV_BIN), os.environ["PATH"]]),
        ROLEBOT_DATA_DIR=str(tmp_path / "data"),
    )
    process = subprocess.Popen(
        [sys.executable, str(DOCKER / "selfcheck.py"), "--outside-image", "--timeout", "60"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate()
    assert process.returncode == 0, out + err
    assert "all checks passed" in out
