"""Engine.ask on the bundled knowledge, for any question: total, well-formed and deterministic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile import INJECTIONS, ODD, WORDS, plain_question
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.answers import Answer
from bot.core.engine import Engine
from bot.core.knowledge import ROLE_IDS, Knowledge, bundled_knowledge_dir, load_knowledge
from bot.core.normalize import clean

OUTCOMES = ("answered", "close_call", "clarify", "unanswered")

_KNOWLEDGE = load_knowledge(bundled_knowledge_dir())
_PHRASINGS = sorted((q, e.id) for e in _KNOWLEDGE.entries for q in e.questions)
_ROLE_WORDS = sorted(
    {w for r in _KNOWLEDGE.roles.values() for w in (r.name, r.short_name, *r.aliases)}
    | {a.abbreviation for a in _KNOWLEDGE.ambiguous}
)
_VOCABULARY = sorted({w for q, _ in _PHRASINGS for w in q.split()})


@st.composite
def near_phrasing(draw: st.DrawFn) -> str:
    """A real phrasing, then bent: words dropped, swapped, doubled, misspelt; role names added."""
    words = draw(st.sampled_from(_PHRASINGS))[0].split()
    for _ in range(draw(st.integers(0, 4))):
        if not words:
            break
        where = draw(st.integers(0, len(words) - 1))
        action = draw(st.sampled_from(("drop", "vocab", "role", "typo", "odd", "upper", "dup")))
        word = words[where]
        if action == "drop":
            del words[where]
        elif action == "vocab":
            words[where] = draw(st.sampled_from(_VOCABULARY))
        elif action == "role":
            words.insert(where, draw(st.sampled_from(_ROLE_WORDS)))
        elif action == "typo" and len(word) > 3:
            cut = draw(st.integers(1, len(word) - 2))
            words[where] = word[:cut] + word[cut + 1 :]
        elif action == "odd":
            words.insert(where, draw(st.sampled_from(ODD + INJECTIONS)))
        elif action == "upper":
            words[where] = word.upper()
        else:
            words.insert(where, word)
    return " ".join(words) + draw(st.sampled_from(("", "?", "??", " ?", "!")))


QUESTIONS = st.one_of(
    plain_question(),
    near_phrasing(),
    st.lists(st.sampled_from(_ROLE_WORDS + list(WORDS)), max_size=8).map(" ".join),
)


@pytest.fixture(scope="module")
def second_engine() -> Iterator[Engine]:
    """An engine of its own, which has seen other questions (its typo cache differs)."""
    engine = Engine(bundled_knowledge_dir())
    for question, _ in _PHRASINGS[::50]:
        engine.ask(question.upper() + " zzqx")
    yield engine


def assert_well_formed(answer: Answer, knowledge: Knowledge) -> None:
    result = answer.result
    assert answer.outcome in OUTCOMES
    assert result.role is None or result.role in ROLE_IDS
    assert (result.role is not None) == (answer.outcome == "answered")
    assert all(role in ROLE_IDS for role in result.roles)
    assert len(set(result.roles)) == len(result.roles)
    scores = [c.score for c in result.candidates]
    assert all(0.0 <= s <= 100.0 for s in scores), scores
    assert scores == sorted(scores, reverse=True), scores
    assert 0.0 <= answer.score <= 100.0
    assert len(result.candidates) <= 5
    assert len({c.entry_id for c in result.candidates}) == len(result.candidates)
    for candidate in result.candidates:
        entry = knowledge.entry(candidate.entry_id)
        assert candidate.role == entry.owner
        assert candidate.phrasing in entry.questions
    if answer.outcome == "answered":
        assert answer.role is not None and answer.role.id == result.role
        # Answered from an FAQ entry of that role, or with the role's definition.
        if answer.entry is not None:
            assert result.kind == "faq" and answer.entry.owner == answer.role.id
            assert answer.distinction
        else:
            assert result.kind == "definition"
    elif answer.outcome == "close_call":
        assert len(answer.roles) == 2 and answer.role is None and answer.entry is None
    elif answer.outcome == "clarify":
        assert len(answer.roles) >= 2 and answer.role is None and answer.entry is None
    else:
        assert answer.role is None and answer.entry is None and not answer.roles
        assert len(answer.nearest) <= 3
        assert all(knowledge.entry(e.id) is e for e in answer.nearest)


@given(QUESTIONS)
@example("")
@example("?")
@example("<!here>")
@example("what does a TPM do")
@example("the PM")
@example("who owns the " + "roadmap " * 6000)
@example("\ufdfa" * 3000)
@settings(max_examples=200)
def test_any_question_gives_a_well_formed_answer(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.question == clean(question)  # valid Unicode, nothing invisible
    assert_well_formed(answer, engine.knowledge)


@given(QUESTIONS)
@settings(max_examples=150)
def test_answers_are_deterministic(engine: Engine, second_engine: Engine, question: str) -> None:
    """Same question, same answer: asked twice, or by another engine with another history."""
    first = engine.ask(question)
    assert engine.ask(question).result == first.result
    other = second_engine.ask(question)
    assert other.result == first.result
    assert (other.role, other.entry, other.roles, other.nearest) == (
        first.role,
        first.entry,
        first.roles,
        first.nearest,
    )


@given(
    st.sampled_from(_PHRASINGS),
    st.sampled_from(("", "<@U024BE7LH> ", "<!here> ", "> ", "*", "_")),
    st.sampled_from(("", "?", " :thinking_face:", "!!", "*", "_")),
    st.booleans(),
)
@settings(max_examples=200)
def test_a_curated_phrasing_answers_with_its_entry(
    engine: Engine, phrasing: tuple[str, str], prefix: str, suffix: str, shout: bool
) -> None:
    """Every phrasing in the FAQ, however Slack decorates it, is its own entry's question."""
    text, entry_id = phrasing
    asked = prefix + (text.upper() if shout else text) + suffix
    answer = engine.ask(asked)
    assert answer.outcome == "answered", (asked, answer.outcome)
    assert answer.entry is not None and answer.entry.id == entry_id
    assert answer.score == 100.0
