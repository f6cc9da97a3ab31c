"""Careful edits to the curated YAML files: add phrasings, append entries, add eval cases.

Edits are made to the *text*, never by re-dumping the YAML, so every comment, blank line and
the order of entries stay as the curators wrote them. Positions come from PyYAML's node marks;
new lines take the indentation of the list they join. Each file is replaced atomically (a
reader, such as the running bot reloading, never sees half a file) and its modification time
changes, so ``Engine.reload_if_changed`` picks the edit up.

:class:`KnowledgeEdit` groups edits: it locks the folder against other editors and puts every
file back as it was if anything inside it fails (for example the result does not validate).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import textwrap
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import yaml

from bot.core.normalize import normalize
from bot.errors import RolebotError

try:  # the loader's parser (libyaml's when present), so a file the bot loads can be edited
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

PROMOTED_FILE = "promoted.yaml"
"""Where new entries from the unanswered log go, inside the knowledge folder."""

PROMOTED_HEADER = """\
# yaml-language-server: $schema=knowledge.schema.json
# rolebot FAQ entries promoted from questions people asked that rolebot could not answer.
#
# Written by `rolebot unanswered promote` (and the Slack App Home). Same format as faq.yaml.
# A new entry starts with a draft answer: a curator should refine it, check the owner and the
# distinction, and may move the entry into faq.yaml. Comments and order here are kept.

entries:
"""

EVAL_HEADER = """\
# Regression cases: questions curators promoted with `rolebot unanswered promote`.
#
# `rolebot eval` runs them together with questions.yaml and fails if one of them no longer
# gets the role it was promoted to. Same format as questions.yaml: {q: question, expect: role}.

questions:
"""

_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
"""Line breaks as YAML counts them (node marks are in these lines)."""
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ',.?()/&+-]*")


class KnowledgeWriteError(RolebotError):
    """A knowledge file could not be edited as asked. The message names the file and why."""


@dataclass(frozen=True)
class NewEntry:
    """An FAQ entry to append (same fields as in faq.yaml)."""

    id: str
    questions: tuple[str, ...]
    owner: str
    distinction: str
    answer: str


# --------------------------------------------------------------------------- single edits
def add_phrasings(path: Path, entry_id: str, phrasings: Sequence[str]) -> None:
    """Append ``phrasings`` to the ``questions`` list of entry ``entry_id`` in ``path``."""
    if phrasings:
        edit_entries(path, phrasings={entry_id: phrasings})


def set_answer(path: Path, entry_id: str, answer: str) -> None:
    """Replace the ``answer`` of entry ``entry_id`` in ``path`` (a folded block, 72 columns)."""
    edit_entries(path, answers={entry_id: answer})


def append_entry(path: Path, entry: NewEntry, *, header: str = PROMOTED_HEADER) -> None:
    """Append ``entry`` to the ``entries`` list of ``path`` (created with ``header`` if missing)."""
    append_entries(path, [entry], header=header)


def edit_entries(
    path: Path,
    *,
    phrasings: Mapping[str, Sequence[str]] | None = None,
    answers: Mapping[str, str] | None = None,
) -> None:
    """Several edits to the entries of one file, parsed once and written once: phrasings
    appended to entries' ``questions`` lists, answers replaced (or added)."""
    phrasings = {k: v for k, v in (phrasings or {}).items() if v}
    answers = dict(answers or {})
    if not phrasings and not answers:
        return
    text = _read(path)
    root = _compose(path, text)
    entries = _top_value(root, "entries")
    starts = _line_starts(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, int, str]] = []  # (start, priority, end, replacement)
    for entry_id in [*phrasings, *(a for a in answers if a not in phrasings)]:
        entry = _find_entry(entries, entry_id)
        if entry is None:
            raise KnowledgeWriteError(f"{path}: no entry with id '{entry_id}'")
        if entry_id in phrasings:
            edits.append(_phrasings_edit(path, text, starts, newline, entry, phrasings[entry_id]))
        if entry_id in answers:
            edits.append(_answer_edit(text, starts, newline, entry, answers[entry_id]))
    for start, _priority, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    _write_atomic(path, text)


def append_entries(
    path: Path, entries: Sequence[NewEntry], *, header: str = PROMOTED_HEADER
) -> None:
    """Append ``entries`` to the ``entries`` list of ``path`` (created with ``header`` if
    missing), in one write."""
    if not entries:
        return

    def render(indent: str) -> list[str]:
        inner = indent + "  "
        lines: list[str] = []
        for entry in entries:
            lines += [
                "",
                f"{indent}- id: {_quoted(entry.id)}",
                f"{inner}questions:",
                *(f"{inner}  - {_scalar(q)}" for q in entry.questions),
                f"{inner}owner: {entry.owner}",
                f"{inner}distinction: {entry.distinction}",
                f"{inner}answer: >-",
                *(f"{inner}  {line}" for line in _wrapped(entry.answer)),
            ]
        return lines

    _append_items(path, "entries", render, header)


