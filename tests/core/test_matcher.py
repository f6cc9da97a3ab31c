"""The matcher's behaviour on the bundled knowledge and on small hand-built ones."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from knowledgekit import settle

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


def test_the_wrong_rate_target_comes_from_configuration(knowledge: Knowledge) -> None:
    strict = Matcher(knowledge, Thresholds(max_wrong_rate=0.0))
    lenient = Matcher(knowledge, Thresholds(max_wrong_rate=0.2))
    assert strict.cutoff > lenient.cutoff
    question = "who keeps the roadmap for the mobile app and the web one"
    assert 0.0 < strict.match(question).confidence < strict.cutoff
    assert strict.match(question).outcome != "answered"
    assert lenient.match(question).outcome == "answered"


def test_reload_swaps_knowledge_and_keeps_it_on_error(knowledge_copy: Path) -> None:
    engine = Engine(knowledge_copy)
    assert engine.ask("who feeds the office goldfish").outcome == "unanswered"
    extra = knowledge_copy / "team.yaml"
    extra.write_text(
        "entries:\n  - id: goldfish-care\n    questions: [who feeds the office goldfish]\n"
        "    owner: project_manager\n    distinction: how\n    answer: The project owns it.\n",
        encoding="utf-8",
    )
    settle(extra)
    assert engine.reload_if_changed() is not None
    assert engine.ask("who feeds the office goldfish").outcome == "answered"
    extra.write_text("entries: [oops\n", encoding="utf-8")
    settle(extra)
    result = engine.reload_if_changed()
    assert result is not None and result.error is not None and "team.yaml" in str(result.error)
    assert engine.ask("who feeds the office goldfish").outcome == "answered"  # old knowledge kept
    assert engine.reload_if_changed() is None  # the broken file is not retried until it changes


def test_per_question_work_does_not_rebuild_the_index(engine: Engine) -> None:
    index = engine.matcher.index
    engine.ask("who owns the roadmap")
    engine.ask("who tracks api dependencies")
    assert engine.matcher.index is index


# ------------------------------------------------------------------ the three defects


@pytest.mark.parametrize(
    "question",
    [
        "what's the product of 7 and 8?",
        "what's the product of 12 and 13?",
        "what is the product",
        "product?",
        "is standup at 3 pm or 4 pm today?",
    ],
)
def test_only_a_curated_phrasing_as_written_is_exact(engine: Engine, question: str) -> None:
    """A score of 100 means a curated phrasing asked as written; a message that asks nobody
    is not an ownership question, however well one of its words matches."""
    result = engine.ask(question).result
    assert all(c.score < 100 for c in result.candidates), result.candidates[:2]
    assert result.outcome != "answered", (question, result.candidates[:2])


def test_a_curated_phrasing_with_other_markup_and_case_is_exact(engine: Engine) -> None:
    entry = engine.knowledge.entries[0]
    phrasing = entry.questions[0]
    result = engine.ask(f"<@U0BOT> *{phrasing.upper()}*?!").result
    assert result.outcome == "answered" and result.entry_id == entry.id
    assert result.score == 100.0 and result.confidence >= 0.95


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("who is the product owner for the mobile app?", "product_manager"),
        ("who is the product manager for the web app?", "product_manager"),
        ("who's our TPM on the payments work", "technical_program_manager"),
        ("which project manager runs the Orbit migration?", "project_manager"),
        ("who's the program manager for the retail expansion", "program_manager"),
        # A fragment that opens with the role and what it holds asks the same.
        ("TPM for the payments re-platform?", "technical_program_manager"),
        ("PROJECT MANAGER FOR THE LUMEN WEBSITE REFRESH PROJECT??", "project_manager"),
        ("product owner on the Zephyrine app?", "product_manager"),
    ],
)
def test_a_role_asked_for_by_name_is_the_answer(engine: Engine, question: str, role: str) -> None:
    answer = engine.ask(question)
    assert answer.outcome == "answered", answer.result.candidates[:2]
    assert answer.role is not None and answer.role.id == role


@pytest.mark.parametrize(
    "question",
    [
        "who is the PM for Zephyrine?",
        "who's the PM on the Quasar team?",
        "PM for the Zephyrine project?",
        "hey who's PM on <#C0ZEPHYR|zephyr-dev>",
    ],
)
def test_asking_who_holds_a_shared_title_is_clarified(engine: Engine, question: str) -> None:
    """A title three roles share, asked who holds it with nothing but names (and a bare team
    or project) to say which: rolebot asks which PM is meant, whatever those names match."""
    result = engine.ask(question).result
    assert result.query.asks_ambiguous, question
    assert result.outcome == "clarify", (question, result.outcome, result.roles)
    assert set(result.roles) == {"product_manager", "program_manager", "project_manager"}
    assert result.features == ()  # settled before the calibrated decision


@pytest.mark.parametrize(
    "text",
    [
        "can you PM me the link?",
        "I PM'd him the deck",
        "pls pm me when it's done",
        "how do I send someone a PM without the channel seeing it?",
        "I got a PM from a random account asking for my password",
    ],
)
def test_pm_as_a_verb_is_a_private_message_not_a_role(engine: Engine, text: str) -> None:
    query = engine.matcher.index.analyze(text)
    assert query.ambiguous == () and query.roles == frozenset(), text
    assert engine.ask(text).outcome == "unanswered", text


def test_a_topic_can_settle_which_pm_is_meant(engine: Engine) -> None:
    """With a topic ("the roadmap", "the launch date"), the calibrated decision weighs it."""
    asked = engine.ask("who is the PM for the roadmap?").result
    assert asked.query.asks_ambiguous and asked.features != ()
    query = engine.matcher.index.analyze("can the PM tell me when the launch date is?")
    assert query.ambiguous and not query.asks_ambiguous


def test_a_role_opening_a_statement_is_not_what_it_asks(knowledge: Knowledge) -> None:
    """The fragment form is short, has a topic, asks nothing else after the role, and without
    a question mark does not read as a statement."""
    from bot.core.matching.analyzer import Analyzer

    analyzer = Analyzer(knowledge)
    for fragment in ("TPM for the payments re-platform?", "TPM for the payments re-platform"):
        assert analyzer.analyze(fragment).holder == "technical_program_manager", fragment
    for text in (
        "our TPM for payments is out today",  # a statement
        "the TPM for payments was reassigned",
        "Program manager of the month?",  # nothing held, only a time
        "TPM for payments, whats the status?",  # a question of its own
        "product manager for Zephyrine says the roadmap is frozen, who decides on pricing?",
        "product manager for the web app and the mobile app and the partner portal and docs?",
    ):
        assert analyzer.analyze(text).holder is None, text


def test_a_role_named_in_an_off_topic_question_is_not_an_answer(engine: Engine) -> None:
    assert engine.ask("who's the product owner of the sourdough starter in the fridge").outcome == (
        "unanswered"
    )


@pytest.mark.parametrize(
    "question",
    [
        "who's the on-call engineer this week?",
        "who in legal signs NDAs with vendors?",
        "is standup at 3 pm or 4 pm today?",
    ],
)
def test_one_domain_word_does_not_make_a_question_in_scope(engine: Engine, question: str) -> None:
    result = engine.ask(question).result
    assert result.outcome == "unanswered", (question, result.confidence, result.candidates[:2])


def test_a_clock_time_is_not_the_abbreviation_pm(engine: Engine) -> None:
    query = engine.matcher.index.analyze("sync at 3 pm, or 4:30pm?")
    assert query.ambiguous == ()


def test_names_ids_and_links_are_neutral(engine: Engine) -> None:
    plain = engine.ask("who tracks spend on the invoice templates project?").result
    named = engine.ask(
        "who tracks spend on the Driftwood invoice templates project? "
        "https://jira.example.com/browse/PAY-142"
    ).result
    assert named.best is not None and plain.best is not None
    assert named.best.role == plain.best.role == "project_manager"
    assert named.best.score >= plain.best.score - 1.0
    assert {"driftwood", "pay"} <= engine.matcher.index.analyze(named.query.text).neutral


def test_a_message_in_capitals_reads_as_its_lower_case_form(engine: Engine) -> None:
    """Capitals throughout are the writer's habit, not names: every word keeps its evidence."""
    question = "who tracks the budget across all the projects in the portfolio?"
    lower = engine.ask(question).result
    for shouted in (question.upper(), question.title()):
        result = engine.ask(shouted).result
        assert result.query.neutral == frozenset(), shouted
        assert result.features == lower.features, shouted
        assert (result.outcome, result.roles) == (lower.outcome, lower.roles), shouted
    # In an ordinary sentence, a name or an id stays neutral; an acronym is jargon, asked about.
    mixed = engine.matcher.index.analyze("who owns the SSO rollout for ORB-12 in Orbit?")
    assert {"orb", "12", "orbit"} <= mixed.neutral
    assert "sso" not in mixed.neutral


