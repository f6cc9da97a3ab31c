"""Role holders in Slack: ``/role set``, ``/role unset``, ``/role holders``, and who answers name.

A channel's holders of a role are named in every answer given in that channel; elsewhere (and
in direct messages) the workspace defaults from ``contacts:`` are. Whether they are mentioned
(which notifies them) or only named is ``ROLEBOT_HOLDERS_NOTIFY``: when off, a posted answer
goes out with plain names and is edited straight away to carry the mentions, because Slack
notifies nobody of mentions an edit adds. Ephemeral replies notify nobody either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from bot.config import Settings
from bot.core.engine import Engine
from bot.core.ids import CHANNEL_ID, GROUP_ID, USER_ID
from bot.core.knowledge import Role
from bot.errors import RolebotError
from bot.slack.blocks.answer import notice
from bot.slack.blocks.holders import (
    People,
    holders_message,
    set_message,
    unset_message,
)
from bot.slack.blocks.message import Message
from bot.slack.blocks.safe import clip, defang, escape, readable
from bot.store.holders import (
    MAX_HOLDERS,
    Holder,
    HolderError,
    HolderStore,
    check_holders,
    holder_store,
)

logger = logging.getLogger(__name__)

Delivery = Literal["post", "ephemeral", "share"]
"""How an answer reaches Slack: posted in a thread (can be edited at once), visible only to
the asker, or shared in the channel through a response_url (cannot be edited afterwards)."""

_TOKEN = re.compile(r"<[^<>]*>|\S+")
_PERSON = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|([^>]*))?>$")
_GROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,30})(?:\|([^>]*))?>$")
_CHANNEL = re.compile(r"^<#([CGD][A-Z0-9]{2,30})(?:\|([^>]*))?>$")
_SPECIAL = re.compile(r"^<!([a-z]+)(?:\|[^>]*)?>$")
_BARE_ID = re.compile(r"^[UWSCGD][A-Z0-9]{6,30}$")


@dataclass(frozen=True)
class Parsed:
    role: Role
    holders: tuple[Holder, ...]


class HolderDesk:
    """The holders side of the Slack app, over a :class:`~bot.store.holders.HolderStore`."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: object,
        is_curator: Callable[[str | None], bool],
    ) -> None:
        """``store``: the app's store; its database holds the holders (looked at on first use)."""
        self.settings = settings
        self.engine = engine
        self._source = store
        self.is_curator = is_curator

    @cached_property
    def store(self) -> HolderStore | None:
        return holder_store(self._source)

    @property
    def command_name(self) -> str:
        return self.settings.command

    # ------------------------------------------------------------------ answers
    def holders_in(self, channel_id: str | None) -> dict[str, tuple[Holder, ...]]:
        """The channel's holders by role id; none in a DM, or when the database is down."""
        if self.store is None or not channel_id or not CHANNEL_ID.match(channel_id):
            return {}
        try:
            found = self.store.for_channel(channel_id)
        except RolebotError as error:  # the database is down (the store logs it once)
            logger.debug("naming the defaults: %s", error)
            return {}
        except Exception:
            logger.exception("reading the role holders failed; naming the defaults")
            return {}
        return {role: held.holders for role, held in found.items()}

    def render(
        self,
        build: Callable[[People], Message],
        channel_id: str | None,
        delivery: Delivery,
    ) -> Message:
        """``build`` with the channel's holders, named as the workspace wants."""
        holders = self.holders_in(channel_id)
        if delivery == "ephemeral" or self.settings.holders_notify:
            return build(People(holders, mention=True))
        quiet = build(People(holders, mention=False))
        if delivery == "post":
            loud = build(People(holders, mention=True))
            if loud != quiet:
                quiet["edit"] = loud
        return quiet

    # ------------------------------------------------------------------ the commands
    def command(self, word: str, text: str, user_id: str | None, channel_id: str | None) -> Message:
        """``/role set …``, ``/role unset …`` or ``/role holders``."""
        if word == "holders":
            return self.show(channel_id)
        if not channel_id or not CHANNEL_ID.match(channel_id):
            return notice(
                "Holders are per channel: run this in the channel whose "
                f"holders you want to set. Here the workspace defaults apply "
                f"(`{self.command_name} holders` in a channel shows both)."
            )
        if self.settings.holders_editors == "curators" and not self.is_curator(user_id):
            return notice(
                "Sorry, only curators can change role holders in this workspace. "
                f"`{self.command_name} holders` shows who holds each role here."
            )
        if self.store is None:
            return notice("Role holders need the database, which this app has none of.")
        try:
            if word == "set":
                parsed = self._parse_set(text)
                change = self.store.set(
                    channel_id, parsed.role.id, parsed.holders, by=user_id, source="slack"
                )
                return set_message(parsed.role, channel_id, parsed.holders, change.before)
            role = self._role(text, "unset")
            cleared = self.store.unset(channel_id, role.id, by=user_id, source="slack")
            return unset_message(role, channel_id, cleared.before if cleared else None)
        except RolebotError as error:
            return notice(f"Nothing changed: {escape(str(error).splitlines()[0])}")

    def show(self, channel_id: str | None) -> Message:
        """``/role holders``: this channel's holders beside the workspace defaults."""
        knowledge = self.engine.knowledge
        if not channel_id or not CHANNEL_ID.match(channel_id):
            return holders_message(knowledge, "", {}, self.command_name)
        current = {}
        if self.store is not None:
            try:
                current = {h.role_id: h for h in self.store.list([channel_id])}
            except RolebotError as error:
                return notice(f"Could not read the holders: {escape(str(error))}")
        return holders_message(knowledge, channel_id, current, self.command_name)

    # ------------------------------------------------------------------ parsing
    def _parse_set(self, text: str) -> Parsed:
        tokens = _TOKEN.findall(text)
        cut = next(
            (n for n, t in enumerate(tokens) if t[0] in "<@" or _BARE_ID.match(t)), len(tokens)
        )
        role = self._role(" ".join(tokens[:cut]), "set")
        holders: list[Holder] = []
        for token in tokens[cut:]:
            holders.append(_holder(token))
        if not holders:
            raise HolderError(
                f"name the people or groups who hold the {role.name} role here, e.g. "
                f"`{self.command_name} set {role.id} @person @group` "
                f"(`{self.command_name} unset {role.id}` clears it)"
            )
        if len(holders) > MAX_HOLDERS:
            raise HolderError(
                f"{len(holders)} holders is too many: at most {MAX_HOLDERS} per role and "
                "channel (name a user group instead)"
            )
        return Parsed(role, check_holders(holders))

    def _role(self, text: str, word: str) -> Role:
        example = f"`{self.command_name} {word} product manager{' @person' * (word == 'set')}`"
        if not text.strip():
            raise HolderError(f"name a role first, e.g. {example}")
        lookup = self.engine.lookup_role(text)
        if lookup.role is not None:
            return lookup.role
        said = _said(text, 60)
        if lookup.ambiguous:
            names = ", ".join(r.name for r in lookup.ambiguous)
            raise HolderError(f"“{said}” could mean {names}: which one? e.g. {example}")
        if lookup.suggestions:
            names = " or ".join(f"{r.name} ({r.id})" for r in lookup.suggestions)
            raise HolderError(f"I don't know a role called “{said}”. Did you mean {names}?")
        roles = ", ".join(r.id for r in self.engine.knowledge.roles.values())
        raise HolderError(f"I don't know a role called “{said}”. The roles are {roles}")


