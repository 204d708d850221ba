"""Scoring methods: how a leaf turns values into a score, each a named kind with parameters.

Built in: ``deduction``, ``bands``, ``proportional``, ``checklist``, ``levels``, ``cases``,
``formula``. A library user adds a kind with :func:`register_method`::

    class Doubling(ScoringMethod):
        kind: ClassVar[str] = "doubling"
        method: Literal["doubling"] = "doubling"
        value: str

        def compile(self, ctx: MethodContext) -> Scorer:
            value = ctx.formula("value", self.value, NUMBER)
            def score(values, explain):
                return min(ctx.weight, 2 * value.evaluate_unchecked(values)), ()
            return score

    register_method(Doubling)

A method's ``compile`` runs once per rubric: it checks its parameters against the leaf
(weight, declared names) through the :class:`MethodContext`, reporting every problem, and
returns a scorer: ``scorer(values, explain) -> (score, steps)``, where ``score`` lies in
``[0, weight]`` and ``steps`` explain it (empty when ``explain`` is false).
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import i18n
from ._interval import Interval, interval_from_mapping, python_test
from ._numbers import ZERO, to_plain
from .errors import Problem
from .formula import Formula, Symbol, ValueType
from .i18n import msg
from .results import Step

__all__ = [
    "Bands",
    "Cases",
    "Checklist",
    "Deduction",
    "FormulaMethod",
    "Judged",
    "Levels",
    "MethodContext",
    "Proportional",
    "Scorer",
    "ScoringMethod",
    "method_kinds",
    "register_method",
]

NUMBER = ValueType.NUMBER
BOOLEAN = ValueType.BOOLEAN
TEXT = ValueType.TEXT
Values = Mapping[str, Any]
Scorer = Callable[[Values, bool], tuple[Decimal, tuple[Step, ...]]]
Monotone = Literal["increasing", "decreasing"]


class MethodContext(Protocol):
    """What a method sees while it compiles: the leaf and a way to report problems."""

    @property
    def weight(self) -> Decimal: ...

    @property
    def indicator_id(self) -> str: ...

    def formula(
        self,
        field: str | tuple[str | int, ...],
        source: str,
        expect: ValueType | tuple[ValueType, ...],
    ) -> Formula:
        """Compile a formula found at ``field`` of the method; problems are recorded."""
        ...

    def symbol(self, name: str) -> Symbol | None:
        """The declared input or derived value called ``name``, if any."""
        ...

    def error(
        self,
        field: str | tuple[str | int, ...],
        code: str,
        message: str | Mapping[str, Any],
        hint: str | Mapping[str, Any] | None = None,
    ) -> None:
        """Record a problem at ``field`` of the method: its message and hint are texts
        made by :func:`perfscore.i18n.msg` (written in any language), or plain text."""
        ...


class CodeGen(Protocol):
    """What a method sees while it writes its fast form (see :meth:`ScoringMethod.codegen`)."""

    def expr(self, source: str) -> str:
        """Python source of an already-checked formula of this method, reading ``v``."""
        ...

    def const(self, value: Any) -> str:
        """A name bound to ``value`` in the generated code."""
        ...

    def temp(self) -> str:
        """A fresh local name, for ``(name := ...)``."""
        ...

    def fallback(self) -> str:
        """An expression that abandons the fast path (the full engine then scores)."""
        ...


class ScoringMethod(BaseModel):
    """Base of every scoring method's parameters (one pydantic model per kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: ClassVar[str] = ""
    method: str

    def compile(self, ctx: MethodContext) -> Scorer:  # pragma: no cover - abstract
        raise NotImplementedError

    def codegen(self, gen: CodeGen, weight: Decimal) -> str | None:
        """A Python expression for the score (before rounding), for the compiled fast path.

        Optional: a method without one is scored through its scorer. The expression must
        give exactly what the scorer gives; tests compare the two on random inputs.
        """
        return None

    @property
    def value_source(self) -> str | None:
        """The formula whose value the score depends on monotonically, if any."""
        return None

    @property
    def monotone_direction(self) -> Monotone | None:
        """``increasing`` / ``decreasing`` when the score is declared or known monotone."""
        return None


_REGISTRY: dict[str, type[ScoringMethod]] = {}


