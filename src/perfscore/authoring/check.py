"""Property hunt: generate departments from a rubric's declared inputs and look for defects.

:func:`check_rubric` uses Hypothesis to generate department inputs that fit the rubric's
declarations (kinds, ``min`` / ``max``, choice options, booleans; money and percentages
with two decimals, counts as whole numbers from 0; optional inputs sometimes left out) and
scores each one. It hunts for:

=====================  =======  ==========================================================
kind                   level    what
=====================  =======  ==========================================================
``evaluation_error``   error    scoring raised :class:`EvaluationError` (e.g. a division by
                                zero, a value in no band, no grade for the total)
``out_of_range``       error    a leaf scored outside ``[0, effective weight]``, or the
                                total outside ``[0, total]``
``not_monotone``       error    a leaf declared (or known) monotone in its value scored
                                against that direction when an input feeding the value moved
``unreached_branch``   warning  a band, case, level or deduction branch no input reached
``never_full``         warning  a leaf that never reached its full (effective) weight
``never_scored``       warning  a leaf that was not applicable, or failed, every time
``hidden_change``      warning  a rate declared ``on_zero_division: not_applicable`` (or a
                                leaf guarded by ``not_applicable_when`` on an input of the
                                rate's denominator) whose
                                denominator is 0 while its numerator is not: the leaf gets
                                the not-applicable policy where its rule, given the change
                                (a change far beyond every threshold, of the numerator's
                                sign), scores below its weight
=====================  =======  ==========================================================

How it hunts:

1. Hypothesis generates ``max_examples`` departments. A figure is drawn anywhere within
   its bounds, near a scale shared by the department's figures (so that ratios of two
   figures spread over 0-150%, where the bands are), or at or beside a number the rules
   turn on (a band end, a threshold). Each department is scored; then one input feeding
   a monotone leaf's value is moved and the department scored again, to compare.
2. For each band or deduction branch no department reached, the department whose value
   came closest is steered towards it, one input at a time, by bisection; for each leaf
   that never reached full marks, its best department is improved greedily (both answers
   of a boolean, every option, the bounds and the landmarks of each input it reads).
   Only what still fails after this is reported. Before that, every division whose
   denominator is linear in the inputs (sums, differences, multiples; derived values
   that are themselves linear are expanded) is solved for zero within the inputs' bounds
   (:mod:`perfscore.authoring._zeros`), and those departments are scored too: a
   ``c / (a + b)`` with ``b`` allowed negative is found at ``b = -a``, which the random
   search all but never draws.
3. Each error is searched again with the same seed and shrunk by Hypothesis to the
   smallest inputs that show it, written as a golden case ready to paste into a
   ``*.cases.yaml`` file (``expect`` pins what scoring gives now).

The hunt is deterministic for a given ``seed`` and bounded by ``max_examples`` generated
departments, plus the runs of step 2 and of Hypothesis's shrinking.

Findings are data (:class:`CheckReport`); the ``perfscore check`` command prints them.
"""

from __future__ import annotations

import ast
import contextlib
import decimal
import json
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from perfscore._interval import Interval
from perfscore._numbers import normalize, to_str
from perfscore.authoring._zeros import Division, divisions, linear, linear_derived, zeros
from perfscore.engine import CompiledRubric, compile_rubric, input_symbol
from perfscore.errors import (
    EvaluationError,
    FormulaError,
    InputError,
    Issue,
    PathPart,
    PerfscoreError,
    format_path,
)
from perfscore.formula import Formula, Symbol, compile_formula
from perfscore.i18n import tr
from perfscore.methods import Bands, Cases, Deduction, Judged, Levels, ScoringMethod
from perfscore.model import NUMERIC_KINDS, Indicator, InputSpec, Rubric
from perfscore.results import ScoreResult, Status

__all__ = [
    "ERROR_KINDS",
    "CheckReport",
    "Finding",
    "check_rubric",
    "golden_case",
    "inputs_strategy",
]

Level = Literal["error", "warning"]
#: Finding kinds that make ``perfscore check`` exit 1.
ERROR_KINDS: Final = frozenset({"evaluation_error", "out_of_range", "not_monotone"})

#: Decimal places generated for each numeric kind.
_PLACES: Final = {"money": 2, "percent": 2, "number": 2, "integer": 0, "count": 0}
#: How far from 0 an unbounded end of a numeric input reaches.
_SPAN: Final = {
    "money": Decimal(100_000),
    "percent": Decimal(1_000),
    "number": Decimal(100_000),
    "integer": Decimal(1_000),
    "count": Decimal(1_000),
}
_TEXTS: Final = ("甲", "乙", "丙")
_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    """One thing the hunt found.

    ``inputs`` are the smallest inputs that show it (for an error) or the best inputs seen
    (for a leaf that never reached full marks); ``case`` is the same as a golden case in
    the case-file format, ready to paste under ``cases:``.
    """

    kind: str
    level: Level
    indicator: str | None
    message: str
    inputs: Mapping[str, Any] | None = None
    case: str | None = None
    issue: Issue | None = None

    def __str__(self) -> str:
        where = f"{self.indicator}: " if self.indicator else ""
        return f"{self.level}: {where}{self.message} [{self.kind}]"


