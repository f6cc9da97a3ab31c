"""Grouping near-duplicate questions (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.normalize import normalize
from bot.store.grouping import group_questions, similarity, topic_key
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
