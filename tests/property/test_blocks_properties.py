"""Every Block Kit reply, for any question and any knowledge text: within Slack's limits, inert.

The builders are pure, so each property builds its inputs directly: a question as someone could
type it (:func:`hostile.user_text`) and a knowledge base whose every string is hostile but
loadable-ish (:func:`hostile_knowledge`). Each payload is serialized and checked whole.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hostile import (
    assert_inert,
    assert_message,
    assert_view,
    curated_pool,
    curated_text,
    pick,
    seeded,
    user_text,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import Answer
from bot.core.knowledge import (
    DISTINCTIONS,
    ROLE_IDS,
    Aspect,
    Contacts,
    Entry,
    Handoff,
    Knowledge,
    Role,
    bundled_knowledge_dir,
    load_knowledge,
)
from bot.core.matching import Candidate, MatchResult, Query
from bot.core.normalize import clean
from bot.core.roles import RoleLookup
from bot.slack.blocks.answer import (
    answer_message,
    helpful_thanks,
    wrong_role_prompt,
    wrong_role_thanks,
)
from bot.slack.blocks.curate import announcement, answer_modal, drafts_blocks, promoted_notice
from bot.slack.blocks.home import home_view
from bot.slack.blocks.message import with_share
from bot.slack.blocks.review import review_message
from bot.slack.blocks.roles import compare_message, help_message, lookup_message, role_message
from bot.slack.blocks.safe import contact_mentions, decode_value, escape
from bot.store.interface import LoggedQuestion, QuestionGroup

_BASE = load_knowledge(bundled_knowledge_dir())
COMMANDS = st.sampled_from(("/role", "/who-owns", "/r"))
"""The slash command comes from configuration, not from people."""

# ---------------------------------------------------------------------- strategies
_VALID_ID = {
    "user": st.from_regex(r"\A[UW][A-Z0-9]{2,11}\Z"),
    "group": st.from_regex(r"\AS[A-Z0-9]{2,11}\Z"),
    "channel": st.from_regex(r"\A[CG][A-Z0-9]{2,11}\Z"),
}
_BAD_IDS = st.sampled_from(
    (
        "",
        "<!channel>",
        "S1|<!here>",
        "S0AB>|<!everyone",
        "U0AB> <!channel",
        "<@UEVIL1>",
        "@here",
        "u0lower",
        "C0AB|x",
        "\n",
    )
)
"""What a knowledge file could hold in a contact field: the loader refuses these, and the
builders must drop them again."""


def _contact_id(kind: str) -> st.SearchStrategy[str]:
    return _VALID_ID[kind].filter(lambda text: "EVIL" not in text and "CURATED" not in text)


CONTACTS = st.one_of(
    st.just(Contacts()),
    st.builds(
        Contacts,
        usergroup=st.none() | _contact_id("group") | _BAD_IDS,
        users=st.lists(_contact_id("user") | _BAD_IDS, max_size=14).map(tuple),
        channel=st.none() | _contact_id("channel") | _BAD_IDS,
    ),
)
EMOJI = st.from_regex(r"\A:[a-z0-9_+-]{1,30}:\Z")
"""The loader accepts only emoji codes; they are put in mrkdwn as they are."""


def _texts(rnd: random.Random, pool: list[str], most: int) -> tuple[str, ...]:
    return tuple(pick(rnd, pool) for _ in range(rnd.randint(0, most)))


@st.composite
def hostile_knowledge(draw: st.DrawFn) -> Knowledge:
    """The bundled knowledge with every string replaced by hostile text, sometimes oversized."""
    pool = draw(curated_pool())
    rnd = draw(seeded())
    aspects = tuple(Aspect(f"aspect-{n}", pick(rnd, pool)) for n in range(draw(st.integers(0, 60))))
    roles: dict[str, Role] = {}
    for role_id in ROLE_IDS:
        roles[role_id] = replace(
            _BASE.roles[role_id],
            name=pick(rnd, pool, nonempty=True),
            short_name=pick(rnd, pool, nonempty=True),
            emoji=draw(EMOJI),
            answers=pick(rnd, pool),
            question=pick(rnd, pool),
            aliases=_texts(rnd, pool, 40),
            definition=pick(rnd, pool),
            responsibilities=_texts(rnd, pool, 40),
            skills=_texts(rnd, pool, 20),
            key_metrics=_texts(rnd, pool, 20),
            stakeholders=_texts(rnd, pool, 20),
            hands_off=tuple(
                Handoff(rnd.choice((*ROLE_IDS, "nobody")), pick(rnd, pool))
                for _ in range(rnd.randint(0, 12))
            ),
            compare={a.id: pick(rnd, pool) for a in aspects if rnd.random() < 0.9},
            contacts=draw(CONTACTS),
        )
    entries = tuple(
        Entry(
            id=f"entry-{n}",
            questions=tuple(pick(rnd, pool, nonempty=True) for _ in range(rnd.randint(1, 4))),
            owner=rnd.choice(ROLE_IDS),
            distinction=rnd.choice(DISTINCTIONS),
            answer=pick(rnd, pool, nonempty=True),
        )
        for n in range(rnd.randint(1, 8))
    )
    return Knowledge(
        roles=roles,
        aspects=aspects,
        ambiguous=_BASE.ambiguous,
        entries=entries,
        directory=_BASE.directory,
        fingerprint="hostile",
    )


def curated_mentions(knowledge: Knowledge) -> set[str]:
    """The mention tokens the knowledge's contacts legitimately produce."""
    tokens: set[str] = set()
    for role in knowledge.roles.values():
        c = role.contacts
        tokens.update(re.findall(r"<[^<>]+>", contact_mentions(c.usergroup, c.users, c.channel)))
    return tokens


