"""Grade bands: a valid layout gives every total exactly one grade; the compiler accepts a
layout exactly when it does."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore import RubricValidationError

from .strategies import Band, any_grade_layouts, decimals, grade_layouts, probe_points, text


def _rubric(total: Decimal, bands: list[Band]) -> str:
    grades = "\n".join(f'  - {{name: {b.name}, range: "{b.notation}"}}' for b in bands)
    return (
        f"id: g\ntitle: G\ntotal: {text(total)}\n"
        "rounding: {score: {places: 4}, total: {places: 4}}\n"
        "inputs:\n  x: {label: X, kind: number}\n"
        f"indicators:\n  - {{id: a, name: A, weight: {text(total)}, "
        "scoring: {method: formula, expression: x}}\n"
        f"grades:\n{grades}\n"
    )


totals = st.sampled_from([Decimal(100), Decimal(10), Decimal("1.5"), Decimal(120)])


@given(st.data())
def test_every_total_falls_in_exactly_one_band(data: st.DataObject) -> None:
    total = data.draw(totals)
    bands = data.draw(grade_layouts(total))
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(_rubric(total, bands)))
    extra = data.draw(st.lists(decimals(0, total, places=4), max_size=5))
    for x in [*probe_points(bands, total), *extra]:
        holding = [b.name for b in bands if x in b]
        assert len(holding) == 1, (x, holding)
        assert compiled.score({"x": x}, explain=False).grade == holding[0]


@given(st.data())
def test_layout_accepted_exactly_when_it_covers_each_total_once(data: st.DataObject) -> None:
    total = data.draw(totals)
    bands = data.draw(any_grade_layouts(total))
    covers_once = all(sum(x in b for b in bands) == 1 for x in probe_points(bands, total))
    error: RubricValidationError | None = None
    try:
        perfscore.loads_rubric(_rubric(total, bands))
    except RubricValidationError as e:
        error = e
    if covers_once:
        assert error is None, str(error)
    else:
        assert error is not None
        assert set(error.codes) <= {"rubric.grades_gap", "rubric.grades_overlap"}
