"""Configuration: read once, from the environment (and an optional ``.env`` file), in one place.

Every variable is documented in ``.env.example``. Slack's own names and ``DATABASE_URL`` keep
their conventional spelling; everything else is prefixed ``ROLEBOT_``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from bot.core.ids import CHANNEL_ID, USER_ID
from bot.errors import ConfigError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
_COMMAND = re.compile(r"^/[a-z0-9_-]{1,31}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")

RunMode = Literal["socket", "http"]
_Getter = Callable[[str], str | None]


@dataclass(frozen=True)
class Thresholds:
    """Matcher decision thresholds, on the 0-100 score scale.

    Chosen on ``tests/eval/questions.yaml`` (see the README's evaluation section).
    """

    answer: float = 66.0
    """A best entry at or above this score is an answer."""
    margin: float = 6.0
    """A different role within this many points of the best makes it a close call."""
    suggest: float = 40.0
    """Entries at or above this score are offered as "nearest" when unanswered."""
    max_wrong_rate: float = 0.01
    """The operator's target: at most this share of answers may be wrong. It picks the
    calibrated confidence an answer needs (see ``bot/core/matching/calibration.py``)."""

    def __post_init__(self) -> None:
        for name in ("answer", "suggest"):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ConfigError(f"threshold '{name}' must be between 0 and 100, got {value}")
        if not 0 <= self.margin <= 50:
            raise ConfigError(f"threshold 'margin' must be between 0 and 50, got {self.margin}")
        if not 0 <= self.max_wrong_rate <= 1:
            raise ConfigError(
                f"ROLEBOT_MAX_WRONG_RATE must be between 0 and 1 (0.01 is 1 %), "
                f"got {self.max_wrong_rate}"
            )


@dataclass(frozen=True)
class Settings:
    """Everything rolebot can be configured with. Build with :meth:`from_env`."""

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str | None = None
    knowledge_dir: Path | None = None
    data_dir: Path = Path("data")
    thresholds: Thresholds = field(default_factory=Thresholds)
    curators: frozenset[str] = frozenset()
    command: str = "/role"
    hash_user_ids: bool = False
    hash_key: str | None = None
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    log_message_text: bool = False
    mode: RunMode = "http"
    reload_interval: float = 2.0
    host: str = "0.0.0.0"
    """``rolebot serve``: the address to listen on."""
    port: int = 3000
    """``rolebot serve``: the port (``ROLEBOT_PORT``, else ``PORT`` as hosting platforms set it)."""
    workers: int = 2
    """``rolebot serve``: worker processes, each with its own engine and database connections."""
    holders_editors: Literal["anyone", "curators"] = "anyone"
    """Who may change a channel's role holders (``/role set``, ``/role unset``)."""
    holders_notify: bool = True
    """Answers mention role holders (notifying them), or name them without a notification."""
    semantic: Literal["auto", "off"] = "auto"
    """``auto``: build the semantic index when the ``semantic`` extra is installed."""
    curator_channel: str | None = None
    """A channel id: each new unanswered question is posted there for curators (optional)."""

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        dotenv_path: Path | None = Path(".env"),
    ) -> Settings:
        """Read the settings. Values in ``environ`` win over the ``.env`` file."""
        env: dict[str, str] = {}
        if dotenv_path is not None and dotenv_path.is_file():
            env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        env.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        thresholds = Thresholds(
            answer=_number(get, "ROLEBOT_ANSWER_THRESHOLD", Thresholds.answer, 0, 100),
            margin=_number(get, "ROLEBOT_CLOSE_CALL_MARGIN", Thresholds.margin, 0, 50),
            suggest=_number(get, "ROLEBOT_SUGGEST_THRESHOLD", Thresholds.suggest, 0, 100),
            max_wrong_rate=_number(get, "ROLEBOT_MAX_WRONG_RATE", Thresholds.max_wrong_rate, 0, 1),
        )
        curators = frozenset(
            part.strip() for part in (get("ROLEBOT_CURATORS") or "").split(",") if part.strip()
        )
        for user in curators:
            if not USER_ID.match(user):
                raise ConfigError(
                    f"ROLEBOT_CURATORS: '{user}' is not a Slack user id (like U0123ABCD); "
                    "give a comma-separated list of user ids"
                )
        command = get("ROLEBOT_COMMAND") or "/role"
        if not _COMMAND.match(command):
            raise ConfigError(
                f"ROLEBOT_COMMAND: '{command}' is not a slash command name (like /role)"
            )
        api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not re.match(r"^https?://", api_url):
            raise ConfigError(
                f"SLACK_API_URL: '{api_url}' is not an http(s) URL "
                f"(default {DEFAULT_SLACK_API_URL})"
            )
        if not api_url.endswith("/"):
            api_url += "/"
        log_format = (get("ROLEBOT_LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            raise ConfigError(f"ROLEBOT_LOG_FORMAT: must be 'text' or 'json', got '{log_format}'")
        log_level = (get("ROLEBOT_LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(
                f"ROLEBOT_LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR, got '{log_level}'"
            )
        mode = (get("ROLEBOT_MODE") or "http").lower()
        if mode not in ("socket", "http"):
            raise ConfigError(f"ROLEBOT_MODE: must be 'http' or 'socket', got '{mode}'")
        hash_ids = _flag(get, "ROLEBOT_HASH_USER_IDS")
        hash_key = get("ROLEBOT_HASH_KEY")
        if hash_ids and not hash_key:
            raise ConfigError(
                "ROLEBOT_HASH_KEY: required when ROLEBOT_HASH_USER_IDS is on "
                "(a long random secret: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        knowledge = get("ROLEBOT_KNOWLEDGE_DIR")
        editors = (get("ROLEBOT_HOLDERS_EDITORS") or "anyone").lower()
        if editors not in ("anyone", "curators"):
            raise ConfigError(
                f"ROLEBOT_HOLDERS_EDITORS: must be 'anyone' or 'curators', got '{editors}'"
            )
        notify = get("ROLEBOT_HOLDERS_NOTIFY")
        semantic = (get("ROLEBOT_SEMANTIC") or "auto").lower()
        if semantic not in ("auto", "off"):
            raise ConfigError(f"ROLEBOT_SEMANTIC: must be 'auto' or 'off', got '{semantic}'")
        curator_channel = get("ROLEBOT_CURATOR_CHANNEL")
        if curator_channel is not None and not CHANNEL_ID.match(curator_channel):
            raise ConfigError(
                f"ROLEBOT_CURATOR_CHANNEL: '{curator_channel}' is not a channel id (like "
                "C0123ABCD, shown at the bottom of the channel's details in Slack); leave it "
                "unset to turn the curators' channel off"
            )
        return cls(
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=api_url,
            database_url=get("DATABASE_URL"),
            knowledge_dir=Path(knowledge) if knowledge else None,
            data_dir=Path(get("ROLEBOT_DATA_DIR") or "data"),
            thresholds=thresholds,
            curators=curators,
            command=command,
            hash_user_ids=hash_ids,
            hash_key=hash_key,
            log_format=log_format,  # type: ignore[arg-type]
            log_level=log_level,
            log_message_text=_flag(get, "ROLEBOT_LOG_MESSAGE_TEXT"),
            mode=mode,  # type: ignore[arg-type]
            reload_interval=_number(get, "ROLEBOT_RELOAD_INTERVAL", 2.0, 0, 3600),
            host=get("ROLEBOT_HOST") or "0.0.0.0",
            port=_integer(get, "ROLEBOT_PORT", _integer(get, "PORT", 3000, 1, 65535), 1, 65535),
            workers=_integer(get, "ROLEBOT_WORKERS", 2, 1, 64),
            holders_editors=editors,  # type: ignore[arg-type]
            holders_notify=notify is None or _flag(get, "ROLEBOT_HOLDERS_NOTIFY"),
            semantic=semantic,  # type: ignore[arg-type]
            curator_channel=curator_channel,
        )

    # ------------------------------------------------------------------ helpers
    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (used by CLI options such as ``--knowledge``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def effective_database_url(self) -> str:
        """``DATABASE_URL``, or the embedded SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rolebot.db').resolve()}"

    @property
    def semantic_cache_dir(self) -> Path | None:
        """Where the semantic index caches its phrasing vectors (``None`` when it is off)."""
        return None if self.semantic == "off" else self.data_dir / "semantic"

    def require_slack(self, mode: RunMode) -> None:
        """Stop with one line naming the first missing Slack variable for ``mode``."""
        needed = ["SLACK_BOT_TOKEN"]
        needed += ["SLACK_APP_TOKEN"] if mode == "socket" else ["SLACK_SIGNING_SECRET"]
        values = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "SLACK_APP_TOKEN": self.slack_app_token,
        }
        for name in needed:
            if not values[name]:
                raise ConfigError(
                    f"{name} is not set: it is required for {mode} mode "
                    "(see .env.example and the README's 'Set up in Slack')"
                )
        if self.slack_bot_token and not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN: a bot token starts with 'xoxb-'")
        if (
            mode == "socket"
            and self.slack_app_token
            and not self.slack_app_token.startswith("xapp-")
        ):
            raise ConfigError("SLACK_APP_TOKEN: an app-level token starts with 'xapp-'")


def _number(get: _Getter, name: str, default: float, low: float, high: float) -> float:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: '{raw}' is not a number (expected {low} to {high})") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is out of range (expected {low} to {high})")
    return value


def _integer(get: _Getter, name: str, default: int, low: int, high: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: '{raw}' is not a whole number ({low} to {high})") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is out of range ({low} to {high})")
    return value


def _flag(get: _Getter, name: str) -> bool:
    raw = get(name)
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: '{raw}' is not a yes/no value (use true or false)")


def parse_duration(text: str) -> float:
    """``90d``, ``12h``, ``30m``, ``45s``, ``2w`` (or plain seconds) to seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"'{text}' is not a duration (like 90d, 12h, 30m)")
    amount, unit = int(match.group(1)), match.group(2) or "s"
    return amount * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
