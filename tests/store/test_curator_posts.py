"""The curators' channel messages in the store, on SQLite and PostgreSQL: a question is
claimed by one caller only, near-duplicates join an open message, a message closes once."""

from __future__ import annotations

import threading

from storekit import StoreFactory, record

from bot.store import SqlStore
from bot.store.curator_posts import HANDLED, UNDELIVERABLE, Claim, curator_post_store
from bot.store.interface import LoggedQuestion

CHANNEL = "C0CURATORS"


def logged(store: SqlStore, text: str) -> LoggedQuestion:
    store.log_question(record(text))
    return next(q for q in store.list_questions(status=None) if q.text == text)


def test_two_replicas_claim_a_question_once(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    question = logged(first, "who owns the llama grooming budget?")
    stores = [curator_post_store(s) for s in (first, second) for _ in range(4)]
    results: list[Claim | None] = []
    barrier = threading.Barrier(len(stores))

    def claim(posts: object) -> None:
        assert posts is not None
        barrier.wait()
        results.append(posts.claim(question, CHANNEL))  # type: ignore[attr-defined]

    threads = [threading.Thread(target=claim, args=(p,)) for p in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [r for r in results if r is not None]
    assert len(won) == 1 and won[0].new
    posts = curator_post_store(first)
    assert posts is not None
    state = posts.state(won[0].post.id)
    assert state is not None and [q.id for q in state.questions] == [question.id]
    assert posts.unposted(question.created_at) == []


def test_near_duplicates_join_an_open_message_until_it_closes(store: SqlStore) -> None:
    posts = curator_post_store(store)
    assert posts is not None
    one = posts.claim(logged(store, "who owns the llama grooming budget?"), CHANNEL)
    two = posts.claim(logged(store, "Who owns the llama grooming budgets"), CHANNEL)
    other = posts.claim(logged(store, "who books the zeppelin hangar?"), CHANNEL)
    elsewhere = posts.claim(logged(store, "who owns llama grooming budget"), "C0OTHER")
    assert one is not None and two is not None and other is not None and elsewhere is not None
    assert one.new and not two.new and two.post.id == one.post.id
    assert other.new and other.post.id != one.post.id
    assert elsewhere.new  # another channel's messages are not joined
    posts.posted(one.post.id, "1700000000.000001")
    state = posts.state(one.post.id)
    assert state is not None and len(state.open_ids) == 2
    assert not posts.close(one.post.id, HANDLED)  # questions still open: not handled
    assert posts.handled(CHANNEL) == []
    store.mark_dismissed(list(state.open_ids), "U0CURATOR")
    assert [p.id for p in posts.handled(CHANNEL)] == [one.post.id]
    assert posts.close(one.post.id, HANDLED)
    assert not posts.close(one.post.id, HANDLED)  # once
    assert posts.handled(CHANNEL) == []
    late = posts.claim(logged(store, "who owns the llama grooming budget, really?"), CHANNEL)
    assert late is not None and late.new  # a closed message is not joined
    assert posts.close(other.post.id, UNDELIVERABLE)  # could not be posted: closed anyway
