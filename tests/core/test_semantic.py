"""The optional semantic index: answers offline, caches per knowledge version, absent cleanly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.config import Settings
from bot.core.engine import Engine
from bot.core.knowledge import Knowledge, load_knowledge
from bot.core.knowledge.model import ROLE_IDS
from bot.core.matching import semantic
from bot.core.matching.semantic import SemanticIndex
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

needs_model = pytest.mark.skipif(
    semantic._load_model() is None, reason="wordllama is not installed (the 'semantic' extra)"
)


@pytest.fixture(scope="module")
def index(knowledge: Knowledge) -> SemanticIndex:
    built = SemanticIndex.build(knowledge, None)
    assert built is not None
    return built


def _run(code: str, *, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------------- asking
@needs_model
def test_every_entry_finds_itself_by_its_own_phrasing(
    index: SemanticIndex, knowledge: Knowledge
) -> None:
    for entry in knowledge.entries:
        phrasing = entry.questions[0]
        hits = index.nearest(phrasing, k=3)
        assert hits[0].cosine > 0.99, (entry.id, hits)
        # Several entries may share a phrasing verbatim; the entry must be among the exact hits.
        exact = {h.entry_id for h in hits if h.cosine > 0.99}
        assert entry.id in exact, (entry.id, hits)
        assert hits[0].role == knowledge.entry(hits[0].entry_id).owner
        assert hits[0].phrasing in knowledge.entry(hits[0].entry_id).questions


@needs_model
def test_hits_are_one_per_entry_best_first(index: SemanticIndex, knowledge: Knowledge) -> None:
    hits = index.nearest("who decides whether we build dark mode at all?", k=10)
    assert len(hits) == 10
    assert len({h.entry_id for h in hits}) == 10
    cosines = [h.cosine for h in hits]
    assert cosines == sorted(cosines, reverse=True)
    assert all(-1.0 <= c <= 1.0 + 1e-6 for c in cosines)
    assert hits[0].role == "product_manager"
    everything = index.nearest("who decides whether we build dark mode at all?", k=10_000)
    assert len(everything) == len(knowledge.entries)
    assert index.nearest("who decides whether we build dark mode at all?", k=0) == []


@needs_model
def test_role_scores_are_each_roles_best_cosine(index: SemanticIndex) -> None:
    question = "who lines up the engineering dependencies between the platform and mobile teams?"
    scores = index.role_scores(question)
    assert set(scores) == set(ROLE_IDS)
    view = index.view(question, k=len(index.view(question).entry_scores))
    for role in ROLE_IDS:
        best = max(h.cosine for h in view.hits if h.role == role)
        assert scores[role] == pytest.approx(best)
    assert max(scores, key=scores.__getitem__) == "technical_program_manager"
    assert view.hits[0].cosine == pytest.approx(max(view.entry_scores.values()))
    tpm = view.support("technical_program_manager")
    assert tpm is not None
    assert tpm > 0
    assert tpm == pytest.approx(scores["technical_program_manager"] - sorted(scores.values())[-2])
    product = view.support("product_manager")
    assert product is not None
    assert product == pytest.approx(scores["product_manager"] - scores["technical_program_manager"])
    assert view.support("no_such_role") is None
    assert index.view(":tada:").support("product_manager") is None


@needs_model
@pytest.mark.parametrize(
    "text",
    ["", "   ", ":tada: :rocket:", "<@U0123ABCD> <!here>", "```\n```", "🎉🚀🔥", "***"],
)
def test_text_with_nothing_to_embed_has_no_hits(index: SemanticIndex, text: str) -> None:
    assert index.nearest(text) == []
    assert index.role_scores(text) == {}
    assert index.embed(text) is None


@needs_model
def test_hostile_text_never_raises(index: SemanticIndex) -> None:
    for text in [
        "who owns the roadmap? " * 2000,
        "\x00\ud800 who \u202e owns <https://x|the roadmap> &amp; <#C123|general>",
        "x" * 40_000,
        "ﷺ" * 5000,
    ]:
        hits = index.nearest(text)
        assert all(np.isfinite(h.cosine) for h in hits)


@needs_model
def test_slack_markup_is_resolved_before_embedding(index: SemanticIndex) -> None:
    plain = index.embed("who owns the product roadmap")
    marked = index.embed("<@U0123ABCD> who owns the *product roadmap* :thinking_face:")
    assert plain is not None
    assert marked is not None
    assert float(plain @ marked) > 0.999


# ---------------------------------------------------------------------- the cache
def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("semantic-*.npz"))


@needs_model
def test_cache_is_written_once_and_read_back(knowledge: Knowledge, tmp_path: Path) -> None:
    first = SemanticIndex.build(knowledge, tmp_path)
    assert first is not None
    [path] = _cache_files(tmp_path)
    # Replace the vectors by a consistent file with other (unit) vectors: if the next build
    # reads them, it trusted the cache instead of recomputing.
    other = np.roll(first._vectors, 1, axis=0)
    np.savez(path, key=np.array(first.key), digest=semantic._vectors_digest(other), vectors=other)
    second = SemanticIndex.build(knowledge, tmp_path)
    assert second is not None
    assert second.key == first.key
    assert np.array_equal(second._vectors, other)


def _damage(path: Path, how: str, key: str, vectors: np.ndarray) -> None:
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif how == "garbage":
        path.write_bytes(b"not a numpy file at all")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "other key":
        np.savez(
            path, key=np.array("0" * 64), digest=semantic._vectors_digest(vectors), vectors=vectors
        )
    elif how == "bad digest":
        changed = vectors.copy()
        changed[0, 0] += 0.5
        np.savez(path, key=np.array(key), digest=semantic._vectors_digest(vectors), vectors=changed)
    elif how == "wrong shape":
        cut = vectors[:-1]
        np.savez(path, key=np.array(key), digest=semantic._vectors_digest(cut), vectors=cut)
    elif how == "nan":
        bad = vectors.copy()
        bad[3, 7] = np.nan
        np.savez(path, key=np.array(key), digest=semantic._vectors_digest(bad), vectors=bad)
    elif how == "missing array":
        np.savez(path, key=np.array(key))
    elif how == "pickled object":
        np.savez(path, key=np.array([{"x": 1}], dtype=object), vectors=vectors)
    else:  # pragma: no cover - a typo in the parameters
        raise AssertionError(how)


@needs_model
@pytest.mark.parametrize(
    "how",
    [
        "truncated",
        "garbage",
        "empty",
        "other key",
        "bad digest",
        "wrong shape",
        "nan",
        "missing array",
        "pickled object",
    ],
)
def test_a_damaged_or_stale_cache_is_rebuilt(
    knowledge: Knowledge, index: SemanticIndex, tmp_path: Path, how: str
) -> None:
    built = SemanticIndex.build(knowledge, tmp_path)
    assert built is not None
    [path] = _cache_files(tmp_path)
    _damage(path, how, built.key, built._vectors)
    rebuilt = SemanticIndex.build(knowledge, tmp_path)
    assert rebuilt is not None
    assert np.allclose(rebuilt._vectors, index._vectors, atol=1e-6)
    # ... and the file was rewritten whole: the next build reads a good cache.
    assert semantic._read_cache(tmp_path, built.key, index.size) is not None


@needs_model
def test_a_new_knowledge_version_gets_new_vectors(knowledge_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = SemanticIndex.build(load_knowledge(knowledge_copy), cache)
    assert before is not None
    target = _add_phrasing(knowledge_copy, "who signs off the sprocket teleporter feature brief?")
    after = SemanticIndex.build(load_knowledge(knowledge_copy), cache)
    assert after is not None
    assert after.key != before.key
    assert after.size == before.size + 1
    assert len(_cache_files(cache)) == 2
    hit = after.nearest("who signs off the sprocket teleporter feature brief?", k=1)[0]
    assert (hit.entry_id, hit.cosine) == (target, pytest.approx(1.0, abs=1e-5))


def _add_phrasing(folder: Path, phrasing: str) -> str:
    """Append ``phrasing`` to the first entry of the first FAQ file; return that entry's id."""
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("entries"):
            entry = data["entries"][0]
            entry["questions"].append(phrasing)
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            return str(entry["id"])
    raise AssertionError("no FAQ file with entries")  # pragma: no cover


