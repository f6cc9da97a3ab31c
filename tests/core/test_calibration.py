"""The committed calibration: its shape, and how an operator's target becomes a cut-off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.config import ConfigError, Settings, Thresholds
from bot.core.matching.calibration import (
    CALIBRATION_FILE,
    EVIDENCE_AGAINST,
    EVIDENCE_FOR,
    FEATURES,
    SEMANTIC_CALIBRATION_FILE,
    SEMANTIC_FEATURES,
    Calibration,
    load_calibration,
)


@pytest.mark.parametrize(
    ("path", "features"),
    [(CALIBRATION_FILE, FEATURES), (SEMANTIC_CALIBRATION_FILE, SEMANTIC_FEATURES)],
)
def test_the_committed_coefficients_fit_the_features(path: Path, features: tuple[str, ...]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert tuple(data["features"]) == features
    for key in ("mean", "scale", "coef"):
        assert len(data[key]) == len(features)
    assert all(s > 0 for s in data["scale"])
    assert data["fitted_by"] == "scripts/fit_calibration.py"


@pytest.mark.parametrize("path", [CALIBRATION_FILE, SEMANTIC_CALIBRATION_FILE])
def test_more_evidence_never_lowers_the_confidence(path: Path) -> None:
    """Each evidence feature's coefficient has the sign its meaning gives it: the decision
    cannot have learned "less coverage, more confidence" from a quirk of the examples."""
    data = json.loads(path.read_text(encoding="utf-8"))
    coef = dict(zip(data["features"], data["coef"], strict=True))
    assert set(SEMANTIC_FEATURES) >= EVIDENCE_FOR and set(FEATURES) >= EVIDENCE_AGAINST
    assert {f: c for f, c in coef.items() if f in EVIDENCE_FOR and c < 0} == {}
    assert {f: c for f, c in coef.items() if f in EVIDENCE_AGAINST and c > 0} == {}
    assert coef["score"] > 0 and coef["margin"] > 0  # the match itself carries the decision


def test_a_stricter_target_never_lowers_the_cut_off() -> None:
    calibration = load_calibration()
    rates = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1]
    cuts = [calibration.cutoff(rate) for rate in rates]
    assert cuts == sorted(cuts, reverse=True)
    assert 0.5 < calibration.cutoff(0.01) < 1.0


def test_confidence_is_a_logistic_of_the_standardised_features() -> None:
    calibration = Calibration(
        ("a", "b"),
        np.array([1.0, 0.0]),
        np.array([2.0, 1.0]),
        np.array([1.0, -1.0]),
        0.5,
        ((0.01, 0.9),),
    )
    assert calibration.probability(np.array([1.0, 0.0])) == pytest.approx(1 / (1 + np.exp(-0.5)))
    assert calibration.probability(np.array([5.0, 0.0])) == pytest.approx(1 / (1 + np.exp(-2.5)))
    assert calibration.probability(np.array([1.0, 1e9])) == 0.0
    assert calibration.cutoff(0.001) == 1.0  # a target no fitted cut-off met: answer nothing
    assert calibration.cutoff(0.01) == 0.9


def test_features_fitted_for_another_version_are_refused() -> None:
    data = json.loads(CALIBRATION_FILE.read_text())
    data["features"] = data["features"][:-1]
    with pytest.raises(ValueError, match=r"fit_calibration\.py"):
        Calibration.from_dict(data)


def test_the_target_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"ROLEBOT_MAX_WRONG_RATE": "0.02"}, dotenv_path=None)
    assert settings.thresholds.max_wrong_rate == 0.02
    assert Settings.from_env({}, dotenv_path=None).thresholds.max_wrong_rate == 0.01
    with pytest.raises(ConfigError, match="ROLEBOT_MAX_WRONG_RATE"):
        Settings.from_env({"ROLEBOT_MAX_WRONG_RATE": "2"}, dotenv_path=None)
    with pytest.raises(ConfigError, match="ROLEBOT_MAX_WRONG_RATE"):
        Thresholds(max_wrong_rate=-0.1)
