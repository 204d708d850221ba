"""The compiled fast path: the same results as the full engine, made without its bookkeeping."""

from __future__ import annotations

import copy
import dataclasses
import gc
import operator
import pickle
import re
import weakref
from collections.abc import Mapping
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfscore
from perfscore._fastpath import input_check
from perfscore._inputs import NA, validate_inputs
from perfscore._numbers import ENGINE_CONTEXT
from perfscore.i18n import use_lang
from perfscore.loading import load_document
from perfscore.results import Explanation, ScoreResult, Step

from .property.strategies import CONDITIONS, build_rubric, department_inputs, rubric_data

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


def _full_engine(
    compiled: perfscore.CompiledRubric, inputs: dict[str, object], explain: bool
) -> ScoreResult:
    # in the engine's decimal context, as score() runs it (a difference of 1E-30 from 90
    # is lost at the default context's 28 digits)
    with localcontext(ENGINE_CONTEXT):
        return compiled._score(compiled.validate_inputs(inputs), explain)


def test_fast_result_has_every_field_and_equals_the_full_engine() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    inputs, _ = load_document(SEED)
    assert compiled._fast is not None
    for explain in (False, True):
        fast = compiled.score(inputs, explain=explain)
        assert set(vars(fast)) >= {f.name for f in dataclasses.fields(ScoreResult)}
        assert fast == _full_engine(compiled, inputs, explain)
        assert fast.total == Decimal("90.00")


def test_generated_source_reads_only_its_own_names() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    assert compiled._fast is not None
    source: str = compiled._fast.source  # type: ignore[attr-defined]
    assert "import" not in source
    assert set(re.findall(r"__\w+__", source)) <= {"__class__"}
    assert "eval(" not in source
    assert "exec(" not in source


def test_unusual_departments_go_to_the_full_engine() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    inputs, _ = load_document(SEED)
    inputs = {**inputs, "satisfaction": None}  # not applicable: the full engine moves weight
    result = compiled.score(inputs, explain=False)
    assert result.total == _full_engine(compiled, inputs, False).total == Decimal("90.64")


def _engine_or_error(compiled: perfscore.CompiledRubric, inputs: dict[str, object]) -> object:
    """What the full engine makes of ``inputs``: its result with warnings, or its error."""
    try:
        values = compiled.validate_inputs(inputs)
        with localcontext(ENGINE_CONTEXT):
            result = compiled._score(dict(values), False)
        return compiled._warn(result, values, None)
    except perfscore.PerfscoreError as error:
        return type(error), str(error)


def _fast_or_error(compiled: perfscore.CompiledRubric, inputs: dict[str, object]) -> object:
    try:
        return compiled.score(inputs, explain=False)
    except perfscore.PerfscoreError as error:
        return type(error), str(error)


_EDGES = st.sampled_from(
    [
        Decimal(0),
        Decimal("0E-40"),
        Decimal("1E-31"),
        Decimal("1E-30"),
        Decimal("-0.5"),
        Decimal("0.5"),
        Decimal("0.99"),
        Decimal(1),
        Decimal("1.5"),
        Decimal(100),
        Decimal("100.01"),
        Decimal(-1),
        Decimal("999999999999999"),
        Decimal("1E15"),
        Decimal("NaN"),
        Decimal("Infinity"),
        0,
        1,
        0.5,
        "0.5",
        "95",
        None,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fast_path_agrees_with_the_engine_at_every_input_edge(data: st.DataObject) -> None:
    """Inputs at the edges of what the fast test takes as it is (bounds, magnitude, places,
    fractions of one for percents, other types): the same result, warnings included, or the
    same error as the full engine."""
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    names = sorted(compiled.input_specs)
    for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)):
        inputs = {**inputs, name: data.draw(_EDGES)}
    assert _fast_or_error(compiled, inputs) == _engine_or_error(compiled, inputs)


_COMPILED: list[perfscore.CompiledRubric] = []


def _shaoyang() -> perfscore.CompiledRubric:
    if not _COMPILED:
        _COMPILED.append(perfscore.compile_rubric(perfscore.load_rubric(RUBRIC)))
    return _COMPILED[0]


# ---------------------------------------------------------------- not applicable, rows

