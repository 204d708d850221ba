"""Golden cases: expected scores kept in a file beside the rubric they test.

A case file (``<name>.cases.yaml``) names its rubric and lists cases::

    rubric: dept-overall-2023.yaml          # beside this file, or perfscore:NAME
    base_inputs_file: dept-overall-2023.cases.inputs.yaml  # beside it; or base_inputs: {...}
    cases:
      - name: 在职人员控制率恰为100%不扣分
        inputs: {staff_actual: 18}          # merged over the base inputs (or inputs_file)
        expect:
          total: 90
          grade: 良好
          scores: {staff_control: 5}
          status: {sangong_control: not_applicable}
          values: {staff_control_rate: 94.44} # inputs and derived values
        tolerance: 0.01                     # optional, absolute; default exact
      - name: 缺少必填项报错
        inputs: {staff_actual: null}
        expect: {error: input.missing}      # an issue code instead of a result

Every key is in :data:`FILE_KEYS`, :data:`CASE_KEYS` and :data:`EXPECT_KEYS`; the loader
reports every problem of a file at once (an unknown key with the key it is likely to be,
an indicator, value or grade the rubric does not have), and the problems of the rubric
it names with them.

Use :func:`run_case_file` / :func:`run_paths` from code, ``perfscore test`` on the command
line, or plain ``pytest`` (the bundled plugin collects ``*.cases.yaml`` files).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from perfscore._escape import xml_text
from perfscore._files import FileRefused, confine
from perfscore._numbers import to_str
from perfscore._submission import SECTIONS
from perfscore._suggest import closest
from perfscore.engine import CompiledRubric, compile_rubric
from perfscore.errors import Issue, PathPart, PerfscoreError, RubricValidationError
from perfscore.i18n import tr
from perfscore.loading import SourceMap, load_document, load_rubric
from perfscore.resolvers import (
    SHIPPED_PREFIX,
    Document,
    FolderResolver,
    ShippedResolver,
    check_name,
)
from perfscore.results import IndicatorResult, ScoreResult, Status
from perfscore.review import FINDING_KINDS, ReviewResult

__all__ = [
    "CASE_KEYS",
    "EXPECT_KEYS",
    "FILE_KEYS",
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

#: Every key of a case file, by place, with what it holds: the loader's did-you-mean, the
#: JSON Schema (``perfscore schema cases``) and the reference in docs/golden-cases.md
#: follow these tables.
FILE_KEYS: Final[Mapping[str, str]] = {
    "rubric": "the rubric the cases test: a file beside this one or in the project's "
    "search folders, or a shipped rubric as 'perfscore:NAME' (every reference form "
    "'extends' accepts)",
    "description": "what the cases are about (not checked)",
    "base_inputs": "inputs every case starts from (a mapping of input id to value)",
    "base_inputs_file": "a file of inputs every case starts from, relative to this file; "
    "'base_inputs' is merged over it",
    "cases": "the cases, a non-empty list",
}
CASE_KEYS: Final[Mapping[str, str]] = {
    "name": "the case's name, unique in the file",
    "description": "what the case shows (not checked)",
    "inputs": "inputs merged over the base inputs (null makes an input missing)",
    "inputs_file": "a file of inputs merged over the base inputs, before 'inputs'",
    "expect": "what scoring must give",
    "tolerance": "how far a total, score or value may be from the expected number "
    "(absolute; default 0, exact)",
}
EXPECT_KEYS: Final[Mapping[str, str]] = {
    "total": "the total",
    "grade": "the grade (等次), one of the rubric's grade names",
    "scores": "indicator id -> score (leaves and branches; a row of a row group as "
    "GROUP.ROW, e.g. outputs.1)",
    "status": "indicator id -> scored or not_applicable",
    "values": "input or derived value id -> its value (a number, true/false, text, or "
    "null for no value, e.g. a derived value not applicable)",
    "error": "an issue code scoring must raise instead of giving a result (e.g. input.missing)",
    "findings": "for a review case (its inputs carry claimed:): the findings its review "
    "must give, all and only, each {indicator, kind}; [] for none",
}
STATUSES: Final = tuple(s.value for s in Status)

_PLACES: Final[Mapping[str, Mapping[str, str]]] = {
    "file": FILE_KEYS,
    "case": CASE_KEYS,
    "expect": EXPECT_KEYS,
}

Expected = Decimal | bool | str | None


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
    values: Mapping[str, Expected] = field(default_factory=dict)
    description: str | None = None
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


#: What a case expected or got that is not a value, as the data of a :class:`Failure`
#: holds it; shown from the catalogue, in the language in force.
_NO_INDICATOR: Final = "no such indicator"
_A_RESULT: Final = "a result"
_NOT_FOUND: Final = "not found"
_NOTHING: Final = "nothing"
_NO_VALUE: Final = "no value"
_WORDS: Final = {
    _NO_INDICATOR: "cases.word.no_indicator",
    _A_RESULT: "cases.word.a_result",
    _NOT_FOUND: "cases.word.not_found",
    _NOTHING: "cases.word.nothing",
    _NO_VALUE: "cases.word.no_value",
}
_RESULT_TOTAL: Final = re.compile(r"a result \(total (\S+)\)")


def _word(text: str) -> str:
    """A value as shown, or the catalogue's words for one of the texts above."""
    total = _RESULT_TOTAL.fullmatch(text)
    if total is not None:
        return tr("cases.word.result_total", total=total.group(1))
    key = _WORDS.get(text)
    return tr(key) if key is not None else text


