"""What the Slack listeners call: asking, feedback, the slash command, review and health.

Listeners only translate between Slack payloads and these methods; everything rolebot decides
lives here or in the core. Store writes that need not precede the reply (logging unanswered
questions, counting answers, feedback) run on a background executor, so they never delay it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.answers import Answer
from bot.core.engine import Engine
from bot.core.knowledge import Knowledge, Role
from bot.core.matching.matcher import Candidate
from bot.core.normalize import clean, fold, normalize, slack_to_plain
from bot.slack.blocks.answer import (
    SORRY,
    answer_message,
    helpful_thanks,
    notice,
    wrong_role_prompt,
    wrong_role_thanks,
)
from bot.slack.blocks.home import HOME_GROUPS, home_view
from bot.slack.blocks.message import Message, with_share
from bot.slack.blocks.roles import compare_message, help_message, lookup_message, role_message
from bot.slack.blocks.safe import clip, decode_value, escape, readable
from bot.slack.curate import CuratorDesk
from bot.slack.executor import BoundedExecutor
from bot.slack.health import DatabaseProbe
from bot.slack.holders import HolderDesk
from bot.slack.metrics import Metrics, get_metrics
from bot.store.interface import QuestionRecord, Source, Store

if TYPE_CHECKING:
    from bot.slack.curator_channel import CuratorChannel

logger = logging.getLogger(__name__)

MAX_COMMAND_TEXT = 2000
"""Longer command text is cut before it is parsed (a question never needs more)."""
ANSWER_THREADS = 16
"""Threads running the listeners (per process): mostly waiting on the Web API and the database."""
ANSWER_BACKLOG = 256
"""Acknowledged requests waiting for a thread, at most; past that, acknowledging waits too."""
STORE_BACKLOG = 2000
"""Background store writes waiting, at most, before asking for another one waits too."""
SPOOL_COUNT_TTL = 1.0
"""Seconds a count of the spool's records is reused (counting reads the files)."""

