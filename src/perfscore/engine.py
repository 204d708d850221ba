"""Compile a rubric once, then score departments with it: pure, exact and deterministic.

:func:`compile_rubric` checks everything the model's shape cannot (formula names and
types, derived-value cycles, weight sums, band coverage, grade names), reporting every
problem with its place in the file, and returns a :class:`CompiledRubric`. Its
:meth:`~CompiledRubric.score` validates a department's inputs, evaluates derived values,
scores each leaf with its scoring method, applies the not-applicable policy, sums,
rounds and grades.

A compiled rubric holds no mutable state: one instance may score from many threads.
"""

from __future__ import annotations

import ast
import decimal
import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cached_property, partial
from itertools import repeat
from types import MappingProxyType
from typing import Any, Final, NamedTuple, overload

from . import __version__, i18n
from ._fastpath import Fallback, FastFunction
from ._fastpath import aggregate as build_aggregate
from ._fastpath import build as build_fast_path
from ._fastpath import input_check as build_input_check
from ._inputs import NA, InputRule, input_rule, validate_inputs
from ._interval import Interval
from ._numbers import (
    ENGINE_CONTEXT,
    HUNDRED,
    ONE,
    ROUNDING_MODES,
    ZERO,
    quantum,
    round_decimal,
    to_plain,
    to_str,
)
from ._submission import (
    SECTIONS,
    Claims,
    parse_claims,
    parse_number,
    parse_unit,
    plain_sections,
    split_submission,
)
from ._suggest import closest, did_you_mean
from .dumping import content_hash
from .errors import (
    EvaluationError,
    FormulaError,
    InputError,
    Issue,
    Location,
    PathPart,
    RubricValidationError,
)
from .formula import Formula, Symbol, ValueType, compile_formula, parse_expression
from .i18n import current_lang, msg, tr, use_lang
from .methods import JUDGED_PREFIX, Judged, NoMatch, Scorer, ValueStyle, judged_key
from .model import DerivedValue, Indicator, InputSpec, Rounding, Rubric
from .results import (
    Explanation,
    IndicatorResult,
    LeafSteps,
    Override,
    ScoreResult,
    Status,
    Step,
    _LazyExplanation,
)
from .review import ReviewPlan, ReviewResult, explanation_text, review_result

__all__ = ["CompiledRubric", "compile_rubric", "input_symbol"]

Value = Decimal | bool | str
_NA: Final = NA  # marks a value that is not applicable (missing optional input, NA fallback)


class Locator:
    """Turns a path inside the rubric document into a :class:`Location`."""

    def __init__(self, source: Any = None) -> None:
        self.source = source

    def __call__(self, path: Sequence[PathPart], *, key: bool = False) -> Location:
        if self.source is not None:
            return self.source.locate(tuple(path), key=key)  # type: ignore[no-any-return]
        return Location(path=tuple(path))


# --------------------------------------------------------------------------- inputs


def input_symbol(spec: InputSpec) -> Symbol:
    """How formulas see an input of this kind: a number, a text (with a choice's options)
    or a boolean."""
    if spec.kind in ("text", "table"):
        return Symbol(ValueType.TEXT)
    if spec.kind == "boolean":
        return Symbol(ValueType.BOOLEAN)
    if spec.kind == "choice":
        return Symbol(ValueType.TEXT, spec.options)
    return Symbol(ValueType.NUMBER)


# --------------------------------------------------------------------------- plan pieces


@dataclass(frozen=True, slots=True)
class _RowOutcome:
    """One row of a row group, scored (before any redistribution of weight)."""

    name: str
    weight: Decimal
    score: Decimal
    steps: tuple[Step, ...]
    values: Mapping[str, Any]


class _RowsStep(Step):
    """Carries a row group's rows from its scorer to the aggregation; never shown."""

    outcomes: tuple[_RowOutcome, ...] = ()

    @classmethod
    def carrying(cls, outcomes: tuple[_RowOutcome, ...]) -> _RowsStep:
        step = cls("rows", "", None)
        step.outcomes = outcomes
        return step


@dataclass(frozen=True, slots=True)
class _Derived:
    id: str
    formula: Formula
    rounding: Rounding | None
    as_percent: bool
    on_zero_division: Decimal | str | None
    deps: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Leaf:
    index: int  # position in the node list
    node: Indicator
    scorer: Scorer
    formulas: tuple[Formula, ...]
    na_when: Formula | None
    na_policy: str
    reads: tuple[str, ...]  # every input and derived value it depends on, inputs first


@dataclass(frozen=True, slots=True)
class _Node:
    node: Indicator
    depth: int
    parent: int | None
    children: tuple[int, ...]
    leaf: _Leaf | None


@dataclass(frozen=True, slots=True)
class _NodeInfo:
    """What every result of a node repeats: computed once per compiled rubric."""

    id: str
    name: str
    weight: Decimal
    depth: int
    parent: str | None
    children: tuple[str, ...]
    standard: str | None


class _IndicatorColumns(NamedTuple):
    """The fields of every node's :class:`IndicatorResult` that no department changes,
    field by field (node order), to be zipped with a department's scores."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    weights: tuple[Decimal, ...]
    depths: tuple[int, ...]
    parents: tuple[str | None, ...]
    children: tuple[tuple[str, ...], ...]
    standards: tuple[str | None, ...]
    scored: tuple[Status, ...]
    nones: tuple[None, ...]

    def results(
        self,
        shown: Sequence[Decimal],
        scores: Sequence[Decimal | None],
        status: Sequence[Status],
        explanations: Sequence[Explanation | None],
    ) -> tuple[IndicatorResult, ...]:
        """Every node's result: the fixed fields zipped with a department's, each made in C."""
        return tuple(
            map(
                _make_indicator,
                zip(
                    self.ids,
                    self.names,
                    self.weights,
                    shown,
                    scores,
                    status,
                    self.depths,
                    self.parents,
                    self.children,
                    explanations,
                    self.standards,
                    self.nones,
                    strict=True,
                ),
            )
        )


class _LeafColumns(NamedTuple):
    """The leaves of a rubric field by field (see ``CompiledRubric._leaf_columns``)."""

    nodes: tuple[int, ...]
    scorers: tuple[Scorer, ...]
    reads: tuple[tuple[str, ...], ...]
    tail: tuple[Explanation, ...]
    gather: Callable[[tuple[Explanation, ...]], tuple[Explanation, ...]]
    positions: tuple[int, ...]  # 0, 1, ... one per leaf


def _gather(where: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function picking the items at ``where`` of a tuple, in that order, as a tuple."""
    if len(where) > 1:
        return operator.itemgetter(*where)
    return lambda items: tuple([items[k] for k in where])


#: A leaf's lazy explanation from ``(its department's LeafSteps, leaf position)``.
_make_lazy_explanation: Final = functools.partial(tuple.__new__, _LazyExplanation)
#: An :class:`IndicatorResult` from the tuple of its fields, without a Python call.
_make_indicator: Final = functools.partial(tuple.__new__, IndicatorResult)


@dataclass(frozen=True, slots=True)
class _Grade:
    name: str
    range: Interval
    rank: int  # 0 = best


@dataclass(frozen=True, slots=True)
class _Cap:
    id: str
    when: Formula
    max_grade: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class _Check:
    """A rubric's consistency check: a warning with ``message`` when ``when`` holds."""

    when: Formula
    id: str
    message: str


@dataclass(frozen=True, slots=True)
class _Extras:
    """What a department's inputs carry besides its figures, checked."""

    unit: Mapping[str, str] | None = None
    claims: Claims | None = None
    overrides: Mapping[int, tuple[Decimal, str, str | None, str | None]] = field(
        default_factory=dict
    )
    warnings: tuple[Issue, ...] = ()


class _Context:
    """The :class:`~perfscore.methods.MethodContext` given to a leaf's scoring method."""

    def __init__(
        self, compiler: _Compiler, leaf_path: tuple[PathPart, ...], node: Indicator
    ) -> None:
        self._compiler = compiler
        self._path = (*leaf_path, "scoring")
        self._node = node
        self.formulas: list[Formula] = []

    @property
    def weight(self) -> Decimal:
        return self._node.weight

    @property
    def indicator_id(self) -> str:
        return self._node.id

    def _field(self, f: str | tuple[PathPart, ...]) -> tuple[PathPart, ...]:
        return (*self._path, *((f,) if isinstance(f, str) else f))

    def formula(
        self,
        field: str | tuple[PathPart, ...],
        source: str,
        expect: ValueType | tuple[ValueType, ...],
    ) -> Formula:
        formula = self._compiler.formula(self._field(field), source, expect)
        self.formulas.append(formula)
        return formula

    def symbol(self, name: str) -> Symbol | None:
        return self._compiler.symbols.get(name)

    def style(self, source: str) -> ValueStyle:
        rubric = self._compiler.rubric
        name = source.strip()
        derived = rubric.derived.get(name)
        if derived is not None:
            rounding = derived.rounding
            if isinstance(rounding, str):
                places = {
                    "ratio": rubric.rounding.ratio.places,
                    "score": rubric.rounding.score.places,
                }
                rule: int | None = places.get(rounding)
            else:
                rule = rounding.places
            return ValueStyle(derived.label, rule, derived.as_percent)
        spec = rubric.inputs.get(name)
        if spec is not None and spec.kind != "table":
            percent = spec.kind == "percent"
            unit = "" if percent else spec.display_unit or ""
            return ValueStyle(spec.label, 2 if spec.kind == "money" else None, percent, unit)
        return ValueStyle()

    def error(
        self,
        field: str | tuple[PathPart, ...],
        code: str,
        message: str | Mapping[str, Any],
        hint: str | Mapping[str, Any] | None = None,
    ) -> None:
        self._compiler.error(self._field(field), code, message, hint)


_PLACEHOLDER: Final = compile_formula("0")
#: All the formulas of one rubric together: 16 times the largest shipped rubric's, and
#: compiled in well under a second.
MAX_FORMULA_CHARS: Final = 30_000
NUMERIC: Final = ("number", "integer", "money", "percent", "count")