@dataclass(frozen=True)
class Failure:
    """One expectation not met: what (``total``, ``grade``, ``score``, ``status``,
    ``value``, ``error``, ``finding``), for which indicator (or value), expected and
    actual. Written (``str``) in the language in force."""

    what: str
    expected: str
    actual: str
    indicator: str | None = None

    def __str__(self) -> str:
        target = ""
        if self.indicator:
            noun = "cases.target.value" if self.what == "value" else "cases.target.indicator"
            target = tr(noun, id=self.indicator)
        return tr(
            "cases.failure",
            target=target,
            what=tr(f"cases.what.{self.what}"),
            expected=_word(self.expected),
            actual=_word(self.actual),
        )


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
            return tr("cases.report.ok", where=self.case.where, name=self.case.name)
        lines = [tr("cases.report.failed", where=self.case.where, name=self.case.name)]
        lines.extend(f"  {f}" for f in self.failures)
        if self.result is not None:
            shown = {f.indicator for f in self.failures if f.indicator and f.what != "value"}
            if not shown:
                shown = {n.id for n in self.result.leaves if n.score != n.effective_weight}
            for node in self.result.indicators:
                if node.id in shown:
                    lines.append(format_explanation(node, indent="  "))
        if self.error is not None:
            lines.append("  " + tr("cases.report.error_raised"))
            lines.extend("    " + line for line in str(self.error).splitlines())
        return "\n".join(lines)


