"""Telling the person who asked, once, when a curator answered their question.

Every replica sweeps the promoted questions nobody has announced yet (within its reload
interval). Before telling anyone, a replica claims the question in the database (an update that
only one caller can win), so the asker hears it exactly once across replicas, workers and
retries. A question is announced only once the replica's knowledge holds its entry; dismissed
questions never are. If the message cannot be delivered (the channel is gone or archived, rolebot
was removed), that is logged and the sweep moves on: it is not tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.knowledge import Entry, Knowledge, Role
from bot.store.interface import LoggedQuestion, Store

logger = logging.getLogger(__name__)

STALE = timedelta(hours=1)
"""A promoted question whose entry is still missing this long after (removed from the files)
is set aside unannounced, so it never holds up the sweep."""


class Undeliverable(Exception):
    """The asker's thread cannot be reached any more (raised by the function that tells)."""


@dataclass(frozen=True)
class Announcement:
    """Where to tell whom what."""

    question: LoggedQuestion
    channel: str
    thread_ts: str
    entry: Entry
    role: Role


Tell = Callable[[Announcement], None]


def announce_pending(store: Store, knowledge: Knowledge, tell: Tell, *, limit: int = 50) -> int:
    """Tell the askers of promoted, unannounced questions; how many were told.

    ``tell`` delivers one announcement (raising :class:`Undeliverable` when the thread is gone).
    Raises StoreError when the database cannot be read (nothing is claimed then).
    """
    told = 0
    now = datetime.now(UTC)
    for question in store.unannounced(limit):
        entry = knowledge.entries_by_id.get(question.resolved_entry_id or "")
        if entry is None:
            resolved = question.resolved_at or now
            if now - resolved < STALE or not store.claim_announcement(question.id):
                continue  # this replica's knowledge does not hold it yet: a later sweep will
            logger.warning(
                "question %d was promoted to '%s', which is not in the knowledge; not announced",
                question.id,
                question.resolved_entry_id,
            )
            continue
        target = _thread(question)
        if not store.claim_announcement(question.id):
            continue  # another replica (or worker) has it
        if target is None:
            logger.info("question %d was promoted; there is no thread to tell", question.id)
            continue
        announcement = Announcement(question, *target, entry, knowledge.roles[entry.owner])
        try:
            tell(announcement)
        except Undeliverable as error:
            logger.warning(
                "question %d was promoted, but its thread in %s is gone (%s); not announced",
                question.id,
                target[0],
                error,
            )
            continue
        except Exception:
            logger.exception("telling the asker of question %d failed", question.id)
            continue
        told += 1
        logger.info("told the asker of question %d: the %s", question.id, entry.owner)
    return told


def _thread(question: LoggedQuestion) -> tuple[str, str] | None:
    """The question's thread (in a DM for a DM); ``None`` for a question without one (slash
    commands and "Wrong role" clicks have no message to reply under)."""
    if not question.channel_id:
        return None
    ts = question.thread_ts or question.message_ts
    if not ts:
        return None
    return question.channel_id, ts