@dataclass(frozen=True)
class CheckReport:
    """What a hunt found, and how hard it looked."""

    rubric_id: str
    seed: int
    max_examples: int
    #: departments generated by Hypothesis in the hunt
    examples: int
    #: of them, refused as inputs (:class:`InputError`)
    rejected: int
    #: departments scored without error in all, with those tried to reach rare branches
    scored: int
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def exit_code(self) -> int:
        """1 when there is an error-level finding, else 0."""
        return 1 if self.errors else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``perfscore check -f json``): ``rubric_id``, ``seed``,
        ``max_examples``, ``examples``, ``rejected``, ``scored``, the counts of
        ``errors`` and ``warnings``, and ``findings``, each with ``kind``, ``level``,
        ``indicator``, ``message`` (in the language in force), ``inputs`` (numbers as
        text, as in a case file), ``case`` (the golden case as YAML text) and ``issue``
        (:meth:`Issue.to_dict`, when the finding is an error the engine raised)."""
        return {
            "rubric_id": self.rubric_id,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "examples": self.examples,
            "rejected": self.rejected,
            "scored": self.scored,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [
                {
                    "kind": f.kind,
                    "level": f.level,
                    "indicator": f.indicator,
                    "message": f.message,
                    "inputs": None if f.inputs is None else _json_value(f.inputs),
                    "case": f.case,
                    "issue": None if f.issue is None else f.issue.to_dict(),
                }
                for f in self.findings
            ],
        }


# --------------------------------------------------------------------------- strategies


def _scaled(lo: Decimal, hi: Decimal, places: int) -> st.SearchStrategy[Any]:
    """Numbers in ``[lo, hi]`` with ``places`` decimals (ints when ``places`` is 0)."""
    factor = Decimal(10) ** places
    low = int((lo * factor).to_integral_value(rounding=decimal.ROUND_CEILING))
    high = int((hi * factor).to_integral_value(rounding=decimal.ROUND_FLOOR))
    if low > high:
        return st.nothing()
    units = st.integers(low, high)
    if places == 0:
        return units
    return units.map(lambda n: Decimal(n).scaleb(-places))


@dataclass(frozen=True)
class _Scale:
    """Magnitudes shared by one department's figures, so that ratios of two figures
    (控制率, 完成率 ...) spread over the bands between 0% and 150%, not only 0% and 100%."""

    money: Decimal
    count: int


_SCALES: Final = st.builds(
    _Scale,
    st.integers(1, 10**7).map(lambda n: Decimal(n).scaleb(-2)),
    st.integers(1, 1000),
)


@dataclass(frozen=True)
class _Near:
    """A figure at ``percent`` % of the department's scale for its kind."""

    percent: int


def _bounds(spec: InputSpec) -> tuple[Decimal, Decimal]:
    span = _SPAN[spec.kind]
    lo, hi = spec.lower_bound, spec.max
    if lo is None:
        lo = min(-span, hi - span) if hi is not None else -span
    if hi is None:
        hi = max(span, lo + span)
    return lo, hi


_NUMBER_IN_TEXT: Final = re.compile(r"(?<![A-Za-z_0-9.])\d+(?:\.\d+)?")


def _landmarks(rubric: Rubric) -> frozenset[Decimal]:
    """The numbers a rubric's rules turn on: band ends, thresholds, numbers in formulas.
    Figures at and beside them reach the edges of bands and thresholds."""
    out: set[Decimal] = set()
    texts: list[str] = [d.formula for d in rubric.derived.values()]
    texts.extend(cap.when for cap in rubric.grade_caps)
    for node in rubric.walk():
        if node.not_applicable_when:
            texts.append(node.not_applicable_when)
        method = node.scoring
        if method is None:
            continue
        if isinstance(method, Bands):
            for band in method.bands:
                out.update(x for x in (band.range.lower, band.range.upper) if x is not None)
        if isinstance(method, Deduction):
            out.add(method.threshold)
        texts.extend(_strings(method.model_dump(mode="python")))
    for text in texts:
        out.update(Decimal(n) for n in _NUMBER_IN_TEXT.findall(text))
    return frozenset(x for x in out if x.is_finite() and abs(x) < _SPAN["money"] * 100)


class _Input:
    """How to generate one declared input: a strategy of raw draws, made concrete once
    the department's scale is known (see :class:`_Scale`).

    A figure is drawn anywhere within its bounds, or near the department's scale (so that
    ratios of two figures fall between 0% and 150%), or at or beside a landmark of the
    rubric (a band end, a threshold).
    """

    def __init__(
        self,
        spec: InputSpec,
        landmarks: frozenset[Decimal] = frozenset(),
        rows: tuple[str, Decimal] | None = None,
    ) -> None:
        self.spec = spec
        self.landmarks = landmarks
        #: for a table whose rows are indicators: the weight column and the rows' total
        self.rows = rows
        self.columns = {k: _Input(c, landmarks) for k, c in (spec.columns or {}).items()}
        self.present = self._present()
        optional = not spec.required or spec.default is not None
        self.strategy = st.one_of(st.none(), self.present) if optional else self.present

    def _present(self) -> st.SearchStrategy[Any]:
        spec = self.spec
        kind = spec.kind
        if kind == "boolean":
            return st.booleans()
        if kind == "choice":
            return st.sampled_from(spec.options or ("",))
        if kind == "text":
            return st.sampled_from(_TEXTS)
        if kind == "table":
            row = st.fixed_dictionaries({k: c.strategy for k, c in self.columns.items()})
            return st.lists(row, min_size=1 if self.rows else 0, max_size=3)
        lo, hi = _bounds(spec)
        places = _PLACES[kind]
        modes = [_scaled(lo, hi, places), st.integers(0, 150).map(_Near)]
        step = Decimal(1).scaleb(-places)
        marks = sorted(
            {
                x
                for mark in self.landmarks
                for x in (mark - step, mark, mark + step)
                if lo <= x <= hi and x == x.quantize(step, rounding=decimal.ROUND_DOWN)
            }
        )
        if marks:
            modes.append(st.sampled_from([int(x) if places == 0 else x for x in marks]))
        return st.one_of(modes)

    def make(self, raw: Any, scale: _Scale) -> Any:
        if isinstance(raw, _Near):
            return self._near(raw.percent, scale)
        if self.spec.kind == "table" and isinstance(raw, list):
            rows = [{k: self.columns[k].make(v, scale) for k, v in row.items()} for row in raw]
            if self.rows is not None and rows:
                _share_weights(rows, *self.rows)
            return tuple(rows)
        return raw

    def _near(self, percent: int, scale: _Scale) -> Any:
        kind = self.spec.kind
        places = _PLACES[kind]
        if kind == "percent":
            base = Decimal(100)
        elif kind in ("count", "integer"):
            base = Decimal(scale.count)
        else:
            base = scale.money
        lo, hi = _bounds(self.spec)
        value = (base * percent / 100).quantize(
            Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP
        )
        if value < lo:
            value = lo.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_CEILING)
        if value > hi:
            value = hi.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_FLOOR)
        return int(value) if places == 0 else value


