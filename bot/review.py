"""The curator review loop: from "logged as unanswered" to "answered next time".

Used by ``rolebot unanswered promote|dismiss`` and by the Slack App Home alike.

:func:`promote` adds logged questions to the knowledge base, as phrasings of an existing entry or
as a new entry in ``promoted.yaml`` (with a draft answer for a curator to refine), validates the
whole knowledge folder, and only then marks the questions promoted. If validation or the store
fails, every file is put back as it was. The running bot notices the changed files through
``Engine.reload_if_changed``; no restart is needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge import Knowledge, Role, load_knowledge
from bot.core.knowledge.schema import MAX_PHRASING
from bot.core.knowledge.writer import (
    PROMOTED_FILE,
    KnowledgeEdit,
    NewEntry,
    append_eval_cases,
    find_entry_file,
)
from bot.core.normalize import normalize, slack_to_plain
from bot.core.roles import RoleDirectory
from bot.errors import RolebotError
from bot.store.interface import LoggedQuestion, Status, Store

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
    """A new entry (in ``promoted.yaml``) rather than phrasings added to an existing one."""
    file: Path
    added: tuple[str, ...]
    """Phrasings written to the file."""
    skipped: tuple[str, ...]
    """Questions already in the knowledge base (as a phrasing of an entry of the same role)."""
    ids: tuple[int, ...]
    regression_file: Path | None = None
    regression_added: int = 0


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
    """Add the questions ``ids`` to the knowledge base for ``role`` and mark them promoted.

    ``role`` may be a role id, name, alias or abbreviation (``tpm``). ``entry_id`` names an
    existing entry of that role to add phrasings to, or the id for a new entry (default: made
    from the question). ``regression_file``: also append the questions there as eval cases.
    Raises :class:`ReviewError`, :class:`~bot.errors.KnowledgeError` (the edit did not validate;
    files restored) or :class:`~bot.errors.StoreError`.
    """
    wanted = _unique(ids)
    with KnowledgeEdit(knowledge_dir) as edit:
        questions = _open_questions(store, wanted)
        knowledge = load_knowledge(knowledge_dir)
        owner = resolve_role(knowledge, role)
        phrasings, skipped = _phrasings(questions, knowledge, owner.id)
        existing = knowledge.entries_by_id.get(entry_id) if entry_id else None
        if existing is not None:
            if existing.owner != owner.id:
                raise ReviewError(
                    f"entry '{existing.id}' belongs to the {knowledge.roles[existing.owner].name}, "
                    f"not the {owner.name}: pick an entry of that role, or a new --entry id"
                )
            target = find_entry_file(knowledge_dir, existing.id)
            if target is None:  # pragma: no cover - the loader just found it
                raise ReviewError(f"cannot find the file that defines entry '{existing.id}'")
            edit.add_phrasings(target, existing.id, phrasings)
            final_id, created = existing.id, False
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
            target = knowledge_dir / PROMOTED_FILE
            edit.append_entry(
                target,
                NewEntry(
                    id=final_id,
                    questions=tuple(phrasings),
                    owner=owner.id,
                    distinction=_DISTINCTION.get(owner.id, "how"),
                    answer=draft_answer(owner),
                ),
            )
            created = True
        load_knowledge(knowledge_dir)  # a KnowledgeError here puts the files back
        store.mark_promoted([q.id for q in questions], final_id, by)
    added_cases = 0
    if regression_file is not None:
        added_cases = append_eval_cases(
            regression_file, [(_plain(q.text), owner.id) for q in questions]
        )
    return PromoteResult(
        entry_id=final_id,
        role=owner.id,
        created=created,
        file=target,
        added=tuple(phrasings),
        skipped=tuple(skipped),
        ids=tuple(q.id for q in questions),
        regression_file=regression_file,
        regression_added=added_cases,
    )


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
        f"Draft, to be refined by a curator: this is the {role.name}'s call. "
        f'The {role.name} answers "{role.question}"'
    )


# --------------------------------------------------------------------------- helpers
def _unique(ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        raise ReviewError("give at least one question id (see `rolebot unanswered list`)")
    return wanted


def _require_found(wanted: Sequence[int], found: dict[int, LoggedQuestion]) -> None:
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise ReviewError(
            f"no logged question with id{plural} {', '.join(missing)} "
            "(see `rolebot unanswered list`)"
        )


def _open_questions(store: Store, wanted: Sequence[int]) -> list[LoggedQuestion]:
    found = {q.id: q for q in store.get_questions(wanted)}
    _require_found(wanted, found)
    closed = [found[i] for i in wanted if found[i].status != Status.OPEN]
    if closed:
        described = ", ".join(
            f"{q.id} ({q.status}{' to ' + q.resolved_entry_id if q.resolved_entry_id else ''})"
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
