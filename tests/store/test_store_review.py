"""Promote and dismiss: knowledge file edits that keep the curators' text, validated, atomic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from storekit import record

from bot.core.engine import Engine
from bot.core.knowledge import load_knowledge
from bot.core.knowledge.writer import (
    PROMOTED_FILE,
    KnowledgeEdit,
    KnowledgeWriteError,
    NewEntry,
    add_phrasings,
    append_entry,
    append_eval_cases,
)
from bot.errors import KnowledgeError, StoreError
from bot.review import ReviewError, dismiss, draft_answer, promote
from bot.store import Source, SqlStore


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Review logic on SQLite only: the store itself is tested on both databases."""
    return sqlite_url


def _log(store: SqlStore, *texts: str) -> list[int]:
    for text in texts:
        store.log_question(record(text))
    return sorted(q.id for q in store.list_questions())[-len(texts) :]


# --------------------------------------------------------------------------- writer
def test_add_phrasings_keeps_every_other_line(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "# header comment\n"
        "entries:\n"
        "  # -- section\n"
        "  - id: first\n"
        "    questions:\n"
        "      - who owns a   # trailing comment\n"
        "      - who owns b\n"
        "\n"
        "    owner: product_manager\n"
        "    answer: >-\n"
        "      folded\n"
        "      text\n"
        "\n"
        "  # -- next section\n"
        "  - id: second\n"
        '    questions: [who owns c, "who owns d"]\n'
        "    owner: program_manager\n"
    )
    before = path.read_text().splitlines()
    add_phrasings(path, "first", ["who owns e", "yes", "what: a colon # and a hash"])
    add_phrasings(path, "second", ["who owns f"])
    after = path.read_text().splitlines()
    added = [line for line in after if line not in before]
    assert added == [
        "      - who owns e",
        '      - "yes"',
        '      - "what: a colon # and a hash"',
        '    questions: [who owns c, "who owns d", "who owns f"]',
    ]
    assert [line for line in before if line not in after] == [
        '    questions: [who owns c, "who owns d"]'
    ]
    data = yaml.safe_load(path.read_text())
    assert data["entries"][0]["questions"] == [
        "who owns a",
        "who owns b",
        "who owns e",
        "yes",
        "what: a colon # and a hash",
    ]
    assert data["entries"][0]["answer"] == "folded text"
    assert data["entries"][1]["questions"][-1] == "who owns f"
    with pytest.raises(KnowledgeWriteError, match="no entry with id 'missing'"):
        add_phrasings(path, "missing", ["x"])


def test_append_entry_creates_the_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / PROMOTED_FILE
    append_entry(path, NewEntry("one", ("who owns one",), "project_manager", "how", "Draft one."))
    append_entry(path, NewEntry("two", ("who owns two", "no"), "product_manager", "why", "Two."))
    text = path.read_text()
    assert text.startswith("# rolebot FAQ entries promoted")
    data = yaml.safe_load(text)
    assert [e["id"] for e in data["entries"]] == ["one", "two"]
    assert data["entries"][1]["questions"] == ["who owns two", "no"]
    assert data["entries"][0]["answer"] == "Draft one."


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_bytes(b"entries:\r\n  - id: a\r\n    questions:\r\n      - who owns a\r\n")
    add_phrasings(path, "a", ["who owns b"])
    assert path.read_bytes().endswith(b"      - who owns a\r\n      - who owns b\r\n")


def test_eval_cases_are_appended_once(tmp_path: Path) -> None:
    path = tmp_path / "eval" / "promoted.yaml"
    path.parent.mkdir()
    assert append_eval_cases(path, [("who owns <@U1> x?", "product_manager")]) == 1
    assert (
        append_eval_cases(path, [("Who owns x", "product_manager"), ("y", "project_manager")]) == 1
    )
    assert yaml.safe_load(path.read_text())["questions"] == [
        {"q": "who owns <@U1> x?", "expect": "product_manager"},
        {"q": "y", "expect": "project_manager"},
    ]