def _share_weights(rows: list[dict[str, Any]], column: str, total: Decimal) -> None:
    """Make the rows' weights add up to ``total`` (two decimals), in proportion to the
    drawn weights, as a department's table of indicator rows must."""
    shares = [abs(r[column]) + 1 if isinstance(r.get(column), Decimal | int) else 1 for r in rows]
    whole = sum(shares)
    given = Decimal(0)
    for row, share in zip(rows[:-1], shares[:-1], strict=False):
        weight = (total * share / whole).quantize(Decimal("0.01"), rounding=decimal.ROUND_FLOOR)
        row[column] = weight
        given += weight
    rows[-1][column] = total - given


class _Inputs:
    """How to generate a department's inputs."""

    def __init__(self, rubric: Rubric) -> None:
        landmarks = _landmarks(rubric)
        groups = {
            node.rows.table: (node.rows.weight, node.weight)
            for node in rubric.walk()
            if node.rows is not None
        }
        self.inputs = {
            name: _Input(spec, landmarks, groups.get(name)) for name, spec in rubric.inputs.items()
        }
        strategies = {k: i.strategy for k, i in self.inputs.items()}
        judged = _judged_strategies(rubric)
        if judged:  # the scores people enter for judged leaves, in [0, weight]
            strategies["judged"] = st.fixed_dictionaries(judged)
        self.raw = st.fixed_dictionaries(strategies)

    def make(self, raw: Mapping[str, Any], scale: _Scale) -> dict[str, Any]:
        return {k: v if k == "judged" else self.inputs[k].make(v, scale) for k, v in raw.items()}


def _judged_strategies(rubric: Rubric) -> dict[str, st.SearchStrategy[Any]]:
    """For every judged leaf, its entered score (or a panel's scores)."""
    out: dict[str, st.SearchStrategy[Any]] = {}
    for node in rubric.leaves:
        method = node.scoring
        if not isinstance(method, Judged):
            continue
        score = st.decimals(min_value=0, max_value=node.weight, places=2)
        if method.aggregate is None:
            out[node.id] = score
        else:
            low = method.min_judges
            out[node.id] = st.lists(score, min_size=low, max_size=low + 2)
    return out


def inputs_strategy(rubric: Rubric) -> st.SearchStrategy[dict[str, Any]]:
    """A Hypothesis strategy of department inputs that fit ``rubric``'s declared inputs.

    Every declared input is a key; a left-out optional input has the value ``None``.
    Money has two decimals, counts are whole numbers from 0, bounds are respected.
    """
    inputs = _Inputs(rubric)
    return st.tuples(_SCALES, inputs.raw).map(lambda t: inputs.make(t[1], t[0]))


# --------------------------------------------------------------------------- names