def test_a_channel_name_is_neutral(engine: Engine) -> None:
    query = engine.matcher.index.analyze("<#C0KESTREL|proj-kestrel-web> who owns the roadmap?")
    assert {"proj", "kestrel", "web"} <= query.neutral


def test_scope_separates_one_project_from_several(engine: Engine) -> None:
    one = engine.ask("who keeps the schedule for the checkout redesign project?").result
    several = engine.ask(
        "who keeps the overall schedule across the app project, the website project and the "
        "partner portal project?"
    ).result
    assert one.best is not None and one.best.role == "project_manager"
    assert several.best is not None and several.best.role == "program_manager"
    listed = engine.ask(
        "who keeps the overall schedule for Northstar: the app project, the website project "
        "and the partner portal project?"
    )
    assert listed.role is not None and listed.role.id == "program_manager"
    assert "project" not in listed.result.query.tokens  # every mention is one of several


def test_one_project_named_twice_is_still_one_project(engine: Engine) -> None:
    """A singular repeated with the same or no qualifier ("the project plan for the Orbit
    pricing page project", "that one project") names one project, not several."""
    analyze = engine.matcher.index.analyze
    for text in (
        "where's the project plan for the Orbit pricing page project and who maintains it?",
        "who updates the project board for the Pebble analytics dashboard project",
        "I need the plan for the Evergreen website project (just that one project). who has it?",
    ):
        query = analyze(text)
        assert "project" in query.tokens and "projects" not in query.tokens, text
        result = engine.ask(text).result
        assert result.best is not None and result.best.role == "project_manager", text
    for several in (
        "who lines up the mobile project with the web project?",
        "who tracks project Orbit and project Nova?",  # named after the noun
        "who handles the phase 1 project and the phase 2 project?",
        "who owns the cross-project calendar?",
    ):
        query = analyze(several)
        assert "projects" in query.tokens and "project" not in query.tokens, several
    for one in (
        "who decides project scope for the mobile project?",  # the verb is no qualifier
        "who approves project budget for the mobile project?",
        "who coordinates across the project?",
    ):
        query = analyze(one)
        assert "project" in query.tokens and "projects" not in query.tokens, one


