"""Finding a role from what a person typed: ids, names, aliases, abbreviations and typos."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge.model import Knowledge, Role
from bot.core.normalize import fold

AUTO_ACCEPT = 85.0
SUGGEST = 60.0
MAX_NAME_WORDS = 12
"""Longer text is not searched for several role names."""
_SEPARATORS = re.compile(r"\s*[,;/&+]\s*|\s+(?:vs\.?|versus|and|with|or)\s+", re.IGNORECASE)
"""Between role names: "product, program", "pm vs tpm", "product and project"."""


@dataclass(frozen=True)
class RoleLookup:
    """The role meant, or why none could be chosen."""

    query: str
    role: Role | None = None
    ambiguous: tuple[Role, ...] = ()
    """An abbreviation several roles share ("PM")."""
    suggestions: tuple[Role, ...] = ()
    """Nothing matched well: these came closest."""


class RoleDirectory:
    """Every name a role goes by, folded, for exact and fuzzy lookup."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        names: dict[str, tuple[str, ...]] = {}
        for role in knowledge.roles.values():
            for name in (role.id, role.id.replace("_", " "), role.name, *role.aliases):
                names.setdefault(fold(name.replace("_", " ")), (role.id,))
        for item in knowledge.ambiguous:
            names[fold(item.abbreviation)] = item.roles
        self._names = names
        self._choices = list(names)

    def resolve(self, text: str) -> RoleLookup:
        """The one role ``text`` names. Text naming several roles ("program, project") is
        ambiguous between them, never read as whichever single name it looks most like."""
        exact = self._exact(text)
        if exact is not None:
            return self._lookup(text, exact)
        named = self.names(text)
        if len(named) > 1:
            roles = {n.role.id: n.role for n in named if n.role is not None}
            if len(roles) > 1:
                return RoleLookup(text, ambiguous=tuple(roles.values()))
        return self._fuzzy(text)

    def names(self, text: str) -> tuple[RoleLookup, ...]:
        """Every role name in ``text``, in order: split at commas, "vs", "and"... or, without
        separators, between words ("product program", "prodcut owner tpm"). One lookup for
        text that is a single name (or none)."""
        parts = [p for p in _SEPARATORS.split(text) if p.strip()]
        if len(parts) > 1:
            return tuple(self._one(p) for p in parts)
        words = text.split()
        if 1 < len(words) <= MAX_NAME_WORDS and self._exact(text) is None:
            exact = self._segments(words)
            if exact is not None and len(exact) > 1:
                return tuple(self._lookup(part, self._names[key]) for part, key in exact)
            for cut in range(1, len(words)):
                first = self._one(" ".join(words[:cut]))
                second = self._one(" ".join(words[cut:]))
                if first.role is not None and second.role is not None:
                    return first, second
        return (self._one(text),)

    def _one(self, text: str) -> RoleLookup:
        exact = self._exact(text)
        return self._lookup(text, exact) if exact is not None else self._fuzzy(text)

    def _key(self, text: str) -> str:
        key = fold(text.replace("_", " "))
        for prefix in ("the ", "a ", "an "):
            if key.startswith(prefix):
                key = key[len(prefix) :]
        return key

    def _exact(self, text: str) -> tuple[str, ...] | None:
        """The roles a name means exactly; "program" is short for "program manager"."""
        key = self._known(text)
        return self._names[key] if key is not None else None

    def _known(self, text: str) -> str | None:
        key = self._key(text)
        if not key:
            return None
        single = key.removesuffix("s")
        for candidate in (key, single, f"{key} manager", f"{single} manager"):
            if candidate in self._names:
                return candidate
        return None

    def _segments(self, words: list[str]) -> list[tuple[str, str]] | None:
        """``words`` cut into exact role names, longest first ("technical program project")."""
        if not words:
            return []
        for end in range(len(words), 0, -1):
            part = " ".join(words[:end])
            key = self._known(part)
            if key is None:
                continue
            rest = self._segments(words[end:])
            if rest is not None:
                return [(part, key), *rest]
        return None

    def _fuzzy(self, text: str) -> RoleLookup:
        key = self._key(text)
        if not key:
            return RoleLookup(text)
        found = process.extract(key, self._choices, scorer=fuzz.WRatio, limit=6)
        roles: list[str] = []
        for choice, score, _ in found:
            if score < SUGGEST:
                continue
            for role_id in self._names[choice]:
                if role_id not in roles:
                    roles.append(role_id)
        if found and found[0][1] >= AUTO_ACCEPT:
            best_roles = self._names[found[0][0]]
            rivals = [
                c for c, s, _ in found[1:] if s >= found[0][1] - 3 and self._names[c] != best_roles
            ]
            if not rivals:
                return self._lookup(text, best_roles)
        return RoleLookup(text, suggestions=tuple(self.knowledge.roles[r] for r in roles[:3]))

    def _lookup(self, text: str, role_ids: tuple[str, ...]) -> RoleLookup:
        roles = tuple(self.knowledge.roles[r] for r in role_ids)
        if len(roles) == 1:
            return RoleLookup(text, role=roles[0])
        return RoleLookup(text, ambiguous=roles)
