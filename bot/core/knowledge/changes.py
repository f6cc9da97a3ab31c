"""The knowledge a bot uses: its YAML folder plus the curated changes kept in the database.

Curators' changes (a new entry made from logged questions, phrasings added to an entry, an
answer written) are an append-only log. They are applied to a copy of the folder with the same
text edits :mod:`bot.core.knowledge.writer` makes (comments and order stay), and the copy is
validated by :func:`~bot.core.knowledge.load_knowledge` exactly as files are. The folder itself
is never written: it may be read-only, or inside the package.

A change the files already contain (after ``rolebot kb export`` and a deploy) is recognised and
not applied again: phrasings already present anywhere are skipped, a new entry whose id or
phrasings are already there adds only what is missing, and an answer is written only when the
files do not already hold it (or a later answer for that entry).

Nothing here knows where the log is stored.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.core.knowledge.loader import load_knowledge, read_knowledge_file
from bot.core.knowledge.model import Knowledge
from bot.core.knowledge.writer import PROMOTED_FILE, NewEntry, append_entries, edit_entries
from bot.core.normalize import normalize
from bot.errors import KnowledgeError

logger = logging.getLogger(__name__)

NEW_ENTRY = "new_entry"
ADD_PHRASINGS = "add_phrasings"
SET_ANSWER = "set_answer"
CHANGE_KINDS = (NEW_ENTRY, ADD_PHRASINGS, SET_ANSWER)

try:  # the loader's parser
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class KnowledgeChange:
    """One curated change. ``id`` and the rest are set once it is in the log."""

    kind: str
    entry_id: str
    owner: str | None = None
    distinction: str | None = None
    phrasings: tuple[str, ...] = ()
    answer: str | None = None
    question_ids: tuple[int, ...] = ()
    """The logged questions it came from."""
    id: int | None = None
    created_by: str | None = None
    created_at: datetime | None = None

    def describe(self) -> str:
        if self.kind == NEW_ENTRY:
            return f"new entry '{self.entry_id}' ({self.owner}), {len(self.phrasings)} phrasing(s)"
        if self.kind == ADD_PHRASINGS:
            return f"{len(self.phrasings)} phrasing(s) added to '{self.entry_id}'"
        return f"answer of '{self.entry_id}' written"


@dataclass(frozen=True)
class Applied:
    """What one change did to the files (nothing at all: the files already held it)."""

    change: KnowledgeChange
    file: str | None = None
    """The file edited, relative to the folder."""
    created: bool = False
    phrasings: tuple[str, ...] = ()
    answer: bool = False

    @property
    def effective(self) -> bool:
        return self.created or bool(self.phrasings) or self.answer


class ChangeSource(Protocol):
    """Where the log lives (the store): a cheap revision, and the changes themselves."""

    def knowledge_revision(self) -> int:
        """The newest change's id (0 for none). Raises when the log cannot be read."""

    def knowledge_changes(self) -> Sequence[KnowledgeChange]:
        """Every change, oldest first. Raises when the log cannot be read."""


# --------------------------------------------------------------------------- loading
def load_with_changes(directory: Path, changes: Sequence[KnowledgeChange]) -> Knowledge:
    """The folder's knowledge with ``changes`` applied, validated as files are.

    Raises :class:`~bot.errors.KnowledgeError` naming the edited file and the change's entry.
    """
    if not changes:
        return load_knowledge(directory)
    with tempfile.TemporaryDirectory(prefix="rolebot-knowledge-") as work:
        copy = Path(work)
        write_changes(directory, copy, changes)
        try:
            return load_knowledge(copy)
        except KnowledgeError as error:
            raise _relabel(error, copy, directory) from None


def pending_changes(directory: Path, changes: Sequence[KnowledgeChange]) -> list[Applied]:
    """The changes the folder's files do not hold yet, with what each would add."""
    if not changes:
        return []
    with tempfile.TemporaryDirectory(prefix="rolebot-knowledge-") as work:
        return [a for a in write_changes(directory, Path(work), changes) if a.effective]


def write_changes(source: Path, target: Path, changes: Sequence[KnowledgeChange]) -> list[Applied]:
    """Copy the knowledge files of ``source`` into ``target`` (unless they are the same folder)
    and apply ``changes`` there, in order; what each change did. Each edited file is parsed and
    written once, however many changes touch it."""
    target.mkdir(parents=True, exist_ok=True)
    if source.resolve() != target.resolve():
        for path in _knowledge_files(source):
            # As the loader reads it: a link's content, never a FIFO, a device or over the limit.
            (target / path.name).write_bytes(read_knowledge_file(path))
    plan = _Plan(_Index(target))
    answered = _contained_answers(plan.index, changes)
    applied = [plan.apply(change, position in answered) for position, change in enumerate(changes)]
    plan.write()
    return applied


# --------------------------------------------------------------------------- applying
@dataclass
class _EntryInfo:
    path: Path
    answer: str


