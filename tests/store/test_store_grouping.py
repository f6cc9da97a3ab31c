"""Grouping near-duplicate questions (pure functions, no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.core.normalize import normalize
from bot.store.grouping import (
    DEFAULT_SIMILARITY,
    MAX_TOPIC_WORDS,
    group_questions,
    similarity,
    topic_key,
)
from bot.store.interface import LoggedQuestion

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _questions(*texts: str) -> list[LoggedQuestion]:
    return [
        LoggedQuestion(
            id=index + 1,
            text=text,
            normalized=normalize(text),
            source="mention",
            status="open",
            channel_id=None,
            user_id=None,
            best_entry_id=None,
            best_score=None,
            suggested_role=None,
            created_at=NOW + timedelta(minutes=index),
        )
        for index, text in enumerate(texts)
    ]


def test_topic_key_ignores_asking_words_order_and_inflection() -> None:
    assert topic_key("Who owns the SSO rollout?") == topic_key("who's in charge of sso rollouts")
    assert topic_key("who runs the holiday party") != topic_key("who owns the launch date")
    assert topic_key("who?") == "who"  # nothing but asking words: the text itself


def test_similar_topics_group_and_different_ones_do_not() -> None:
    def alike(first: str, second: str) -> bool:
        return similarity(topic_key(first), topic_key(second)) >= 50

    assert alike("who approves the budget", "who approves the q3 budget")
    assert alike("who owns the sso rollout", "who owns the sso rolout for contractors")  # typo
    assert alike("who owns customer interviews", "who schedules customer interviews")
    assert not alike("who owns the sso rollout", "who owns the sso migration")
    assert not alike("who owns release notes", "who owns release dates")
    assert not alike("who owns the design system", "who owns the billing system")


def test_groups_most_asked_first_members_newest_first() -> None:
    questions = _questions(
        "who orders team lunch",
        "who owns the SSO rollout?",
        "who owns the sso rollout",
        "who's in charge of the sso rollout for contractors",
        "who approves vendor contracts",
        "who owns the sso rollout",
        "who signs vendor contracts",
    )
    groups = group_questions(questions)
    assert [g.count for g in groups] == [4, 2, 1]
    sso, vendors, lunch = groups
    assert sso.representative.text == "who owns the sso rollout" and sso.representative.id == 6
    assert sso.ids == (6, 4, 3, 2)
    assert {q.text for q in vendors.members} == {
        "who approves vendor contracts",
        "who signs vendor contracts",
    }
    assert lunch.representative.text == "who orders team lunch"
    assert group_questions(questions, limit=1) == [sso]
    assert group_questions([]) == []


def test_ties_go_to_the_most_recent() -> None:
    groups = group_questions(_questions("who owns the launch date", "who runs the holiday party"))
    assert [g.representative.id for g in groups] == [2, 1]


def test_a_long_question_keeps_a_bounded_topic() -> None:
    essay = " ".join(f"topic{n}word" for n in range(300))
    assert len(topic_key(essay).split()) == MAX_TOPIC_WORDS
    assert topic_key(essay) == topic_key(essay + " and a different ending altogether")


def _reference(questions: list[LoggedQuestion]) -> list[set[int]]:
    """The grouping rule with every earlier leader compared word by word (no prefilter)."""
    by_topic: dict[str, list[LoggedQuestion]] = {}
    for question in questions:
        by_topic.setdefault(topic_key(question.normalized), []).append(question)
    topics = sorted(
        by_topic,
        key=lambda t: (-len(by_topic[t]), -max(q.created_at.timestamp() for q in by_topic[t])),
    )
    leaders: list[str] = []
    clusters: list[set[int]] = []
    for topic in topics:
        scored = [(similarity(topic, leader), -i) for i, leader in enumerate(leaders)]
        best = max(scored, default=None)
        if best is not None and best[0] >= DEFAULT_SIMILARITY:
            clusters[-best[1]].update(q.id for q in by_topic[topic])
        else:
            leaders.append(topic)
            clusters.append({q.id for q in by_topic[topic]})
    return sorted(clusters, key=sorted)


def test_the_prefilter_finds_the_same_groups_as_comparing_every_pair() -> None:
    rng = random.Random(7)
    vocabulary = [
        "rollout",
        "rolout",
        "budget",
        "budgets",
        "vendor",
        "contract",
        "contracts",
        "launch",
        "checklist",
        "roadmap",
        "roadmpa",
        "hiring",
        "plan",
        "design",
        "system",
        "billing",
        "migration",
        "release",
        "notes",
        "dates",
        "customer",
        "interviews",
        "pricing",
        "sso",
        "api",
        "deprecation",
        "onboarding",
        "security",
        "review",
        "incident",
        "postmortem",
    ]
    texts = [
        "who owns the " + " ".join(rng.choices(vocabulary, k=rng.randint(1, 6))) for _ in range(300)
    ]
    questions = _questions(*texts)
    found = sorted(({q.id for q in g.members} for g in group_questions(questions)), key=sorted)
    assert found == _reference(questions)
    assert len(found) < len(texts)  # some questions did group


def test_long_near_duplicates_still_group_among_many_long_questions() -> None:
    rng = random.Random(3)
    words = [f"{a}{b}{c}" for a in "bcdfgk" for b in "aeiou" for c in "lmnprst"]
    noise = [" ".join(rng.choices(words, k=300)) for _ in range(200)]
    base = " ".join(rng.choices(words, k=300))
    typo = base.replace(base.split()[0], base.split()[0] + "x", 1)
    questions = _questions(*noise, base, typo, base)
    groups = group_questions(questions)
    assert groups[0].count == 3
    assert set(groups[0].ids) == {201, 202, 203}
