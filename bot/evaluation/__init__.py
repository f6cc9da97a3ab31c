"""Measuring answer quality on a labelled question set.

A set is YAML: ``questions: [{q: "...", expect: <role id> | none | clarify}]``. The report gives
in-scope accuracy, the wrong-answer rate (answers with the wrong role plus out-of-scope questions
answered, over every question answered), out-of-scope rejection, the close-call rate, a
reliability table (does a confidence of 0.9 come true nine times in ten?), a confusion matrix
per role, and every miss.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.engine import Engine
from bot.core.knowledge.model import ROLE_IDS
from bot.errors import KnowledgeError, Problem

EXPECT_OTHER = ("none", "clarify")
COLUMNS = (*ROLE_IDS, "close_call", "clarify", "unanswered")
_SHORT = {
    "product_manager": "product",
    "program_manager": "program",
    "project_manager": "project",
    "technical_program_manager": "tpm",
    "close_call": "close",
    "clarify": "clarify",
    "unanswered": "none",
    "none": "none",
}


@dataclass(frozen=True)
class Case:
    question: str
    expect: str
    line: int = 0
    source: str = ""


@dataclass(frozen=True)
class Outcome:
    case: Case
    outcome: str
    role: str | None
    entry_id: str | None
    score: float
    roles: tuple[str, ...]
    confidence: float = 0.0
    top_role: str | None = None
    """The role rolebot leaned to, answered or not (``None`` when it had none)."""

    @property
    def column(self) -> str:
        return self.role if self.outcome == "answered" and self.role else self.outcome

    @property
    def correct(self) -> bool:
        if self.case.expect == "none":
            return self.outcome == "unanswered"
        if self.case.expect == "clarify":
            return self.outcome == "clarify"
        return self.outcome == "answered" and self.role == self.case.expect


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.expect in ROLE_IDS]

    @property
    def in_scope(self) -> int:
        return len(self._in_scope())

    @property
    def out_of_scope(self) -> int:
        return sum(o.case.expect == "none" for o in self.outcomes)

    @property
    def accuracy(self) -> float:
        cases = self._in_scope()
        return _ratio(sum(o.correct for o in cases), len(cases))

    def _scored(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.expect != "clarify"]

    @property
    def answered(self) -> int:
        """Questions answered with a role, in scope or not ("PM" clarifications aside)."""
        return sum(o.outcome == "answered" for o in self._scored())

    @property
    def wrong(self) -> int:
        """Answered with the wrong role, or answered although out of scope."""
        return sum(o.outcome == "answered" and not o.correct for o in self._scored())

    @property
    def wrong_rate(self) -> float:
        return _ratio(self.wrong, self.answered)

    @property
    def rejection(self) -> float:
        cases = [o for o in self.outcomes if o.case.expect == "none"]
        return _ratio(sum(o.correct for o in cases), len(cases))

    @property
    def close_call_rate(self) -> float:
        cases = self._in_scope()
        return _ratio(sum(o.outcome == "close_call" for o in cases), len(cases))

    @property
    def clarify_accuracy(self) -> float:
        cases = [o for o in self.outcomes if o.case.expect == "clarify"]
        return _ratio(sum(o.correct for o in cases), len(cases))

    @property
    def clarify_cases(self) -> int:
        return sum(o.case.expect == "clarify" for o in self.outcomes)

    def confusion(self) -> dict[str, Counter[str]]:
        matrix: dict[str, Counter[str]] = {}
        for outcome in self.outcomes:
            matrix.setdefault(outcome.case.expect, Counter())[outcome.column] += 1
        return matrix

    def reliability(self, bins: int = 10) -> list[tuple[float, float, int, float, float]]:
        """Per confidence bin: (low, high, count, mean confidence, share whose top role was
        right), over every question that had a top role (out-of-scope ones are never right)."""
        rows = []
        scored = [o for o in self._scored() if o.top_role is not None]
        for number in range(bins):
            low, high = number / bins, (number + 1) / bins
            inside = [
                o
                for o in scored
                if low <= o.confidence < high or (number == bins - 1 and o.confidence >= 1.0)
            ]
            if not inside:
                continue
            mean = sum(o.confidence for o in inside) / len(inside)
            right = sum(o.top_role == o.case.expect for o in inside) / len(inside)
            rows.append((low, high, len(inside), mean, right))
        return rows

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def summary(self) -> dict[str, float | int]:
        return {
            "questions": len(self.outcomes),
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "accuracy": round(self.accuracy, 4),
            "answered": self.answered,
            "wrong": self.wrong,
            "wrong_rate": round(self.wrong_rate, 4),
            "rejection": round(self.rejection, 4),
            "close_call_rate": round(self.close_call_rate, 4),
            "clarify_accuracy": round(self.clarify_accuracy, 4),
        }


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def load_cases(path: Path) -> list[Case]:
    """Read a labelled set; every problem is reported at once, with its line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise KnowledgeError(
            [
                Problem(
                    str(path), mark.line + 1 if mark else None, None, None, f"not valid YAML: {exc}"
                )
            ]
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise KnowledgeError(
            [Problem(str(path), 1, None, "questions", "expected a mapping with a 'questions' list")]
        )
    lines = [n.start_mark.line + 1 for n in _questions_nodes(root)]
    allowed = (*ROLE_IDS, *EXPECT_OTHER)
    problems: list[Problem] = []
    cases: list[Case] = []
    for index, item in enumerate(data["questions"]):
        line = lines[index] if index < len(lines) else None
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            problems.append(
                Problem(str(path), line, f"#{index}", "q", "each item needs a text 'q'")
            )
            continue
        expect = item.get("expect")
        if expect not in allowed:
            problems.append(
                Problem(
                    str(path),
                    line,
                    f"#{index}",
                    "expect",
                    f"unknown expectation '{expect}'",
                    f"use one of: {', '.join(allowed)}",
                )
            )
            continue
        cases.append(Case(item["q"], str(expect), line or 0, str(path)))
    if problems:
        raise KnowledgeError(problems)
    return cases


def _questions_nodes(root: yaml.Node | None) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "questions" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


def evaluate(engine: Engine, cases: Iterable[Case]) -> Report:
    report = Report()
    for case in cases:
        answer = engine.ask(case.question)
        result = answer.result
        top = result.roles[0] if result.kind == "definition" and result.roles else None
        if top is None and result.best is not None:
            top = result.best.role
        report.outcomes.append(
            Outcome(
                case,
                result.outcome,
                result.role,
                result.entry_id,
                result.score,
                result.roles,
                result.confidence,
                top,
            )
        )
    return report


def format_report(report: Report, title: str = "", show_misses: bool = True) -> str:
    lines: list[str] = []
    if title:
        lines.append(title)
    lines += [
        f"questions          {len(report.outcomes)} "
        f"({report.in_scope} in scope, {report.out_of_scope} out of scope, "
        f"{report.clarify_cases} ambiguous 'PM')",
        f"{'in-scope accuracy':<22}{report.accuracy:7.1%}",
        f"{'wrong answers':<22}{report.wrong_rate:7.1%}  "
        f"({report.wrong} of {report.answered} answered: wrong role or out of scope)",
        f"{'out-of-scope rejected':<22}{report.rejection:7.1%}",
        f"{'close calls':<22}{report.close_call_rate:7.1%}",
        f"{'plain PM clarified':<22}{report.clarify_accuracy:7.1%}",
        "",
        "reliability (confidence that the top role is right, against how often it was)",
        f"{'confidence':<12}{'questions':>10}{'mean conf':>11}{'right':>9}",
    ]
    for low, high, count, mean, right in report.reliability():
        lines.append(f"{low:.1f}-{high:.1f}     {count:>10}{mean:>11.3f}{right:>9.1%}")
    lines += [
        "",
        "confusion (rows: expected; columns: what rolebot did)",
    ]
    matrix = report.confusion()
    header = "expected  " + "".join(f"{_SHORT[c]:>9}" for c in COLUMNS)
    lines.append(header)
    for expect in (*ROLE_IDS, *EXPECT_OTHER):
        if expect not in matrix:
            continue
        row = matrix[expect]
        lines.append(f"{_SHORT[expect]:<10}" + "".join(f"{row.get(c, 0):>9}" for c in COLUMNS))
    if show_misses:
        misses = report.misses()
        lines += ["", f"misses ({len(misses)})"]
        for miss in misses:
            did = (
                miss.column
                if miss.outcome != "close_call"
                else "close:" + "/".join(_SHORT[r] for r in miss.roles)
            )
            where = f"{Path(miss.case.source).name}:{miss.case.line}" if miss.case.line else ""
            lines.append(
                f"  {where:<22} expected {_SHORT[miss.case.expect]:<8} got {did:<22} "
                f"{miss.score:5.1f}  {_clip(miss.case.question)}"
            )
    return "\n".join(lines)


def _clip(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def default_set() -> Path:
    return Path("tests/eval/questions.yaml")


def entries_route_to_themselves(engine: Engine) -> Sequence[tuple[str, str, str | None]]:
    """Phrasings that, asked as written, do not route to their own entry (and where they went)."""
    failures: list[tuple[str, str, str | None]] = []
    for entry in engine.knowledge.entries:
        for phrasing in entry.questions:
            result = engine.ask(phrasing).result
            if result.outcome != "answered" or result.entry_id != entry.id:
                failures.append((phrasing, entry.id, result.entry_id or result.outcome))
    return failures
