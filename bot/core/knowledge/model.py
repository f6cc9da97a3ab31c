"""The knowledge base as typed, immutable values. Built only by :mod:`bot.core.knowledge.loader`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROLE_IDS: tuple[str, ...] = (
    "product_manager",
    "program_manager",
    "project_manager",
    "technical_program_manager",
)
"""The four role ids. Scripts rely on exactly these."""

DISTINCTIONS: tuple[str, ...] = ("why", "what", "how", "when")
"""The question kinds an ownership decision turns on."""


@dataclass(frozen=True)
class Aspect:
    id: str
    name: str


@dataclass(frozen=True)
class Handoff:
    to: str
    what: str


@dataclass(frozen=True)
class Contacts:
    """Who to ask for a role in this workspace (optional, per workspace)."""

    usergroup: str | None = None
    """A Slack user group id (``S…``); rendered as a group mention."""
    users: tuple[str, ...] = ()
    """Slack user ids (``U…``)."""
    channel: str | None = None
    """A channel id (``C…``) where the role's people answer questions."""

    def __bool__(self) -> bool:
        return bool(self.usergroup or self.users or self.channel)


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    short_name: str
    emoji: str
    answers: str
    question: str
    aliases: tuple[str, ...]
    definition: str
    responsibilities: tuple[str, ...]
    skills: tuple[str, ...]
    key_metrics: tuple[str, ...]
    stakeholders: tuple[str, ...]
    hands_off: tuple[Handoff, ...]
    compare: Mapping[str, str]
    contacts: Contacts = field(default_factory=Contacts)


@dataclass(frozen=True)
class Ambiguity:
    """An abbreviation (like "PM") that could mean several roles."""

    abbreviation: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class OffTopic:
    """A topic rolebot declines (facilities, expenses, ...), and the words that mark it."""

    topic: str
    words: tuple[str, ...]
    hint: str = ""


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: several phrasings of one question, the owning role and why."""

    id: str
    questions: tuple[str, ...]
    owner: str
    distinction: str
    answer: str
    related: tuple[str, ...] = ()
    reviewed: date | None = None
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class Knowledge:
    """A complete, validated knowledge base."""

    roles: Mapping[str, Role]
    aspects: tuple[Aspect, ...]
    ambiguous: tuple[Ambiguity, ...]
    entries: tuple[Entry, ...]
    directory: Path
    fingerprint: str
    off_topic: tuple[OffTopic, ...] = ()
    entries_by_id: Mapping[str, Entry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries_by_id", {e.id: e for e in self.entries})

    def role(self, role_id: str) -> Role:
        return self.roles[role_id]

    def entry(self, entry_id: str) -> Entry:
        return self.entries_by_id[entry_id]

    @property
    def phrasing_count(self) -> int:
        return sum(len(e.questions) for e in self.entries)