def _phrasings_edit(
    path: Path,
    text: str,
    starts: Sequence[int],
    newline: str,
    entry: yaml.MappingNode,
    phrasings: Sequence[str],
) -> tuple[int, int, int, str]:
    entry_id = _value(entry, "id").value  # type: ignore[union-attr]
    questions = _value(entry, "questions")
    if not isinstance(questions, yaml.SequenceNode) or not questions.value:
        raise KnowledgeWriteError(
            f"{path}: entry '{entry_id}' has no list of questions to add to; fix the file first"
        )
    if questions.flow_style:
        close = _offset(starts, questions.end_mark) - 1
        if text[close] != "]":
            raise KnowledgeWriteError(
                f"{path}: cannot find the end of entry '{entry_id}' questions"
            )
        addition = "".join(", " + json.dumps(p, ensure_ascii=False) for p in phrasings)
        return close, 0, close, addition
    indent = " " * questions.start_mark.column
    lines = [f"{indent}- {_scalar(p)}" for p in phrasings]
    return _insert_at(text, starts, newline, _last_line(text, questions.value[-1]), lines, 0)


def _answer_edit(
    text: str, starts: Sequence[int], newline: str, entry: yaml.MappingNode, answer: str
) -> tuple[int, int, int, str]:
    found = next(
        (
            (key, value)
            for key, value in entry.value
            if isinstance(key, yaml.ScalarNode) and key.value == "answer"
        ),
        None,
    )
    if found is None:  # no answer yet: add one after the entry's last line
        indent = " " * entry.start_mark.column
        lines = [f"{indent}answer: >-", *(f"{indent}  {line}" for line in _wrapped(answer))]
        return _insert_at(text, starts, newline, _last_line(text, entry), lines, 1)
    key, value = found
    indent = " " * key.start_mark.column
    first = int(key.start_mark.line)
    last = max(first, _last_line(text, value))
    lines = [f"{indent}answer: >-", *(f"{indent}  {line}" for line in _wrapped(answer))]
    start = starts[first]
    end = starts[last + 1] if last + 1 < len(starts) else len(text)
    ending = text[start:end][len(text[start:end].rstrip("\r\n")) :] or ""
    return start, 1, end, newline.join(lines) + (ending or "")


def _insert_at(
    text: str,
    starts: Sequence[int],
    newline: str,
    line: int,
    lines: Sequence[str],
    priority: int,
) -> tuple[int, int, int, str]:
    """Insert ``lines`` after 0-based ``line``; a last line without an end of line gets one."""
    if line + 1 < len(starts):
        at = starts[line + 1]
        return at, priority, at, "".join(x + newline for x in lines)
    prefix = "" if text.endswith(("\n", "\r")) else newline
    return len(text), priority, len(text), prefix + "".join(x + newline for x in lines)


def _line_starts(text: str) -> list[int]:
    """Offsets where each line starts, counting line breaks as YAML does."""
    return [0, *(m.end() for m in _BREAK.finditer(text) if m.end() < len(text))]


def _offset(starts: Sequence[int], mark: yaml.Mark) -> int:
    return int(starts[mark.line] + mark.column) if mark.line < len(starts) else int(mark.index)


def _wrapped(answer: str) -> list[str]:
    return textwrap.wrap(" ".join(answer.split()), 72) or [""]


def append_eval_cases(
    path: Path, cases: Iterable[tuple[str, str]], *, header: str = EVAL_HEADER
) -> int:
    """Append ``(question, expected role)`` cases to a labelled set; returns how many were new.

    A question already in the file (compared normalised) is not added again.
    """
    existing: set[str] = set()
    if path.is_file():
        data = yaml.load(_read(path), Loader=_Loader) or {}
        for item in data.get("questions") or [] if isinstance(data, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("q"), str):
                existing.add(normalize(item["q"]))
    fresh: list[tuple[str, str]] = []
    for question, expect in cases:
        key = normalize(question)
        if key and key not in existing:
            existing.add(key)
            fresh.append((question, expect))
    if not fresh:
        return 0

    def render(indent: str) -> list[str]:
        lines: list[str] = []
        for question, expect in fresh:
            lines.append(f"{indent}- q: {json.dumps(question, ensure_ascii=False)}")
            lines.append(f"{indent}  expect: {expect}")
        return lines

    _append_items(path, "questions", render, header)
    return len(fresh)


def find_entry_file(directory: Path, entry_id: str) -> Path | None:
    """The YAML file in ``directory`` that defines entry ``entry_id``."""
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        text = _read(path)
        if entry_id not in text:
            continue
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            continue
        if _find_entry(_top_value(root, "entries"), entry_id) is not None:
            return path
    return None


