"""A normal (non-editable) install into a fresh virtual environment finds its bundled files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_wheel_install_finds_bundled_knowledge(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLEBOT_")}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rolebot = venv / "bin" / "rolebot"
    asked = subprocess.run(
        [str(rolebot), "ask", "--json", "who decides whether we add offline mode?"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=False,
    )
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["role"] == "product_manager"
    validated = subprocess.run(
        [str(rolebot), "kb", "validate"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=False,
    )
    assert validated.returncode == 0, validated.stderr
    assert "site-packages" in validated.stdout and "_bundled" in validated.stdout
    assert str(ROOT) not in validated.stdout
    # The editors' JSON Schema travels with the knowledge, and the installed code regenerates
    # exactly what is bundled.
    schema = subprocess.run(
        [str(rolebot), "kb", "schema", "--output", "_bundled"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=False,
    )
    assert schema.returncode == 0, schema.stderr
    located = subprocess.run(
        [
            str(python),
            "-c",
            "from bot.core.knowledge import bundled_knowledge_dir; print(bundled_knowledge_dir())",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=True,
    )
    bundled_schema = Path(located.stdout.strip()) / "knowledge.schema.json"
    assert "site-packages" in str(bundled_schema)
    assert bundled_schema.read_text(encoding="utf-8") == (elsewhere / "_bundled").read_text(
        encoding="utf-8"
    )
