"""The curated knowledge base: roles, comparison aspects and FAQ entries."""

from bot.core.knowledge.loader import load_knowledge
from bot.core.knowledge.model import (
    DISTINCTIONS,
    ROLE_IDS,
    Ambiguity,
    Aspect,
    Contacts,
    Entry,
    Handoff,
    Knowledge,
    OffTopic,
    Role,
)
from bot.core.knowledge.paths import bundled_knowledge_dir, resolve_knowledge_dir

__all__ = [
    "DISTINCTIONS",
    "ROLE_IDS",
    "Ambiguity",
    "Aspect",
    "Contacts",
    "Entry",
    "Handoff",
    "Knowledge",
    "OffTopic",
    "Role",
    "bundled_knowledge_dir",
    "load_knowledge",
    "resolve_knowledge_dir",
]
