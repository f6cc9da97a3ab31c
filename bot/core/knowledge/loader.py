"""Loading and validating the knowledge folder.

Every ``*.yaml``/``*.yml`` file in the folder is read with PyYAML's *safe* loader and merged:
a file may hold ``aspects``, ``ambiguous``, ``roles``, ``contacts`` and ``entries``. Everything
is validated before anything is returned; every problem is reported (file, line, entry, field
and the fix) in one :class:`~bot.errors.KnowledgeError`, so a bad file never half-loads.

Hostile files cost little: a file over :data:`MAX_FILE_BYTES` is not read; YAML aliases, tags
other than the plain types and nesting deeper than :data:`MAX_DEPTH` are refused while parsing,
before anything is built; duplicate keys, impossible dates and unreadable numbers are reported
like any other mistake. Nothing but :class:`~bot.errors.KnowledgeError` leaves the loader.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process

from bot.core.knowledge.model import (
    DISTINCTIONS,
    ROLE_IDS,
    Ambiguity,
    Aspect,
    Contacts,
    Entry,
    Handoff,
    Knowledge,
    OffTopic,
    Role,
)
from bot.core.normalize import normalize
from bot.errors import KnowledgeError, Problem

try:  # libyaml's C parser when present: same safe semantics, much faster
    _SafeLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _SafeLoader = yaml.SafeLoader

TOP_LEVEL_KEYS = ("aspects", "ambiguous", "roles", "contacts", "entries", "off_topic")
OFF_TOPIC_KEYS = ("topic", "hint", "words")
ROLE_KEYS = (
    "id",
    "name",
    "short_name",
    "emoji",
    "answers",
    "question",
    "aliases",
    "definition",
    "responsibilities",
    "skills",
    "key_metrics",
    "stakeholders",
    "hands_off",
    "compare",
)
ENTRY_KEYS = ("id", "questions", "owner", "distinction", "answer", "related", "reviewed")
ENTRY_REQUIRED = ("id", "questions", "owner", "distinction", "answer")
CONTACT_KEYS = ("usergroup", "users", "channel")

MAX_PHRASING = 300
MAX_ANSWER = 600
MAX_SHORT = 80
MAX_TEXT = 1200
MAX_ITEM = 200
MAX_FILE_BYTES = 2_000_000
"""One knowledge file at most (the bundled FAQ is under 200 kB). A bigger file is refused before
it is read: it is a log or an export saved as .yaml, or knowledge that belongs in several files."""
MAX_DEPTH = 20
"""Nesting levels a file may use (knowledge needs four); deeper input is refused while parsing."""
MAX_SHOWN = 80
"""Characters of a value quoted in a problem message."""
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMOJI = re.compile(r"^:[a-z0-9_+-]+:$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML_TAG + kind for kind in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)
"""Explicit tags a file may use (``!!str 42``); any other (``!!python/object``, ``!include``) is
refused, so a knowledge file only ever holds text, numbers, dates, lists and mappings."""

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class _Unreadable:
    """A value YAML reads as a date, number or yes/no but cannot build (``2024-02-30``, a
    5000-digit number): kept as a value of that kind, so validation reports it with its entry
    and field instead of the parser failing."""

    text: str
    kind: str

    def __str__(self) -> str:
        return self.text


class _Loader(_SafeLoader):  # type: ignore[misc]
    """The safe loader, with malformed dates and numbers read as :class:`_Unreadable`."""


def _lenient(kind: str, construct: Callable[[Any, yaml.Node], Any]) -> Callable[..., Any]:
    def constructor(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, OverflowError):
            return _Unreadable(str(node.value), kind)

    return constructor


for _kind, _name in (
    ("date", "timestamp"),
    ("number", "int"),
    ("number", "float"),
    ("yes/no value", "bool"),
):
    _Loader.add_constructor(
        _YAML_TAG + _name, _lenient(_kind, _SafeLoader.yaml_constructors[_YAML_TAG + _name])
    )


def load_knowledge(directory: Path) -> Knowledge:
    """Load and validate every YAML file in ``directory``. Raises :class:`KnowledgeError`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeError(
            [
                Problem(
                    str(directory),
                    None,
                    None,
                    None,
                    "knowledge folder not found",
                    "point ROLEBOT_KNOWLEDGE_DIR or --knowledge at a folder of YAML files",
                )
            ]
        )
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise KnowledgeError(
            [
                Problem(
                    str(directory),
                    None,
                    None,
                    None,
                    "no .yaml files in the knowledge folder",
                    "add roles.yaml and faq.yaml (see the bundled knowledge/ folder)",
                )
            ]
        )
    builder = _Builder(directory)
    digest = hashlib.sha256()
    for path in files:
        raw = builder.read(path)
        if raw is not None:
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
            builder.add_file(path, raw)
    return builder.finish(digest.hexdigest())


