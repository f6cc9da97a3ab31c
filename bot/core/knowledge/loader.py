"""Loading and validating the knowledge folder.

Every ``*.yaml``/``*.yml`` file in the folder is read with PyYAML's *safe* loader and merged:
a file may hold ``aspects``, ``ambiguous``, ``roles``, ``contacts`` and ``entries``. Everything
is validated before anything is returned; every problem is reported (file, line, entry, field
and the fix) in one :class:`~bot.errors.KnowledgeError`, so a bad file never half-loads.

The shape of each file (types, required and unknown keys, lengths, role ids, distinctions, id
patterns) is checked by the pydantic models in :mod:`bot.core.knowledge.schema`, the same ones
the editors' JSON Schema is generated from; each validation error becomes a problem here, at the
line of the value. What spans several files (duplicate ids and phrasings, ``related`` ids, one
comparison per aspect, shared aliases, off-topic words an entry uses) is checked here.

Hostile files cost little: a file over :data:`MAX_FILE_BYTES` is not read; YAML aliases, tags
other than the plain types and nesting deeper than :data:`MAX_DEPTH` are refused while parsing,
before anything is built; duplicate keys, impossible dates and unreadable numbers are reported
like any other mistake. Nothing but :class:`~bot.errors.KnowledgeError` leaves the loader.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
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
from bot.core.knowledge.schema import (
    CHANNEL_ID,
    EMOJI,
    GROUP_ID,
    SECTIONS,
    SLUG,
    TOP_LEVEL_KEYS,
    USER_ID,
    ContactModel,
    ContactsModel,
    KnowledgeFile,
)
from bot.core.normalize import normalize
from bot.errors import KnowledgeError, Problem

try:  # libyaml's C parser when present: same safe semantics, much faster
    _SafeLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _SafeLoader = yaml.SafeLoader

MAX_FILE_BYTES = 2_000_000
"""One knowledge file at most (the bundled FAQ is under 200 kB). A bigger file is refused before
it is read: it is a log or an export saved as .yaml, or knowledge that belongs in several files."""
MAX_DEPTH = 20
"""Nesting levels a file may use (knowledge needs four); deeper input is refused while parsing."""
MAX_SHOWN = 80
"""Characters of a value quoted in a problem message."""
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


def read_knowledge_file(path: Path) -> bytes:
    """One knowledge file's bytes, read as :func:`load_knowledge` reads them (a regular file,
    at most :data:`MAX_FILE_BYTES`). Raises :class:`KnowledgeError` naming the file."""
    builder = _Builder(path.parent)
    raw = builder.read(path)
    if raw is None:
        raise KnowledgeError(builder.problems)
    return raw


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
        self.aspects: list[_Item] = []
        self.ambiguous: list[_Item] = []
        self.roles: list[_Item] = []
        self.contacts: list[_Item] = []
        self.entries: list[_Item] = []
        self.off_topic: list[_Item] = []
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
        """The file's bytes, or ``None`` (and a problem) when it cannot or must not be read.

        Only regular files are read (a FIFO would block, ``/dev/zero`` never ends), opened
        without waiting, and never more than :data:`MAX_FILE_BYTES` plus one byte."""
        name = _display_name(path)
        fix = "make it a readable file, or move it out of the knowledge folder"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                info = os.fstat(fd)
                mode = info.st_mode
                if not stat.S_ISREG(mode):
                    message = f"cannot be read (it is {_file_kind(mode)}, not a regular file)"
                    self.whole(name, message, fix)
                    return None
                with os.fdopen(os.dup(fd), "rb") as handle:
                    raw = handle.read(MAX_FILE_BYTES + 1)
            finally:
                os.close(fd)
        except OSError as exc:
            self.whole(name, f"cannot be read ({exc.strerror or exc})", fix)
            return None
        if len(raw) > MAX_FILE_BYTES:
            size = max(len(raw), info.st_size)
            self.whole(
                name,
                f"the file is {size / 1e6:.1f} MB, over the limit of "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB for one knowledge file",
                "split it into several .yaml files in the folder, or move it out "
                "if it is not knowledge",
            )
            return None
        return raw

    def whole(self, name: str, message: str, fix: str) -> None:
        """A problem of a whole file or folder (no line, entry or field)."""
        self.problems.append(Problem(name, None, None, None, message, fix))

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
        self._validate(ctx, data)

    # -- building
    def finish(self, fingerprint: str) -> Knowledge:
        aspects = self._aspects()
        aspect_ids = [a.id for a in aspects]
        roles = self._roles(aspect_ids)
        ambiguous = self._ambiguous()
        self._contacts(roles)
        entries = self._entries()
        off_topic = self._off_topic(entries)
        if not entries and not self.problems:
            self.whole(
                _display_name(self.directory),
                "no FAQ entries: a knowledge base without them would decline every question",
                "add entries (see the bundled faq.yaml); if faq.yaml was just emptied or "
                "removed, restore it",
            )
        if not self.roles and not self.problems:
            self.whole(
                _display_name(self.directory),
                "no roles defined",
                "add roles.yaml with the four roles",
            )
        declared = {item.values.get("id") for item in self.roles}
        missing = [r for r in ROLE_IDS if r not in declared]
        if missing and self.roles:
            ctx = self.roles[0].ctx
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
        for item in self.aspects:
            aspect_id = item.values.get("id")
            if aspect_id is None:
                continue
            if aspect_id in seen:
                self.problem(
                    item.ctx,
                    (*item.path, "id"),
                    f"aspect '{aspect_id}' is defined twice",
                    field="id",
                    fix="keep one",
                )
                continue
            seen.add(aspect_id)
            if item.valid:
                result.append(Aspect(aspect_id, item.values["name"]))
        return result

    def _ambiguous(self) -> list[Ambiguity]:
        result: list[Ambiguity] = []
        for item in self.ambiguous:
            abbreviation = item.values.get("abbreviation")
            if abbreviation is None:
                continue
            owner = self.aliases.get(normalize(abbreviation))
            if owner is not None:
                self.problem(
                    item.ctx,
                    (*item.path, "abbreviation"),
                    f"'{abbreviation}' is also an alias of '{owner[0]}'",
                    entry=abbreviation,
                    field="abbreviation",
                    fix=f"remove '{owner[1]}' from that role's aliases: an abbreviation several "
                    "roles share belongs under 'ambiguous' only",
                )
            elif item.valid:
                result.append(Ambiguity(abbreviation, tuple(item.values["roles"])))
        return result

    def _roles(self, aspect_ids: Sequence[str]) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        seen: set[str] = set()
        for item in self.roles:
            ctx, path, values = item.ctx, item.path, item.values
            role_id: str | None = values.get("id")
            if role_id is not None and role_id in seen:
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"role '{role_id}' is defined twice",
                    entry=role_id,
                    field="id",
                    fix="keep one definition",
                )
                continue
            if role_id is not None:
                seen.add(role_id)
            self._aliases(item, role_id)
            for index, handoff in enumerate(values.get("hands_off") or ()):
                if role_id is not None and handoff["to"] == role_id:
                    self.problem(
                        ctx,
                        (*path, "hands_off", index, "to"),
                        "a role cannot hand off to itself",
                        entry=role_id,
                        field="hands_off.to",
                        fix="name the role that takes over, or remove the hand-off",
                    )
            if "compare" in values:
                self._compare(item, role_id, aspect_ids)
            if not item.valid or role_id is None:
                continue
            roles[role_id] = Role(
                id=role_id,
                name=values["name"],
                short_name=values["short_name"],
                emoji=values["emoji"],
                answers=values["answers"],
                question=values["question"],
                aliases=tuple(values["aliases"]),
                definition=values["definition"],
                responsibilities=tuple(values["responsibilities"]),
                skills=tuple(values["skills"]),
                key_metrics=tuple(values["key_metrics"]),
                stakeholders=tuple(values["stakeholders"]),
                hands_off=tuple(Handoff(h["to"], h["what"]) for h in values["hands_off"]),
                compare=dict(values["compare"]),
            )
        return roles

    def _aliases(self, item: _Item, role_id: str | None) -> None:
        """Record the role's aliases; a problem when one has no letters or is already
        another role's."""
        for index, alias in enumerate(item.values.get("aliases") or ()):
            key = normalize(alias)
            owner = self.aliases.get(key)
            if not key:
                self.problem(
                    item.ctx,
                    (*item.path, "aliases", index),
                    "an alias has no letters",
                    entry=role_id,
                    field="aliases",
                    fix="write the name out, or remove it",
                )
            elif owner is not None and owner[0] != (role_id or ""):
                self.problem(
                    item.ctx,
                    (*item.path, "aliases", index),
                    f"alias '{alias}' is also an alias of '{owner[0]}'",
                    entry=role_id,
                    field="aliases",
                    fix="an alias must point at one role; use 'ambiguous' for "
                    "abbreviations shared by several",
                )
            else:
                self.aliases[key] = (role_id or "", alias)

    def _compare(self, item: _Item, role_id: str | None, aspect_ids: Sequence[str]) -> None:
        """Check that the role compares on exactly the declared aspects."""
        compare: Mapping[str, str] = item.values["compare"]
        path = (*item.path, "compare")
        for aspect_id in compare:
            if aspect_id not in aspect_ids:
                self.problem(
                    item.ctx,
                    (*path, aspect_id),
                    f"unknown aspect '{aspect_id}'",
                    entry=role_id,
                    field=f"compare.{aspect_id}",
                    fix=_suggest(str(aspect_id), aspect_ids) or "declare it under 'aspects'",
                    key=True,
                )
        for aspect_id in aspect_ids:
            if aspect_id not in compare:
                self.problem(
                    item.ctx,
                    path,
                    f"no sentence for the aspect '{aspect_id}'",
                    entry=role_id,
                    field=f"compare.{aspect_id}",
                    fix=f"add '{aspect_id}:' under compare: every role needs one per aspect",
                    key=True,
                )

    def _contacts(self, roles: dict[str, Role]) -> None:
        for item in self.contacts:
            role_id = str(item.path[-1])
            if item.valid and role_id in roles:
                values = item.values
                roles[role_id] = replace(
                    roles[role_id],
                    contacts=Contacts(
                        usergroup=values["usergroup"],
                        users=tuple(values["users"]),
                        channel=values["channel"],
                    ),
                )

    def _entries(self) -> list[Entry]:
        entries: list[Entry] = []
        seen_ids: dict[str, tuple[str, int | None]] = {}
        phrasing_owner: dict[str, tuple[str, str, str]] = {}
        pending_related: list[tuple[_FileContext, Path_, str, list[str]]] = []
        for item in self.entries:
            ctx, path, values = item.ctx, item.path, item.values
            entry_id: str | None = values.get("id")
            if entry_id is not None and entry_id in seen_ids:
                where = seen_ids[entry_id]
                self.problem(
                    ctx,
                    (*path, "id"),
                    f"duplicate entry id '{entry_id}' (first in {where[0]}:{where[1]})",
                    entry=entry_id,
                    field="id",
                    fix="give each entry its own id",
                )
                entry_id = None
            label = entry_id or item.label
            if entry_id is not None:
                seen_ids[entry_id] = (ctx.name, ctx.lines.line(path))
            owner: str | None = values.get("owner")
            for index, question in enumerate(values.get("questions") or ()):
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
            if entry_id is not None and values.get("related"):
                pending_related.append((ctx, path, entry_id, values["related"]))
            if not item.valid or entry_id is None:
                continue
            entries.append(
                Entry(
                    id=entry_id,
                    questions=tuple(values["questions"]),
                    owner=values["owner"],
                    distinction=values["distinction"],
                    answer=values["answer"],
                    related=tuple(values["related"] or ()),
                    reviewed=values["reviewed"],
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
        for item in self.off_topic:
            ctx, path, values = item.ctx, item.path, item.values
            topic: str | None = values.get("topic")
            if topic is None or "words" not in values:
                continue
            clean: list[str] = []
            for index, word in enumerate(values["words"]):
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
            if item.valid:
                result.append(OffTopic(topic, tuple(clean), values["hint"]))
        return result

    # -- structure, from the schema's models
    def _validate(self, ctx: _FileContext, data: Any) -> None:
        """Check the file against :class:`KnowledgeFile`, report every error, and keep each
        item (its checked values) for the checks across files."""
        try:
            checked: dict[str, Any] | None = KnowledgeFile.model_validate(data).model_dump()
            errors: list[ErrorDetails] = []
        except ValidationError as exc:
            checked, errors = None, exc.errors(include_url=False)
        for error in errors:
            self.problems.append(_problem_for(ctx, data, error))
        if not isinstance(data, dict):
            return
        failed = [tuple(error["loc"]) for error in errors]
        for section, model in SECTIONS.items():
            items = data.get(section)
            if not isinstance(items, list):
                continue
            for index, raw in enumerate(items):
                if isinstance(raw, dict):
                    where = (section, index)
                    done = checked[section][index] if checked is not None else None
                    getattr(self, section).append(_item(ctx, where, model, raw, failed, done))
        contacts = data.get("contacts")
        if isinstance(contacts, dict):
            for role_id, raw in contacts.items():
                if isinstance(raw, dict) and role_id in ROLE_IDS:
                    where = ("contacts", role_id)
                    done = checked["contacts"][role_id] if checked is not None else None
                    self.contacts.append(_item(ctx, where, ContactModel, raw, failed, done))


@dataclass(frozen=True)
class _Item:
    """One item of a section (an entry, a role...), as the checks across files see it."""

    ctx: _FileContext
    path: Path_
    label: str
    """How problems name it: its id (or topic, abbreviation), else its position."""
    values: dict[str, Any]
    """Its fields that passed the schema, cleaned (spaces stripped, defaults filled in)."""
    valid: bool
    """Whether the whole item passed the schema (only then is it built)."""


def _item(
    ctx: _FileContext,
    where: Path_,
    model: type[BaseModel],
    raw: dict[Any, Any],
    failed: Sequence[tuple[Any, ...]],
    checked: dict[str, Any] | None,
) -> _Item:
    bad = {
        loc[len(where)] for loc in failed if loc[: len(where)] == where and len(loc) > len(where)
    }
    named = [raw[k] for k in ("id", "topic", "abbreviation") if isinstance(raw.get(k), str)]
    label = _shown(named[0]) if named else f"#{where[-1]}"
    if checked is None and not bad:
        checked = model.model_validate(raw).model_dump()
    if checked is not None and not bad:
        return _Item(ctx, where, label, checked, True)
    values = {
        key: _stripped(value)
        for key, value in raw.items()
        if key in model.model_fields and key not in bad
    }
    return _Item(ctx, where, label, values, False)


def _stripped(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [_stripped(v) for v in value]
    if isinstance(value, dict):
        return {k: _stripped(v) for k, v in value.items()}
    return value


_PATTERNS = {
    SLUG: (
        "'{}' is not a slug",
        "use lower case letters, digits and single hyphens, like add-offline-mode",
    ),
    EMOJI: ("'{}' is not an emoji code", "write it like :dart:"),
    GROUP_ID: ("'{}' is not a user group id", "use the group's id, like S0614TZR7"),
    CHANNEL_ID: ("'{}' is not a channel id", "use the channel's id, like C024BE91L"),
    USER_ID: ("'{}' is not a user id", "use ids like U024BE7LH"),
}
"""Each id pattern of the schema: what a mismatch is called, and the fix."""

_NOT_A_MAPPING = {
    (): (
        f"the file must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}",
        "start the file with a top-level key such as 'entries:'",
    ),
    ("contacts",): (
        "contacts must map role ids to contact details",
        "write each role id on its own line under 'contacts:', ending with ':'",
    ),
    ("contacts", "*"): (
        "contact details must be a mapping with usergroup, users and/or channel",
        "write 'usergroup:', 'users:' or 'channel:' lines under the role id",
    ),
    ("*", "*"): (
        "each item of '{section}' must be a mapping",
        "write the item's fields as 'name: value' lines after its '- '",
    ),
    ("roles", "*", "hands_off", "*"): (
        "each hand-off must be a mapping {{to, what}}",
        "write it as '- to: role_id' followed by 'what: ...'",
    ),
    ("roles", "*", "compare"): (
        "must map each aspect id to a sentence",
        "write one 'aspect_id: sentence' line per aspect under 'compare:'",
    ),
}
"""Where a mapping is wanted and something else is written: the message and the fix."""

_NOT_A_LIST = {
    ("*",): (
        "'{section}' must be a list",
        "write each item on its own line under '{section}:', starting with '- '",
    ),
    ("entries", "*", "related"): ("must be a list of entry ids", "write related: [other-entry-id]"),
    ("roles", "*", "hands_off"): (
        "must be a list of {{to, what}}",
        "write each hand-off on its own line under 'hands_off:', starting with '- to:'",
    ),
}


def _lookup(table: Mapping[tuple[str, ...], tuple[str, str]], shape: tuple[str, ...]) -> Any:
    """The table's row for ``shape``, or for it with the section left open (``("*", "*")``)."""
    return table.get(shape) or table.get(("*", *shape[1:]))


def _shape(data: Any, loc: Path_) -> tuple[str, ...]:
    """``loc`` with list indexes and mapping keys chosen by the author (role ids under
    contacts, items of a section) as ``*``: ``("roles", "*", "hands_off", "*")``."""
    shape: list[str] = []
    node = data
    for step in loc:
        free = isinstance(node, list) or (len(shape) == 1 and shape[0] == "contacts")
        shape.append("*" if free else str(step))
        node = _child(node, step)
    return tuple(shape)


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, list):
        return node[step] if isinstance(step, int) and 0 <= step < len(node) else None
    return node.get(step) if isinstance(node, dict) else None


def _model_at(shape: Sequence[str]) -> type[BaseModel] | None:
    """The model that describes the mapping at ``shape``."""
    model: type[BaseModel] = KnowledgeFile
    for step in shape:
        if step == "*" and model is ContactsModel:
            model = ContactModel
            continue
        if step == "*":
            continue
        field = model.model_fields.get(step)
        inner = _inner_model(field.annotation) if field is not None else None
        if inner is None:
            return None
        model = inner
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (found := _inner_model(arg)) is not None:
            return found
    return None


def _problem_for(ctx: _FileContext, data: Any, error: ErrorDetails) -> Problem:
    """A schema validation error as a problem: the file, the line of the value (or of the key,
    or of the mapping a field is missing from), the entry, the field, and the fix."""
    loc: Path_ = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    limits = error.get("ctx") or {}
    shape = _shape(data, loc)
    section = shape[0] if shape else ""
    entry: str | None = None
    fields = [step for step, free in zip(loc, shape, strict=True) if free != "*"]
    if section == "contacts":
        entry = str(loc[1]) if len(loc) > 1 else None
        field: str | None = ".".join(str(f) for f in fields)
    elif len(loc) > 2 or (len(loc) == 2 and kind in ("missing", "extra_forbidden", "invalid_key")):
        entry = _label_at(data, loc) or f"#{loc[1]}"
        field = ".".join(str(f) for f in fields[1:])
    else:
        field = section if len(loc) == 1 else None
    name = str(loc[-1]) if loc else ""
    where, key = loc, False
    message, fix = (
        f"{error['msg'][:1].lower()}{error['msg'][1:]}",
        "see the schema, knowledge.schema.json",
    )
    if kind == "missing":
        where = loc[:-1]
        message, fix = f"missing required field '{name}'", f"add '{name}:'"
    elif kind in ("extra_forbidden", "invalid_key"):
        key = True
        if len(loc) == 1:
            message, fix = f"unknown top-level key '{_shown(name)}'", _suggest(name, TOP_LEVEL_KEYS)
            field = None
        elif shape[:1] == ("contacts",) and len(loc) == 2:
            message, fix = f"unknown role id '{_shown(name)}'", _suggest(name, ROLE_IDS)
            entry, field = None, "contacts"
        else:
            model = _model_at(shape[:-1])
            allowed = list(model.model_fields) if model is not None else []
            message = f"unknown key '{_shown(name)}'"
            fix = _suggest(name, allowed) or f"allowed keys: {', '.join(allowed)}"
    elif fields and fields[-1] == "reviewed":
        message, fix = f"'{_shown(value)}' is not a date", "write it as YYYY-MM-DD"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        text, fix = _lookup(_NOT_A_MAPPING, shape) or (
            "must be a mapping",
            "write its fields as 'name: value' lines",
        )
        message = f"{text}, not a {_type_name(value)}".format(section=section)
        fix = fix.format(section=section)
    elif kind == "list_type":
        text, fix = _lookup(_NOT_A_LIST, shape) or (
            "must be a list",
            f"write it as a YAML list under '{name}:'",
        )
        message = f"{text}, not a {_type_name(value)}".format(section=section)
        fix = fix.format(section=section)
    elif kind == "too_short" and shape == ("ambiguous", "*", "roles"):
        message = "an ambiguous abbreviation needs two roles or more"
        fix = "list every role it could mean, or make it an alias of one role"
    elif kind == "too_short":
        message, fix = "is an empty list", "add at least one item"
    elif kind in ("string_type", "literal_error") and not isinstance(value, str):
        message = f"must be text, not a {_type_name(value)}"
        fix = "quote it if it looks like a number, date or yes/no"
    elif kind == "string_too_short":
        message, fix = "is empty", "write something or remove the field"
    elif kind == "string_too_long":
        limit = limits.get("max_length")
        message = f"is {len(str(value).strip())} characters long, over the limit of {limit}"
        fix = "shorten it"
    elif kind == "string_pattern_mismatch" and limits.get("pattern") in _PATTERNS:
        text, fix = _PATTERNS[limits["pattern"]]
        message = text.format(_shown(str(value).strip()))
    elif kind == "literal_error" and fields and fields[-1] == "distinction":
        message = f"unknown distinction '{_shown(value)}'"
        fix = f"use one of: {', '.join(DISTINCTIONS)}"
    elif kind == "literal_error":
        message, fix = f"unknown role id '{_shown(value)}'", _suggest(str(value), ROLE_IDS)
    line = ctx.lines.line(_line_path(data, where), key=key)
    return Problem(ctx.name, line, entry, field or None, message, fix)


def _line_path(data: Any, loc: Path_) -> Path_:
    """``loc`` as :class:`_Lines` spells it: list indexes as numbers, mapping keys as the text
    written in the file (a key written ``7`` is the number 7 in the data)."""
    path: list[str | int] = []
    node = data
    for step in loc:
        path.append(step if isinstance(node, list) else str(step))
        node = _child(node, step)
    return tuple(path)


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


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "a special file"


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


LoadFunction = Callable[[Path], Knowledge]