_OWNERSHIP_QUESTION = re.compile(
    r"\b(?:who|whose|which (?:pm|role|team|manager|person))\b.{0,200}?\b(?:own|owns|owner|"
    r"owning|ownership|responsible|accountable|decide|decides|deciding|call|job|charge|"
    r"handle|handles|drive|drives|approve|approves|sign off|signs off|prioriti[sz]e|"
    r"prioriti[sz]es|lead|leads|manage|manages|set|sets|define|defines|track|tracks|"
    r"coordinate|coordinates|ask|talk to|go to)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Asked:
    """A question and where it came from."""

    text: str
    """As Slack sent it (mrkdwn, entities escaped)."""
    source: Source
    channel_id: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    event_id: str | None = None

    def __post_init__(self) -> None:  # the boundary: what Slack sent, made valid and visible
        object.__setattr__(self, "text", clean(self.text))


@dataclass(frozen=True)
class Reply:
    """A reply to a slash command: the message and whether it may be shared in the channel."""

    message: Message
    shareable: bool = True


def looks_like_ownership_question(text: str) -> bool:
    """A plain channel message worth answering when a channel has listening on."""
    plain = slack_to_plain(text)
    if not plain or len(plain) > 600:
        return False
    return bool(_OWNERSHIP_QUESTION.search(plain))


class Service:
    """Everything the Slack app does, without Slack's plumbing."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: Store,
        *,
        background: Executor | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self.metrics = metrics or get_metrics()
        self.answering = BoundedExecutor(ANSWER_THREADS, ANSWER_BACKLOG, "rolebot-listener")
        """Where the Bolt listeners run, after the acknowledgement."""
        self._owns_background = background is None
        self._background = background or BoundedExecutor(2, STORE_BACKLOG, "rolebot-store")
        self.database = DatabaseProbe(self._database_answers)
        # SQLite has one writer at a time and makes the others poll for the lock: with many
        # threads claiming at once some wait out the busy timeout, and the store then counts
        # the database as down. Claims from this process take turns here instead.
        sqlite = settings.effective_database_url.startswith("sqlite")
        self._claims: AbstractContextManager[object] = threading.Lock() if sqlite else nullcontext()
        self._spool_lock = threading.Lock()
        self._spool_count: tuple[int | None, float] = (None, float("-inf"))
        self.holders = HolderDesk(settings, engine, store, self.is_curator)
        """Who holds each role per channel: ``/role set``, and the people answers name."""
        self.curation = CuratorDesk(self)
        """Review, Promote, Dismiss and the answer modal (:mod:`bot.slack.curate`)."""
        self.curator_channel: CuratorChannel | None = None
        """``ROLEBOT_CURATOR_CHANNEL``'s side (:mod:`bot.slack.curator_channel`), when set."""

    # ------------------------------------------------------------------ plumbing
    @property
    def knowledge(self) -> Knowledge:
        return self.engine.knowledge

    @property
    def command(self) -> str:
        return self.settings.command

    def later(self, function: Callable[..., object], *args: Any) -> None:
        """Run a store call in the background; a failure is logged, never raised."""

        def run() -> None:
            try:
                function(*args)
            except Exception:
                logger.exception("background store call %s failed", _name(function))

        try:
            self._background.submit(run)
        except RuntimeError:  # shutting down: do it now rather than lose it
            run()

    def shutdown(self) -> None:
        """Finish the answers under way, then the background store writes."""
        self.answering.shutdown(wait=True)
        if self._owns_background:
            self._background.shutdown(wait=True)

    def refresh(self) -> None:
        """Pick up edited knowledge files (cheap; checked at most every reload interval). The
        curated changes in the database are checked in the background (``bot.slack.curate``)."""
        try:
            self.engine.reload_if_changed(self.settings.reload_interval, check_log=False)
        except Exception:
            logger.exception("checking the knowledge folder for changes failed")

    def first_delivery(self, key: str) -> bool:
        """True the first time ``key`` (an event id) is seen by any worker."""
        try:
            with self._claims:
                return self.store.claim_event(key)
        except Exception:
            logger.exception("claiming event %s failed; handling it anyway", key)
            return True

    def first_reply(self, channel: str, ts: str) -> bool:
        """True once per message, in whichever worker: Slack's retries of a delivery
        (``X-Slack-Retry-Num``) and a mention seen as both app_mention and message are
        answered once."""
        if self.first_delivery(f"reply:{channel}:{ts}"):
            return True
        self.metrics.duplicates.inc()
        logger.info("message %s in %s already handled; not answering again", ts, channel)
        return False

    def is_curator(self, user_id: str | None) -> bool:
        return user_id is not None and user_id in self.settings.curators

    # ------------------------------------------------------------------ asking
    def ask(self, asked: Asked, *, record: bool = True) -> Answer:
        """Answer a question; count it, and log it for curators when unanswered."""
        self.refresh()
        started = time.perf_counter()
        answer = self.engine.ask(asked.text)
        self.metrics.match_seconds.observe(time.perf_counter() - started)
        fields: dict[str, object] = {
            "source": str(asked.source),
            "outcome": answer.outcome,
            "score": round(answer.score, 1),
            "entry_id": answer.result.entry_id,
            "event_id": asked.event_id,
        }
        if self.settings.log_message_text:
            fields["text"] = asked.text[:300]
            logger.info(
                "%s question %r: %s", asked.source, asked.text[:300], answer.outcome, extra=fields
            )
        else:
            logger.info(
                "%s question: %s (score %.1f)",
                asked.source,
                answer.outcome,
                answer.score,
                extra=fields,
            )
        if record:
            self.metrics.questions.labels(answer.outcome, str(asked.source)).inc()
            self.later(self.store.count_answer, answer.result.entry_id, answer.outcome)
            if answer.outcome == "unanswered" and not _small_talk(answer):
                self.later(self._log_question, self._record(asked, answer))
        return answer

    def reply_to(self, asked: Asked, *, echo_question: bool = False) -> Message:
        """The reply to a mention, a direct message or ``/role who owns …``."""
        plain = slack_to_plain(asked.text)
        if fold(plain) in ("help", "usage", "commands", "what can you do"):
            return help_message(self.knowledge, self.command)
        hint = notice(
            "Ask me who owns something, e.g. “who decides what goes on the roadmap?”. "
            f"`{self.command} help` lists the roles."
        )
        if not plain:
            return hint
        answer = self.ask(asked)
        if _small_talk(answer):  # "thanks", "hello": nothing to answer, nothing for curators
            return hint
        return self.holders.render(
            lambda people: answer_message(
                answer,
                question=asked.text,
                command=self.command,
                echo_question=echo_question,
                people=people,
            ),
            asked.channel_id,
            "ephemeral" if asked.source == Source.COMMAND else "post",
        )

    def listen_reply(self, asked: Asked) -> Message | None:
        """A plain message in a listening channel: answered only when it is clearly an
        ownership question rolebot can answer; otherwise silence (unanswered ones are logged)."""
        if not looks_like_ownership_question(asked.text):
            return None
        answer = self.ask(asked)
        if answer.outcome not in ("answered", "close_call"):
            return None
        return self.holders.render(
            lambda people: answer_message(
                answer, question=asked.text, command=self.command, people=people
            ),
            asked.channel_id,
            "post",
        )

    def _log_question(self, record: QuestionRecord) -> None:
        """Log for curators, then show it in the curators' channel (when there is one)."""
        self.store.log_question(record)
        if self.curator_channel is not None:
            self.curator_channel.post_new()

    def _record(self, asked: Asked, answer: Answer) -> QuestionRecord:
        best = answer.result.best
        return QuestionRecord(
            text=clip(readable(asked.text), 2000),
            normalized=answer.result.query.normalized,
            source=asked.source,
            team_id=asked.team_id,
            channel_id=asked.channel_id,
            user_id=asked.user_id,
            message_ts=asked.message_ts,
            thread_ts=asked.thread_ts,
            best_entry_id=best.entry_id if best is not None else None,
            best_score=best.score if best is not None else None,
            event_id=asked.event_id,
        )

    # ------------------------------------------------------------------ buttons
    def choose_role(self, value: str | None, channel_id: str | None = None) -> Message:
        """ "I meant the …" in a close call or a clarify question: that role's answer."""
        data = decode_value(value)
        question, role = data.get("q", ""), self.knowledge.roles.get(data.get("r", ""))
        if role is None:
            return notice("That role is no longer in the knowledge base. Please ask again.")
        self.refresh()
        answer = self.engine.ask(question)
        threshold = self.settings.thresholds.suggest
        candidate = next(
            (c for c in answer.result.candidates if c.role == role.id and c.score >= threshold),
            None,
        )
        chosen = self._answer_for(answer, role, candidate)
        self.later(self.store.count_answer, chosen.result.entry_id, "chosen")
        note = f"Chosen: the {escape(role.name)}."
        return self.holders.render(  # shown by an edit, which notifies nobody
            lambda people: answer_message(
                chosen, question=question, command=self.command, note=note, people=people
            ),
            channel_id,
            "ephemeral",
        )

    def nearest(self, value: str | None, channel_id: str | None = None) -> Message:
        """One of the nearest entries offered with an unanswered question."""
        data = decode_value(value)
        question = data.get("q", "")
        entry = self.knowledge.entries_by_id.get(data.get("e", ""))
        if entry is None:
            return notice("That answer is no longer in the knowledge base. Please ask again.")
        role = self.knowledge.roles[entry.owner]
        answer = self.engine.ask(question)
        candidate = next(
            (c for c in answer.result.candidates if c.entry_id == entry.id),
            Candidate(entry.id, entry.owner, 0.0, entry.questions[0]),
        )
        chosen = self._answer_for(answer, role, candidate)
        self.later(self.store.count_answer, entry.id, "nearest")
        note = "Chosen from the closest questions."
        return self.holders.render(  # shown by an edit, which notifies nobody
            lambda people: answer_message(
                chosen, question=question, command=self.command, note=note, people=people
            ),
            channel_id,
            "ephemeral",
        )

    def _answer_for(self, answer: Answer, role: Role, candidate: Candidate | None) -> Answer:
        """``answer`` re-told as answered by ``role`` (from ``candidate``'s entry, if any)."""
        result = answer.result
        entry = self.knowledge.entries_by_id.get(candidate.entry_id) if candidate else None
        if candidate is None or entry is None:
            definition = replace(result, outcome="answered", kind="definition", roles=(role.id,))
            return Answer(answer.question, definition, role=role)
        others = tuple(c for c in result.candidates if c != candidate)
        result = replace(
            result,
            outcome="answered",
            kind="faq",
            roles=(role.id,),
            candidates=(candidate, *others),
        )
        return Answer(answer.question, result, role=role, entry=entry)

    def helpful(self, value: str | None, user_id: str | None) -> Message:
        data = decode_value(value)
        self.later(self.store.record_feedback, data.get("e"), True, user_id)
        return helpful_thanks()

    def wrong_role(self, value: str | None, user_id: str | None) -> Message:
        """ "Wrong role": counted as negative feedback at once, then: which role instead?"""
        data = decode_value(value)
        self.later(self.store.record_feedback, data.get("e"), False, user_id)
        return wrong_role_prompt(self.knowledge, data.get("r"), data)

    def wrong_role_pick(
        self, value: str | None, user_id: str | None, channel_id: str | None, team_id: str | None
    ) -> Message:
        """The role it should have been: the question goes to the review queue with it."""
        data = decode_value(value)
        question = data.get("q", "")
        role = self.knowledge.roles.get(data.get("s", ""))
        if question:
            record = QuestionRecord(
                text=clip(readable(question), 2000),
                normalized=normalize(question),
                source=Source.WRONG_ROLE,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                best_entry_id=data.get("e"),
                suggested_role=role.id if role is not None else None,
            )
            self.later(self._log_question, record)
        return wrong_role_thanks(role)

    def role_definition(self, role_id: str | None) -> Message:
        role = self.knowledge.roles.get(role_id or "")
        if role is None:
            return notice("That role is no longer in the knowledge base.")
        return role_message(role, self.knowledge)

    # ------------------------------------------------------------------ the slash command
    def command_reply(
        self,
        text: str,
        *,
        user_id: str | None,
        channel_id: str | None,
        team_id: str | None = None,
    ) -> Message:
        """``/role …``: the ephemeral reply (with "Share in channel" where it makes sense)."""
        text = clip(clean(text).strip(), MAX_COMMAND_TEXT)
        reply = self._command(text, user_id, channel_id, team_id, record=True)
        return with_share(reply.message, text) if reply.shareable else reply.message

    def shared(self, value: str | None, user_id: str | None, channel_id: str | None) -> Message:
        """ "Share in channel": the same content, for everyone (not counted or logged again)."""
        text = clip(decode_value(value).get("c", ""), MAX_COMMAND_TEXT)
        reply = self._command(text, user_id, channel_id, None, record=False)
        if not reply.shareable:
            return notice("That can't be shared.")
        return reply.message

    def _command(
        self,
        text: str,
        user_id: str | None,
        channel_id: str | None,
        team_id: str | None,
        *,
        record: bool,
    ) -> Reply:
        self.refresh()
        knowledge = self.knowledge
        words = text.split()
        first = words[0].lower() if words else ""
        rest = text[len(words[0]) :].strip() if words else ""
        if first in ("", "help", "?", "-h", "--help", "usage"):
            return Reply(help_message(knowledge, self.command))
        if first in ("unanswered", "review"):
            return Reply(self.review(user_id), shareable=False)
        if first == "listen":
            return Reply(self.listen(rest, channel_id), shareable=False)
        if first in ("set", "unset", "holders") and not text.endswith("?"):
            if not record:  # a "Share in channel" value never changes anything
                return Reply(notice("That can't be shared."), shareable=False)
            return Reply(self.holders.command(first, rest, user_id, channel_id), shareable=False)
        if first == "compare":
            return Reply(self._compare(rest))
        if first == "ask":
            return Reply(self._ask(rest, user_id, channel_id, team_id, record))
        if first in ("who", "whose", "which") or text.endswith("?"):
            return Reply(self._ask(text, user_id, channel_id, team_id, record))
        lookup = self.engine.lookup_role(text)
        if lookup.role is not None:
            return Reply(role_message(lookup.role, knowledge))
        if not lookup.ambiguous and not lookup.suggestions and len(words) >= 3:
            return Reply(self._ask(text, user_id, channel_id, team_id, record))
        return Reply(lookup_message(lookup, self.command))

    def _ask(
        self,
        question: str,
        user_id: str | None,
        channel_id: str | None,
        team_id: str | None,
        record: bool,
    ) -> Message:
        asked = Asked(question, Source.COMMAND, channel_id, user_id, team_id)
        if not slack_to_plain(question):
            return notice(f"Ask a question after it, e.g. `{self.command} who owns the roadmap?`")
        if not record:
            answer = self.ask(asked, record=False)
            return self.holders.render(
                lambda people: answer_message(
                    answer,
                    question=question,
                    command=self.command,
                    echo_question=True,
                    people=people,
                ),
                channel_id,
                "share",
            )
        return self.reply_to(asked, echo_question=True)

    def _compare(self, text: str) -> Message:
        usage = f"Name two roles, e.g. `{self.command} compare product manager tpm`."
        named = self.engine.lookup_roles(text) if text.strip() else ()
        for lookup in named:
            if lookup.role is None:
                reply = lookup_message(lookup, self.command)
                return notice(f"{reply['text']} {usage}")
        if len(named) > 2:
            return notice(f"That names {len(named)} roles; I compare two at a time. {usage}")
        if len(named) < 2:
            return notice(usage)
        first, second = (lookup.role for lookup in named)
        assert first is not None and second is not None
        if first.id == second.id:
            return notice(f"Both names mean the {escape(first.name)}. {usage}")
        return compare_message(first, second, self.knowledge)

    def listen(self, text: str, channel_id: str | None) -> Message:
        """``/role listen on|off``: answer ownership questions here without a mention."""
        if not channel_id or channel_id.startswith("D"):
            return notice("In a direct message I always answer; listening is for channels.")
        word = fold(text)
        channel = f"<#{channel_id}>" if re.fullmatch(r"[CG][A-Z0-9]+", channel_id) else "here"
        if word in ("on", "yes", "true", "start"):
            self.store.set_listen(channel_id, True)
            return notice(
                f"Listening is *on* in {channel}: I'll answer messages that look like "
                "“who owns …?” questions, in a thread, when I know the answer. I need to be "
                f"a member of the channel (`/invite` me). `{self.command} listen off` stops it."
            )
        if word in ("off", "no", "false", "stop"):
            self.store.set_listen(channel_id, False)
            return notice(f"Listening is *off* in {channel}: I answer only when mentioned.")
        state = "on" if self.listening(channel_id) else "off"
        return notice(
            f"Listening is *{state}* in {channel}. `{self.command} listen on` answers "
            f"ownership questions without a mention; `{self.command} listen off` stops it."
        )

    def listening(self, channel_id: str | None) -> bool:
        if not channel_id:
            return False
        try:
            return self.store.listening(channel_id)
        except Exception:
            logger.exception("reading the listen setting failed; not listening")
            return False

    # ------------------------------------------------------------------ curators
    def review(self, user_id: str | None) -> Message:
        """The open questions for curators (see :class:`~bot.slack.curate.CuratorDesk`)."""
        return self.curation.review(user_id)

    def home(self, user_id: str | None) -> dict[str, Any]:
        """The Home tab for this person (curators also see the open questions)."""
        self.refresh()
        groups = None
        if self.is_curator(user_id):
            try:
                groups = self.store.open_groups(limit=HOME_GROUPS)
            except Exception:
                logger.exception("reading the open questions for the Home tab failed")
                groups = []
            return home_view(self.knowledge, self.command, groups, self.curation.drafts_blocks())
        return home_view(self.knowledge, self.command, groups)

    # ------------------------------------------------------------------ health
    def health(self) -> dict[str, Any]:
        """For ``GET /healthz``: ``ok``, or ``degraded`` when the database does not answer.

        Quick whatever the database does: its check is cached for two seconds and waited on
        for half a second at most (:class:`~bot.slack.health.DatabaseProbe`).
        """
        database = self.database.up()
        entries = len(self.knowledge.entries)
        status = "ok" if database and entries else "degraded"
        return {"status": status, "knowledge_entries": entries, "database": database}

    def _database_answers(self) -> bool:
        return bool(self.store.healthy())

    def spool_depth(self) -> int | None:
        """Records waiting in the spool (shared by the workers of one machine); ``None`` for a
        store without one. Counted at most once a second."""
        spool = getattr(self.store, "spool", None)
        count = getattr(spool, "count", None)
        if not callable(count):
            return None
        with self._spool_lock:
            value, at = self._spool_count
            if time.monotonic() - at < SPOOL_COUNT_TTL:
                return value
            try:
                value = int(count())
            except Exception:
                logger.exception("counting the spool's records failed")
                value = None
            self._spool_count = (value, time.monotonic())
            return value

    @staticmethod
    def sorry() -> Message:
        return notice(SORRY)


def _small_talk(answer: Answer) -> bool:
    """Unanswered without a single topic word ("thanks!", "hello"): not a question to log."""
    return answer.outcome == "unanswered" and not answer.result.query.tokens


def _name(function: Callable[..., object]) -> str:
    return getattr(function, "__name__", repr(function))


__all__ = ["Asked", "Reply", "Service", "looks_like_ownership_question"]
