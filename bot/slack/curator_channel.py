"""The curators' channel (``ROLEBOT_CURATOR_CHANNEL``): every new unanswered question, posted
once, with one-click buttons; what happens when a curator clicks one.

- After a question is logged, the replica that logged it posts it (:meth:`CuratorChannel.post_new`),
  having claimed it in the database, so it is posted exactly once across replicas. A
  near-duplicate of a question already there edits that message ("asked 3 times") instead.
- Promote (to a role, or into one of the nearest entries) and Dismiss go through
  :mod:`bot.curation.review`, exactly as ``rolebot unanswered`` and the Home tab do; the
  message then shows who handled it and how, without buttons.
- Every replica's background sweep (:meth:`CuratorChannel.sweep`, run by
  :class:`~bot.slack.curate.Announcer`) closes messages whose questions were handled elsewhere
  (the CLI, the Home tab, ``/role unanswered``, another replica), and posts questions a
  replica logged but could not post (spooled while the database was down).
- A channel rolebot cannot post in (gone, archived, not invited) is logged once; the questions
  are logged as always.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.ids import USER_ID
from bot.core.knowledge import Entry
from bot.curation import review
from bot.errors import RolebotError
from bot.slack.blocks.answer import notice
from bot.slack.blocks.curate import promoted_notice
from bot.slack.blocks.curator_channel import Handled, closed_post, open_post
from bot.slack.blocks.message import Message
from bot.slack.blocks.safe import decode_value, escape
from bot.slack.curate import GONE, _reason
from bot.slack.metrics import get_metrics
from bot.slack.replies import api_failed
from bot.store.curator_posts import (
    HANDLED,
    UNDELIVERABLE,
    CuratorPostStore,
    PostState,
    curator_post_store,
)
from bot.store.interface import LoggedQuestion, Status

if TYPE_CHECKING:
    from bot.slack.service import Service

logger = logging.getLogger(__name__)

RECENT = timedelta(days=1)
"""Questions logged this recently and not posted yet are posted (older ones are not: turning
the channel on does not flood it with the whole log)."""
GRACE = timedelta(seconds=10)
"""The sweep leaves questions this young to the replica that logged them."""
PER_ROUND = 20
"""Questions posted, and handled messages closed, per call at most."""
ENTRY_WAIT = timedelta(minutes=1)
"""A promoted entry this replica's knowledge does not hold yet: the message waits this long
for the reload before saying so without the role."""


class CuratorChannel:
    """One process's side of the curators' channel."""

    def __init__(
        self, service: Service, client: WebClient, channel_id: str, posts: CuratorPostStore
    ) -> None:
        self.service = service
        self.client = client
        self.channel_id = channel_id
        self.posts = posts
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ posting
    def post_new(self, *, grace: timedelta = timedelta(0)) -> int:
        """Post (or fold into an open message) the questions nobody has shown yet; how many.
        Never raises: a database failure is logged and a later round tries again; a message
        Slack refused is not tried again (the questions stay in the review views)."""
        now = datetime.now(UTC)
        try:
            questions = self.posts.unposted(now - RECENT, PER_ROUND)
        except RolebotError as error:
            logger.debug("curators' channel: reading new questions skipped: %s", error)
            return 0
        shown = 0
        for question in questions:
            if now - question.created_at < grace:
                continue
            try:
                shown += self._place(question)
            except RolebotError as error:
                logger.warning("curators' channel: question %d not shown: %s", question.id, error)
            except Exception:
                logger.exception("curators' channel: showing question %d failed", question.id)
        return shown

    def _place(self, question: LoggedQuestion) -> int:
        claim = self.posts.claim(question, self.channel_id)
        if claim is None:
            return 0  # another replica (or worker) has it
        if not claim.new:
            self.refresh(claim.post.id)
            return 1
        state = self.posts.state(claim.post.id)
        if state is None:  # pragma: no cover - purged meanwhile
            return 0
        reply = self._render(state)
        try:
            posted = self.client.chat_postMessage(
                channel=self.channel_id,
                text=reply["text"],
                blocks=reply["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            self._failed("chat.postMessage", error)
            self.posts.close(claim.post.id, UNDELIVERABLE)  # never retried; the question stays
            return 0
        except Exception as error:
            api_failed("chat.postMessage", error, self.channel_id)
            self.posts.close(claim.post.id, UNDELIVERABLE)
            return 0
        ts = str(posted.get("ts") or "")
        if ts:
            self.posts.posted(claim.post.id, ts)
            # A near-duplicate that joined while this was being posted found no ts to edit:
            # show it now (one that joins from here on edits the message itself).
            latest = self.posts.state(claim.post.id)
            if latest is not None and latest.questions != state.questions:
                self.refresh(claim.post.id)
        logger.info("curators' channel: question %d posted", question.id)
        return 1

    def refresh(self, post_id: int) -> None:
        """Edit the message to show its current state (count, latest wording, or handled)."""
        state = self.posts.state(post_id)
        if state is None or not state.post.message_ts or state.post.outcome == UNDELIVERABLE:
            return
        reply = self._render(state)
        try:
            self.client.chat_update(
                channel=state.post.channel_id,
                ts=state.post.message_ts,
                text=reply["text"],
                blocks=reply["blocks"],
            )
        except SlackApiError as error:
            self._failed("chat.update", error)
        except Exception as error:
            api_failed("chat.update", error, state.post.channel_id)

    def finish(self, post_id: int) -> None:
        """After a click: close the message if none of its questions is open, and show it."""
        self.posts.close(post_id, HANDLED)
        self.refresh(post_id)

    def sweep(self) -> int:
        """One background round: close messages handled by any path, then post what is
        left unposted. How many messages were closed."""
        closed = 0
        try:
            for post in self.posts.handled(self.channel_id, PER_ROUND):
                state = self.posts.state(post.id)
                if state is None or not self._knows_entries(state):
                    continue
                if self.posts.close(post.id, HANDLED):
                    self.refresh(post.id)
                    closed += 1
        except RolebotError as error:
            logger.debug("curators' channel: sweep skipped: %s", error)
        self.post_new(grace=GRACE)
        return closed

    def _knows_entries(self, state: PostState) -> bool:
        """Whether this replica's knowledge holds every entry the questions went to (else a
        later round, after the reload, shows the role); gives up waiting after a minute."""
        now = datetime.now(UTC)
        entries = self.service.knowledge.entries_by_id
        return all(
            q.resolved_entry_id in entries or now - (q.resolved_at or now) > ENTRY_WAIT
            for q in state.questions
            if q.status == Status.PROMOTED
        )

    def _failed(self, method: str, error: SlackApiError) -> None:
        code = str(error.response.get("error") or "")
        if code not in GONE:
            api_failed(method, error, self.channel_id)
            return
        get_metrics().api_error(method, code)  # counted every time, logged once
        with self._lock:
            first = code not in self._warned
            self._warned.add(code)
        (logger.warning if first else logger.debug)(
            "curators' channel %s: %s failed (%s); questions are still logged. Invite rolebot "
            "to the channel, or fix ROLEBOT_CURATOR_CHANNEL",
            self.channel_id,
            method,
            code,
        )

    # ------------------------------------------------------------------ rendering
    def _render(self, state: PostState) -> Message:
        questions = state.questions
        if state.post.closed_at is not None or not state.open_ids:
            return closed_post(questions, self._handled(questions), note="No longer in the log.")
        return open_post(
            state.post.id, questions, self.service.knowledge, self._nearest(questions[-1])
        )

    def _nearest(self, question: LoggedQuestion) -> list[Entry]:
        """The matcher's nearest entries for the question, best first."""
        knowledge = self.service.knowledge
        try:
            answer = self.service.engine.ask(question.text)
        except Exception:
            logger.exception("curators' channel: matching question %d failed", question.id)
            return []
        entries = [
            knowledge.entries_by_id[c.entry_id]
            for c in answer.result.candidates
            if c.entry_id in knowledge.entries_by_id
        ]
        if question.best_entry_id in knowledge.entries_by_id and not entries:
            entries.append(knowledge.entries_by_id[question.best_entry_id or ""])
        return list(dict.fromkeys(entries))

    def _handled(self, questions: tuple[LoggedQuestion, ...]) -> list[Handled]:
        knowledge = self.service.knowledge
        counts: Counter[tuple[str, str | None, str | None]] = Counter(
            (q.status, q.resolved_entry_id, q.resolved_by)
            for q in questions
            if q.status != Status.OPEN
        )
        handled = []
        for (status, entry_id, by), count in counts.items():
            entry = knowledge.entries_by_id.get(entry_id or "")
            role = knowledge.roles.get(entry.owner) if entry is not None else None
            handled.append(Handled(status, self.who(by), count, role, entry_id))
        return handled

    def who(self, stored: str | None) -> str:
        """Who handled it, as safe mrkdwn: a curator's mention (an edit notifies nobody), the
        CLI user's login name, or "a curator" when only a hash of the id is stored."""
        if not stored:
            return "a curator"
        if USER_ID.match(stored):
            return f"<@{stored}>"
        for curator in sorted(self.service.settings.curators):
            if self.posts.user_key(curator) == stored:
                return f"<@{curator}>"
        if self.service.settings.hash_user_ids:
            return "a curator"
        name = escape(stored.replace("`", "'"))[:80]
        return f"`{name}` (command line)"

    # ------------------------------------------------------------------ clicks
    def promote(self, value: str | None, user_id: str | None) -> Message:
        """Promote to a role (``r``) or into an existing entry (``e``)."""
        if not self.service.is_curator(user_id):
            return notice("Sorry, only curators can handle the questions here.")
        data = decode_value(value)
        state = self._state(data)
        if state is None:
            return notice("That question is no longer in the log.")
        if not state.open_ids:
            self.finish(state.post.id)
            return notice("Already handled: see the message.")
        knowledge = self.service.knowledge
        entry = knowledge.entries_by_id.get(data.get("e", "")) if data.get("e") else None
        role = knowledge.roles.get(entry.owner if entry is not None else data.get("r", ""))
        if role is None:
            return notice("That entry or role is no longer in the knowledge; ask again.")
        try:
            result = review.promote(
                self.service.store,
                self.service.engine.directory,
                state.open_ids,
                role.id,
                entry.id if entry is not None else None,
                by=user_id,
            )
        except RolebotError as error:
            self.finish(state.post.id)  # resolved by someone else meanwhile: show it
            return notice(f"Not promoted: {escape(_reason(error))}")
        self.service.engine.reload()
        self.finish(state.post.id)
        count = len(result.ids)
        how = "a new FAQ entry" if result.created else "FAQ entry"
        text = (
            f"Promoted {count} question{'s' if count != 1 else ''} to the {escape(role.name)}, "
            f"as {how} `{escape(result.entry_id)}`. The asker is told."
        )
        if result.created:
            text += " Its answer is a draft until you write it."
        return promoted_notice(text, result.entry_id, can_write=True)

    def dismiss(self, value: str | None, user_id: str | None) -> Message:
        if not self.service.is_curator(user_id):
            return notice("Sorry, only curators can handle the questions here.")
        state = self._state(decode_value(value))
        if state is None:
            return notice("That question is no longer in the log.")
        if not state.open_ids:
            self.finish(state.post.id)
            return notice("Already handled: see the message.")
        try:
            result = review.dismiss(self.service.store, state.open_ids, by=user_id)
        except RolebotError as error:
            self.finish(state.post.id)
            return notice(f"Not dismissed: {escape(_reason(error))}")
        self.finish(state.post.id)
        count = len(result.dismissed)
        return notice(f"Dismissed {count} question{'s' if count != 1 else ''}.")

    def _state(self, data: dict[str, str]) -> PostState | None:
        raw = data.get("p", "")
        if not raw.isdigit() or not 0 < int(raw) < 2**31:
            return None
        return self.posts.state(int(raw))


def curator_channel(service: Service, client: WebClient) -> CuratorChannel | None:
    """The curators' channel when ``ROLEBOT_CURATOR_CHANNEL`` is set (and the store has a
    database), else ``None``."""
    channel_id = service.settings.curator_channel
    if not channel_id:
        return None
    posts = curator_post_store(service.store)
    if posts is None:
        return None
    return CuratorChannel(service, client, channel_id, posts)


__all__ = ["CuratorChannel", "curator_channel"]
