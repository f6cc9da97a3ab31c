"""Curated changes applied to a knowledge folder: text edits that keep the curators' files,
validation exactly as files, changes the files already hold recognised, and the writer's
defences (ids stay strings, symlinks stay links, the loader's parser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.core.engine import Engine
from bot.core.knowledge import load_knowledge
from bot.core.knowledge.changes import (
    ADD_PHRASINGS,
    NEW_ENTRY,
    SET_ANSWER,
    KnowledgeChange,
    load_with_changes,
    pending_changes,
    write_changes,
)
from bot.core.knowledge.writer import NewEntry, add_phrasings, append_entry, set_answer
from bot.errors import KnowledgeError


def _new(entry_id: str, *phrasings: str, change_id: int = 1) -> KnowledgeChange:
    return KnowledgeChange(
        NEW_ENTRY,
        entry_id,
        "program_manager",
        "how",
        phrasings,
        "Draft answer: the Program Manager's call.",
        id=change_id,
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- writer defects
@pytest.mark.parametrize("entry_id", ["2024", "null", "yes", "2024-01-01", "1e3", "~", "on"])
def test_entry_ids_stay_strings(tmp_path: Path, entry_id: str) -> None:
    path = tmp_path / "promoted.yaml"
    append_entry(path, NewEntry(entry_id, ("who owns it",), "program_manager", "how", "A."))
    [entry] = yaml.safe_load(path.read_text())["entries"]
    assert entry["id"] == entry_id and isinstance(entry["id"], str)
    assert f'- id: "{entry_id}"' in path.read_text()


def test_a_symlinked_file_stays_a_link(tmp_path: Path, knowledge_dir: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copyfile(knowledge_dir / "faq.yaml", shared / "faq.yaml")
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for path in knowledge_dir.glob("*.yaml"):
        if path.name != "faq.yaml":
            shutil.copyfile(path, folder / path.name)
    (folder / "faq.yaml").symlink_to(shared / "faq.yaml")
    add_phrasings(folder / "faq.yaml", "product-vision", ["whose call is the product dream"])
    set_answer(folder / "faq.yaml", "product-vision", "The Product Manager sets the vision.")
    assert (folder / "faq.yaml").is_symlink()
    assert (folder / "faq.yaml").resolve() == (shared / "faq.yaml").resolve()
    entry = load_knowledge(folder).entry("product-vision")
    assert entry.questions[-1] == "whose call is the product dream"
    assert entry.answer == "The Product Manager sets the vision."
    assert [p.name for p in shared.iterdir()] == ["faq.yaml"]  # no temporary file left


def test_a_file_the_bot_loads_can_be_edited_trailing_tab_and_all(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir, folder)
    team = folder / "team.yaml"
    team.write_text(
        "entries:\n"
        "  - id: team-offsite\t\n"
        "    questions:\n"
        "      - who coordinates the cross team offsite agenda\t\n"
        "    owner: program_manager\n"
        "    distinction: how\n"
        "    answer: An offsite spans teams and budgets.\n"
    )
    load_knowledge(folder)  # the bot loads it
    add_phrasings(team, "team-offsite", ["who drives the offsite agenda"])
    assert load_knowledge(folder).entry("team-offsite").questions[-1] == (
        "who drives the offsite agenda"
    )


def test_set_answer_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "# header\n"
        "entries:\n"
        "  - id: a\n"
        "    questions:\n"
        "      - who owns a\n"
        "    answer: >-\n"
        "      old folded\n"
        "      answer\n"
        "\n"
        "    # a comment after the answer\n"
        "    reviewed: 2025-01-01\n"
        "  - id: b\n"
        "    questions: [who owns b]\n"
        '    answer: "quoted"\n'
    )
    set_answer(path, "a", "A new answer that is long enough to fold " * 3)
    set_answer(path, "b", "Short: with a colon # and a hash")
    data = yaml.safe_load(path.read_text())
    assert data["entries"][0]["answer"] == ("A new answer that is long enough to fold " * 3).strip()
    assert data["entries"][1]["answer"] == "Short: with a colon # and a hash"
    text = path.read_text()
    assert text.startswith("# header\n") and "    # a comment after the answer\n" in text
    assert "reviewed: 2025-01-01" in text and "old folded" not in text


# --------------------------------------------------------------------------- merging
def test_changes_apply_in_order_and_validate_as_files(knowledge_copy: Path) -> None:
    files = _snapshot(knowledge_copy)
    log = [
        _new("escrow-audits", "who owns the vendor escrow audits"),
        KnowledgeChange(
            ADD_PHRASINGS, "escrow-audits", phrasings=("who schedules escrow audits",), id=2
        ),
        KnowledgeChange(ADD_PHRASINGS, "product-vision", phrasings=("whose dream is it",), id=3),
        KnowledgeChange(
            SET_ANSWER, "escrow-audits", answer="Audits span vendors: a program.", id=4
        ),
    ]
    knowledge = load_with_changes(knowledge_copy, log)
    entry = knowledge.entry("escrow-audits")
    assert entry.questions == ("who owns the vendor escrow audits", "who schedules escrow audits")
    assert entry.answer == "Audits span vendors: a program."
    assert knowledge.entry("product-vision").questions[-1] == "whose dream is it"
    assert _snapshot(knowledge_copy) == files  # the folder itself is never written
    # A change that clashes with the files is refused with the loader's message.
    clash = KnowledgeChange(ADD_PHRASINGS, "escrow-audits", phrasings=("x" * 400,), id=5)
    with pytest.raises(KnowledgeError) as refused:
        load_with_changes(knowledge_copy, [*log, clash])
    [problem] = refused.value.problems
    assert problem.file.endswith("promoted.yaml + curated changes")
    assert problem.entry == "escrow-audits" and problem.field == "questions"


def test_changes_already_in_the_files_are_not_applied_twice(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    log = [
        _new("escrow-audits", "who owns the vendor escrow audits"),
        KnowledgeChange(ADD_PHRASINGS, "product-vision", phrasings=("whose dream is it",), id=2),
        KnowledgeChange(SET_ANSWER, "escrow-audits", answer="First answer.", id=3),
        KnowledgeChange(SET_ANSWER, "escrow-audits", answer="Second answer.", id=4),
    ]
    assert [a.change.id for a in pending_changes(knowledge_copy, log)] == [1, 2, 3, 4]
    exported = tmp_path / "exported"
    applied = write_changes(knowledge_copy, exported, log)
    assert all(a.effective for a in applied)
    load_knowledge(exported)
    # Deployed: the exported folder is the new knowledge; nothing is pending, nothing doubles.
    assert pending_changes(exported, log) == []
    again = tmp_path / "again"
    write_changes(exported, again, log)
    assert _snapshot(again) == _snapshot(exported)
    knowledge = load_with_changes(exported, log)
    assert knowledge.entry("escrow-audits").answer == "Second answer."
    assert knowledge.entry("product-vision").questions.count("whose dream is it") == 1
    # A curator moved the entry into faq.yaml under another id: its phrasings are recognised.
    moved = (exported / "promoted.yaml").read_text().replace("escrow-audits", "vendor-escrow")
    (exported / "promoted.yaml").write_text(moved)
    pending = pending_changes(exported, log)
    assert [a.change.id for a in pending] == []  # the answers went with it (id unknown: skipped)
    # A later answer for an entry the files hold is pending until exported.
    later = KnowledgeChange(SET_ANSWER, "vendor-escrow", answer="Third answer.", id=5)
    assert [a.change.id for a in pending_changes(exported, [*log, later])] == [5]


def test_the_engine_follows_the_log_and_keeps_its_knowledge_when_it_cannot_read_it(
    knowledge_copy: Path,
) -> None:
    class Log:
        def __init__(self) -> None:
            self.changes: list[KnowledgeChange] = []
            self.down = False

        def knowledge_revision(self) -> int:
            if self.down:
                raise ConnectionError("the database is down")
            return len(self.changes)

        def knowledge_changes(self) -> list[KnowledgeChange]:
            if self.down:
                raise ConnectionError("the database is down")
            return list(self.changes)

    log = Log()
    engine = Engine(knowledge_copy, changes=log)
    question = "who owns the vendor escrow audits"
    assert engine.ask(question).outcome != "answered"
    assert engine.reload_if_changed() is None  # nothing new
    log.changes.append(_new("escrow-audits", question))
    assert engine.reload_if_changed() is not None
    assert engine.ask(question).result.entry_id == "escrow-audits" and engine.revision == 1
    log.down = True
    assert engine.reload_if_changed() is None  # keeps what it has
    (knowledge_copy / "faq.yaml").write_text(
        (knowledge_copy / "faq.yaml").read_text() + "\n# touched\n"
    )
    # a file changed (no settling wait here): reloaded with the log it has
    assert engine.reload_if_changed(settle=0.0) is not None
    assert engine.ask(question).result.entry_id == "escrow-audits"
    log.down = False
    # A log that no longer validates with the files: started on the files alone, with a reason.
    log.changes.append(
        KnowledgeChange(
            NEW_ENTRY, "bad", "astronaut", "how", ("who trains astronauts",), "A.", id=2
        )
    )
    fresh = Engine(knowledge_copy, changes=log)
    assert fresh.revision is None and "escrow-audits" not in fresh.knowledge.entries_by_id


def test_a_request_path_check_never_asks_the_log(knowledge_copy: Path) -> None:
    class Counting:
        calls = 0

        def knowledge_revision(self) -> int:
            Counting.calls += 1
            return 0

        def knowledge_changes(self) -> list[KnowledgeChange]:
            Counting.calls += 1
            return []

    engine = Engine(knowledge_copy, changes=Counting())
    before = Counting.calls
    (knowledge_copy / "faq.yaml").write_text(
        (knowledge_copy / "faq.yaml").read_text() + "\n# touched\n"
    )
    assert engine.reload_if_changed(settle=0.0, check_log=False) is not None  # the change is seen
    assert engine.reload_if_changed(settle=0.0, check_log=False) is None
    assert Counting.calls == before  # and the database was not asked
    engine.reload_if_changed()
    assert Counting.calls == before + 1  # the background check: one revision query


# --------------------------------------------------------------------------- special files
@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (os.mkfifo, "named pipe (FIFO), not a regular file"),
        (lambda path: path.symlink_to("/dev/zero"), "character device, not a regular file"),
    ],
)
def test_special_files_are_refused_with_curated_changes(
    tmp_path: Path, knowledge_dir: Path, make: Callable[[Path], None], kind: str
) -> None:
    """With changes in the log the folder is copied before loading: the copy reads a FIFO or
    ``/dev/zero`` no more than the loader does, and names the file the same way."""
    folder = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir, folder)
    make(folder / "team.yaml")
    with pytest.raises(KnowledgeError) as caught:
        load_with_changes(folder, [_new("who_owns_the_moon", "who owns the moon")])
    assert kind in str(caught.value)
    assert "team.yaml" in str(caught.value)
