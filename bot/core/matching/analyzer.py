"""From a question to what the matcher compares: role mentions, question-kind cues, topic words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.knowledge.model import Knowledge
from bot.core.matching.lexicon import (
    DECIDE_CUES,
    HOW_CUES,
    SCOPE_SINGULARS,
    TIME_NOUNS,
    WHEN_CUES,
    WHY_CUES,
    canonical,
    is_stopword,
    split_words,
)
from bot.core.normalize import fold, normalize

_ROLE_WORD_FIXES = (
    (re.compile(r"\bmgrs?\b"), "manager"),
    (re.compile(r"\bprogrammes?\b"), "program"),
    (re.compile(r"\bmanagment\b|\bmanagemnt\b"), "management"),
    (re.compile(r"\bmanger\b|\bmanagr\b|\bmanaer\b"), "manager"),
)


@dataclass(frozen=True)
class Query:
    """A question, analysed."""

    text: str
    normalized: str
    words: tuple[str, ...]
    """Topic words as written (folded), role mentions and stopwords removed."""
    tokens: tuple[str, ...]
    """The same words in canonical (stemmed) form, in order, de-duplicated."""
    roles: frozenset[str]
    """Roles named explicitly ("the TPM", "product owner")."""
    ambiguous: tuple[str, ...]
    """Roles an ambiguous abbreviation in the question could mean ("PM")."""
    kinds: frozenset[str]
    """Question-kind cues found: why, decide, how, when."""


@dataclass(frozen=True)
class RoleMentions:
    """Finds role names, aliases and ambiguous abbreviations in folded text."""

    pattern: re.Pattern[str] | None
    lookup: dict[str, tuple[str, ...]]
    ambiguous: frozenset[str]

    @classmethod
    def from_knowledge(cls, knowledge: Knowledge) -> RoleMentions:
        lookup: dict[str, tuple[str, ...]] = {}
        for role in knowledge.roles.values():
            names = [role.name, *role.aliases]
            if role.name.lower().endswith(" manager"):
                names.append(role.name[: -len("manager")] + "management")
            for name in names:
                key = fold(name)
                if key:
                    lookup[key] = (role.id,)
        ambiguous: set[str] = set()
        for item in knowledge.ambiguous:
            key = fold(item.abbreviation)
            lookup[key] = item.roles
            ambiguous.add(key)
        if not lookup:
            return cls(None, {}, frozenset())
        alternatives = "|".join(re.escape(k) for k in sorted(lookup, key=len, reverse=True))
        pattern = re.compile(rf"(?<![a-z0-9])({alternatives})(?:'?s)?(?![a-z0-9])")
        return cls(pattern, lookup, frozenset(ambiguous))

    def find(self, folded: str) -> tuple[str, set[str], list[str]]:
        """Returns the text with mentions removed, the roles named, the ambiguous roles."""
        if self.pattern is None:
            return folded, set(), []
        for regex, replacement in _ROLE_WORD_FIXES:
            folded = regex.sub(replacement, folded)
        named: set[str] = set()
        ambiguous: list[str] = []

        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            roles = self.lookup[key]
            if key in self.ambiguous:
                ambiguous.extend(r for r in roles if r not in ambiguous)
            else:
                named.update(roles)
            return " "

        stripped = self.pattern.sub(replace, folded)
        return stripped, named, ambiguous


class Analyzer:
    """Analyses questions against one knowledge base's role names."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.mentions = RoleMentions.from_knowledge(knowledge)

    def analyze(self, text: str) -> Query:
        normalized = normalize(text)
        return self._analyze_normalized(text, normalized)

    def _analyze_normalized(self, text: str, normalized: str) -> Query:
        stripped, named, ambiguous = self.mentions.find(normalized)
        kinds: set[str] = set()
        words: list[str] = []
        tokens: list[str] = []
        seen_singular: set[str] = set()
        previous = ""
        for word in split_words(stripped):
            if word in ("if", "whether") and previous in DECIDE_CUES:
                kinds.add("why")  # "decides if we ..." asks whether
            previous = word
            if word in SCOPE_SINGULARS:
                repeated = word in seen_singular
                seen_singular.add(word)
                if repeated:
                    word = word + "s"  # noqa: PLW2901 - the plural stands for both mentions
            if word in WHY_CUES:
                kinds.add("why")
                continue
            if word in DECIDE_CUES:
                kinds.add("decide")
                continue
            if word in HOW_CUES:
                kinds.add("how")
            elif word in WHEN_CUES or word in TIME_NOUNS:
                kinds.add("when")
            if is_stopword(word):
                continue
            token = canonical(word)
            if token and token not in tokens:
                words.append(word)
                tokens.append(token)
        # The question's kind becomes a word of its own ("?why"), so how strongly each kind leans
        # to each role is learned from the FAQ's phrasings, like any other word.
        for kind in sorted(kinds):
            words.append(f"?{kind}")
            tokens.append(f"?{kind}")
        return Query(
            text=text,
            normalized=normalized,
            words=tuple(words),
            tokens=tuple(tokens),
            roles=frozenset(named),
            ambiguous=tuple(ambiguous),
            kinds=frozenset(kinds),
        )
