"""The curator review loop: from "logged as unanswered" to "answered next time".

Used by ``rolebot unanswered promote|dismiss``, ``rolebot kb answer`` and the Slack curator
views alike; it knows neither Slack nor SQL.

:func:`promote` turns logged questions into a curated change (phrasings of an existing entry, or
a new entry with a draft answer), validates the folder plus every curated change plus this one
exactly as files are validated, and stores the change and marks the questions promoted in one
database transaction: all of it happens, or none. :func:`write_answer` does the same for an
entry's answer. Every replica notices the new revision of the log within its reload interval; no
file in the knowledge folder is written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.knowledge import Knowledge, Role
from bot.core.knowledge.changes import (
    ADD_PHRASINGS,
    NEW_ENTRY,
    SET_ANSWER,
    KnowledgeChange,
    load_with_changes,
)
from bot.core.knowledge.schema import MAX_PHRASING
from bot.core.knowledge.writer import PROMOTED_FILE, append_eval_cases
from bot.core.normalize import normalize, slack_to_plain
from bot.core.roles import RoleDirectory
from bot.errors import RolebotError, StoreError
from bot.store.interface import ChangeConflict, LoggedQuestion, Status, Store

REGRESSION_FILE = Path("tests/eval/promoted.yaml")
"""Promoted questions are also appended here (when its folder exists), for ``rolebot eval``."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SLUG_SKIP = frozenset(
    """a an the who whom whose what which when where why how is are was were be do does did
    should would could can will shall may might must i me my we us our you your it its this that
    these those of to for in on at by with about from and or owns own owner owning responsible
    ask asking job call decides decide handles handle deal deals takes take charge ping
    """.split()
)
ATTEMPTS = 5
"""Times a change is validated again when another change lands first."""
MAX_CURATED_ANSWER = 400
"""Characters in an answer a curator writes (Slack modal, ``rolebot kb answer``)."""
DRAFT_PREFIX = "Draft answer:"
_PINGS = re.compile(r"<[!@#]|(?<![\w.])@(?:channel|here|everyone)\b", re.IGNORECASE)
"""What would notify people from an answer: refused in a curator's answer."""
_DISTINCTION = {"product_manager": "why"}
"""A new entry's distinction: the Product Manager answers *why*, the others *how*."""


