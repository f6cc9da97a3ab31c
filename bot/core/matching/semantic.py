"""An optional second opinion: the FAQ phrasings as sentence vectors, and the nearest ones.

The vectors come from `WordLlama <https://github.com/dleemiller/WordLlama>`_ (``l2_supercat``,
256 dimensions): token embeddings averaged, so a question costs a tokenizer call and one
matrix-vector product. Its weights and tokenizer ship inside its wheel and are loaded from
there with downloads disabled: nothing is ever fetched at run time.

It is an extra (``pip install "rolebot[semantic]"``). Without it :meth:`SemanticIndex.build`
returns ``None`` and rolebot works exactly as before. This module only measures similarity;
whether and how it counts in an answer is the matcher's decision.

The phrasing vectors are computed once per knowledge version and cached in a folder (the data
folder): the file's name and contents carry a key made of the model id and every phrasing, and
its vectors a digest, so a stale or corrupt file is rebuilt, never trusted. A folder that cannot
be written just means no cache.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.core.knowledge import Knowledge
from bot.core.normalize import slack_to_plain, unshout

logger = logging.getLogger(__name__)

MODEL_CONFIG = "l2_supercat"
MODEL_DIM = 256
_TEXT_VERSION = "1"
"""Bump when the text given to the model changes (it is part of the cache key)."""
_CACHE_PREFIX = "semantic-"
_CACHE_KEEP = 4
"""Cache files kept per folder (newest first): a few knowledge versions, never a pile."""

_WORD = re.compile(r"[^\W_]")
"""A letter or a digit."""

Vectors = npt.NDArray[np.float32]


class _Model(Protocol):
    def embed(self, texts: list[str], norm: bool = ...) -> Any: ...


@dataclass(frozen=True)
class SemanticHit:
    """One FAQ entry near a question: its best phrasing and that phrasing's cosine (-1 to 1)."""

    entry_id: str
    role: str
    phrasing: str
    cosine: float


@dataclass(frozen=True)
class SemanticView:
    """Everything one question's vector says, from a single embedding."""

    hits: tuple[SemanticHit, ...]
    """The nearest entries, best first, one hit per entry."""
    role_scores: Mapping[str, float]
    """Each role's best cosine over its phrasings (empty when the text has no vector)."""
    entry_scores: Mapping[str, float]
    """Each entry's best cosine (empty when the text has no vector)."""

    def support(self, role: str) -> float | None:
        """How much nearer ``role``'s phrasings are than any other role's: its best cosine minus
        the best other role's (-2 to 2; positive means the vectors side with ``role``).
        ``None`` when the text has no vector or ``role`` has no phrasing."""
        if role not in self.role_scores or len(self.role_scores) < 2:
            return None
        other = max(c for r, c in self.role_scores.items() if r != role)
        return self.role_scores[role] - other


@dataclass(frozen=True)
class _Loaded:
    model: _Model
    model_id: str


