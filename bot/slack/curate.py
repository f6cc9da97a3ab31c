"""The curators' side in Slack, in one place: what happens when a curator clicks Promote or
Dismiss, writes an answer in the modal, and how askers are told.

- :class:`CuratorDesk`: the review list, Promote, Dismiss, the answer modal. The decisions are
  :mod:`bot.curation.review`'s (curated changes in the database, validated with the files).
- :class:`Announcer`: a thread per process that, every reload interval, picks up new curated
  changes and tells askers whose questions were promoted (:mod:`bot.curation.announce`).

The listeners in ``listeners/actions`` and ``listeners/views`` only translate payloads.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.curation import review
from bot.curation.announce import Announcement, Undeliverable, announce_pending
from bot.errors import KnowledgeError, RolebotError
from bot.slack.blocks.answer import notice
from bot.slack.blocks.curate import (
    ANSWER_BLOCK,
    ANSWER_INPUT,
    MODAL_ANSWER_LIMIT,
    announcement,
    answer_modal,
    drafts_blocks,
    promoted_notice,
)
from bot.slack.blocks.message import Message, message
from bot.slack.blocks.review import parse_ids, review_message
from bot.slack.blocks.safe import Block, decode_value, escape
from bot.slack.replies import api_failed

if TYPE_CHECKING:
    from bot.slack.service import Service

logger = logging.getLogger(__name__)

GONE = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "channel_is_archived",
        "not_in_channel",
        "thread_not_found",
        "message_not_found",
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "team_access_not_granted",
    }
)
"""Slack's errors for a thread rolebot can no longer post in: announced never, logged once."""
MAX_DRAFTS_SHOWN = 4
"""Draft answers listed under the open questions (the message holds at most 50 blocks)."""


def _reason(error: RolebotError) -> str:
    """One line for a person: the loader's first problem, or the error's first line."""
    if isinstance(error, KnowledgeError) and error.problems:
        return str(error.problems[0])
    return str(error).splitlines()[0]


