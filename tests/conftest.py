"""Shared fixtures: the bundled knowledge and an engine over it, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.core.knowledge import Knowledge, bundled_knowledge_dir, load_knowledge

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def knowledge_dir() -> Path:
    return bundled_knowledge_dir()


@pytest.fixture(scope="session")
def knowledge(knowledge_dir: Path) -> Knowledge:
    return load_knowledge(knowledge_dir)


@pytest.fixture(scope="session")
def engine(knowledge_dir: Path) -> Engine:
    return Engine(knowledge_dir)


@pytest.fixture
def knowledge_copy(tmp_path: Path, knowledge_dir: Path) -> Path:
    """A writable copy of the bundled knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir, target)
    return target