@needs_model
def test_old_cache_files_are_pruned(knowledge: Knowledge, tmp_path: Path) -> None:
    for number in range(6):
        (tmp_path / f"semantic-old{number}.npz").write_bytes(b"x")
        os.utime(tmp_path / f"semantic-old{number}.npz", (number, number))
    unrelated = tmp_path / "rolebot.db"
    unrelated.write_bytes(b"keep me")
    SemanticIndex.build(knowledge, tmp_path)
    names = {p.name for p in _cache_files(tmp_path)}
    assert len(names) == semantic._CACHE_KEEP
    assert {"semantic-old5.npz", "semantic-old4.npz", "semantic-old3.npz"} < names
    assert unrelated.read_bytes() == b"keep me"


@needs_model
def test_an_unwritable_cache_folder_just_means_no_cache(
    knowledge: Knowledge, index: SemanticIndex, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    built = SemanticIndex.build(knowledge, blocker / "semantic")
    assert built is not None
    assert np.allclose(built._vectors, index._vectors, atol=1e-6)
    if os.geteuid() != 0:  # root writes anywhere; the file-as-parent case covers it
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            assert SemanticIndex.build(knowledge, locked) is not None
            assert _cache_files(locked) == []
        finally:
            locked.chmod(0o755)


# ---------------------------------------------------------------------- the engine and config
@needs_model
def test_engine_builds_the_index_when_asked_and_rebuilds_on_reload(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    assert Engine(knowledge_copy).semantic is None
    engine = Engine(knowledge_copy, semantic=True, semantic_cache=tmp_path)
    first = engine.semantic
    assert first is not None
    assert first.size == engine.knowledge.phrasing_count
    assert len(_cache_files(tmp_path)) == 1
    target = _add_phrasing(knowledge_copy, "who curates the quokka onboarding checklist?")
    assert engine.reload().changed
    second = engine.semantic
    assert second is not None
    assert second.key != first.key
    assert second.nearest("who curates the quokka onboarding checklist?", k=1)[0].entry_id == target


def test_semantic_setting(tmp_path: Path) -> None:
    settings = Settings.from_env({"ROLEBOT_DATA_DIR": str(tmp_path)}, dotenv_path=None)
    assert settings.semantic == "auto"
    assert settings.semantic_cache_dir == tmp_path / "semantic"
    off = Settings.from_env({"ROLEBOT_SEMANTIC": " OFF "}, dotenv_path=None)
    assert off.semantic == "off"
    assert off.semantic_cache_dir is None
    with pytest.raises(ConfigError, match=r"^ROLEBOT_SEMANTIC: must be 'auto' or 'off', got 'yes'"):
        Settings.from_env({"ROLEBOT_SEMANTIC": "yes"}, dotenv_path=None)


# ---------------------------------------------------------------------- in other processes
_ASK = """
    import json, logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
    {block}
    from bot.core.engine import Engine
    from bot.core.knowledge import bundled_knowledge_dir, load_knowledge
    from bot.core.matching.semantic import SemanticIndex

    knowledge = load_knowledge(bundled_knowledge_dir())
    built = [SemanticIndex.build(knowledge, None) for _ in range(2)]
    engine = Engine(bundled_knowledge_dir(), semantic={semantic})
    questions = [q["q"] for q in __import__("yaml").safe_load(open({questions!r}))["questions"]]
    from bot.cli.ask import to_json
    answers = [to_json(engine.ask(question)) for question in questions]
    print(json.dumps({{"built": [b is not None for b in built],
                      "engine": engine.semantic is not None,
                      "answers": answers}}))
"""


def _ask_in_subprocess(block: str, *, semantic: bool) -> dict[str, object]:
    questions = str(ROOT / "tests" / "eval" / "questions.yaml")
    code = textwrap.dedent(_ASK).format(block=block, questions=questions, semantic=semantic)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    data["stderr"] = result.stderr
    return data


def test_without_wordllama_the_index_is_none_and_answers_are_as_with_it_off() -> None:
    blocked = _ask_in_subprocess("sys.modules['wordllama'] = None", semantic=True)
    assert blocked["built"] == [False, False]
    assert blocked["engine"] is False
    notices = [
        line for line in str(blocked["stderr"]).splitlines() if "wordllama is not installed" in line
    ]
    assert len(notices) == 1, blocked["stderr"]
    assert notices[0].startswith("bot.core.matching.semantic ")
    off = _ask_in_subprocess("", semantic=False)
    assert off["engine"] is False
    assert len(blocked["answers"]) > 250  # type: ignore[arg-type]
    assert blocked["answers"] == off["answers"]


@needs_model
def test_importing_wordllama_leaves_the_logging_setup_alone() -> None:
    out = _run(
        """
        import logging
        from bot.core.knowledge import bundled_knowledge_dir, load_knowledge
        from bot.core.matching.semantic import SemanticIndex
        before = (list(logging.getLogger().handlers), logging.getLogger().level)
        assert SemanticIndex.build(load_knowledge(bundled_knowledge_dir()), None) is not None
        after = (list(logging.getLogger().handlers), logging.getLogger().level)
        print(before == after, len(after[0]))
        """
    )
    assert out.split() == ["True", "0"]


def _empty_network_prefix() -> tuple[str, ...]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed: cannot empty the network namespace")
    for prefix in ((unshare, "-n"), (unshare, "-rn")):
        probe = subprocess.run([*prefix, "true"], capture_output=True, check=False, timeout=30)
        if probe.returncode == 0:
            return prefix
    pytest.skip("unshare -n is not permitted here (needs root or unprivileged user namespaces)")


@needs_model
def test_loads_and_answers_with_no_network_at_all(tmp_path: Path) -> None:
    prefix = _empty_network_prefix()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),  # no ~/.cache/wordllama or Hugging Face cache to fall back on
        "XDG_CACHE_HOME": str(home / ".cache"),
        "HF_HOME": str(home / "hf"),
    }
    out = _run(
        """
        import socket
        try:
            socket.create_connection(("1.1.1.1", 443), timeout=2)
            print("NETWORK")
        except OSError:
            pass
        from bot.core.knowledge import bundled_knowledge_dir, load_knowledge
        from bot.core.matching.semantic import SemanticIndex
        index = SemanticIndex.build(load_knowledge(bundled_knowledge_dir()), None)
        hit = index.nearest("who decides whether we build dark mode at all?", k=1)[0]
        print(hit.role, round(hit.cosine, 2) > 0.3)
        """,
        prefix=prefix,
        env=env,
    )
    assert out.split() == ["product_manager", "True"]
    assert not (home / ".cache").exists()
    assert not (home / "hf").exists()


@needs_model
@pytest.mark.parametrize("value", ["auto", "off"])
def test_the_cli_engine_follows_rolebot_semantic(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from bot.cli.context import Context

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("ROLEBOT_SEMANTIC", value)
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(tmp_path / "data"))
    engine = Context(argparse.Namespace(knowledge=None)).engine
    if value == "off":
        assert engine.semantic is None
        assert not (tmp_path / "data").exists()
    else:
        assert engine.semantic is not None
        assert len(_cache_files(tmp_path / "data" / "semantic")) == 1
