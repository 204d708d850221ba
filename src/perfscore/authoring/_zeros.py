"""Denominators solved for zero: the inputs that make a division in a rubric divide by 0.

A random search seldom hits ``a + b == 0`` when ``b`` may be negative. For each division
in a rubric's formulas whose denominator is linear in the inputs (sums, differences and
multiples of inputs and numbers: ``a + b``, ``budget - spent``, ``2 * a - 10``), this
module solves the denominator for zero within each input's declared bounds, one input at
a time, the others held at a few telling values (their bounds, 0, 1, the department's
own figure).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from perfscore.formula import parse_expression
from perfscore.model import NUMERIC_KINDS, InputSpec, Rubric

__all__ = ["Division", "divisions", "linear", "linear_derived", "zeros"]

#: Decimal places a solved figure may have, by input kind.
_PLACES: Final = {"money": 2, "percent": 2, "number": 2, "integer": 0, "count": 0}
#: At most this many solutions per division.
_MAX_SOLUTIONS: Final = 8

Linear = dict[str, Decimal]  # name -> coefficient; "" -> the constant term


@dataclass(frozen=True)
class Division:
    """One division of a formula: where it is, its numerator and its denominator."""

    where: str  # "derived staff_rate", or a path inside the rubric
    numerator: ast.expr
    denominator: ast.expr
    #: the formula holding it is the whole of a derived value: ``numerator / denominator``
    whole_derived: str | None = None

    @property
    def text(self) -> str:
        return ast.unparse(self.denominator)


def _formulas(rubric: Rubric) -> Iterator[tuple[str, str, str | None]]:
    """(where, source, derived id) of every formula string of the rubric."""
    for name, derived in rubric.derived.items():
        yield f"derived {name}", derived.formula, name
    for node in rubric.walk():
        if node.not_applicable_when:
            yield f"{node.id}.not_applicable_when", node.not_applicable_when, None
        if node.scoring is not None:
            for key, text in _strings(node.scoring.model_dump(mode="python"), "scoring"):
                yield f"{node.id}.{key}", text, None
    for cap in rubric.grade_caps:
        yield f"grade_caps {cap.id}", cap.when, None
    for check in rubric.checks:
        yield f"checks {check.id}", check.when, None


def _strings(data: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _strings(value, f"{path}[{i}]")


def divisions(rubric: Rubric) -> list[Division]:
    """Every division in the rubric's formulas (text that is not a formula is skipped)."""
    out: list[Division] = []
    for where, source, derived in _formulas(rubric):
        if "/" not in source:
            continue
        try:
            tree = parse_expression(source.strip())
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                whole = derived if node is tree.body else None
                out.append(Division(where, node.left, node.right, whole))
    return out


def linear(
    node: ast.expr, names: frozenset[str], expand: Mapping[str, Linear] | None = None
) -> Linear | None:
    """``node`` as a linear combination of ``names`` (None when it is not one); a name in
    ``expand`` (a derived value, see :func:`linear_derived`) stands for its own linear
    combination."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return {"": Decimal(str(node.value))}
    if isinstance(node, ast.Name):
        if node.id in names:
            return {node.id: Decimal(1)}
        return dict(expand[node.id]) if expand and node.id in expand else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = linear(node.operand, names, expand)
        if inner is None:
            return None
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return {k: sign * v for k, v in inner.items()}
    if isinstance(node, ast.BinOp):
        left, right = linear(node.left, names, expand), linear(node.right, names, expand)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add | ast.Sub):
            sign = 1 if isinstance(node.op, ast.Add) else -1
            out = dict(left)
            for k, v in right.items():
                out[k] = out.get(k, Decimal(0)) + sign * v
            return out
        if isinstance(node.op, ast.Mult):
            for factor, other in ((left, right), (right, left)):
                if set(factor) <= {""}:
                    scale = factor.get("", Decimal(0))
                    return {name: scale * v for name, v in other.items()}
            return None
        if isinstance(node.op, ast.Div) and set(right) <= {""} and right.get(""):
            divisor = right[""]
            try:
                return {name: v / divisor for name, v in left.items()}
            except (InvalidOperation, ArithmeticError):
                return None
    return None


def linear_derived(rubric: Rubric, names: frozenset[str]) -> dict[str, Linear]:
    """The derived values that are linear in ``names`` (through other such values), each
    as its combination. Rounding keeps a zero a zero, and ``as_percent`` scales by 100, so
    the inputs that make the combination 0 make the derived value 0."""
    out: dict[str, Linear] = {}
    pending = dict(rubric.derived)
    while pending:
        done = []
        for name, derived in pending.items():
            try:
                tree = parse_expression(derived.formula.strip())
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                done.append(name)
                continue
            found = linear(tree.body, names, out)
            if found is not None:
                scale = Decimal(100) if derived.as_percent else Decimal(1)
                out[name] = {k: scale * v for k, v in found.items()}
                done.append(name)
        if not done:
            break
        for name in done:
            del pending[name]
    return out


def _fits(spec: InputSpec, x: Decimal) -> bool:
    low, high = spec.lower_bound, spec.max
    if (low is not None and x < low) or (high is not None and x > high):
        return False
    places = _PLACES.get(spec.kind, 2)
    return x == x.quantize(Decimal(1).scaleb(-places)) if x.is_finite() else False


def _telling(spec: InputSpec, own: Any) -> list[Decimal]:
    """Values to hold an input at while solving for another."""
    values = [Decimal(0), Decimal(1), Decimal(100)]
    if spec.lower_bound is not None:
        values.append(spec.lower_bound)
    if spec.max is not None:
        values.append(spec.max)
    if isinstance(own, Decimal | int) and not isinstance(own, bool):
        values.insert(0, Decimal(own))
    seen: list[Decimal] = []
    for value in values:
        if value not in seen and _fits(spec, value):
            seen.append(value)
    return seen


def zeros(
    combination: Linear, specs: Mapping[str, InputSpec], base: Mapping[str, Any]
) -> list[dict[str, Decimal]]:
    """Assignments of the inputs in ``combination`` within their bounds that make it 0.

    Each input in turn is solved for, the others held at telling values; at most a few
    solutions are returned, the ones that change the fewest figures first."""
    names = [n for n, c in combination.items() if n and c]
    if not names or any(specs[n].kind not in NUMERIC_KINDS for n in names):
        return []
    constant = combination.get("", Decimal(0))
    found: list[dict[str, Decimal]] = []
    for solved in names:
        others = [n for n in names if n != solved]
        choices = [_telling(specs[n], base.get(n)) for n in others]
        for held in itertools.islice(itertools.product(*choices), 200):
            rest = sum((combination[n] * v for n, v in zip(others, held, strict=True)), constant)
            x = -rest / combination[solved]
            if not _fits(specs[solved], x):
                continue
            assignment = dict(zip(others, held, strict=True))
            assignment[solved] = x if x else Decimal(0)
            if assignment not in found:
                found.append(assignment)
            break  # one solution per input solved for
    found.sort(key=lambda a: sum(base.get(n) != v for n, v in a.items()))
    return found[:_MAX_SOLUTIONS]
