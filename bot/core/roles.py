"""Finding a role from what a person typed: ids, names, aliases, abbreviations and typos."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge.model import Knowledge, Role
from bot.core.normalize import fold

AUTO_ACCEPT = 85.0
SUGGEST = 60.0


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
        key = fold(text.replace("_", " "))
        for prefix in ("the ", "a ", "an "):
            if key.startswith(prefix):
                key = key[len(prefix) :]
        key = key.removesuffix("s") if key.removesuffix("s") in self._names else key
        if not key:
            return RoleLookup(text)
        if key in self._names:
            return self._lookup(text, self._names[key])
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
