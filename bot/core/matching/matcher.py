"""Deciding who owns a question: answered, close call, clarify, or unanswered.

A wrong role is worse than no answer, so the matcher answers only when one role is clearly
ahead and the question is well explained. A candidate entry's score combines (see
:class:`Tuning`):

* lexical coverage: how much of the question the entry's vocabulary explains, and how
  completely the question contains its best phrasing (unknown words count against it);
* fuzzy similarity (rapidfuzz) between the two word lists, which rewards near-identical wording;
* role evidence: every word's leaning to each role, learned from the FAQ itself. Question-kind
  cues (*why*/whether, *decide*, *how*, *when*) are words here too, so they weigh as evidence,
  never as an override;
* domain coverage, and a penalty for words of the off-topic lexicon.

A role's score is its best entry's plus a share of its second best; the best role must reach
the answer threshold and lead every other role by the close-call margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from bot.config import Thresholds
from bot.core.knowledge.model import Knowledge
from bot.core.matching.analyzer import Query
from bot.core.matching.calibration import FEATURES, Calibration, load_calibration
from bot.core.matching.index import MatchIndex, english_words
from bot.core.matching.lexicon import canonical
from bot.core.matching.semantic import SemanticIndex

Outcome = Literal["answered", "close_call", "unanswered", "clarify"]
Kind = Literal["faq", "definition", "none"]

EXACT_CONFIDENCE = 0.99
"""A curated phrasing asked as written: its entry's role, as curated."""
HOLDER_CONFIDENCE = 0.97
"""A role asked for by name ("who is our TPM for X", "what does a TPM do?")."""
MAX_INEXACT_SCORE = 99.0
"""Scores of 100 mean a curated phrasing asked as written; anything else stays below."""

MAX_SEMANTIC_CHARS = 2000
"""The semantic index sees at most this much of a question (as the matcher does)."""

TOP_PHRASINGS = 40
"""Phrasings refined with rapidfuzz after the vectorised pass."""
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Tuning:
    """How a candidate's score (0-100) is composed. Fixed in code, chosen on the tuning set;
    the answer threshold and close-call margin are configuration."""

    entry_share: float = 0.1
    """How much of the question the entry's whole vocabulary explains."""
    phrasing_share: float = 0.25
    """How completely the question contains the best phrasing."""
    fuzzy_share: float = 0.15
    """rapidfuzz similarity of the two word lists."""
    role_share: float = 0.65
    """Role evidence: the question's words' learned leaning to the entry's role."""
    coverage_share: float = 0.1
    """How much of the question the knowledge base's vocabulary covers at all."""
    second_entry_share: float = 0.2
    """A role's score adds this share of its second-best entry: evidence spread over several
    entries of one role makes that role likelier; scattered evidence does not."""
    off_topic_penalty: float = 25.0
    """Points off when the question uses a word of the curated off-topic lexicon."""
    unknown_factor: float = 0.8
    """Weight of an unknown ordinary English word, relative to a typical known word."""
    name_unknown_factor: float = 0.2
    """Weight of an unknown jargon word ("okta"): usually the thing asked about. Names, ids and
    links (capitalised inside a sentence, "PAY-142", URLs) weigh nothing: neutral evidence."""
    domain_unknown_factor: float = 0.3
    """Weight of an unknown word that the role definitions use."""
    role_prior: float = 2.0
    """Smoothing of each word's role leaning: a word few entries use leans only weakly."""


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    role: str
    score: float
    phrasing: str


@dataclass(frozen=True)
class MatchResult:
    """What the matcher concluded about one question."""

    outcome: Outcome
    query: Query
    kind: Kind = "faq"
    candidates: tuple[Candidate, ...] = ()
    """Best candidate per entry, best first (at most five)."""
    roles: tuple[str, ...] = ()
    """answered: the role; close_call: the competing roles; clarify: the roles it could mean."""
    unknown_words: tuple[str, ...] = field(default=())
    confidence: float = 0.0
    """The calibrated chance that the top role is right (0 when there is no candidate role)."""
    features: tuple[float, ...] = ()
    """What the calibrated decision saw (see :data:`calibration.FEATURES`); empty when it
    did not decide (an exact phrasing, a definition, a clarification)."""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def role(self) -> str | None:
        return self.roles[0] if self.outcome == "answered" and self.roles else None

    @property
    def entry_id(self) -> str | None:
        if self.outcome == "answered" and self.kind == "faq" and self.best is not None:
            return self.best.entry_id
        return None

    @property
    def score(self) -> float:
        return self.best.score if self.best is not None else 0.0


