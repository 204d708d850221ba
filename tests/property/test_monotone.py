"""A scoring method declared (or known) monotone never lowers the score when its value
moves the good way: deduction always, proportional always, bands and formula when they
say ``monotone:``."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import perfscore

from .strategies import band_tables, decimals, leaf_weights, text, to_yaml

values = st.lists(decimals(-300, 300, places=2), min_size=2, max_size=8)


def _leaf(scoring: dict[str, Any], weight: Decimal) -> perfscore.CompiledRubric:
    data = {
        "id": "m",
        "title": "M",
        "total": weight,
        "inputs": {"x": {"label": "X", "kind": "number"}},
        "indicators": [{"id": "a", "name": "A", "weight": weight, "scoring": scoring}],
        "grades": [{"name": "ok", "range": f"[0, {text(weight)}]"}],
    }
    return perfscore.compile_rubric(perfscore.loads_rubric(to_yaml(data)))


def _assert_monotone(compiled: perfscore.CompiledRubric, xs: list[Decimal], direction: str) -> None:
    ordered = sorted(xs)
    scores = [compiled.score({"x": x}, explain=False)["a"].score for x in ordered]
    pairs = list(itertools.pairwise(scores))
    if direction == "increasing":
        assert all(a <= b for a, b in pairs), list(zip(ordered, scores, strict=True))
    else:
        assert all(a >= b for a, b in pairs), list(zip(ordered, scores, strict=True))


@st.composite
def deductions(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal]:
    weight = draw(leaf_weights())
    method: dict[str, Any] = {
        "method": "deduction",
        "value": draw(st.sampled_from(["x", "x / 3", "round(x, 1)", "abs(x) + x"])),
        "threshold": draw(decimals(-100, 100, places=draw(st.integers(0, 2)))),
        "direction": draw(st.sampled_from(["over", "under"])),
        "deduct": {
            "points": draw(decimals("0.01", weight, places=2)),
            "per": draw(st.sampled_from([Decimal("0.01"), Decimal("0.5"), Decimal(1), Decimal(5)])),
            "steps": draw(st.sampled_from(["whole", "partial_up", "pro_rata"])),
        },
    }
    if draw(st.booleans()):
        method["floor"] = draw(decimals(0, weight, places=2))
    if draw(st.booleans()):
        method["max_deduction"] = draw(decimals("0.01", weight * 2, places=2))
    return method, weight


@given(deductions(), values)
def test_deduction_is_monotone(case: tuple[dict[str, Any], Decimal], xs: list[Decimal]) -> None:
    method, weight = case
    direction = "decreasing" if method["direction"] == "over" else "increasing"
    _assert_monotone(_leaf(method, weight), xs, direction)


@given(st.data(), values)
def test_declared_monotone_bands_are_monotone(data: st.DataObject, xs: list[Decimal]) -> None:
    weight = data.draw(leaf_weights())
    direction = data.draw(st.sampled_from(["increasing", "decreasing"]))
    bands = data.draw(band_tables(weight, monotone=direction))
    method = {"method": "bands", "value": "x", "monotone": direction, "bands": bands}
    _assert_monotone(_leaf(method, weight), [*xs, *_band_ends(bands)], direction)


def _band_ends(bands: list[dict[str, Any]]) -> set[Decimal]:
    """Every finite end of every band: the values where a monotone table may break."""
    ends = set()
    for band in bands:
        if "equals" in band:
            ends.add(band["equals"])
            continue
        for end in band["range"][1:-1].split(","):
            if "∞" not in end:
                ends.add(Decimal(end.strip()))
    return ends


@st.composite
def monotone_expressions(draw: st.DrawFn, depth: int = 3) -> str:
    """Expressions of x that never decrease as x grows."""
    if depth == 0:
        return draw(st.sampled_from(["x", "x", "(x / 7)", "(2 * x)", "(x + 10)"]))
    inner = draw(monotone_expressions(depth - 1))
    c = text(draw(decimals(-50, 50, places=1)))
    k = text(draw(decimals("0.1", 5, places=1)))
    return draw(
        st.sampled_from(
            [
                inner,
                f"({inner} + {c})",
                f"({inner} * {k})",
                f"({inner} / {k})",
                f"min({inner}, {c})",
                f"max({inner}, {c})",
                f"floor({inner})",
                f"ceil({inner})",
                f"round({inner}, 1)",
                f"clamp({inner}, -{k}, {k})",
                f"({inner} ** 3)" if depth == 1 else inner,
                f"({inner} if x > {c} else min({inner}, {c}))",
            ]
        )
    )


@given(st.data(), values)
def test_declared_monotone_formulas_are_monotone(data: st.DataObject, xs: list[Decimal]) -> None:
    weight = data.draw(leaf_weights())
    direction = data.draw(st.sampled_from(["increasing", "decreasing"]))
    expression = data.draw(monotone_expressions())
    if direction == "decreasing":
        expression = f"-{expression}"
    method = {"method": "formula", "expression": expression, "monotone": direction}
    _assert_monotone(_leaf(method, weight), xs, direction)


@given(st.data(), values)
def test_proportional_is_monotone(data: st.DataObject, xs: list[Decimal]) -> None:
    weight = data.draw(leaf_weights())
    full_at = text(data.draw(decimals("0.5", 200, places=1)))
    method = {"method": "proportional", "value": "x", "full_at": full_at}
    _assert_monotone(_leaf(method, weight), xs, "increasing")
