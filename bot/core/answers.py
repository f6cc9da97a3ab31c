"""From a match to an answer a person can read: the role, the distinction, the reason."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.knowledge.model import Entry, Knowledge, Role
from bot.core.matching.matcher import MatchResult, Outcome

_KIND_WORDS = {
    "why": "a *why* question",
    "what": "a *what* question",
    "how": "a *how* question",
    "when": "a *when* question",
}


@dataclass(frozen=True)
class Answer:
    """Everything a reply needs, whatever face (CLI, Slack) shows it."""

    question: str
    result: MatchResult
    role: Role | None = None
    entry: Entry | None = None
    roles: tuple[Role, ...] = ()
    """close_call: the competing roles; clarify: the roles it could mean."""
    nearest: tuple[Entry, ...] = ()
    """unanswered: the closest entries worth offering, if any."""

    @property
    def outcome(self) -> Outcome:
        return self.result.outcome

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def distinction(self) -> str:
        """ "A *why* question: the Product Manager." (empty unless answered from an entry)."""
        if self.entry is None or self.role is None:
            return ""
        kind = _KIND_WORDS.get(self.entry.distinction, "a question")
        if self.role.id == "technical_program_manager" and self.entry.distinction in (
            "how",
            "when",
        ):
            kind = kind.replace("a *", "a technical *")
        return f"{kind[0].upper()}{kind[1:]}: the {self.role.name}."


def compose(knowledge: Knowledge, result: MatchResult, suggest: float) -> Answer:
    """Attach the knowledge behind a :class:`MatchResult`."""
    question = result.query.text
    if result.outcome == "answered":
        role = knowledge.roles[result.roles[0]]
        entry = (
            knowledge.entry(result.best.entry_id) if result.kind == "faq" and result.best else None
        )
        return Answer(question, result, role=role, entry=entry)
    if result.outcome in ("close_call", "clarify"):
        roles = tuple(knowledge.roles[r] for r in result.roles)
        return Answer(question, result, roles=roles)
    nearest = tuple(knowledge.entry(c.entry_id) for c in result.candidates if c.score >= suggest)[
        :3
    ]
    return Answer(question, result, nearest=nearest)