class SemanticIndex:
    """The FAQ's phrasings as unit vectors, grouped by entry. Immutable and thread-safe."""

    def __init__(
        self,
        model: _Model,
        model_id: str,
        knowledge: Knowledge,
        vectors: Vectors,
        key: str,
    ) -> None:
        self._model = model
        self.model_id = model_id
        self.key = key
        """The knowledge version the vectors belong to (model id and phrasings, hashed)."""
        entries = [e for e in knowledge.entries if e.questions]
        self._entry_ids = tuple(e.id for e in entries)
        self._entry_roles = tuple(e.owner for e in entries)
        self._phrasings = tuple(q for e in entries for q in e.questions)
        sizes = np.array([len(e.questions) for e in entries], dtype=np.int64)
        self._starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self._sizes = sizes
        self._vectors = vectors
        roles = sorted(set(self._entry_roles))
        self._role_masks = {
            role: np.array([r == role for r in self._entry_roles], dtype=bool) for role in roles
        }

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, knowledge: Knowledge, cache_dir: Path | None = None) -> SemanticIndex | None:
        """The index for ``knowledge``, or ``None`` when the model is not installed.

        ``cache_dir`` holds the phrasing vectors between runs (``None``: always computed).
        """
        loaded = _load_model()
        if loaded is None:
            return None
        phrasings = [_text(q) for e in knowledge.entries for q in e.questions]
        key = _cache_key(loaded.model_id, phrasings)
        vectors = _read_cache(cache_dir, key, len(phrasings)) if cache_dir else None
        if vectors is None:
            started = time.perf_counter()
            vectors = _embed(loaded.model, phrasings)
            logger.debug(
                "semantic index: %d phrasings embedded in %.2f s",
                len(phrasings),
                time.perf_counter() - started,
            )
            if cache_dir is not None:
                _write_cache(cache_dir, key, vectors)
        return cls(loaded.model, loaded.model_id, knowledge, vectors, key)

    # ------------------------------------------------------------------ asking
    @property
    def size(self) -> int:
        """How many phrasings the index holds."""
        return len(self._phrasings)

    def embed(self, text: str) -> Vectors | None:
        """The unit vector of a question (Slack markup resolved), or ``None`` when it has no
        word (emoji, markup or punctuation only): such text is near nothing."""
        plain = _text(text)
        if not _WORD.search(plain):
            return None
        vector = _embed(self._model, [plain])[0]
        return vector if float(vector @ vector) > 0.5 else None

    def view(self, text: str, k: int = 5) -> SemanticView:
        """The ``k`` nearest entries, every role's and every entry's best cosine, in one go."""
        vector = self.embed(text)
        if vector is None or not self._entry_ids:
            return SemanticView((), {}, {})
        cosines = self._vectors @ vector
        best = np.maximum.reduceat(cosines, self._starts)
        order = _top(best, k)
        hits = []
        for i in order:
            start = int(self._starts[i])
            row = start + int(np.argmax(cosines[start : start + int(self._sizes[i])]))
            hits.append(
                SemanticHit(
                    self._entry_ids[i],
                    self._entry_roles[i],
                    self._phrasings[row],
                    float(cosines[row]),
                )
            )
        roles = {role: float(best[mask].max()) for role, mask in self._role_masks.items()}
        entries = dict(zip(self._entry_ids, best.tolist(), strict=True))
        return SemanticView(tuple(hits), roles, entries)

    def nearest(self, text: str, k: int = 5) -> list[SemanticHit]:
        """The ``k`` entries nearest to ``text``, best first (one hit per entry, its best
        phrasing). Empty when the text has nothing to embed (emoji only, markup only)."""
        return list(self.view(text, k).hits)

    def role_scores(self, text: str) -> dict[str, float]:
        """Each role's best cosine to ``text`` (empty when the text has nothing to embed)."""
        return dict(self.view(text, 1).role_scores)


def _top(values: npt.NDArray[np.float32], k: int) -> list[int]:
    k = max(0, min(k, len(values)))
    if k == 0:
        return []
    part = np.argpartition(-values, k - 1)[:k] if k < len(values) else np.arange(len(values))
    return [int(i) for i in part[np.argsort(-values[part], kind="stable")]]


def _text(text: str) -> str:
    """What the model sees: Slack markup resolved, case and punctuation kept (a message mostly
    in capitals lowered), and no lone surrogates (the tokenizer takes only valid Unicode)."""
    plain = unshout(slack_to_plain(text))
    if not plain.isascii():
        plain = plain.encode("utf-8", "replace").decode("utf-8")
    return plain


def _embed(model: _Model, texts: Sequence[str]) -> Vectors:
    if not texts:
        return np.zeros((0, MODEL_DIM), dtype=np.float32)
    raw = np.asarray(model.embed(list(texts), norm=False), dtype=np.float32)
    raw = np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    # A text with no tokens has a zero vector: it stays zero (cosine 0 to everything).
    unit: Vectors = np.zeros_like(raw)
    np.divide(raw, norms, out=unit, where=norms > 0)
    return unit


