"""The exceptions rolebot raises on purpose.

Every message says what went wrong, where, and how to fix it, in one line
(knowledge errors carry one line per problem).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RolebotError(Exception):
    """Base class: an error whose message is fit to show a person as it is."""


class ConfigError(RolebotError):
    """A setting is missing or malformed. The message names the variable."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge file."""

    file: str
    line: int | None
    entry: str | None
    field: str | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.entry:
            parts.append(f"entry '{self.entry}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        text = ", ".join(parts) + f": {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return " ".join(text.splitlines())  # one line, whatever a quoted value held


class KnowledgeError(RolebotError):
    """The knowledge folder is invalid. Holds every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the knowledge base"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class StoreError(RolebotError):
    """The database could not be used (and the question went to the spool instead)."""