# --------------------------------------------------------------------------- line numbers
class _Lines:
    """Maps a path inside a YAML document (keys and indexes) to its 1-based line."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._lines: dict[Path_, int] = {}
        self._key_lines: dict[Path_, int] = {}
        self.duplicates: list[tuple[Path_, str, int, int]] = []
        """Keys given twice in one mapping: (mapping path, key, line, first line)."""
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: Path_) -> None:
        self._lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                line = key_node.start_mark.line + 1
                if (key_node.tag, key) in first:
                    self.duplicates.append((path, key, line, first[(key_node.tag, key)]))
                first.setdefault((key_node.tag, key), line)
                self._key_lines[(*path, key)] = line
                self._walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def line(self, path: Path_, *, key: bool = False) -> int | None:
        if key and path in self._key_lines:
            return self._key_lines[path]
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get(())


# --------------------------------------------------------------------------- YAML problems
def _refused(text: str) -> tuple[int | None, str, str] | None:
    """What a knowledge file may not use, found before anything is built: (line, message, fix).

    Aliases would let a few lines expand to millions of values ("billion laughs"); deep nesting
    makes the parser slow and the builder recurse; tags other than the plain ones could ask for
    objects. The scan stops at the first one, so hostile input costs little.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            return (
                line,
                f"YAML aliases (*{event.anchor}) are not allowed in knowledge files",
                "write the value out in full instead of using &anchor and *alias",
            )
        tag = getattr(event, "tag", None)
        if isinstance(event, yaml.NodeEvent) and tag not in (None, "!") and tag not in _PLAIN_TAGS:
            shown = "!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag
            return (
                line,
                f"the tag '{_shown(shown)}' is not allowed: knowledge files hold only text, "
                "lists and mappings",
                "remove the tag, and quote the value if it should stay text",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _too_deep(line: int | None) -> tuple[int | None, str, str]:
    return (
        line,
        f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
        "knowledge needs four levels at most: look for unclosed brackets or runaway indentation",
    )


def _yaml_problem(error: yaml.YAMLError, text: str) -> tuple[int | None, str, str]:
    """A parser error as (line, message, fix), in the file's terms."""
    if isinstance(error, yaml.reader.ReaderError):
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)
        line = text.count("\n", 0, found.start()) + 1 if found else None
        code = ord(found.group()[0]) if found else error.character
        what = f"the control character U+{code:04X}" if isinstance(code, int) else "a character"
        return line, f"not valid YAML: {what} is not allowed", "remove it: YAML is plain text"
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None) or ""
    opened = getattr(error, "context_mark", None)
    opened_line = opened.line + 1 if opened is not None else line
    if "nesting depth" in problem or "too deep" in problem:
        # Newer libyaml refuses deep nesting itself, before rolebot's own limit is reached.
        return _too_deep(line)
    lines = text.splitlines()
    here = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
    if "\t" in here[: len(here) - len(here.lstrip())] or "tab character" in problem:
        return line, "not valid YAML: a tab is used for indentation", "indent with spaces only"
    if "quoted scalar" in context and "end of stream" in problem:
        return (
            line,
            f"not valid YAML: {problem} (a quote opened on line {opened_line} is never closed)",
            f"close the quote opened on line {opened_line}",
        )
    if "quoted scalar" in context:
        return (
            line,
            f"not valid YAML: {problem} in quoted text",
            "check the backslash escapes on that line, or use single quotes",
        )
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "]" if "sequence" in context else "}"
        return (
            line,
            f"not valid YAML: {problem} (a bracket opened on line {opened_line} is never closed)",
            f"close the bracket opened on line {opened_line} with '{bracket}'",
        )
    if "single document" in context:
        return (
            line,
            "not valid YAML: a second document starts here ('---'); a knowledge file is one "
            "document",
            "remove the '---' line, or move what follows it to another file",
        )
    return line, f"not valid YAML: {problem}", "check indentation, quotes and colons on that line"


def _shown(value: object) -> str:
    """A value as quoted in a message: one line, clipped."""
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _label_at(data: Any, path: Path_) -> str | None:
    """The id (or topic, abbreviation) of the innermost item along ``path`` that has one."""
    label: str | None = None
    node = data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict):
            for key in ("id", "topic", "abbreviation"):
                if isinstance(node.get(key), str):
                    label = _shown(node[key])
                    break
    return label


