"""The curators' view of unanswered questions: grouped, with promote and dismiss buttons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.core.knowledge import Knowledge
from bot.slack.blocks.message import DISMISS, PROMOTE, Message, action_id, message
from bot.slack.blocks.safe import Block, actions, button, echo, encode_value, escape, section
from bot.store.interface import QuestionGroup

MAX_IDS_CHARS = 1800
"""A button value holds the ids of the questions it acts on; a huge group is done in parts."""


def ids_value(ids: Sequence[int]) -> str:
    """Comma-separated ids, as many as fit in a button value."""
    parts: list[str] = []
    length = 0
    for question_id in ids:
        text = str(question_id)
        if length + len(text) + 1 > MAX_IDS_CHARS:
            break
        parts.append(text)
        length += len(text) + 1
    return ",".join(parts)


def parse_ids(text: str | None) -> list[int]:
    """The ids :func:`ids_value` wrote; anything else is ignored."""
    ids: list[int] = []
    for part in (text or "").split(","):
        if part.strip().isdigit():
            ids.append(int(part.strip()))
    return ids


def group_blocks(group: QuestionGroup, number: int, knowledge: Knowledge) -> list[Block]:
    """One group: what was asked, how often, what came closest; promote/dismiss buttons."""
    rep = group.representative
    count = group.count
    lines = [f"*“{echo(rep.text, 500)}”*"]
    facts = [f"asked {count} time{'s' if count != 1 else ''}"]
    facts.append(f"since {rep.created_at:%Y-%m-%d}")
    if rep.best_entry_id:
        score = f", {rep.best_score:.0f}" if rep.best_score is not None else ""
        facts.append(f"nearest: `{escape(rep.best_entry_id)}`{score}")
    lines.append(" · ".join(facts))
    suggested = Counter(m.suggested_role for m in group.members if m.suggested_role)
    if suggested:
        said = ", ".join(
            f"{escape(knowledge.roles[r].short_name if r in knowledge.roles else r)} ×{n}"
            for r, n in suggested.most_common()
        )
        lines.append(f"Wrong-role reports say: {said}")
    ids = ids_value(group.ids)
    buttons = [
        button(
            f"Promote: {role.short_name}",
            action_id(PROMOTE, role.id, number),
            encode_value({"i": ids, "r": role.id}),
        )
        for role in knowledge.roles.values()
    ]
    buttons.append(
        button(
            "Dismiss",
            action_id(DISMISS, number),
            encode_value({"i": ids}),
            style="danger",
            confirm=(
                "Dismiss this question?",
                f"{count} question{'s' if count != 1 else ''} will leave the queue.",
                "Dismiss",
            ),
        )
    )
    return [section("\n".join(lines)), actions(buttons)]


def review_blocks(groups: Sequence[QuestionGroup], knowledge: Knowledge, limit: int) -> list[Block]:
    """Up to ``limit`` groups (2 blocks each), most asked first."""
    if not groups:
        return [section("No open questions. Everything asked so far has an answer.")]
    blocks: list[Block] = []
    for number, group in enumerate(groups[:limit]):
        blocks += group_blocks(group, number, knowledge)
    return blocks


def review_message(groups: Sequence[QuestionGroup], knowledge: Knowledge) -> Message:
    total = sum(g.count for g in groups)
    head = (
        f"*Unanswered questions*: {total} open in {len(groups)} group"
        f"{'s' if len(groups) != 1 else ''}, most asked first. Promoting writes a new FAQ "
        "entry owned by that role."
    )
    blocks = [section(head), *review_blocks(groups, knowledge, limit=20)]
    return message(head, blocks)
