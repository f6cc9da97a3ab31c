"""Grouping near-duplicate questions, so curators see what people ask most.

Pure functions over :class:`~bot.store.interface.LoggedQuestion` (no database). Each question is
reduced to its topic words (the matcher's own stopwords dropped, words stemmed, order ignored),
so "who owns the SSO rollout?" and "who's in charge of the sso rollouts" are the same question.
Two topics are alike when at least half of all their words are shared (Jaccard), a word
counting as shared when RapidFuzz finds a near-identical one on the other side (typos forgiven).
Topics join the group of the most alike earlier, more asked topic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz

from bot.core.matching.lexicon import canonical, is_stopword, split_words
from bot.core.normalize import normalize
from bot.store.interface import LoggedQuestion, QuestionGroup

DEFAULT_SIMILARITY = 50.0
"""0-100: the share of topic words two questions must have in common to be one question."""
WORD_SIMILARITY = 85.0
"""0-100: RapidFuzz ratio at which two words count as the same word ("rolout", "rollout")."""


def topic_key(text: str) -> str:
    """The words that say what a question is about, stemmed, sorted, without duplicates."""
    folded = normalize(text)
    words = {canonical(w) for w in split_words(folded) if not is_stopword(w)}
    return " ".join(sorted(words)) or folded


def similarity(first: str, second: str) -> float:
    """0-100: shared words over all words of two topic keys (near-identical words count)."""
    left, right = first.split(), second.split()
    if not left or not right:
        return 100.0 if left == right else 0.0
    shared = sum(
        1
        for word in left
        if word in right or any(fuzz.ratio(word, other) >= WORD_SIMILARITY for other in right)
    )
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
    leaders: list[str] = []
    clusters: list[list[LoggedQuestion]] = []
    index: defaultdict[str, set[int]] = defaultdict(set)  # word prefix -> leaders
    for topic in topics:
        candidates = set().union(*(index[w[:3]] for w in topic.split()))
        scored = [(similarity(topic, leaders[i]), -i) for i in candidates]
        best = max(scored, default=None)
        if best is not None and best[0] >= threshold:
            clusters[-best[1]].extend(by_topic[topic])
            continue
        for word in topic.split():
            index[word[:3]].add(len(leaders))
        leaders.append(topic)
        clusters.append(list(by_topic[topic]))
    groups = [
        _group(by_topic[leader], members) for leader, members in zip(leaders, clusters, strict=True)
    ]
    groups.sort(key=lambda g: (-g.count, -_latest(g.members)))
    return groups[:limit] if limit is not None else groups


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