def register_method(cls: type[ScoringMethod]) -> type[ScoringMethod]:
    """Register a scoring method kind (usable as a class decorator)."""
    if not cls.kind or not cls.kind.isidentifier():
        raise ValueError(f"{cls.__name__}.kind must be an identifier, got {cls.kind!r}")
    _REGISTRY[cls.kind] = cls
    return cls


def method_kinds() -> dict[str, type[ScoringMethod]]:
    """The registered method kinds, by name."""
    return dict(_REGISTRY)


def method_class(kind: str) -> type[ScoringMethod] | None:
    return _REGISTRY.get(kind)


#: A number for an explanation line: plain notation, no trailing zeros.
_d = to_plain


def _floor_text(floor: Decimal) -> str:
    """The explanation of a score stopped by its floor (扣完为止)."""
    return "扣完为止，最低 0 分" if floor == 0 else f"扣至 {_d(floor)} 分为止"


# --------------------------------------------------------------------------- deduction

#: How the steps of a deduction are counted, as an explanation says it.
_STEP_MODES: Final = {
    "whole": "整档计，不足一档不扣",
    "partial_up": "不足一档按一档计",
    "pro_rata": "按比例计",
}


class DeductionSteps(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points: Decimal = Field(gt=0, description="points deducted per step")
    per: Decimal = Field(Decimal(1), gt=0, description="size of one step, in the value's unit")
    steps: Literal["whole", "partial_up", "pro_rata"] = Field(
        description="whole: only complete steps count; partial_up: a started step counts; "
        "pro_rata: deduct in proportion"
    )


@register_method
class Deduction(ScoringMethod):
    """Full marks up to a threshold, then points off per unit beyond it, floored.

    ``direction: over`` deducts for each ``per`` the value is above ``threshold``
    (每超过一个百分点扣k分); ``under`` for each ``per`` it is below (每低于…扣k分).
    """

    kind: ClassVar[str] = "deduction"
    method: Literal["deduction"] = "deduction"
    value: str
    threshold: Decimal = ZERO
    direction: Literal["over", "under"]
    deduct: DeductionSteps
    floor: Decimal = Field(ZERO, ge=0, description="the score never falls below this (扣完为止)")
    max_deduction: Decimal | None = Field(None, gt=0)

    @property
    def value_source(self) -> str:
        return self.value

    @property
    def monotone_direction(self) -> Monotone:
        return "decreasing" if self.direction == "over" else "increasing"

    def compile(self, ctx: MethodContext) -> Scorer:
        value = ctx.formula("value", self.value, NUMBER)
        weight = ctx.weight
        if self.floor > weight:
            ctx.error(
                "floor",
                "method.points_over_weight",
                msg("method.over_weight", what="floor", value=str(self.floor), weight=str(weight)),
            )
        over = self.direction == "over"
        threshold, per, points, mode = (
            self.threshold,
            self.deduct.per,
            self.deduct.points,
            self.deduct.steps,
        )
        floor, cap = self.floor, self.max_deduction
        # Explanation text that does not change between departments, written once:
        # "176.92 超过 100 达 76.92，每 1 扣 0.5 分（整档计，不足一档不扣），计 76 档".
        full_text = f" {'≤' if over else '≥'} {_d(threshold)}，得满分 {_d(weight)}"
        step_text = f" {'超过' if over else '低于'} {_d(threshold)} 达 "
        unit_text = f"，每 {_d(per)} 扣 {_d(points)} 分（{_STEP_MODES[mode]}），计 "
        cap_text = "" if cap is None else f"，最多扣 {_d(cap)} 分"
        floor_text = _floor_text(floor)

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            x: Decimal = value.evaluate_unchecked(values)  # type: ignore[assignment]
            gap = x - threshold if over else threshold - x
            if gap <= 0:
                if not explain:
                    return weight, ()
                return weight, (Step("threshold", _d(x) + full_text),)
            units = gap / per
            if mode == "whole":
                n = units.to_integral_value(rounding=decimal.ROUND_FLOOR)
            elif mode == "partial_up":
                n = units.to_integral_value(rounding=decimal.ROUND_CEILING)
            else:
                n = units
            lost = n * points
            if cap is not None and lost > cap:
                lost = cap
            result = weight - lost
            if result < floor:
                result = floor
            if not explain:
                return result, ()
            text = f"{_d(x)}{step_text}{_d(gap)}{unit_text}{_d(n)} 档"
            if cap is not None and n * points > cap:
                text += cap_text
            if weight - lost < floor:
                return result, (
                    Step("deduction", text, -lost),
                    Step("floor", floor_text, floor - (weight - lost)),
                )
            return result, (Step("deduction", text, -lost),)

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        x, g = gen.temp(), gen.temp()
        value = gen.expr(self.value)
        gap = (
            f"{x} - {gen.const(self.threshold)}"
            if self.direction == "over"
            else f"{gen.const(self.threshold)} - {x}"
        )
        per = gen.const(self.deduct.per)
        steps = {
            "whole": f"({g} // {per})",
            "partial_up": f"({g} / {per}).to_integral_value({gen.const(decimal.ROUND_CEILING)})",
            "pro_rata": f"({g} / {per})",
        }[self.deduct.steps]
        lost = f"{steps} * {gen.const(self.deduct.points)}"
        if self.max_deduction is not None:
            lost = f"min({lost}, {gen.const(self.max_deduction)})"
        w = gen.const(weight)
        return (
            f"({w} if ({g} := (({x} := {value}), {gap})[1]) <= 0 "
            f"else max({gen.const(self.floor)}, {w} - {lost}))"
        )


# --------------------------------------------------------------------------- bands


class Band(BaseModel):
    """One range of values and the points it earns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    range: Interval
    points: Decimal = Field(ge=0)
    text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _interval(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("range"), Interval):
            data = dict(data)
            data["range"] = interval_from_mapping(data)
        return data


def _serialize_band(band: Band) -> dict[str, Any]:
    out: dict[str, Any] = {"range": band.range.notation(), "points": band.points}
    if band.text is not None:
        out["text"] = band.text
    return out


def _check_disjoint(ctx: MethodContext, field: str, intervals: Sequence[Interval]) -> None:
    for i, a in enumerate(intervals):
        for j in range(i):
            if a.overlaps(intervals[j]):
                ctx.error(
                    (field, i),
                    "method.bands_overlap",
                    msg(
                        "method.bands_overlap",
                        band=str(a),
                        other=str(intervals[j]),
                        field=field,
                        index=j,
                    ),
                    msg("method.bands_overlap.hint"),
                )


def _check_monotone_bands(ctx: MethodContext, bands: Sequence[Band], direction: str) -> None:
    """A table declared monotone must not give fewer points to a higher (lower) band."""
    low = Decimal("-Infinity")
    order = sorted(
        range(len(bands)),
        key=lambda i: (
            bands[i].range.lower if bands[i].range.lower is not None else low,
            not bands[i].range.include_lower,
        ),
    )
    for before, after in itertools.pairwise(order):
        a, b = bands[before].points, bands[after].points
        if (direction == "increasing" and b < a) or (direction == "decreasing" and b > a):
            ctx.error(
                ("bands", after, "points"),
                "method.not_monotone",
                msg(
                    "method.not_monotone",
                    direction=direction,
                    later=str(bands[after].range),
                    later_points=str(b),
                    earlier=str(bands[before].range),
                    earlier_points=str(a),
                ),
                msg("method.not_monotone.hint"),
            )


@register_method
class Bands(ScoringMethod):
    """Ordered ranges of a value, each with its points; exact values as ``equals``."""

    kind: ClassVar[str] = "bands"
    method: Literal["bands"] = "bands"
    value: str
    bands: tuple[Band, ...] = Field(min_length=1)
    otherwise: Decimal | None = Field(None, ge=0, description="points when no band holds the value")
    monotone: Monotone | None = None

    @field_validator("bands", mode="before")
    @classmethod
    def _keep(cls, v: Any) -> Any:
        return v

    @property
    def value_source(self) -> str:
        return self.value

    @property
    def monotone_direction(self) -> Monotone | None:
        return self.monotone

    def compile(self, ctx: MethodContext) -> Scorer:
        value = ctx.formula("value", self.value, NUMBER)
        weight = ctx.weight
        for i, band in enumerate(self.bands):
            if band.points > weight:
                ctx.error(
                    ("bands", i, "points"),
                    "method.points_over_weight",
                    msg(
                        "method.band_over_weight",
                        band=str(band.range),
                        points=str(band.points),
                        weight=str(weight),
                    ),
                )
        if self.otherwise is not None and self.otherwise > weight:
            ctx.error(
                "otherwise",
                "method.points_over_weight",
                msg(
                    "method.over_weight",
                    what="otherwise",
                    value=str(self.otherwise),
                    weight=str(weight),
                ),
            )
        _check_disjoint(ctx, "bands", [b.range for b in self.bands])
        if self.monotone is not None:
            _check_monotone_bands(ctx, self.bands, self.monotone)
        table = tuple((b.range, b.points, _band_text(b)) for b in self.bands)
        otherwise = self.otherwise
        otherwise_text = "" if otherwise is None else f" 不在任何区间，得 {_d(otherwise)} 分"
        leaf = ctx.indicator_id

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            x = value.evaluate_unchecked(values)
            for interval, points, text in table:
                if x in interval:
                    if not explain:
                        return points, ()
                    return points, (Step("band", _d(x) + text),)
            if otherwise is None:
                raise _NoMatch(leaf, msg("method.no_band", value=_d(x)), msg("method.no_band.hint"))
            return otherwise, (Step("band", f"{_d(x)}{otherwise_text}"),) if explain else ()

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        x = gen.temp()
        out = gen.fallback() if self.otherwise is None else gen.const(self.otherwise)
        for band in reversed(self.bands):
            out = f"{gen.const(band.points)} if {python_test(band.range, x, gen.const)} else {out}"
        return f"(({x} := {gen.expr(self.value)}), ({out}))[1]"


def _band_text(band: Band) -> str:
    """What follows the value in a band's explanation: `` 在 [80, 90) 内（良好），得 3 分``."""
    interval = band.range
    label = f"（{band.text}）" if band.text else ""
    if interval.is_point and interval.include_lower and interval.include_upper:
        assert interval.lower is not None
        where = f" = {_d(interval.lower)}"
    else:
        where = f" 在 {interval} 内"
    return f"{where}{label}，得 {_d(band.points)} 分"


class _NoMatch(Exception):
    """No band / case / level matched a value; the engine turns it into an EvaluationError."""

    def __init__(self, indicator: str, message: dict[str, Any], hint: dict[str, Any]) -> None:
        super().__init__(message["key"])
        self.indicator, self.message, self.hint = indicator, message, hint


NoMatch = _NoMatch

# --------------------------------------------------------------------------- proportional


@register_method
class Proportional(ScoringMethod):
    """Score = weight × value / full_at, capped at the weight (满分为止), floored at 0."""

    kind: ClassVar[str] = "proportional"
    method: Literal["proportional"] = "proportional"
    value: str
    full_at: str = Field("100", description="formula: the value that earns full marks")

    @field_validator("full_at", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v

    @property
    def value_source(self) -> str:
        return self.value

    @property
    def monotone_direction(self) -> Monotone:
        return "increasing"

    def compile(self, ctx: MethodContext) -> Scorer:
        value = ctx.formula("value", self.value, NUMBER)
        full_at = ctx.formula("full_at", self.full_at, NUMBER)
        weight = ctx.weight
        full_text = f"，得满分 {_d(weight)}（满分为止）"
        weight_text = f"按比例得分 {_d(weight)} × "

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            x: Decimal = value.evaluate_unchecked(values)  # type: ignore[assignment]
            full: Decimal = full_at.evaluate_unchecked(values)  # type: ignore[assignment]
            if x >= full:
                result = weight
            elif x <= 0:
                result = ZERO
            else:
                result = weight * x / full
            if not explain:
                return result, ()
            if x >= full:
                text = f"{_d(x)} ≥ {_d(full)}{full_text}"
            elif x <= 0:
                text = f"{_d(x)} ≤ 0，得 0 分"
            else:
                text = f"{weight_text}{_d(x)} / {_d(full)}"
            return result, (Step("proportional", text),)

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        x, f, w = gen.temp(), gen.temp(), gen.const(weight)
        return (
            f"({w} if ({x} := {gen.expr(self.value)}) >= ({f} := {gen.expr(self.full_at)}) "
            f"else {gen.const(ZERO)} if {x} <= 0 else {w} * {x} / {f})"
        )


# --------------------------------------------------------------------------- checklist


class ChecklistItem(BaseModel):
    """A point to check: ``met`` (a condition) earns or keeps its points; ``count`` deducts
    ``points`` per instance (deduct mode only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    points: Decimal = Field(gt=0)
    met: str | None = None
    count: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ChecklistItem:
        if (self.met is None) == (self.count is None):
            raise Problem("checklist.item_shape")
        return self


@register_method
class Checklist(ScoringMethod):
    """Points per item met (``earn``), or points off per item failed / instance (``deduct``)."""

    kind: ClassVar[str] = "checklist"
    method: Literal["checklist"] = "checklist"
    mode: Literal["earn", "deduct"] = "earn"
    items: tuple[ChecklistItem, ...] = Field(min_length=1)
    floor: Decimal = Field(ZERO, ge=0)

    def compile(self, ctx: MethodContext) -> Scorer:
        weight = ctx.weight
        earn = self.mode == "earn"
        compiled: list[tuple[str, Decimal, Formula, bool]] = []
        for i, item in enumerate(self.items):
            if item.count is not None:
                if earn:
                    ctx.error(
                        ("items", i, "count"),
                        "method.count_in_earn",
                        msg("method.count_in_earn"),
                    )
                formula = ctx.formula(("items", i, "count"), item.count, NUMBER)
                compiled.append((item.text, item.points, formula, True))
            else:
                assert item.met is not None
                formula = ctx.formula(("items", i, "met"), item.met, BOOLEAN)
                compiled.append((item.text, item.points, formula, False))
        if earn:
            total = sum((item.points for item in self.items), ZERO)
            if total > weight:
                ctx.error(
                    "items",
                    "method.points_over_weight",
                    msg("method.items_over_weight", total=str(total), weight=str(weight)),
                )
        floor = self.floor
        if floor > weight:
            ctx.error(
                "floor",
                "method.points_over_weight",
                msg("method.over_weight", what="floor", value=str(floor), weight=str(weight)),
            )
        # Steps are immutable: the ones that never change are made once, here.
        met_steps = {
            i: Step("item", f"✓ {text}", points if earn else ZERO)
            for i, (text, points, _, _) in enumerate(compiled)
        }
        unmet_steps = {
            i: Step("item", f"✗ {text}", ZERO if earn else -points)
            for i, (text, points, _, _) in enumerate(compiled)
        }
        items = tuple(
            (i, text, f" 项 × {_d(points)} 分", points, formula, is_count)
            for i, (text, points, formula, is_count) in enumerate(compiled)
        )
        floor_text = _floor_text(floor)

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            steps: list[Step] = []
            result = ZERO if earn else weight
            for i, text, unit, points, formula, is_count in items:
                got = formula.evaluate_unchecked(values)
                if is_count:
                    lost = points * got  # type: ignore[operator]
                    if lost > 0:
                        result -= lost
                        if explain:
                            steps.append(Step("item", f"{text}：{_d(got)}{unit}", -lost))
                elif got:
                    if earn:
                        result += points
                    if explain:
                        steps.append(met_steps[i])
                else:
                    if not earn:
                        result -= points
                    if explain:
                        steps.append(unmet_steps[i])
            if result > weight:
                result = weight
            if result < floor:
                if explain:
                    steps.append(Step("floor", floor_text, floor - result))
                result = floor
            return result, tuple(steps)

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        terms = []
        for item in self.items:
            points = gen.const(item.points)
            if item.count is not None:
                terms.append(f"max({gen.const(ZERO)}, {points} * {gen.expr(item.count)})")
            elif self.mode == "earn":
                terms.append(
                    f"({points} if {gen.expr(item.met or 'False')} else {gen.const(ZERO)})"
                )
            else:
                terms.append(
                    f"({gen.const(ZERO)} if {gen.expr(item.met or 'False')} else {points})"
                )
        total = " + ".join(terms)
        w, floor = gen.const(weight), gen.const(self.floor)
        if self.mode == "earn":
            return f"max({floor}, min({w}, {total}))"
        return f"max({floor}, min({w}, {w} - ({total})))"


# --------------------------------------------------------------------------- levels


@register_method
class Levels(ScoringMethod):
    """The evaluator picks a named level (好/较好/一般/差), which gives points or a fraction."""

    kind: ClassVar[str] = "levels"
    method: Literal["levels"] = "levels"
    value: str
    levels: dict[str, Decimal] = Field(min_length=1)
    scale: Literal["points", "fraction"] = "points"

    @field_validator("levels")
    @classmethod
    def _non_negative(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for name, x in v.items():
            if x < 0:
                raise Problem("levels.negative", level=repr(name), value=str(x))
        return v

    def compile(self, ctx: MethodContext) -> Scorer:
        value = ctx.formula("value", self.value, TEXT)
        weight = ctx.weight
        table: dict[str, Decimal] = {}
        for name, x in self.levels.items():
            points = weight * x if self.scale == "fraction" else x
            if points > weight:
                ctx.error(
                    ("levels", name),
                    "method.points_over_weight",
                    msg(
                        "method.level_over_fraction"
                        if self.scale == "fraction"
                        else "method.level_over_weight",
                        level=repr(name),
                        points=str(points),
                        weight=str(weight),
                    ),
                )
            table[name] = points
        symbol = ctx.symbol(self.value.strip())
        if symbol is not None and symbol.options is not None:
            missing = [o for o in symbol.options if o not in table]
            extra = [name for name in table if name not in symbol.options]
            if missing:
                ctx.error(
                    "levels",
                    "method.levels_incomplete",
                    msg(
                        "method.levels_incomplete",
                        options=", ".join(map(repr, missing)),
                        value=repr(self.value.strip()),
                    ),
                )
            for name in extra:
                ctx.error(
                    ("levels", name),
                    "method.unknown_level",
                    msg("method.unknown_level", level=repr(name), value=repr(self.value.strip())),
                    msg("hint.options", options=", ".join(map(repr, symbol.options))),
                )
        leaf = ctx.indicator_id
        explained = {
            name: (Step("level", f"等级“{name}”，得 {_d(p)} 分"),) for name, p in table.items()
        }

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            level = value.evaluate_unchecked(values)
            points = table.get(level)  # type: ignore[arg-type]
            if points is None:
                raise _NoMatch(
                    leaf, msg("method.no_level", level=repr(level)), msg("method.no_level.hint")
                )
            return points, explained[level] if explain else ()  # type: ignore[index]

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        table = {
            name: weight * x if self.scale == "fraction" else x for name, x in self.levels.items()
        }
        return f"{gen.const(table)}[{gen.expr(self.value)}]"


# --------------------------------------------------------------------------- cases


class Case(BaseModel):
    """A condition and the points it gives when it is the first to hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str
    points: Decimal = Field(ge=0)
    text: str | None = None


@register_method
class Cases(ScoringMethod):
    """The first case whose condition holds gives the points; else ``otherwise``."""

    kind: ClassVar[str] = "cases"
    method: Literal["cases"] = "cases"
    cases: tuple[Case, ...] = Field(min_length=1)
    otherwise: Decimal | None = Field(None, ge=0)

    def compile(self, ctx: MethodContext) -> Scorer:
        weight = ctx.weight
        compiled = []
        for i, case in enumerate(self.cases):
            compiled.append(
                (
                    ctx.formula(("cases", i, "when"), case.when, BOOLEAN),
                    case.points,
                    case.text or case.when,
                )
            )
            if case.points > weight:
                ctx.error(
                    ("cases", i, "points"),
                    "method.points_over_weight",
                    msg("method.case_over_weight", points=str(case.points), weight=str(weight)),
                )
        if self.otherwise is not None and self.otherwise > weight:
            ctx.error(
                "otherwise",
                "method.points_over_weight",
                msg(
                    "method.over_weight",
                    what="otherwise",
                    value=str(self.otherwise),
                    weight=str(weight),
                ),
            )
        otherwise = self.otherwise
        otherwise_text = "" if otherwise is None else f"无一情形成立，得 {_d(otherwise)} 分"
        leaf = ctx.indicator_id

        explained = tuple(
            (condition, points, (Step("case", f"{text}：得 {_d(points)} 分"),))
            for condition, points, text in compiled
        )

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            for condition, points, steps in explained:
                if condition.evaluate_unchecked(values):
                    return points, steps if explain else ()
            if otherwise is None:
                raise _NoMatch(leaf, msg("method.no_case"), msg("method.no_case.hint"))
            return otherwise, (Step("case", otherwise_text),) if explain else ()

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        out = gen.fallback() if self.otherwise is None else gen.const(self.otherwise)
        for case in reversed(self.cases):
            out = f"{gen.const(case.points)} if {gen.expr(case.when)} else {out}"
        return f"({out})"


# --------------------------------------------------------------------------- formula


@register_method
class FormulaMethod(ScoringMethod):
    """A free expression, clamped to ``[0, weight]``."""

    kind: ClassVar[str] = "formula"
    method: Literal["formula"] = "formula"
    expression: str
    monotone: Monotone | None = None

    @property
    def value_source(self) -> str:
        return self.expression

    @property
    def monotone_direction(self) -> Monotone | None:
        return self.monotone

    def compile(self, ctx: MethodContext) -> Scorer:
        expression = ctx.formula("expression", self.expression, NUMBER)
        weight = ctx.weight
        clamp_text = f"限定在 [0, {_d(weight)}] 内"

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            x: Decimal = expression.evaluate_unchecked(values)  # type: ignore[assignment]
            result = ZERO if x < 0 else weight if x > weight else x
            if not explain:
                return result, ()
            steps = [Step("formula", f"{expression.source} = {_d(x)}")]
            if result != x:
                steps.append(Step("clamp", clamp_text, result - x))
            return result, tuple(steps)

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        x, w, zero = gen.temp(), gen.const(weight), gen.const(ZERO)
        return (
            f"({zero} if ({x} := {gen.expr(self.expression)}) < 0 else {w} if {x} > {w} else {x})"
        )


# --------------------------------------------------------------------------- judged

#: Where a judged leaf's entered scores travel among a department's values: this prefix
#: and the leaf's id (never a valid input id, so never a clash).
JUDGED_PREFIX: Final = "judged:"
#: Explanation steps are written in Chinese, as a report's 扣分说明 reads, whatever the
#: language of messages.
_STEP_LANG: Final = "zh"
Aggregate = Literal["mean", "median", "trimmed_mean"]


def judged_key(indicator_id: str) -> str:
    """The key of a judged leaf's scores among a department's values."""
    return JUDGED_PREFIX + indicator_id


def aggregate_scores(rule: Aggregate | None, scores: Sequence[Decimal]) -> Decimal:
    """One score from a panel's: the only one, the mean, the median, or the mean once the
    highest and the lowest are dropped (``trimmed_mean``, three judges or more)."""
    if rule is None or len(scores) == 1:
        return scores[0]
    ordered = sorted(scores)
    if rule == "trimmed_mean":
        ordered = ordered[1:-1]
    if rule == "median":
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2
    return sum(ordered, ZERO) / len(ordered)


@register_method
class Judged(ScoringMethod):
    """A score entered by people, not computed from figures (专家评分).

    Alone (``method: judged``), the department's inputs give the leaf one score under
    ``judged:``. With ``aggregate`` (``mean``, ``median``, ``trimmed_mean``) a panel gives
    one score per judge, at least ``min_judges`` of them; a panel wider than ``max_spread``
    carries the warning ``judged.disagreement``. A score above the weight or below zero
    is an input error.
    """

    kind: ClassVar[str] = "judged"
    method: Literal["judged"] = "judged"
    aggregate: Aggregate | None = None
    min_judges: int = Field(1, ge=1, le=100)
    max_spread: Decimal | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _panel(self) -> Judged:
        if self.aggregate is None and (self.min_judges != 1 or self.max_spread is not None):
            raise ValueError(
                "'min_judges' and 'max_spread' describe a panel: declare its 'aggregate' "
                "(mean, median or trimmed_mean)"
            )
        if self.aggregate == "trimmed_mean" and self.min_judges < 3:
            raise ValueError(
                "a trimmed mean drops the highest and the lowest score: set 'min_judges' "
                "to 3 or more"
            )
        return self

    def compile(self, ctx: MethodContext) -> Scorer:
        key = judged_key(ctx.indicator_id)
        rule = self.aggregate

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            entered: tuple[tuple[str | None, Decimal], ...] = values[key]
            scores = [s for _, s in entered]
            result = aggregate_scores(rule, scores)
            if not explain:
                return result, ()
            if rule is None:
                text = i18n.tr("judged.step.single", _STEP_LANG, score=_d(result))
            else:
                shown = "、".join(
                    _d(s) if name is None else f"{name} {_d(s)}" for name, s in entered
                )
                text = i18n.tr(f"judged.step.{rule}", _STEP_LANG, scores=shown, score=_d(result))
            return result, (Step("judged", text),)

        return score


def dump_method(method: ScoringMethod) -> dict[str, Any]:
    """Parameters as plain data in the file's shape (bands as ``range`` strings)."""
    data = method.model_dump(mode="python", exclude_defaults=True, by_alias=True)
    data = {"method": method.method, **data}
    if isinstance(method, Bands):
        data["bands"] = [_serialize_band(b) for b in method.bands]
    return data