#: How a gap arrives: None, an empty cell, a float NaN (pandas, numpy), pandas' NA.
_GAPS: list[object] = [None, "", "  ", float("nan")]
try:
    import pandas

    _GAPS.append(pandas.NA)
except ImportError:  # pragma: no cover - pandas is a dev dependency
    pass

#: Departments of the Shaoyang rubric that are not applicable somewhere, one way each:
#: a missing optional input under each policy, an ``on_zero_division`` fallback (a value
#: and not applicable), a ``not_applicable_when`` leaf, and several at once.
_UNUSUAL: dict[str, dict[str, object]] = {
    "rescale": {"satisfaction": None},
    "to_siblings": {"economic_benefit": None},
    "to_siblings twice": {"economic_benefit": "", "ecological_benefit": float("nan")},
    "a missing input no leaf reads": {"spend_health": None},
    "zero division, not applicable": {"project_spend_total": Decimal(0)},
    "zero division, a value": {"tasks_done": Decimal(0), "tasks_on_time": Decimal(0)},
    "not_applicable_when": {
        "sangong_budget_last": Decimal(0),
        "sangong_budget_this": Decimal(0),
        "sangong_actual_this": Decimal(0),
    },
    "every policy": {
        "satisfaction": None,
        "economic_benefit": None,
        "procurement_budget": Decimal(0),
        "procurement_actual": Decimal(0),
        "fixed_assets_total": Decimal(0),
        "fixed_assets_in_use": Decimal(0),
    },
}


@pytest.mark.parametrize("case", sorted(_UNUSUAL))
def test_not_applicable_departments_stay_on_the_fast_path(case: str) -> None:
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    inputs = {**inputs, **_UNUSUAL[case]}
    assert compiled._fast is not None
    compiled._fast(inputs)  # no Fallback: the fast function scores it
    for explain in (False, True):
        fast = compiled.score(inputs, explain=explain)
        assert fast == _full_engine(compiled, inputs, explain)
        assert fast.indicators == _full_engine(compiled, inputs, explain).indicators
    statuses = {n.status for n in compiled.score(inputs, explain=False).leaves}
    scored_only = case in ("zero division, a value", "a missing input no leaf reads")
    assert (perfscore.Status.NOT_APPLICABLE in statuses) is not scored_only


_NA_EDGES = st.one_of(_EDGES, st.sampled_from(_GAPS))


@pytest.mark.parametrize("gap", [None, "satisfaction", "spend_health"])
def test_a_check_that_holds_stays_on_the_fast_path_with_its_warning(gap: str | None) -> None:
    """Spending lines that do not add up (the ``spend_split`` check holds), with nothing,
    a leaf or one of the check's own inputs not applicable: the fast function scores the
    department and says so; the result carries the engine's warning, or none when the
    check reads a value that is missing."""
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    inputs = {**inputs, "spend_total": Decimal(inputs["spend_total"]) + Decimal("0.04")}
    if gap is not None:
        inputs[gap] = None
    assert compiled._fast is not None
    assert compiled._fast(inputs)[-1] is (gap != "spend_health")
    for explain in (False, True):
        fast = compiled.score(inputs, explain=explain, source="d.yaml")
        values = dict(compiled.validate_inputs(inputs))
        with localcontext(ENGINE_CONTEXT):
            full = compiled._score(values, explain)  # adds the derived values
        full = compiled._warn(full, values, "d.yaml")
        assert fast == full
        assert fast.warnings == full.warnings
        assert [w.code for w in fast.warnings] == (
            [] if gap == "spend_health" else ["input.inconsistent"]
        )


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fast_path_agrees_with_the_engine_when_values_are_not_applicable(
    data: st.DataObject,
) -> None:
    """Gaps in optional inputs (every policy), zero divisors and the ``not_applicable_when``
    conditions, mixed with the edges above: the same result, explanations included, or the
    same error as the full engine."""
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    for case in data.draw(st.lists(st.sampled_from(sorted(_UNUSUAL)), max_size=3)):
        inputs = {**inputs, **_UNUSUAL[case]}
    if data.draw(st.booleans()):  # the spending lines no longer add up: a check holds
        inputs = {**inputs, "spend_total": Decimal(inputs["spend_total"]) + Decimal("0.04")}
    names = sorted(compiled.input_specs)
    for name in data.draw(st.lists(st.sampled_from(names), max_size=3)):
        inputs = {**inputs, name: data.draw(_NA_EDGES)}
    assert _fast_or_error(compiled, inputs) == _engine_or_error(compiled, inputs)
    explain = data.draw(st.booleans())
    try:
        fast = compiled.score(inputs, explain=explain)
    except perfscore.PerfscoreError:
        return
    assert fast.indicators == _full_engine(compiled, inputs, explain).indicators


