"""The vectorised path agrees exactly with the row engine: totals, grades, every leaf."""

from __future__ import annotations

import decimal
import importlib.util
import math
import operator
import random
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pytest.importorskip("numpy")

import numpy as np

import perfscore
from perfscore import formula
from perfscore.model import InputSpec
from perfscore.population import vectorised
from perfscore.testing import load_case_file

from .property.strategies import (
    BOOLEAN_NAMES,
    CHOICE_NAME,
    CHOICE_OPTIONS,
    NUMBER_NAMES,
    boolean_formulas,
    department_inputs,
    number_formulas,
    number_values,
    rubrics,
    to_yaml,
)

ROOT = Path(__file__).parents[1]
RUBRICS = {
    "shaoyang": ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml",
    "demo": ROOT / "examples" / "demo" / "rubric.yaml",
}
CASE_FILES = [
    ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.cases.yaml",
    ROOT / "examples" / "demo" / "rubric.cases.yaml",
    *sorted((ROOT / "rubrics" / "hunan").glob("*.cases.yaml")),
]


@pytest.fixture(scope="module", params=sorted(RUBRICS))
def compiled(request: pytest.FixtureRequest) -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(RUBRICS[request.param]))


def assert_agrees(compiled: perfscore.CompiledRubric, population: list[Mapping[str, Any]]) -> None:
    columns = vectorised.columns_from_records(population, compiled)
    result = vectorised.compile_vectorised(compiled).score(columns)
    totals, grades = result.total, result.grade
    for i, department in enumerate(population):
        try:
            row = compiled.score(department, explain=False)
        except perfscore.PerfscoreError:
            assert totals[i] is None, (i, department)
            continue
        assert (totals[i], grades[i]) == (row.total, row.grade), (i, department)
        for leaf in row.leaves:
            assert result.leaf_score(leaf.id, i) == leaf.score, (i, leaf.id)


def _edge_values(spec: InputSpec) -> list[Decimal]:
    """Values at and around the numbers a rubric is likely to compare with."""
    points = [0, 1, 2, 3, 5, 10, 18, 20, 30, 60, 70, 80, 85, 90, 95, 99, 100, 101, 120]
    out = []
    for p in points:
        for delta in ("0", "0.01", "-0.01", "0.005", "0.5", "-0.5"):
            value = Decimal(p) + Decimal(delta)
            if spec.kind in ("count", "integer") and value != value.to_integral_value():
                continue
            low, high = spec.lower_bound, spec.max
            if (low is None or value >= low) and (high is None or value <= high):
                out.append(value)
    return out or [Decimal(1)]


@st.composite
def departments(draw: st.DrawFn, rubric: perfscore.Rubric) -> dict[str, Any]:
    dept: dict[str, Any] = {}
    for name, spec in rubric.inputs.items():
        if spec.kind == "boolean":
            dept[name] = draw(st.booleans())
        elif spec.kind == "choice":
            dept[name] = draw(st.sampled_from(spec.options or ("",)))
        else:
            dept[name] = draw(st.sampled_from(_edge_values(spec)))
        if not spec.required and draw(st.integers(0, 9)) == 0:
            del dept[name]
    return dept


@pytest.mark.parametrize("name", sorted(RUBRICS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_populations_at_the_edges(name: str, data: st.DataObject) -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRICS[name]))
    population = data.draw(st.lists(departments(compiled.rubric), min_size=1, max_size=40))
    assert_agrees(compiled, population)


def test_large_random_population(compiled: perfscore.CompiledRubric) -> None:
    rng = random.Random(11)
    population = []
    for _ in range(3000):
        dept: dict[str, Any] = {}
        for name, spec in compiled.rubric.inputs.items():
            if spec.kind == "boolean":
                dept[name] = rng.random() < 0.8
            elif spec.kind == "choice":
                dept[name] = rng.choice(spec.options or ("",))
            elif spec.kind in ("count", "integer"):
                dept[name] = Decimal(rng.randint(int(spec.lower_bound or 0), 40))
            else:
                low = float(spec.lower_bound if spec.lower_bound is not None else 0)
                high = float(spec.max if spec.max is not None else 500)
                dept[name] = Decimal(f"{rng.uniform(low, high):.2f}")
        population.append(dept)
    assert_agrees(compiled, population)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_golden_case_inputs(path: Path) -> None:
    case_file = load_case_file(path)
    population = [dict(case.inputs) for case in case_file.cases]
    try:
        vectorised.compile_vectorised(case_file.rubric)
    except vectorised.Unsupported:
        pytest.skip("rubric outside the vectorised path")
    assert_agrees(case_file.rubric, population)


