"""The App Home tab: how to ask, the roles, an example; for curators, the open questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.knowledge import Knowledge
from bot.slack.blocks.holders import defaults_blocks
from bot.slack.blocks.review import review_blocks
from bot.slack.blocks.roles import EXAMPLE_QUESTION, roles_list, usage_lines
from bot.slack.blocks.safe import (
    MAX_VIEW_BLOCKS,
    Block,
    context,
    divider,
    fit_blocks,
    header,
    section,
)
from bot.store.interface import QuestionGroup

HOME_GROUPS = 40
"""Open question groups shown to curators (2 blocks each, within the 100-block view limit)."""


def home_view(
    knowledge: Knowledge,
    command: str,
    groups: Sequence[QuestionGroup] | None = None,
    drafts: Sequence[Block] = (),
) -> dict[str, Any]:
    """The Home tab; ``groups`` is given (possibly empty) only for curators, with ``drafts``
    (draft answers to write, :func:`bot.slack.blocks.curate.drafts_blocks`)."""
    blocks: list[Block] = [
        header("Who owns this?"),
        section(
            "I settle who owns what between Product, Program, Project and Technical Program "
            "Managers, from a curated FAQ. Mention me in a channel, or write to me in the "
            f"*Messages* tab, e.g. “{EXAMPLE_QUESTION}”"
        ),
        section(usage_lines(command)),
        divider(),
        section("*The roles*\n" + roles_list(knowledge)),
        context(
            f"{len(knowledge.entries)} questions answered in the FAQ. What I can't answer goes "
            "to the curators, who add it."
        ),
    ]
    blocks += defaults_blocks(knowledge, command)
    if groups is not None:
        total = sum(g.count for g in groups)
        blocks += [
            divider(),
            *drafts,
            header("Unanswered questions"),
            context(f"You are a curator: {total} open, most asked first."),
            *review_blocks(groups, knowledge, HOME_GROUPS),
        ]
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_VIEW_BLOCKS)}