class ReviewError(RolebotError):
    """A promote or dismiss request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class PromoteResult:
    """What a promotion did."""

    entry_id: str
    role: str
    created: bool
    """A new entry (``promoted.yaml`` on export) rather than phrasings added to an existing one."""
    file: Path
    added: tuple[str, ...]
    """Phrasings written to the file."""
    skipped: tuple[str, ...]
    """Questions already in the knowledge base (as a phrasing of an entry of the same role)."""
    ids: tuple[int, ...]
    regression_file: Path | None = None
    regression_added: int = 0
    change_id: int | None = None
    """The curated change stored in the database."""


@dataclass(frozen=True)
class DismissResult:
    dismissed: tuple[int, ...]
    skipped: tuple[int, ...]
    """Questions that were not open (already promoted or dismissed)."""


def promote(
    store: Store,
    knowledge_dir: Path,
    ids: Sequence[int],
    role: str,
    entry_id: str | None = None,
    by: str | None = None,
    *,
    regression_file: Path | None = None,
) -> PromoteResult:
    """Add the questions ``ids`` to the knowledge for ``role`` and mark them promoted.

    ``role`` may be a role id, name, alias or abbreviation (``tpm``). ``entry_id`` names an
    existing entry of that role to add phrasings to, or the id for a new entry (default: made
    from the question). ``regression_file``: also append the questions there as eval cases.
    Raises :class:`ReviewError` (also when another curator resolved a question first),
    :class:`~bot.errors.KnowledgeError` (the change would not validate; nothing stored) or
    :class:`~bot.errors.StoreError` (the database is unavailable; nothing done).
    """
    wanted = _unique(ids)
    for _attempt in range(ATTEMPTS):
        revision, log, knowledge = _current(store, knowledge_dir)
        questions = _open_questions(store, wanted)
        owner = resolve_role(knowledge, role)
        phrasings, skipped = _phrasings(questions, knowledge, owner.id)
        existing = knowledge.entries_by_id.get(entry_id) if entry_id else None
        if existing is not None:
            if existing.owner != owner.id:
                raise ReviewError(
                    f"entry '{existing.id}' belongs to the {knowledge.roles[existing.owner].name}, "
                    f"not the {owner.name}: pick an entry of that role, or a new --entry id"
                )
            change = KnowledgeChange(
                ADD_PHRASINGS, existing.id, owner.id, phrasings=tuple(phrasings)
            )
        else:
            if not phrasings:
                raise ReviewError(
                    "every question is already in the knowledge base (see `rolebot ask`); "
                    "dismiss them, or promote them to an existing entry with --entry"
                )
            final_id = entry_id or _new_id(phrasings[0], knowledge)
            if not _SLUG.match(final_id) or len(final_id) > 80:
                raise ReviewError(
                    f"'{final_id}' is not a valid entry id: use lower case letters, digits and "
                    "single hyphens, like sso-rollout-owner"
                )
            change = KnowledgeChange(
                NEW_ENTRY,
                final_id,
                owner.id,
                _DISTINCTION.get(owner.id, "how"),
                tuple(phrasings),
                draft_answer(owner),
            )
        change = replace(change, question_ids=tuple(q.id for q in questions))
        load_with_changes(knowledge_dir, [*log, change])  # KnowledgeError: refused, as files
        try:
            stored = store.append_change(change, expected_revision=revision, by=by)
        except ChangeConflict as conflict:
            if conflict.resolved:
                raise ReviewError(_resolved_message(conflict.resolved)) from None
            continue  # another change landed meanwhile: validate again on top of it
        break
    else:
        raise ReviewError("the knowledge kept changing while promoting; try again")
    added_cases = 0
    if regression_file is not None:
        try:
            added_cases = append_eval_cases(
                regression_file, [(_plain(q.text), owner.id) for q in questions]
            )
        except OSError as error:
            raise ReviewError(
                f"promoted to '{final_id}', but could not add the regression cases to "
                f"{regression_file} ({error.strerror or error}); add them by hand"
            ) from None
    return PromoteResult(
        entry_id=stored.entry_id,
        role=owner.id,
        created=stored.kind == NEW_ENTRY,
        file=Path(PROMOTED_FILE),
        added=tuple(phrasings),
        skipped=tuple(skipped),
        ids=tuple(q.id for q in questions),
        regression_file=regression_file,
        regression_added=added_cases,
        change_id=stored.id,
    )


def write_answer(
    store: Store, knowledge_dir: Path, entry_id: str, answer: str, by: str | None = None
) -> KnowledgeChange:
    """Store ``answer`` as entry ``entry_id``'s answer, validated like the files (at most
    :data:`MAX_CURATED_ANSWER` characters). Raises ReviewError, KnowledgeError or StoreError."""
    text = " ".join(answer.split())
    if not text:
        raise ReviewError(
            "the answer is empty: write a sentence or two saying why that role owns it"
        )
    if len(text) > MAX_CURATED_ANSWER:
        raise ReviewError(
            f"the answer is {len(text)} characters; keep it to {MAX_CURATED_ANSWER} or fewer"
        )
    if _PINGS.search(text):
        raise ReviewError(
            "the answer mentions people, channels or everyone (<@…>, <#…>, @here…); answers "
            "are read by everyone who asks: name the role instead"
        )
    for _attempt in range(ATTEMPTS):
        revision, log, knowledge = _current(store, knowledge_dir)
        entry = knowledge.entries_by_id.get(entry_id)
        if entry is None:
            hint = _near(entry_id, knowledge)
            raise ReviewError(f"no entry '{entry_id}' in the knowledge base{hint}")
        change = KnowledgeChange(SET_ANSWER, entry.id, entry.owner, answer=text)
        load_with_changes(knowledge_dir, [*log, change])  # KnowledgeError: refused, as files
        try:
            return store.append_change(change, expected_revision=revision, by=by)
        except ChangeConflict as conflict:
            if conflict.resolved:  # pragma: no cover - an answer names no questions
                raise ReviewError(str(conflict)) from None
    raise ReviewError("the knowledge kept changing while writing the answer; try again")


def current_knowledge(store: Store, knowledge_dir: Path) -> Knowledge:
    """The folder plus every curated change (StoreError when the log cannot be read)."""
    return _current(store, knowledge_dir)[2]


def is_draft(answer: str) -> bool:
    """Whether an answer is still the placeholder :func:`draft_answer` wrote."""
    return answer.startswith(DRAFT_PREFIX)


def dismiss(store: Store, ids: Sequence[int], by: str | None = None) -> DismissResult:
    """Mark open questions dismissed (not worth an entry); unknown ids raise ReviewError."""
    wanted = _unique(ids)
    found = {q.id: q for q in store.get_questions(wanted)}
    _require_found(wanted, found)
    open_ids = [i for i in wanted if found[i].status == Status.OPEN]
    store.mark_dismissed(open_ids, by)
    return DismissResult(tuple(open_ids), tuple(i for i in wanted if i not in open_ids))


def resolve_role(knowledge: Knowledge, text: str) -> Role:
    """The role ``text`` names (id, name, alias, abbreviation, or a near miss of one)."""
    lookup = RoleDirectory(knowledge).resolve(text)
    if lookup.role is not None:
        return lookup.role
    if lookup.ambiguous:
        names = ", ".join(r.id for r in lookup.ambiguous)
        raise ReviewError(f"'{text}' could mean several roles ({names}); name one")
    hint = " or ".join(r.id for r in lookup.suggestions)
    choices = ", ".join(knowledge.roles)
    advice = f"did you mean {hint}?" if hint else f"use one of: {choices}"
    raise ReviewError(f"no role called '{text}'; {advice}")


def draft_answer(role: Role) -> str:
    """The placeholder answer a new entry starts with, until a curator writes the real one."""
    return (
        f"{DRAFT_PREFIX} a curator routed this to the {role.name} and has not written the "
        f'answer yet. The {role.name} answers "{role.question}"'
    )


# --------------------------------------------------------------------------- helpers
MAX_ID = 2**31 - 1
"""The largest id the question table's column holds: a bigger number names no question."""