def format_explanation(node: IndicatorResult, indent: str = "") -> str:
    """Why ``node`` scored what it did, as indented text."""
    head = indent + tr(
        "cases.report.node",
        id=node.id,
        name=node.name,
        score=to_str(node.score),
        weight=to_str(node.effective_weight),
        status=tr(f"status.{node.status.value}"),
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


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class _Problems:
    """Every problem of one case file, each at its place."""

    def __init__(self, file: str, source: SourceMap) -> None:
        self.file, self.source = file, source
        self.issues: list[Issue] = []

    def add(
        self, code: str, path: tuple[PathPart, ...], *, key: bool = False, **params: Any
    ) -> None:
        self.issues.append(Issue.of(code, self.source.locate(path, key=key), **params))

    def suggest(
        self,
        code: str,
        path: tuple[PathPart, ...],
        word: str,
        candidates: Iterable[str],
        *,
        key: bool = False,
        **params: Any,
    ) -> None:
        """An issue whose hint is "did you mean ...?", or lists the candidates."""
        pool = sorted(set(candidates))
        match = closest(word, pool)
        if match is not None:
            hint = tr("suggest.did_you_mean", suggestion=match)
        elif pool and len(pool) <= 12:
            hint = tr("suggest.one_of", options=", ".join(pool))
        else:
            hint = None
        issue = Issue.of(code, self.source.locate(path, key=key), **params)
        self.issues.append(replace(issue, hint=hint))

    def unknown_keys(self, data: Mapping[str, Any], place: str, path: tuple[PathPart, ...]) -> None:
        known = _PLACES[place]
        for key in data:
            if key not in known:
                self.suggest(
                    "case.unknown_key",
                    (*path, key),
                    str(key),
                    known,
                    key=True,
                    key_name=str(key),
                    place=place,
                )

    def mapping(self, data: Mapping[str, Any], key: str, path: tuple[PathPart, ...]) -> bool:
        """Whether ``data[key]`` is a mapping (a problem added when it is not)."""
        if isinstance(data[key], dict):
            return True
        self.add("case.not_mapping", (*path, key), key_name=key)
        return False

    def read_inputs(self, ref: Any, path: tuple[PathPart, ...], here: Path) -> dict[str, Any]:
        """The inputs in the file ``ref`` names, beside the case file and confined as
        ``extends`` is (no absolute path, no ``..``)."""
        if not isinstance(ref, str) or not ref.strip():
            self.add("case.not_text", path, key_name=str(path[-1]))
            return {}
        try:
            named = confine(here.parent, ref, self.source.locate(path))
        except FileRefused as refused:
            self.issues.append(refused.issue)
            return {}
        try:
            loaded, _ = load_document(named)
        except PerfscoreError as error:
            self.issues.extend(error.issues)
            return {}
        if not isinstance(loaded, dict):
            self.add("case.inputs_file", path, ref=ref)
            return {}
        return loaded


def _rubric_file(ref: Any, case_file: Path) -> Path:
    """The rubric file ``ref`` names, found as ``extends`` finds it from a rubric beside
    the case file: ``perfscore:NAME`` among the shipped rubrics, any other name beside the
    case file, then in the search folders of its project (``perfscore.toml``), never above
    the project. LookupError (a sentence) when there is none or the name is refused."""
    if not isinstance(ref, str) or not ref.strip():
        raise LookupError(
            "a reference is a non-empty string such as 'dept-overall-2023.yaml' or "
            "'perfscore:shaoyang/dept-overall-2023'"
        )
    name = ref.strip()
    if name.startswith(SHIPPED_PREFIX):
        document = ShippedResolver().resolve(name, None)
    else:
        try:
            check_name(name)
        except (LookupError, ValueError) as e:
            raise LookupError(str(e.args[0]) if e.args else str(e)) from None
        resolver = FolderResolver.for_file(case_file)
        here = Document("", str(case_file), key=resolver.key_of(case_file))
        document = resolver.resolve(name, here)
    return Path(document.name)


def load_case_file(path: str | Path) -> CaseFile:
    """Read a case file and the rubric it names. Raises :class:`PerfscoreError` listing
    every problem of the file (and of the rubric it names) at once."""
    path = Path(path)
    data, source = load_document(path)
    problems = _Problems(str(path), source)
    if not isinstance(data, dict):
        problems.add("case.not_a_case_file", ())
        raise RubricValidationError(problems.issues)
    problems.unknown_keys(data, "file", ())
    rubric_path: Path | None = None
    compiled: CompiledRubric | None = None
    if "rubric" not in data:
        problems.add("case.missing", (), key_name="rubric")
    else:
        ref = data["rubric"]
        try:
            rubric_path = _rubric_file(ref, path)
        except LookupError as e:
            problems.add("case.reference", ("rubric",), ref=str(ref), reason=str(e.args[0]))
        except PerfscoreError as error:  # the project's configuration cannot be read
            problems.issues.extend(error.issues)
    if rubric_path is not None:
        try:
            compiled = compile_rubric(load_rubric(rubric_path))
        except PerfscoreError as error:
            problems.issues.extend(error.issues)
    base: dict[str, Any] = {}
    if "base_inputs_file" in data:
        base.update(problems.read_inputs(data["base_inputs_file"], ("base_inputs_file",), path))
    if "base_inputs" in data and problems.mapping(data, "base_inputs", ()):
        base.update(data["base_inputs"])
        if compiled is not None:
            _known_inputs(problems, data["base_inputs"], ("base_inputs",), compiled)
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        problems.add("case.no_cases", ("cases",))
        raw_cases = []
    cases: list[GoldenCase] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_cases):
        case = _parse_case(raw, ("cases", i), base, path, problems, compiled)
        if case is not None:
            if case.name in names:
                problems.add("case.duplicate_name", ("cases", i, "name"), name=case.name)
            names.add(case.name)
            cases.append(case)
    if problems.issues or compiled is None or rubric_path is None:
        here = str(path)
        raise RubricValidationError(  # in file order, this file's first
            sorted(
                problems.issues,
                key=lambda i: (
                    i.location.file != here,
                    i.location.line or 0,
                    i.location.column or 0,
                ),
            )
        )
    return CaseFile(path, rubric_path, compiled, tuple(cases))