_PROJECT = ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml"
_PROJECT_INPUTS = ROOT / "examples" / "project-self-eval-2020" / "inputs.yaml"


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fast_path_scores_row_groups_as_the_engine_does(data: st.DataObject) -> None:
    """Row groups (rows' values at their edges, the optional table left out so that its
    weight moves to the siblings): the same result as the full engine, explanations of
    each row included."""
    compiled = perfscore.compile_rubric(perfscore.load_rubric(_PROJECT))
    assert compiled._fast is not None
    inputs, _ = load_document(_PROJECT_INPUTS)
    rows = [dict(row) for row in inputs["output_rows"]]
    for row in data.draw(st.lists(st.sampled_from(range(len(rows))), max_size=3)):
        rows[row]["actual"] = data.draw(
            st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(500), Decimal(1000), None])
        )
    inputs = {**inputs, "output_rows": rows}
    if data.draw(st.booleans()):
        inputs["satisfaction_rows"] = data.draw(st.sampled_from(_GAPS))
    inputs["budget_executed"] = data.draw(
        st.sampled_from([Decimal(0), Decimal("111.60"), Decimal(120), Decimal(200)])
    )
    assert _fast_or_error(compiled, inputs) == _engine_or_error(compiled, inputs)
    explain = data.draw(st.booleans())
    try:
        fast = compiled.score(inputs, explain=explain)
    except perfscore.PerfscoreError:
        return
    assert fast.indicators == _full_engine(compiled, inputs, explain).indicators


# ------------------------------------------------ not-applicable patterns: the plan's code

#: Each way a Shaoyang department can make leaves not applicable, alone: every subset of
#: them is a pattern (full marks, weight to the siblings, rescaling, and their mixtures).
_TRIGGERS: dict[str, dict[str, object]] = {
    "rescale": {"satisfaction": None},
    "economic, to_siblings": {"economic_benefit": None},
    "ecological, to_siblings": {"ecological_benefit": ""},
    "sangong change": {"sangong_budget_last": Decimal(0), "sangong_budget_this": Decimal(0)},
    "sangong control": {"sangong_budget_this": Decimal(0), "sangong_actual_this": Decimal(0)},
    "key projects": {"project_spend_total": Decimal(0)},
    "procurement": {"procurement_budget": Decimal(0), "procurement_actual": Decimal(0)},
    "fixed assets": {"fixed_assets_total": Decimal(0)},
}


def test_every_not_applicable_pattern_is_aggregated_by_its_plan_as_the_engine_does() -> None:
    """Every subset of the ways above (255 patterns, with and without explanations): the
    fast function aggregates the department by the generated code of its pattern's plan
    (moved weights rounded by largest remainder, scaled scores, branch sums, the grade),
    and the result is the full engine's, explanations included."""
    compiled = _shaoyang()
    seed, _ = load_document(SEED)
    assert compiled._fast is not None
    names = sorted(_TRIGGERS)
    for mask in range(1, 1 << len(names)):
        inputs = dict(seed)
        for k, name in enumerate(names):
            if mask >> k & 1:
                inputs.update(_TRIGGERS[name])
        out = compiled._fast(inputs)
        assert len(out) == 8, names  # the plan's shape, not the engine's aggregation
        for explain in (False, True):
            fast = compiled.score(inputs, explain=explain)
            full = _full_engine(compiled, inputs, explain)
            assert fast == full
            assert fast.indicators == full.indicators
            assert fast.unrounded_total == full.unrounded_total
    assert len(compiled._fast_plans) >= 128  # one per pattern of not-applicable leaves


