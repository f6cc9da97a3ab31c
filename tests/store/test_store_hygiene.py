"""What the store keeps of a question's text, on SQLite and PostgreSQL: valid Unicode (an encoding
error is never an outage, and no question is lost), no secrets, no user ids when hashing is on."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from storekit import StoreFactory, record, stored_texts

from bot.store import QuestionRecord, Source, SqlStore
from bot.store.spool import Spool

SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
HASH_KEY = "k3y-0f-the-h4sh-for-user-ids-9f8e7d6c"


def test_a_lone_surrogate_is_stored_not_taken_for_an_outage(store: SqlStore) -> None:
    text = "who owns the \ud83d launch \udfff checklist?"
    store.log_question(QuestionRecord(text, "who owns the \ud83d launch", Source.DM))
    assert stored_texts(store) == ["who owns the \ufffd launch \ufffd checklist?"]
    assert store.spool.count() == 0
    assert store._available()  # not marked down


def test_a_surrogate_pair_sent_as_two_code_points_is_joined(store: SqlStore) -> None:
    store.log_question(record("who owns \ud83d\ude80 launches?"))
    assert stored_texts(store) == ["who owns \U0001f680 launches?"]


def test_the_spool_keeps_a_record_whose_text_is_not_valid_unicode(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append({"kind": "question", "row": {"text": "lost? \ud83d"}})
    seen: list[object] = []
    spool.replay(seen.extend)
    assert seen == [{"kind": "question", "row": {"text": "lost? \ud83d"}}]


def test_a_question_spooled_while_the_database_is_down_keeps_its_text(store: SqlStore) -> None:
    store._mark_down(RuntimeError("test"))
    store.log_question(record("who owns \ud83d the rota?"))
    assert store.spool.count() == 1
    store._down_until = 0.0
    assert store.replay_spool() == 1
    assert stored_texts(store) == ["who owns \ufffd the rota?"]


@pytest.mark.parametrize(
    ("pasted", "secret"),
    [
        (f"is SLACK_SIGNING_SECRET={SIGNING_SECRET} right?", SIGNING_SECRET),
        (f"our signing secret {SIGNING_SECRET} leaks?", SIGNING_SECRET),
        ("login with password=hunter2 for the staging box", "hunter2"),
        ("the db password: Tr0ub4dor&3 works", "Tr0ub4dor&3"),
        ("the staging api key is sk9f8e7d6c5b please rotate", "sk9f8e7d6c5b"),
        ("aws key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY0 ok", "wJalrXUtnFEMI"),
        ("token xoxp-1234567890-abcdefghijkl here", "xoxp-1234567890"),
        ("ghp_R4nd0mT0k3nV4lu3AbCdEfGh1234 is mine", "ghp_R4nd0mT0k3nV4lu3"),
    ],
)
def test_anything_that_looks_like_a_secret_is_scrubbed(
    store: SqlStore, pasted: str, secret: str
) -> None:
    store.log_question(record(pasted))
    [question] = store.list_questions()
    assert secret not in question.text
    assert secret.lower() not in question.normalized
    assert "removed]" in question.text


def test_ordinary_questions_keep_their_words(store: SqlStore) -> None:
    text = (
        "who owns https://example.com/roadmap/Q3-2024-planning-doc and the password reset "
        "flow for release 2024.10.1? the api key is rotated by whom, and the token is what?"
    )
    store.log_question(record(text))
    assert stored_texts(store) == [text]


def test_hashing_on_replaces_mentioned_user_ids_and_the_pasted_hash_key(
    make_store: StoreFactory,
) -> None:
    store = make_store(hash_key=HASH_KEY)
    text = f"should <@U0BOB0001> or <@U0EVE0002|eve> own it? key {HASH_KEY}"
    store.log_question(record(text, user_id="U0ALICE01"))
    [question] = store.list_questions()
    bob = hmac.new(HASH_KEY.encode(), b"U0BOB0001", hashlib.sha256).hexdigest()
    assert question.text.startswith(f"should @user-{bob[:12]} or @user-")
    everything = json.dumps([question.text, question.normalized, question.user_id])
    for clear in ("U0BOB0001", "U0EVE0002", "eve>", "U0ALICE01", HASH_KEY):
        assert clear not in everything


def test_hashing_off_keeps_mentions(store: SqlStore) -> None:
    store.log_question(record("should <@U0BOB0001> own it?"))
    assert stored_texts(store) == ["should <@U0BOB0001> own it?"]
