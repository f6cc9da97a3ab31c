"""The calibrated decision: how likely the top role is right, from what the matcher measured.

A logistic regression over a few features of the match (the score, the margin to the next role,
how much of the question is explained, unknown and off-topic evidence, the question's kind,
named roles, length). Its coefficients are fitted offline by ``scripts/fit_calibration.py``
(cross-validated, on the tuning set and on examples derived from the FAQ itself) and committed
as ``calibration.json`` beside this module; at run time they are a dot product with NumPy.

The same file holds, for a range of operator targets, the confidence cut-off that kept the
wrong-answer rate (wrong role or out-of-scope answered, over all answered) at or under the target
in cross-validation: ``ROLEBOT_MAX_WRONG_RATE`` picks one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

FEATURES: tuple[str, ...] = (
    "score",
    "margin",
    "entry_score",
    "second_entry",
    "coverage",
    "phrasing_cover",
    "entry_cover",
    "role_evidence",
    "role_lead",
    "off_topic",
    "unknown_words",
    "neutral_words",
    "known_words",
    "asks_owner",
    "named_agrees",
    "named_disagrees",
    "ambiguous",
    "kind_why",
    "kind_decide",
    "kind_how",
    "kind_when",
    "length",
    "top_product",
    "top_program",
    "top_project",
    "scope_agrees",
    "scope_disagrees",
)
"""Feature names, in the order of the coefficient vector."""

SEMANTIC_FEATURES: tuple[str, ...] = (
    *FEATURES,
    "semantic_support",
    "semantic_role_cosine",
    "semantic_nearest_agrees",
    "semantic_entry_cosine",
)
"""With the semantic index: what its nearest phrasings say about the top role (its best
cosine minus the best other role's, its best cosine, whether the nearest phrasing is of that
role, the cosine of the lexical best entry)."""

EVIDENCE_FOR: frozenset[str] = frozenset(
    "score margin entry_score second_entry coverage phrasing_cover entry_cover role_evidence "
    "role_lead named_agrees scope_agrees semantic_support semantic_role_cosine "
    "semantic_nearest_agrees semantic_entry_cosine".split()
)
"""Evidence for the top role: fitted with a coefficient that is never negative, so more of it
never lowers the confidence."""
EVIDENCE_AGAINST: frozenset[str] = frozenset(
    "off_topic unknown_words named_disagrees scope_disagrees".split()
)
"""Evidence against the top role: fitted with a coefficient that is never positive."""

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
SEMANTIC_CALIBRATION_FILE = Path(__file__).with_name("calibration-semantic.json")


@dataclass(frozen=True)
class Calibration:
    """Committed coefficients: standardise, dot, logistic."""

    features: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]
    intercept: float
    cutoffs: tuple[tuple[float, float], ...]
    """(max wrong rate, confidence cut-off), by increasing rate."""

    @classmethod
    def from_dict(
        cls, data: dict[str, object], expected: tuple[str, ...] = FEATURES
    ) -> Calibration:
        features = tuple(str(f) for f in data["features"])  # type: ignore[attr-defined]
        if features != expected:
            raise ValueError(
                "the calibration file was fitted on other features; "
                "rerun scripts/fit_calibration.py"
            )
        cutoffs = tuple(
            (float(rate), float(cut))
            for rate, cut in data["cutoffs"]  # type: ignore[attr-defined]
        )
        return cls(
            features,
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),  # type: ignore[arg-type]
            tuple(sorted(cutoffs)),
        )

    @classmethod
    def neutral(cls, features: tuple[str, ...] = FEATURES) -> Calibration:
        """Confidence 0.5 for everything: what a refit starts from."""
        zeros = np.zeros(len(features))
        return cls(features, zeros, np.ones(len(features)), zeros, 0.0, ((1.0, 0.5),))

    def probability(self, values: npt.NDArray[np.float64]) -> float:
        z = float(np.dot((values - self.mean) / self.scale, self.coef)) + self.intercept
        if z < -40.0:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def cutoff(self, max_wrong_rate: float) -> float:
        """The lowest confidence that kept wrong answers at or under the rate when fitted."""
        chosen = 1.0
        for rate, cut in self.cutoffs:
            if rate <= max_wrong_rate + 1e-9:
                chosen = cut
        return chosen


@lru_cache(maxsize=2)
def load_calibration(semantic: bool = False) -> Calibration:
    """The committed coefficients: lexical only, or with the semantic index's features."""
    path = SEMANTIC_CALIBRATION_FILE if semantic else CALIBRATION_FILE
    expected = SEMANTIC_FEATURES if semantic else FEATURES
    return Calibration.from_dict(json.loads(path.read_text(encoding="utf-8")), expected)