def test_a_pattern_with_every_leaf_not_applicable_takes_the_engine_aggregation() -> None:
    """No plan is generated for a department whose every leaf is not applicable: the
    engine aggregates it and adds its warning."""
    compiled = perfscore.compile_rubric(
        perfscore.loads_rubric(
            _MINI + "    not_applicable_when: not f\n"
            "  - {id: b, name: B, weight: 40, not_applicable_when: not f,"
            " scoring: {method: proportional, value: x, full_at: 10}}\n"
        )
    )
    assert compiled._fast is not None
    inputs = {"x": Decimal(5), "f": False}
    assert len(compiled._fast(inputs)) == 4  # the engine's aggregation
    result = compiled.score(inputs, explain=False)
    assert result == _full_engine(compiled, inputs, False)
    assert [w.code for w in result.warnings] == ["score.all_not_applicable"]


_MINI = """\
schema_version: 1
id: mini
title: 小表
total: 100
inputs:
  x: {label: 数, kind: number, min: 0}
  f: {label: 是否, kind: boolean}
  o: {label: 可选, kind: number, required: false}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
indicators:
  - id: a
    name: A
    weight: 60
    scoring: {method: proportional, value: x, full_at: 10}
"""


@pytest.mark.parametrize("o", [Decimal(9), Decimal(1), None])
def test_a_grade_cap_beside_a_not_applicable_leaf(o: Decimal | None) -> None:
    """A cap whose condition holds sends the department to the engine's aggregation,
    which caps the grade; a cap reading a value not applicable does not apply."""
    compiled = perfscore.compile_rubric(
        perfscore.loads_rubric(
            _MINI + "    not_applicable: rescale\n    not_applicable_when: not f\n"
            "  - {id: b, name: B, weight: 40,"
            " scoring: {method: proportional, value: x, full_at: 10}}\n"
            "grade_caps:\n  - {id: veto, when: o > 5, max_grade: 差}\n"
        )
    )
    assert compiled._fast is not None
    inputs = {"x": Decimal(10), "f": False, "o": o}
    assert len(compiled._fast(inputs)) == (4 if o == Decimal(9) else 8)
    for explain in (False, True):
        result = compiled.score(inputs, explain=explain)
        full = compiled._warn(
            _full_engine(compiled, inputs, explain), compiled.validate_inputs(inputs), None
        )
        assert result == full
        assert result.indicators == full.indicators
        assert result.grade_caps == full.grade_caps == (("veto",) if o == Decimal(9) else ())


@st.composite
def _capped_rubric_data(draw: st.DrawFn) -> dict[str, object]:
    data = draw(rubric_data())
    if draw(st.booleans()):
        grades = [band["name"] for band in data["grades"]]
        data["grade_caps"] = [
            {"id": "cap", "when": draw(st.sampled_from(CONDITIONS)), "max_grade": grades[-1]}
        ]
    return data


@settings(max_examples=300, deadline=None)
@given(_capped_rubric_data(), department_inputs(), st.booleans())
def test_generated_rubrics_agree_with_the_engine_on_every_pattern(
    data: dict[str, object], inputs: dict[str, object], explain: bool
) -> None:
    """Random rubrics (every policy, ``not_applicable_when``, an optional input, a derived
    value not applicable on a zero divisor, scores and totals rounded to 0-3 places in
    every mode, sometimes a grade cap): what the fast path makes of a department is the
    full engine's result or error, explanations included."""
    try:
        compiled = perfscore.compile_rubric(build_rubric(data))
    except perfscore.PerfscoreError:
        return
    assert _fast_or_error(compiled, inputs) == _engine_or_error(compiled, inputs)
    try:
        fast = compiled.score(inputs, explain=explain)
    except perfscore.PerfscoreError:
        return
    full = _full_engine(compiled, inputs, explain)
    assert fast.indicators == full.indicators
    assert (fast.total, fast.unrounded_total, fast.grade) == (
        full.total,
        full.unrounded_total,
        full.grade,
    )


# ------------------------------------------------------------ lazy leaf explanations

_LAZY_CASES = {"clean": {}, "not applicable": {"satisfaction": None, "economic_benefit": None}}


