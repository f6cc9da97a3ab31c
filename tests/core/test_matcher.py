"""The matcher's behaviour on the bundled knowledge and on small hand-built ones."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Thresholds
from bot.core.engine import Engine
from bot.core.knowledge import Knowledge
from bot.core.matching import Matcher


def test_the_two_examples_from_the_brief(engine: Engine) -> None:
    answer = engine.ask("who decides whether we add offline mode?")
    assert answer.outcome == "answered"
    assert answer.role is not None and answer.role.id == "product_manager"
    assert answer.entry is not None and answer.distinction.startswith("A *why* question")
    answer = engine.ask("who gets docs, training and marketing ready for launch day?")
    assert answer.outcome == "answered"
    assert answer.role is not None and answer.role.id == "program_manager"


@pytest.mark.parametrize(
    "question",
    [
        "where's the nearest ATM?",
        "good morning",
        "🎉",
        "",
        "   ",
        ":tada: :tada:",
        "thanks!",
        "who owns the espresso machine?",
        "<!channel> <!here>",
        "?!?!",
        "12345",
    ],
)
def test_out_of_scope_is_unanswered(engine: Engine, question: str) -> None:
    result = engine.ask(question).result
    assert result.outcome == "unanswered", (question, result.candidates[:2])
    assert result.role is None


@pytest.mark.parametrize("question", ["who's the PM here?", "the pm", "ask the PM", "PMs?"])
def test_plain_pm_asks_which_pm(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.outcome == "clarify"
    assert {r.id for r in answer.roles} == {"product_manager", "program_manager", "project_manager"}


def test_a_named_role_alone_is_a_definition(engine: Engine) -> None:
    answer = engine.ask("what does a TPM do?")
    assert answer.outcome == "answered" and answer.result.kind == "definition"
    assert answer.role is not None and answer.role.id == "technical_program_manager"
    assert answer.entry is None


def test_two_named_roles_alone_ask_which(engine: Engine) -> None:
    answer = engine.ask("product manager vs program manager?")
    assert answer.outcome == "clarify"
    assert [r.id for r in answer.roles] == ["product_manager", "program_manager"]


def test_typos_and_markup_still_match(engine: Engine) -> None:
    answer = engine.ask("<@U024BE7LH> who *prioritzes* the roadmpa?")
    assert answer.outcome == "answered"
    assert answer.role is not None and answer.role.id == "product_manager"


def test_a_real_word_is_never_corrected_into_a_domain_word(engine: Engine) -> None:
    # "lunch" is one letter from "launch": it must not become a launch question.
    result = engine.ask("who's bringing lunch on friday?").result
    assert result.outcome == "unanswered"
    assert "lunch" in result.unknown_words


def test_off_topic_words_push_a_question_out(engine: Engine) -> None:
    assert engine.ask("who owns the roadmap").outcome == "answered"
    result = engine.ask("is there a roadmap for when the parking garage reopens").result
    assert result.outcome == "unanswered"


def test_every_faq_phrasing_routes_to_its_own_entry(engine: Engine) -> None:
    from bot.evaluation import entries_route_to_themselves

    assert entries_route_to_themselves(engine) == []


def test_candidates_are_sorted_distinct_entries(engine: Engine) -> None:
    result = engine.ask("who tracks cross team api dependencies and migrations").result
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert len({c.entry_id for c in result.candidates}) == len(result.candidates)
    assert all(0 <= s <= 100 for s in scores)


def _two_entry_knowledge(knowledge: Knowledge) -> Knowledge:
    base = knowledge.entries[0]
    entries = (
        replace(
            base,
            id="a",
            owner="program_manager",
            distinction="how",
            questions=("who coordinates the launch checklist",),
        ),
        replace(
            base,
            id="b",
            owner="project_manager",
            distinction="how",
            questions=("who coordinates launch checklists",),
        ),
    )
    return replace(knowledge, entries=entries, off_topic=())


def test_two_roles_within_the_margin_make_a_close_call(knowledge: Knowledge) -> None:
    matcher = Matcher(_two_entry_knowledge(knowledge), Thresholds(answer=30, margin=15))
    result = matcher.match("coordinating the launch checklist, anyone?")
    assert result.outcome == "close_call"
    assert set(result.roles) == {"program_manager", "project_manager"}
    assert result.role is None and result.entry_id is None


def test_thresholds_come_from_configuration(knowledge: Knowledge) -> None:
    strict = Matcher(knowledge, Thresholds(answer=99.5, margin=0))
    lenient = Matcher(knowledge, Thresholds(answer=1, margin=0))
    question = "who keeps the roadmap for the mobile app"
    assert strict.match(question).outcome == "unanswered"
    assert lenient.match(question).outcome == "answered"


def _still(path: Path) -> None:
    """As if written a few seconds ago: the folder has been still since."""
    past = time.time() - 5
    os.utime(path, (past, past))


def test_reload_swaps_knowledge_and_keeps_it_on_error(knowledge_copy: Path) -> None:
    engine = Engine(knowledge_copy)
    assert engine.ask("who feeds the office goldfish").outcome == "unanswered"
    extra = knowledge_copy / "team.yaml"
    extra.write_text(
        "entries:\n  - id: goldfish-care\n    questions: [who feeds the office goldfish]\n"
        "    owner: project_manager\n    distinction: how\n    answer: The project owns it.\n",
        encoding="utf-8",
    )
    _still(extra)
    assert engine.reload_if_changed() is not None
    assert engine.ask("who feeds the office goldfish").outcome == "answered"
    extra.write_text("entries: [oops\n", encoding="utf-8")
    _still(extra)
    result = engine.reload_if_changed()
    assert result is not None and result.error is not None and "team.yaml" in str(result.error)
    assert engine.ask("who feeds the office goldfish").outcome == "answered"  # old knowledge kept
    assert engine.reload_if_changed() is None  # the broken file is not retried until it changes


def test_per_question_work_does_not_rebuild_the_index(engine: Engine) -> None:
    index = engine.matcher.index
    engine.ask("who owns the roadmap")
    engine.ask("who tracks api dependencies")
    assert engine.matcher.index is index
