"""Golden cases: expected scores kept in a file beside the rubric they test.

A case file (``<name>.cases.yaml``) names its rubric and lists cases::

    rubric: dept-overall-2023.yaml          # relative to this file
    base_inputs_file: ../../examples/daxiang-emergency-2023/inputs.yaml   # or base_inputs: {...}
    cases:
      - name: 在职人员控制率恰为100%不扣分
        inputs: {staff_actual: 18}          # merged over the base inputs (or inputs_file)
        expect:
          total: 90
          grade: 良好
          scores: {staff_control: 5}
          status: {sangong_control: not_applicable}
        tolerance: 0.01                     # optional, absolute; default exact
      - name: 缺少必填项报错
        inputs: {staff_actual: null}
        expect: {error: input.missing}      # an issue code instead of a result
      - name: 自评完成及时率给满分
        inputs: {claimed: {timeliness: 6}}  # a review case: the inputs carry claims
        expect:
          findings:                         # all and only the findings its review has
            - {indicator: timeliness, kind: over_claimed}

Use :func:`run_case_file` / :func:`run_paths` from code, ``perfscore test`` on the command
line, or plain ``pytest`` (the bundled plugin collects ``*.cases.yaml`` files).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from perfscore._numbers import to_str
from perfscore.engine import CompiledRubric, compile_rubric
from perfscore.errors import Issue, Location, PerfscoreError, RubricValidationError
from perfscore.i18n import msg
from perfscore.loading import SourceMap, load_document, load_rubric
from perfscore.results import IndicatorResult, ScoreResult
from perfscore.review import FINDING_KINDS, ReviewResult

__all__ = [
    "CaseFile",
    "CaseResult",
    "Failure",
    "GoldenCase",
    "assert_cases_pass",
    "discover_case_files",
    "format_explanation",
    "junit_xml",
    "load_case_file",
    "run_case",
    "run_case_file",
    "run_paths",
]

CASE_SUFFIXES = (".cases.yaml", ".cases.yml", ".cases.json")
_CASE_KEYS = {"name", "inputs", "inputs_file", "expect", "tolerance", "description"}
_EXPECT_KEYS = {"total", "grade", "scores", "status", "error", "findings"}


@dataclass(frozen=True)
class GoldenCase:
    """One named case: inputs and what scoring them must give."""

    name: str
    inputs: Mapping[str, Any]
    file: str
    line: int | None
    total: Decimal | None = None
    grade: str | None = None
    scores: Mapping[str, Decimal] = field(default_factory=dict)
    status: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    tolerance: Decimal = Decimal(0)
    #: For a review case: the (indicator, kind) pairs its review must find, all and only.
    findings: tuple[tuple[str, str], ...] | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class CaseFile:
    """A case file: its path, the rubric it tests (compiled) and its cases."""

    path: Path
    rubric_path: Path
    rubric: CompiledRubric
    cases: tuple[GoldenCase, ...]


@dataclass(frozen=True)
class Failure:
    """One expectation not met: what (``total``, ``grade``, ``score``, ``status``,
    ``error``), for which indicator, expected and actual."""

    what: str
    expected: str
    actual: str
    indicator: str | None = None

    def __str__(self) -> str:
        target = f"indicator {self.indicator}: " if self.indicator else ""
        return f"{target}{self.what}: expected {self.expected}, got {self.actual}"


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    case: GoldenCase
    failures: tuple[Failure, ...]
    result: ScoreResult | None = None
    error: PerfscoreError | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> str:
        """A failure report: file, case, each failed expectation, and the explanations."""
        if self.passed:
            return f"{self.case.where}: {self.case.name}: ok"
        lines = [f"{self.case.where}: case {self.case.name!r} failed:"]
        lines.extend(f"  {f}" for f in self.failures)
        if self.result is not None:
            shown = {f.indicator for f in self.failures if f.indicator}
            if not shown:
                shown = {n.id for n in self.result.leaves if n.score != n.effective_weight}
            for node in self.result.indicators:
                if node.id in shown:
                    lines.append(format_explanation(node, indent="  "))
        if self.error is not None:
            lines.append("  error raised:")
            lines.extend("    " + line for line in str(self.error).splitlines())
        return "\n".join(lines)


def format_explanation(node: IndicatorResult, indent: str = "") -> str:
    """Why ``node`` scored what it did, as indented text."""
    head = (
        f"{indent}{node.id} ({node.name}): {to_str(node.score)} / "
        f"{to_str(node.effective_weight)} [{node.status.value}]"
    )
    lines = [head]
    explanation = node.explanation
    if explanation is not None:
        for name, value in explanation.values.items():
            shown = "—" if value is None else to_str(value) if isinstance(value, Decimal) else value
            lines.append(f"{indent}  {name} = {shown}")
        for step in explanation.steps:
            points = (
                f"  ({'+' if step.points > 0 else ''}{to_str(step.points)})" if step.points else ""
            )
            lines.append(f"{indent}  - {step.text}{points}")
    return "\n".join(lines)


def _problem(
    file: str, source: SourceMap | None, path: tuple[Any, ...], message: dict[str, Any]
) -> Issue:
    location = source.locate(path) if source else Location(file=file, path=path)
    return Issue.of("case.invalid", location, message=message)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def load_case_file(path: str | Path) -> CaseFile:
    """Read a case file and the rubric it names. Raises :class:`PerfscoreError` listing
    every problem of the file."""
    path = Path(path)
    data, source = load_document(path)
    file = str(path)
    issues: list[Issue] = []
    if not isinstance(data, dict):
        raise RubricValidationError([_problem(file, source, (), msg("case.file_shape"))])
    unknown = set(data) - {"rubric", "base_inputs", "base_inputs_file", "cases", "description"}
    for key in sorted(unknown):
        issues.append(_problem(file, source, (key,), msg("case.file_key", key=repr(key))))
    rubric_ref = data.get("rubric")
    if not isinstance(rubric_ref, str):
        raise RubricValidationError(
            [
                *issues,
                _problem(
                    file,
                    source,
                    ("rubric",),
                    msg("case.rubric"),
                ),
            ]
        )
    rubric_path = (path.parent / rubric_ref).resolve()
    base: dict[str, Any] = {}
    if "base_inputs_file" in data:
        loaded, _ = load_document(path.parent / str(data["base_inputs_file"]))
        if isinstance(loaded, dict):
            base.update(loaded)
        else:
            issues.append(_problem(file, source, ("base_inputs_file",), msg("case.base_inputs")))
    if isinstance(data.get("base_inputs"), dict):
        base.update(data["base_inputs"])
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        issues.append(_problem(file, source, ("cases",), msg("case.cases")))
        raw_cases = []
    cases: list[GoldenCase] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_cases):
        case = _parse_case(raw, i, base, path, source, issues)
        if case is not None:
            if case.name in names:
                issues.append(
                    _problem(
                        file,
                        source,
                        ("cases", i, "name"),
                        msg("case.name_twice", name=repr(case.name)),
                    )
                )
            names.add(case.name)
            cases.append(case)
    if issues:
        raise RubricValidationError(issues)
    rubric = compile_rubric(load_rubric(rubric_path))
    return CaseFile(path, rubric_path, rubric, tuple(cases))


def _parse_case(
    raw: Any, i: int, base: Mapping[str, Any], path: Path, source: SourceMap, issues: list[Issue]
) -> GoldenCase | None:
    file = str(path)
    where = ("cases", i)
    if not isinstance(raw, dict):
        issues.append(_problem(file, source, where, msg("case.shape")))
        return None
    for key in sorted(set(raw) - _CASE_KEYS):
        issues.append(_problem(file, source, (*where, key), msg("case.key", key=repr(key))))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        issues.append(_problem(file, source, (*where, "name"), msg("case.name")))
        return None
    inputs = dict(base)
    if "inputs_file" in raw:
        loaded, _ = load_document(path.parent / str(raw["inputs_file"]))
        if isinstance(loaded, dict):
            inputs.update(loaded)
    if "inputs" in raw:
        if not isinstance(raw["inputs"], dict):
            issues.append(_problem(file, source, (*where, "inputs"), msg("case.inputs")))
        else:
            inputs.update(raw["inputs"])
    expect = raw.get("expect")
    if not isinstance(expect, dict) or not expect:
        issues.append(
            _problem(
                file,
                source,
                (*where, "expect"),
                msg("case.expect"),
            )
        )
        return None
    for key in sorted(set(expect) - _EXPECT_KEYS):
        issues.append(
            _problem(file, source, (*where, "expect", key), msg("case.expectation", key=repr(key)))
        )
    total = _decimal(expect["total"]) if "total" in expect else None
    if "total" in expect and total is None:
        issues.append(_problem(file, source, (*where, "expect", "total"), msg("case.total")))
    scores: dict[str, Decimal] = {}
    for key, value in (expect.get("scores") or {}).items():
        number = _decimal(value)
        if number is None:
            issues.append(
                _problem(file, source, (*where, "expect", "scores", key), msg("case.score"))
            )
        else:
            scores[str(key)] = number
    findings: list[tuple[str, str]] | None = None
    if "findings" in expect:
        findings = []
        listed = expect["findings"]
        for k, item in enumerate(listed if isinstance(listed, list) else [None]):
            if (
                not isinstance(item, dict)
                or set(item) != {"indicator", "kind"}
                or item["kind"] not in FINDING_KINDS
            ):
                issues.append(
                    _problem(
                        file,
                        source,
                        (*where, "expect", "findings", k),
                        msg("case.finding_shape", kinds=", ".join(FINDING_KINDS)),
                    )
                )
            else:
                findings.append((str(item["indicator"]), str(item["kind"])))
    tolerance = _decimal(raw.get("tolerance", 0)) or Decimal(0)
    line = source.values.get(where, (None,))[0]
    return GoldenCase(
        name=name,
        inputs=inputs,
        file=file,
        line=None if line is None else line + 1,
        total=total,
        grade=None if expect.get("grade") is None else str(expect["grade"]),
        scores=scores,
        status={str(k): str(v) for k, v in (expect.get("status") or {}).items()},
        error=None if expect.get("error") is None else str(expect["error"]),
        tolerance=tolerance,
        findings=None if findings is None else tuple(findings),
    )


def run_case(rubric: CompiledRubric, case: GoldenCase) -> CaseResult:
    """Score one case and compare with what it expects."""
    failures: list[Failure] = []
    review: ReviewResult | None = None
    try:
        if case.findings is not None:
            review = rubric.review(case.inputs, tolerance=case.tolerance, source=case.where)
            result = review.result
        else:
            result = rubric.score(case.inputs, source=case.where)
    except PerfscoreError as error:
        if case.error is None:
            return CaseResult(
                case, (Failure("error", "a result", ", ".join(error.codes)),), None, error
            )
        if case.error not in error.codes:
            failures.append(Failure("error", case.error, ", ".join(error.codes)))
        return CaseResult(case, tuple(failures), None, error)
    if case.error is not None:
        failures.append(Failure("error", case.error, f"a result (total {to_str(result.total)})"))
    tol = case.tolerance
    if case.total is not None and abs(result.total - case.total) > tol:
        failures.append(Failure("total", to_str(case.total), to_str(result.total)))
    if case.grade is not None and result.grade != case.grade:
        failures.append(Failure("grade", case.grade, result.grade))
    by_id = {n.id: n for n in result.indicators}
    for indicator, expected in case.scores.items():
        node = by_id.get(indicator)
        if node is None:
            failures.append(Failure("score", to_str(expected), "no such indicator", indicator))
        elif abs(node.score - expected) > tol:
            failures.append(Failure("score", to_str(expected), to_str(node.score), indicator))
    for indicator, expected_status in case.status.items():
        node = by_id.get(indicator)
        actual = "no such indicator" if node is None else node.status.value
        if actual != expected_status:
            failures.append(Failure("status", expected_status, actual, indicator))
    if review is not None and case.findings is not None:
        found = [(f.indicator, f.kind) for f in review.findings]
        for indicator, kind in case.findings:
            if (indicator, kind) not in found:
                failures.append(Failure("finding", kind, "not found", indicator))
        for indicator, kind in found:
            if (indicator, kind) not in case.findings:
                failures.append(Failure("finding", "nothing", kind, indicator))
    return CaseResult(case, tuple(failures), result, None)


def run_case_file(path: str | Path) -> list[CaseResult]:
    """Run every case of one case file."""
    case_file = load_case_file(path)
    return [run_case(case_file.rubric, case) for case in case_file.cases]


def discover_case_files(paths: Iterable[str | Path]) -> list[Path]:
    """Case files among ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.name.endswith(CASE_SUFFIXES)))
        else:
            found.append(p)
    return found