@pytest.mark.parametrize("case", sorted(_LAZY_CASES))
def test_a_lazy_explanation_is_an_explanation_in_every_use(case: str) -> None:
    """A leaf explanation of the fast path, written when first read, behaves as the full
    engine's: attributes of the same types, equality both ways, indexing, unpacking,
    ``_asdict``, ``_replace``, ``repr``, copies and pickles."""
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    inputs = {**inputs, **_LAZY_CASES[case]}
    fast = compiled.score(inputs)
    full = _full_engine(compiled, inputs, True)
    leaves = [(f, e) for f, e in zip(fast.indicators, full.indicators, strict=True) if f.is_leaf]
    assert leaves
    for node, other in leaves:
        lazy, plain = node.explanation, other.explanation
        assert lazy is not None
        assert plain is not None
        assert isinstance(lazy, Explanation)
        assert type(lazy) is not Explanation
        assert isinstance(lazy.values, Mapping)
        assert type(lazy.steps) is tuple
        assert all(type(step) is Step for step in lazy.steps)
        assert lazy.steps is lazy.steps  # written once
        assert lazy == plain
        assert plain == lazy
        assert operator.ne(lazy, plain) is False
        assert operator.ne(plain, lazy) is False
        assert lazy != Explanation(plain.values, ())
        assert operator.eq(lazy, ("x",)) is False
        assert operator.eq(lazy, 3) is False
        assert len(lazy) == 2
        assert lazy[0] == lazy.values
        assert lazy[-1] == lazy.steps
        assert lazy[:] == tuple(lazy) == (lazy.values, lazy.steps)
        values, steps = lazy
        assert (values, steps) == (plain.values, plain.steps)
        assert lazy.steps in lazy
        assert lazy.count(lazy.steps) == 1
        assert lazy.index(lazy.steps) == 1
        assert lazy._asdict() == {"values": lazy.values, "steps": lazy.steps}
        replaced = lazy._replace(steps=())
        assert type(replaced) is Explanation
        assert replaced == (lazy.values, ())
        assert repr(lazy) == repr(Explanation(lazy.values, lazy.steps))
        assert lazy.to_dict() == plain.to_dict()
        for again in (pickle.loads(pickle.dumps(lazy)), copy.deepcopy(lazy), copy.copy(lazy)):
            assert again == plain
            assert type(again) is Explanation
        assert node == other
        assert other == node
        assert pickle.loads(pickle.dumps(node)) == other
    assert pickle.loads(pickle.dumps(fast)).indicators == full.indicators


def test_lazy_steps_are_written_in_the_language_of_the_result() -> None:
    """Steps first read under another language are still written in the language the
    department was scored in."""
    with use_lang("zh"):
        compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
        inputs, _ = load_document(SEED)
        inputs = {**inputs, "satisfaction": None}
        later = [compiled.score(inputs), compiled.score({**inputs, "satisfaction": 95})]
        now = [_full_engine(compiled, inputs, True)]
        now.append(_full_engine(compiled, {**inputs, "satisfaction": 95}, True))
    with use_lang("en"):
        texts = [_step_texts(r) for r in later]
    assert texts == [_step_texts(r) for r in now]


def _step_texts(result: ScoreResult) -> list[str]:
    return [s.text for n in result.leaves if n.explanation for s in n.explanation.steps]


_DIVISIONS = """\
schema_version: 1
id: divisions
title: 除法
total: 100
inputs:
  x: {label: 数, kind: number}
  y: {label: 除数, kind: number}
derived:
  q: {label: 商, formula: "x / y", on_zero_division: not_applicable}
  r: {label: 比, formula: "(x + 1) / (y * 2) - x / y", on_zero_division: 7}
  p: {label: 幂, formula: "x ** y", on_zero_division: 0}
  m: {label: 大, formula: "max(x / y, 1)", on_zero_division: 3}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
indicators:
  - {id: a, name: A, weight: 25, scoring: {method: proportional, value: q, full_at: 10}}
  - {id: b, name: B, weight: 25, scoring: {method: proportional, value: r, full_at: 10}}
  - {id: c, name: C, weight: 25, scoring: {method: proportional, value: p, full_at: 10}}
  - {id: d, name: D, weight: 25, scoring: {method: proportional, value: m, full_at: 10}}
"""