def _no_rows(values: Mapping[str, Any], explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
    return ZERO, ()  # stands in for a formula that failed its checks


@overload
def _text(text: str | Mapping[str, Any]) -> Mapping[str, Any]: ...
@overload
def _text(text: None) -> None: ...
def _text(text: str | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A message or hint as a text of the catalogue: plain text kept as it is written."""
    return msg("text", text=text) if isinstance(text, str) else text


class _Compiler:
    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        # read once: a pydantic private attribute costs microseconds on each read
        self.source = rubric._source
        self.locate = Locator(self.source)
        self.issues: list[Issue] = []
        self.symbols: dict[str, Symbol] = {}
        self.formula_deps: dict[str, frozenset[str]] = {}
        self.formula_chars = 0

    def error(
        self,
        path: Sequence[PathPart],
        code: str,
        message: str | Mapping[str, Any],
        hint: str | Mapping[str, Any] | None = None,
    ) -> None:
        self.issues.append(
            Issue.of(code, self.locate(path), message=_text(message), hint=_text(hint))
        )

    def formula(
        self, path: Sequence[PathPart], source: str, expect: ValueType | tuple[ValueType, ...]
    ) -> Formula:
        origin = self.locate(path)
        position = None
        if self.source is not None:
            origin = self.source.formula_origin(tuple(path)) or origin
            position = self.source.formula_position(tuple(path), source)
        if not self.spend(len(source), origin):
            return _PLACEHOLDER
        try:
            return compile_formula(
                source, self.symbols, expect=expect, origin=origin, position=position
            )
        except FormulaError as e:
            self.issues.extend(e.issues)
            return _PLACEHOLDER

    def spend(self, chars: int, where: Location) -> bool:
        """Count formula text against the rubric's budget; False (and one issue) past it."""
        self.formula_chars += chars
        if self.formula_chars <= MAX_FORMULA_CHARS:
            return True
        if self.formula_chars - chars <= MAX_FORMULA_CHARS:
            self.issues.append(Issue.of("rubric.too_complex", where, limit=MAX_FORMULA_CHARS))
        return False

    # -- derived values -------------------------------------------------------------
    def derived(self) -> list[_Derived]:
        chars = sum(len(spec.formula) for spec in self.rubric.derived.values())
        if chars > MAX_FORMULA_CHARS:  # refuse before even ordering them
            self.spend(chars, self.locate(("derived",)))
            return []
        order = self._derived_order()
        plan: list[_Derived] = []
        for name in order:
            spec = self.rubric.derived[name]
            formula = self.formula(
                ("derived", name, "formula"),
                spec.formula,
                (ValueType.NUMBER, ValueType.BOOLEAN, ValueType.TEXT),
            )
            self.symbols[name] = Symbol(formula.type)
            deps = set(formula.names)
            for n in formula.names:
                deps |= self.formula_deps.get(n, frozenset())
            self.formula_deps[name] = frozenset(deps)
            rounding = self._rounding(spec)
            if formula.type is not ValueType.NUMBER and (
                spec.as_percent or spec.on_zero_division is not None
            ):
                self.error(
                    ("derived", name),
                    "rubric.derived_type",
                    msg("rubric.derived_type", name=repr(name)),
                )
            plan.append(
                _Derived(
                    name, formula, rounding, spec.as_percent, spec.on_zero_division, frozenset(deps)
                )
            )
        return plan

    def _rounding(self, spec: DerivedValue) -> Rounding | None:
        if spec.rounding == "none":
            return None
        if spec.rounding == "ratio":
            return self.rubric.rounding.ratio
        if spec.rounding == "score":
            return self.rubric.rounding.score
        assert isinstance(spec.rounding, Rounding)
        return spec.rounding

    def _derived_order(self) -> list[str]:
        derived = self.rubric.derived
        for name in derived:
            if name in self.rubric.inputs:
                self.error(
                    ("derived", name),
                    "rubric.duplicate_name",
                    msg("rubric.input_and_derived", name=repr(name)),
                    msg("hint.rename_one"),
                )
        graph = {
            name: sorted(_names(spec.formula) & derived.keys()) for name, spec in derived.items()
        }
        order: list[str] = []
        state: dict[str, int] = {}
        cyclic: set[str] = set()

        def visit(name: str, stack: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = [*stack[stack.index(name) :], name]
                cyclic.update(cycle)
                self.error(
                    ("derived", name, "formula"),
                    "rubric.cycle",
                    msg("rubric.cycle", cycle=" -> ".join(cycle)),
                    msg("rubric.cycle.hint"),
                )
                return
            state[name] = 1
            for dep in graph[name]:
                visit(dep, [*stack, name])
            state[name] = 2
            order.append(name)

        for name in derived:
            visit(name, [])
        # Names in a cycle are not compiled, but stay known: the formulas that read them
        # would otherwise report them as unknown, which they are not.
        for name in cyclic:
            self.symbols[name] = Symbol(ValueType.NUMBER)
        return [n for n in order if n not in cyclic]

    # -- indicators -----------------------------------------------------------------
    def tree(self) -> tuple[list[_Node], list[_Leaf]]:
        nodes: list[_Node] = []
        leaves: list[_Leaf] = []
        seen: dict[str, tuple[PathPart, ...]] = {}
        default_policy = self.rubric.not_applicable

        def add(node: Indicator, path: tuple[PathPart, ...], depth: int, parent: int | None) -> int:
            index = len(nodes)
            nodes.append(None)  # type: ignore[arg-type]  # placeholder, filled below
            if node.id in seen:
                self.error(
                    (*path, "id"),
                    "rubric.duplicate_id",
                    msg("rubric.duplicate_indicator", id=repr(node.id)),
                    msg("hint.first_used", place=str(self.locate(seen[node.id]))),
                )
            seen.setdefault(node.id, path)
            leaf: _Leaf | None = None
            children: list[int] = []
            if node.rows is not None:
                scorer, formulas = self._rows(node, path)
                rows_na = None
                if node.not_applicable_when is not None:
                    rows_na = self.formula(
                        (*path, "not_applicable_when"), node.not_applicable_when, ValueType.BOOLEAN
                    )
                leaf = _Leaf(
                    index,
                    node,
                    scorer,
                    formulas,
                    rows_na,
                    node.not_applicable or default_policy,
                    (node.rows.table, *self._reads(formulas + ((rows_na,) if rows_na else ()))),
                )
                leaves.append(leaf)
            elif node.scoring is not None:
                if node.weight <= 0:
                    self.error(
                        (*path, "weight"),
                        "rubric.leaf_weight",
                        msg("rubric.leaf_weight", id=repr(node.id), weight=str(node.weight)),
                    )
                places = self.rubric.rounding.score.places
                if node.weight != node.weight.quantize(Decimal(1).scaleb(-places)):
                    self.error(
                        (*path, "weight"),
                        "rubric.weight_precision",
                        msg(
                            "rubric.weight_precision",
                            id=repr(node.id),
                            weight=to_str(node.weight),
                            places=places,
                        ),
                        msg("rubric.weight_precision.hint"),
                    )
                ctx = _Context(self, path, node)
                scorer = node.scoring.compile(ctx)
                na_when = None
                if node.not_applicable_when is not None:
                    na_when = self.formula(
                        (*path, "not_applicable_when"), node.not_applicable_when, ValueType.BOOLEAN
                    )
                formulas = tuple(ctx.formulas) + ((na_when,) if na_when else ())
                leaf = _Leaf(
                    index,
                    node,
                    scorer,
                    tuple(ctx.formulas),
                    na_when,
                    node.not_applicable or default_policy,
                    self._reads(formulas),
                )
                leaves.append(leaf)
            else:
                assert node.children is not None
                total = sum((c.weight for c in node.children), ZERO)
                if node.alternatives:
                    self._alternatives(node, path)
                elif total != node.weight:
                    self.error(
                        (*path, "weight"),
                        "rubric.weight_sum",
                        msg(
                            "rubric.weight_sum",
                            id=repr(node.id),
                            name=node.name,
                            weight=to_str(node.weight),
                            total=to_str(total),
                        ),
                        msg("rubric.weight_sum.hint"),
                    )
                for i, child in enumerate(node.children):
                    children.append(add(child, (*path, "children", i), depth + 1, index))
            nodes[index] = _Node(node, depth, parent, tuple(children), leaf)
            return index

        for i, top in enumerate(self.rubric.indicators):
            add(top, ("indicators", i), 0, None)
        total_places = self.rubric.rounding.total.places
        if self.rubric.total != self.rubric.total.quantize(Decimal(1).scaleb(-total_places)):
            self.error(
                ("total",),
                "rubric.total_precision",
                msg("rubric.total_precision", total=to_str(self.rubric.total), places=total_places),
                msg("rubric.total_precision.hint"),
            )
        top_total = sum((n.weight for n in self.rubric.indicators), ZERO)
        if top_total != self.rubric.total:
            self.error(
                ("indicators",),
                "rubric.total_mismatch",
                msg(
                    "rubric.total_mismatch", sum=to_str(top_total), total=to_str(self.rubric.total)
                ),
                msg("rubric.total_mismatch.hint"),
            )
        return nodes, leaves

    def _alternatives(self, node: Indicator, path: tuple[PathPart, ...]) -> None:
        """An alternatives branch: two children or more, each weighing what the branch does."""
        children = node.children or ()
        if len(children) < 2:
            self.issues.append(
                Issue.of(
                    "rubric.alternatives_count",
                    self.locate((*path, "children")),
                    indicator=node.id,
                )
            )
        for i, child in enumerate(children):
            if child.weight != node.weight:
                self.issues.append(
                    Issue.of(
                        "rubric.alternative_weight",
                        self.locate((*path, "children", i, "weight")),
                        indicator=node.id,
                        child=child.id,
                        weight=to_str(child.weight),
                        branch_weight=to_str(node.weight),
                    )
                )

    def _rows(
        self, node: Indicator, path: tuple[PathPart, ...]
    ) -> tuple[Scorer, tuple[Formula, ...]]:
        group = node.rows
        assert group is not None
        where = (*path, "rows")
        spec = self.rubric.inputs.get(group.table)
        if spec is None or spec.kind != "table" or spec.columns is None:
            tables = [k for k, v in self.rubric.inputs.items() if v.kind == "table"]
            self.error(
                (*where, "table"),
                "rubric.rows_table",
                msg("rubric.rows_table", table=repr(group.table)),
                did_you_mean(group.table, tables) or msg("rubric.rows_table.hint"),
            )
            return _no_rows, ()
        columns = spec.columns
        for key, kinds in (("name", ("text", "choice")), ("weight", NUMERIC)):
            column = getattr(group, key)
            if column not in columns or columns[column].kind not in kinds:
                self.error(
                    (*where, key),
                    "rubric.rows_column",
                    msg(
                        "rubric.rows_text_column" if key == "name" else "rubric.rows_number_column",
                        column=repr(column),
                        table=repr(group.table),
                    ),
                    did_you_mean(column, columns)
                    or msg("hint.columns", columns=", ".join(columns)),
                )
        for column in columns:
            if column in self.symbols:
                self.error(
                    (*where, "table"),
                    "rubric.duplicate_name",
                    msg("rubric.column_name", column=repr(column), table=repr(group.table)),
                    msg("hint.rename_column"),
                )
        outer = self.symbols
        self.symbols = {**outer, **{c: input_symbol(s) for c, s in columns.items()}}
        try:
            fraction = self.formula((*where, "fraction"), group.fraction, ValueType.NUMBER)
        finally:
            self.symbols = outer
        rule = self.rubric.rounding.score
        table, name_col, weight_col = group.table, group.name, group.weight
        expected = node.weight
        locate = self.locate(where)

        def score(values: Mapping[str, Any], explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            outcomes: list[_RowOutcome] = []
            total = ZERO
            weights = ZERO
            for i, row in enumerate(values[table]):
                scope = {**values, **row}
                weight: Decimal = row[weight_col]
                try:
                    share = fraction.evaluate_unchecked(scope)
                except (ArithmeticError, InvalidOperation):
                    error = fraction.locate_failure(scope)
                    raise EvaluationError(
                        [
                            Issue.of(
                                p.code,
                                p.location,
                                message=msg(
                                    "evaluation.in_row",
                                    row=i + 1,
                                    table=repr(table),
                                    message=p.as_msg(),
                                ),
                                hint=p.hint_msg(),
                            )
                            for p in error.issues
                        ]
                    ) from None
                assert isinstance(share, Decimal)
                clamped = ZERO if share < 0 else ONE if share > 1 else share
                points = round_decimal(weight * clamped, rule.places, rule.mode)
                steps: tuple[Step, ...] = ()
                if explain:
                    steps = (
                        Step("row", tr("explain.row_share", share=to_str(share))),
                        Step(
                            "row",
                            tr(
                                "explain.row_points",
                                weight=to_str(weight),
                                share=to_str(clamped),
                                points=to_str(points),
                            ),
                        ),
                    )
                outcomes.append(
                    _RowOutcome(str(row[name_col]), weight, points, steps, MappingProxyType(row))
                )
                total += points
                weights += weight
            if weights != expected:
                raise EvaluationError(
                    [
                        Issue.of(
                            "evaluation.rows_weight",
                            locate,
                            table=repr(table),
                            weights=to_str(weights),
                            id=repr(node.id),
                            weight=to_str(expected),
                        )
                    ]
                )
            return total, (_RowsStep.carrying(tuple(outcomes)),)

        return score, (fraction,)

    def _reads(self, formulas: Iterable[Formula]) -> tuple[str, ...]:
        names: set[str] = set()
        for f in formulas:
            names |= f.names
            for n in f.names:
                names |= self.formula_deps.get(n, frozenset())
        inputs = [n for n in self.rubric.inputs if n in names]
        derived = [n for n in self.rubric.derived if n in names]
        return (*inputs, *derived)

    # -- grades ---------------------------------------------------------------------
    def grades(self) -> list[_Grade]:
        total = self.rubric.total
        bands = list(enumerate(self.rubric.grades))
        names = [g.name for g in self.rubric.grades]
        for i, name in enumerate(names):
            if names.index(name) != i:
                self.error(
                    ("grades", i, "name"),
                    "rubric.duplicate_grade",
                    msg("rubric.duplicate_grade", name=repr(name)),
                )
        ordered = sorted(
            bands,
            key=lambda b: (
                b[1].range.lower if b[1].range.lower is not None else Decimal("-Infinity"),
                not b[1].range.include_lower,
            ),
        )
        for i, band in ordered:
            if band.range.lower is None or band.range.upper is None:
                self.error(
                    ("grades", i, "range"),
                    "rubric.grades_unbounded",
                    msg(
                        "rubric.grades_unbounded",
                        name=repr(band.name),
                        range=str(band.range),
                        total=to_str(total),
                    ),
                )
            elif band.range.lower < 0 or band.range.upper > total:
                self.error(
                    ("grades", i, "range"),
                    "rubric.grades_range",
                    msg(
                        "rubric.grades_range",
                        name=repr(band.name),
                        range=str(band.range),
                        total=to_str(total),
                    ),
                )
        if any(i.code in ("rubric.grades_unbounded", "rubric.grades_range") for i in self.issues):
            return []
        first_i, first = ordered[0]
        if first.range.lower != 0 or not first.range.include_lower:
            self.error(
                ("grades", first_i, "range"),
                "rubric.grades_gap",
                msg("rubric.grades_gap_low", range=str(first.range)),
                msg("rubric.grades_gap_low.hint"),
            )
        last_i, last = max(bands, key=lambda b: (b[1].range.upper, b[1].range.include_upper))
        if last.range.upper != total or not last.range.include_upper:
            self.error(
                ("grades", last_i, "range"),
                "rubric.grades_gap",
                msg("rubric.grades_gap_high", total=to_str(total), range=str(last.range)),
                msg("rubric.grades_gap_high.hint", total=to_str(total)),
            )
        for (_, a), (bi, b) in itertools.pairwise(ordered):
            if a.range.overlaps(b.range):
                self.error(
                    ("grades", bi, "range"),
                    "rubric.grades_overlap",
                    msg(
                        "rubric.grades_overlap",
                        a=repr(a.name),
                        a_range=str(a.range),
                        b=repr(b.name),
                        b_range=str(b.range),
                    ),
                    msg("rubric.grades_overlap.hint"),
                )
            elif a.range.upper != b.range.lower or not (
                a.range.include_upper or b.range.include_lower
            ):
                self.error(
                    ("grades", bi, "range"),
                    "rubric.grades_gap",
                    msg(
                        "rubric.grades_between",
                        a=repr(a.name),
                        a_range=str(a.range),
                        b=repr(b.name),
                        b_range=str(b.range),
                    ),
                    msg("rubric.grades_between.hint"),
                )
        best_first = sorted(bands, key=lambda b: b[1].range.lower or ZERO, reverse=True)
        return [_Grade(b.name, b.range, rank) for rank, (_, b) in enumerate(best_first)]

    def caps(self, grades: list[_Grade]) -> list[_Cap]:
        names = [g.name for g in grades]
        caps = []
        for i, cap in enumerate(self.rubric.grade_caps):
            when = self.formula(("grade_caps", i, "when"), cap.when, ValueType.BOOLEAN)
            if grades and cap.max_grade not in names:
                self.error(
                    ("grade_caps", i, "max_grade"),
                    "rubric.unknown_grade",
                    msg("rubric.unknown_grade", name=repr(cap.max_grade)),
                    did_you_mean(cap.max_grade, names)
                    or msg("hint.grades", names=", ".join(names)),
                )
            caps.append(_Cap(cap.id, when, cap.max_grade, cap.reason))
        return caps

    def checks(self) -> list[_Check]:
        checks, seen = [], set()
        for i, check in enumerate(self.rubric.checks):
            if check.id in seen:
                self.error(
                    ("checks", i, "id"),
                    "rubric.duplicate_id",
                    msg("rubric.two_checks", id=repr(check.id)),
                )
            seen.add(check.id)
            when = self.formula(("checks", i, "when"), check.when, ValueType.BOOLEAN)
            checks.append(_Check(when, check.id, check.message))
        return checks


def _names(source: str) -> set[str]:
    try:
        tree = parse_expression(source.strip())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# --------------------------------------------------------------------------- compiled


@dataclass(frozen=True, eq=False)
class CompiledRubric:
    """A checked rubric, ready to score many departments. Immutable; safe across threads.

    ``rubric`` is the :class:`Rubric` it was compiled from; ``hash`` is the rubric's
    content hash (:func:`perfscore.content_hash`, ``sha256:`` and 64 hex digits), the same
    for the same content whatever its file format, layout or comments. Every result
    records it.

    It pickles as its rubric, and is compiled again when unpickled (in a worker process,
    once per rubric it receives): the compiled functions themselves do not pickle.
    """

    rubric: Rubric
    #: The rubric's content hash, ``sha256:`` and 64 hex digits (:func:`perfscore.content_hash`).
    hash: str
    _inputs: tuple[InputRule, ...] = field(repr=False)
    _derived: tuple[_Derived, ...] = field(repr=False)
    _nodes: tuple[_Node, ...] = field(repr=False)
    _leaves: tuple[_Leaf, ...] = field(repr=False)
    _grades: tuple[_Grade, ...] = field(repr=False)
    _caps: tuple[_Cap, ...] = field(repr=False)
    _checks: tuple[_Check, ...] = field(repr=False, default=())
    _symbols: Mapping[str, Symbol] = field(repr=False, default_factory=dict)
    _fast: FastFunction | None = field(repr=False, default=None)
    _lang: str = field(repr=False, default="")

    @cached_property
    def _node_info(self) -> tuple[_NodeInfo, ...]:
        nodes = self._nodes
        return tuple(
            _NodeInfo(
                node.node.id,
                node.node.name,
                node.node.weight,
                node.depth,
                None if node.parent is None else nodes[node.parent].node.id,
                tuple(nodes[c].node.id for c in node.children),
                node.node.standard,
            )
            for node in nodes
        )

    @cached_property
    def _indicator_columns(self) -> _IndicatorColumns:
        info = self._node_info
        return _IndicatorColumns(
            ids=tuple(i.id for i in info),
            names=tuple(i.name for i in info),
            weights=tuple(i.weight for i in info),
            depths=tuple(i.depth for i in info),
            parents=tuple(i.parent for i in info),
            children=tuple(i.children for i in info),
            standards=tuple(i.standard for i in info),
            scored=(Status.SCORED,) * len(info),
            nones=(None,) * len(info),
        )

    def __reduce__(self) -> tuple[Any, tuple[Rubric]]:
        return compile_rubric, (self.rubric,)

    @property
    def id(self) -> str:
        """The rubric's ``id`` (e.g. ``shaoyang-dept-overall-2023``)."""
        return self.rubric.id

    @property
    def version(self) -> str:
        """The rubric's declared ``version`` (text, as the rubric writes it)."""
        return self.rubric.version

    @property
    def input_specs(self) -> Mapping[str, InputSpec]:
        """The declared inputs, input id -> its spec (kind, label, unit, bounds, ...), in
        the order the rubric declares them: what :meth:`score` accepts."""
        return self.rubric.inputs

    @cached_property
    def _index(self) -> Mapping[str, int]:
        """Node index by indicator id."""
        return {node.node.id: i for i, node in enumerate(self._nodes)}

    @cached_property
    def _judged(self) -> tuple[tuple[int, Judged], ...]:
        """The judged leaves: node index and method."""
        return tuple(
            (leaf.index, leaf.node.scoring)
            for leaf in self._leaves
            if isinstance(leaf.node.scoring, Judged)
        )

    @cached_property
    def _alternative_groups(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """The alternatives branches (二者择其一): node index and children."""
        return tuple(
            (i, node.children) for i, node in enumerate(self._nodes) if node.node.alternatives
        )

    @property
    def todos(self) -> tuple[Issue, ...]:
        """A warning (``rubric.todo``) for every indicator with a ``todo`` note, in order."""
        locate = Locator(self.rubric._source)
        return tuple(
            Issue.of(
                "rubric.todo",
                locate((*self._node_path(i), "todo")),
                indicator=node.node.id,
                name=node.node.name,
                todo=node.node.todo,
            )
            for i, node in enumerate(self._nodes)
            if node.node.todo
        )

    # -- inputs ---------------------------------------------------------------------
    def validate_inputs(
        self, inputs: Mapping[str, Any], *, source: str | None = None
    ) -> dict[str, Any]:
        """Check and convert raw inputs; raise :class:`InputError` listing every problem.

        Missing optional inputs without a default are marked not applicable: every value
        and leaf that reads them becomes not applicable. The reserved sections (``unit``,
        ``claimed``, ``overrides``, ``judged``) are checked too; judged scores join the
        values.
        """
        return self._prepare(inputs, source, None)[0]

    def _prepare(
        self,
        inputs: Mapping[str, Any],
        source: str | None,
        overrides: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], _Extras]:
        """The department's values and what its inputs carry besides: every problem of
        figures and sections raised together."""
        if not isinstance(inputs, Mapping):
            return validate_inputs(self._inputs, inputs, source=source, missing=_NA), _Extras()
        figures, submission = split_submission(inputs)
        issues: list[Issue] = []
        values = validate_inputs(
            self._inputs,
            figures,
            source=source,
            missing=_NA,
            declared=self._declared_inputs,
            issues=issues,
            check=self._input_check,
        )
        if issues:
            values = {}  # as if refused: the sections are checked on nothing
        unit, found = parse_unit(submission.unit, source)
        issues += found
        claims, found = parse_claims(submission.claimed, source)
        issues += found
        warnings: list[Issue] = []
        issues += self._judged_scores(submission.judged, source, values, warnings)
        raw_overrides: dict[Any, Any] = {}
        if submission.overrides is not None:
            if isinstance(submission.overrides, Mapping):
                raw_overrides.update(submission.overrides)
            else:
                issues.append(
                    Issue.of("override.not_mapping", Location(file=source, path=("overrides",)))
                )
        raw_overrides.update(overrides or {})
        decided, found = self._overrides(raw_overrides, source)
        issues += found
        if issues:
            raise InputError(issues)
        return values, _Extras(unit or None, claims, decided, tuple(warnings))

    def _judged_scores(
        self,
        raw: Any,
        source: str | None,
        values: dict[str, Any],
        warnings: list[Issue],
    ) -> list[Issue]:
        """Check the ``judged:`` section and put each judged leaf's scores in ``values``."""
        issues: list[Issue] = []
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            return [Issue.of("judged.not_mapping", Location(file=source, path=("judged",)))]
        judged = {self._nodes[i].node.id: (i, method) for i, method in self._judged}
        for key in raw:
            if key not in judged:
                name = str(key)
                issues.append(
                    Issue.of(
                        "judged.not_judged" if name in self._index else "judged.unknown",
                        Location(file=source, path=("judged", name)),
                        indicator=name,
                        judged=", ".join(judged) or "-",
                    )
                )
        for leaf_id, (i, method) in judged.items():
            node = self._nodes[i].node
            entry = raw.get(leaf_id)
            where = Location(file=source, path=("judged", leaf_id))
            if entry is None:
                if node.not_applicable_when is None:
                    issues.append(
                        Issue.of("judged.missing", where, indicator=leaf_id, name=node.name)
                    )
                continue
            pairs: list[tuple[str | None, Any]]
            if isinstance(entry, Mapping):
                pairs = [(str(k), v) for k, v in entry.items()]
            elif isinstance(entry, list | tuple):
                pairs = [(None, v) for v in entry]
            else:
                pairs = [(None, entry)]
            scores: list[tuple[str | None, Decimal]] = []
            for judge, value in pairs:
                number = parse_number(value)
                if number is None or not ZERO <= number <= node.weight:
                    issues.append(
                        Issue.of(
                            "judged.type" if number is None else "judged.out_of_range",
                            where
                            if judge is None
                            else Location(file=source, path=("judged", leaf_id, judge)),
                            indicator=leaf_id,
                            score=str(value)[:40] if number is None else to_str(number),
                            weight=to_str(node.weight),
                        )
                    )
                else:
                    scores.append((judge, number))
            if len(scores) != len(pairs):
                continue
            if method.aggregate is None and len(scores) != 1:
                issues.append(
                    Issue.of("judged.single", where, indicator=leaf_id, count=len(scores))
                )
                continue
            if len(scores) < method.min_judges or not scores:
                issues.append(
                    Issue.of(
                        "judged.too_few",
                        where,
                        indicator=leaf_id,
                        count=len(scores),
                        min=method.min_judges,
                    )
                )
                continue
            numbers = [s for _, s in scores]
            if method.max_spread is not None and max(numbers) - min(numbers) > method.max_spread:
                warnings.append(
                    Issue.of(
                        "judged.disagreement",
                        where,
                        indicator=leaf_id,
                        name=node.name,
                        scores="、".join(to_str(s) for s in numbers),
                        spread=to_str(max(numbers) - min(numbers)),
                        max_spread=to_str(method.max_spread),
                    )
                )
            values[judged_key(leaf_id)] = tuple(scores)
        return issues

    def _overrides(
        self, raw: Mapping[Any, Any], source: str | None
    ) -> tuple[dict[int, tuple[Decimal, str, str | None, str | None]], list[Issue]]:
        """Check reviewers' overrides: leaf index -> (score, reason, by, date)."""
        decided: dict[int, tuple[Decimal, str, str | None, str | None]] = {}
        issues: list[Issue] = []
        for key, entry in raw.items():
            name = str(key)
            where = Location(file=source, path=("overrides", name))
            index = self._index.get(name)
            if index is None:
                near = closest(name, list(self._index))
                issues.append(
                    Issue.of(
                        "override.unknown",
                        where,
                        indicator=name,
                        suggest=near or ", ".join(list(self._index)[:20]),
                    )
                )
                continue
            node = self._nodes[index]
            if node.leaf is None or node.node.rows is not None:
                issues.append(Issue.of("override.not_leaf", where, indicator=name))
                continue
            if not isinstance(entry, Mapping):
                entry = {"score": entry}
            unknown = [str(k) for k in entry if k not in ("score", "reason", "by", "date")]
            for k in unknown:
                issues.append(
                    Issue.of(
                        "override.unknown_key",
                        Location(file=source, path=("overrides", name, k)),
                        key=k,
                    )
                )
            score = parse_number(entry.get("score"))
            reason = entry.get("reason")
            reason_text = str(reason).strip() if isinstance(reason, str | int) else ""
            if score is None:
                issues.append(Issue.of("override.score", where, indicator=name))
            elif not ZERO <= score <= node.node.weight:
                issues.append(
                    Issue.of(
                        "override.out_of_range",
                        where,
                        indicator=name,
                        score=to_str(score),
                        weight=to_str(node.node.weight),
                    )
                )
            if not reason_text:
                issues.append(Issue.of("override.no_reason", where, indicator=name))
            if score is None or not reason_text or unknown or not ZERO <= score <= node.node.weight:
                continue
            by, date = entry.get("by"), entry.get("date")
            decided[index] = (
                score,
                reason_text,
                None if by is None else str(by),
                None if date is None else str(date),
            )
        return decided, issues

    # -- scoring --------------------------------------------------------------------
    def score(
        self,
        inputs: Mapping[str, Any],
        *,
        explain: bool = True,
        source: str | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ScoreResult:
        """Score one department. Raises :class:`InputError` or :class:`EvaluationError`.

        With ``explain=False`` the compiled fast path scores the department when it can
        (every input present and valid, nothing not applicable, no grade cap applying);
        otherwise, and always with explanations, the full engine does. Both give the same
        scores, total and grade.

        ``overrides`` maps leaf ids to a reviewer's decision (``{"score": 6, "reason": ...,
        "by": ..., "date": ...}``), as the ``overrides:`` section of the inputs does; the
        result keeps the computed score beside it, and the total and grade use it.

        Explanations are written in the language in force (:func:`perfscore.i18n.use_lang`);
        the rubric is compiled once more for a language it has not been compiled in.
        """
        if explain and self._lang and self._lang != current_lang():
            return compile_rubric(self.rubric).score(
                inputs, explain=True, source=source, overrides=overrides
            )
        if (
            self._fast is not None
            and not overrides
            and (type(inputs) is dict or isinstance(inputs, Mapping))
        ):
            try:
                out = self._fast(inputs)
            except _FAST_DECLINES:
                pass
            else:
                # The fast path declines every department that would get a warning other
                # than a check's (a percent that may be a fraction of one, a grade cap).
                if len(out) == 6:
                    result = self._fast_result(*out[:5], explain)
                elif len(out) == 8:  # something not applicable, aggregated by its plan
                    result = self._fast_plan_result(*out[:7], explain)
                else:
                    result = self._fast_aggregate(*out[:3], explain)
                if out[-1]:  # a check holds
                    values = {k: _NA if v is None else v for k, v in result.values.items()}
                    result = self._warn(result, values, source)
                return result
        values, extras = self._prepare(inputs, source, overrides)
        with decimal.localcontext(ENGINE_CONTEXT):
            result = self._score(values, explain, extras.overrides)
        result = self._warn(result, values, source, extras.warnings)
        return replace(result, unit=MappingProxyType(extras.unit)) if extras.unit else result

    def review(
        self,
        inputs: Mapping[str, Any],
        claimed: Mapping[str, Any] | Claims | None = None,
        *,
        tolerance: Decimal | int | str = 0,
        source: str | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ReviewResult:
        """Review a department's self-evaluation (复核): score ``inputs``, compare with the
        scores it claimed, and list every finding.

        ``claimed`` maps indicator ids to scores, with optional ``total`` and ``grade``;
        without it the ``claimed:`` section of ``inputs`` is used. Differences up to
        ``tolerance`` points are not findings. Raises :class:`InputError` (bad figures,
        claims that are not numbers, overrides without a reason) or
        :class:`EvaluationError`, as :meth:`score` does.
        """
        if type(inputs) is not dict and not isinstance(inputs, Mapping):
            raise InputError([Issue.of("review.not_mapping", Location(file=source))])
        # The common case, a dict of figures with unit: and claimed: beside them, goes to
        # a fast function that lets those two keys be, without copying the figures.
        direct = (
            type(inputs) is dict
            and not overrides
            and self._fast_review is not None
            and plain_sections(inputs)
        )
        if direct:
            figures = inputs
            raw_unit, raw_claims, plain = inputs.get("unit"), inputs.get("claimed"), True
        else:
            figures, submission = split_submission(inputs)
            raw_unit, raw_claims = submission.unit, submission.claimed
            plain = submission.judged is None and submission.overrides is None and not overrides
        # Without judged scores or overrides (plain) the figures alone are scored, so that
        # the compiled fast path can take them; explanations are made only when a finding
        # needs one.
        issues: list[Issue] = []
        unit, found = parse_unit(raw_unit, source)
        issues += found
        claims: Claims | None
        if isinstance(claimed, Claims):
            claims = claimed
        else:
            claims, found = parse_claims(raw_claims if claimed is None else claimed, source)
            issues += found
        scored = figures if plain else inputs
        plan: ReviewPlan | None = None
        scores: tuple[Decimal, ...] | None = None
        result: ScoreResult | None = None
        fast = self._fast_review if direct else self._fast
        if plain and fast is not None and not issues:
            try:
                out = fast(figures)
            except _FAST_DECLINES:
                scores = None
            else:
                if len(out) == 6 and not out[5]:
                    values, scores, unrounded, total, grade, _ = out
                    result = self._fast_result(values, scores, unrounded, total, grade, False)
                    plan = self._review_plan
                else:  # something not applicable, or a warning: reviewed from the result
                    scores = None
        if result is None:
            try:
                result = self.score(scored, explain=False, source=source, overrides=overrides)
            except InputError as e:
                raise InputError([*e.issues, *issues]) from None
        if issues:
            raise InputError(issues)
        if unit:
            result = replace(result, unit=MappingProxyType(unit))
        explained: list[ScoreResult] = []
        quick = plain and self._fast is not None

        def explain(indicator: str) -> str:
            index = self._index.get(indicator)
            if index is not None and self._nodes[index].leaf is None:
                return ""  # a branch: its explanation is its children's
            leaf = self._leaf_by_id.get(indicator) if quick and scores is not None else None
            if leaf is not None and scores is not None:
                # Scored by the fast path, so every value is there and nothing was not
                # applicable: this leaf's own steps, as the engine writes them.
                text = self._leaf_text(leaf, result.values, scores[leaf.index])
                if text is not None:
                    return text
            if not explained:
                explained.append(
                    self.score(scored, explain=True, source=source, overrides=overrides)
                )
            return explanation_text(explained[0][indicator])

        return review_result(
            result,
            claims or Claims(),
            grade_of=self._grade_name,
            tolerance=Decimal(str(tolerance)),
            explain=explain,
            plan=plan,
            scores=scores,
        )

    @cached_property
    def _fast_review(self) -> FastFunction | None:
        """The fast path as a review calls it: ``unit`` and ``claimed`` may stand beside
        the inputs (made on the first review)."""
        if self._fast is None:
            return None
        return build_fast_path(self, tolerate=frozenset({"unit", "claimed"}))

    @cached_property
    def _review_plan(self) -> ReviewPlan:
        """The tree as a review reads it (see :class:`~perfscore.review.ReviewPlan`)."""
        info = self._node_info
        index = {node.id: i for i, node in enumerate(info)}
        return ReviewPlan(
            ids=tuple(node.id for node in info),
            names=tuple(node.name for node in info),
            weights=tuple(node.weight for node in info),
            children=tuple(tuple(index[c] for c in node.children) for node in info),
            tops=tuple(i for i, node in enumerate(info) if node.parent is None),
            index=index,
        )

    @cached_property
    def _leaf_by_id(self) -> Mapping[str, _Leaf]:
        """The leaves scored by a method (not row groups), by id."""
        return {leaf.node.id: leaf for leaf in self._leaves if leaf.node.rows is None}

    def _leaf_text(self, leaf: _Leaf, values: Mapping[str, Any], score: Decimal) -> str | None:
        """One leaf's explanation as a line, from values already computed; None when they
        do not suffice (the caller then scores again with explanations)."""
        try:
            with decimal.localcontext(ENGINE_CONTEXT):
                points, steps = leaf.scorer(values, True)
        except (KeyError, ArithmeticError, TypeError, NoMatch):
            return None
        if points != score:
            steps = (*steps, self._rounding_step(points, score))
        return "；".join(step.text for step in steps if step.text)

    def _grade_name(self, total: Decimal) -> str | None:
        """The grade band holding ``total``, or None when none does."""
        for grade in self._grades:
            if total in grade.range:
                return grade.name
        return None

    def _fast_aggregate(
        self,
        values: dict[str, Any],
        leaf_scores: tuple[Decimal | None, ...],
        rows: dict[int, tuple[_RowOutcome, ...]],
        explain: bool,
    ) -> ScoreResult:
        """The result of a department the fast function scored leaf by leaf, with a value
        or a leaf not applicable or a row group: the engine's own aggregation moves the
        weights, applies the caps and grades."""
        if not rows:
            return self._fast_na_result(values, leaf_scores, explain)
        # A value is None here only when not applicable: inputs and derived values are
        # never None otherwise.
        values = {k: _NA if v is None else v for k, v in values.items()}
        raw: list[Decimal | None] = [None] * len(self._nodes)
        na: dict[int, str] = {}
        steps: dict[int, tuple[Step, ...]] = {}
        with decimal.localcontext(ENGINE_CONTEXT):
            na_names = {k for k, v in values.items() if v is _NA} if explain else set()
            for leaf, points in zip(self._leaves, leaf_scores, strict=True):
                if points is None:
                    na[leaf.index] = leaf.na_policy
                    if explain:
                        steps[leaf.index] = (self._na_step(leaf, values, na_names),)
                    continue
                raw[leaf.index] = points
                if explain:
                    unrounded, why = leaf.scorer(values, True)
                    if why and isinstance(why[0], _RowsStep):
                        rows[leaf.index] = why[0].outcomes  # with their steps
                        why = why[1:]
                    if unrounded != points:
                        why = (*why, self._rounding_step(unrounded, points))
                    steps[leaf.index] = why
            return self._aggregate(values, raw, na, steps, explain, rows)

    def _na_plan(self, pattern: tuple[bool, ...]) -> _NaPlan:
        """What a pattern of not-applicable leaves does to every node (cached): the same
        weights, statuses and scores as :meth:`_aggregate` gives."""
        plans = self._na_plans
        plan = plans.get(pattern)
        if plan is not None:
            return plan
        nodes = self._nodes
        rule = self.rubric.rounding.score
        na = {
            leaf.index: leaf.na_policy
            for leaf, off in zip(self._leaves, pattern, strict=True)
            if off
        }
        effective = self._effective_weights(na)
        status = [Status.SCORED] * len(nodes)
        fixed: dict[int, Decimal] = {}
        scaled: list[tuple[int, int, Decimal, Decimal]] = []
        for k, leaf in enumerate(self._leaves):
            i = leaf.index
            if i in na:
                status[i] = Status.NOT_APPLICABLE
                zero = round_decimal(ZERO, rule.places, rule.mode)
                fixed[i] = effective[i] if na[i] == "full_marks" else zero
            elif effective[i] != leaf.node.weight:
                scaled.append((k, i, effective[i], leaf.node.weight))
        for i in range(len(nodes) - 1, -1, -1):
            node = nodes[i]
            if node.leaf is None:
                effective[i] = sum((effective[c] for c in node.children), ZERO)
                if all(status[c] is Status.NOT_APPLICABLE for c in node.children):
                    status[i] = Status.NOT_APPLICABLE
        shown = tuple(
            node.node.weight
            if eff == node.node.weight
            else round_decimal(eff, rule.places, rule.mode)
            for node, eff in zip(nodes, effective, strict=True)
        )
        moved = {k for k, *_ in scaled}
        leaves = len(self._leaves)
        consts = (ZERO, *fixed.values())
        where = [leaves] * len(nodes)
        for position, i in enumerate(fixed, start=leaves + 1):
            where[i] = position
        for k, (leaf, off) in enumerate(zip(self._leaves, pattern, strict=True)):
            if not off and k not in moved:
                where[leaf.index] = k
        plan = _NaPlan(
            tuple(status),
            shown,
            fixed,
            tuple(scaled),
            all(pattern),
            tuple(
                (k, leaf.index)
                for k, (leaf, off) in enumerate(zip(self._leaves, pattern, strict=True))
                if not off and k not in moved
            ),
            {i: (eff, weight) for _, i, eff, weight in scaled},
            _gather(where),
            consts,
        )
        if len(plans) >= 4096:
            plans.clear()
        plans[pattern] = plan
        return plan

    @cached_property
    def _na_plans(self) -> dict[tuple[bool, ...], _NaPlan]:
        return {}

    @cached_property
    def _fast_plans(self) -> dict[int, tuple[Callable[[tuple[Any, ...]], Any], _NaPlan] | bool]:
        """The fast function's plans, by pattern of not-applicable leaves (a bit per leaf):
        the pattern's aggregation as a generated function and its :class:`_NaPlan`, or
        False when the engine aggregates it (every leaf not applicable)."""
        return {}

    def _fast_plan(self, mask: int) -> tuple[Callable[[tuple[Any, ...]], Any], _NaPlan] | bool:
        """The fast function's plan of a pattern it meets for the first time (kept)."""
        pattern = tuple([bool(mask >> k & 1) for k in range(len(self._leaves))])
        with decimal.localcontext(ENGINE_CONTEXT):
            plan = self._na_plan(pattern)
        entry: tuple[Callable[[tuple[Any, ...]], Any], _NaPlan] | bool = (
            False if plan.all_na else (build_aggregate(self, plan), plan)
        )
        plans = self._fast_plans
        if len(plans) >= 4096:
            plans.clear()
        plans[mask] = entry
        return entry

    @cached_property
    def _tree_sum(self) -> Callable[[list[Decimal]], Decimal]:
        """A function that fills in every branch's score of a list of node scores (leaves
        given) and returns the unrounded total: the sums of :meth:`_aggregate`, in the same
        order (``sum(children, ZERO)``), written out as one expression per branch."""
        nodes = self._nodes
        lines = ["def tree_sum(s):"]
        for i in range(len(nodes) - 1, -1, -1):
            if nodes[i].leaf is None:
                lines.append(
                    f"    s[{i}] = " + " + ".join(["Z", *(f"s[{c}]" for c in nodes[i].children)])
                )
        lines.append("    return " + " + ".join(["Z", *(f"s[{i}]" for i in self._tops)]))
        namespace: dict[str, Any] = {"__builtins__": {}, "Z": ZERO}
        exec(
            compile("\n".join(lines) + "\n", f"<perfscore tree sum: {self.rubric.id}>", "exec"),
            namespace,
        )
        function: Callable[[list[Decimal]], Decimal] = namespace["tree_sum"]
        return function

    def _fast_na_result(
        self, values: dict[str, Any], leaf_scores: tuple[Decimal | None, ...], explain: bool
    ) -> ScoreResult:
        """:meth:`_aggregate` for a rubric without row groups, from a cached plan of the
        department's pattern of not-applicable leaves; explanation steps written when
        first read."""
        pattern = tuple([s is None for s in leaf_scores])
        plan = self._na_plans.get(pattern) or self._na_plan(pattern)
        rule = self.rubric.rounding.score
        places, mode = rule.places, rule.mode
        scores = list(plan.gather(leaf_scores + plan.consts))
        with decimal.localcontext(ENGINE_CONTEXT):
            if plan.scaled:
                unit, rounding = quantum(places), ROUNDING_MODES[mode]
                for k, i, eff, weight in plan.scaled:
                    points = leaf_scores[k]
                    assert points is not None
                    scores[i] = (points * eff / weight).quantize(unit, rounding)
            unrounded = self._tree_sum(scores)
            total_rule = self.rubric.rounding.total
            total = round_decimal(unrounded, total_rule.places, total_rule.mode)
            basis = total if self.rubric.rounding.grade_on == "rounded" else unrounded
            grade = self._grade(basis)
            grade_before_caps = grade.name
            applied: list[str] = []
            warnings: list[Issue] = []
            if plan.all_na:
                warnings.append(_all_not_applicable())
            if self._caps:
                marked = {k: _NA if v is None else v for k, v in values.items()}
                grade = self._apply_caps(marked, grade, applied, warnings)
        result = self._fast_plan_result(
            values, scores, unrounded, total, grade.name, plan, leaf_scores, explain
        )
        if warnings:
            result.__dict__.update(
                warnings=tuple(warnings),
                grade_before_caps=grade_before_caps if applied else None,
                grade_caps=tuple(applied),
            )
        return result

    def _fast_plan_result(
        self,
        values: dict[str, Any],
        scores: Sequence[Decimal],
        unrounded: Decimal,
        total: Decimal,
        grade: str,
        plan: _NaPlan,
        leaf_scores: tuple[Decimal | None, ...],
        explain: bool,
    ) -> ScoreResult:
        """The result of a department with something not applicable, aggregated by the
        plan of its pattern: every node's score, the totals and the grade given; the nodes
        and their explanation steps are made when first read."""
        nodes = partial(_plan_nodes, self, values, scores, leaf_scores, plan, explain)
        return self._result_of(values, unrounded, total, grade, nodes)

    def _plan_nodes(
        self,
        values: dict[str, Any],
        scores: Sequence[Decimal],
        leaf_scores: tuple[Decimal | None, ...],
        plan: _NaPlan,
        explain: bool,
    ) -> tuple[IndicatorResult, ...]:
        """The nodes of a result made by :meth:`_fast_plan_result`, when first read."""
        explanations: Sequence[Explanation | None] = self._no_explanations
        if explain:
            args = (values, scores, leaf_scores, plan)
            explanations = self._lazy_explanations(values, self._plan_leaf_steps, args)
        return self._indicator_columns.results(plan.shown, scores, plan.status, explanations)

    @cached_property
    def _tops(self) -> tuple[int, ...]:
        return tuple(i for i, node in enumerate(self._nodes) if node.parent is None)

    def _apply_caps(
        self, values: Mapping[str, Any], grade: _Grade, applied: list[str], warnings: list[Issue]
    ) -> _Grade:
        """The grade after the caps whose condition holds (a cap reading a value not
        applicable does not apply); each cap applied is named in ``applied`` and warned of."""
        for cap in self._caps:
            if not cap.when.names.isdisjoint(k for k, v in values.items() if v is _NA):
                continue  # a cap that reads a value not applicable does not apply
            if cap.when.evaluate(values):
                limit = next(g for g in self._grades if g.name == cap.max_grade)
                if grade.rank < limit.rank:
                    grade = limit
                    applied.append(cap.id)
                    warnings.append(
                        Issue.of(
                            "grade.capped",
                            Location(path=("grade_caps",)),
                            message=msg(
                                "grade.capped_reason" if cap.reason else "grade.capped",
                                grade=limit.name,
                                cap=repr(cap.id),
                                reason=cap.reason or "",
                            ),
                        )
                    )
        return grade

    def _na_step_of(self, leaf: _Leaf, values: Mapping[str, Any]) -> Step:
        """:meth:`_na_step` for ``values`` where None marks what is not applicable, kept
        for the next department with the same values missing (steps are immutable)."""
        missing = tuple([n for n in leaf.reads if n in values and values[n] is None])
        key = (leaf.index, missing)
        cache = self._na_steps
        step = cache.get(key)
        if step is None:
            step = self._na_step(leaf, values, set(missing))
            if self._lang and len(cache) < 4096:  # compiled in one language, written in it
                cache[key] = step
        return step

    @cached_property
    def _na_steps(self) -> dict[tuple[int, tuple[str, ...]], Step]:
        return {}

    def _na_step(self, leaf: _Leaf, values: Mapping[str, Any], na_names: set[str]) -> Step:
        """The step of a leaf that is not applicable: why, and what its policy does."""
        if na_names and not na_names.isdisjoint(leaf.reads):
            labels = self._labels
            missing = [labels.get(n, n) for n in leaf.reads if n in na_names]
            reason = tr("explain.no_value", names=tr("list.sep").join(missing))
        else:
            assert leaf.na_when is not None
            reason = leaf.na_when.source.strip()
        policy = tr(f"explain.policy_{leaf.na_policy}")
        return Step("not_applicable", tr("explain.not_applicable", reason=reason, policy=policy))

    def _fast_result(
        self,
        values: dict[str, Any],
        scores: tuple[Decimal, ...],
        unrounded: Decimal,
        total: Decimal,
        grade: str,
        explain: bool,
    ) -> ScoreResult:
        nodes = partial(_clean_nodes, self, values, scores, explain)
        return self._result_of(values, unrounded, total, grade, nodes)

    def _result_of(
        self,
        values: dict[str, Any],
        unrounded: Decimal,
        total: Decimal,
        grade: str,
        nodes: Callable[[], tuple[IndicatorResult, ...]],
    ) -> ScoreResult:
        """A fast-path result: the fields every result of this rubric shares are filled in
        once (see _result_fields), the result is made without running the frozen
        __init__, and its ``nodes`` are made when first read."""
        result = _new_object(ScoreResult)
        fields = result.__dict__
        fields.update(self._result_fields)
        fields["total"] = total
        fields["unrounded_total"] = unrounded
        fields["grade"] = grade
        fields["values"] = MappingProxyType(values)
        fields["nodes"] = nodes
        return result

    def _clean_nodes(
        self, values: dict[str, Any], scores: tuple[Decimal, ...], explain: bool
    ) -> tuple[IndicatorResult, ...]:
        """The nodes of a result made by :meth:`_fast_result`, when first read."""
        explanations: Sequence[Explanation | None] = self._no_explanations
        if explain:
            # The fast path computed every value and score; the steps come from the
            # leaves' scorers, run again on the same values with explanations on.
            args = (values, scores)
            explanations = self._lazy_explanations(values, self._clean_leaf_steps, args)
        # Every field but the score and the explanation is the same for every
        # department: the tuples are zipped and made in C, one per node.
        c = self._indicator_columns
        return c.results(c.weights, scores, c.scored, explanations)

    def _lazy_explanations(
        self,
        values: dict[str, Any],
        write: Callable[..., tuple[Step, ...]],
        args: tuple[Any, ...],
    ) -> Sequence[Explanation | None]:
        """Every node's explanation in node order, each leaf's written when first read by
        ``write(k, *args)`` (see :class:`LeafSteps`). Made in C: one lazy explanation per
        leaf, then gathered into node order (see _leaf_columns)."""
        lc = self._leaf_columns
        source = LeafSteps(MappingProxyType(values), lc.reads, write, args)
        made = tuple(map(_make_lazy_explanation, zip(repeat(source), lc.positions)))
        return lc.gather(made + lc.tail)

    def _clean_leaf_steps(
        self, k: int, values: Mapping[str, Any], scores: Sequence[Decimal]
    ) -> tuple[Step, ...]:
        """Leaf ``k``'s steps in a department the fast path scored with every leaf
        applicable, in the language the rubric was compiled in."""
        lc = self._leaf_columns
        if self._lang and self._lang != current_lang():
            with use_lang(self._lang):
                return self._leaf_steps(lc.scorers[k], values, scores[lc.nodes[k]])
        return self._leaf_steps(lc.scorers[k], values, scores[lc.nodes[k]])

    def _plan_leaf_steps(
        self,
        k: int,
        values: Mapping[str, Any],
        scores: Sequence[Decimal],
        leaf_scores: tuple[Decimal | None, ...],
        plan: _NaPlan,
    ) -> tuple[Step, ...]:
        """Leaf ``k``'s steps in a department aggregated by the plan of its pattern of
        not-applicable leaves, in the language the rubric was compiled in."""
        if self._lang and self._lang != current_lang():
            with use_lang(self._lang):
                return self._plan_leaf_steps(k, values, scores, leaf_scores, plan)
        leaf = self._leaves[k]
        points = leaf_scores[k]
        if points is None:
            return (self._na_step_of(leaf, values),)
        i = leaf.index
        return self._na_leaf_steps(leaf.scorer, values, points, plan.moved.get(i), scores[i])

    def _na_leaf_steps(
        self,
        scorer: Scorer,
        values: Mapping[str, Any],
        points: Decimal,
        moved: tuple[Decimal, Decimal] | None,
        scaled: Decimal,
    ) -> tuple[Step, ...]:
        """A scored leaf's steps beside not-applicable ones: its scorer's, its rounding,
        and the change of its weight when it took some (``moved``: effective, declared)."""
        steps = self._leaf_steps(scorer, values, points)
        if moved is not None:
            steps = (*steps, _redistribution_step(moved[1], moved[0], points, scaled))
        return steps

    def _leaf_steps(
        self, scorer: Scorer, values: Mapping[str, Any], rounded: Decimal
    ) -> tuple[Step, ...]:
        """A leaf's explanation steps: its scorer's, and the rounding to ``rounded``."""
        with decimal.localcontext(ENGINE_CONTEXT):
            points, steps = scorer(values, True)
            if points != rounded:
                steps = (*steps, self._rounding_step(points, rounded))
        return steps

    @cached_property
    def _rounding_text(self) -> str:
        """The middle of a ``rounding`` step: ``3.456`` + this + ``3.46``."""
        rule = self.rubric.rounding.score
        return tr(
            "explain.rounding",
            points="{points}",
            mode=tr(f"rounding.{rule.mode}"),
            places=tr("explain.places", places=rule.places)
            if rule.places
            else tr("explain.whole_number"),
            rounded="{rounded}",
        )

    def _rounding_step(self, points: Decimal, rounded: Decimal) -> Step:
        """The step that says a leaf's score was rounded by the rubric's score rounding."""
        return Step(
            "rounding", self._rounding_text.format(points=to_str(points), rounded=to_str(rounded))
        )

    @cached_property
    def _labels(self) -> Mapping[str, str]:
        """The label of every input and derived value, by id (for not-applicable reasons)."""
        labels = {name: spec.label for name, spec in self.rubric.inputs.items()}
        labels.update((name, spec.label) for name, spec in self.rubric.derived.items())
        return labels

    @cached_property
    def _no_explanations(self) -> tuple[None, ...]:
        return (None,) * len(self._nodes)

    @cached_property
    def _branch_explanations(self) -> tuple[Explanation | None, ...]:
        """An empty explanation for every branch, None for every leaf."""
        empty = Explanation(MappingProxyType({}), ())
        return tuple(empty if node.leaf is None else None for node in self._nodes)

    @cached_property
    def _leaf_columns(self) -> _LeafColumns:
        """The leaves' node indexes, scorers and names read, field by field, and how the
        leaves' explanations and the branches' empty ones make every node's, in order."""
        leaves = self._leaves
        tail = tuple(e for e in self._branch_explanations if e is not None)
        where: list[int] = []
        branch = len(leaves)
        position = {leaf.index: k for k, leaf in enumerate(leaves)}
        for i in range(len(self._nodes)):
            if i in position:
                where.append(position[i])
            else:
                where.append(branch)
                branch += 1

        return _LeafColumns(
            nodes=tuple(leaf.index for leaf in leaves),
            scorers=tuple(leaf.scorer for leaf in leaves),
            reads=tuple(leaf.reads for leaf in leaves),
            tail=tail,
            gather=_gather(where),
            positions=tuple(range(len(leaves))),
        )

    @cached_property
    def _leaf_scorers(self) -> tuple[tuple[int, Scorer, tuple[str, ...]], ...]:
        """Each leaf's node index, scorer and the names it reads."""
        return tuple((leaf.index, leaf.scorer, leaf.reads) for leaf in self._leaves)

    @cached_property
    def _result_fields(self) -> dict[str, Any]:
        """The fields of a :class:`ScoreResult` that are the same for every department."""
        return {
            "rubric_id": self.rubric.id,
            "rubric_version": self.rubric.version,
            "rubric_hash": self.hash,
            "max_total": self.rubric.total,
            "warnings": (),
            "grade_before_caps": None,
            "grade_caps": (),
            "perfscore_version": __version__,
            "input_ids": self._input_ids,
            "unit": None,
        }

    @cached_property
    def _input_check(self) -> Callable[..., None]:
        """The inputs' check as one generated function (see :func:`validate_inputs`)."""
        return build_input_check(self._inputs)

    @cached_property
    def _declared_inputs(self) -> dict[str, InputSpec]:
        """``{input id: spec}``, as :func:`validate_inputs` reads it."""
        return {rule.id: rule.spec for rule in self._inputs}

    @cached_property
    def _input_ids(self) -> tuple[str, ...]:
        """The ids of the rubric's inputs, in declaration order (for the inputs hash)."""
        return tuple(self.rubric.inputs)

    def _score(
        self,
        values: dict[str, Any],
        explain: bool,
        overrides: Mapping[int, tuple[Decimal, str, str | None, str | None]] | None = None,
    ) -> ScoreResult:
        na_names = {k for k, v in values.items() if v is _NA}
        for d in self._derived:
            if na_names and not na_names.isdisjoint(d.formula.names):
                na_names.add(d.id)
                values[d.id] = _NA
                continue
            try:
                value = d.formula.evaluate_unchecked(values)
            except (ArithmeticError, InvalidOperation):
                error = d.formula.locate_failure(values)
                if (
                    error.codes == ("evaluation.division_by_zero",)
                    and d.on_zero_division is not None
                ):
                    if d.on_zero_division == "not_applicable":
                        na_names.add(d.id)
                        values[d.id] = _NA
                        continue
                    # The fallback is the value itself, in the value's own unit.
                    values[d.id] = d.on_zero_division
                    continue
                raise error from None
            if isinstance(value, Decimal):
                try:
                    if d.as_percent:
                        value = value * HUNDRED
                    if d.rounding is not None:
                        value = round_decimal(value, d.rounding.places, d.rounding.mode)
                except ArithmeticError:  # more digits than exact arithmetic keeps
                    raise _too_large(d.id, value, d.formula) from None
            values[d.id] = value

        score_rule = self.rubric.rounding.score
        raw: list[Decimal | None] = [None] * len(self._nodes)
        overridden: dict[int, Override] = {}
        judged = {i for i, _ in self._judged}
        steps: dict[int, tuple[Step, ...]] = {}
        na: dict[int, str] = {}  # node index -> policy, for not-applicable leaves
        rows_out: dict[int, tuple[_RowOutcome, ...]] = {}
        for leaf in self._leaves:
            i = leaf.index
            reason = None
            if na_names and not na_names.isdisjoint(leaf.reads):
                labels = self._labels
                missing = [labels.get(n, n) for n in leaf.reads if n in na_names]
                reason = tr("explain.no_value", names=tr("list.sep").join(missing))
            elif leaf.na_when is not None and leaf.na_when.evaluate(values):
                reason = leaf.na_when.source.strip()
            decided = overrides.get(i) if overrides else None
            if decided is not None:  # written as the rubric writes scores
                decided = (round_decimal(decided[0], score_rule.places, score_rule.mode),
                           *decided[1:])  # fmt: skip
            if reason is not None and decided is not None:
                # a reviewer's score counts for a leaf found not applicable as well
                raw[i] = decided[0]
                overridden[i] = Override(decided[0], None, *decided[1:])
                if explain:
                    text = f"不适用（{reason}）"
                    steps[i] = (Step("not_applicable", text), self._override_step(decided))
                continue
            if reason is not None:
                na[i] = leaf.na_policy
                if explain:
                    steps[i] = (self._na_step(leaf, values, na_names),)
                continue
            if judged and i in judged and judged_key(leaf.node.id) not in values:
                raise InputError(
                    [
                        Issue.of(
                            "judged.missing",
                            Location(path=("judged", leaf.node.id)),
                            indicator=leaf.node.id,
                            name=leaf.node.name,
                        )
                    ]
                )
            try:
                points, why = leaf.scorer(values, explain)
                if why and isinstance(why[0], _RowsStep):
                    rows_out[i] = why[0].outcomes
                    why = why[1:]
            except NoMatch as e:
                path = self._node_path(i)
                raise EvaluationError(
                    [
                        Issue.of(
                            "evaluation.no_match",
                            Locator(self.rubric._source)(path),
                            message=msg(
                                "evaluation.in_indicator", id=repr(leaf.node.id), message=e.message
                            ),
                            hint=e.hint,
                        )
                    ]
                ) from None
            except (ArithmeticError, InvalidOperation, TypeError):
                raise self._locate(leaf, values) from None
            weight = leaf.node.weight
            if not ZERO <= points <= weight:
                method = leaf.node.scoring.method if leaf.node.scoring else "?"
                raise EvaluationError(
                    [
                        Issue.of(
                            "evaluation.out_of_range",
                            Locator(self.rubric._source)(self._node_path(i)),
                            id=repr(leaf.node.id),
                            method=repr(method),
                            points=str(points),
                            weight=str(weight),
                        )
                    ]
                )
            rounded = round_decimal(points, score_rule.places, score_rule.mode)
            raw[i] = rounded
            if explain:
                if rounded != points:
                    why = (*why, self._rounding_step(points, rounded))
                steps[i] = why
            if decided is not None:
                raw[i] = decided[0]
                overridden[i] = Override(decided[0], rounded, *decided[1:])
                if explain:
                    steps[i] = (*steps[i], self._override_step(decided))
        dropped = self._drop_alternatives(na, raw) if self._alternative_groups else frozenset()
        return self._aggregate(values, raw, na, steps, explain, rows_out, overridden, dropped)

    @staticmethod
    def _override_step(decided: tuple[Decimal, str, str | None, str | None]) -> Step:
        score, reason, by, date = decided
        who = "、".join(x for x in (by, date) if x)
        text = i18n.tr(
            "override.step" if who else "override.step_anonymous",
            "zh",  # explanations read in one language, as every other step
            score=to_plain(score),
            reason=reason,
            by=who,
        )
        return Step("override", text)

    def _drop_alternatives(self, na: dict[int, str], raw: list[Decimal | None]) -> frozenset[int]:
        """For each alternatives branch, the children that do not apply (they neither score
        nor move weight); an error when none or several apply."""
        dropped: set[int] = set()
        for branch, children in self._alternative_groups:
            applicable = [c for c in children if not self._not_applicable(c, na)]
            if len(applicable) != 1:
                node = self._nodes[branch].node
                raise EvaluationError(
                    [
                        Issue.of(
                            "evaluation.alternatives_none"
                            if not applicable
                            else "evaluation.alternatives_several",
                            Locator(self.rubric._source)(self._node_path(branch)),
                            indicator=node.id,
                            children=", ".join(self._nodes[c].node.id for c in children),
                            applicable=", ".join(self._nodes[c].node.id for c in applicable),
                        )
                    ]
                )
            for c in children:
                if c != applicable[0]:
                    for k in self._subtree(c):
                        na.pop(k, None)
                        if self._nodes[k].leaf is not None:
                            raw[k] = ZERO
                        dropped.add(k)
        return frozenset(dropped)

    def _not_applicable(self, index: int, na: Mapping[int, str]) -> bool:
        node = self._nodes[index]
        if node.leaf is not None:
            return index in na
        return all(self._not_applicable(c, na) for c in node.children)

    def _subtree(self, index: int) -> list[int]:
        out = [index]
        for c in self._nodes[index].children:
            out.extend(self._subtree(c))
        return out

    def _warn(
        self,
        result: ScoreResult,
        values: Mapping[str, Any],
        source: str | None,
        extra: tuple[Issue, ...] = (),
    ) -> ScoreResult:
        """``result`` with its warnings about the data: a percent below 1 % (a fraction of
        one?), each check that holds (data that disagree with themselves), and ``extra``
        (a judges' panel that disagrees)."""
        if not self._checks and not self._percents and not extra:
            return result
        warnings = [
            Issue.of(
                "input.percent_fraction",
                Location(file=source, path=(name,)),
                input=repr(name),
                label=label,
                value=to_str(v),
            )
            for name, label in self._percents
            if isinstance(v := values.get(name), Decimal) and v and -1 < v < 1
        ]
        warnings += [
            Issue.of("input.inconsistent", Location(file=source), **_check_params(c, values))
            for c in self._checks
            if all(values.get(n) is not _NA for n in c.when.names) and c.when.evaluate(values)
        ]
        warnings += extra
        return replace(result, warnings=(*warnings, *result.warnings)) if warnings else result

    @cached_property
    def _percents(self) -> tuple[tuple[str, str], ...]:
        """The percent inputs read in percent points: (id, label)."""
        return tuple(
            (name, spec.label)
            for name, spec in self.rubric.inputs.items()
            if spec.kind == "percent" and "fraction" not in spec.accept
        )

    def _locate(self, leaf: _Leaf, values: Mapping[str, Any]) -> EvaluationError:
        for formula in leaf.formulas:
            try:
                formula.interpret(values)
            except EvaluationError as e:
                return e
        return EvaluationError(
            [
                Issue.of(
                    "evaluation.arithmetic",
                    Locator(self.rubric._source)(self._node_path(leaf.index)),
                    message=msg("evaluation.arithmetic_failed", id=repr(leaf.node.id)),
                )
            ]
        )

    def _node_path(self, index: int) -> tuple[PathPart, ...]:
        parts: list[PathPart] = []
        while True:
            node = self._nodes[index]
            parent = node.parent
            siblings = (
                self.rubric.indicators if parent is None else self._nodes[parent].node.children
            )
            assert siblings is not None
            position = next(k for k, s in enumerate(siblings) if s is node.node)
            parts[:0] = ["children", position] if parent is not None else ["indicators", position]
            if parent is None:
                return tuple(parts)
            index = parent

    def _aggregate(
        self,
        values: dict[str, Any],
        raw: list[Decimal | None],
        na: dict[int, str],
        steps: dict[int, tuple[Step, ...]],
        explain: bool,
        rows_out: dict[int, tuple[_RowOutcome, ...]],
        overridden: Mapping[int, Override] | None = None,
        dropped: frozenset[int] = frozenset(),
    ) -> ScoreResult:
        nodes = self._nodes
        n = len(nodes)
        total_weight = self.rubric.total
        score_rule = self.rubric.rounding.score
        effective: list[Decimal] = [node.node.weight for node in nodes]
        zero = round_decimal(ZERO, score_rule.places, score_rule.mode)
        scores: list[Decimal] = [zero] * n
        status: list[Status] = [Status.SCORED] * n
        extra: dict[int, list[Step]] = {}
        for i in dropped:
            effective[i] = ZERO
            status[i] = Status.NOT_APPLICABLE
            if explain and nodes[i].leaf is not None:
                steps[i] = (Step("not_applicable", i18n.tr("alternatives.step", "zh")),)

        if na:
            effective = self._effective_weights(na, dropped)
            places, mode = score_rule.places, score_rule.mode
            for leaf in self._leaves:
                i = leaf.index
                weight = leaf.node.weight
                if i in dropped:
                    continue
                if i in na:
                    status[i] = Status.NOT_APPLICABLE
                    if na[i] == "full_marks":
                        scores[i] = effective[i]
                    continue
                points = raw[i]
                assert points is not None
                if effective[i] != weight:
                    scaled = round_decimal(points * effective[i] / weight, places, mode)
                    if explain:
                        extra.setdefault(i, []).append(
                            _redistribution_step(weight, effective[i], points, scaled)
                        )
                    points = scaled
                scores[i] = points
        else:
            for leaf in self._leaves:
                points = raw[leaf.index]
                assert points is not None
                scores[leaf.index] = points

        row_scores: dict[int, list[Decimal]] = {}
        row_weights: dict[int, list[Decimal]] = {}
        for i, outcomes in rows_out.items():
            weight = nodes[i].node.weight
            if effective[i] == weight:
                row_weights[i] = [o.weight for o in outcomes]
                row_scores[i] = [o.score for o in outcomes]
            else:
                # As for leaves: the rows' weights are rounded to add up to the group's
                # effective weight, and each row's score scales with its own weight.
                row_weights[i] = _largest_remainder(
                    [o.weight * effective[i] / weight for o in outcomes],
                    effective[i],
                    score_rule.places,
                )
                row_scores[i] = [
                    round_decimal(o.score * w / o.weight, score_rule.places, score_rule.mode)
                    if o.weight
                    else ZERO
                    for o, w in zip(outcomes, row_weights[i], strict=True)
                ]
            if status[i] is Status.SCORED:
                scores[i] = sum(row_scores[i], ZERO)

        for i in range(n - 1, -1, -1):
            node = nodes[i]
            if node.leaf is None:
                scores[i] = sum((scores[c] for c in node.children), ZERO)
                if na or dropped:
                    effective[i] = sum((effective[c] for c in node.children), ZERO)
                    if all(status[c] is Status.NOT_APPLICABLE for c in node.children):
                        status[i] = Status.NOT_APPLICABLE

        unrounded = sum((scores[i] for i in range(n) if nodes[i].parent is None), ZERO)
        rule = self.rubric.rounding.total
        total = round_decimal(unrounded, rule.places, rule.mode)
        basis = total if self.rubric.rounding.grade_on == "rounded" else unrounded
        grade = self._grade(basis)
        grade_before_caps = grade.name
        applied: list[str] = []
        warnings: list[Issue] = []
        if na and all(status[leaf.index] is Status.NOT_APPLICABLE for leaf in self._leaves):
            warnings.append(_all_not_applicable())
        grade = self._apply_caps(values, grade, applied, warnings)

        results = []
        for i, node in enumerate(nodes):
            explanation = None
            if explain:
                explanation = self._explanation(node, values, steps.get(i, ()), extra.get(i, ()))
            eff = effective[i]
            results.append(
                IndicatorResult(
                    id=node.node.id,
                    name=node.node.name,
                    weight=node.node.weight,
                    effective_weight=node.node.weight
                    if eff == node.node.weight
                    else round_decimal(eff, score_rule.places, score_rule.mode),
                    score=scores[i],
                    status=status[i],
                    depth=node.depth,
                    parent=None if node.parent is None else nodes[node.parent].node.id,
                    children=tuple(nodes[c].node.id for c in node.children)
                    or tuple(f"{node.node.id}.{k + 1}" for k in range(len(rows_out.get(i, ())))),
                    explanation=explanation,
                    standard=node.node.standard,
                    override=overridden.get(i) if overridden else None,
                )
            )
            for k, outcome in enumerate(rows_out.get(i, ())):
                results.append(
                    IndicatorResult(
                        id=f"{node.node.id}.{k + 1}",
                        name=outcome.name,
                        weight=outcome.weight,
                        effective_weight=row_weights[i][k],
                        score=row_scores[i][k],
                        status=status[i],
                        depth=node.depth + 1,
                        parent=node.node.id,
                        children=(),
                        explanation=Explanation(outcome.values, outcome.steps) if explain else None,
                        standard=None,
                    )
                )
        public_values = {
            k: (None if v is _NA else v)
            for k, v in values.items()
            if not k.startswith(JUDGED_PREFIX)
        }
        return ScoreResult(
            rubric_id=self.rubric.id,
            rubric_version=self.rubric.version,
            rubric_hash=self.hash,
            total=total,
            unrounded_total=unrounded,
            max_total=total_weight,
            grade=grade.name,
            nodes=tuple(results),
            values=MappingProxyType(public_values),
            warnings=tuple(warnings),
            grade_before_caps=grade_before_caps if applied else None,
            grade_caps=tuple(applied),
            perfscore_version=__version__,
            input_ids=self._input_ids,
        )

    @cached_property
    def _weights_by_pattern(
        self,
    ) -> dict[tuple[tuple[tuple[int, str], ...], frozenset[int]], tuple[Decimal, ...]]:
        return {}

    def _effective_weights(
        self, na: Mapping[int, str], dropped: frozenset[int] = frozenset()
    ) -> list[Decimal]:
        """:meth:`_moved_weights`, kept per pattern of not-applicable leaves (a population
        has few): the same weights, computed once."""
        key = (tuple(na.items()), dropped)
        cache = self._weights_by_pattern
        weights = cache.get(key)
        if weights is None:
            weights = tuple(self._moved_weights(na, dropped))
            if len(cache) >= 4096:
                cache.clear()
            cache[key] = weights
        return list(weights)

    def _moved_weights(
        self, na: Mapping[int, str], dropped: frozenset[int] = frozenset()
    ) -> list[Decimal]:
        """Every node's weight after not-applicable weight moved, rounded so that the
        applicable leaves add up to the rubric total exactly.

        A leaf not applicable with ``to_siblings`` gives its weight to its applicable
        siblings in proportion to their weights (a branch with nothing applicable left
        gives its weight to its own siblings). With ``rescale`` its weight leaves the
        rubric and every applicable leaf grows in proportion, as if the total were rescaled
        by the applicable weight. With ``full_marks`` it keeps its weight and scores it.
        """
        nodes = self._nodes
        n = len(nodes)
        kind = ["present"] * n
        for i in range(n - 1, -1, -1):
            node = nodes[i]
            if node.leaf is not None:
                policy = na.get(i)
                kind[i] = (
                    "present"
                    if policy in (None, "full_marks")
                    else ("rescale" if policy == "rescale" else "sib")
                )
            else:
                kinds = {kind[c] for c in node.children if c not in dropped}
                kind[i] = (
                    "present"
                    if "present" in kinds
                    else ("rescale" if "rescale" in kinds else "sib")
                )
        exact = [ZERO] * n
        pool = ZERO

        def share(children: Sequence[int], weight: Decimal) -> None:
            nonlocal pool
            children = [c for c in children if c not in dropped]
            declared = sum((nodes[c].node.weight for c in children), ZERO)
            scale = weight / declared if declared else ZERO
            kept = sum((nodes[c].node.weight for c in children if kind[c] == "present"), ZERO)
            moved = sum((nodes[c].node.weight for c in children if kind[c] == "sib"), ZERO)
            pool += scale * sum(
                (nodes[c].node.weight for c in children if kind[c] == "rescale"), ZERO
            )
            if not kept:
                pool += scale * moved
                return
            for c in children:
                if kind[c] == "present":
                    exact[c] = scale * nodes[c].node.weight * (kept + moved) / kept

        share([i for i in range(n) if nodes[i].parent is None], self.rubric.total)
        for i in range(n):
            if (
                nodes[i].leaf is None
                and kind[i] == "present"
                and (nodes[i].parent is None or exact[i])
            ):
                share(nodes[i].children, exact[i])
        total = self.rubric.total
        leaves = [
            leaf.index
            for leaf in self._leaves
            if kind[leaf.index] == "present" and leaf.index not in dropped
        ]
        if pool:
            factor = total / (total - pool) if pool < total else ZERO
            for i in leaves:
                exact[i] *= factor
        rounded = _largest_remainder(
            [exact[i] for i in leaves], total, self.rubric.rounding.score.places
        )
        effective = [ZERO] * n
        for i, value in zip(leaves, rounded, strict=True):
            effective[i] = value
        return effective

    def _explanation(
        self, node: _Node, values: Mapping[str, Any], steps: Sequence[Step], extra: Sequence[Step]
    ) -> Explanation:
        if node.leaf is None:
            return Explanation(MappingProxyType({}), tuple(extra))
        shown = {
            name: (None if values.get(name) is _NA else values.get(name))
            for name in node.leaf.reads
        }
        return Explanation(MappingProxyType(shown), (*steps, *extra))

    def _grade(self, total: Decimal) -> _Grade:
        for grade in self._grades:
            if total in grade.range:
                return grade
        raise EvaluationError(
            [Issue.of("evaluation.no_grade", Location(path=("grades",)), total=to_str(total))]
        )


def _redistribution_step(
    weight: Decimal, effective: Decimal, points: Decimal, scaled: Decimal
) -> Step:
    """The step of a leaf whose weight changed because another was not applicable."""
    return Step(
        "redistribution",
        tr(
            "explain.redistribution",
            weight=to_str(weight),
            effective=to_str(effective),
            points=to_str(points),
            scaled=to_str(scaled),
        ),
    )


def _all_not_applicable() -> Issue:
    return Issue.of("score.all_not_applicable", Location(path=("indicators",)))


@dataclass(frozen=True, slots=True)
class _NaPlan:
    """What one pattern of not-applicable leaves does to every node of a rubric."""

    status: tuple[Status, ...]
    shown: tuple[Decimal, ...]  # effective weights as results show them
    fixed: dict[int, Decimal]  # node index -> score of a leaf not applicable
    scaled: tuple[tuple[int, int, Decimal, Decimal], ...]  # leaf k, node, effective, weight
    all_na: bool
    scored: tuple[tuple[int, int], ...]  # leaf k, node: scored, its weight unchanged
    moved: dict[int, tuple[Decimal, Decimal]]  # node index -> effective, declared weight
    # every node's score before the scaled leaves and the branches are filled in, from
    # ``leaf_scores + consts``: a scored leaf's, a not-applicable leaf's fixed score, else 0
    gather: Callable[[tuple[Decimal | None, ...]], tuple[Decimal, ...]]
    consts: tuple[Decimal, ...]


_FAST_DECLINES: Final = (Fallback, ArithmeticError, ValueError, KeyError, TypeError)
#: Makes a result without running its frozen ``__init__`` (see CompiledRubric._fast_result).
_new_object: Final = object.__new__
#: The nodes of a fast result, made when first read (held as partials: cheaper to make
#: than a closure per result).
_clean_nodes: Final = CompiledRubric._clean_nodes
_plan_nodes: Final = CompiledRubric._plan_nodes
#: What a not-applicable leaf gets, by policy: ``不适用（…）：`` + this.


def _largest_remainder(shares: Sequence[Decimal], total: Decimal, places: int) -> list[Decimal]:
    """Round ``shares`` to ``places`` decimals so that they add up to ``total`` rounded,
    each off by less than one unit: floor every share, then give the units still
    missing to the largest remainders (ties to the earlier share)."""
    if not shares:
        return []
    unit = Decimal(1).scaleb(-places)
    floors = [(s / unit).to_integral_value(rounding=decimal.ROUND_FLOOR) for s in shares]
    target = (sum(shares, ZERO) / unit).to_integral_value(rounding=decimal.ROUND_HALF_UP)
    missing = int(target - sum(floors, ZERO))
    order = sorted(range(len(shares)), key=lambda k: (-(shares[k] / unit - floors[k]), k))
    for k in order[: max(0, missing)]:
        floors[k] += 1
    return [(f * unit).quantize(unit) for f in floors]


def compile_rubric(rubric: Rubric) -> CompiledRubric:
    """Check ``rubric`` whole and compile it; raise :class:`RubricValidationError` (or its
    :class:`FormulaError` subclass when every problem is in a formula) listing every problem.

    The result is cached on the rubric object: compiling twice costs nothing. Explanations
    are written in the language in force when the rubric is compiled; compiling it again
    in another language (:func:`perfscore.i18n.use_lang`) gives explanations in that one.
    """
    lang = current_lang()
    by_lang = rubric._compiled
    if not isinstance(by_lang, dict):
        by_lang = rubric._compiled = {}
    cached = by_lang.get(lang)
    if cached is not None:
        return cached  # type: ignore[no-any-return]  # the rubric's cache holds only these
    compiler = _Compiler(rubric)
    compiler.symbols = {
        name: input_symbol(spec) for name, spec in rubric.inputs.items() if spec.kind != "table"
    }
    for name in rubric.inputs:
        if name in SECTIONS:
            compiler.issues.append(
                Issue.of(
                    "rubric.reserved_input",
                    compiler.locate(("inputs", name), key=True),
                    name=name,
                    sections=", ".join(SECTIONS),
                )
            )
    derived = compiler.derived()
    nodes, leaves = compiler.tree()
    grades = compiler.grades()
    caps = compiler.caps(grades)
    checks = compiler.checks()
    if compiler.issues:
        issues = sorted(compiler.issues, key=_issue_order)
        if all(i.code.startswith("formula.") for i in issues):
            raise FormulaError(issues)
        raise RubricValidationError(issues)
    compiled = CompiledRubric(
        rubric=rubric,
        hash=content_hash(rubric),
        _inputs=tuple(input_rule(k, v) for k, v in rubric.inputs.items()),
        _derived=tuple(derived),
        _nodes=tuple(nodes),
        _leaves=tuple(leaves),
        _grades=tuple(grades),
        _caps=tuple(caps),
        _checks=tuple(checks),
        _symbols=dict(compiler.symbols),
    )
    object.__setattr__(compiled, "_fast", build_fast_path(compiled))
    object.__setattr__(compiled, "_lang", lang)
    by_lang[lang] = compiled
    return compiled


def _too_large(name: str, value: Decimal, formula: Formula) -> EvaluationError:
    size = f"10^{value.adjusted()}" if value.is_finite() else str(value)
    return EvaluationError(
        [
            Issue.of(
                "evaluation.overflow",
                formula.origin,
                message=msg("evaluation.too_large", name=repr(name), size=size),
                hint=msg("evaluation.too_large.hint"),
            )
        ]
    )


def _check_params(check: _Check, values: Mapping[str, Any]) -> dict[str, Any]:
    shown = ", ".join(
        f"{n} = {to_str(v) if isinstance(v, Decimal) else v}"
        for n in sorted(check.when.names)
        if (v := values.get(n)) is not None
    )
    return {"check": repr(check.id), "text": check.message, "values": shown}


def _issue_order(issue: Issue) -> tuple[int, int]:
    loc = issue.location
    return (loc.line or 0, loc.column or 0)
