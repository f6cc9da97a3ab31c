"""Role holders in the database (SQLite and PostgreSQL): set, unset, list, history."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select
from storekit import StoreFactory

from bot.errors import StoreError
from bot.store import SqlStore, open_store_url
from bot.store.holders import Holder, HolderError, HolderStore, holder_store
from bot.store.models import RoleHolder, RoleHolderChange

PM = "product_manager"
TPM = "technical_program_manager"


def holders(store: SqlStore, ttl: float = 0.0) -> HolderStore:
    found = holder_store(store, cache_ttl=ttl)
    assert found is not None
    return found


def rows(store: SqlStore, model: type[RoleHolder] | type[RoleHolderChange]) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_set_list_unset_and_history(store: SqlStore) -> None:
    held = holders(store)
    first = held.set("C0PAY", PM, [Holder("U0BOB0001", "bob")], by="U0ALICE")
    assert (first.before, first.after, first.changed_by, first.source) == (
        (),
        ("U0BOB0001",),
        "U0ALICE",
        "slack",
    )
    second = held.set(
        "C0PAY", PM, [Holder("S0GROUP01"), Holder("U0BOB0001")], by="cli:ops", source="cli"
    )
    assert second.before == ("U0BOB0001",)
    held.set("C0OTHER", TPM, [Holder("U0TINA001")], by="U0ALICE")

    (pay,) = held.list(["C0PAY"])
    assert pay.ids == ("S0GROUP01", "U0BOB0001")  # in the order given
    assert pay.set_by == "cli:ops"
    assert pay.set_at.tzinfo is not None
    assert [(h.channel_id, h.role_id) for h in held.list()] == [("C0OTHER", TPM), ("C0PAY", PM)]
    assert set(held.for_channel("C0PAY")) == {PM}

    cleared = held.unset("C0PAY", PM, by="U0CAROL01")
    assert cleared is not None and cleared.before == ("S0GROUP01", "U0BOB0001")
    assert held.unset("C0PAY", PM, by="U0CAROL01") is None  # nothing to clear: nothing kept
    assert held.list(["C0PAY"]) == []

    history = held.history("C0PAY")
    assert [(c.before, c.after, c.changed_by) for c in history] == [
        (("S0GROUP01", "U0BOB0001"), (), "U0CAROL01"),
        (("U0BOB0001",), ("S0GROUP01", "U0BOB0001"), "cli:ops"),
        ((), ("U0BOB0001",), "U0ALICE"),
    ]
    assert len(held.history()) == 4
    assert len(held.history(limit=1)) == 1
    assert held.history(role_id=TPM)[0].after == ("U0TINA001",)


@pytest.mark.parametrize(
    ("channel", "people", "says"),
    [
        ("D0ALICE", [Holder("U0BOB0001")], "not a channel id"),
        ("C0PAY", [], "name at least one person"),
        ("C0PAY", [Holder("C0GENERAL")], "is a channel id, not a person"),
        ("C0PAY", [Holder("<!channel>")], "is not a person or group id"),
        ("C0PAY", [Holder("bob")], "is not a person or group id"),
        ("C0PAY", [Holder(f"U0P{n:06d}") for n in range(11)], "at most 10"),
    ],
)
def test_bad_changes_are_refused_and_nothing_is_stored(
    store: SqlStore, channel: str, people: list[Holder], says: str
) -> None:
    with pytest.raises(HolderError, match=says):
        holders(store).set(channel, PM, people, by="U0ALICE")
    assert rows(store, RoleHolder) == rows(store, RoleHolderChange) == 0


def test_duplicates_are_kept_once_and_labels_are_cleaned(store: SqlStore) -> None:
    held = holders(store)
    change = held.set(
        "C0PAY",
        PM,
        [Holder("U0BOB0001", "@bob <b>"), Holder("U0BOB0001", "again")],
        by=None,
    )
    assert change.after == ("U0BOB0001",)
    (pay,) = held.list()
    assert pay.holders == (Holder("U0BOB0001", "bob b"),)


def test_set_many_is_all_or_nothing(store: SqlStore) -> None:
    held = holders(store)
    with pytest.raises(HolderError):
        held.set_many(
            [("C0A", PM, [Holder("U0A000001")]), ("C0B", PM, [Holder("nope")])], by="cli:x"
        )
    assert held.list() == []
    changes = held.set_many(
        [("C0A", PM, [Holder("U0A000001")]), ("C0B", TPM, [Holder("S0B000001")])], by="cli:x"
    )
    assert [c.source for c in changes] == ["import", "import"]
    assert len(held.list()) == 2


def test_holder_ids_stay_in_clear_when_user_ids_are_hashed(make_store: StoreFactory) -> None:
    store = make_store(hash_key="k" * 32)
    held = holders(store)
    held.set("C0PAY", PM, [Holder("U0BOB0001")], by="U0ALICE")
    (pay,) = held.list()
    assert pay.ids == ("U0BOB0001",)  # workspace data: who the Product Manager is
    assert pay.set_by == store.user_key("U0ALICE") != "U0ALICE"  # the asker: hashed
    assert held.history()[0].changed_by == store.user_key("U0ALICE")
    assert held.history()[0].after == ("U0BOB0001",)


def test_every_replica_reads_a_change_at_once(make_store: StoreFactory) -> None:
    one, two = holders(make_store(), ttl=0.0), holders(make_store(), ttl=0.0)
    assert two.for_channel("C0PAY") == {}
    one.set("C0PAY", PM, [Holder("U0BOB0001")], by=None)
    assert two.for_channel("C0PAY")[PM].ids == ("U0BOB0001",)
    one.unset("C0PAY", PM, by=None)
    assert two.for_channel("C0PAY") == {}


def test_a_change_made_here_clears_the_cache_at_once(store: SqlStore) -> None:
    held = holders(store, ttl=3600.0)
    assert held.for_channel("C0PAY") == {}
    held.set("C0PAY", PM, [Holder("U0BOB0001")], by=None)
    assert held.for_channel("C0PAY")[PM].ids == ("U0BOB0001",)


def test_concurrent_sets_keep_one_consistent_result(make_store: StoreFactory) -> None:
    stores = [holders(make_store()) for _ in range(4)]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for round_ in range(5):
                people = [Holder("U0SHARED01"), Holder(f"U0W{n}R{round_}XX")]
                stores[n].set("C0PAY", PM, people, by=f"U0WORKER{n}")
        except StoreError as error:  # a lost race is reported, never half-applied
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (pay,) = stores[0].list()
    assert pay.ids[0] == "U0SHARED01" and len(pay.ids) == 2
    assert errors == []  # writers of one channel and role take turns
    history = stores[0].history()
    assert len(history) == 20
    assert history[0].after == pay.ids  # the latest change is what is held


def test_a_database_that_is_down_is_one_line(store: SqlStore) -> None:
    held = holders(store)
    broken = HolderStore(create_engine("sqlite:////nonexistent/dir/x.db"))
    with pytest.raises(StoreError, match="reading role holders in the database"):
        broken.list()
    with pytest.raises(StoreError, match="saving role holders in the database"):
        broken.set("C0PAY", PM, [Holder("U0BOB0001")], by=None)
    assert held.list() == []


def test_while_the_database_is_down_answers_neither_wait_nor_lose_the_holders(
    tmp_path: Path,
) -> None:
    """Every answer in a channel reads its holders: while the database is unreachable the last
    holders read are used, and the database is tried again only after a pause, so an answer
    never waits a connection timeout each time (nor logs a traceback each time)."""
    folder = tmp_path / "db"
    store = open_store_url(f"sqlite:///{folder / 'rolebot.db'}", tmp_path / "data", migrate=True)
    try:
        held = holders(store)  # no cache: every read goes to the database
        held.set("C0PAY", PM, [Holder("U0BOB0001", "bob")], by=None)
        assert held.for_channel("C0PAY")[PM].ids == ("U0BOB0001",)
        attempts: list[int] = []
        event.listen(store.engine, "do_connect", lambda *args: attempts.append(1))
        folder.rename(tmp_path / "moved")  # the database is gone
        store.engine.dispose()
        for _ in range(5):
            assert held.for_channel("C0PAY")[PM].ids == ("U0BOB0001",)  # the last read
        with pytest.raises(StoreError, match="unavailable"):
            held.for_channel("C0OTHER")  # never read: no holders to fall back on
        assert len(attempts) == 1, "the database was tried again at once"
        (tmp_path / "moved").rename(folder)
        time.sleep(held.retry_interval + 0.1)
        held.set("C0PAY", PM, [Holder("U0ANN0001", "ann")], by=None)
        assert held.for_channel("C0PAY")[PM].ids == ("U0ANN0001",)  # back: read again
    finally:
        store.close()


def test_a_negative_history_limit_is_refused_on_every_database(store: SqlStore) -> None:
    """PostgreSQL refuses ``LIMIT -1`` (which SQLite reads as "no limit"): a clear error on both,
    never a database failure."""
    held = holders(store)
    held.set("C0PAY", PM, [Holder("U0BOB0001", "bob")], by=None)
    with pytest.raises(HolderError, match="a limit of -1 changes: give 0 or more"):
        held.history(limit=-1)
    assert len(held.history(limit=0)) == 0
