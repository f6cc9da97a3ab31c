"""The knowledge files' JSON Schema: generated from the models the loader validates with,
committed next to the bundled knowledge, named by each bundled file, and checked here by an
independent validator (``jsonschema``) against the bundled knowledge and the malformed corpus."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.cli import main
from bot.core.knowledge import bundled_knowledge_dir, load_knowledge
from bot.core.knowledge.schema import SCHEMA_FILE, json_schema, json_schema_text
from bot.core.knowledge.writer import PROMOTED_FILE, NewEntry, append_entry
from bot.errors import KnowledgeError

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "knowledge" / SCHEMA_FILE
CASES = ROOT / "tests" / "knowledge_corpus" / "cases"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"

STRUCTURAL_CASES = [
    "answer-is-yes.yaml",
    "answer-too-long.yaml",
    "contact-with-a-mention.yaml",
    "empty-questions.yaml",
    "entries-not-a-list.yaml",
    "entry-missing-owner.yaml",
    "entry-not-a-mapping.yaml",
    "id-with-spaces.yaml",
    "number-as-top-level-key.yaml",
    "owner-near-miss.yaml",
    "question-is-a-number.yaml",
    "reviewed-not-a-date.yaml",
    "top-level-list.yaml",
    "unknown-distinction.yaml",
    "unknown-key-typo.yaml",
]
"""Corpus cases whose defect is in one file's shape: the schema alone must refuse them too."""