@functools.cache
def _load_model() -> _Loaded | None:
    """WordLlama from its own wheel, downloads disabled; ``None`` when it is not installed.

    Loaded once per process, on first use.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama  # noqa: PLC0415 - optional, loaded on first use
        from wordllama import WordLlama  # noqa: PLC0415
    except ImportError:
        logger.info(
            "semantic layer off: wordllama is not installed "
            '(pip install "rolebot[semantic]" to add it)'
        )
        return None
    finally:
        # wordllama calls logging.basicConfig() on import; rolebot configures logging itself.
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    # Its wheel holds weights/<file> and tokenizers/<file>; its loader looks for the weights
    # beside the package and for the tokenizer in <cache_dir>/tokenizers, so the package folder
    # is the cache folder that finds both.
    package_dir = Path(wordllama.__file__).resolve().parent
    started = time.perf_counter()
    try:
        model = WordLlama.load(
            config=MODEL_CONFIG, dim=MODEL_DIM, cache_dir=package_dir, disable_download=True
        )
    except Exception as error:  # a damaged install must not stop rolebot: it answers without
        logger.warning("semantic layer off: wordllama could not load its model (%s)", error)
        return None
    version = getattr(wordllama, "__version__", "unknown")
    logger.debug("wordllama %s loaded in %.2f s", version, time.perf_counter() - started)
    return _Loaded(model, f"wordllama-{version}/{MODEL_CONFIG}-{MODEL_DIM}")


# ---------------------------------------------------------------------- the cache
def _cache_key(model_id: str, phrasings: Sequence[str]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{model_id}\x1e{_TEXT_VERSION}\x1e{len(phrasings)}\x1e".encode())
    for phrasing in phrasings:
        digest.update(phrasing.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{_CACHE_PREFIX}{key[:24]}.npz"


def _vectors_digest(vectors: Vectors) -> str:
    return hashlib.sha256(np.ascontiguousarray(vectors).tobytes()).hexdigest()


def _read_cache(cache_dir: Path, key: str, rows: int) -> Vectors | None:
    """The cached vectors for ``key``, or ``None`` when missing, stale or damaged."""
    path = _cache_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored_key = str(data["key"])
            stored_digest = str(data["digest"])
            vectors = np.array(data["vectors"])
    except Exception as error:  # any damage at all (zip, header, missing array): rebuild
        logger.warning("semantic cache %s is unreadable (%s): rebuilding it", path, error)
        return None
    if (
        stored_key != key
        or vectors.dtype != np.float32
        or vectors.shape != (rows, MODEL_DIM)
        or stored_digest != _vectors_digest(vectors)
        or not np.isfinite(vectors).all()
    ):
        logger.warning("semantic cache %s does not match this knowledge: rebuilding it", path)
        return None
    return vectors


def _write_cache(cache_dir: Path, key: str, vectors: Vectors) -> None:
    """Write atomically (a reader sees the old file or the whole new one); never raise."""
    path = _cache_path(cache_dir, key)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".semantic-", suffix=".tmp", dir=cache_dir)
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(
                    stream,
                    key=np.array(key),
                    digest=np.array(_vectors_digest(vectors)),
                    vectors=vectors,
                )
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        logger.info(
            "semantic cache not written to %s (%s): vectors kept in memory", cache_dir, error
        )
        return
    _prune(cache_dir, keep=path)


def _prune(cache_dir: Path, keep: Path) -> None:
    try:
        files = sorted(
            (p for p in cache_dir.glob(f"{_CACHE_PREFIX}*.npz") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in files[_CACHE_KEEP - 1 :]:
            old.unlink(missing_ok=True)
    except OSError:  # another process pruned first, or the folder turned read-only
        pass
