"""The shape of a knowledge file, defined once: the loader validates with these models, and
``rolebot kb schema`` writes the same definition out as a JSON Schema for editors.

These models check one file's structure: types, required and unknown keys, lengths, the role
ids and distinctions, id patterns. What needs several files at once (unknown aspect ids,
duplicate ids and phrasings, off-topic words an entry uses) stays in the loader, and so do the
messages: the loader turns each validation error into a problem naming file, line, entry, field
and fix.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.core.ids import CHANNEL_ID_PATTERN, GROUP_ID_PATTERN, USER_ID_PATTERN
from bot.core.knowledge.model import DISTINCTIONS, ROLE_IDS

MAX_PHRASING = 300
MAX_ANSWER = 600
MAX_SHORT = 80
MAX_TEXT = 1200
MAX_ITEM = 200
MAX_ABBREVIATION = 20
MAX_WORD = 40

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
EMOJI = r"^:[a-z0-9_+-]+:$"
GROUP_ID = GROUP_ID_PATTERN
CHANNEL_ID = CHANNEL_ID_PATTERN
USER_ID = USER_ID_PATTERN

SCHEMA_FILE = "knowledge.schema.json"
"""The schema's name in the knowledge folder (a .json file: the loader reads only YAML)."""

JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
"""Draft 7: the newest draft the YAML language server (VS Code's YAML extension) supports."""


def _text(limit: int, pattern: str | None = None) -> StringConstraints:
    """Text of 1 to ``limit`` characters once surrounding spaces go (a number, date or yes/no
    is refused, not turned into text)."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=limit, pattern=pattern)


Short = Annotated[str, _text(MAX_SHORT)]
Item = Annotated[str, _text(MAX_ITEM)]
Handed = Annotated[str, _text(MAX_ITEM * 2)]
Long = Annotated[str, _text(MAX_TEXT)]
Phrasing = Annotated[str, _text(MAX_PHRASING)]
Answer = Annotated[str, _text(MAX_ANSWER)]
Abbreviation = Annotated[str, _text(MAX_ABBREVIATION)]
Word = Annotated[str, _text(MAX_WORD)]
Slug = Annotated[str, _text(MAX_SHORT, SLUG)]
Emoji = Annotated[str, _text(MAX_SHORT, EMOJI)]
GroupId = Annotated[str, _text(MAX_SHORT, GROUP_ID)]
ChannelId = Annotated[str, _text(MAX_SHORT, CHANNEL_ID)]
UserId = Annotated[str, _text(MAX_SHORT, USER_ID)]
RoleId = Literal[
    "product_manager", "program_manager", "project_manager", "technical_program_manager"
]
Distinction = Literal["why", "what", "how", "when"]
assert get_args(RoleId) == ROLE_IDS and get_args(Distinction) == DISTINCTIONS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AspectModel(_Strict):
    """A row of the role comparison table."""

    model_config = ConfigDict(title="Comparison aspect")

    id: Short = Field(description="Stable id; every role's `compare` has one sentence for it.")
    name: Short = Field(description="The row's title, as shown.")


class AmbiguityModel(_Strict):
    """An abbreviation that could mean several roles: rolebot asks which one was meant."""

    model_config = ConfigDict(title="Ambiguous abbreviation")

    abbreviation: Abbreviation = Field(description="Like PM. Never also a role alias.")
    roles: list[RoleId] = Field(min_length=2, description="Every role it could mean (two or more).")


class HandoffModel(_Strict):
    model_config = ConfigDict(title="Hand-off")

    to: RoleId = Field(description="The role that takes over.")
    what: Handed = Field(description="What is handed over.")


class RoleModel(_Strict):
    """One of the four roles. Every field is required."""

    model_config = ConfigDict(title="Role")

    id: RoleId
    name: Short
    short_name: Short
    emoji: Emoji = Field(description="A Slack emoji code, like :dart:.")
    answers: Short = Field(description="The question kind it answers, like why.")
    question: Item = Field(description="The question the role answers, in its words.")
    aliases: list[Item] = Field(min_length=1, description="Other names; one role each.")
    definition: Long
    responsibilities: list[Item] = Field(min_length=1)
    skills: list[Item] = Field(min_length=1)
    key_metrics: list[Item] = Field(min_length=1)
    stakeholders: list[Item] = Field(min_length=1)
    hands_off: list[HandoffModel] = Field(description="What this role hands to which other role.")
    compare: dict[str, Long] = Field(
        description="One sentence per aspect id declared under `aspects`."
    )


class ContactModel(_Strict):
    """Who to ask for a role in this workspace: Slack ids, not names."""

    model_config = ConfigDict(title="Contact details")

    usergroup: GroupId | None = Field(default=None, description="A user group id, like S0614TZR7.")
    users: list[UserId] = Field(default=[], description="User ids, like U024BE7LH.")
    channel: ChannelId | None = Field(default=None, description="A channel id, like C024BE91L.")


class ContactsModel(_Strict):
    """Contact details per role id (optional, per workspace)."""

    model_config = ConfigDict(title="Contacts per role")

    product_manager: ContactModel | None = None
    program_manager: ContactModel | None = None
    project_manager: ContactModel | None = None
    technical_program_manager: ContactModel | None = None


class EntryModel(_Strict):
    """One FAQ entry: several phrasings of one question, the owning role and why."""

    model_config = ConfigDict(title="FAQ entry")

    id: Slug = Field(description="Stable lower-case slug, like add-offline-mode. Never rename.")
    questions: list[Phrasing] = Field(
        min_length=1, description="Phrasings as people type them; each unique in the folder."
    )
    owner: RoleId = Field(description="The role that owns it.")
    distinction: Distinction = Field(description="The kind of question ownership turns on.")
    answer: Answer = Field(description="Why that role owns it, in 1-3 sentences.")
    related: list[Slug] | None = Field(default=None, description="Ids of related entries.")
    reviewed: Annotated[date, Field(strict=False)] | None = Field(
        default=None, description="When a curator last checked it, as YYYY-MM-DD."
    )


class OffTopicModel(_Strict):
    """A topic rolebot declines, and the words that mark it."""

    model_config = ConfigDict(title="Off-topic topic")

    topic: Short
    hint: Item = Field(default="", description="Where to ask instead.")
    words: list[Word] = Field(
        min_length=1, description="Single words or two-word phrases no FAQ entry uses."
    )


class KnowledgeFile(_Strict):
    """One knowledge file. Every section is optional; the folder's files are merged."""

    model_config = ConfigDict(title="rolebot knowledge file")

    aspects: list[AspectModel] = []
    ambiguous: list[AmbiguityModel] = []
    roles: list[RoleModel] = []
    contacts: ContactsModel = Field(default_factory=ContactsModel)
    entries: list[EntryModel] = []
    off_topic: list[OffTopicModel] = []


SECTIONS: dict[str, type[BaseModel]] = {
    "aspects": AspectModel,
    "ambiguous": AmbiguityModel,
    "roles": RoleModel,
    "entries": EntryModel,
    "off_topic": OffTopicModel,
}
"""The top-level lists and the model of their items."""

TOP_LEVEL_KEYS = tuple(KnowledgeFile.model_fields)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of a knowledge file, from the models above."""
    schema = KnowledgeFile.model_json_schema(ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", {})
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$comment": "Generated by `rolebot kb schema` from bot/core/knowledge/schema.py; "
        "do not edit by hand.",
        **schema,
        "definitions": definitions,
    }


def json_schema_text() -> str:
    """The schema as written to :data:`SCHEMA_FILE`: stable key order, a final newline."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
