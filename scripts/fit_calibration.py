"""Fit the calibrated decision: bot/core/matching/calibration.json (lexical features) and,
when the semantic extra is installed, calibration-semantic.json (with its features too).

    .venv/bin/pip install -e ".[fit,semantic]" && .venv/bin/python scripts/fit_calibration.py

Deterministic (fixed folds and seeds). The labelled examples are, never the holdout:

* the tuning set ``tests/eval/questions.yaml`` (out-of-scope questions are always wrong to answer);
* the FAQ's own phrasings, each asked against an index built without it (ten folds of
  phrasings), and again against an index built without its whole entry (ten folds of entries):
  realistic right, wrong and half-covered questions;
* the off-topic lexicon, each word asked as an ownership question: always wrong to answer;
* Slack-style variants of both (``bot/core/matching/augment.py``: greetings, invented names,
  tickets, links, mentions, emoji, capitals, no "who", typos, a second language's word order),
  asked the same way, so that the decision learns such noise is neutral. A variant keeps the
  label of its phrasing.

A logistic regression, with the sign of each evidence feature fixed (more of the score,
margin, coverage or agreeing evidence never lowers the confidence; off-topic words, unknown
words and disagreeing cues never raise it), is fitted with five-fold cross-validation (a
phrasing and its variants always in the same fold); the out-of-fold confidences of all
examples (the tuning set weighed more, a phrasing's variants together as much as the phrasing)
choose, for each operator target ``ROLEBOT_MAX_WRONG_RATE``, the lowest cut-off that kept
wrong answers (wrong role, or out of scope answered, over all answered) at or under it (the
median over five shuffles of the folds). It
prints, per kind of example, how the cross-validated decision did at the default target.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.model_selection import StratifiedGroupKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.knowledge import Knowledge, load_knowledge  # noqa: E402
from bot.core.matching import Matcher  # noqa: E402
from bot.core.matching.augment import variants  # noqa: E402
from bot.core.matching.calibration import (  # noqa: E402
    CALIBRATION_FILE,
    EVIDENCE_AGAINST,
    EVIDENCE_FOR,
    FEATURES,
    SEMANTIC_CALIBRATION_FILE,
    SEMANTIC_FEATURES,
    Calibration,
)
from bot.core.matching.semantic import SemanticIndex  # noqa: E402
from bot.evaluation import load_cases  # noqa: E402

FOLDS = 10
TUNING_WEIGHT = 64.0
"""The tuning set is worded as people write; the FAQ's phrasings are easier. Weigh it more (as
much, against the FAQ's phrasings and their variants, as it weighed against the phrasings alone)."""
RATES = (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 1.0)
MIN_ANSWERED = 25
VARIANTS = 2
"""Slack-style variants asked per FAQ phrasing and per off-topic question."""
SEED = 11
CV_SEEDS = (7, 17, 27, 37, 47)
"""Shuffles of the five-fold cross-validation; cut-offs are their median."""

C = 4.0
"""Inverse regularisation strength, as scikit-learn's LogisticRegression takes it."""

Row = tuple[list[float], int, str]
"""Features, whether the top role is right, and the question the row derives from (its group)."""


class SignedLogistic:
    """L2-regularised logistic regression (scikit-learn's objective) whose coefficients keep
    the sign their feature's meaning gives them (``EVIDENCE_FOR``, ``EVIDENCE_AGAINST``): a linear
    decision that cannot learn "less coverage, more confidence" from a quirk of the data."""

    def __init__(self, features: tuple[str, ...], c: float = C) -> None:
        self.features = features
        self.c = c
        self.coef_ = np.zeros((1, len(features)))
        self.intercept_ = np.zeros(1)

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray) -> SignedLogistic:
        n = x.shape[1]

        def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = p[:n], p[n]
            z = x @ w + b
            log_loss = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
            value = self.c * float(np.sum(sample_weight * log_loss)) + 0.5 * float(w @ w)
            residual = self.c * sample_weight * (1 / (1 + np.exp(-z)) - y)
            return value, np.concatenate([x.T @ residual + w, [residual.sum()]])

        bounds = [
            (0.0, None)
            if f in EVIDENCE_FOR
            else (None, 0.0)
            if f in EVIDENCE_AGAINST
            else (None, None)
            for f in self.features
        ] + [(None, None)]
        found = minimize(
            loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 10_000},
        )  # fmt: skip
        self.coef_ = found.x[:n].reshape(1, -1)
        self.intercept_ = found.x[n:]
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(x @ self.coef_[0] + self.intercept_[0])))
        return np.stack([1 - p, p], axis=1)