@pytest.mark.parametrize("x", [Decimal(0), Decimal(3), Decimal(-2)])
@pytest.mark.parametrize("y", [Decimal(0), Decimal("0.0"), Decimal(-1), Decimal(2)])
def test_divisions_by_zero_take_their_fallback_as_the_engine_does(x: Decimal, y: Decimal) -> None:
    """``x / 0`` and ``0 / 0`` in a formula of operators take the fallback without being
    located; a power (``0 ** 0`` is no division) and a function call are located by the
    engine's interpreter, as before: the same result or error as the full engine."""
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(_DIVISIONS))
    assert compiled._fast is not None
    source: str = compiled._fast.source  # type: ignore[attr-defined]
    assert source.count("except (_ZeroDivisionError, _InvalidOperation):") == 2  # q and r
    inputs = {"x": x, "y": y}
    assert _fast_or_error(compiled, inputs) == _engine_or_error(compiled, inputs)


def test_the_fast_function_keeps_no_reference_to_its_rubric() -> None:
    """The compiled rubric goes as soon as nothing refers to it: its fast function, which
    makes the plans of not-applicable patterns, holds it weakly (no reference cycle)."""
    text = (
        _MINI + "    not_applicable: rescale\n    not_applicable_when: not f\n"
        "  - {id: b, name: B, weight: 40,"
        " scoring: {method: proportional, value: x, full_at: 10}}\n"
    )
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(text))
    assert compiled._fast is not None
    assert len(compiled._fast({"x": Decimal(5), "f": False})) == 8
    ref = weakref.ref(compiled)
    compiled.rubric._compiled = None  # the rubric's own cache (a cycle of its own)
    gc.collect()
    gc.disable()
    try:
        del compiled
        assert ref() is None
    finally:
        gc.enable()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_input_check_takes_each_value_as_its_coercer_does(data: st.DataObject) -> None:
    """The generated input check takes a bool or a plain Decimal without calling the
    input's coercer: the same value (the same object) as the coercer gives, or the same
    refusal."""
    compiled = _shaoyang()
    rule = data.draw(st.sampled_from(compiled._inputs))
    raw = data.draw(
        st.one_of(
            _EDGES,
            st.booleans(),
            st.decimals(allow_nan=False, allow_infinity=False, places=2),
            st.integers(-5, 200).map(Decimal),
        )
    )
    if raw is None:
        return
    try:
        expected: object = rule.coerce(raw)
    except ValueError:
        expected = "refused"
    if isinstance(expected, Decimal) and (
        (rule.low is not None and expected < rule.low)
        or (rule.high is not None and expected > rule.high)
    ):
        expected = "refused"
    try:
        got: object = validate_inputs(
            [rule], {rule.id: raw}, missing=None, check=input_check([rule])
        )[rule.id]
    except perfscore.InputError:
        got = "refused"
    assert got == expected
    assert type(got) is type(expected)
    if got != "refused" and raw.__class__ in (Decimal, bool) and expected is raw:
        assert got is raw


@pytest.mark.parametrize("case", [None, *sorted(_UNUSUAL)])
def test_the_values_are_the_engines_in_its_order_and_each_results_own(case: str | None) -> None:
    """The fast function fills each department's values into a copy of one template: the
    result's values hold the engine's keys in the engine's order (inputs, then derived
    values; None where not applicable), and no two results share them."""
    compiled = _shaoyang()
    seed, _ = load_document(SEED)
    inputs = {**seed, **(_UNUSUAL[case] if case else {})}
    fast = compiled.score(inputs, explain=False)
    full = _full_engine(compiled, inputs, False)
    assert list(fast.values.items()) == list(full.values.items())
    other = compiled.score({**inputs, "staff_actual": Decimal(1)}, explain=False)
    assert other.values["staff_actual"] == Decimal(1)
    assert fast.values["staff_actual"] == seed["staff_actual"]
    assert fast.values is not other.values
    again = pickle.loads(pickle.dumps(fast))
    assert again == fast
    assert list(again.values) == list(full.values)


def test_a_fast_result_makes_its_nodes_when_first_read() -> None:
    """The nodes of a result the fast path made are built on first read, once, with or
    without explanations, and equal the full engine's."""
    compiled = _shaoyang()
    seed, _ = load_document(SEED)
    for inputs in (seed, {**seed, "satisfaction": None}):
        for explain in (False, True):
            fast = compiled.score(inputs, explain=explain)
            assert callable(vars(fast)["nodes"])
            first = fast.indicators
            assert fast.indicators is first
            assert first == _full_engine(compiled, inputs, explain).indicators