# --------------------------------------------------------------------------- validation
@dataclass
class _FileContext:
    name: str
    lines: _Lines


class _Builder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.aspects: list[tuple[_FileContext, Path_, dict[str, Any]]] = []
        self.ambiguous: list[tuple[_FileContext, Path_, dict[str, Any]]] = []
        self.roles: list[tuple[_FileContext, Path_, dict[str, Any]]] = []
        self.contacts: list[tuple[_FileContext, Path_, str, Any]] = []
        self.entries: list[tuple[_FileContext, Path_, dict[str, Any]]] = []
        self.off_topic: list[tuple[_FileContext, Path_, dict[str, Any]]] = []
        self.aliases: dict[str, tuple[str, str]] = {}
        """Every role alias, normalised: (role id, the alias as written)."""

    # -- reporting
    def problem(
        self,
        ctx: _FileContext,
        path: Path_,
        message: str,
        *,
        entry: str | None = None,
        field: str | None = None,
        fix: str = "",
        key: bool = False,
    ) -> None:
        self.problems.append(
            Problem(ctx.name, ctx.lines.line(path, key=key), entry, field, message, fix)
        )

    # -- reading
    def read(self, path: Path) -> bytes | None:
        """The file's bytes, or ``None`` (and a problem) when it cannot or must not be read."""
        name = _display_name(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.problems.append(
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        f"the file is {size / 1e6:.1f} MB, over the limit of "
                        f"{MAX_FILE_BYTES / 1e6:.0f} MB for one knowledge file",
                        "split it into several .yaml files in the folder, or move it out "
                        "if it is not knowledge",
                    )
                )
                return None
            return path.read_bytes()
        except OSError as exc:
            self.problems.append(
                Problem(
                    name,
                    None,
                    None,
                    None,
                    f"cannot be read ({exc.strerror or exc})",
                    "make it a readable file, or move it out of the knowledge folder",
                )
            )
            return None

    def add_file(self, path: Path, raw: bytes) -> None:
        name = _display_name(path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(
                Problem(
                    name,
                    raw.count(b"\n", 0, exc.start) + 1,
                    None,
                    None,
                    f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                    "save the file as UTF-8 text",
                )
            )
            return
        try:
            refused = _refused(text)
            if refused is not None:
                line, message, fix = refused
                self.problems.append(Problem(name, line, None, None, message, fix))
                return
            loader = _Loader(text)
            try:
                root = loader.get_single_node()
                data = loader.construct_document(root) if root is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            at, message, fix = _yaml_problem(exc, text)
            self.problems.append(Problem(name, at, None, None, message, fix))
            return
        ctx = _FileContext(name, _Lines(root))
        for mapping, key, line, first in ctx.lines.duplicates:
            self.problems.append(
                Problem(
                    name,
                    line,
                    _label_at(data, mapping),
                    _shown(key),
                    f"the key is given twice in one mapping (first on line {first})",
                    "keep one: YAML would silently use only the last",
                )
            )
        if data is None:
            return  # an empty file is allowed (e.g. a placeholder for a team's entries)
        if not isinstance(data, dict):
            self.problem(
                ctx,
                (),
                f"the file must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}, "
                f"not a {_type_name(data)}",
                fix="start the file with a top-level key such as 'entries:'",
            )
            return
        for key, value in data.items():
            if key not in TOP_LEVEL_KEYS:
                self.problem(
                    ctx,
                    (key,),
                    f"unknown top-level key '{_shown(key)}'",
                    fix=_suggest(str(key), TOP_LEVEL_KEYS),
                    key=True,
                )
                continue
            if key == "contacts":
                if not isinstance(value, dict):
                    self.problem(
                        ctx,
                        (key,),
                        "contacts must map role ids to contact details",
                        field="contacts",
                    )
                    continue
                for role_id, contact in value.items():
                    self.contacts.append((ctx, (key, role_id), str(role_id), contact))
                continue
            if not isinstance(value, list):
                self.problem(
                    ctx,
                    (key,),
                    f"'{key}' must be a list, not a {_type_name(value)}",
                    field=key,
                    fix=f"write each item on its own line under '{key}:', starting with '- '",
                )
                continue
            target = getattr(self, key)
            for index, item in enumerate(value):
                where: Path_ = (key, index)
                if not isinstance(item, dict):
                    self.problem(
                        ctx,
                        where,
                        f"each item of '{key}' must be a mapping, not a {_type_name(item)}",
                        fix="write the item's fields as 'name: value' lines after its '- '",
                    )
                    continue
                target.append((ctx, where, item))

    # -- building
    def finish(self, fingerprint: str) -> Knowledge:
        aspects = self._aspects()
        aspect_ids = [a.id for a in aspects]
        roles = self._roles(aspect_ids)
        ambiguous = self._ambiguous()
        self._contacts(roles)
        entries = self._entries()
        off_topic = self._off_topic(entries)
        if not self.roles and not self.problems:
            self.problems.append(
                Problem(
                    _display_name(self.directory),
                    None,
                    None,
                    None,
                    "no roles defined",
                    "add roles.yaml with the four roles",
                )
            )
        missing = [r for r in ROLE_IDS if r not in roles]
        if missing and self.roles:
            ctx = self.roles[0][0]
            self.problem(
                ctx,
                ("roles",),
                f"missing role(s): {', '.join(missing)}",
                field="roles",
                fix="define all four roles",
            )
        if self.problems:
            raise KnowledgeError(self.problems)
        ordered = {role_id: roles[role_id] for role_id in ROLE_IDS}
        return Knowledge(
            roles=ordered,
            aspects=tuple(aspects),
            ambiguous=tuple(ambiguous),
            entries=tuple(entries),
            directory=self.directory,
            fingerprint=fingerprint,
            off_topic=tuple(off_topic),
        )

    def _aspects(self) -> list[Aspect]:
        result: list[Aspect] = []
        seen: set[str] = set()
        for ctx, path, item in self.aspects:
            self._keys(ctx, path, item, ("id", "name"), ("id", "name"), None)
            aspect_id = self._text(ctx, path, item, "id", None, MAX_SHORT)
            name = self._text(ctx, path, item, "name", aspect_id, MAX_SHORT)
            if aspect_id is None or name is None:
                continue
            if aspect_id in seen:
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"aspect '{aspect_id}' is defined twice",
                    field="id",
                    fix="keep one",
                )
                continue
            seen.add(aspect_id)
            result.append(Aspect(aspect_id, name))
        return result

    def _ambiguous(self) -> list[Ambiguity]:
        result: list[Ambiguity] = []
        for ctx, path, item in self.ambiguous:
            self._keys(ctx, path, item, ("abbreviation", "roles"), ("abbreviation", "roles"), None)
            abbreviation = self._text(ctx, path, item, "abbreviation", None, 20)
            role_ids = self._text_list(ctx, path, item, "roles", abbreviation, MAX_SHORT)
            if abbreviation is None or role_ids is None:
                continue
            ok = True
            for index, role_id in enumerate(role_ids):
                if role_id not in ROLE_IDS:
                    self.problem(
                        ctx,
                        (*path, "roles", index),
                        f"unknown role id '{role_id}'",
                        entry=abbreviation,
                        field="roles",
                        fix=_suggest(role_id, ROLE_IDS),
                    )
                    ok = False
            if len(role_ids) < 2:
                self.problem(
                    ctx,
                    (*path, "roles"),
                    "an ambiguous abbreviation needs two roles or more",
                    entry=abbreviation,
                    field="roles",
                    fix="list every role it could mean, or make it an alias of one role",
                )
                ok = False
            owner = self.aliases.get(normalize(abbreviation))
            if owner is not None:
                self.problem(
                    ctx,
                    (*path, "abbreviation"),
                    f"'{abbreviation}' is also an alias of '{owner[0]}'",
                    entry=abbreviation,
                    field="abbreviation",
                    fix=f"remove '{owner[1]}' from that role's aliases: an abbreviation several "
                    "roles share belongs under 'ambiguous' only",
                )
                ok = False
            if ok:
                result.append(Ambiguity(abbreviation, tuple(role_ids)))
        return result

    def _roles(self, aspect_ids: Sequence[str]) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        alias_owner = self.aliases
        for ctx, path, item in self.roles:
            role_id = item.get("id") if isinstance(item.get("id"), str) else None
            self._keys(ctx, path, item, ROLE_KEYS, ROLE_KEYS, role_id)
            if role_id is not None and role_id not in ROLE_IDS:
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"unknown role id '{role_id}'",
                    entry=role_id,
                    field="id",
                    fix=_suggest(role_id, ROLE_IDS),
                )
                continue
            if role_id is not None and role_id in roles:
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"role '{role_id}' is defined twice",
                    entry=role_id,
                    field="id",
                    fix="keep one definition",
                )
                continue
            text = {
                k: self._text(ctx, path, item, k, role_id, MAX_SHORT)
                for k in ("name", "short_name", "emoji", "answers")
            }
            question = self._text(ctx, path, item, "question", role_id, MAX_ITEM)
            definition = self._text(ctx, path, item, "definition", role_id, MAX_TEXT)
            lists = {
                k: self._text_list(ctx, path, item, k, role_id, MAX_ITEM)
                for k in ("aliases", "responsibilities", "skills", "key_metrics", "stakeholders")
            }
            emoji = text["emoji"]
            if emoji is not None and not _EMOJI.match(emoji):
                self.problem(
                    ctx,
                    (*path, "emoji"),
                    f"'{emoji}' is not an emoji code",
                    entry=role_id,
                    field="emoji",
                    fix="write it like :dart:",
                )
            hands_off = self._handoffs(ctx, path, item, role_id)
            compare = self._compare(ctx, path, item, role_id, aspect_ids)
            for index, alias in enumerate(lists["aliases"] or ()):
                key = normalize(alias)
                if not key:
                    self.problem(
                        ctx,
                        (*path, "aliases", index),
                        "an alias has no letters",
                        entry=role_id,
                        field="aliases",
                    )
                elif key in alias_owner and alias_owner[key][0] != (role_id or ""):
                    self.problem(
                        ctx,
                        (*path, "aliases", index),
                        f"alias '{alias}' is also an alias of '{alias_owner[key][0]}'",
                        entry=role_id,
                        field="aliases",
                        fix="an alias must point at one role; use 'ambiguous' for "
                        "abbreviations shared by several",
                    )
                else:
                    alias_owner[key] = (role_id or "", alias)
            values = [
                role_id,
                question,
                definition,
                hands_off,
                compare,
                *text.values(),
                *lists.values(),
            ]
            if any(v is None for v in values):
                continue
            assert role_id is not None
            roles[role_id] = Role(
                id=role_id,
                name=str(text["name"]),
                short_name=str(text["short_name"]),
                emoji=str(emoji),
                answers=str(text["answers"]),
                question=str(question),
                aliases=tuple(lists["aliases"] or ()),
                definition=str(definition),
                responsibilities=tuple(lists["responsibilities"] or ()),
                skills=tuple(lists["skills"] or ()),
                key_metrics=tuple(lists["key_metrics"] or ()),
                stakeholders=tuple(lists["stakeholders"] or ()),
                hands_off=tuple(hands_off or ()),
                compare=dict(compare or {}),
            )
        return roles

    def _handoffs(
        self, ctx: _FileContext, path: Path_, item: Mapping[str, Any], role_id: str | None
    ) -> list[Handoff] | None:
        value = item.get("hands_off")
        if value is None:
            return None  # reported as missing by _keys
        if not isinstance(value, list):
            self.problem(
                ctx,
                (*path, "hands_off"),
                "must be a list of {to, what}",
                entry=role_id,
                field="hands_off",
            )
            return None
        result: list[Handoff] = []
        for index, handoff in enumerate(value):
            hpath = (*path, "hands_off", index)
            if not isinstance(handoff, dict):
                self.problem(
                    ctx,
                    hpath,
                    "each hand-off must be a mapping {to, what}",
                    entry=role_id,
                    field="hands_off",
                )
                continue
            self._keys(ctx, hpath, handoff, ("to", "what"), ("to", "what"), role_id, "hands_off")
            to = self._text(ctx, hpath, handoff, "to", role_id, MAX_SHORT, "hands_off.to")
            what = self._text(ctx, hpath, handoff, "what", role_id, MAX_ITEM * 2, "hands_off.what")
            if to is not None and to not in ROLE_IDS:
                self.problem(
                    ctx,
                    (*hpath, "to"),
                    f"unknown role id '{to}'",
                    entry=role_id,
                    field="hands_off.to",
                    fix=_suggest(to, ROLE_IDS),
                )
            elif to is not None and to == role_id:
                self.problem(
                    ctx,
                    (*hpath, "to"),
                    "a role cannot hand off to itself",
                    entry=role_id,
                    field="hands_off.to",
                )
            elif to is not None and what is not None:
                result.append(Handoff(to, what))
        return result

    def _compare(
        self,
        ctx: _FileContext,
        path: Path_,
        item: Mapping[str, Any],
        role_id: str | None,
        aspect_ids: Sequence[str],
    ) -> dict[str, str] | None:
        value = item.get("compare")
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(
                ctx,
                (*path, "compare"),
                "must map each aspect id to a sentence",
                entry=role_id,
                field="compare",
            )
            return None
        result: dict[str, str] = {}
        for aspect_id in value:
            if aspect_id not in aspect_ids:
                self.problem(
                    ctx,
                    (*path, "compare", aspect_id),
                    f"unknown aspect '{aspect_id}'",
                    entry=role_id,
                    field=f"compare.{aspect_id}",
                    fix=_suggest(str(aspect_id), aspect_ids) or "declare it under 'aspects'",
                    key=True,
                )
        for aspect_id in aspect_ids:
            if aspect_id not in value:
                self.problem(
                    ctx,
                    (*path, "compare"),
                    f"no sentence for the aspect '{aspect_id}'",
                    entry=role_id,
                    field=f"compare.{aspect_id}",
                    fix=f"add '{aspect_id}:' under compare: every role needs one per aspect",
                    key=True,
                )
                continue
            text = self._text(
                ctx, (*path, "compare"), value, aspect_id, role_id, MAX_TEXT, f"compare.{aspect_id}"
            )
            if text is not None:
                result[aspect_id] = text
        return result

    def _contacts(self, roles: dict[str, Role]) -> None:
        for ctx, path, role_id, contact in self.contacts:
            if role_id not in ROLE_IDS:
                self.problem(
                    ctx,
                    path,
                    f"unknown role id '{role_id}'",
                    field="contacts",
                    fix=_suggest(role_id, ROLE_IDS),
                    key=True,
                )
                continue
            if not isinstance(contact, dict):
                self.problem(
                    ctx,
                    path,
                    "contact details must be a mapping with usergroup, users and/or channel",
                    entry=role_id,
                    field="contacts",
                )
                continue
            self._keys(ctx, path, contact, CONTACT_KEYS, (), role_id, "contacts")
            group = contact.get("usergroup")
            channel = contact.get("channel")
            users = contact.get("users", [])
            ok = True
            for key, value, pattern, what, fix in (
                ("usergroup", group, _GROUP_ID, "user group", "use the group's id, like S0614TZR7"),
                (
                    "channel",
                    channel,
                    _CHANNEL_ID,
                    "channel",
                    "use the channel's id, like C024BE91L",
                ),
            ):
                if value is not None and not (isinstance(value, str) and pattern.match(value)):
                    self.problem(
                        ctx,
                        (*path, key),
                        f"'{_shown(value)}' is not a {what} id",
                        entry=role_id,
                        field=f"contacts.{key}",
                        fix=fix,
                    )
                    ok = False
            if not isinstance(users, list) or not all(
                isinstance(u, str) and _USER_ID.match(u) for u in users
            ):
                self.problem(
                    ctx,
                    (*path, "users"),
                    "users must be a list of user ids",
                    entry=role_id,
                    field="contacts.users",
                    fix="use ids like U024BE7LH",
                )
                ok = False
            if ok and role_id in roles:
                current = roles[role_id]
                roles[role_id] = Role(
                    **{
                        **current.__dict__,
                        "contacts": Contacts(usergroup=group, users=tuple(users), channel=channel),
                    }
                )

    def _entries(self) -> list[Entry]:
        entries: list[Entry] = []
        seen_ids: dict[str, tuple[str, int | None]] = {}
        phrasing_owner: dict[str, tuple[str, str, str]] = {}
        pending_related: list[tuple[_FileContext, Path_, str, list[str]]] = []
        for ctx, path, item in self.entries:
            entry_id = item.get("id") if isinstance(item.get("id"), str) else None
            self._keys(ctx, path, item, ENTRY_KEYS, ENTRY_REQUIRED, entry_id)
            raw_id = self._text(ctx, path, item, "id", entry_id, MAX_SHORT)
            if raw_id is not None and not _SLUG.match(raw_id):
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"'{raw_id}' is not a slug",
                    entry=raw_id,
                    field="id",
                    fix="use lower case letters, digits and single hyphens, like add-offline-mode",
                )
                raw_id = None
            if raw_id is not None and raw_id in seen_ids:
                where = seen_ids[raw_id]
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"duplicate entry id '{raw_id}' (first in {where[0]}:{where[1]})",
                    entry=raw_id,
                    field="id",
                    fix="give each entry its own id",
                )
                raw_id = None
            label = raw_id or entry_id or f"#{path[-1]}"
            if raw_id is not None:
                seen_ids[raw_id] = (ctx.name, ctx.lines.line(path))
            owner = self._text(ctx, path, item, "owner", label, MAX_SHORT)
            if owner is not None and owner not in ROLE_IDS:
                self.problem(
                    ctx,
                    (*path, "owner"),
                    f"unknown role id '{owner}'",
                    entry=label,
                    field="owner",
                    fix=_suggest(owner, ROLE_IDS),
                )
                owner = None
            distinction = self._text(ctx, path, item, "distinction", label, MAX_SHORT)
            if distinction is not None and distinction not in DISTINCTIONS:
                self.problem(
                    ctx,
                    (*path, "distinction"),
                    f"unknown distinction '{distinction}'",
                    entry=label,
                    field="distinction",
                    fix=f"use one of: {', '.join(DISTINCTIONS)}",
                )
                distinction = None
            answer = self._text(ctx, path, item, "answer", label, MAX_ANSWER)
            questions = self._text_list(ctx, path, item, "questions", label, MAX_PHRASING)
            for index, question in enumerate(questions or ()):
                key = normalize(question)
                qpath = (*path, "questions", index)
                if not key:
                    self.problem(
                        ctx,
                        qpath,
                        "a phrasing has no words",
                        entry=label,
                        field="questions",
                        fix="write the question out",
                    )
                elif key in phrasing_owner:
                    other_id, other_file, other_role = phrasing_owner[key]
                    same = (
                        "this entry" if other_id == label else f"entry '{other_id}' ({other_file})"
                    )
                    roles_note = (
                        f", owned by {other_role}"
                        if owner and other_role and other_role != owner
                        else ""
                    )
                    self.problem(
                        ctx,
                        qpath,
                        f"phrasing '{question}' is already in {same}{roles_note}",
                        entry=label,
                        field="questions",
                        fix="each phrasing may belong to one entry only; remove one",
                    )
                else:
                    phrasing_owner[key] = (label, ctx.name, owner or "")
            related = item.get("related", [])
            if related is None or (
                isinstance(related, list) and all(isinstance(r, str) for r in related)
            ):
                related = list(related or [])
                if raw_id is not None:
                    pending_related.append((ctx, path, raw_id, related))
            else:
                self.problem(
                    ctx,
                    (*path, "related"),
                    "must be a list of entry ids",
                    entry=label,
                    field="related",
                    fix="write related: [other-entry-id]",
                )
                related = None
            reviewed = self._date(ctx, path, item, label)
            if (
                None in (raw_id, owner, distinction, answer, questions, related)
                or reviewed is False
            ):
                continue
            assert raw_id and owner and distinction and answer and questions is not None
            entries.append(
                Entry(
                    id=raw_id,
                    questions=tuple(questions),
                    owner=owner,
                    distinction=distinction,
                    answer=answer,
                    related=tuple(related or ()),
                    reviewed=reviewed if isinstance(reviewed, date) else None,
                    source=ctx.name,
                    line=ctx.lines.line(path) or 0,
                )
            )
        for ctx, path, entry_id, related in pending_related:
            for index, other in enumerate(related):
                if other == entry_id:
                    self.problem(
                        ctx,
                        (*path, "related", index),
                        "an entry cannot be related to itself",
                        entry=entry_id,
                        field="related",
                        fix="remove it",
                    )
                elif other not in seen_ids:
                    self.problem(
                        ctx,
                        (*path, "related", index),
                        f"unknown entry id '{other}'",
                        entry=entry_id,
                        field="related",
                        fix=_suggest(other, list(seen_ids)) or "remove it",
                    )
        return entries

    def _off_topic(self, entries: Sequence[Entry]) -> list[OffTopic]:
        phrasing_words: dict[str, str] = {}
        phrasing_texts: list[tuple[str, str]] = []
        for entry in entries:
            for question in entry.questions:
                folded = normalize(question)
                phrasing_texts.append((f" {folded} ", entry.id))
                for word in folded.split():
                    phrasing_words.setdefault(word, entry.id)
                    phrasing_words.setdefault(word.removesuffix("s"), entry.id)
        result: list[OffTopic] = []
        seen: dict[str, str] = {}
        for ctx, path, item in self.off_topic:
            label = item.get("topic") if isinstance(item.get("topic"), str) else None
            self._keys(ctx, path, item, OFF_TOPIC_KEYS, ("topic", "words"), label)
            topic = self._text(ctx, path, item, "topic", label, MAX_SHORT)
            hint = self._text(ctx, path, item, "hint", label, MAX_ITEM) if "hint" in item else ""
            words = self._text_list(ctx, path, item, "words", label, 40)
            if topic is None or hint is None or words is None:
                continue
            clean: list[str] = []
            for index, word in enumerate(words):
                key = normalize(word)
                wpath = (*path, "words", index)
                if not key or len(key.split()) > 2:
                    self.problem(
                        ctx,
                        wpath,
                        f"'{_shown(word)}' must be one word or a two-word phrase",
                        entry=topic,
                        field="words",
                        fix="split it into single words",
                    )
                elif key in seen:
                    self.problem(
                        ctx,
                        wpath,
                        f"'{word}' is already listed under '{seen[key]}'",
                        entry=topic,
                        field="words",
                        fix="keep it in one topic",
                    )
                elif (owner := _used_by(key, phrasing_words, phrasing_texts)) is not None:
                    self.problem(
                        ctx,
                        wpath,
                        f"'{word}' is used by FAQ entry '{owner}', so it "
                        "cannot mark a question as off-topic",
                        entry=topic,
                        field="words",
                        fix="remove it from the off-topic list",
                    )
                else:
                    seen[key] = topic
                    clean.append(key)
            result.append(OffTopic(topic, tuple(clean), hint))
        return result

    def _date(
        self, ctx: _FileContext, path: Path_, item: Mapping[str, Any], label: str
    ) -> date | bool | None:
        value = item.get("reviewed")
        if value is None:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(
            ctx,
            (*path, "reviewed"),
            f"'{_shown(value)}' is not a date",
            entry=label,
            field="reviewed",
            fix="write it as YYYY-MM-DD",
        )
        return False

    # -- field helpers
    def _keys(
        self,
        ctx: _FileContext,
        path: Path_,
        item: Mapping[str, Any],
        allowed: Sequence[str],
        required: Sequence[str],
        label: str | None,
        prefix: str = "",
    ) -> None:
        for key in item:
            if key not in allowed:
                field = f"{prefix}.{key}" if prefix else str(key)
                self.problem(
                    ctx,
                    (*path, key),
                    f"unknown key '{_shown(key)}'",
                    entry=label,
                    field=field,
                    fix=_suggest(str(key), allowed) or f"allowed keys: {', '.join(allowed)}",
                    key=True,
                )
        for key in required:
            if key not in item:
                field = f"{prefix}.{key}" if prefix else key
                self.problem(
                    ctx,
                    path,
                    f"missing required field '{key}'",
                    entry=label,
                    field=field,
                    fix=f"add '{key}:'",
                )

    def _text(
        self,
        ctx: _FileContext,
        path: Path_,
        item: Mapping[str, Any],
        key: str,
        label: str | None,
        limit: int,
        field: str | None = None,
    ) -> str | None:
        if key not in item:
            return None  # reported by _keys where required
        value = item[key]
        field = field or key
        if not isinstance(value, str):
            self.problem(
                ctx,
                (*path, key),
                f"must be text, not a {_type_name(value)}",
                entry=label,
                field=field,
                fix="quote it if it looks like a number, date or yes/no",
            )
            return None
        value = value.strip()
        if not value:
            self.problem(
                ctx,
                (*path, key),
                "is empty",
                entry=label,
                field=field,
                fix="write something or remove the field",
            )
            return None
        if len(value) > limit:
            self.problem(
                ctx,
                (*path, key),
                f"is {len(value)} characters long, over the limit of {limit}",
                entry=label,
                field=field,
                fix="shorten it",
            )
            return None
        return value

    def _text_list(
        self,
        ctx: _FileContext,
        path: Path_,
        item: Mapping[str, Any],
        key: str,
        label: str | None,
        limit: int,
    ) -> list[str] | None:
        if key not in item:
            return None
        value = item[key]
        if not isinstance(value, list):
            self.problem(
                ctx,
                (*path, key),
                f"must be a list, not a {_type_name(value)}",
                entry=label,
                field=key,
                fix=f"write it as a YAML list under '{key}:'",
            )
            return None
        if not value:
            self.problem(
                ctx,
                (*path, key),
                "is an empty list",
                entry=label,
                field=key,
                fix="add at least one item",
            )
            return None
        result: list[str] = []
        ok = True
        for index, element in enumerate(value):
            text = self._text(ctx, (*path, key), {index: element}, index, label, limit, key)  # type: ignore[dict-item, arg-type]
            if text is None:
                ok = False
            else:
                result.append(text)
        return result if ok else None


def _used_by(key: str, words: Mapping[str, str], texts: Sequence[tuple[str, str]]) -> str | None:
    if " " not in key:
        return words.get(key) or words.get(key.removesuffix("s"))
    return next((entry for text, entry in texts if f" {key} " in text), None)


def _type_name(value: object) -> str:
    if isinstance(value, _Unreadable):
        return value.kind
    return {
        "NoneType": "empty value",
        "str": "text",
        "int": "number",
        "float": "number",
        "bool": "yes/no value",
        "list": "list",
        "dict": "mapping",
        "date": "date",
        "datetime": "date",
    }.get(type(value).__name__, type(value).__name__)


def _suggest(value: str, choices: Iterable[str]) -> str:
    options = list(choices)
    best = process.extractOne(value, options, score_cutoff=60)
    if best is not None:
        return f"did you mean '{best[0]}'?"
    return f"use one of: {', '.join(options)}" if len(options) <= 8 else ""


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


LoadFunction = Callable[[Path], Knowledge]