def test_knowledge_edit_rolls_back(tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text("entries:\n  - id: a\n    questions:\n      - who owns a\n")
    original = faq.read_bytes()
    with pytest.raises(RuntimeError), KnowledgeEdit(tmp_path) as edit:
        edit.add_phrasings(faq, "a", ["who owns b"])
        edit.append_entry(tmp_path / PROMOTED_FILE, NewEntry("b", ("q",), "x", "why", "y"))
        raise RuntimeError("validation failed")
    assert faq.read_bytes() == original
    assert not (tmp_path / PROMOTED_FILE).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["faq.yaml"]  # no temporary files left


# --------------------------------------------------------------------------- promote
def test_promote_to_a_new_entry_is_answered_next_time(
    store: SqlStore, knowledge_copy: Path
) -> None:
    engine = Engine(knowledge_copy)
    question = "who owns the quarterly sso certificate rotation?"
    assert engine.ask(question).outcome != "answered"
    ids = _log(store, question, "who is in charge of the sso certificate rotation")
    faq_before = (knowledge_copy / "faq.yaml").read_bytes()
    result = promote(store, knowledge_copy, ids, "tpm", by="U0CURATOR")
    assert result.created and result.role == "technical_program_manager"
    assert result.file == knowledge_copy / PROMOTED_FILE
    assert result.entry_id == "quarterly-sso-certificate-rotation"
    assert (knowledge_copy / "faq.yaml").read_bytes() == faq_before
    entry = load_knowledge(knowledge_copy).entry(result.entry_id)
    assert entry.owner == "technical_program_manager" and entry.distinction == "how"
    assert entry.answer == draft_answer(load_knowledge(knowledge_copy).roles[entry.owner])
    assert "curator" in entry.answer and "How and when" in entry.answer
    assert engine.reload_if_changed(settle=0.0) is not None  # the running bot notices it
    answer = engine.ask(question)
    assert answer.outcome == "answered" and answer.entry and answer.entry.id == result.entry_id
    promoted = store.list_questions(status="promoted")
    assert {q.id for q in promoted} == set(ids)
    assert all(q.resolved_entry_id == result.entry_id for q in promoted)


def test_product_entries_are_why_questions(store: SqlStore, knowledge_copy: Path) -> None:
    ids = _log(store, "who decides if we sunset the legacy fax integration")
    result = promote(store, knowledge_copy, ids, "product manager", entry_id="sunset-fax")
    entry = load_knowledge(knowledge_copy).entry("sunset-fax")
    assert result.entry_id == "sunset-fax" and entry.distinction == "why"


def test_promote_to_an_existing_entry_adds_phrasings(store: SqlStore, knowledge_copy: Path) -> None:
    knowledge = load_knowledge(knowledge_copy)
    entry = knowledge.entry("product-vision")
    ids = _log(store, "whose call is the long range product dream", entry.questions[0])
    result = promote(store, knowledge_copy, ids, entry.owner, entry_id=entry.id)
    assert not result.created and result.file.name == "faq.yaml"
    assert result.added == ("whose call is the long range product dream",)
    assert result.skipped == (entry.questions[0],)
    updated = load_knowledge(knowledge_copy).entry("product-vision")
    assert updated.questions == (*entry.questions, "whose call is the long range product dream")
    assert not (knowledge_copy / PROMOTED_FILE).exists()


def test_promote_refusals(store: SqlStore, knowledge_copy: Path) -> None:
    ids = _log(store, "who owns the widget census", "who owns the gadget census")
    with pytest.raises(ReviewError, match="no logged question with id 999"):
        promote(store, knowledge_copy, [999], "tpm")
    with pytest.raises(ReviewError, match="could mean several roles"):
        promote(store, knowledge_copy, ids, "pm")
    with pytest.raises(ReviewError, match="no role called 'astronaut'"):
        promote(store, knowledge_copy, ids, "astronaut")
    with pytest.raises(ReviewError, match="belongs to the Product Manager"):
        promote(store, knowledge_copy, ids, "tpm", entry_id="product-vision")
    with pytest.raises(ReviewError, match="not a valid entry id"):
        promote(store, knowledge_copy, ids, "tpm", entry_id="Not A Slug")
    dismiss(store, ids[:1])
    with pytest.raises(ReviewError, match=f"already resolved: {ids[0]} \\(dismissed\\)"):
        promote(store, knowledge_copy, ids, "tpm")
    assert not (knowledge_copy / PROMOTED_FILE).exists()


def test_a_phrasing_owned_by_another_role_is_refused(store: SqlStore, knowledge_copy: Path) -> None:
    entry = load_knowledge(knowledge_copy).entry("product-vision")
    ids = _log(store, entry.questions[0].upper())
    with pytest.raises(ReviewError, match="already a phrasing of entry 'product-vision'"):
        promote(store, knowledge_copy, ids, "project manager")


def test_invalid_result_restores_the_files(store: SqlStore, knowledge_copy: Path) -> None:
    (knowledge_copy / "extra.yaml").write_text(
        "off_topic:\n  - topic: Test\n    words: [zorblax]\n"
    )
    faq = knowledge_copy / "faq.yaml"
    before = faq.read_bytes()
    ids = _log(store, "who owns the zorblax rollout")  # a word the knowledge calls off-topic
    with pytest.raises(KnowledgeError, match="zorblax"):
        promote(store, knowledge_copy, ids, "tpm", entry_id="tech-zorblax")
    with pytest.raises(KnowledgeError, match="zorblax"):
        promote(store, knowledge_copy, ids, "product manager", entry_id="product-vision")
    assert faq.read_bytes() == before
    assert not (knowledge_copy / PROMOTED_FILE).exists()
    assert [q.status for q in store.get_questions(ids)] == ["open"]


def test_store_failure_restores_the_files(store: SqlStore, knowledge_copy: Path) -> None:
    ids = _log(store, "who owns the gpu quota process")

    class Failing:
        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def mark_promoted(self, *args: object) -> int:
            raise StoreError("the database is down")

    with pytest.raises(StoreError):
        promote(Failing(), knowledge_copy, ids, "program manager")  # type: ignore[arg-type]
    assert not (knowledge_copy / PROMOTED_FILE).exists()


def test_promote_exports_regression_cases(
    store: SqlStore, knowledge_copy: Path, tmp_path: Path
) -> None:
    regression = tmp_path / "eval" / "promoted.yaml"
    regression.parent.mkdir()
    ids = _log(store, "<@U0ASKER> who owns the <#C1|general> partner portal refresh")
    result = promote(store, knowledge_copy, ids, "project manager", regression_file=regression)
    assert result.regression_added == 1
    # as plain text: Slack markup resolved, user mentions never written to the repository
    assert yaml.safe_load(regression.read_text())["questions"] == [
        {"q": "who owns the general partner portal refresh", "expect": "project_manager"}
    ]


def test_wrong_role_clicks_promote_like_questions(store: SqlStore, knowledge_copy: Path) -> None:
    store.log_question(
        record(
            "who signs off the gpu budget",
            source=Source.WRONG_ROLE,
            suggested_role="program_manager",
        )
    )
    [question] = store.list_questions()
    result = promote(store, knowledge_copy, [question.id], question.suggested_role or "")
    assert result.role == "program_manager"


def test_dismiss(store: SqlStore) -> None:
    ids = _log(store, "lunch?", "coffee?")
    first = dismiss(store, ids, "U1")
    assert first.dismissed == tuple(ids) and first.skipped == ()
    again = dismiss(store, ids[:1])
    assert again.dismissed == () and again.skipped == (ids[0],)
    with pytest.raises(ReviewError):
        dismiss(store, [])


def test_edits_change_the_modification_time(store: SqlStore, knowledge_copy: Path) -> None:
    faq = knowledge_copy / "faq.yaml"
    os.utime(faq, ns=(1_000_000_000, 1_000_000_000))
    ids = _log(store, "who curates the product vision wiki page")
    promote(store, knowledge_copy, ids, "product_manager", entry_id="product-vision")
    assert faq.stat().st_mtime_ns != 1_000_000_000