def run_paths(paths: Sequence[str | Path]) -> dict[Path, list[CaseResult] | PerfscoreError]:
    """Run every case file under ``paths``; a file that cannot load maps to its error."""
    out: dict[Path, list[CaseResult] | PerfscoreError] = {}
    for path in discover_case_files(paths):
        try:
            out[path] = run_case_file(path)
        except PerfscoreError as error:
            out[path] = error
    return out


def assert_cases_pass(path: str | Path) -> None:
    """Run a case file; raise AssertionError with every failure report if any case fails.

    For a library user's own test suite::

        def test_my_rubric():
            perfscore.testing.assert_cases_pass("rubrics/mine.cases.yaml")
    """
    failed = [r for r in run_case_file(path) if not r.passed]
    if failed:
        raise AssertionError("\n\n".join(r.report() for r in failed))


def junit_xml(results: Mapping[Path, list[CaseResult] | PerfscoreError]) -> str:
    """A JUnit XML report of a run, for CI systems."""
    suites = ET.Element("testsuites")
    for path, outcome in results.items():
        suite = ET.SubElement(suites, "testsuite", name=str(path))
        if isinstance(outcome, PerfscoreError):
            suite.set("tests", "1")
            suite.set("errors", "1")
            case = ET.SubElement(suite, "testcase", name="load", classname=str(path))
            ET.SubElement(case, "error", message="case file failed to load").text = str(outcome)
            continue
        suite.set("tests", str(len(outcome)))
        suite.set("failures", str(sum(not r.passed for r in outcome)))
        for r in outcome:
            case = ET.SubElement(suite, "testcase", name=r.case.name, classname=str(path))
            if not r.passed:
                ET.SubElement(
                    case, "failure", message="; ".join(map(str, r.failures))
                ).text = r.report()
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