def matcher_for(knowledge: Knowledge, semantic: bool) -> Matcher:
    """A matcher that only measures (neutral coefficients), with the semantic index of the
    same knowledge when fitting the semantic coefficients."""
    if not semantic:
        return Matcher(knowledge, calibration=Calibration.neutral())
    index = SemanticIndex.build(knowledge)
    assert index is not None
    return Matcher(knowledge, calibration=Calibration.neutral(SEMANTIC_FEATURES), semantic=index)


def examples(matcher: Matcher, questions: list[tuple[str, str]], noisy: bool = False) -> list[Row]:
    """(features, top role is right, group) for every question the calibrated decision sees;
    ``noisy``: its Slack-style variants instead of the questions themselves."""
    rows = []
    for source, expect in questions:
        for text in variants(source, VARIANTS, SEED) if noisy else [source]:
            result = matcher.match(text)
            if not result.features or result.best is None or not result.query.asks_owner:
                continue
            rows.append((list(result.features), int(result.best.role == expect), source))
    return rows


def without(knowledge: Knowledge, drop_phrasings: set[str], drop_entries: set[str]) -> Knowledge:
    entries = []
    for entry in knowledge.entries:
        if entry.id in drop_entries:
            continue
        kept = tuple(q for q in entry.questions if q not in drop_phrasings)
        if kept:
            entries.append(replace(entry, questions=kept))
    return replace(knowledge, entries=tuple(entries))


def faq_examples(knowledge: Knowledge, semantic: bool, noisy: bool) -> list[Row]:
    rows: list[Row] = []
    phrasings = [(q, e.owner) for e in knowledge.entries for q in e.questions]
    for fold in range(FOLDS):
        held = [(q, owner) for n, (q, owner) in enumerate(phrasings) if n % FOLDS == fold]
        matcher = matcher_for(without(knowledge, {q for q, _ in held}, set()), semantic)
        rows += examples(matcher, held, noisy)
    for fold in range(FOLDS):
        entries = [e for n, e in enumerate(knowledge.entries) if n % FOLDS == fold]
        matcher = matcher_for(without(knowledge, set(), {e.id for e in entries}), semantic)
        rows += examples(matcher, [(q, e.owner) for e in entries for q in e.questions], noisy)
    return rows


def off_topic_examples(knowledge: Knowledge, matcher: Matcher, noisy: bool) -> list[Row]:
    templates = ("who owns the {}?", "who should i ask about {}")
    questions = [
        (template.format(word), "none")
        for topic in knowledge.off_topic
        for n, word in enumerate(topic.words)
        for template in templates[n % 2 :][:1]
    ]
    return examples(matcher, questions, noisy)


def cutoffs(
    probabilities: np.ndarray, right: np.ndarray, weight: np.ndarray
) -> list[tuple[float, float]]:
    """Per target rate, the lowest cut-off whose answers (weighted as fitted) kept to it."""
    order = np.argsort(-probabilities, kind="stable")
    table = []
    for rate in RATES:
        chosen = 1.0
        wrong = answered = 0.0
        for i in order:
            answered += weight[i]
            wrong += weight[i] * (not right[i])
            if answered >= MIN_ANSWERED and wrong / answered <= rate:
                chosen = float(probabilities[i])
        table.append((rate, round(chosen, 6)))
    return table


def main() -> int:
    fit(semantic=False)
    if SemanticIndex.build(load_knowledge(ROOT / "knowledge")) is None:
        print("the semantic extra is not installed: calibration-semantic.json left as it is")
    else:
        fit(semantic=True)
    return 0


