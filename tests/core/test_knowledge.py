"""Loading and validating knowledge: every problem named with file, line, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.knowledge import ROLE_IDS, load_knowledge
from bot.core.knowledge.model import Knowledge
from bot.errors import KnowledgeError

ENTRY = """\
  - id: {id}
    questions:
      - {q}
    owner: {owner}
    distinction: why
    answer: Because it is a why question.
"""


def add_faq(folder: Path, body: str, name: str = "extra.yaml") -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(folder)
    return [str(p) for p in info.value.problems]


def test_bundled_knowledge_is_complete(knowledge: Knowledge) -> None:
    assert list(knowledge.roles) == list(ROLE_IDS)
    assert len(knowledge.entries) >= 80
    aspect_ids = [a.id for a in knowledge.aspects]
    assert {"focus", "technical_depth", "decision_making"} <= set(aspect_ids)
    for role in knowledge.roles.values():
        assert set(role.compare) == set(aspect_ids)
        assert role.definition and role.responsibilities and role.hands_off
    owners = {e.owner for e in knowledge.entries}
    assert owners == set(ROLE_IDS)
    assert any(a.abbreviation.lower() == "pm" and len(a.roles) == 3 for a in knowledge.ambiguous)


def test_unknown_role_names_file_line_entry_field_and_fix(knowledge_copy: Path) -> None:
    add_faq(
        knowledge_copy, "entries:\n" + ENTRY.format(id="x-1", q="who x one", owner="product_manger")
    )
    [message] = problems(knowledge_copy)
    assert "extra.yaml:5" in message  # the owner line
    assert "entry 'x-1'" in message and "field 'owner'" in message
    assert "did you mean 'product_manager'" in message


def test_all_errors_are_reported_at_once(knowledge_copy: Path) -> None:
    body = "entries:\n" + "".join(
        [
            ENTRY.format(id="Bad Id", q="who bad one", owner="product_manager"),
            ENTRY.format(id="x-2", q="who x two", owner="nobody"),
            "  - id: x-3\n    questions: who x three\n    owner: project_manager\n"
            "    distinction: sometimes\n    answer: ''\n    colour: blue\n",
        ]
    )
    add_faq(knowledge_copy, body)
    found = problems(knowledge_copy)
    joined = "\n".join(found)
    assert "'Bad Id' is not a slug" in joined
    assert "unknown role id 'nobody'" in joined
    assert "field 'questions': must be a list" in joined
    assert "unknown distinction 'sometimes'" in joined
    assert "field 'answer': is empty" in joined
    assert "unknown key 'colour'" in joined
    assert len(found) >= 6


def test_duplicate_ids_and_phrasings_across_files(
    knowledge: Knowledge, knowledge_copy: Path
) -> None:
    existing = knowledge.entries[0]
    body = "entries:\n" + ENTRY.format(id=existing.id, q="who new thing", owner="program_manager")
    body += ENTRY.format(
        id="fresh-one", q=existing.questions[0].upper() + "?!", owner="program_manager"
    )
    add_faq(knowledge_copy, body)
    joined = "\n".join(problems(knowledge_copy))
    assert f"duplicate entry id '{existing.id}'" in joined
    phrasing_problem = next(line for line in joined.splitlines() if "is already in" in line)
    assert existing.id in phrasing_problem and "fresh-one" in phrasing_problem
    assert "owned by" in phrasing_problem


def test_broken_yaml_names_the_line(knowledge_copy: Path) -> None:
    add_faq(knowledge_copy, "entries:\n  - id: x\n    questions: [unclosed\n    owner: x\n")
    [message] = problems(knowledge_copy)
    assert "extra.yaml:4:" in message or "extra.yaml:3:" in message
    assert "not valid YAML" in message


def test_wrong_types_and_overlong_fields(knowledge_copy: Path) -> None:
    body = (
        "entries:\n  - id: x-9\n    questions: [who x nine, 42]\n    owner: program_manager\n"
        f"    distinction: how\n    answer: {'a' * 700}\n    related: other\n    reviewed: soon\n"
    )
    add_faq(knowledge_copy, body)
    joined = "\n".join(problems(knowledge_copy))
    assert "must be text, not a number" in joined
    assert "over the limit of 600" in joined
    assert "field 'related': must be a list of entry ids" in joined
    assert "'soon' is not a date" in joined


def test_unknown_related_entry_and_top_level_key(knowledge_copy: Path) -> None:
    body = "entires: []\nentries:\n" + ENTRY.format(
        id="x-5", q="who x five", owner="product_manager"
    )
    body += "    related: [no-such-entry]\n"
    add_faq(knowledge_copy, body)
    joined = "\n".join(problems(knowledge_copy))
    assert "unknown top-level key 'entires'" in joined and "did you mean 'entries'" in joined
    assert "unknown entry id 'no-such-entry'" in joined


def test_role_problems(knowledge_copy: Path) -> None:
    roles = (knowledge_copy / "roles.yaml").read_text(encoding="utf-8")
    roles = roles.replace("id: technical_program_manager", "id: technical_pm", 1)
    (knowledge_copy / "roles.yaml").write_text(roles, encoding="utf-8")
    joined = "\n".join(problems(knowledge_copy))
    assert "unknown role id 'technical_pm'" in joined
    assert "missing role(s): technical_program_manager" in joined


def test_off_topic_word_used_by_an_entry_is_rejected(
    knowledge: Knowledge, knowledge_copy: Path
) -> None:
    add_faq(knowledge_copy, "off_topic:\n  - topic: Test\n    words: [roadmap, zzyzxq]\n", "z.yaml")
    [message] = problems(knowledge_copy)
    assert "'roadmap' is used by FAQ entry" in message and "z.yaml:3" in message


def test_a_bad_file_never_half_loads(knowledge_copy: Path) -> None:
    good = "entries:\n" + ENTRY.format(id="good-one", q="who good one", owner="product_manager")
    add_faq(knowledge_copy, good, "a.yaml")
    add_faq(knowledge_copy, "entries: 5\n", "b.yaml")
    with pytest.raises(KnowledgeError):
        load_knowledge(knowledge_copy)


def test_extra_files_merge(knowledge: Knowledge, knowledge_copy: Path) -> None:
    add_faq(
        knowledge_copy,
        "entries:\n"
        + ENTRY.format(id="team-x", q="who owns team x thing", owner="program_manager"),
    )
    merged = load_knowledge(knowledge_copy)
    assert len(merged.entries) == len(knowledge.entries) + 1
    assert merged.entry("team-x").source.endswith("extra.yaml")


def test_missing_and_empty_folders(tmp_path: Path) -> None:
    assert "knowledge folder not found" in problems(tmp_path / "nope")[0]
    assert "no .yaml files" in problems(tmp_path)[0]


def test_not_utf8(knowledge_copy: Path) -> None:
    (knowledge_copy / "bad.yaml").write_bytes(b"entries: [\xff\xfe]\n")
    assert "not UTF-8" in problems(knowledge_copy)[0]