def _said(text: str, limit: int) -> str:
    """What someone typed, readable and inert but not yet escaped (errors are escaped once)."""
    return clip(defang(" ".join(readable(text).split())), limit)


def _holder(token: str) -> Holder:
    """One person or group from the command text, or a one-line reason it is not one."""
    if match := _PERSON.match(token):
        return Holder(match.group(1), match.group(2))
    if match := _GROUP.match(token):
        return Holder(match.group(1), match.group(2))
    if match := _CHANNEL.match(token):
        name = match.group(2) or match.group(1)
        raise HolderError(
            f"#{_said(name, 60)} is a channel, not a person: name people or user groups "
            "(@person, @group)"
        )
    if match := _SPECIAL.match(token):
        raise HolderError(
            f"@{_said(match.group(1), 20)} is not a person: name people or user groups "
            "(@person, @group)"
        )
    if USER_ID.match(token) or GROUP_ID.match(token):
        return Holder(token)
    if CHANNEL_ID.match(token) or (token.startswith("D") and _BARE_ID.match(token)):
        raise HolderError(
            f"{_said(token, 40)} is a channel id, not a person: name people or user groups "
            "(@person, @group)"
        )
    raise HolderError(
        f"“{_said(token, 60)}” is not a Slack id: pick people and groups from Slack's @ menu, "
        "so that Slack sends their ids"
    )


__all__ = ["Delivery", "HolderDesk"]
