"""Promote, dismiss and answers: curated changes in the database, validated with the files,
all or nothing; and the writer's text edits that keep the curators' text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update
from sqlalchemy.engine import make_url
from storekit import TcpProxy, record, schema_url

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
from bot.curation.announce import Announcement, announce_pending
from bot.curation.review import (
    ReviewError,
    current_knowledge,
    dismiss,
    draft_answer,
    is_draft,
    promote,
    write_answer,
)
from bot.errors import KnowledgeError, StoreError
from bot.store import Source, SqlStore, open_store_url
from bot.store.models import UnansweredQuestion


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Review logic on SQLite only: the store itself is tested on both databases."""
    return sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one database, each with its own data folder (two replicas)."""
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    first = open_store_url(url, tmp_path / "a", migrate=True)
    second = open_store_url(url, tmp_path / "b")
    yield first, second
    first.close()
    second.close()


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
    schema_line, header = text.splitlines()[:2]
    assert schema_line == "# yaml-language-server: $schema=knowledge.schema.json"
    assert header.startswith("# rolebot FAQ entries promoted")
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
def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_promote_to_a_new_entry_is_answered_next_time(
    store: SqlStore, knowledge_copy: Path
) -> None:
    engine = Engine(knowledge_copy, changes=store)
    question = "who owns the quarterly sso certificate rotation?"
    assert engine.ask(question).outcome != "answered"
    ids = _log(store, question, "who is in charge of the sso certificate rotation")
    files = _files(knowledge_copy)
    result = promote(store, knowledge_copy, ids, "tpm", by="U0CURATOR")
    assert result.created and result.role == "technical_program_manager"
    assert result.entry_id == "quarterly-sso-certificate-rotation"
    assert _files(knowledge_copy) == files  # no file in the knowledge folder changes
    knowledge = current_knowledge(store, knowledge_copy)
    entry = knowledge.entry(result.entry_id)
    assert entry.owner == "technical_program_manager" and entry.distinction == "how"
    assert entry.answer == draft_answer(knowledge.roles[entry.owner])
    assert is_draft(entry.answer) and "has not written the answer yet" in entry.answer
    assert engine.reload_if_changed() is not None  # the running bot notices, no restart
    answer = engine.ask(question)
    assert answer.outcome == "answered" and answer.entry and answer.entry.id == result.entry_id
    promoted = store.list_questions(status="promoted")
    assert {q.id for q in promoted} == set(ids)
    assert all(q.resolved_entry_id == result.entry_id for q in promoted)
    [change] = store.knowledge_changes()
    assert (change.id, change.kind, change.created_by) == (
        result.change_id,
        "new_entry",
        "U0CURATOR",
    )
    assert change.question_ids == tuple(ids)
    # A replica started afterwards has it too.
    assert Engine(knowledge_copy, changes=store).ask(question).outcome == "answered"


def test_product_entries_are_why_questions(store: SqlStore, knowledge_copy: Path) -> None:
    ids = _log(store, "who decides if we sunset the legacy fax integration")
    result = promote(store, knowledge_copy, ids, "product manager", entry_id="sunset-fax")
    entry = current_knowledge(store, knowledge_copy).entry("sunset-fax")
    assert result.entry_id == "sunset-fax" and entry.distinction == "why"


def test_promote_to_an_existing_entry_adds_phrasings(store: SqlStore, knowledge_copy: Path) -> None:
    knowledge = load_knowledge(knowledge_copy)
    entry = knowledge.entry("product-vision")
    ids = _log(store, "whose call is the long range product dream", entry.questions[0])
    files = _files(knowledge_copy)
    result = promote(store, knowledge_copy, ids, entry.owner, entry_id=entry.id)
    assert not result.created
    assert result.added == ("whose call is the long range product dream",)
    assert result.skipped == (entry.questions[0],)
    updated = current_knowledge(store, knowledge_copy).entry("product-vision")
    assert updated.questions == (*entry.questions, "whose call is the long range product dream")
    assert _files(knowledge_copy) == files


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
    assert store.knowledge_changes() == []


def test_a_phrasing_owned_by_another_role_is_refused(store: SqlStore, knowledge_copy: Path) -> None:
    entry = load_knowledge(knowledge_copy).entry("product-vision")
    ids = _log(store, entry.questions[0].upper())
    with pytest.raises(ReviewError, match="already a phrasing of entry 'product-vision'"):
        promote(store, knowledge_copy, ids, "project manager")


def test_a_change_that_does_not_validate_is_refused_with_the_loaders_message(
    store: SqlStore, knowledge_copy: Path
) -> None:
    (knowledge_copy / "extra.yaml").write_text(
        "off_topic:\n  - topic: Test\n    words: [zorblax]\n"
    )
    files = _files(knowledge_copy)
    ids = _log(store, "who owns the zorblax rollout")  # a word the knowledge calls off-topic
    with pytest.raises(KnowledgeError) as new_entry:
        promote(store, knowledge_copy, ids, "tpm", entry_id="tech-zorblax")
    [problem] = new_entry.value.problems
    # The loader's own message, naming the file, line, entry, field and fix.
    assert problem.file.endswith("extra.yaml + curated changes") and problem.line == 3
    assert (problem.entry, problem.field) == ("Test", "words")
    assert "used by FAQ entry 'tech-zorblax'" in problem.message and problem.fix
    with pytest.raises(KnowledgeError, match="zorblax"):
        promote(store, knowledge_copy, ids, "product manager", entry_id="product-vision")
    assert _files(knowledge_copy) == files
    assert [q.status for q in store.get_questions(ids)] == ["open"]
    assert store.knowledge_revision() == 0
    with pytest.raises(KnowledgeError, match=r"faq\.yaml \+ curated changes:\d+"):
        write_answer(store, knowledge_copy, "product-vision", "A bell \x07 in the answer.")
    assert store.knowledge_revision() == 0


@pytest.mark.postgres
def test_database_down_during_a_promote_is_a_clear_error_and_changes_nothing(
    postgres_server: str, pg_schema: str, tmp_path: Path, knowledge_copy: Path
) -> None:
    server = make_url(postgres_server)
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
    proxy.start()
    url = schema_url(postgres_server, pg_schema, port=proxy.port)
    store = open_store_url(url, tmp_path / "data", migrate=True, retry_interval=0.0)
    direct = open_store_url(schema_url(postgres_server, pg_schema), tmp_path / "d2")
    try:
        ids = _log(store, "who owns the gpu quota process")
        files = _files(knowledge_copy)
        proxy.stop()
        with pytest.raises(StoreError) as error:
            promote(store, knowledge_copy, ids, "program manager", by="U0CURATOR")
        message = str(error.value)
        assert "\n" not in message and "nothing was changed" in message
        assert "127.0.0.1" in message  # names the database (never its password)
        assert [q.status for q in direct.get_questions(ids)] == ["open"]
        assert direct.knowledge_revision() == 0
        assert _files(knowledge_copy) == files
        proxy.start()
        result = promote(store, knowledge_copy, ids, "program manager", by="U0CURATOR")
        assert [q.status for q in direct.get_questions(ids)] == ["promoted"]
        assert direct.knowledge_revision() == result.change_id
    finally:
        store.close()
        direct.close()
        proxy.stop()


def test_a_store_failure_between_reading_and_writing_leaves_nothing_half_done(
    store: SqlStore, knowledge_copy: Path
) -> None:
    ids = _log(store, "who owns the gpu quota process")

    class Failing:
        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def append_change(self, *args: object, **kwargs: object) -> object:
            raise StoreError("storing a knowledge change in the database failed")

    with pytest.raises(StoreError):
        promote(Failing(), knowledge_copy, ids, "program manager")  # type: ignore[arg-type]
    assert [q.status for q in store.get_questions(ids)] == ["open"]
    assert store.knowledge_revision() == 0


def test_concurrent_promotes_of_one_question_one_wins_the_other_is_told(
    replicas: tuple[SqlStore, SqlStore], knowledge_copy: Path
) -> None:
    replica_a, replica_b = replicas
    ids = _log(replica_a, "who owns the data retention schedule for chat logs")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    class Racing:
        """Both replicas have read and validated before either writes."""

        def __init__(self, inner: SqlStore) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def append_change(self, *args: object, **kwargs: object) -> object:
            barrier.wait(10)
            return self.inner.append_change(*args, **kwargs)  # type: ignore[arg-type]

    def run(name: str, inner: SqlStore, role: str) -> None:
        try:
            results[name] = promote(Racing(inner), knowledge_copy, ids, role, by=name)  # type: ignore[arg-type]
        except ReviewError as error:
            results[name] = error

    threads = [
        threading.Thread(target=run, args=("UA", replica_a, "program manager")),
        threading.Thread(target=run, args=("UB", replica_b, "project manager")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    errors = [r for r in results.values() if isinstance(r, ReviewError)]
    wins = [r for r in results.values() if not isinstance(r, ReviewError)]
    assert len(errors) == 1 and len(wins) == 1, results
    assert "already resolved by another curator" in str(errors[0])
    [change] = replica_b.knowledge_changes()
    [question] = replica_a.get_questions(ids)
    assert question.status == "promoted" and question.resolved_by == change.created_by
    assert f"by {change.created_by}" in str(errors[0])


def test_two_different_changes_at_once_are_both_validated_on_top_of_each_other(
    replicas: tuple[SqlStore, SqlStore], knowledge_copy: Path
) -> None:
    replica_a, replica_b = replicas
    first = _log(replica_a, "who owns the sandbox tenant cleanup")
    second = _log(replica_a, "who owns the sandbox tenant cleanup rota")
    barrier = threading.Barrier(2)

    class Racing:
        def __init__(self, inner: SqlStore) -> None:
            self.inner = inner
            self.calls = 0

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def append_change(self, *args: object, **kwargs: object) -> object:
            self.calls += 1
            if self.calls == 1:
                barrier.wait(10)
            return self.inner.append_change(*args, **kwargs)  # type: ignore[arg-type]

    racers = [Racing(replica_a), Racing(replica_b)]
    threads = [
        threading.Thread(
            target=promote,
            args=(racers[0], knowledge_copy, first, "tpm"),
            kwargs={"entry_id": "sandbox-cleanup"},
        ),
        threading.Thread(
            target=promote,
            args=(racers[1], knowledge_copy, second, "tpm"),
            kwargs={"entry_id": "sandbox-cleanup-rota"},
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.calls for r in racers) == [1, 2]  # the loser validated again on top
    knowledge = current_knowledge(replica_a, knowledge_copy)
    assert {"sandbox-cleanup", "sandbox-cleanup-rota"} <= set(knowledge.entries_by_id)


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
    assert store.unannounced() == []  # dismissed questions are never announced


# --------------------------------------------------------------------------- answers
def test_a_curator_writes_the_answer(store: SqlStore, knowledge_copy: Path) -> None:
    ids = _log(store, "who owns the vendor security questionnaire backlog")
    result = promote(store, knowledge_copy, ids, "program manager", entry_id="vendor-security")
    text = "Answering vendor questionnaires spans legal, security and sales: a program."
    change = write_answer(store, knowledge_copy, "vendor-security", f"  {text}  ", by="U0C")
    assert change.kind == "set_answer" and change.id == (result.change_id or 0) + 1
    entry = current_knowledge(store, knowledge_copy).entry("vendor-security")
    assert entry.answer == text and not is_draft(entry.answer)
    with pytest.raises(ReviewError, match="keep it to 400"):
        write_answer(store, knowledge_copy, "vendor-security", "x" * 401)
    with pytest.raises(ReviewError, match="empty"):
        write_answer(store, knowledge_copy, "vendor-security", "   ")
    for pinging in ("Ask <!channel>", "Ask <@U0BOSS>", "See <#C0ALL>", "Ask @here today"):
        with pytest.raises(ReviewError, match="mentions people"):
            write_answer(store, knowledge_copy, "vendor-security", pinging)
    write_answer(store, knowledge_copy, "vendor-security", "Mail pm@here.example for more.")
    with pytest.raises(ReviewError, match="did you mean 'vendor-security'"):
        write_answer(store, knowledge_copy, "vendor-securty", text)


def test_announcements_are_claimed_once_and_stale_ones_set_aside(
    store: SqlStore, knowledge_copy: Path
) -> None:
    fields = {"channel_id": "C0ASK", "message_ts": "1700000000.000100"}
    store.log_question(record("who owns the partner api deprecation schedule", **fields))
    store.log_question(record("who owns the partner api changelog cadence", channel_id="C0ASK"))
    ids = sorted(q.id for q in store.list_questions())
    promote(store, knowledge_copy, ids[:1], "program manager", entry_id="api-deprecation")
    promote(store, knowledge_copy, ids[1:], "program manager", entry_id="api-changelog")
    told: list[Announcement] = []
    knowledge = current_knowledge(store, knowledge_copy)
    # A replica whose knowledge does not hold the entries yet announces nothing, claims nothing.
    assert announce_pending(store, load_knowledge(knowledge_copy), told.append) == 0
    assert len(store.unannounced()) == 2
    assert announce_pending(store, knowledge, told.append) == 1
    [item] = told
    assert (item.channel, item.thread_ts, item.role.id) == (
        "C0ASK",
        "1700000000.000100",
        "program_manager",
    )
    assert store.unannounced() == []  # the one without a thread is claimed and skipped
    assert announce_pending(store, knowledge, told.append) == 0
    assert not store.claim_announcement(ids[0])  # once
    # Promoted to an entry that left the files: set aside after a while, never announced.
    store.log_question(record("who owns the partner api sunset reminders", **fields))
    [late] = [q.id for q in store.list_questions()]
    promote(store, knowledge_copy, [late], "program manager", entry_id="api-sunset")
    assert announce_pending(store, load_knowledge(knowledge_copy), told.append) == 0
    with store.engine.begin() as conn:
        conn.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.id == late)
            .values(resolved_at=datetime.now(UTC) - timedelta(hours=2))
        )
    assert announce_pending(store, load_knowledge(knowledge_copy), told.append) == 0
    assert store.unannounced() == [] and len(told) == 1