class Matcher:
    """Matches questions against one knowledge base. Immutable: reload by building another."""

    def __init__(
        self,
        knowledge: Knowledge,
        thresholds: Thresholds | None = None,
        tuning: Tuning | None = None,
        calibration: Calibration | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        """``semantic``: the optional second opinion; its features then join the calibrated
        decision, with the coefficients fitted for them. Without it rolebot decides on the
        lexical features alone, with their own coefficients."""
        self.knowledge = knowledge
        self.thresholds = thresholds or Thresholds()
        self.tuning = tuning or Tuning()
        self.index = MatchIndex(knowledge, self.tuning.role_prior)
        self.semantic = semantic
        self.calibration: Calibration = calibration or load_calibration(semantic is not None)
        self.cutoff = self.calibration.cutoff(self.thresholds.max_wrong_rate)
        """The confidence an answer needs, from the operator's ``max_wrong_rate``."""

    def match(self, text: str) -> MatchResult:
        query = self.index.analyze(text)
        exact = self.index.exact.get(query.normalized)
        if exact is None and all(t.startswith("?") for t in query.tokens):
            return self._without_topic(query)
        ranked_info = self._rank(query)
        candidates, unknown = ranked_info.candidates, ranked_info.unknown
        if exact is not None:
            return self._exact(query, exact, candidates, unknown)
        off_topic = ranked_info.off_topic
        if query.asks_ambiguous and not _topic(query):
            # "Who's the PM for Orbit?": it asks who holds a title three roles share, and
            # nothing but a name says which one is meant. ("Who's the PM for the roadmap?"
            # has a topic: the decision weighs it.)
            return self._unsettled(query, candidates, unknown, off_topic)
        if query.holder is not None and not off_topic:
            # "Who is the product owner for the mobile app?": the role asked for is the answer.
            return MatchResult(
                "answered",
                query,
                "definition",
                tuple(candidates[: MAX_CANDIDATES - 1]),
                (query.holder,),
                unknown,
                HOLDER_CONFIDENCE,
            )
        thresholds = self.thresholds
        ranked = self._by_role(candidates)
        if not ranked:
            return self._unsettled(query, candidates, unknown, off_topic)
        (role, score, best), *others = ranked
        shown = (replace(best, score=score), *[c for c in candidates if c is not best])
        shown = shown[:MAX_CANDIDATES]
        rival = others[0] if others else None
        values = self._features(query, ranked_info, ranked)
        confidence = self.calibration.probability(np.asarray(values, dtype=np.float64))
        if not query.asks_owner:
            # "what's the product of 7 and 8?", "is standup at 3 pm?": nobody is asked for, so
            # no role is the answer, however well a word matches.
            unsettled = self._unsettled(query, shown, unknown, off_topic)
            return replace(unsettled, confidence=0.0, features=values)
        if confidence >= self.cutoff:
            return MatchResult(
                "answered", query, "faq", shown, (role,), unknown, confidence, values
            )
        if (
            rival is not None
            and score >= thresholds.answer
            and rival[1] >= score - thresholds.margin
        ):
            if query.ambiguous and not query.roles and not off_topic:
                # "Can a PM help me with ...": when the topic does not settle which PM, ask.
                return MatchResult(
                    "clarify", query, "none", shown, query.ambiguous, unknown, confidence, values
                )
            return MatchResult(
                "close_call", query, "faq", shown, (role, rival[0]), unknown, confidence, values
            )
        unsettled = self._unsettled(query, shown, unknown, off_topic)
        return replace(unsettled, confidence=confidence, features=values)

    def _features(
        self,
        query: Query,
        info: _Ranking,
        ranked: list[tuple[str, float, Candidate]],
    ) -> tuple[float, ...]:
        """The calibrated decision's inputs, in the order of :data:`FEATURES`."""
        role, score, best = ranked[0]
        rival_score = ranked[1][1] if len(ranked) > 1 else 0.0
        same_role = [c for c in info.candidates if c.role == role]
        second = same_role[1].score if len(same_role) > 1 else 0.0
        detail = info.details.get(best.entry_id, (0.0, 0.0))
        evidence = info.role_evidence
        number = self.index.role_ids.index(role)
        lead = float(evidence[number]) - max(
            (float(v) for n, v in enumerate(evidence) if n != number), default=0.0
        )
        named = query.roles
        scope = _scope(query)
        values = {
            "score": score / 100,
            "margin": (score - rival_score) / 100,
            "entry_score": best.score / 100,
            "second_entry": second / 100,
            "coverage": info.coverage,
            "phrasing_cover": detail[0],
            "entry_cover": detail[1],
            "role_evidence": float(evidence[number]),
            "role_lead": lead,
            "off_topic": 1.0 if info.off_topic else 0.0,
            "unknown_words": math.log1p(info.unknown_ordinary),
            "neutral_words": math.log1p(info.neutral),
            "known_words": math.log1p(info.known),
            "asks_owner": 1.0 if query.asks_owner else 0.0,
            "named_agrees": 1.0 if role in named else 0.0,
            "named_disagrees": 1.0 if named and role not in named else 0.0,
            "ambiguous": 1.0 if query.ambiguous else 0.0,
            "kind_why": 1.0 if "why" in query.kinds else 0.0,
            "kind_decide": 1.0 if "decide" in query.kinds else 0.0,
            "kind_how": 1.0 if "how" in query.kinds else 0.0,
            "kind_when": 1.0 if "when" in query.kinds else 0.0,
            "length": math.log1p(query.length),
            "top_product": 1.0 if role == "product_manager" else 0.0,
            "top_program": 1.0 if role == "program_manager" else 0.0,
            "top_project": 1.0 if role == "project_manager" else 0.0,
            "scope_agrees": 1.0 if role in _SCOPE_ROLES.get(scope, ()) else 0.0,
            "scope_disagrees": 1.0 if scope and role not in _SCOPE_ROLES[scope] else 0.0,
        }
        lexical = tuple(round(values[name], 6) for name in FEATURES)
        if self.semantic is None:
            return lexical
        return lexical + self._semantic_features(query.text, role, best.entry_id)

    def _semantic_features(self, text: str, role: str, entry_id: str) -> tuple[float, ...]:
        """What the semantic index says of the top role; neutral zeros when the text has no
        vector (emoji, markup)."""
        assert self.semantic is not None
        view = self.semantic.view(text[:MAX_SEMANTIC_CHARS], 1)
        if not view.hits:
            return (0.0, 0.0, 0.0, 0.0)
        support = view.support(role)
        return (
            round(support if support is not None else 0.0, 6),
            round(view.role_scores.get(role, 0.0), 6),
            1.0 if view.hits[0].role == role else 0.0,
            round(view.entry_scores.get(entry_id, 0.0), 6),
        )

    def _by_role(self, candidates: list[Candidate]) -> list[tuple[str, float, Candidate]]:
        """Each role's score and best candidate, best role first."""
        per_role: dict[str, list[Candidate]] = {}
        for candidate in candidates:
            per_role.setdefault(candidate.role, []).append(candidate)
        share = self.tuning.second_entry_share
        scored = []
        for role, found in per_role.items():
            score = found[0].score + (share * found[1].score if len(found) > 1 else 0.0)
            scored.append((role, round(min(MAX_INEXACT_SCORE, score), 1), found[0]))
        return sorted(scored, key=lambda item: -item[1])

    def _unsettled(
        self,
        query: Query,
        candidates: Sequence[Candidate],
        unknown: tuple[str, ...],
        off_topic: bool = False,
    ) -> MatchResult:
        """Not answered: "which PM do you mean?" when a plain "PM" is all that is unsettled,
        else unanswered. An off-topic question ("who runs the PM schedule for the HVAC?",
        "who's the PM of the UK? debating at lunch") is declined, not clarified: no PM owns it."""
        if query.ambiguous and not query.roles and not off_topic:
            return MatchResult(
                "clarify", query, "none", tuple(candidates), query.ambiguous, unknown
            )
        return MatchResult(
            "unanswered", query, "faq", tuple(candidates)[:MAX_CANDIDATES], (), unknown
        )

    # ------------------------------------------------------------------ internals
    def _exact(
        self, query: Query, pid: int, ranked: list[Candidate], unknown: tuple[str, ...]
    ) -> MatchResult:
        index = self.index
        entry = int(index.phrasing_entry[pid])
        best = Candidate(
            index.entry_ids[entry], index.entry_roles[entry], 100.0, index.phrasings[pid].text
        )
        others = [c for c in ranked if c.entry_id != best.entry_id][: MAX_CANDIDATES - 1]
        return MatchResult(
            "answered", query, "faq", (best, *others), (best.role,), unknown, EXACT_CONFIDENCE
        )

    def _without_topic(self, query: Query) -> MatchResult:
        """No topic words: a question about a role itself ("what does a TPM do?")."""
        named = sorted(query.roles, key=list(self.knowledge.roles).index)
        if len(named) == 1:
            return MatchResult(
                "answered", query, "definition", (), (named[0],), (), HOLDER_CONFIDENCE
            )
        if len(named) > 1:
            return MatchResult("clarify", query, "definition", (), tuple(named))
        if query.ambiguous:
            return MatchResult("clarify", query, "none", (), query.ambiguous)
        return MatchResult("unanswered", query, "none")

    def _rank(self, query: Query) -> _Ranking:
        index = self.index
        tuning = self.tuning
        resolved = index.resolve(query)
        known = list(dict.fromkeys(token for _, token in resolved if token is not None))
        unknown = tuple(word for word, token in resolved if token is None)
        neutral = sum(word in query.neutral for word in unknown)
        ordinary = sum(word in english_words() and word not in query.neutral for word in unknown)
        query_weight = sum(index.idf[t] for t in known)
        for word in unknown:
            query_weight += index.unknown_weight * self._unknown_factor(word, query)
        off_topic = index.off_topic(query) is not None
        empty_evidence = np.zeros(len(index.role_ids), dtype=np.float32)
        if not known or query_weight <= 0:
            return _Ranking([], unknown, {}, 0.0, off_topic, ordinary, neutral, 0, empty_evidence)
        # How much of the question each entry's vocabulary explains.
        entry_cover = index.entry_scores(known) / np.float32(query_weight)
        # How completely the question contains each phrasing.
        matched, norms = index.scores(known)
        phrasing_cover = matched / norms
        phrasing_query = matched / np.float32(query_weight)
        role_evidence = index.role_evidence(known, query_weight)
        role_number = {role: n for n, role in enumerate(index.role_ids)}
        penalty = tuning.off_topic_penalty if off_topic else 0.0
        coverage = sum(index.idf[t] for t in known) / query_weight
        lexical = np.sqrt(phrasing_cover * phrasing_query)
        count = min(TOP_PHRASINGS, len(lexical))
        top = (
            np.argpartition(-lexical, count - 1)[:count]
            if count < len(lexical)
            else (np.arange(len(lexical)))
        )
        query_string = " ".join(t for _, t in resolved if t is not None)
        best_per_entry: dict[int, tuple[float, int]] = {}
        for pid in top.tolist():
            if float(lexical[pid]) <= 0.0:
                continue
            entry = int(index.phrasing_entry[pid])
            similarity = fuzz.token_sort_ratio(query_string, index.phrasing_strings[pid]) / 100
            role = float(role_evidence[role_number[index.entry_roles[entry]]])
            blend = (
                tuning.entry_share * float(entry_cover[entry])
                + tuning.phrasing_share * float(phrasing_cover[pid])
                + tuning.fuzzy_share * similarity
                + tuning.role_share * role
                + tuning.coverage_share * coverage
            )
            score = 100 * blend - penalty
            # 100 is kept for a curated phrasing asked as written.
            score = max(0.0, min(MAX_INEXACT_SCORE, score))
            if entry not in best_per_entry or score > best_per_entry[entry][0]:
                best_per_entry[entry] = (score, pid)
        ranked = sorted(best_per_entry.items(), key=lambda item: -item[1][0])
        candidates = [
            Candidate(
                entry_id=index.entry_ids[entry],
                role=index.entry_roles[entry],
                score=round(score, 1),
                phrasing=index.phrasings[pid].text,
            )
            for entry, (score, pid) in ranked
        ]
        details = {
            index.entry_ids[entry]: (
                min(1.0, float(phrasing_cover[pid])),
                min(1.0, float(entry_cover[entry])),
            )
            for entry, (_, pid) in ranked[:MAX_CANDIDATES]
        }
        return _Ranking(
            candidates,
            unknown,
            details,
            float(coverage),
            off_topic,
            ordinary,
            neutral,
            len(known),
            role_evidence,
        )

    def _unknown_factor(self, word: str, query: Query) -> float:
        """Unknown ordinary English words weigh fully (a topic rolebot does not cover);
        jargon ("okta") weighs less: it is usually the thing asked about. Names, ids and links
        weigh nothing."""
        tuning = self.tuning
        if word in query.neutral:
            return 0.0
        if canonical(word) in self.index.domain_tokens:
            return tuning.domain_unknown_factor
        if word in english_words():
            return tuning.unknown_factor
        return tuning.name_unknown_factor


_SCOPE_ROLES: dict[str, tuple[str, ...]] = {
    "one": ("project_manager",),
    "many": ("program_manager", "technical_program_manager"),
    "engineering": ("technical_program_manager",),
}
"""Which roles a question's scope points to: one project, several projects or departments,
engineering across teams."""
_MANY = frozenset(
    canonical(w)
    for w in "program programs projects departments teams initiative workstream".split()
)
"""Scope nouns that name several projects or departments ("cross team" reads "teams"; "the X
initiative" is a program's)."""
_SINGULAR_SCOPE = frozenset(canonical(w) for w in "project team department".split())
_SCOPE_NOUNS = _MANY | _SINGULAR_SCOPE
_ENGINEERING = frozenset(
    canonical(w)
    for w in "engineering engineers backend frontend api architecture infrastructure platform "
    "microservices services technical devops migration integration sdk firmware hardware "
    "cloud ios android database sre embedded".split()
)


def _topic(query: Query) -> list[str]:
    """The question's topic words: not its kind, names, or a bare scope noun."""
    return [
        w
        for w, t in zip(query.words, query.tokens, strict=True)
        if not t.startswith("?") and w not in query.neutral and t not in _SCOPE_NOUNS
    ]


def _scope(query: Query) -> str:
    """The scope a question names: "one" project, "many" projects or departments,
    "engineering" across teams, or "" when it names none. A name is not a scope cue, except as
    one: "Ledgerly Teams" is a product, "the Orbit Project" is still one project."""
    words = {
        t
        for w, t in zip(query.words, query.tokens, strict=True)
        if w not in query.neutral or t in _SINGULAR_SCOPE
    }
    many = bool(words & _MANY) or query.departments >= 2
    if many and words & _ENGINEERING:
        return "engineering"
    if many:
        return "many"
    if "project" in words:
        return "one"
    return ""


@dataclass(frozen=True)
class _Ranking:
    """Candidates and what was measured on the way, for the calibrated decision."""

    candidates: list[Candidate]
    unknown: tuple[str, ...]
    details: dict[str, tuple[float, float]]
    """Per shown entry: how completely its best phrasing is matched, how much of the question
    its vocabulary explains."""
    coverage: float
    off_topic: bool
    unknown_ordinary: int
    neutral: int
    known: int
    role_evidence: npt.NDArray[np.float32]


__all__ = ["Candidate", "MatchResult", "Matcher", "Outcome", "Tuning"]