def test_names_and_a_loose_across_are_not_scope_cues(engine: Engine) -> None:
    from bot.core.matching.matcher import _scope

    analyze = engine.matcher.index.analyze
    assert _scope(analyze("who decides which features are paid in Ledgerly Teams?")) == ""
    assert _scope(analyze("who balances work across the people on the FAQ project")) == "one"
    assert _scope(analyze("who balances work across the Orbit project?")) == "one"
    assert _scope(analyze("who runs the Orbit Project?")) == "one"  # a name, still one project
    assert _scope(analyze("who handles the cross team sync?")) == "many"
    assert _scope(analyze("who sorts out cross-team dependencies on the API?")) == "engineering"
    assert _scope(analyze("who aligns the schedules across departments?")) == "many"
    assert _scope(analyze("who keeps the schedule for the help center project?")) == "one"


def test_another_project_and_an_initiative_are_several(engine: Engine) -> None:
    from bot.core.matching.matcher import _scope

    analyze = engine.matcher.index.analyze
    assert _scope(analyze("who approves moving budget from one Zephyr project to another?")) == (
        "many"
    )
    assert _scope(analyze("my project is blocked by another project, who sorts it out?")) == (
        "many"
    )
    assert _scope(analyze("who owns the risks of the Zephyr initiative as a whole?")) == "many"
    assert _scope(analyze("who lines up the firmware and cloud teams?")) == "engineering"
    assert _scope(analyze("who tracks spend across the Zephyr loyalty workstreams?")) == "many"
    one = analyze("who do I tell if the Zephyr print project needs another week?")
    assert _scope(one) == "one"  # "another week" is no second project