# ---------------------------------------------------------- the generated input check


def _checked(
    compiled: perfscore.CompiledRubric, inputs: dict[str, object], generated: bool
) -> object:
    """The values ``validate_inputs`` makes of ``inputs`` (items in order, each value's
    type and identity with the raw value), or its issues; by the rubric's generated check
    or by the rules one by one."""
    extra: dict[str, object] = (
        {"declared": compiled._declared_inputs, "check": compiled._input_check} if generated else {}
    )
    try:
        values = validate_inputs(compiled._inputs, inputs, missing=NA, **extra)  # type: ignore[arg-type]
    except perfscore.InputError as error:
        return [issue.to_dict() for issue in error.issues], str(error)
    return [(k, type(v), v, v is inputs.get(k)) for k, v in values.items()]


_WRONG = st.sampled_from(["待补", "abc", "", "  ", True, False, -3, "-1", Decimal("-12.50")])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_generated_input_check_is_the_rules_one_by_one(data: st.DataObject) -> None:
    """Departments with values at every edge, gaps, wrong types, values out of bounds and
    keys not declared: the generated check gives the same values in the same order (the
    same objects where the rules take a value as it is), or the same issues in the same
    order, with the same messages, hints and locations."""
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    names = sorted(compiled.input_specs)
    for name in data.draw(st.lists(st.sampled_from(names), max_size=4)):
        inputs = {**inputs, name: data.draw(st.one_of(_NA_EDGES, _WRONG))}
    for name in data.draw(st.lists(st.sampled_from(names), max_size=2)):
        inputs = {k: v for k, v in inputs.items() if k != name}
    if data.draw(st.booleans()):
        inputs = {**inputs, data.draw(st.sampled_from(["satisfactoin", "部门", "x"])): 1}
    assert _checked(compiled, inputs, True) == _checked(compiled, inputs, False)
    expected = _checked(compiled, inputs, False)
    if isinstance(expected, tuple):  # refused: score() raises the same issues
        with pytest.raises(perfscore.InputError) as raised:
            compiled.score(inputs, explain=False)
        assert [i.to_dict() for i in raised.value.issues] == expected[0]


@settings(max_examples=200, deadline=None)
@given(rubric_data(), department_inputs())
def test_the_generated_input_check_on_generated_rubrics(
    data: dict[str, object], inputs: dict[str, object]
) -> None:
    """Random rubrics (every kind of input, bounds, defaults, optional inputs) and random
    departments: the generated check is the rules one by one."""
    try:
        compiled = perfscore.compile_rubric(build_rubric(data))
    except perfscore.PerfscoreError:
        return
    assert _checked(compiled, inputs, True) == _checked(compiled, inputs, False)


def test_the_generated_input_check_takes_common_values_without_the_rules() -> None:
    """The generated check calls the rules' own check only for what it does not take in
    one test: a bool for a boolean, a plain Decimal within bounds for a number."""
    compiled = _shaoyang()
    source: str = compiled._input_check.source  # type: ignore[attr-defined]
    specs = compiled.input_specs
    for rule in compiled._inputs:
        kind = specs[rule.id].kind
        line = next(s for s in source.splitlines() if s.strip() == f"x = get({rule.id!r})")
        following = source.splitlines()[source.splitlines().index(line) + 1]
        assert following.strip().startswith("if ") is (
            kind in ("boolean", "number", "percent", "money", "integer", "count")
            and "fraction" not in specs[rule.id].accept
        ), rule.id


def test_the_generated_input_check_on_every_input_at_every_edge() -> None:
    """Each input of the Shaoyang rubric given each edge value, wrong value and gap in
    turn, and left out: the generated check is the rules one by one."""
    compiled = _shaoyang()
    seed, _ = load_document(SEED)
    edges = [*_EDGES.elements, *_WRONG.elements, *_GAPS, Decimal("150")]
    for name in compiled.input_specs:
        for value in edges:
            inputs = {**seed, name: value}
            assert _checked(compiled, inputs, True) == _checked(compiled, inputs, False)
        inputs = {k: v for k, v in seed.items() if k != name}
        assert _checked(compiled, inputs, True) == _checked(compiled, inputs, False)