# --------------------------------------------------------------------------- grouped edits
class KnowledgeEdit:
    """Edits to one knowledge folder that all stay, or are all undone.

    ::

        with KnowledgeEdit(folder) as edit:
            edit.add_phrasings(path, "entry-id", ["..."])
            load_knowledge(folder)  # raises: every file goes back as it was
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._originals: dict[Path, bytes | None] = {}
        self._lock_fd: int | None = None

    def __enter__(self) -> KnowledgeEdit:
        fd = os.open(self.directory, os.O_RDONLY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)  # one editor at a time (other processes too)
        self._lock_fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                self.rollback()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    @property
    def changed(self) -> tuple[Path, ...]:
        return tuple(self._originals)

    def add_phrasings(self, path: Path, entry_id: str, phrasings: Sequence[str]) -> None:
        self._remember(path)
        add_phrasings(path, entry_id, phrasings)

    def append_entry(self, path: Path, entry: NewEntry) -> None:
        self._remember(path)
        append_entry(path, entry)

    def rollback(self) -> None:
        """Put every edited file back as it was (removing files this edit created)."""
        for path, original in self._originals.items():
            if original is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomic(path, original.decode("utf-8"))
        self._originals.clear()

    def _remember(self, path: Path) -> None:
        if path not in self._originals:
            self._originals[path] = path.read_bytes() if path.exists() else None


# --------------------------------------------------------------------------- text surgery
def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise KnowledgeWriteError(f"{path}: not UTF-8 text; fix the file first") from None


def _compose(path: Path, text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else "invalid YAML"
        raise KnowledgeWriteError(f"{path}: not valid YAML ({first}); fix the file first") from None


def _top_value(root: yaml.Node | None, key: str) -> yaml.Node | None:
    return _value(root, key) if isinstance(root, yaml.MappingNode) else None


def _value(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


def _find_entry(entries: yaml.Node | None, entry_id: str) -> yaml.MappingNode | None:
    if not isinstance(entries, yaml.SequenceNode):
        return None
    for item in entries.value:
        found = _value(item, "id")
        if isinstance(found, yaml.ScalarNode) and found.value == entry_id:
            return item  # type: ignore[no-any-return]
    return None


def _append_items(path: Path, key: str, render: Callable[[str], list[str]], header: str) -> None:
    """Append rendered items to the top-level block list ``key`` of ``path``."""
    text = _read(path) if path.exists() else ""
    if not text.strip():
        text = header
    root = _compose(path, text)
    if root is not None and not isinstance(root, yaml.MappingNode):
        raise KnowledgeWriteError(f"{path}: the file is not a mapping of keys; fix the file first")
    node = _top_value(root, key)
    key_line = _key_line(root, key)
    if key_line is None:  # no such key yet: add it at the end
        lines = ["", f"{key}:", *_drop_leading_blank(render("  "))]
        _write_atomic(path, _insert_after(text, None, lines))
        return
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and not node.value:
        items = _drop_leading_blank(render("  "))
        _write_atomic(path, _insert_after(text, key_line, items))
        return
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        raise KnowledgeWriteError(
            f"{path}: '{key}' must be a block list (one '- ' item per line) to append to"
        )
    indent = " " * node.start_mark.column
    _write_atomic(path, _insert_after(text, _last_line(text, node.value[-1]), render(indent)))


def _drop_leading_blank(lines: list[str]) -> list[str]:
    return lines[1:] if lines and lines[0] == "" else lines


def _key_line(root: yaml.Node | None, key: str) -> int | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key_node, _ in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return int(key_node.start_mark.line)
    return None


def _last_line(text: str, node: yaml.Node) -> int:
    """The 0-based index of the last line holding ``node``'s content (not trailing blanks)."""
    lines = _BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    end = node.end_mark
    line = end.line if end.column > 0 else end.line - 1
    line = min(line, len(lines) - 1)
    while line > node.start_mark.line and not lines[line].strip():
        line -= 1
    return int(line)


def _insert_after(text: str, line: int | None, new_lines: Sequence[str]) -> str:
    """Insert ``new_lines`` after 0-based ``line`` (``None``: at the end), with the file's EOLs."""
    newline = "\r\n" if "\r\n" in text else "\n"
    starts = _line_starts(text)
    after = len(starts) - 1 if line is None else line
    start, _, end, replacement = _insert_at(text, starts, newline, after, new_lines, 0)
    return text[:start] + replacement + text[end:]


def _scalar(value: str) -> str:
    """A YAML scalar for ``value``: plain when that reads back the same, else double-quoted."""
    if _PLAIN.fullmatch(value) and not value.endswith(" "):
        try:
            if yaml.load(value, Loader=_Loader) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def _quoted(value: str) -> str:
    """Always double-quoted: an id such as 2024, null, yes or 2024-01-01 stays a string."""
    return json.dumps(value, ensure_ascii=False)


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` in one step, keeping its permissions; the new mtime marks the change.

    A symbolic link stays a link: the file it points to is replaced.
    """
    if path.is_symlink():
        path = path.resolve()
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(mode)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