def _parse_case(
    raw: Any,
    where: tuple[PathPart, ...],
    base: Mapping[str, Any],
    path: Path,
    problems: _Problems,
    rubric: CompiledRubric | None,
) -> GoldenCase | None:
    if not isinstance(raw, dict):
        problems.add("case.not_a_case", where)
        return None
    problems.unknown_keys(raw, "case", where)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add("case.no_name", (*where, "name") if "name" in raw else where)
        name = None
    description = raw.get("description")
    inputs = dict(base)
    if "inputs_file" in raw:
        inputs.update(problems.read_inputs(raw["inputs_file"], (*where, "inputs_file"), path))
    if "inputs" in raw and problems.mapping(raw, "inputs", where):
        inputs.update(raw["inputs"])
        expect_error = isinstance(raw.get("expect"), dict) and "error" in raw["expect"]
        if rubric is not None and not expect_error:  # an error case may name one on purpose
            _known_inputs(problems, raw["inputs"], (*where, "inputs"), rubric)
    tolerance = Decimal(0)
    if "tolerance" in raw:
        number = _decimal(raw["tolerance"])
        if number is None or number < 0:
            problems.add("case.tolerance", (*where, "tolerance"))
        else:
            tolerance = number
    expect = raw.get("expect")
    if not isinstance(expect, dict) or not expect:
        problems.add("case.no_expect", (*where, "expect") if "expect" in raw else where)
        return None
    here = (*where, "expect")
    problems.unknown_keys(expect, "expect", here)
    parsed = _Expectations(problems, here, rubric)
    total = parsed.number(expect, "total")
    grade = parsed.grade(expect)
    scores = parsed.scores(expect)
    status = parsed.status(expect)
    values = parsed.values(expect)
    findings = parsed.findings(expect)
    error = expect.get("error")
    if error is not None and not isinstance(error, str):
        problems.add("case.not_text", (*here, "error"), key_name="error")
    if name is None:
        return None
    line = problems.source.values.get(where, (None,))[0]
    return GoldenCase(
        name=name,
        inputs=inputs,
        file=problems.file,
        line=None if line is None else line + 1,
        total=total,
        grade=grade,
        scores=scores,
        status=status,
        error=error if isinstance(error, str) else None,
        tolerance=tolerance,
        values=values,
        description=description if isinstance(description, str) else None,
        findings=findings,
    )


def _known_inputs(
    problems: _Problems,
    inputs: Mapping[str, Any],
    where: tuple[PathPart, ...],
    rubric: CompiledRubric,
) -> None:
    """An issue for each input id the rubric does not declare, with the closest one."""
    declared = rubric.rubric.inputs
    for name in inputs:
        if name not in declared and name not in SECTIONS:  # claimed, unit ... are sections
            problems.suggest(
                "case.unknown_input", (*where, name), str(name), declared, key=True, input=name
            )