class CuratorDesk:
    """The review list, Promote, Dismiss and the answer modal, for curators only."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def review(self, user_id: str | None) -> Message:
        """The open questions, grouped, for curators; a polite no for everyone else."""
        service = self.service
        if not service.is_curator(user_id):
            return notice(
                "Sorry, the unanswered questions are only for curators. Ask one of them if you "
                "think a question is missing an answer."
            )
        listing = review_message(service.store.open_groups(limit=20), service.knowledge)
        return message(listing["text"], [*listing["blocks"], *self.drafts_blocks()])

    def drafts_blocks(self) -> list[Block]:
        """Promoted entries whose answer is still a draft, with "Write the answer" buttons."""
        knowledge = self.service.knowledge
        drafts = [
            (entry, knowledge.roles[entry.owner])
            for entry in knowledge.entries
            if review.is_draft(entry.answer)
        ]
        return drafts_blocks(drafts[:MAX_DRAFTS_SHOWN])

    def promote(self, value: str | None, user_id: str | None) -> Message:
        """A curated change in the database: every replica answers it within its reload
        interval, and the asker is told once."""
        service = self.service
        if not service.is_curator(user_id):
            return notice("Sorry, only curators can promote questions.")
        data = decode_value(value)
        ids, role = parse_ids(data.get("i")), service.knowledge.roles.get(data.get("r", ""))
        if not ids or role is None:
            return notice("Nothing to promote: that question may already be handled.")
        try:
            result = review.promote(
                service.store, service.engine.directory, ids, role.id, by=user_id
            )
        except RolebotError as error:
            return notice(f"Not promoted: {escape(_reason(error))}")
        service.engine.reload()
        how = "a new FAQ entry" if result.created else "FAQ entry"
        count = len(result.ids)
        text = (
            f"Promoted {count} question{'s' if count != 1 else ''} to the {escape(role.name)}, "
            f"as {how} `{escape(result.entry_id)}`. Every replica answers it from now on, and "
            "the asker is told."
        )
        if result.created:
            text += " Its answer is a draft until you write it."
        return promoted_notice(text, result.entry_id, can_write=True)

    def dismiss(self, value: str | None, user_id: str | None) -> Message:
        service = self.service
        if not service.is_curator(user_id):
            return notice("Sorry, only curators can dismiss questions.")
        ids = parse_ids(decode_value(value).get("i"))
        if not ids:
            return notice("Nothing to dismiss: that question may already be handled.")
        try:
            result = review.dismiss(service.store, ids, by=user_id)
        except RolebotError as error:
            return notice(f"Not dismissed: {escape(_reason(error))}")
        count = len(result.dismissed)
        return notice(f"Dismissed {count} question{'s' if count != 1 else ''}.")

    def answer_view(self, value: str | None, user_id: str | None) -> dict[str, Any] | Message:
        """The modal to write an entry's answer (or a notice saying why not)."""
        service = self.service
        if not service.is_curator(user_id):
            return notice("Sorry, only curators can write answers.")
        entry = service.knowledge.entries_by_id.get(decode_value(value).get("e", ""))
        if entry is None:
            return notice("That entry is not in the knowledge yet; try again in a moment.")
        role = service.knowledge.roles[entry.owner]
        return answer_modal(entry, role, entry.answer, draft=review.is_draft(entry.answer))

    def submit_answer(self, view: dict[str, Any], user_id: str | None) -> dict[str, str] | None:
        """Store the answer from the modal; ``None`` when saved, else errors for the input."""
        service = self.service
        if not service.is_curator(user_id):
            return {ANSWER_BLOCK: "Only curators can write answers."}
        entry_id = decode_value(view.get("private_metadata")).get("e", "")
        state = ((view.get("state") or {}).get("values") or {}).get(ANSWER_BLOCK) or {}
        text = str((state.get(ANSWER_INPUT) or {}).get("value") or "")
        if len(text) > MODAL_ANSWER_LIMIT:
            return {ANSWER_BLOCK: f"Keep it to {MODAL_ANSWER_LIMIT} characters."}
        try:
            review.write_answer(service.store, service.engine.directory, entry_id, text, user_id)
        except RolebotError as error:
            return {ANSWER_BLOCK: _reason(error)[:300]}
        service.later(service.engine.reload)  # after the acknowledgement; others within seconds
        return None


class Announcer:
    """Every reload interval: pick up curated changes, then tell askers (once, across
    replicas). A daemon thread per process; :meth:`sweep` is one round."""

    def __init__(self, service: Service, client: WebClient, interval: float) -> None:
        self.service = service
        self.client = client
        self.interval = max(0.5, interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Announcer:
        self._thread = threading.Thread(target=self._run, name="rolebot-announcer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def sweep(self) -> int:
        """Reload if the knowledge changed, then announce; how many askers were told."""
        try:
            self.service.engine.reload_if_changed()  # files, and the curated changes' revision
        except Exception:
            logger.exception("checking the knowledge for changes failed")
        channel = self.service.curator_channel
        if channel is not None:  # handled messages shown, unposted questions posted
            channel.sweep()
        try:
            return announce_pending(self.service.store, self.service.knowledge, self.tell)
        except RolebotError as error:  # the database is down: next round
            logger.debug("announcing skipped: %s", error)
            return 0

    def tell(self, item: Announcement) -> None:
        reply = announcement(item.role, item.entry, draft=review.is_draft(item.entry.answer))
        try:
            self.client.chat_postMessage(
                channel=item.channel,
                thread_ts=item.thread_ts,
                text=reply["text"],
                blocks=reply["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            code = str(error.response.get("error") or "")
            if code in GONE:
                raise Undeliverable(code) from None
            api_failed("chat.postMessage", error, item.channel)
            raise

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:
                logger.exception("the curated-changes sweep failed")
