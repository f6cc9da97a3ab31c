"""Answer quality on the labelled set: floors that a knowledge or matcher change must keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.core.normalize import normalize
from bot.evaluation import Report, evaluate, load_cases

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def report(engine: Engine) -> Report:
    return evaluate(engine, load_cases(HERE / "questions.yaml"))


def test_the_set_is_big_enough(report: Report) -> None:
    assert report.in_scope >= 150
    assert report.out_of_scope >= 50


def test_in_scope_accuracy_floor(report: Report) -> None:
    assert report.accuracy >= 0.90, report.summary()


def test_wrong_answer_ceiling(report: Report) -> None:
    assert report.wrong_rate <= 0.03, report.summary()


def test_out_of_scope_rejection_floor(report: Report) -> None:
    assert report.rejection >= 0.95, report.summary()


def test_plain_pm_is_clarified(report: Report) -> None:
    assert report.clarify_accuracy >= 0.9, report.summary()


def test_questions_are_not_faq_phrasings(engine: Engine) -> None:
    """The set measures generalisation: none of its questions is a curated phrasing."""
    phrasings = {normalize(q) for e in engine.knowledge.entries for q in e.questions}
    for name in ("questions.yaml", "holdout.yaml"):
        copied = [c.question for c in load_cases(HERE / name) if normalize(c.question) in phrasings]
        assert copied == [], name


def test_holdout_is_well_formed() -> None:
    cases = load_cases(HERE / "holdout.yaml")
    assert sum(c.expect not in ("none", "clarify") for c in cases) >= 100