class _Expectations:
    """Reads one case's ``expect``, checking ids and names against the rubric."""

    def __init__(
        self, problems: _Problems, where: tuple[PathPart, ...], rubric: CompiledRubric | None
    ) -> None:
        self.problems, self.where = problems, where
        self.rubric = rubric.rubric if rubric is not None else None

    def number(self, expect: Mapping[str, Any], key: str) -> Decimal | None:
        if expect.get(key) is None:
            return None
        number = _decimal(expect[key])
        if number is None:
            self.problems.add("case.not_number", (*self.where, key), key_name=key)
        return number

    def grade(self, expect: Mapping[str, Any]) -> str | None:
        grade = expect.get("grade")
        if grade is None:
            return None
        grade = str(grade)
        if self.rubric is not None:
            names = [g.name for g in self.rubric.grades]
            if grade not in names:
                self.problems.suggest(
                    "case.unknown_grade", (*self.where, "grade"), grade, names, grade=grade
                )
        return grade

    def _table(self, expect: Mapping[str, Any], key: str) -> dict[str, Any]:
        if expect.get(key) is None:
            return {}
        if not self.problems.mapping(expect, key, self.where):
            return {}
        return {str(k): v for k, v in expect[key].items()}

    def _indicator(self, key: str, indicator: str) -> None:
        if self.rubric is None:
            return
        ids = [n.id for n in self.rubric.walk()]
        groups = {n.id for n in self.rubric.walk() if n.rows is not None}
        if indicator not in ids and indicator.partition(".")[0] not in groups:
            self.problems.suggest(
                "case.unknown_indicator",
                (*self.where, key, indicator),
                indicator,
                ids,
                key=True,
                indicator=indicator,
            )

    def scores(self, expect: Mapping[str, Any]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for indicator, value in self._table(expect, "scores").items():
            self._indicator("scores", indicator)
            number = _decimal(value)
            if number is None:
                self.problems.add(
                    "case.not_number", (*self.where, "scores", indicator), key_name=indicator
                )
            else:
                out[indicator] = number
        return out

    def status(self, expect: Mapping[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for indicator, value in self._table(expect, "status").items():
            self._indicator("status", indicator)
            if value not in STATUSES:
                self.problems.suggest(
                    "case.unknown_status",
                    (*self.where, "status", indicator),
                    str(value),
                    STATUSES,
                    status=str(value),
                )
            else:
                out[indicator] = str(value)
        return out

    def findings(self, expect: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
        if "findings" not in expect:
            return None
        listed = expect["findings"]
        out: list[tuple[str, str]] = []
        for k, item in enumerate(listed if isinstance(listed, list) else [None]):
            if (
                not isinstance(item, dict)
                or set(item) != {"indicator", "kind"}
                or item["kind"] not in FINDING_KINDS
            ):
                where = (*self.where, "findings", k) if isinstance(listed, list) else self.where
                self.problems.add("case.finding_shape", where, kinds=", ".join(FINDING_KINDS))
            else:
                out.append((str(item["indicator"]), str(item["kind"])))
        return tuple(out)

    def values(self, expect: Mapping[str, Any]) -> dict[str, Expected]:
        out: dict[str, Expected] = {}
        known: list[str] = []
        if self.rubric is not None:
            known = [*self.rubric.inputs, *self.rubric.derived]
        for name, value in self._table(expect, "values").items():
            if self.rubric is not None and name not in known:
                self.problems.suggest(
                    "case.unknown_value",
                    (*self.where, "values", name),
                    name,
                    known,
                    key=True,
                    value=name,
                )
            if value is None or isinstance(value, bool | str):
                out[name] = value
            elif (number := _decimal(value)) is not None:
                out[name] = number
            else:
                self.problems.add("case.not_value", (*self.where, "values", name), value=name)
        return out


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
                case, (Failure("error", _A_RESULT, ", ".join(error.codes)),), None, error
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
            failures.append(Failure("score", to_str(expected), _NO_INDICATOR, indicator))
        elif abs(node.score - expected) > tol:
            failures.append(Failure("score", to_str(expected), to_str(node.score), indicator))
    for indicator, expected_status in case.status.items():
        node = by_id.get(indicator)
        actual = _NO_INDICATOR if node is None else node.status.value
        if actual != expected_status:
            failures.append(Failure("status", expected_status, actual, indicator))
    if review is not None and case.findings is not None:
        found = [(f.indicator, f.kind) for f in review.findings]
        for indicator, kind in case.findings:
            if (indicator, kind) not in found:
                failures.append(Failure("finding", kind, _NOT_FOUND, indicator))
        for indicator, kind in found:
            if (indicator, kind) not in case.findings:
                failures.append(Failure("finding", _NOTHING, kind, indicator))
    for name, expected_value in case.values.items():
        actual_value = result.values.get(name)
        if not _same(expected_value, actual_value, tol):
            failures.append(Failure("value", _shown(expected_value), _shown(actual_value), name))
    return CaseResult(case, tuple(failures), result, None)


def _same(expected: Expected, actual: Any, tolerance: Decimal) -> bool:
    """Whether a value matches what a case expects: numbers within the tolerance (a
    boolean is never a number), anything else equal; None is "no value"."""
    if isinstance(expected, Decimal):
        return (
            isinstance(actual, Decimal)
            and not isinstance(actual, bool)
            and abs(actual - expected) <= tolerance
        )
    if expected is None:
        return actual is None
    return type(actual) is type(expected) and bool(actual == expected)


def _shown(value: Any) -> str:
    if value is None:
        return _NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_str(value) if isinstance(value, Decimal) else repr(value)


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


def run_json(results: Mapping[Path, list[CaseResult] | PerfscoreError]) -> dict[str, Any]:
    """A run as JSON-ready data (``perfscore test -f json``): the counts ``passed``,
    ``failed`` and ``unusable`` (case files that could not be used), and ``files``, each
    with ``file``, ``error`` (:meth:`PerfscoreError.to_dict` when the file could not be
    used, else ``None``) and ``cases``: ``name``, ``file``, ``line``, ``passed`` and
    ``failures``, each with ``what`` (``total``, ``grade``, ``score``, ``status``,
    ``value``, ``error`` or ``finding``), ``indicator``, ``expected``, ``actual`` and
    ``message`` (in the language in force)."""
    files: list[dict[str, Any]] = []
    passed = failed = unusable = 0
    for path, outcome in results.items():
        if isinstance(outcome, PerfscoreError):
            unusable += 1
            files.append({"file": str(path), "error": outcome.to_dict(), "cases": []})
            continue
        cases = []
        for r in outcome:
            passed += r.passed
            failed += not r.passed
            cases.append(
                {
                    "name": r.case.name,
                    "file": r.case.file,
                    "line": r.case.line,
                    "passed": r.passed,
                    "failures": [
                        {
                            "what": f.what,
                            "indicator": f.indicator,
                            "expected": f.expected,
                            "actual": f.actual,
                            "message": str(f),
                        }
                        for f in r.failures
                    ],
                }
            )
        files.append({"file": str(path), "error": None, "cases": cases})
    return {"passed": passed, "failed": failed, "unusable": unusable, "files": files}


def junit_xml(results: Mapping[Path, list[CaseResult] | PerfscoreError]) -> str:
    """A JUnit XML report of a run, for CI systems."""
    suites = ET.Element("testsuites")
    for path, outcome in results.items():
        suite = ET.SubElement(suites, "testsuite", name=str(path))
        if isinstance(outcome, PerfscoreError):
            suite.set("tests", "1")
            suite.set("errors", "1")
            case = ET.SubElement(suite, "testcase", name="load", classname=str(path))
            ET.SubElement(case, "error", message=tr("cases.junit.load_failed")).text = str(outcome)
            continue
        suite.set("tests", str(len(outcome)))
        suite.set("failures", str(sum(not r.passed for r in outcome)))
        for r in outcome:
            case = ET.SubElement(suite, "testcase", name=r.case.name, classname=str(path))
            if not r.passed:
                ET.SubElement(
                    case, "failure", message="; ".join(map(str, r.failures))
                ).text = r.report()
    for element in suites.iter():  # case names and messages are untrusted text
        element.text = xml_text(element.text) if element.text else element.text
        for key, value in element.attrib.items():
            element.set(key, xml_text(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
