"""Slack-style variants for fitting the decision, and what the fitted decision makes of noise."""

from __future__ import annotations

import json

import pytest

from bot.core.engine import Engine
from bot.core.matching.augment import NAMES, variants
from bot.core.matching.calibration import CALIBRATION_FILE, SEMANTIC_CALIBRATION_FILE
from bot.core.normalize import normalize

QUESTION = "who decides whether the mobile app gets a dark mode"


def test_variants_are_deterministic_and_seeded() -> None:
    first = variants(QUESTION, 6, seed=3)
    assert first == variants(QUESTION, 6, seed=3)
    assert first != variants(QUESTION, 6, seed=4)
    assert len(first) == 6
    assert all(normalize(v) != normalize(QUESTION) for v in first)


def test_variants_cover_the_shapes_of_slack_traffic() -> None:
    many = [v for n in range(40) for v in variants(f"{QUESTION} {n}", 3)]
    assert any(v.isupper() for v in many)
    assert any("<@U" in v or "<#C" in v or "https://" in v for v in many)
    assert any(any(name in v for name in NAMES) for v in many)
    assert any("who" not in v.lower() for v in many)
    assert any(v.lower().startswith(("hey", "hi", "hello", "morning", "yo")) for v in many)


@pytest.mark.parametrize("path", [CALIBRATION_FILE, SEMANTIC_CALIBRATION_FILE])
def test_the_committed_decision_was_fitted_on_slack_style_variants(path: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    assert data["examples"]["faq_slack"] > data["examples"]["faq"]
    assert data["examples"]["off_topic_slack"] > 0


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("who decides whether we add offline mode?", "product_manager"),
        ("who tracks the budget across all the projects in the portfolio?", "program_manager"),
    ],
)
def test_greetings_names_links_and_capitals_leave_the_answer_alone(
    engine: Engine, question: str, role: str
) -> None:
    noisy = (
        f"hey team :wave: {question} thanks! https://wiki.kestrel.example/x/1",
        f"<@U0123ABC> {question[:-1]} for Quillon (TUN-4411)? cc <#C0123|proj-quillon>",
        question.upper(),
        f"I'm new on Squad Tangerine, sorry if this is obvious. {question} 🙏",
    )
    for text in noisy:
        answer = engine.ask(text)
        assert answer.outcome == "answered", (text, answer.result.confidence)
        assert answer.role is not None and answer.role.id == role, text