def test_rounding_edges_go_to_the_exact_engine() -> None:
    rubric = perfscore.loads_rubric(
        """
        id: edges
        title: 边界
        inputs:
          a: {label: A, kind: number}
          b: {label: B, kind: number}
        derived:
          r: {label: R, formula: a * b / 3, rounding: none}
        indicators:
          - {id: x, name: X, weight: 100, scoring: {method: formula, expression: r}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    compiled = perfscore.compile_rubric(rubric)
    population = [{"a": Decimal("0.1"), "b": Decimal(i)} for i in range(1, 200)]
    assert_agrees(compiled, population)


def test_row_groups_are_refused() -> None:
    compiled = perfscore.compile_rubric(
        perfscore.load_rubric(ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml")
    )
    with pytest.raises(vectorised.Unsupported):
        vectorised.compile_vectorised(compiled)


# --------------------------------------------------------------------------- exactness
# Rubrics whose values leave fixed point: the float path must still never decide a row
# it cannot be sure of.


def _rubric(derived: str, indicators: str, total: int, inputs: str = "") -> perfscore.Rubric:
    return perfscore.loads_rubric(
        f"""
        id: t
        title: T
        total: {total}
        inputs:
          a: {{label: A, kind: number}}
          b: {{label: B, kind: number}}
          {inputs}
        derived:
          {derived}
        indicators:
          {indicators}
        grades:
          - {{name: ok, range: "[0, {total}]"}}
        """
    )


def test_a_quotient_times_a_factor_that_cancels_is_left_to_floats() -> None:
    # The engine computes 1 / 3 to 34 digits, so 1 / 3 * 3 is 0.999...9 and its floor 0;
    # the exact product would say 1.
    rubric = _rubric(
        'r: {label: R, formula: "floor(a / 3 * b)", rounding: none}',
        "- {id: x, name: X, weight: 100, scoring: {method: formula, expression: r}}",
        100,
    )
    population = [{"a": Decimal(k), "b": Decimal(3 * m)} for k in range(1, 8) for m in (1, 2)]
    assert_agrees(perfscore.compile_rubric(rubric), population)


def test_cancellation_in_floats_is_never_trusted() -> None:
    # a / 3 + b / 3 - (a + b) / 3 is 0 (nearly, in the engine); in floats it is off by
    # up to ~1e-6 at these magnitudes, far beyond a relative margin of 1e-9 around 0.
    rubric = _rubric(
        "v: {label: V, formula: a / 3 + b / 3 - (a + b) / 3, rounding: none}",
        """- {id: x, name: X, weight: 10, scoring: {method: cases, otherwise: 0,
                                                    cases: [{when: v < 0, points: 10}]}}
          - {id: y, name: Y, weight: 10, scoring: {method: cases, otherwise: 0,
                                                    cases: [{when: v > 0, points: 10}]}}
          - {id: z, name: Z, weight: 10,
             scoring: {method: formula, expression: v * 1000000000000 + 5}}""",
        30,
    )
    rng = random.Random(5)
    population = [
        {
            "a": Decimal(rng.randint(0, 10**12)).scaleb(-2),
            "b": Decimal(rng.randint(0, 10**12)).scaleb(-2),
        }
        for _ in range(300)
    ]
    assert_agrees(perfscore.compile_rubric(rubric), population)


def test_clamp_with_bounds_the_wrong_way_round_gives_the_lower() -> None:
    rubric = _rubric(
        'v: {label: V, formula: "clamp(b, a, b)", rounding: none}',
        "- {id: x, name: X, weight: 100, scoring: {method: formula, expression: v}}",
        100,
    )
    population = [{"a": Decimal(a), "b": Decimal(b)} for a in (0, 1, 5, 50) for b in (0, 3, 60)]
    assert_agrees(perfscore.compile_rubric(rubric), population)


def test_powers_the_engine_refuses_go_to_it() -> None:
    # a fractional exponent, 0 ** 0 and 0 ** -1 are errors in the engine
    rubric = _rubric(
        "v: {label: V, formula: a ** b, rounding: none}",
        "- {id: x, name: X, weight: 100, scoring: {method: formula, expression: v}}",
        100,
    )
    values = [Decimal(x) for x in ("0", "0.1", "0.5", "1", "2", "-2", "3", "101", "-1")]
    population = [{"a": a, "b": b} for a in values for b in values]
    assert_agrees(perfscore.compile_rubric(rubric), population)


def test_figures_the_engine_refuses_or_rescales_are_read_as_it_reads_them() -> None:
    rubric = _rubric(
        "v: {label: V, formula: a + b + p + k, rounding: none}",
        "- {id: x, name: X, weight: 100, scoring: {method: formula, expression: v}}",
        100,
        """p: {label: P, kind: percent, accept: [fraction]}
          k: {label: K, kind: count, max: 5}""",
    )
    one = {"a": Decimal(1), "b": Decimal(2), "p": Decimal("0.253"), "k": Decimal(3)}  # 25.3 %
    population = [
        one,
        {**one, "a": Decimal("1e15")},  # implausibly large
        {**one, "a": Decimal(10**15 - 1), "b": Decimal(-(10**15) + 1)},
        {**one, "a": Decimal("1e-31")},  # too many places
        {**one, "k": Decimal("3.0000000000000001")},  # not whole, though its float is
        {**one, "k": Decimal("5.0000000000000001")},  # above max, though its float is not
        {**one, "k": Decimal("5.00")},
    ]
    assert_agrees(perfscore.compile_rubric(rubric), population)


# --------------------------------------------------------------------------- static bounds
# Fixed-point values carry static bounds, derived from the inputs' extremes and the
# constants, and every int64 operation is checked against them before it runs. Values at
# the bounds (up to 2**53) must never wrap around: each step of a random chain of
# operations is checked against exact rational arithmetic.

SAFE = vectorised.SAFE_UNITS
_MODES = ["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"]
_ROUNDING = {
    "half_up": "ROUND_HALF_UP",
    "half_even": "ROUND_HALF_EVEN",
    "half_down": "ROUND_HALF_DOWN",
    "up": "ROUND_UP",
    "down": "ROUND_DOWN",
    "ceiling": "ROUND_CEILING",
    "floor": "ROUND_FLOOR",
}
_EXTREMES = [SAFE - 1, -(SAFE - 1), 2**52, -(2**52), 2**31, 10**15 - 1, 1, 0, -1]


def _exact_round(x: Fraction, places: int, mode: str) -> int:
    """``x`` rounded to ``places`` decimals, in units: Decimal with ample digits."""
    context = decimal.Context(prec=300, rounding=getattr(decimal, _ROUNDING[mode]))
    value = context.divide(Decimal(x.numerator), Decimal(x.denominator))
    return int(value.quantize(Decimal(1).scaleb(-places), context=context).scaleb(places))


@st.composite
def _fixed_point(draw: st.DrawFn, n: int) -> tuple[Any, list[Fraction]]:
    """A fixed-point operand: a column with declared bounds (perhaps far looser than its
    values, as derived bounds are) or a constant."""
    places = draw(st.integers(0, vectorised.MAX_PLACES))
    ends = st.one_of(st.sampled_from(_EXTREMES), st.integers(-(SAFE - 1), SAFE - 1))
    lo, hi = sorted((draw(ends), draw(ends)))
    if draw(st.integers(0, 4)) == 0:
        units = draw(st.integers(lo, hi))
        return vectorised._Num.exact(units, places, units, units), [Fraction(units, 10**places)] * n
    inside = st.one_of(st.sampled_from([lo, hi]), st.integers(lo, hi))
    column = draw(st.lists(inside, min_size=n, max_size=n))
    num = vectorised._Num(None, np.array(column, dtype=np.int64), places, lo, hi)
    return num, [Fraction(u, 10**places) for u in column]


def _check(num: Any, exact: list[Fraction | None], n: int) -> None:
    """``num`` holds ``exact`` (None: a row marked to the engine) within its bounds."""
    if num.units is not None:
        assert -SAFE < num.lo <= num.hi < SAFE
        units = np.broadcast_to(np.asarray(num.units), (n,))
        assert units.dtype == np.int64 or isinstance(num.units, int)
        for u, x in zip(units.tolist(), exact, strict=True):
            assert num.lo <= u <= num.hi
            if x is not None:
                assert Fraction(u, 10**num.places) == x
    elif num.ratio is not None:
        r = num.ratio
        assert -SAFE < r.lo <= r.hi < SAFE
        assert 1 <= r.dhi < SAFE
        nums = np.broadcast_to(np.asarray(r.num), (n,)).tolist()
        dens = np.broadcast_to(np.asarray(r.den), (n,)).tolist()
        for a, b, x in zip(nums, dens, exact, strict=True):
            assert r.lo <= a <= r.hi
            assert 1 <= b <= r.dhi
            if x is not None:
                assert Fraction(a, b) == x
    else:
        fs = np.broadcast_to(np.asarray(num.f, dtype=np.float64), (n,)).tolist()
        errs = np.broadcast_to(np.asarray(num.err, dtype=np.float64), (n,)).tolist()
        for f, e, x in zip(fs, errs, exact, strict=True):
            if x is not None and math.isfinite(f) and math.isfinite(e):
                assert abs(Fraction(f) - x) <= Fraction(e), (f, e, x)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fixed_point_bounds_never_let_int64_wrap(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 6))
    state = vectorised._State(n, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    pool = [data.draw(_fixed_point(n)) for _ in range(3)]
    for _ in range(data.draw(st.integers(1, 8))):
        (a, xa), (b, xb) = data.draw(st.sampled_from(pool)), data.draw(st.sampled_from(pool))
        op = data.draw(
            st.sampled_from(["+", "-", "*", "/", "round", "min", "max", "where", "neg", "cmp"])
        )
        known = [
            None if state.fail[i] or state.uncertain[i] or p is None or q is None else (p, q)
            for i, (p, q) in enumerate(zip(xa, xb, strict=True))
        ]
        if op in ("+", "-", "*"):
            fn = {"+": vectorised._add, "-": vectorised._sub, "*": vectorised._mul}[op]
            out = fn(a, b)
            ref = {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]
            exact = [None if k is None else ref(*k) for k in known]
        elif op == "/":
            out = vectorised._div(a, b, state.fail, None)
            exact = [
                None if k is None or state.fail[i] else k[0] / k[1] for i, k in enumerate(known)
            ]
        elif op == "round":
            places, mode = data.draw(st.integers(0, 6)), data.draw(st.sampled_from(_MODES))
            out = vectorised._quantize(a, places, mode, state, None)
            exact = [
                None
                if k is None or state.fail[i] or state.uncertain[i]
                else Fraction(_exact_round(k[0], places, mode), 10**places)
                for i, k in enumerate(known)
            ]
        elif op in ("min", "max"):
            out = vectorised._pick(op, a, b, state, None)
            pick = min if op == "min" else max
            exact = [
                None if k is None or state.uncertain[i] else pick(k) for i, k in enumerate(known)
            ]
        elif op == "where":
            test = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
            out = vectorised._where(test, a, b)
            exact = [
                None if k is None else k[0] if t else k[1] for k, t in zip(known, test, strict=True)
            ]
        elif op == "neg":
            out = vectorised._sub(vectorised._const(Decimal(0)), a)
            exact = [None if k is None else -k[0] for k in known]
        else:
            cmp_op = data.draw(st.sampled_from(sorted(vectorised._COMPARE)))
            got = np.broadcast_to(vectorised._compare(cmp_op, a, b, state, None), (n,))
            ref = formula._CMP[cmp_op]  # the row engine's own comparisons
            for i, k in enumerate(known):
                if k is not None and not state.uncertain[i]:
                    assert bool(got[i]) == ref(*k)
            continue
        _check(out, exact, n)
        pool.append((out, exact))


# --------------------------------------------------------------------------- random rubrics

_HARD_VALUES = st.sampled_from(
    [
        Decimal(x)
        for x in (
            "0", "1", "3", "0.5", "1.5", "2.5", "-2.5", "0.125", "1e-9", "0.0000001",
            "90071992547409.91", "-90071992547409.91", "999999999999999", "123456789012.345678",
            "562949953421312", "-999999999999.999",
        )
    ]
)  # fmt: skip


@st.composite
def _formula_rubrics(draw: st.DrawFn) -> perfscore.Rubric:
    """Random formulas (every operator and function), random rounding, every method that
    reads a number, over inputs that may be huge, tiny or on an edge."""
    modes = st.sampled_from(_MODES)
    rounding = draw(
        st.one_of(
            st.just("none"),
            st.fixed_dictionaries({"places": st.integers(0, 4), "mode": modes}),
        )
    )
    v: dict[str, Any] = {
        "label": "v",
        "formula": draw(number_formulas(3)),
        "rounding": rounding,
        "as_percent": draw(st.booleans()),
    }
    if draw(st.booleans()):
        v["on_zero_division"] = draw(st.sampled_from([Decimal(0), Decimal(7), "not_applicable"]))
    score = {"places": draw(st.integers(0, 3)), "mode": draw(modes)}
    deduct = {
        "points": draw(st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("0.3")])),
        "per": draw(st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("0.01"), Decimal(3)])),
        "steps": draw(st.sampled_from(["whole", "partial_up", "pro_rata"])),
    }
    data = {
        "id": "f",
        "title": "F",
        "total": Decimal(400),
        "rounding": {"score": score, "total": score},
        "inputs": {
            **{n: {"label": n, "kind": "number"} for n in NUMBER_NAMES},
            **{n: {"label": n, "kind": "boolean"} for n in BOOLEAN_NAMES},
            CHOICE_NAME: {"label": "s", "kind": "choice", "options": list(CHOICE_OPTIONS)},
        },
        "derived": {
            "v": v,
            "w": {"label": "w", "formula": draw(number_formulas(2)), "rounding": "none"},
            "t": {"label": "t", "formula": draw(boolean_formulas(2)), "rounding": "none"},
        },
        "indicators": [
            {"id": "i1", "name": "1", "weight": Decimal(100),
             "scoring": {"method": "formula", "expression": "v"}},
            {"id": "i2", "name": "2", "weight": Decimal(100),
             "scoring": {"method": "formula", "expression": "w + 50"}},
            {"id": "i3", "name": "3", "weight": Decimal(50),
             "scoring": {"method": "cases", "cases": [{"when": "t", "points": Decimal(30)}],
                         "otherwise": Decimal(0)}},
            {"id": "i4", "name": "4", "weight": Decimal(50),
             "scoring": {"method": "deduction", "value": "v", "deduct": deduct,
                         "threshold": draw(st.sampled_from([Decimal(0), Decimal("0.5")])),
                         "direction": draw(st.sampled_from(["over", "under"]))}},
            {"id": "i5", "name": "5", "weight": Decimal(100),
             "scoring": {"method": "proportional", "value": "w",
                         "full_at": draw(st.sampled_from(["100", "v", "3"]))}},
        ],
        "grades": [{"name": "ok", "range": "[0, 400]"}],
    }  # fmt: skip
    try:
        return perfscore.loads_rubric(to_yaml(data))
    except perfscore.PerfscoreError:  # e.g. a derived value that is not a number
        assume(False)
        raise


_formula_inputs = st.fixed_dictionaries(
    {
        **{n: st.one_of(number_values, _HARD_VALUES) for n in NUMBER_NAMES},
        **{n: st.booleans() for n in BOOLEAN_NAMES},
        CHOICE_NAME: st.sampled_from(CHOICE_OPTIONS),
    }
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_formula_rubrics(), st.lists(_formula_inputs, min_size=1, max_size=20))
def test_random_formulas_agree(rubric: perfscore.Rubric, population: list[dict[str, Any]]) -> None:
    assert_agrees(perfscore.compile_rubric(rubric), population)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubrics, st.lists(department_inputs(), min_size=1, max_size=30))
def test_random_rubrics_agree(rubric: perfscore.Rubric, population: list[dict[str, Any]]) -> None:
    """Every method, not-applicable policy, rounding rule and grade layout."""
    compiled = perfscore.compile_rubric(rubric)
    numbers = {k for k, spec in rubric.inputs.items() if spec.kind not in ("boolean", "choice")}
    # Figures as Decimals (as read from a file), so that the vectorised path scores them.
    population = [
        {k: Decimal(v) if k in numbers and isinstance(v, str | int) else v for k, v in d.items()}
        for d in population
    ]
    assert_agrees(compiled, population)


def test_a_float_rounded_up_to_2_53_is_left_to_the_engine() -> None:
    # 2**53 - 1 + 0.5 is 2**53 in floats: too large to keep as fixed point
    state = vectorised._State(3, np.zeros(3, dtype=bool), np.zeros(3, dtype=bool))
    value = vectorised._float(np.array([2.0**53 - 1, 1.5, -(2.0**53) + 1]), 0.0)
    out = vectorised._quantize(value, 0, "half_up", state, None)
    assert state.fail.tolist() == [True, False, True]
    assert -SAFE < out.lo <= out.hi < SAFE
    assert int(out.units[1]) == 2


# --------------------------------------------------------------------------- columns from arrays
# Populations that arrive as columns: every row agrees with the row engine, and with the
# same records through columns_from_records.

try:
    import pyarrow as pa
except ImportError:  # pragma: no cover - pyarrow is optional (perfscore[parquet])
    pa = None
requires_arrow = pytest.mark.skipif(pa is None, reason="needs pyarrow")

GARBAGE: list[Any] = ["garbage", "12", " 3 ", True, 1.5, float("nan"), [1], "", "-"]


def assert_arrays_agree(
    compiled: perfscore.CompiledRubric,
    arrays: Mapping[str, Any],
    population: list[dict[str, Any]],
) -> vectorised.VectorResult:
    """``arrays`` hold ``population`` (its records, a null being a key left out: in a
    column, an empty value, the key with None)."""
    columns = vectorised.columns_from_arrays(arrays, compiled)
    assert columns.rows == len(population)
    scorer = vectorised.compile_vectorised(compiled)
    result = scorer.score(columns)
    via_records = scorer.score(vectorised.columns_from_records(population, compiled))
    totals, grades = result.total, result.grade
    assert totals == via_records.total
    assert grades == via_records.grade
    for i, department in enumerate(population):
        try:
            row = compiled.score(department, explain=False)
        except perfscore.PerfscoreError:
            assert totals[i] is None, (i, department)
            assert isinstance(result.exact_rows[i], perfscore.PerfscoreError)
            continue
        assert (totals[i], grades[i]) == (row.total, row.grade), (i, department)
        for leaf in row.leaves:
            assert result.leaf_score(leaf.id, i) == leaf.score, (i, leaf.id)
    for i in result.exact_rows:  # a row the engine rescored had exactly its record
        record = columns.records[i]
        assert {k: v for k, v in record.items() if v is not None} == population[i], i
        assert all(k in compiled.rubric.inputs for k, v in record.items() if v is None), i
    return result


def _int_edges(spec: InputSpec) -> list[int]:
    out = [0, 1, 2, 5, 30, 99, 100, 101, 10**15 - 1, 10**15, -(10**15) + 1, -(10**15), -1]
    for bound in (spec.lower_bound, spec.max):
        if bound is not None:
            out += [
                math.floor(bound) - 1,
                math.floor(bound),
                math.ceil(bound),
                math.ceil(bound) + 1,
            ]
    return out


@st.composite
def _number_column(draw: st.DrawFn, spec: InputSpec, n: int) -> tuple[Any, list[Any]]:
    """A column for a number input in one of the forms columns arrive in, and the values
    its records hold (None: absent)."""
    form = draw(st.sampled_from(["int64", "decimal128", "arrow_int", "float64", "object"]))
    edges = _edge_values(spec)
    if form == "int64":
        values: list[Any] = draw(
            st.lists(st.sampled_from(_int_edges(spec)), min_size=n, max_size=n)
        )
        return np.array(values, dtype=np.int64), values
    if form == "arrow_int":
        ints = st.one_of(st.sampled_from(_int_edges(spec)), st.none())
        values = draw(st.lists(ints, min_size=n, max_size=n))
        return pa.array(values, type=pa.int64()), values
    if form == "decimal128":
        scale = draw(st.integers(0, 3))
        precision = draw(st.sampled_from([18, 38]))
        quantum = Decimal(1).scaleb(-scale)
        big = [Decimal(10**15), Decimal(10**15) - quantum, Decimal(-(10**15))]
        if precision == 38:
            big.append(Decimal(10**20))
        big = [x for x in big if abs(x.scaleb(scale)) < 10**precision]
        pick = st.one_of(st.sampled_from(edges), st.sampled_from(big), st.none())
        raw = draw(st.lists(pick, min_size=n, max_size=n))
        values = [
            None if x is None else x.quantize(quantum, rounding=decimal.ROUND_DOWN) for x in raw
        ]
        column = pa.array(values, type=pa.decimal128(precision, scale))
        if draw(st.booleans()):  # in chunks, and sliced
            column = pa.chunked_array([column.slice(0, n // 2), column.slice(n // 2)])
        return column, values
    if form == "float64":
        floats = draw(st.lists(st.sampled_from([float(e) for e in edges]), min_size=n, max_size=n))
        return np.array(floats, dtype=np.float64), floats
    pick = st.one_of(st.sampled_from(edges), st.sampled_from(_int_edges(spec)), st.none())
    values = draw(st.lists(st.one_of(pick, st.sampled_from(GARBAGE)), min_size=n, max_size=n))
    return np.fromiter(values, dtype=object, count=n), values


@st.composite
def _column(draw: st.DrawFn, spec: InputSpec, n: int) -> tuple[Any, list[Any]]:
    if spec.kind == "boolean":
        if draw(st.integers(0, 3)):
            values: list[Any] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            return np.array(values, dtype=bool), values
        pick = st.one_of(st.booleans(), st.none(), st.sampled_from(GARBAGE))
        values = draw(st.lists(pick, min_size=n, max_size=n))
        if draw(st.booleans()) and all(isinstance(v, bool) or v is None for v in values):
            return pa.array(values, type=pa.bool_()), values
        return np.fromiter(values, dtype=object, count=n), values
    if spec.kind == "choice":
        options = [*(spec.options or ()), "unknown", " " + (spec.options or ("x",))[0]]
        form = draw(st.sampled_from(["unicode", "object", "arrow", "dictionary"]))
        if form == "unicode":
            values = draw(st.lists(st.sampled_from(options), min_size=n, max_size=n))
            return np.array(values, dtype=str), values
        pick = st.one_of(st.sampled_from(options), st.none())
        if form == "object":
            pick = st.one_of(pick, st.sampled_from([1, True, Decimal(1), [1]]))
        values = draw(st.lists(pick, min_size=n, max_size=n))
        if form == "object":
            return np.fromiter(values, dtype=object, count=n), values
        column = pa.array(values, type=pa.string())
        return (column.dictionary_encode() if form == "dictionary" else column), values
    return draw(_number_column(spec, n))


@st.composite
def _populations(
    draw: st.DrawFn, rubric: perfscore.Rubric
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    n = draw(st.integers(1, 12))
    arrays: dict[str, Any] = {}
    population: list[dict[str, Any]] = [{} for _ in range(n)]
    for k, (name, spec) in enumerate(rubric.inputs.items()):
        if k and draw(st.integers(0, 30)) == 0:
            continue  # a missing column: absent in every row
        if draw(st.integers(0, 2)):  # most columns hold plausible values only
            if spec.kind == "boolean":
                plausible: st.SearchStrategy[Any] = st.booleans()
            elif spec.kind == "choice":
                plausible = st.sampled_from(spec.options or ("",))
            else:
                plausible = st.sampled_from(_edge_values(spec))
            values = draw(st.lists(plausible, min_size=n, max_size=n))
            if spec.kind in ("count", "integer") and all(v is not None for v in values):
                arrays[name], values = np.array([int(v) for v in values], dtype=np.int64), values
                values = [int(v) for v in values]
            else:
                arrays[name] = np.fromiter(values, dtype=object, count=n)
        else:
            arrays[name], values = draw(_column(spec, n))
        for record, value in zip(population, values, strict=True):
            if value is not None:
                record[name] = value
    return arrays, population


@requires_arrow
@pytest.mark.parametrize("name", sorted(RUBRICS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_columns_from_arrays_of_mixed_types(name: str, data: st.DataObject) -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRICS[name]))
    arrays, population = data.draw(_populations(compiled.rubric))
    assert_arrays_agree(compiled, arrays, population)


def _valid_population(compiled: perfscore.CompiledRubric, n: int) -> list[dict[str, Any]]:
    rng = random.Random(5)
    out = []
    for _ in range(n):
        dept: dict[str, Any] = {}
        for name, spec in compiled.rubric.inputs.items():
            if spec.kind == "boolean":
                dept[name] = rng.random() < 0.8
            elif spec.kind == "choice":
                dept[name] = rng.choice(spec.options or ("",))
            else:
                dept[name] = rng.choice([*_int_edges(spec)[:7], int(spec.lower_bound or 0) + 3])
                low, high = spec.lower_bound, spec.max
                if (low is not None and dept[name] < low) or (
                    high is not None and dept[name] > high
                ):
                    dept[name] = math.ceil(low) if low is not None else 0
        out.append(dept)
    return out


def _as_arrays(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]]
) -> dict[str, Any]:
    arrays: dict[str, Any] = {}
    for name, spec in compiled.rubric.inputs.items():
        values = [d[name] for d in population]
        if spec.kind == "boolean":
            arrays[name] = np.array(values, dtype=bool)
        elif spec.kind == "choice":
            arrays[name] = pa.array(values, type=pa.string())
        else:
            arrays[name] = np.array(values, dtype=np.int64)
    return arrays


def _arrays_of(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]]
) -> vectorised.Columns:
    return vectorised.columns_from_arrays(_as_arrays(compiled, population), compiled)


@requires_arrow
def test_integer_columns_at_and_around_the_bounds(compiled: perfscore.CompiledRubric) -> None:
    candidates = _valid_population(compiled, 50)
    plain = vectorised.compile_vectorised(compiled).score(_arrays_of(compiled, candidates))
    base = next(d for i, d in enumerate(candidates) if i not in plain.exact_rows)
    population = [base]
    for name, spec in compiled.rubric.inputs.items():
        if spec.kind in ("boolean", "choice", "text", "table"):
            continue
        edges = [10**15 - 1, 10**15, -(10**15), -(10**15) + 1]
        for bound in (spec.lower_bound, spec.max):
            if bound is not None:
                edges += [
                    math.ceil(bound) - 1,
                    math.ceil(bound),
                    math.floor(bound),
                    math.floor(bound) + 1,
                ]
        population += [{**base, name: value} for value in edges]
    arrays = _as_arrays(compiled, population)
    result = assert_arrays_agree(compiled, arrays, population)
    scorer = vectorised.compile_vectorised(compiled)
    via_records = scorer.score(vectorised.columns_from_records(population, compiled))
    assert set(result.exact_rows) == set(via_records.exact_rows)
    assert 0 not in result.exact_rows  # the plausible row is scored by numpy
    # the same figures as decimal128 at 2 places
    decimals = {
        k: pa.array([Decimal(int(x)) for x in v], type=pa.decimal128(38, 2))
        if isinstance(v, np.ndarray) and v.dtype == np.int64
        else v
        for k, v in arrays.items()
    }
    assert_arrays_agree(compiled, decimals, population)


def _benchmark_population(
    compiled: perfscore.CompiledRubric, n: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """benchmarks/run.py's population, as int64 and decimal128 columns."""
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    population: list[dict[str, Any]] = module.generate(compiled.rubric, n)
    arrays: dict[str, Any] = {}
    for name, input_spec in compiled.rubric.inputs.items():
        values = [d[name] for d in population]
        if input_spec.kind == "boolean":
            arrays[name] = np.array(values, dtype=bool)
        elif input_spec.kind == "choice":
            arrays[name] = pa.array(values, type=pa.string())
        elif input_spec.kind in ("count", "integer"):
            arrays[name] = np.array([int(v) for v in values], dtype=np.int64)
            for d in population:
                d[name] = int(d[name])
        else:
            arrays[name] = pa.array(values, type=pa.decimal128(18, 2))
    return arrays, population


@requires_arrow
def test_the_benchmark_population_as_columns(compiled: perfscore.CompiledRubric) -> None:
    arrays, population = _benchmark_population(compiled, 500)
    result = assert_arrays_agree(compiled, arrays, population)
    via_records = vectorised.compile_vectorised(compiled).score(
        vectorised.columns_from_records(population, compiled)
    )
    assert set(result.exact_rows) == set(via_records.exact_rows)
    columns = vectorised.columns_from_arrays(arrays, compiled)
    assert set(columns.units) == set(vectorised.columns_from_records(population, compiled).units)
    if compiled.rubric.id.startswith("shaoyang") or len(compiled.rubric.inputs) > 50:
        assert result.rows_from_engine == 0


@requires_arrow
def test_array_records_are_built_on_demand() -> None:
    arrays = {
        "a": np.array([1, 2], dtype=np.int64),
        "b": pa.array([Decimal("1.50"), None], type=pa.decimal128(10, 2)),
        "c": np.array([True, False]),
        "d": pa.chunked_array([pa.array(["x"]), pa.array([None], type=pa.string())]),
        "e": np.array([1.25, float("nan")]),
        "f": [Decimal("2"), None],
    }
    records = vectorised.ArrayRecords({k: vectorised._as_column(v) for k, v in arrays.items()}, 2)
    assert len(records) == 2
    first, second = records[0], records[-1]
    assert first == {"a": 1, "b": Decimal("1.50"), "c": True, "d": "x", "e": 1.25, "f": Decimal(2)}
    assert [type(first[k]) for k in "abcdef"] == [int, Decimal, bool, str, float, Decimal]
    assert set(second) == {"a", "c", "e"}
    assert math.isnan(second["e"])
    with pytest.raises(IndexError):
        records[2]


def test_columns_of_different_lengths_are_refused(compiled: perfscore.CompiledRubric) -> None:
    name = next(iter(compiled.rubric.inputs))
    with pytest.raises(ValueError, match="different lengths"):
        vectorised.columns_from_arrays({name: [1, 2], "other": [1]}, compiled)


@requires_arrow
def test_unknown_columns_send_their_rows_to_the_engine(compiled: perfscore.CompiledRubric) -> None:
    arrays, population = _benchmark_population(compiled, 3)
    plain = vectorised.compile_vectorised(compiled).score(
        vectorised.columns_from_arrays(arrays, compiled)
    )
    arrays["not_an_input"] = np.array([None, 7, None], dtype=object)
    population[1]["not_an_input"] = 7
    result = assert_arrays_agree(compiled, arrays, population)
    assert set(result.exact_rows) == set(plain.exact_rows) | {1}


@given(
    st.none() | st.decimals(-(10**16), 10**16, places=3),
    st.none() | st.decimals(-(10**16), 10**16, places=3),
    st.integers(0, 6),
)
def test_unit_limits_are_the_declared_bounds_in_units(
    low: Decimal | None, high: Decimal | None, places: int
) -> None:
    """A unit count (well inside int64, where the limits are clamped) is admitted exactly
    when its value lies within the declared bounds and below 10**15 in magnitude; the
    limits are kept by value (``1`` and ``1.00`` share them)."""
    lowest, highest = vectorised._unit_limits(low, high, places)
    scale = Decimal(10) ** places
    for units in {lowest - 1, lowest, highest, highest + 1, 0}:
        if abs(units) >= 2**62:
            continue
        value = Decimal(units) / scale
        admitted = (
            abs(value) < 10**15
            and (low is None or value >= low)
            and (high is None or value <= high)
        )
        assert (lowest <= units <= highest) == admitted, (units, low, high, places)
    if low is not None:
        assert vectorised._unit_limits(low.quantize(Decimal("0.001")), high, places) == (
            lowest,
            highest,
        )


def test_array_records_hold_a_declared_inputs_null_as_an_empty_value() -> None:
    """A null in a declared input's column is the key with None (the row engine says
    the input is empty, as of NaN); in another column it leaves the key out."""
    arrays = {
        "a": pa.array([None, 1.5], type=pa.float64()),
        "extra": pa.array([None, "x"], type=pa.string()),
    }
    records = vectorised.ArrayRecords(arrays, 2, {"a"})
    assert records[0] == {"a": None}
    assert records[1] == {"a": 1.5, "extra": "x"}
    assert records.many([0, 1]) == [records[0], records[1]]
