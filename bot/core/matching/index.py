"""The search index, built once per knowledge load; nothing is rebuilt per question.

Phrasings become sets of canonical topic words. Each word gets an IDF weight computed over
entries (so an entry with many phrasings does not drown the others). An inverted index of
NumPy arrays finds, for a question, every phrasing that shares a word with it in one
``bincount`` call, which keeps a question's cost proportional to the postings it touches,
not to the size of the knowledge base.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from spellchecker import SpellChecker

from bot.core.knowledge.model import Knowledge
from bot.core.matching.analyzer import Analyzer, Query
from bot.core.matching.lexicon import canonical, is_stopword, split_words
from bot.core.normalize import fold

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Real English words (pyspellchecker's frequency list): never "corrected" as typos.

    Without this, "lunch" would be corrected to "launch" and "coffee" towards "offer".
    """
    dictionary = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(word for word, count in dictionary.items() if count >= 50)


@dataclass(frozen=True)
class Phrasing:
    text: str
    entry: int
    tokens: tuple[str, ...]
    normalized: str


class MatchIndex:
    """Everything the matcher needs, precomputed from one :class:`Knowledge`."""

    def __init__(self, knowledge: Knowledge, role_prior: float = 0.25) -> None:
        self.knowledge = knowledge
        self.analyzer = Analyzer(knowledge)
        self.entry_ids: list[str] = [e.id for e in knowledge.entries]
        self.entry_roles: list[str] = [e.owner for e in knowledge.entries]

        phrasings: list[Phrasing] = []
        surface: dict[str, str] = {}
        for number, entry in enumerate(knowledge.entries):
            for text in entry.questions:
                query = self.analyzer.analyze(text, phrasing=True)
                phrasings.append(Phrasing(text, number, query.tokens, query.normalized))
                for word, token in zip(query.words, query.tokens, strict=True):
                    surface.setdefault(word, token)
        domain: set[str] = set()
        for role in knowledge.roles.values():
            # Words of the role definitions are the domain's words even where no phrasing uses
            # them: a question using them is less likely to be off-topic.
            for text in (*role.responsibilities, *role.key_metrics, *role.skills, role.definition):
                domain.update(canonical(w) for w in split_words(fold(text)) if not is_stopword(w))
        self.domain_tokens = frozenset(domain)
        self.phrasings = phrasings
        self.exact: dict[str, int] = {}
        """A curated phrasing, asked as written (after normalising), is that entry's question."""
        for pid, phrasing in enumerate(phrasings):
            self.exact.setdefault(phrasing.normalized, pid)

        # Document frequency over entries, not phrasings.
        entry_tokens: dict[str, set[int]] = defaultdict(set)
        for phrasing in phrasings:
            for token in phrasing.tokens:
                entry_tokens[token].add(phrasing.entry)
        n_entries = max(len(knowledge.entries), 1)
        self.idf: dict[str, float] = {
            token: math.log(1.0 + (n_entries - len(owners) + 0.5) / (len(owners) + 0.5))
            for token, owners in entry_tokens.items()
        }
        weights = sorted(self.idf.values())
        self.unknown_weight = weights[len(weights) // 2] if weights else 1.0
        """Weight of a question word the knowledge base has never seen (the median IDF)."""

        # Inverted index: token -> (phrasing ids, weights).
        postings: dict[str, list[int]] = defaultdict(list)
        norms = np.zeros(len(phrasings), dtype=np.float32)
        for pid, phrasing in enumerate(phrasings):
            for token in phrasing.tokens:
                postings[token].append(pid)
                norms[pid] += self.idf[token]
        self.postings: dict[str, tuple[IntArray, FloatArray]] = {
            token: (
                np.asarray(ids, dtype=np.int32),
                np.full(len(ids), self.idf[token], dtype=np.float32),
            )
            for token, ids in postings.items()
        }
        self.norms: FloatArray = np.maximum(norms, 1e-6)
        # Entry-level postings: an entry's vocabulary is the union of its phrasings' words,
        # so a question worded unlike any single phrasing still finds its entry.
        self.entry_postings: dict[str, tuple[IntArray, FloatArray]] = {
            token: (
                np.asarray(sorted(owners), dtype=np.int32),
                np.full(len(owners), self.idf[token], dtype=np.float32),
            )
            for token, owners in entry_tokens.items()
        }
        self.phrasing_entry: IntArray = np.asarray([p.entry for p in phrasings], dtype=np.int32)
        self.phrasing_strings: list[str] = [" ".join(p.tokens) for p in phrasings]
        # Each word's leaning across the roles (smoothed share of the entries using it), so that
        # every word of a question votes, not only those of the best phrasing.
        self.role_ids: list[str] = list(knowledge.roles)
        self.role_lean: dict[str, FloatArray] = {}
        role_of_entry = [self.role_ids.index(role) for role in self.entry_roles]
        for token, owners in entry_tokens.items():
            counts = np.full(len(self.role_ids), role_prior, dtype=np.float32)
            for owner in owners:
                counts[role_of_entry[owner]] += 1.0
            self.role_lean[token] = counts / counts.sum()
        # Off-topic words (single canonical tokens, or two-token phrases) -> topic number.
        self.off_topic_words: dict[tuple[str, ...], int] = {}
        for number, topic in enumerate(knowledge.off_topic):
            for phrase in topic.words:
                key = tuple(canonical(w) for w in split_words(phrase))
                if key:
                    self.off_topic_words[key] = number
        self.surface = surface
        self._surface_words = [w for w in surface if len(w) >= 4]
        self._corrections: dict[str, str | None] = {}
        english_words()  # load the word list now, not on the first question

    # ---------------------------------------------------------------- per question
    def analyze(self, text: str) -> Query:
        return self.analyzer.analyze(text)

    def resolve(self, query: Query) -> list[tuple[str, str | None]]:
        """Each topic word and the indexed token it stands for (``None``: unknown)."""
        resolved: list[tuple[str, str | None]] = []
        for word, token in zip(query.words, query.tokens, strict=True):
            if word.startswith("?") and token not in self.postings:
                continue  # a question kind no phrasing uses: no evidence either way
            if token in self.postings:
                resolved.append((word, token))
            elif word in self.surface and self.surface[word] in self.postings:
                resolved.append((word, self.surface[word]))
            else:
                resolved.append((word, self._correct(word)))
        return resolved

    def _correct(self, word: str) -> str | None:
        """A typo's intended knowledge-base word, or ``None``. Real English words stay put."""
        if word in self._corrections:
            return self._corrections[word]
        token: str | None = None
        if len(word) >= 4 and word not in english_words() and not word.isdigit():
            limit = 1 if len(word) < 8 else 2
            found = process.extractOne(
                word, self._surface_words, scorer=DamerauLevenshtein.distance, score_cutoff=limit
            )
            if found is not None:
                candidate = self.surface[found[0]]
                token = candidate if candidate in self.postings else None
        if len(self._corrections) < 50_000:
            self._corrections[word] = token
        return token

    def role_evidence(self, tokens: list[str], query_weight: float) -> FloatArray:
        """Per role: the share of the question's weight that leans to it."""
        evidence = np.zeros(len(self.role_ids), dtype=np.float32)
        for token in tokens:
            evidence += self.idf[token] * self.role_lean[token]
        return evidence / np.float32(max(query_weight, 1e-6))

    def off_topic(self, query: Query) -> int | None:
        """The off-topic topic a question's words point to, if any."""
        if not self.off_topic_words:
            return None
        tokens = query.tokens
        subject = query.subject
        for size in (2, 1):
            for start in range(len(tokens) - size + 1):
                if subject and subject.intersection(tokens[start : start + size]):
                    continue  # "the Fenwyx podcast project": what the project is about
                window = tokens[start : start + size]
                topic = self.off_topic_words.get(window)
                if topic is None and window[-1].endswith("s") and len(window[-1]) > 3:
                    # An acronym's plural ("NDAs") is not stemmed: try its singular.
                    topic = self.off_topic_words.get((*window[:-1], window[-1][:-1]))
                if topic is not None:
                    return topic
        return None

    def entry_scores(self, tokens: list[str]) -> FloatArray:
        """Matched weight per entry (over the union of the entry's phrasings)."""
        if not tokens:
            return np.zeros(len(self.entry_ids), dtype=np.float32)
        ids = np.concatenate([self.entry_postings[t][0] for t in tokens])
        weights = np.concatenate([self.entry_postings[t][1] for t in tokens])
        matched = np.bincount(ids, weights=weights, minlength=len(self.entry_ids))
        return matched.astype(np.float32, copy=False)

    def scores(self, tokens: list[str]) -> tuple[FloatArray, FloatArray]:
        """Matched weight per phrasing for the given known tokens, and the phrasing norms."""
        if not tokens:
            return np.zeros(len(self.phrasings), dtype=np.float32), self.norms
        ids = np.concatenate([self.postings[t][0] for t in tokens])
        weights = np.concatenate([self.postings[t][1] for t in tokens])
        matched = np.bincount(ids, weights=weights, minlength=len(self.phrasings))
        return matched.astype(np.float32, copy=False), self.norms