def fit(semantic: bool) -> None:
    knowledge = load_knowledge(ROOT / "knowledge")
    matcher = matcher_for(knowledge, semantic)
    features = SEMANTIC_FEATURES if semantic else FEATURES
    target = SEMANTIC_CALIBRATION_FILE if semantic else CALIBRATION_FILE
    tuning = [(c.question, c.expect) for c in load_cases(ROOT / "tests/eval/questions.yaml")]
    # A plain "PM" is settled before the decision (clarified), not by it: no example here.
    tuning = [(q, e) for q, e in tuning if e != "clarify"]
    sets = {
        "tuning": examples(matcher, tuning),
        "faq": faq_examples(knowledge, semantic, noisy=False),
        "faq_slack": faq_examples(knowledge, semantic, noisy=True),
        "off_topic": off_topic_examples(knowledge, matcher, noisy=False),
        "off_topic_slack": off_topic_examples(knowledge, matcher, noisy=True),
    }
    x = np.asarray([f for rows in sets.values() for f, _, _ in rows], dtype=np.float64)
    y = np.asarray([label for rows in sets.values() for _, label, _ in rows], dtype=np.int64)
    group_names = [f"{name}:{g}" for name, rows in sets.items() for *_, g in rows]
    group_names = [g.replace("faq_slack:", "faq:").replace("_slack:", ":") for g in group_names]
    groups = np.unique(np.asarray(group_names), return_inverse=True)[1]
    source = np.asarray([name for name, rows in sets.items() for _ in rows])
    weight = np.where(source == "tuning", TUNING_WEIGHT, 1.0)
    # A phrasing's variants together weigh as much as the phrasing itself.
    weight = np.where(np.char.endswith(source.astype(str), "_slack"), 1.0 / VARIANTS, weight)
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    z = (x - mean) / scale

    def model() -> SignedLogistic:
        return SignedLogistic(features)

    strata = np.asarray([f"{s}:{label}" for s, label in zip(source, y, strict=True)])
    # The cross-validation is repeated with other shuffles and each target's cut-off is the
    # median over the repeats: one shuffle's cut-off moves with a handful of examples.
    repeats = []
    for seed in CV_SEEDS:
        out_of_fold = np.zeros(len(y))
        folds = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
        for train, test in folds.split(z, strata, groups):
            fitted = model().fit(z[train], y[train], sample_weight=weight[train])
            out_of_fold[test] = fitted.predict_proba(z[test])[:, 1]
        repeats.append(out_of_fold)
    final = model().fit(z, y, sample_weight=weight)
    tables = [cutoffs(oof, y.astype(bool), weight) for oof in repeats]
    table = [(rate, round(float(np.median([dict(t)[rate] for t in tables])), 6)) for rate in RATES]
    out_of_fold = np.mean(repeats, axis=0)
    is_tuning = source == "tuning"
    print(
        "tuning-only cut-offs:",
        cutoffs(out_of_fold[is_tuning], y[is_tuning].astype(bool), weight[is_tuning]),
    )
    data = {
        "fitted_by": "scripts/fit_calibration.py",
        "examples": {name: len(rows) for name, rows in sets.items()},
        "features": list(features),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in final.coef_[0]],
        "intercept": round(float(final.intercept_[0]), 6),
        "cutoffs": table,
    }
    target.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}: {data['examples']}")
    for name, value in zip(features, final.coef_[0], strict=True):
        print(f"  {name:<16}{value:+.3f}")
    print("cut-offs (max wrong rate -> confidence):", table)
    cut = dict(table)[0.01]
    print(f"cross-validated decision at the default target (cut-off {cut}):")
    for name in sets:
        mask = source == name
        answered = out_of_fold[mask] >= cut
        right = y[mask].astype(bool)
        wrong = int((answered & ~right).sum())
        print(
            f"  {name:<16}{mask.sum():6d} asked  answered right {(answered & right).mean():6.1%}"
            f"  (top role right {right.mean():6.1%})  wrong {wrong} of {int(answered.sum())}"
        )
    for name in sets:
        mask = source == name
        bins = np.clip((out_of_fold[mask] * 10).astype(int), 0, 9)
        print(f"{name}: {mask.sum()} examples, {y[mask].mean():.1%} right")
        for b in range(10):
            sel = bins == b
            if sel.any():
                print(
                    f"  {b / 10:.1f}-{(b + 1) / 10:.1f}  n={sel.sum():5d}  "
                    f"conf={out_of_fold[mask][sel].mean():.3f}  acc={y[mask][sel].mean():.3f}"
                )


if __name__ == "__main__":
    raise SystemExit(main())
