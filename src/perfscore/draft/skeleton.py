"""A ``*.cases.yaml`` skeleton for a drafted rubric: cases at the edges of every typed rule.

The expected scores are computed here, from the rule read in the prose (not by the
engine), so that running the cases checks the drafted scoring against the reading; each
case says it is to be confirmed. Base inputs give every leaf full marks; a case changes
the inputs of one leaf and expects that leaf's score.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from perfscore._numbers import to_str
from perfscore.i18n import tr
from perfscore.methods import method_kinds

from . import prose
from .build import Draft, DraftLeaf

__all__ = ["edge_values", "expected_score", "skeleton"]

_CENT = Decimal("0.01")


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def expected_score(rule: prose.Rule, weight: Decimal, value: Any) -> Decimal:
    """The score ``rule`` gives a leaf of ``weight`` at ``value``: a number for rules that
    read one, a tuple of booleans (items met / cases holding) for checklists and cases, a
    level name for levels. Rounded to 2 places, half up."""
    if isinstance(rule, prose.DeductionRule):
        x = Decimal(value)
        beyond = x - rule.threshold if rule.direction == "over" else rule.threshold - x
        steps = Decimal(math.floor(beyond / rule.per)) if beyond > 0 else Decimal(0)
        return _round(max(Decimal(0), weight - steps * rule.points))
    if isinstance(rule, prose.BandsRule):
        x = Decimal(value)
        for band in rule.bands:
            if _in(band, x):
                return _round(band.points)
        raise ValueError(f"{x} is in no band")
    if isinstance(rule, prose.ProportionalRule):
        x = Decimal(value)
        if x >= rule.full_at:
            return _round(weight)
        return _round(max(Decimal(0), weight * x / rule.full_at))
    if isinstance(rule, prose.LevelsRule):
        return _round(dict(rule.levels)[value])
    if isinstance(rule, prose.ChecklistRule):
        flags: tuple[bool, ...] = value
        each = [p for _, p in rule.items]
        if rule.mode == "earn":
            earned = sum((p for p, ok in zip(each, flags, strict=True) if ok), Decimal(0))
            return _round(min(weight, earned))
        lost = sum((p for p, ok in zip(each, flags, strict=True) if not ok), Decimal(0))
        return _round(max(Decimal(0), weight - lost))
    holds: tuple[bool, ...] = value
    for (_, points), ok in zip(rule.cases, holds, strict=True):
        if ok:
            return _round(points)
    raise ValueError("no case holds")


def _in(band: prose.Band, x: Decimal) -> bool:
    if band.lower is not None and (x < band.lower or (x == band.lower and not band.include_lower)):
        return False
    return not (
        band.upper is not None and (x > band.upper or (x == band.upper and not band.include_upper))
    )


def edge_values(rule: prose.Rule, weight: Decimal) -> list[Any]:
    """The values at the edges of ``rule``: a threshold and one step either side, every
    band end and a hundredth beside it, 0 / half / full / beyond for proportional, each
    item failing alone, each level, each case alone."""
    if isinstance(rule, prose.DeductionRule):
        last = Decimal(math.ceil(weight / rule.points))
        if rule.counted:
            return [Decimal(0), Decimal(1), Decimal(2), last + 1]
        sign = 1 if rule.direction == "over" else -1
        t, per = rule.threshold, rule.per
        return [
            t - sign * per,
            t,
            t + sign * (per - _CENT),
            t + sign * per,
            t + sign * per * (last + 1),
        ]
    if isinstance(rule, prose.BandsRule):
        values: list[Decimal] = []
        for band in rule.bands:
            for end in (band.lower, band.upper):
                if end is None:
                    continue
                for v in (end - _CENT, end, end + _CENT):
                    if v not in values and any(_in(b, v) for b in rule.bands):
                        values.append(v)
        return sorted(values)
    if isinstance(rule, prose.ProportionalRule):
        return [Decimal(0), rule.full_at / 2, rule.full_at - _CENT, rule.full_at, rule.full_at + 20]
    if isinstance(rule, prose.LevelsRule):
        return [n for n, _ in rule.levels]
    if isinstance(rule, prose.ChecklistRule):
        n = len(rule.items)
        flags = [tuple(True for _ in range(n)), tuple(False for _ in range(n))]
        flags += [tuple(j != i for j in range(n)) for i in range(n)]
        return flags
    n = len(rule.cases)
    return [tuple(j == i for j in range(n)) for i in range(n)]


def _full(rule: prose.Rule, weight: Decimal) -> Any:
    """A value giving full marks, or the best the rule gives."""
    values = edge_values(rule, weight)
    return max(values, key=lambda v: expected_score(rule, weight, v))


def _group_of(draft: Draft, table: str) -> str | None:
    for node in _walk(draft.data["indicators"]):
        if node.get("rows", {}).get("table") == table:
            return str(node["id"])
    return None


def _walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        out.append(node)
        out.extend(_walk(node.get("children", [])))
    return out


def _inputs(
    leaf: DraftLeaf, value: Any, spec: dict[str, Any], divisors: frozenset[str] = frozenset()
) -> dict[str, Any]:
    rule = leaf.rule
    if isinstance(rule, prose.ChecklistRule):
        return {
            ident: (not ok if rule.failure else ok)
            for ident, ok in zip(leaf.items, value, strict=True)
        }
    if isinstance(rule, prose.CasesRule):
        return dict(zip(leaf.items, value, strict=True))
    found = {leaf.value or "": value} if leaf.formula is None else _solve(leaf, value)
    for ident, v in found.items():
        if not isinstance(v, Decimal):
            continue
        if v == 0 and ident in divisors:
            raise ValueError(f"{ident} divides another value: 0 is left to the author")
        low = spec.get(ident, {}).get("min")
        if low is not None and v < Decimal(str(low)):
            raise ValueError(f"{ident} would be {v}, below its min {low}")
    return found


def _solve(leaf: DraftLeaf, value: Any) -> dict[str, Any]:
    assert leaf.formula is not None
    expression = leaf.formula.expression.replace(" ", "")
    scale = Decimal(100) if leaf.formula.percent else Decimal(1)
    a, b = leaf.inputs.get("A"), leaf.inputs.get("B")
    if expression == "A/B" and a and b:
        return {a: Decimal(value) * 100 / scale, b: Decimal(100)}
    if expression == "(A-B)/B" and a and b:
        return {a: Decimal(100) + Decimal(value) * 100 / scale, b: Decimal(100)}
    raise ValueError(f"no inputs found for {leaf.formula.expression}")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        text = to_str(value)
        return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)
    return value


def _describe(value: Any) -> str:
    if isinstance(value, tuple):
        return "".join("✓" if v else "✗" for v in value)
    return to_str(value) if isinstance(value, Decimal) else str(value)


def skeleton(draft: Draft, rubric_file: str) -> dict[str, Any]:
    """The case file for ``draft``, whose rubric is written at ``rubric_file`` (a name
    relative to the case file)."""
    typed = [leaf for leaf in draft.leaves if leaf.rule is not None]
    specs: dict[str, dict[str, Any]] = draft.data.get("inputs", {})
    divisors = frozenset(
        name
        for derived in draft.data.get("derived", {}).values()
        for name in re.findall(r"/\s*\(?\s*([a-z][a-z0-9_]*)", derived["formula"])
    )
    base: dict[str, Any] = {}
    usable: list[DraftLeaf] = []
    for leaf in typed:
        assert leaf.rule is not None
        try:
            base.update(
                {
                    k: _plain(v)
                    for k, v in _inputs(
                        leaf, _full(leaf.rule, leaf.weight), specs, divisors
                    ).items()
                }
            )
        except ValueError:
            continue
        usable.append(leaf)
    for ident, spec in draft.data.get("inputs", {}).items():
        if ident in base:
            continue
        kind = spec["kind"]
        if kind == "boolean":
            base[ident] = True
        elif kind == "choice":
            base[ident] = spec["options"][0]
        elif kind == "table":
            weight = next(
                (
                    leaf.weight
                    for leaf in draft.leaves
                    if leaf.rows and leaf.id == _group_of(draft, ident)
                ),
                Decimal(0),
            )
            base[ident] = [
                {
                    "name": spec["label"],
                    "direction": "不低于",
                    "target": Decimal(1),
                    "actual": Decimal(1),
                    "weight": _plain(weight),
                }
            ]
        elif kind == "text":
            base[ident] = ""
        else:
            base[ident] = Decimal(100)
    judged = [leaf for leaf in draft.leaves if leaf.rule is None and not leaf.rows]
    if judged and "judged" in method_kinds():
        # a judged leaf's score is entered under the inputs' judged: section
        base["judged"] = {leaf.id: _plain(leaf.weight) for leaf in judged}
    cases: list[dict[str, Any]] = []
    confirm = tr("draft.cases.confirm")
    for leaf in usable:
        assert leaf.rule is not None
        for value in edge_values(leaf.rule, leaf.weight):
            try:
                score = expected_score(leaf.rule, leaf.weight, value)
                inputs = {k: _plain(v) for k, v in _inputs(leaf, value, specs, divisors).items()}
            except (ValueError, KeyError):
                continue
            cases.append(
                {
                    "name": f"{leaf.name}：{_describe(value)} → {to_str(score)}",
                    "description": confirm,
                    "inputs": inputs,
                    "expect": {"scores": {leaf.id: score}},
                }
            )
    return {"rubric": rubric_file, "base_inputs": base, "cases": cases}
