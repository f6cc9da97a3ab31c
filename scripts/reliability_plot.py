"""Draw the reliability plot of the calibrated decision on the holdout set (never tuned on).

    .venv/bin/pip install -e ".[fit]" && .venv/bin/python scripts/reliability_plot.py

Writes docs/reliability.png: per confidence bin, how often the top role was right.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.engine import Engine  # noqa: E402
from bot.evaluation import evaluate, load_cases  # noqa: E402


def main() -> int:
    engine = Engine(ROOT / "knowledge")
    path = ROOT / "tests/eval/holdout.yaml"
    report = evaluate(engine, load_cases(path))
    rows = report.reliability(bins=5)  # few questions sit mid-range: wider bins, less noise
    figure, axes = plt.subplots(figsize=(5.5, 4.5), dpi=110)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.plot([r[3] for r in rows], [r[4] for r in rows], color="tab:blue", label="rolebot")
    axes.scatter(
        [r[3] for r in rows], [r[4] for r in rows], s=[20 + 2 * r[2] for r in rows], zorder=3
    )
    for _, _, count, mean, right in rows:
        axes.annotate(str(count), (mean, right), textcoords="offset points", xytext=(4, -12))
    axes.axvline(engine.matcher.cutoff, color="tab:red", linewidth=1, label="answer cut-off (1 %)")
    axes.text(0.02, 0.55, "bins of 0.2; point size and label: questions", fontsize=8)
    axes.set_xlabel("confidence (mean per bin)")
    axes.set_ylabel("top role right (share)")
    axes.set_title(f"Reliability on {path.name} ({len(report.outcomes)} questions)")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    out = ROOT / "docs/reliability.png"
    out.parent.mkdir(exist_ok=True)
    figure.savefig(out)
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