class _Names:
    """The rubric's names as formulas see them, and which inputs feed each one."""

    def __init__(self, rubric: Rubric) -> None:
        self.symbols: dict[str, Symbol] = {}
        self.feeds: dict[str, frozenset[str]] = {}
        for name, spec in rubric.inputs.items():
            if spec.kind != "table":
                self.symbols[name] = input_symbol(spec)
                self.feeds[name] = frozenset({name})
        pending = dict(rubric.derived)
        while pending:
            done = []
            for name, derived in pending.items():
                formula = self.compile(derived.formula)
                if formula is not None:
                    self.symbols[name] = Symbol(formula.type)
                    self.feeds[name] = self.inputs_of(formula.names)
                    done.append(name)
            if not done:
                break
            for name in done:
                del pending[name]

    def compile(self, source: str) -> Formula | None:
        try:
            return compile_formula(source, self.symbols)
        except FormulaError:
            return None

    def inputs_of(self, names: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for name in names:
            out |= self.feeds.get(name, frozenset())
        return frozenset(out)


def _evaluate(formula: Formula, values: Mapping[str, Any]) -> Any:
    """The formula's value, or ``None`` when a name it reads has no value or it fails."""
    if any(values.get(name) is None for name in formula.names):
        return None
    try:
        return formula.evaluate(values)
    except EvaluationError:
        return None


def _strings(data: Any) -> Iterable[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _strings(value)


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True)
class _Branch:
    """One way a rule can go; ``interval`` holds the values of the leaf's value that take
    it, when that is how it is chosen (bands, deduction thresholds)."""

    label: str
    points: Decimal | None
    interval: Interval | None = None


_NUDGE: Final = Decimal("0.0001")


def _distance(x: Decimal, interval: Interval) -> Decimal:
    """How far ``x`` is from ``interval`` (0 inside it)."""
    if x in interval:
        return Decimal(0)
    lower = interval.lower
    if lower is not None and (x < lower or (x == lower and not interval.include_lower)):
        return lower - x + _NUDGE
    assert interval.upper is not None
    return x - interval.upper + _NUDGE


@dataclass(frozen=True)
class _Leaf:
    """What the hunt knows about one scored leaf."""

    node: Indicator
    method: ScoringMethod
    value: Formula | None  # the formula its score is monotone in, if declared
    direction: str | None
    varied: tuple[str, ...]  # inputs moved to test monotonicity
    reads: tuple[str, ...]  # every input its rule reads, directly or through derived values
    branches: tuple[_Branch, ...]
    branch_of: Callable[[Mapping[str, Any]], int | None]

    @property
    def id(self) -> str:
        return self.node.id


def _branches(
    method: ScoringMethod, value: Formula | None, names: _Names
) -> tuple[tuple[_Branch, ...], Callable[[Mapping[str, Any]], int | None]]:
    """The branches of a leaf's rule, and a function telling which one some values take."""

    def nothing(values: Mapping[str, Any]) -> int | None:
        return None

    if isinstance(method, Bands) and value is not None:
        bands = method.bands
        out = [_Branch(f"band {b.range}", b.points, b.range) for b in bands]
        if method.otherwise is not None:
            out.append(_Branch("otherwise", method.otherwise))

        def band(values: Mapping[str, Any]) -> int | None:
            x = _evaluate(value, values)
            if x is None:
                return None
            for i, b in enumerate(bands):
                if x in b.range:
                    return i
            return len(bands) if method.otherwise is not None else None

        return tuple(out), band
    if isinstance(method, Cases):
        conditions = [names.compile(c.when) for c in method.cases]
        if any(c is None for c in conditions):
            return (), nothing
        cases = [
            _Branch(f"case {c.text or c.when!r}" if c.text else f"case {c.when!r}", c.points)
            for c in method.cases
        ]
        if method.otherwise is not None:
            cases.append(_Branch("otherwise", method.otherwise))

        def case(values: Mapping[str, Any]) -> int | None:
            for i, condition in enumerate(conditions):
                assert condition is not None
                held = _evaluate(condition, values)
                if held is None:
                    return None
                if held:
                    return i
            return len(conditions) if method.otherwise is not None else None

        return tuple(cases), case
    if isinstance(method, Levels):
        chosen = names.compile(method.value)
        if chosen is None:
            return (), nothing
        keys = list(method.levels)
        levels = tuple(_Branch(f"level {k}", method.levels[k]) for k in keys)

        def level(values: Mapping[str, Any]) -> int | None:
            name = _evaluate(chosen, values)
            return keys.index(name) if name in keys else None

        return levels, level
    if isinstance(method, Deduction) and value is not None:
        over = method.direction == "over"
        threshold = method.threshold
        word = "≤" if over else "≥"
        full, deducted = (
            (Interval(None, threshold, False, True), Interval(threshold, None, False, False))
            if over
            else (Interval(threshold, None, True, False), Interval(None, threshold, False, False))
        )
        steps = (
            _Branch(f"full marks ({method.value.strip()} {word} {to_str(threshold)})", None, full),
            _Branch(
                f"deduction ({method.value.strip()} beyond {to_str(threshold)})", None, deducted
            ),
        )

        def deduction(values: Mapping[str, Any]) -> int | None:
            x = _evaluate(value, values)
            if x is None:
                return None
            gap = x - threshold if over else threshold - x
            return 0 if gap <= 0 else 1

        return steps, deduction
    return (), nothing


def _leaves(rubric: Rubric, names: _Names) -> list[_Leaf]:
    out = []
    for node in rubric.leaves:
        method = node.scoring
        if method is None:
            continue
        source = method.value_source
        value = names.compile(source) if source is not None else None
        direction = method.monotone_direction if value is not None else None
        others: set[str] = set()
        words: set[str] = set()
        for key, item in method.model_dump(mode="python").items():
            if key == "method":
                continue
            for text in _strings(item):
                words.update(_WORD.findall(text))
                if item != source:
                    others.update(_WORD.findall(text))
        varied: tuple[str, ...] = ()
        if value is not None and direction is not None:
            feeding = names.inputs_of(value.names) - names.inputs_of(others)
            varied = tuple(n for n in rubric.inputs if n in feeding)
        read = names.inputs_of(words)
        reads = tuple(n for n in rubric.inputs if n in read)
        branches, branch_of = _branches(method, value, names)
        out.append(_Leaf(node, method, value, direction, varied, reads, branches, branch_of))
    return out


# --------------------------------------------------------------------------- one example

#: A generated department, and one input moved to another value (to test monotonicity).
Example = tuple[dict[str, Any], tuple[str, Any] | None]


@dataclass(frozen=True)
class _Side:
    """One side of a monotonicity counterexample: the inputs, the value and the score."""

    inputs: dict[str, Any]
    value: Decimal
    score: Decimal


@dataclass
class _Violation:
    kind: str
    indicator: str | None
    message: str
    issue: Issue | None = None
    #: for not_monotone: the lower and the higher value, with their inputs and scores
    sides: tuple[_Side, _Side] | None = None


@dataclass
class _Outcome:
    result: ScoreResult | None = None
    rejected: bool = False
    violations: dict[tuple[str, ...], _Violation] = field(default_factory=dict)


_INDICATOR_IN_MESSAGE: Final = re.compile(r"indicator '([^']+)'")


def _indicator_at(rubric: Rubric, path: tuple[PathPart, ...]) -> str | None:
    """The id of the indicator at ``path`` (``indicators[1].children[0]...``), if any."""
    nodes: tuple[Indicator, ...] | None = rubric.indicators
    found: str | None = None
    parts = list(path)
    if not parts or parts.pop(0) != "indicators":
        return None
    while parts and nodes is not None:
        index = parts.pop(0)
        if not isinstance(index, int) or index >= len(nodes):
            return found
        node = nodes[index]
        found = node.id
        if not parts or parts[0] != "children":
            return found
        parts.pop(0)
        nodes = node.children
    return found


def _error_violation(rubric: Rubric, error: EvaluationError) -> tuple[tuple[str, ...], _Violation]:
    issue = error.issues[0]
    path = issue.location.path
    found = _INDICATOR_IN_MESSAGE.search(issue.message)
    own_file = not rubric.indicator_origins  # paths of a composed rubric point elsewhere
    if found:
        where: str | None = found.group(1)
    elif len(path) >= 2 and path[0] == "derived":
        where = f"derived {path[1]}"
    elif own_file and _indicator_at(rubric, path):
        where = _indicator_at(rubric, path)
    else:
        where = format_path(path) or None
    kind = "out_of_range" if issue.code == "evaluation.out_of_range" else "evaluation_error"
    key = (kind, issue.code, where or "", issue.location.file or "")
    return key, _Violation(kind, where, f"{issue.message} [{issue.code}]", issue)


class _Hunter:
    """Scores generated departments and says what is wrong with each."""

    def __init__(self, compiled: CompiledRubric) -> None:
        self.compiled = compiled
        self.rubric = compiled.rubric
        self.names = _Names(self.rubric)
        self.leaves = _leaves(self.rubric, self.names)
        self.fed: dict[str, list[_Leaf]] = {}  # input -> monotone leaves it feeds
        for leaf in self.leaves:
            for name in leaf.varied:
                self.fed.setdefault(name, []).append(leaf)

    def strategy(self) -> st.SearchStrategy[Example]:
        inputs = _Inputs(self.rubric)
        moved = [n for n in self.rubric.inputs if n in self.fed]
        move: st.SearchStrategy[tuple[str, Any] | None] = (
            st.one_of([st.tuples(st.just(n), inputs.inputs[n].present) for n in moved])
            if moved
            else st.none()
        )

        def make(raw: tuple[_Scale, dict[str, Any], tuple[str, Any] | None]) -> Example:
            scale, values, change = raw
            if change is None:
                return inputs.make(values, scale), None
            name, value = change
            return inputs.make(values, scale), (name, inputs.inputs[name].make(value, scale))

        return st.tuples(_SCALES, inputs.raw, move).map(make)

    def score(self, inputs: Mapping[str, Any]) -> ScoreResult:
        return self.compiled.score(inputs, explain=False)

    def examine(self, example: Example) -> _Outcome:
        inputs, change = example
        outcome = _Outcome()
        try:
            result = self.score(inputs)
        except InputError:
            outcome.rejected = True
            return outcome
        except EvaluationError as error:
            key, violation = _error_violation(self.rubric, error)
            outcome.violations[key] = violation
            return outcome
        outcome.result = result
        for node in result.leaves:
            if not 0 <= node.score <= node.effective_weight:
                outcome.violations[("out_of_range", node.id)] = _Violation(
                    "out_of_range",
                    node.id,
                    f"scored {to_str(node.score)}, outside [0, {to_str(node.effective_weight)}]",
                )
        for label, total in (("total", result.total), ("unrounded total", result.unrounded_total)):
            if not 0 <= total <= result.max_total:
                outcome.violations[("out_of_range", "total")] = _Violation(
                    "out_of_range",
                    None,
                    f"the {label} is {to_str(total)}, outside [0, {to_str(result.max_total)}]",
                )
        if change is not None:
            self._monotone(inputs, result, change, outcome)
        return outcome

    def _monotone(
        self,
        inputs: dict[str, Any],
        result: ScoreResult,
        change: tuple[str, Any],
        outcome: _Outcome,
    ) -> None:
        """Move one input and check every monotone leaf whose value it feeds."""
        name, moved = change
        if inputs.get(name) == moved:
            return
        other_inputs = {**inputs, name: moved}
        try:
            other = self.score(other_inputs)
        except (InputError, EvaluationError):
            return  # an error here is found on its own when these inputs come up
        for leaf in self.fed.get(name, ()):
            assert leaf.value is not None
            a, b = result[leaf.id], other[leaf.id]
            if a.status is not Status.SCORED or b.status is not Status.SCORED:
                continue
            if a.effective_weight != b.effective_weight:
                continue
            x, y = _evaluate(leaf.value, result.values), _evaluate(leaf.value, other.values)
            if not isinstance(x, Decimal) or not isinstance(y, Decimal) or x == y:
                continue
            low, high = _Side(inputs, x, a.score), _Side(other_inputs, y, b.score)
            if x > y:
                low, high = high, low
            increasing = leaf.direction == "increasing"
            if (low.score > high.score) if increasing else (low.score < high.score):
                source = leaf.value.source
                outcome.violations[("not_monotone", leaf.id)] = _Violation(
                    "not_monotone",
                    leaf.id,
                    f"declared {leaf.direction} in {source}, but {source} = "
                    f"{_show(low.value)} scores {to_str(low.score)} and {source} = "
                    f"{_show(high.value)} scores {to_str(high.score)}",
                    sides=(low, high),
                )


# --------------------------------------------------------------------------- golden cases


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return to_str(normalize(value))
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _json_value(value: Any) -> Any:
    """``value`` as JSON-ready data: numbers as text, as a case file writes them."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        return to_str(normalize(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def golden_case(name: str, inputs: Mapping[str, Any], expect: Mapping[str, Any]) -> str:
    """One golden case in the case-file format, as YAML text (a list item)."""
    lines = [f"- name: {json.dumps(name, ensure_ascii=False)}", "  inputs:"]
    lines.extend(f"    {key}: {_show(value)}" for key, value in inputs.items())
    lines.append(f"  expect: {_show(expect)}")
    return "\n".join(lines)


def _expect(hunter: _Hunter, inputs: Mapping[str, Any], leaf: str | None) -> dict[str, Any]:
    """What scoring ``inputs`` gives now, as an ``expect`` mapping."""
    try:
        result = hunter.score(inputs)
    except (InputError, EvaluationError) as error:
        return {"error": error.codes[0]}
    expect: dict[str, Any] = {"total": result.total, "grade": result.grade}
    if leaf is not None:
        expect["scores"] = {leaf: result[leaf].score}
    return expect


def _case_for(hunter: _Hunter, violation: _Violation, inputs: dict[str, Any]) -> str:
    """The golden case(s) that pin what scoring the failing inputs gives now."""
    title = f"check: {violation.kind} {violation.indicator or 'total'}"
    if violation.sides is None:
        return golden_case(title, inputs, _expect(hunter, inputs, None))
    leaf = violation.indicator
    return "\n".join(
        golden_case(
            f"{title} at {_show(side.value)}", side.inputs, _expect(hunter, side.inputs, leaf)
        )
        for side in violation.sides
    )


# --------------------------------------------------------------------------- the hunt


def _settings(max_examples: int, *, shrink: bool) -> settings:
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink) if shrink else (Phase.generate,),
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


@dataclass
class _Tally:
    """What the hunt saw: errors (first example of each), and per leaf how often it was
    scored and full, its best example, the branches reached and the example closest to
    each branch not reached."""

    examples: int = 0
    rejected: int = 0
    scored_all: int = 0
    first: dict[tuple[str, ...], tuple[Example, _Violation]] = field(default_factory=dict)
    scored: dict[str, int] = field(default_factory=dict)
    full: dict[str, int] = field(default_factory=dict)
    best: dict[str, tuple[Decimal, dict[str, Any]]] = field(default_factory=dict)
    reached: dict[str, set[int]] = field(default_factory=dict)
    closest: dict[tuple[str, int], tuple[Decimal, dict[str, Any]]] = field(default_factory=dict)
    #: the first department scored (else accepted as inputs): the figures a solved
    #: denominator starts from
    base: dict[str, Any] | None = None
    base_scored: bool = False


def _visit(hunter: _Hunter, tally: _Tally, example: Example) -> None:
    tally.examples += 1
    outcome = hunter.examine(example)
    if outcome.rejected:
        tally.rejected += 1
    elif tally.base is None or (outcome.result is not None and not tally.base_scored):
        tally.base, tally.base_scored = dict(example[0]), outcome.result is not None
    for key, violation in outcome.violations.items():
        tally.first.setdefault(key, (example, violation))
    if outcome.result is not None:
        _record(hunter, tally, example[0], outcome.result)


def _record(hunter: _Hunter, tally: _Tally, inputs: Mapping[str, Any], result: ScoreResult) -> None:
    """Count what scoring ``inputs`` (giving ``result``) covered."""
    tally.scored_all += 1
    for leaf in hunter.leaves:
        node = result[leaf.id]
        if node.status is not Status.SCORED:
            continue
        tally.scored[leaf.id] = tally.scored.get(leaf.id, 0) + 1
        weight = node.effective_weight
        if node.score == weight:
            tally.full[leaf.id] = tally.full.get(leaf.id, 0) + 1
        share = node.score / weight if weight else Decimal(0)
        best = tally.best.get(leaf.id)
        if best is None or share > best[0]:
            tally.best[leaf.id] = (share, dict(inputs))
        reached = tally.reached.setdefault(leaf.id, set())
        branch = leaf.branch_of(result.values)
        if branch is not None:
            reached.add(branch)
        if leaf.value is None or len(reached) == len(leaf.branches):
            continue
        x = _evaluate(leaf.value, result.values)
        if not isinstance(x, Decimal):
            continue
        for i, other in enumerate(leaf.branches):
            if other.interval is not None and i not in reached:
                distance = _distance(x, other.interval)
                seen = tally.closest.get((leaf.id, i))
                if seen is None or distance < seen[0]:
                    tally.closest[(leaf.id, i)] = (distance, dict(inputs))


#: Bisection steps when steering one input to reach a branch.
_STEPS: Final = 60


def _steer(hunter: _Hunter, tally: _Tally, leaf: _Leaf, i: int) -> None:
    """Try to reach branch ``i`` of ``leaf`` from the closest example seen, moving one
    input feeding its value at a time by bisection (the value is assumed to move one
    way with each input, as ratios do). Whatever it scores is recorded."""
    interval = leaf.branches[i].interval
    if interval is None or leaf.value is None:
        return
    starts = [tally.closest.get((leaf.id, i)), tally.best.get(leaf.id)]
    for start in starts:
        if start is not None:
            _bisect(hunter, tally, leaf, i, interval, start[1])
            if i in tally.reached.get(leaf.id, ()):
                return


def _bisect(
    hunter: _Hunter,
    tally: _Tally,
    leaf: _Leaf,
    i: int,
    interval: Interval,
    start: Mapping[str, Any],
) -> None:
    """Bisect each numeric input feeding the leaf's value between its bounds, aiming the
    value at the middle of ``interval``; stop as soon as branch ``i`` is reached."""
    assert leaf.value is not None
    value = leaf.value
    aim = _aim_point(interval)
    specs = hunter.rubric.inputs
    for name in sorted(hunter.names.inputs_of(value.names), key=list(specs).index):
        spec = specs[name]
        if spec.kind not in _PLACES:
            continue
        places = _PLACES[spec.kind]
        step = Decimal(1).scaleb(-places)

        def at(v: Decimal, name: str = name, places: int = places) -> Decimal | None:
            inputs = {**start, name: int(v) if places == 0 else v}
            try:
                result = hunter.score(inputs)
            except (InputError, EvaluationError):
                return None
            _record(hunter, tally, inputs, result)
            x = _evaluate(value, result.values)
            return x if isinstance(x, Decimal) else None

        lo, hi = _bounds(spec)
        lo = lo.quantize(step, rounding=decimal.ROUND_CEILING)
        hi = hi.quantize(step, rounding=decimal.ROUND_FLOOR)
        x_lo, x_hi = at(lo), at(hi)
        if x_lo is None:
            lo += step
            x_lo = at(lo)
        if x_hi is None:
            hi -= step
            x_hi = at(hi)
        if i in tally.reached.get(leaf.id, ()):
            return
        if x_lo is None or x_hi is None or (x_lo - aim) * (x_hi - aim) > 0:
            continue
        rising = x_hi > x_lo
        for _ in range(_STEPS):
            if hi - lo <= step:
                break
            mid = ((lo + hi) / 2).quantize(step, rounding=decimal.ROUND_FLOOR)
            x = at(mid)
            if i in tally.reached.get(leaf.id, ()):
                return
            if x is None:
                break
            if (x < aim) == rising:
                lo = mid
            else:
                hi = mid


def _candidates(spec: InputSpec, landmarks: frozenset[Decimal]) -> list[Any]:
    """A few values of an input worth trying: both answers, every option, the bounds and
    the rubric's landmarks."""
    if spec.kind == "boolean":
        return [True, False]
    if spec.kind == "choice":
        return list(spec.options or ())
    if spec.kind not in _PLACES:
        return []
    places = _PLACES[spec.kind]
    step = Decimal(1).scaleb(-places)
    lo, hi = _bounds(spec)
    values = {
        lo.quantize(step, rounding=decimal.ROUND_CEILING),
        hi.quantize(step, rounding=decimal.ROUND_FLOOR),
    }
    values.update(x.quantize(step) for x in landmarks if lo <= x <= hi)
    return [int(x) if places == 0 else x for x in sorted(values)]


#: Rounds of the greedy climb towards a leaf's full weight.
_ROUNDS: Final = 3


def _climb(hunter: _Hunter, tally: _Tally, leaf: _Leaf) -> None:
    """From the best example of a leaf that never reached full marks, change one input it
    reads at a time, keeping each change that raises its share of the weight."""
    best = tally.best.get(leaf.id)
    if best is None:
        return
    share, inputs = best
    specs = hunter.rubric.inputs
    landmarks = _landmarks(hunter.rubric)
    for _ in range(_ROUNDS):
        improved = False
        for name in leaf.reads:
            for candidate in _candidates(specs[name], landmarks):
                if inputs.get(name) == candidate:
                    continue
                trial = {**inputs, name: candidate}
                try:
                    result = hunter.score(trial)
                except (InputError, EvaluationError):
                    continue
                _record(hunter, tally, trial, result)
                if tally.full.get(leaf.id):
                    return
                node = result[leaf.id]
                weight = node.effective_weight
                if node.status is Status.SCORED and weight and node.score / weight > share:
                    share, inputs, improved = node.score / weight, trial, True
        if not improved:
            return


def _aim_point(interval: Interval) -> Decimal:
    lower, upper = interval.lower, interval.upper
    if lower is not None and upper is not None:
        return (lower + upper) / 2
    if lower is not None:
        return lower + 1
    assert upper is not None
    return upper - 1


def _shows(hunter: _Hunter, key: tuple[str, ...]) -> Callable[[Example], bool]:
    """The condition Hypothesis shrinks an example under: it still shows ``key``."""

    def condition(example: Example) -> bool:
        return key in hunter.examine(example).violations

    return condition


def check_rubric(
    rubric: Rubric | CompiledRubric, *, seed: int = 0, max_examples: int = 500
) -> CheckReport:
    """Hunt for defects in ``rubric`` with generated departments; see the module docs.

    Deterministic for a given ``seed``. ``max_examples`` bounds the departments generated
    in the hunt, and again in the search that shrinks each error found.
    """
    if max_examples < 1:
        raise ValueError("max_examples must be at least 1")
    compiled = rubric if isinstance(rubric, CompiledRubric) else compile_rubric(rubric)
    hunter = _Hunter(compiled)
    strategy = hunter.strategy()
    tally = _Tally()

    def visit(example: Example) -> bool:
        _visit(hunter, tally, example)
        return False

    with contextlib.suppress(NoSuchExample, Unsatisfiable):  # the hunt never "finds"
        find(
            strategy,
            visit,
            settings=_settings(max_examples, shrink=False),
            random=random.Random(seed),
        )
    hidden = _solve_denominators(hunter, tally)
    for leaf in hunter.leaves:
        for i in range(len(leaf.branches)):
            if i not in tally.reached.get(leaf.id, ()):
                _steer(hunter, tally, leaf, i)
        if not tally.full.get(leaf.id):
            _climb(hunter, tally, leaf)

    findings: list[Finding] = []
    for key, (example, violation) in tally.first.items():
        try:
            smallest = find(
                strategy,
                _shows(hunter, key),
                settings=_settings(max_examples, shrink=True),
                random=random.Random(seed),
            )
        except (NoSuchExample, Unsatisfiable):
            smallest = example  # not found again: show the one the hunt saw
        shown = hunter.examine(smallest).violations.get(key, violation)
        inputs = dict(smallest[0])
        findings.append(
            Finding(
                violation.kind,
                "error" if violation.kind in ERROR_KINDS else "warning",
                violation.indicator,
                shown.message,
                inputs,
                _case_for(hunter, shown, inputs),
                shown.issue,
            )
        )
    findings.sort(key=lambda f: (_order(hunter, f.indicator), f.kind))
    findings.extend(_warnings(hunter, tally))
    findings.extend(hidden)
    return CheckReport(
        rubric_id=compiled.rubric.id,
        seed=seed,
        max_examples=max_examples,
        examples=tally.examples,
        rejected=tally.rejected,
        scored=tally.scored_all,
        findings=tuple(findings),
    )


# --------------------------------------------------------------------------- denominators

#: The value a not-applicable change rate stands in for, to ask the rule what it would
#: give: a change far beyond any threshold, with the sign of the numerator.
_BEYOND: Final = Decimal(1_000_000)


def _solve_denominators(hunter: _Hunter, tally: _Tally) -> list[Finding]:
    """Score departments whose denominators are solved for zero (see :mod:`._zeros`), so
    that a division by zero the random search missed is found (and shrunk like any other
    error); return a ``hidden_change`` finding for each not-applicable value that hides a
    change the rule would deduct for."""
    base = tally.base
    if base is None:
        return []
    specs = hunter.rubric.inputs
    names = frozenset(n for n, s in specs.items() if s.kind in NUMERIC_KINDS)
    findings: dict[str, Finding] = {}
    expand = linear_derived(hunter.rubric, names)
    for division in divisions(hunter.rubric):
        combination = linear(division.denominator, names, expand)
        if combination is None:
            continue
        for assignment in zeros(combination, specs, base):
            inputs = {**base, **assignment}
            outcome = hunter.examine((inputs, None))
            for key, violation in outcome.violations.items():
                tally.first.setdefault(key, ((inputs, None), violation))
            if outcome.result is None:
                continue
            _record(hunter, tally, inputs, outcome.result)
            derived = division.whole_derived
            if derived is None or derived in findings:
                continue
            guarded = _guarded(hunter, derived, frozenset(combination) - {""})
            if hunter.rubric.derived[derived].on_zero_division != "not_applicable" and not guarded:
                continue
            found = _hidden_change(hunter, division, derived, inputs, set(assignment), guarded)
            if found is not None:
                findings[derived] = found
    return list(findings.values())


def _guarded(hunter: _Hunter, derived: str, denominator: frozenset[str]) -> frozenset[str]:
    """The leaves that read ``derived`` and whose ``not_applicable_when`` reads an input of
    its denominator: a guard such as ``last == 0`` in front of ``(this - last) / last``,
    which makes the leaf not applicable exactly where the division would fail."""
    out: set[str] = set()
    for node in hunter.rubric.leaves:
        if not node.not_applicable_when or node.scoring is None:
            continue
        condition = hunter.names.compile(node.not_applicable_when)
        if condition is None or not hunter.names.inputs_of(condition.names) & denominator:
            continue
        for text in _strings(node.scoring.model_dump(mode="python")):
            formula = hunter.names.compile(text)
            if formula is not None and derived in formula.names:
                out.add(node.id)
                break
    return frozenset(out)


def _unguarded(nodes: tuple[Indicator, ...], guarded: frozenset[str]) -> tuple[Indicator, ...]:
    """``nodes`` with the ``not_applicable_when`` of the ``guarded`` leaves taken away."""
    out = []
    for node in nodes:
        if node.children is not None:
            node = node.model_copy(update={"children": _unguarded(node.children, guarded)})
        elif node.id in guarded:
            node = node.model_copy(update={"not_applicable_when": None})
        out.append(node)
    return tuple(out)


def _hidden_change(
    hunter: _Hunter,
    division: Division,
    derived: str,
    inputs: dict[str, Any],
    fixed: set[str],
    guarded: frozenset[str] = frozenset(),
) -> Finding | None:
    """A ``hidden_change`` finding when ``derived`` is not applicable for ``inputs`` (its
    denominator 0, by ``on_zero_division: not_applicable`` or by a leaf's guard, see
    :func:`_guarded`) though its numerator is not 0, and a leaf the rule would score
    below its weight for that change is not applicable instead."""
    numerator = hunter.names.compile(ast.unparse(division.numerator))
    if numerator is None:
        return None
    for candidate in _nonzero(hunter, numerator, inputs, fixed):
        try:
            result = hunter.score(candidate)
        except (InputError, EvaluationError):
            continue
        value = _evaluate(numerator, result.values)
        if not isinstance(value, Decimal) or not value:
            continue
        if result.values.get(derived) is not None and not guarded:
            continue
        spec = hunter.rubric.derived[derived]
        stand_in = _BEYOND if value > 0 else -_BEYOND
        update: dict[str, Any] = {
            "derived": {
                **hunter.rubric.derived,
                derived: spec.model_copy(update={"on_zero_division": stand_in}),
            }
        }
        if guarded:
            update["indicators"] = _unguarded(hunter.rubric.indicators, guarded)
        changed = hunter.rubric.model_copy(update=update)
        changed._compiled = None
        try:
            scored = compile_rubric(changed).score(candidate, explain=False)
        except PerfscoreError:
            continue
        for node in result.leaves:
            other = scored[node.id]
            if (
                node.status is Status.NOT_APPLICABLE
                and other.status is Status.SCORED
                and other.score < other.effective_weight
            ):
                by_guard = node.id in guarded
                message = tr(
                    "check.hidden_change_guarded" if by_guard else "check.hidden_change",
                    **(
                        {
                            "indicator": node.id,
                            "condition": hunter.rubric.indicator(node.id).not_applicable_when,
                        }
                        if by_guard
                        else {"derived": derived}
                    ),
                    denominator=division.text,
                    numerator=ast.unparse(division.numerator),
                    value=to_str(normalize(value)),
                    score=to_str(other.score),
                    weight=to_str(other.effective_weight),
                )
                return Finding(
                    "hidden_change",
                    "warning",
                    node.id,
                    message,
                    candidate,
                    golden_case(
                        f"check: hidden_change {node.id}",
                        candidate,
                        {"status": {node.id: node.status.value}},
                    ),
                )
    return None


def _nonzero(
    hunter: _Hunter, numerator: Formula, inputs: dict[str, Any], fixed: set[str]
) -> Iterable[dict[str, Any]]:
    """``inputs``, then the same with one input of the numerator (not one the solved
    denominator set) moved to a telling value, so that the numerator may be non-zero."""
    yield inputs
    for name in sorted(hunter.names.inputs_of(numerator.names) - fixed):
        spec = hunter.rubric.inputs[name]
        if spec.kind not in NUMERIC_KINDS:
            continue
        for value in (Decimal(100), Decimal(1), spec.max, spec.lower_bound):
            if value is not None and value != inputs.get(name):
                yield {**inputs, name: value}


def _order(hunter: _Hunter, indicator: str | None) -> int:
    ids = [node.id for node in hunter.rubric.walk()]
    if indicator in ids:
        return ids.index(indicator) + 1
    return 0


def _warnings(hunter: _Hunter, tally: _Tally) -> list[Finding]:
    out: list[Finding] = []
    accepted = tally.examples - tally.rejected
    if tally.examples and not accepted:
        out.append(
            Finding(
                "never_scored",
                "warning",
                None,
                f"none of the {tally.examples} generated departments was accepted as inputs",
            )
        )
        return out
    for leaf in hunter.leaves:
        scored = tally.scored.get(leaf.id, 0)
        if not scored:
            out.append(
                Finding(
                    "never_scored",
                    "warning",
                    leaf.id,
                    "never scored: not applicable, or an error, for every generated department",
                )
            )
            continue
        reached = tally.reached.get(leaf.id, set())
        for i, branch in enumerate(leaf.branches):
            if i not in reached:
                points = "" if branch.points is None else f" ({to_str(branch.points)} points)"
                out.append(
                    Finding(
                        "unreached_branch",
                        "warning",
                        leaf.id,
                        f"{branch.label}{points} was never reached in {scored} scored departments",
                    )
                )
        if not tally.full.get(leaf.id):
            share, inputs = tally.best[leaf.id]
            try:
                best = hunter.score(inputs)[leaf.id]
                shown = f"{to_str(best.score)} of {to_str(best.effective_weight)}"
            except (InputError, EvaluationError):  # pragma: no cover - it scored before
                shown = f"{to_str(normalize(share * 100))}%"
            out.append(
                Finding(
                    "never_full",
                    "warning",
                    leaf.id,
                    f"never reached its full weight in {scored} scored departments; "
                    f"best seen {shown}",
                    inputs,
                    golden_case(
                        f"check: best seen for {leaf.id}",
                        inputs,
                        _expect(hunter, inputs, leaf.id),
                    ),
                )
            )
    return out