def _unique(ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        raise ReviewError("give at least one question id (see `rolebot unanswered list`)")
    impossible = [str(i) for i in wanted if not 0 < i <= MAX_ID]
    if impossible:
        raise ReviewError(
            f"no logged question with id {', '.join(impossible)}: ids are whole numbers from 1 "
            "(see `rolebot unanswered list`)"
        )
    return wanted


def _require_found(wanted: Sequence[int], found: dict[int, LoggedQuestion]) -> None:
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise ReviewError(
            f"no logged question with id{plural} {', '.join(missing)} "
            "(see `rolebot unanswered list`)"
        )


def _current(store: Store, knowledge_dir: Path) -> tuple[int, list[KnowledgeChange], Knowledge]:
    try:
        revision = store.knowledge_revision()
        log = list(store.knowledge_changes())
    except StoreError as error:
        raise StoreError(f"{error} (nothing was changed)") from None
    revision = max([revision, *(c.id or 0 for c in log)])
    return revision, log, load_with_changes(knowledge_dir, log)


def _resolved_message(questions: Sequence[LoggedQuestion]) -> str:
    described = ", ".join(
        f"{q.id} ({q.status}{' to ' + q.resolved_entry_id if q.resolved_entry_id else ''}"
        f"{' by ' + q.resolved_by if q.resolved_by else ''})"
        for q in questions
    )
    return f"already resolved by another curator: {described}; nothing was changed"


def _near(entry_id: str, knowledge: Knowledge) -> str:
    close = difflib.get_close_matches(entry_id, list(knowledge.entries_by_id), n=1)
    return f"; did you mean '{close[0]}'?" if close else " (see `rolebot kb changes`)"


def _open_questions(store: Store, wanted: Sequence[int]) -> list[LoggedQuestion]:
    found = {q.id: q for q in store.get_questions(wanted)}
    _require_found(wanted, found)
    closed = [found[i] for i in wanted if found[i].status != Status.OPEN]
    if closed:
        described = ", ".join(
            f"{q.id} ({q.status}{' to ' + q.resolved_entry_id if q.resolved_entry_id else ''}"
            f"{' by ' + q.resolved_by if q.resolved_by else ''})"
            for q in closed
        )
        raise ReviewError(f"already resolved: {described}; leave them out")
    return [found[i] for i in wanted]


def _plain(text: str) -> str:
    return " ".join(slack_to_plain(text).split())[:MAX_PHRASING].strip()


def _phrasings(
    questions: Sequence[LoggedQuestion], knowledge: Knowledge, owner: str
) -> tuple[list[str], list[str]]:
    """New phrasings for the questions, and those already known (same role) to skip."""
    known = {normalize(p): e for e in knowledge.entries for p in e.questions}
    phrasings: list[str] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for question in questions:
        phrasing = _plain(question.text)
        key = normalize(phrasing)
        if not key:
            raise ReviewError(f"question {question.id} has no words to add as a phrasing")
        if key in known:
            entry = known[key]
            if entry.owner != owner:
                raise ReviewError(
                    f"question {question.id} is already a phrasing of entry '{entry.id}', "
                    f"owned by {entry.owner}: change that entry instead"
                )
            skipped.append(phrasing)
        elif key not in seen:
            phrasings.append(phrasing)
        seen.add(key)
    return phrasings, skipped


def _new_id(phrasing: str, knowledge: Knowledge) -> str:
    words = [w for w in re.sub(r"[^a-z0-9 ]", " ", normalize(phrasing)).split() if w]
    kept = [w for w in words if w not in _SLUG_SKIP][:5] or words[:5] or ["promoted"]
    base = "-".join(kept)[:60].strip("-") or "promoted"
    candidate, number = base, 2
    while candidate in knowledge.entries_by_id:
        candidate, number = f"{base}-{number}", number + 1
    return candidate