class _Index:
    """Entries and phrasings in the folder being edited, kept current as changes apply."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.entries: dict[str, _EntryInfo] = {}
        self.phrasings: dict[str, str] = {}
        for path in _knowledge_files(directory):
            for item in _entries(path):
                entry_id = str(item.get("id"))
                if entry_id in self.entries:
                    continue
                answer = item.get("answer")
                self.entries[entry_id] = _EntryInfo(path, answer if isinstance(answer, str) else "")
                for phrasing in item.get("questions") or []:
                    if isinstance(phrasing, str):
                        self.phrasings.setdefault(normalize(phrasing), entry_id)

    def fresh(self, phrasings: Sequence[str]) -> list[str]:
        """The phrasings nobody has yet (and no repeats)."""
        fresh: list[str] = []
        seen: set[str] = set()
        for phrasing in phrasings:
            key = normalize(phrasing)
            if key and key not in self.phrasings and key not in seen:
                fresh.append(phrasing)
                seen.add(key)
        return fresh

    def learn(self, entry_id: str, phrasings: Sequence[str]) -> None:
        for phrasing in phrasings:
            self.phrasings.setdefault(normalize(phrasing), entry_id)


class _Plan:
    """What the changes do to which file, decided first and written in one go per file."""

    def __init__(self, index: _Index) -> None:
        self.index = index
        self.promoted = index.directory / PROMOTED_FILE
        self.new: dict[str, NewEntry] = {}
        self.phrasings: dict[Path, dict[str, list[str]]] = {}
        self.answers: dict[Path, dict[str, str]] = {}

    def apply(self, change: KnowledgeChange, contained: bool) -> Applied:
        index = self.index
        info = index.entries.get(change.entry_id)
        if change.kind == SET_ANSWER:
            if contained or info is None or change.answer is None:
                return Applied(change)
            if change.entry_id in self.new:
                self.new[change.entry_id] = replace(self.new[change.entry_id], answer=change.answer)
            else:
                self.answers.setdefault(info.path, {})[change.entry_id] = change.answer
            info.answer = change.answer
            return Applied(change, _name(index, info.path), answer=True)
        fresh = index.fresh(change.phrasings)
        if info is not None:  # an existing entry (or a new one the files already hold)
            if not fresh:
                return Applied(change)
            if change.entry_id in self.new:
                entry = self.new[change.entry_id]
                self.new[change.entry_id] = replace(entry, questions=(*entry.questions, *fresh))
            else:
                per_file = self.phrasings.setdefault(info.path, {})
                per_file.setdefault(change.entry_id, []).extend(fresh)
            index.learn(change.entry_id, fresh)
            return Applied(change, _name(index, info.path), phrasings=tuple(fresh))
        if change.kind != NEW_ENTRY or not fresh:
            return Applied(change)  # the entry is gone from the files, or its phrasings moved
        self.new[change.entry_id] = NewEntry(
            id=change.entry_id,
            questions=tuple(fresh),
            owner=change.owner or "",
            distinction=change.distinction or "how",
            answer=change.answer or "",
        )
        index.entries[change.entry_id] = _EntryInfo(self.promoted, change.answer or "")
        index.learn(change.entry_id, fresh)
        return Applied(change, _name(index, self.promoted), created=True, phrasings=tuple(fresh))

    def write(self) -> None:
        for path in {*self.phrasings, *self.answers}:
            edit_entries(path, phrasings=self.phrasings.get(path), answers=self.answers.get(path))
        append_entries(self.promoted, list(self.new.values()))


def _contained_answers(index: _Index, changes: Sequence[KnowledgeChange]) -> set[int]:
    """Positions of answer changes the files already hold: for each entry, every answer up to
    the last one equal to the answer in the files."""
    contained: set[int] = set()
    by_entry: dict[str, list[int]] = {}
    for position, change in enumerate(changes):
        if change.kind == SET_ANSWER:
            by_entry.setdefault(change.entry_id, []).append(position)
    for entry_id, positions in by_entry.items():
        info = index.entries.get(entry_id)
        if info is None:
            continue
        current = _words(info.answer)
        matching = [p for p in positions if _words(changes[p].answer or "") == current]
        if matching:
            contained.update(p for p in positions if p <= matching[-1])
    return contained


# --------------------------------------------------------------------------- helpers
def _knowledge_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def _entries(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # the loader reports it
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]


def _name(index: _Index, path: Path) -> str:
    return path.name if path.parent == index.directory else str(path)


def _words(text: str) -> str:
    return " ".join(text.split())


def _relabel(error: KnowledgeError, copy: Path, directory: Path) -> KnowledgeError:
    """Problems found in the working copy, named after the folder (with curated changes)."""
    prefixes = {str(copy), str(copy.resolve())}
    problems = []
    for problem in error.problems:
        name = problem.file
        for prefix in prefixes:
            if name.startswith(prefix):
                name = str(directory / name[len(prefix) :].lstrip("/")) + " + curated changes"
                break
        problems.append(replace(problem, file=name))
    return KnowledgeError(problems)
