"""Where the knowledge lives: a configured folder, or the bundled one."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parents[2]


def bundled_knowledge_dir() -> Path:
    """The knowledge shipped with rolebot: inside the wheel, or the checkout's ``knowledge/``."""
    for candidate in (_PACKAGE / "_bundled" / "knowledge", _PACKAGE.parent / "knowledge"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(  # pragma: no cover - only a broken installation gets here
        "the bundled knowledge folder is missing from this installation; "
        "reinstall rolebot or set ROLEBOT_KNOWLEDGE_DIR"
    )


def resolve_knowledge_dir(configured: Path | None) -> Path:
    """The configured folder (``ROLEBOT_KNOWLEDGE_DIR``, ``--knowledge``), else the bundled one."""
    if configured is None:
        return bundled_knowledge_dir()
    if not configured.is_dir():
        raise ConfigError(
            f"ROLEBOT_KNOWLEDGE_DIR: '{configured}' is not a folder "
            "(point it at a folder of knowledge YAML files, or unset it to use the bundled one)"
        )
    return configured
