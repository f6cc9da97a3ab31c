"""The store on both databases: logging, dedupe, feedback, counts, listing, privacy, retention."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from storekit import StoreFactory, record

from bot.config import Settings
from bot.core.normalize import normalize
from bot.store import QuestionRecord, Source, SqlStore, open_store, open_store_url
from bot.store.models import Feedback, UnansweredQuestion


def test_log_and_read_back(store: SqlStore) -> None:
    store.log_question(
        record(
            "who owns the SSO rollout?",
            source=Source.MENTION,
            team_id="T1",
            channel_id="C1",
            user_id="U1",
            message_ts="1700000000.000100",
            thread_ts="1700000000.000001",
            best_entry_id="tech-migrations",
            best_score=42.5,
            event_id="Ev1",
        )
    )
    [question] = store.list_questions()
    assert question.text == "who owns the SSO rollout?"
    assert question.normalized == "who owns the sso rollout"
    assert (question.source, question.status) == ("mention", "open")
    assert (question.channel_id, question.user_id) == ("C1", "U1")
    assert (question.best_entry_id, question.best_score) == ("tech-migrations", 42.5)
    assert question.created_at.tzinfo is not None
    assert abs(question.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert store.get_questions([question.id]) == [question]


def test_same_event_is_stored_once(store: SqlStore) -> None:
    for _ in range(3):
        store.log_question(record("who owns this?", event_id="Ev-dup"))
    store.log_question(record("who owns that?"))
    store.log_question(record("who owns that?"))  # no event id: two askings, two rows
    assert len(store.list_questions()) == 3


def test_wrong_role_feedback_is_logged_with_the_role_said(store: SqlStore) -> None:
    store.log_question(
        record(
            "who owns the launch date", source=Source.WRONG_ROLE, suggested_role="program_manager"
        )
    )
    [question] = store.list_questions(source="wrong_role")
    assert question.suggested_role == "program_manager"


def test_list_filters(store: SqlStore) -> None:
    store.log_question(record("one", channel_id="C1"))
    store.log_question(record("two", channel_id="C2", source=Source.DM))
    store.log_question(record("three", channel_id="C1"))
    old = store.list_questions(channel_id="C1")[-1]
    with store.engine.begin() as conn:
        conn.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.id == old.id)
            .values(created_at=datetime.now(UTC) - timedelta(days=30))
        )
    assert [q.text for q in store.list_questions()] == ["three", "two", "one"]
    assert [q.text for q in store.list_questions(channel_id="C1")] == ["three", "one"]
    assert [q.text for q in store.list_questions(source="dm")] == ["two"]
    week = datetime.now(UTC) - timedelta(days=7)
    assert [q.text for q in store.list_questions(since=week)] == ["three", "two"]
    assert len(store.list_questions(limit=1)) == 1


def test_promote_and_dismiss_marks(store: SqlStore) -> None:
    for text in ("a", "b", "c"):
        store.log_question(record(text))
    a, b, c = sorted(q.id for q in store.list_questions())
    assert store.mark_promoted([a, b], "new-entry", "U9") == 2
    assert store.mark_promoted([a], "other", "U9") == 0  # only open questions change
    assert store.mark_dismissed([b, c], None) == 1
    by_id = {q.id: q for q in store.list_questions(status=None)}
    assert by_id[a].status == "promoted" and by_id[a].resolved_entry_id == "new-entry"
    assert by_id[a].resolved_by == "U9" and by_id[a].resolved_at is not None
    assert by_id[b].status == "promoted"
    assert by_id[c].status == "dismissed" and by_id[c].resolved_entry_id is None
    assert [q.id for q in store.list_questions()] == []
    assert [q.id for q in store.list_questions(status="dismissed")] == [c]


def test_feedback_counts_and_stats(store: SqlStore) -> None:
    for _ in range(3):
        store.count_answer("product-vision", "answered")
    store.count_answer("launch-date", "answered")
    store.count_answer(None, "close_call")
    store.count_answer(None, "unanswered")
    store.count_answer("launch-date", "close_call")  # the best candidate, not an answer
    store.count_answer("launch-date", "chosen")  # a role picked after the close call
    store.record_feedback("product-vision", True, "U1")
    store.record_feedback("product-vision", False, "U2", role_instead="program_manager")
    store.record_feedback("launch-date", True, "U1")
    store.log_question(record("never answered"))
    stats = store.stats()
    assert stats.outcomes == {"answered": 4, "close_call": 2, "clarify": 0, "unanswered": 1}
    assert stats.other == {"chosen": 1}
    assert stats.total == 7 and round(stats.rate("answered"), 3) == 0.571
    assert [(e.entry_id, e.answered, e.helpful, e.wrong) for e in stats.entries] == [
        ("product-vision", 3, 1, 1),
        ("launch-date", 2, 1, 0),
    ]
    assert stats.logged == {"open": 1, "promoted": 0, "dismissed": 0}
    future = store.stats(datetime.now(UTC) + timedelta(days=2))
    assert future.total == 0 and future.entries == ()
    with store.engine.connect() as conn:
        wrong = conn.execute(select(Feedback).where(Feedback.helpful.is_(False))).one()
    assert wrong.role_instead == "program_manager"


def test_claim_event_once_across_processes(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()  # two workers, one database
    assert first.claim_event("Ev-A") is True
    assert first.claim_event("Ev-A") is False
    assert second.claim_event("Ev-A") is False
    assert second.claim_event("Ev-B") is True


@pytest.mark.postgres
def test_processed_events_are_pruned(pg_url: str, data_dir: Path) -> None:
    """PostgreSQL keeps the event claims (workers may be on several machines)."""
    from bot.store.models import ProcessedEvent

    store = open_store_url(pg_url, data_dir, migrate=True)
    store.claim_event("Ev-old")
    with store.engine.begin() as conn:
        conn.execute(
            update(ProcessedEvent).values(claimed_at=datetime.now(UTC) - timedelta(days=2))
        )
    store._last_prune = float("-inf")
    store.claim_event("Ev-new")
    with store.engine.connect() as conn:
        assert list(conn.execute(select(ProcessedEvent.event_id)).scalars()) == ["Ev-new"]


def test_old_claim_files_are_pruned(store: SqlStore) -> None:
    store.claim_event("Ev-old")
    [old] = list(store._claims_dir.iterdir())
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    store._last_local_prune = float("-inf")
    store.claim_event("Ev-new")
    assert len(list(store._claims_dir.iterdir())) == 1
    assert not old.exists()
    assert store.claim_event("Ev-new") is False


def test_user_ids_hashed_with_the_key(make_store: StoreFactory) -> None:
    store = make_store(hash_key="secret-key")
    store.log_question(record("who owns it", user_id="U123ABC"))
    store.record_feedback("product-vision", True, "U123ABC")
    expected = hmac.new(b"secret-key", b"U123ABC", hashlib.sha256).hexdigest()
    [question] = store.list_questions()
    assert question.user_id == expected
    with store.engine.connect() as conn:
        assert conn.execute(select(Feedback.user_id)).scalar_one() == expected
        everything = json.dumps(
            [list(map(str, row)) for row in conn.execute(select(UnansweredQuestion))]
        )
    assert "U123ABC" not in everything


def test_pasted_tokens_are_never_stored(store: SqlStore) -> None:
    token = "xoxb-" + "1234567890-abcdefABCDEF"
    store.log_question(record(f"is {token} the right token for the bot?"))
    [question] = store.list_questions()
    assert token not in question.text and "xoxb-" not in question.normalized
    assert "[token removed]" in question.text


def test_purge_older_than(store: SqlStore) -> None:
    store.log_question(record("old question"))
    store.log_question(record("new question"))
    store.record_feedback("x", True, "U1")
    with store.engine.begin() as conn:
        conn.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.text == "old question")
            .values(created_at=datetime.now(UTC) - timedelta(days=100))
        )
        conn.execute(update(Feedback).values(created_at=datetime.now(UTC) - timedelta(days=100)))
    result = store.purge(datetime.now(UTC) - timedelta(days=90))
    assert (result.questions, result.feedback) == (1, 1)
    assert [q.text for q in store.list_questions(status=None)] == ["new question"]


def test_channel_listen_setting(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    assert first.listening("C1") is False
    first.set_listen("C1", True)
    assert first.listening("C1") is True
    second.listen_cache_ttl = 0
    assert second.listening("C1") is True
    second.set_listen("C1", False)
    assert second.listening("C1") is False


def test_open_groups_most_asked_first(store: SqlStore) -> None:
    for text in (
        "who owns the sso rollout",
        "who owns the SSO rollout?",
        "who owns sso rollout for contractors",
        "who orders the team lunch",
        "who is in charge of the sso rollout",
    ):
        store.log_question(record(text))
    groups = store.open_groups()
    assert groups[0].count >= 3
    assert normalize(groups[0].representative.text) == "who owns the sso rollout"
    assert any(g.representative.text == "who orders the team lunch" for g in groups)


def test_healthy(store: SqlStore) -> None:
    assert store.healthy() is True
    assert "SqlStore(" in repr(store)


def test_malformed_input_never_raises(store: SqlStore) -> None:
    store.log_question(QuestionRecord("x\x00y", "x y", "not-a-source"))  # type: ignore[arg-type]
    store.log_question(record("nul\x00 in text", event_id="E" * 500, best_score=float("nan")))
    store.count_answer("e" * 300, "answered")
    [question] = store.list_questions()
    assert question.text == "nul in text" and question.best_score is None


def test_open_store_hashes_when_the_settings_say_so(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ROLEBOT_DATA_DIR": str(tmp_path),
            "ROLEBOT_HASH_USER_IDS": "true",
            "ROLEBOT_HASH_KEY": "k" * 32,
        },
        dotenv_path=None,
    )
    store = open_store(settings)
    try:
        store.log_question(record("who owns it", user_id="U777"))
        [question] = store.list_questions()
    finally:
        store.close()
    assert question.user_id == hmac.new(b"k" * 32, b"U777", hashlib.sha256).hexdigest()
