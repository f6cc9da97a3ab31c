"""Grouping near-duplicate questions, so curators see what people ask most.

Pure functions over :class:`~bot.store.interface.LoggedQuestion` (no database). Each question is
reduced to its topic words (the matcher's own stopwords dropped, words stemmed, order ignored),
so "who owns the SSO rollout?" and "who's in charge of the sso rollouts" are the same question.
Two topics are alike when at least half of all their words are shared (Jaccard), a word
counting as shared when RapidFuzz finds a near-identical one on the other side (typos forgiven).
Topics join the group of the most alike earlier, more asked topic.

The work is bounded whatever people type: a topic keeps its first :data:`MAX_TOPIC_WORDS`
words, and two topics are compared word by word only when their words' three-letter prefixes
overlap enough for them to reach the threshold at all (counted for all topics at once with
NumPy over an inverted index of prefixes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.matching.lexicon import canonical, is_stopword, split_words
from bot.core.normalize import normalize
from bot.store.interface import LoggedQuestion, QuestionGroup

DEFAULT_SIMILARITY = 50.0
"""0-100: the share of topic words two questions must have in common to be one question."""
WORD_SIMILARITY = 85.0
"""0-100: RapidFuzz ratio at which two words count as the same word ("rolout", "rollout")."""
MAX_TOPIC_WORDS = 32
"""Topic words kept per question (the first ones): a question's subject comes early, and a
pasted essay must not make grouping slow."""
_PREFIX = 3


def topic_key(text: str) -> str:
    """The words that say what a question is about, stemmed, sorted, without duplicates
    (at most :data:`MAX_TOPIC_WORDS`, the first ones asked)."""
    # Twice as many words as kept: enough to hold that many topic words between stopwords.
    folded = normalize(" ".join(text.split()[: MAX_TOPIC_WORDS * 2]))
    words: dict[str, None] = {}
    for raw in folded.split():
        for word in split_words(raw):
            if not is_stopword(word):
                words[canonical(word)] = None
        if len(words) >= MAX_TOPIC_WORDS:
            break
    return " ".join(sorted(words)) or folded


def similarity(first: str, second: str) -> float:
    """0-100: shared words over all words of two topic keys (near-identical words count)."""
    return _similarity(first.split(), second.split())


def _similarity(left: Sequence[str], right: Sequence[str]) -> float:
    if not left or not right:
        return 100.0 if list(left) == list(right) else 0.0
    others = set(right)
    rest = [word for word in left if word not in others]
    shared = len(left) - len(rest)
    if rest:
        scores = process.cdist(
            rest, list(right), scorer=fuzz.ratio, score_cutoff=WORD_SIMILARITY, dtype=np.uint8
        )
        shared += int(np.count_nonzero(scores.max(axis=1)))
    return 100.0 * shared / (len(left) + len(right) - shared)


def group_questions(
    questions: Iterable[LoggedQuestion],
    *,
    threshold: float = DEFAULT_SIMILARITY,
    limit: int | None = None,
) -> list[QuestionGroup]:
    """Groups, most asked first (then most recently asked); members newest first."""
    by_topic: dict[str, list[LoggedQuestion]] = {}
    for question in questions:
        by_topic.setdefault(topic_key(question.normalized or question.text), []).append(question)
    # The most asked topics lead, so each group is named after its most common wording.
    topics = sorted(by_topic, key=lambda t: (-len(by_topic[t]), -_latest(by_topic[t])))
    words = [topic.split() for topic in topics]
    overlaps = _PrefixOverlap(words)
    sizes = np.array([len(w) for w in words], dtype=np.float64)
    # shared / (left + right - shared) >= t / 100  <=>  shared >= t (left + right) / (100 + t)
    need = threshold / (100.0 + threshold)
    is_leader = np.zeros(len(topics), dtype=bool)
    cluster_of: list[int] = []
    clusters: list[list[LoggedQuestion]] = []
    leaders: list[int] = []
    for index, topic in enumerate(topics):
        best: tuple[float, int] | None = None
        if index:
            hits = overlaps.hits(index)[:index]
            reachable = is_leader[:index] & (hits >= need * (sizes[index] + sizes[:index]) - 1e-9)
            for other in np.flatnonzero(reachable):
                score = _similarity(words[index], words[other])
                if best is None or (score, -other) > (best[0], -best[1]):
                    best = (score, int(other))
        if best is not None and best[0] >= threshold:
            cluster = cluster_of[best[1]]
            clusters[cluster].extend(by_topic[topic])
            cluster_of.append(cluster)
            continue
        is_leader[index] = True
        cluster_of.append(len(clusters))
        leaders.append(index)
        clusters.append(list(by_topic[topic]))
    groups = [
        _group(by_topic[topics[leader]], members)
        for leader, members in zip(leaders, clusters, strict=True)
    ]
    groups.sort(key=lambda g: (-g.count, -_latest(g.members)))
    return groups[:limit] if limit is not None else groups


class _PrefixOverlap:
    """For one topic, how many of its words share a prefix with each other topic: at least as
    many as the words the two can share (a near-identical word keeps its first letters)."""

    def __init__(self, topics: Sequence[Sequence[str]]) -> None:
        self._prefixes: list[Counter[str]] = [Counter([w[:_PREFIX] for w in t]) for t in topics]
        postings: dict[str, list[int]] = {}
        for index, prefixes in enumerate(self._prefixes):
            for prefix in prefixes:
                postings.setdefault(prefix, []).append(index)
        self._postings = {p: np.array(ids, dtype=np.int64) for p, ids in postings.items()}
        self._size = len(topics)

    def hits(self, index: int) -> np.ndarray:
        prefixes = self._prefixes[index]
        if not prefixes:
            return np.zeros(self._size)
        arrays = [self._postings[p] for p in prefixes]
        weights = np.repeat(
            np.fromiter(prefixes.values(), dtype=np.float64, count=len(prefixes)),
            [len(a) for a in arrays],
        )
        return np.bincount(np.concatenate(arrays), weights=weights, minlength=self._size)


def _group(leading: Sequence[LoggedQuestion], members: Sequence[LoggedQuestion]) -> QuestionGroup:
    ordered = tuple(sorted(members, key=lambda q: (q.created_at.timestamp(), q.id), reverse=True))
    # Named by the most common wording of the leading topic (the latest asking of it).
    wordings = Counter(q.normalized for q in leading)
    representative = max(
        leading, key=lambda q: (wordings[q.normalized], q.created_at.timestamp(), q.id)
    )
    return QuestionGroup(representative=representative, members=ordered)


def _latest(questions: Iterable[LoggedQuestion]) -> float:
    return max(q.created_at.timestamp() for q in questions)