def _query(text: str) -> Query:
    return Query(text, "", (), (), frozenset(), (), frozenset())


def _roles(rnd: random.Random, knowledge: Knowledge, least: int, most: int) -> tuple[Role, ...]:
    ids = rnd.sample(list(knowledge.roles), rnd.randint(least, most))
    return tuple(knowledge.roles[r] for r in ids)


def make_answer(
    kind: str, question: str, knowledge: Knowledge, rnd: random.Random, phrasing: str
) -> Answer:
    """An :class:`Answer` of each outcome, as :func:`bot.core.answers.compose` would build it."""
    query = _query(question)
    entries = list(knowledge.entries)
    if kind == "answered":
        role = rnd.choice(list(knowledge.roles.values()))
        entry = rnd.choice(entries)
        candidates = (Candidate(entry.id, role.id, rnd.uniform(0, 100), phrasing),)
        result = MatchResult("answered", query, "faq", candidates, (role.id,))
        return Answer(question, result, role=role, entry=entry)
    if kind == "definition":
        role = rnd.choice(list(knowledge.roles.values()))
        result = MatchResult("answered", query, "definition", (), (role.id,))
        return Answer(question, result, role=role)
    if kind in ("close_call", "clarify"):
        roles = _roles(rnd, knowledge, 2, 2 if kind == "close_call" else 4)
        result = MatchResult(kind, query, "faq", (), tuple(r.id for r in roles))  # type: ignore[arg-type]
        return Answer(question, result, roles=roles)
    nearest = tuple(rnd.choice(entries) for _ in range(rnd.randint(0, 6)))
    nearest = tuple({e.id: e for e in nearest}.values())
    return Answer(question, MatchResult("unanswered", query), nearest=nearest)


KINDS = st.sampled_from(("answered", "definition", "close_call", "clarify", "unanswered"))


# ---------------------------------------------------------------------- answers
@given(
    KINDS,
    user_text(),
    hostile_knowledge(),
    seeded(),
    user_text(max_parts=6, limit=2000),
    st.booleans(),
    COMMANDS,
)
@settings(max_examples=300)
def test_answer_replies_are_valid_and_inert(
    kind: str,
    question: str,
    knowledge: Knowledge,
    rnd: random.Random,
    phrasing: str,
    echo_question: bool,
    command: str,
) -> None:
    answer = make_answer(kind, question, knowledge, rnd, phrasing)
    mentions = curated_mentions(knowledge)
    reply = answer_message(answer, question=question, command=command, echo_question=echo_question)
    assert_message(reply, mentions)
    assert_message(with_share(reply, f"who owns {question}"), mentions)
    # A button that carries the question gives back the question (cleaned: no invisible or
    # bidirectional characters), or its start and "…".
    shown = clean(question)
    for block in reply["blocks"]:
        for element in block.get("elements", []):
            carried = decode_value(element.get("value")).get("q")
            if carried is not None:
                assert carried == shown or shown.startswith(carried.removesuffix("…"))


@given(user_text(), hostile_knowledge(), seeded())
@settings(max_examples=150)
def test_feedback_replies_are_valid_and_inert(
    question: str, knowledge: Knowledge, rnd: random.Random
) -> None:
    mentions = curated_mentions(knowledge)
    answered = rnd.choice((None, "nobody", *knowledge.roles))
    value = {"q": question, "e": rnd.choice(knowledge.entries).id, "r": answered or ""}
    assert_message(wrong_role_prompt(knowledge, answered, value), mentions)
    role = rnd.choice((None, *knowledge.roles.values()))
    assert_message(wrong_role_thanks(role), mentions)
    assert_message(helpful_thanks(), mentions)


# ---------------------------------------------------------------------- roles
@given(hostile_knowledge(), seeded())
@settings(max_examples=150)
def test_role_cards_and_comparisons_are_valid_and_inert(
    knowledge: Knowledge, rnd: random.Random
) -> None:
    mentions = curated_mentions(knowledge)
    first, second = (rnd.choice(list(knowledge.roles.values())) for _ in range(2))
    assert_message(role_message(first, knowledge), mentions)
    assert_message(compare_message(first, second, knowledge), mentions)