def test_departments_named_together_are_the_scope_not_the_topic(engine: Engine) -> None:
    """ "HR, finance and facilities" are the departments a piece of work spans: several, and
    not off-topic although each is a lexicon word on its own."""
    from bot.core.matching.matcher import _scope

    index = engine.matcher.index
    spans = index.analyze(
        "who keeps the overall schedule? HR, finance and facilities all have parts"
    )
    assert spans.departments == 3 and _scope(spans) == "many"
    assert index.off_topic(spans) is None
    alone = index.analyze("who do I ask about my HR file?")
    assert alone.departments == 1 and index.off_topic(alone) is not None


def test_a_named_projects_subject_is_not_off_topic(engine: Engine) -> None:
    """ "The Zephyr podcast project" is a work project about podcasts; "my science project"
    and "a podcast recommendation" stay off-topic."""
    index = engine.matcher.index
    named = index.analyze("who tracks the budget on the Zephyr podcast project?")
    assert named.subject and index.off_topic(named) is None
    assert engine.ask("who tracks the budget on the Zephyr podcast project?").role is not None
    named = index.analyze(
        "who schedules the tasks for the Zephyr employee handbook update project?"
    )
    assert {"handbook", "employe"} <= named.subject  # the whole name, up to a function word
    for text in ("any good podcast recommendations for the commute?", "who has a podcast mic?"):
        query = index.analyze(text)
        assert not query.subject and index.off_topic(query) is not None, text


def test_an_acronyms_plural_is_found_in_the_off_topic_lexicon(engine: Engine) -> None:
    index = engine.matcher.index
    assert index.off_topic(index.analyze("who in legal signs NDAs with vendors?")) is not None


@pytest.mark.parametrize(
    "question",
    [
        "who maintains the PM (preventive maintenance) schedule for the HVAC in building B?",
        "who's the PM of the UK right now? we are debating it at lunch",
    ],
)
def test_an_off_topic_pm_question_is_declined_not_clarified(engine: Engine, question: str) -> None:
    assert engine.ask(question).outcome == "unanswered"


def test_confidence_is_a_probability_and_follows_the_answer(engine: Engine) -> None:
    sure = engine.ask("who decides whether we add offline mode?").result
    off = engine.ask("who owns the espresso machine?").result
    assert 0.0 <= off.confidence < sure.confidence <= 1.0
    assert sure.confidence >= engine.matcher.cutoff


def test_the_semantic_second_opinion_joins_the_decision(knowledge: Knowledge) -> None:
    """With the semantic index its features join the calibrated decision (its own fitted
    coefficients); without it the lexical coefficients decide alone."""
    from bot.core.matching.calibration import FEATURES, SEMANTIC_FEATURES
    from bot.core.matching.semantic import SemanticIndex

    index = SemanticIndex.build(knowledge)
    if index is None:
        pytest.skip("the semantic extra is not installed")
    lexical = Matcher(knowledge)
    semantic = Matcher(knowledge, semantic=index)
    assert semantic.calibration.features == SEMANTIC_FEATURES
    assert lexical.calibration.features == FEATURES
    question = "who decides whether the Orbit app should get an offline mode at all?"
    with_vectors = semantic.match(question)
    alone = lexical.match(question)
    assert len(with_vectors.features) == len(SEMANTIC_FEATURES)
    assert with_vectors.features[: len(FEATURES)] == alone.features
    assert with_vectors.role == alone.role == "product_manager"
    for text in ("who's the on-call engineer this week?", "what's the product of 7 and 8?"):
        assert semantic.match(text).outcome == "unanswered"
    emoji = semantic.match("who owns :tada: 🎉🎉 " * 500)
    assert 0.0 <= emoji.confidence <= 1.0