def as_json(value: Any) -> Any:
    """A loaded YAML value as JSON sees it (dates are text, keys are strings)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def test_the_committed_schema_is_what_the_models_generate() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == json_schema_text(), (
        f"knowledge/{SCHEMA_FILE} is out of date: run "
        f"`rolebot kb schema --output knowledge/{SCHEMA_FILE}`"
    )


def test_the_schema_is_draft_7_with_the_knowledge_rules() -> None:
    schema = json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$defs" not in json.dumps(schema)  # draft 7 spells them "definitions"
    entry = schema["definitions"]["EntryModel"]
    assert entry["additionalProperties"] is False
    assert set(entry["required"]) == {"id", "questions", "owner", "distinction", "answer"}
    assert entry["properties"]["distinction"]["enum"] == ["why", "what", "how", "when"]
    assert entry["properties"]["answer"]["maxLength"] == 600


def test_every_bundled_file_names_the_schema_on_its_first_line() -> None:
    files = sorted(bundled_knowledge_dir().glob("*.yaml"))
    assert {f.name for f in files} >= {"roles.yaml", "faq.yaml", "off_topic.yaml"}
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == MODELINE, path.name
        assert (path.parent / SCHEMA_FILE).is_file()


def test_a_promoted_file_written_into_the_folder_names_the_schema_too(tmp_path: Path) -> None:
    """``rolebot kb export`` into the checkout's knowledge folder creates promoted.yaml: it
    starts with the same line, so editors check it and the files above stay in line."""
    path = tmp_path / PROMOTED_FILE
    append_entry(path, NewEntry("who-owns-it", ("who owns it",), "program_manager", "how", "A."))
    assert path.read_text(encoding="utf-8").splitlines()[0] == MODELINE


def test_the_bundled_knowledge_validates_against_the_schema() -> None:
    check = validator()
    for path in sorted(bundled_knowledge_dir().glob("*.yaml")):
        data = as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(data)]
        assert not errors, f"{path.name}: {errors[:5]}"


@pytest.mark.parametrize("name", STRUCTURAL_CASES)
def test_the_schema_refuses_what_the_loader_refuses(tmp_path: Path, name: str) -> None:
    text = (CASES / name).read_text(encoding="utf-8")
    data = as_json(yaml.safe_load(text))
    assert list(validator().iter_errors(data)), f"{name} passes the JSON Schema"
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError):
        load_knowledge(tmp_path)


def test_kb_schema_prints_and_writes_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "schema"]) == 0
    assert capsys.readouterr().out == json_schema_text()
    target = tmp_path / SCHEMA_FILE
    assert main(["kb", "schema", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == json_schema_text()
    assert capsys.readouterr().out.strip().endswith("written")
    assert main(["kb", "schema", "--output", str(target)]) == 0
    assert capsys.readouterr().out.strip().endswith("up to date")
    assert main(["kb", "schema", "--output", str(tmp_path / "no" / "such" / "x.json")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("rolebot: error: cannot write") and "--output" in error


ENTRY = (
    "  - id: x-1\n    questions: [who owns the x thing]\n    owner: program_manager\n"
    "    distinction: how\n    answer: Because.\n"
)
SHAPE_DEFECTS = {
    "owner is a number": "entries:\n" + ENTRY.replace("program_manager", "5"),
    "no id": "entries:\n" + ENTRY.replace("- id: x-1\n    questions", "- questions"),
    "related is text": "entries:\n" + ENTRY + "    related: x-2\n",
    "related is no slug": "entries:\n" + ENTRY + "    related: [X Y]\n",
    "reviewed is a number": "entries:\n" + ENTRY + "    reviewed: 5\n",
    "a key is a number": "entries:\n" + ENTRY + "    7: x\n",
    "questions is a mapping": "entries:\n" + ENTRY.replace("[who owns the x thing]", "{a: b}"),
    "entries is empty": "entries:\n",
    "contacts is a list": "contacts: [a]\n",
    "contacts for no role": "contacts:\n  product_manger:\n    channel: C123\n",
    "contact is text": "contacts:\n  product_manager: hello\n",
    "a user is a name": "contacts:\n  product_manager:\n    users: [U123, bob]\n",
    "users is text": "contacts:\n  product_manager:\n    users: U123\n",
    "contact key typo": "contacts:\n  product_manager:\n    chanel: C123\n",
    "channel is a name": "contacts:\n  product_manager:\n    channel: general\n",
    "topic without words": "off_topic:\n  - topic: T\n",
    "empty hint": "off_topic:\n  - topic: T\n    hint:\n    words: [zzq]\n",
    "long word": "off_topic:\n  - topic: T\n    words: [" + "z" * 50 + "]\n",
    "one role is not ambiguous": "ambiguous:\n  - abbreviation: XM\n    roles: [program_manager]\n",
    "ambiguous typo": "ambiguous:\n  - {abbreviation: XM, roles: [program_manager, prodcut]}\n",
    "aspect without name": "aspects:\n  - id: zz\n",
    "aspect is a list": "aspects:\n  - [zz]\n",
}


@pytest.mark.parametrize("body", SHAPE_DEFECTS.values(), ids=SHAPE_DEFECTS.keys())
def test_every_shape_problem_names_line_field_and_fix(knowledge_copy: Path, body: str) -> None:
    (knowledge_copy / "extra.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge_copy)
    for problem in info.value.problems:
        shown = str(problem)
        assert problem.file.endswith("extra.yaml"), shown
        assert problem.line is not None and problem.line >= 1, shown
        assert problem.fix and "schema" not in problem.fix, shown  # never the generic fallback
        if problem.line > 1:  # inside a section: the item, the field, or the section
            assert problem.entry or problem.field or "each item of" in problem.message, shown


def test_a_contact_names_the_one_bad_user(knowledge_copy: Path) -> None:
    body = "contacts:\n  product_manager:\n    users:\n      - U123\n      - bob\n"
    (knowledge_copy / "extra.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge_copy)
    [problem] = info.value.problems
    assert (problem.line, problem.entry, problem.field) == (5, "product_manager", "contacts.users")
    assert problem.message == "'bob' is not a user id" and problem.fix == "use ids like U024BE7LH"


def test_a_key_written_as_a_number_is_found_on_its_line(knowledge_copy: Path) -> None:
    (knowledge_copy / "extra.yaml").write_text(SHAPE_DEFECTS["a key is a number"], "utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge_copy)
    [problem] = info.value.problems
    assert (problem.line, problem.entry, problem.field) == (7, "x-1", "7")
    assert problem.message == "unknown key '7'" and problem.fix.startswith("use one of: id,")