@given(hostile_knowledge(), COMMANDS)
@settings(max_examples=100)
def test_help_and_home_are_valid_and_inert(knowledge: Knowledge, command: str) -> None:
    mentions = curated_mentions(knowledge)
    assert_message(help_message(knowledge, command), mentions)
    assert_view(home_view(knowledge, command), mentions)
    assert_view(home_view(knowledge, command, []), mentions)


@given(
    user_text(),
    hostile_knowledge(),
    st.sampled_from(("ambiguous", "suggestions", "none")),
    seeded(),
    COMMANDS,
)
@settings(max_examples=150)
def test_role_lookups_are_valid_and_inert(
    typed: str, knowledge: Knowledge, mode: str, rnd: random.Random, command: str
) -> None:
    roles = _roles(rnd, knowledge, 1, 4)
    if mode == "ambiguous":
        lookup = RoleLookup(typed, ambiguous=roles)
    elif mode == "suggestions":
        lookup = RoleLookup(typed, suggestions=roles)
    else:
        lookup = RoleLookup(typed)
    assert_message(lookup_message(lookup, command), curated_mentions(knowledge))


# ---------------------------------------------------------------------- review and home
@st.composite
def question_groups(draw: st.DrawFn) -> list[QuestionGroup]:
    """Open question groups as the store returns them: hostile text, any size, any history."""
    rnd = draw(seeded())
    texts = draw(st.lists(user_text(max_parts=8, limit=5000), min_size=1, max_size=5))
    # Entry ids and suggested roles are written by rolebot itself (from the matcher and from its
    # own role buttons), not typed: stale or odd ids, but never a person's text.
    odd_ids = draw(st.lists(curated_text(max_parts=3), min_size=1, max_size=3))
    groups: list[QuestionGroup] = []
    next_id = 1
    for number in range(draw(st.integers(0, 60))):
        # One group may be huge (its ids no longer fit one button value); the rest are small.
        size = rnd.choice((1, 1, 2, 7, 30, 2500 if number == 0 else 3))
        created = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rnd.randint(0, 10**6))
        members = tuple(
            LoggedQuestion(
                id=next_id + n,
                text=rnd.choice(texts),
                normalized="",
                source="mention",
                status="open",
                channel_id=None,
                user_id=None,
                best_entry_id=rnd.choice((None, "product-roadmap", *odd_ids)),
                best_score=rnd.choice((None, 0.0, 41.5, 100.0, float("nan"), 1e300)),
                suggested_role=rnd.choice((None, None, *ROLE_IDS, *odd_ids)),
                created_at=created,
            )
            for n in range(size)
        )
        next_id += size
        groups.append(QuestionGroup(members[0], members))
    return groups


@given(question_groups(), hostile_knowledge(), COMMANDS)
@settings(max_examples=100)
def test_review_list_and_curator_home_are_valid_and_inert(
    groups: list[QuestionGroup], knowledge: Knowledge, command: str
) -> None:
    mentions = curated_mentions(knowledge)
    message = review_message(groups, knowledge)
    assert_message(message, mentions)
    view = home_view(knowledge, command, groups)
    assert_view(view, mentions)
    if groups:
        shown: Any = [b for b in message["blocks"] if b["type"] == "actions"]
        assert shown, "open questions get promote and dismiss buttons"


# ---------------------------------------------------------------------- curators' loop
@given(hostile_knowledge(), user_text(max_parts=8, limit=1000), seeded(), st.booleans())
@settings(max_examples=30, deadline=None)
def test_announcements_promote_notices_drafts_and_the_answer_modal_are_inert(
    knowledge: Knowledge, written: str, rnd: random.Random, draft: bool
) -> None:
    mentions = curated_mentions(knowledge)
    entry = rnd.choice(list(knowledge.entries))
    # A curator's answer is curated text, but it is still escaped when shown.
    entry = replace(entry, answer=written or entry.answer)
    role = knowledge.roles[entry.owner]
    assert_message(announcement(role, entry, draft=draft), mentions)
    notice_text = f"Promoted to the {escape(role.name)}, as `{escape(entry.id)}`."
    assert_message(promoted_notice(notice_text, entry.id, can_write=True), mentions)
    drafts = [(e, knowledge.roles[e.owner]) for e in list(knowledge.entries)[:4]]
    blocks = drafts_blocks(drafts)
    assert_message({"text": "drafts", "blocks": blocks}, mentions)
    modal = answer_modal(entry, role, entry.answer, draft=draft)
    assert modal["type"] == "modal" and len(modal["title"]["text"]) <= 24
    element = modal["blocks"][1]["element"]
    assert element["max_length"] == 400 and len(element.get("initial_value", "")) <= 400
    # The text input's initial value is plain text Slack never renders as mrkdwn.
    assert_inert({"blocks": modal["blocks"][:1]}, mentions)
