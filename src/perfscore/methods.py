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
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from string import Formatter
from typing import Any, ClassVar, Final, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import i18n
from ._interval import Interval, interval_from_mapping, python_test
from ._numbers import ZERO, to_plain
from .errors import Problem
from .formula import Formula, Symbol, ValueType
from .i18n import msg, tr
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


_CHINESE_COUNTS: Final = dict(enumerate("零一两三四五六七八九十"))
#: ``10 ** -places`` for every number of places a rubric may declare (0 to 10).
_EXPONENTS: Final = {places: Decimal(1).scaleb(-places) for places in range(11)}


class ValueStyle(NamedTuple):
    """How an explanation writes the value a method reads: the value's label, its decimal
    places (None: as computed), and whether it is a percent (``95.10%``) or carries a unit
    (``18人``). Numbers are rounded for display only, half up."""

    label: str = ""
    places: int | None = None
    percent: bool = False
    unit: str = ""

    def number(self, x: Decimal) -> str:
        """``x`` at the declared places, with ``%`` or the unit: ``95.10%``."""
        if self.places is not None and x.is_finite():
            x = x.quantize(_EXPONENTS[self.places], rounding=decimal.ROUND_HALF_UP)
            text = format(x, "f")
        else:
            text = to_plain(x)
        return text + ("%" if self.percent else self.unit)

    def bound(self, x: Decimal) -> str:
        """A constant of the rubric (a threshold, a band's end) as a table writes it:
        ``100%``, ``0``; no places are added, and a percent's sign is kept."""
        return to_plain(x) + ("%" if self.percent else self.unit) if x != 0 else "0"

    def amounts(self) -> Callable[[Decimal], str]:
        """A function writing a difference as a report says it: ``两个百分点`` (a percent),
        ``2人`` (a count). Its texts are read from the catalogue once, here."""
        unit = self.unit
        if not self.percent:
            return lambda x: to_plain(x) + unit
        fill = filler(tr("explain.points_of_percent", n="{n}"), "n")
        counts = _CHINESE_COUNTS if tr("lang.name") == "中文" else {}

        def amount(x: Decimal) -> str:
            n = to_plain(x)
            if counts and x == x.to_integral_value() and int(x) in counts:
                n = counts[int(x)]
            return fill(n=n)

        return amount

    def per(self, x: Decimal, side: str) -> str:
        """One step of a deduction: ``每个百分点``, ``每5个百分点``, ``每多1人``."""
        if self.percent:
            if x == 1:
                return tr("explain.per_point")
            return tr("explain.per_points", n=to_plain(x))
        return tr(f"explain.per_{side}", n=to_plain(x) + self.unit)


@functools.lru_cache(maxsize=4096)  # the function is pure; leaves share their templates
def filler(template: str, *names: str) -> Callable[..., str]:
    """A function that fills ``template``'s ``{names}`` with text, as ``str.format`` does,
    made once so that an explanation costs a few string joins, not a format each time.

    The function joins the template's literal parts (written as Python literals, so no
    text of a rubric or catalogue is ever run) with its arguments, by keyword."""
    parts: list[str] = []
    for literal, field, _, _ in Formatter().parse(template):
        if literal:
            parts.append(repr(literal))
        if field is not None:
            if field not in names:
                raise ValueError(f"{template!r} fills {{{field}}}, which is not in {names}")
            parts.append(field)
    body = " + ".join(parts) or "''"
    code = f"lambda *, {', '.join(names)}: {body}" if names else f"lambda: {body}"
    # The code holds literals and argument names only, built above; no builtins.
    function: Callable[..., str] = eval(code, {"__builtins__": {}})
    return function


#: A value without label, places or unit: numbers written as computed.
_PLAIN: Final = ValueStyle()


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

    def style(self, source: str) -> ValueStyle:
        """How an explanation writes the value of the formula ``source``: the label, places
        and percent sign of the input or derived value it names (plain when it names none)."""
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
    return tr("explain.floor_zero") if floor == 0 else tr("explain.floor", floor=_d(floor))


def _style(ctx: MethodContext, source: str) -> ValueStyle:
    """The context's style for ``source``; plain for a context that has none."""
    style = getattr(ctx, "style", None)
    found: ValueStyle = style(source) if style is not None else ValueStyle()
    return found._replace(label=_braces(found.label))


def _braces(text: str) -> str:
    """``text`` kept as it is by ``str.format`` (its braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


# --------------------------------------------------------------------------- deduction


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
        # Explanation text that does not change between departments, written once, in
        # the words of a report: "在职人员控制率95.10%，未超过100%，得满分3分";
        # "变动率2.00%，超过0两个百分点，每个百分点扣0.5分，扣1分，得2分".
        style = _style(ctx, self.value)
        side = "over" if over else "under"
        full_text = tr(
            f"explain.full_{side}",
            label=style.label,
            value="{value}",
            threshold=style.bound(threshold),
            weight=_d(weight),
        )
        deduct_key = f"explain.deduct_{side}" if style.percent else f"explain.deduct_{side}_amount"
        # "超过100%" then "5.56个百分点": figures that meet are kept apart by a space
        spaced = "{threshold}{gap}" in tr(deduct_key)
        step_text = tr(
            deduct_key,
            label=style.label,
            value="{value}",
            threshold=style.bound(threshold),
            gap="{gap}",
            per=style.per(per, side),
            points=_d(points),
            mode="{mode}",
            cap="{cap}",
        )
        cap_text = "" if cap is None else tr("explain.cap", cap=_d(cap))
        tail_text = tr("explain.deduct_tail", lost="{lost}", score="{score}")
        fill_full = filler(full_text, "value")
        fill_step = filler(step_text, "value", "gap", "mode", "cap")
        fill_all = filler(step_text + tail_text, "value", "gap", "mode", "cap", "lost", "score")
        mode_text = tr(f"explain.mode_{mode}")
        floor_text = _floor_text(floor)
        number, amount = style.number, style.amounts()

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            x: Decimal = value.evaluate_unchecked(values)  # type: ignore[assignment]
            gap = x - threshold if over else threshold - x
            if gap <= 0:
                if not explain:
                    return weight, ()
                return weight, (Step("threshold", fill_full(value=number(x))),)
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
            g = amount(gap)
            if spaced and g[:1].isdigit():
                g = " " + g
            said = "" if n * per == gap else mode_text
            capped = cap_text if cap is not None and n * points > cap else ""
            if weight - lost < floor:  # the floor step says what is left: 扣完为止
                text = fill_step(value=number(x), gap=g, mode=said, cap=capped)
                return result, (
                    Step("deduction", text, -lost),
                    Step("floor", floor_text, floor - (weight - lost)),
                )
            text = fill_all(
                value=number(x), gap=g, mode=said, cap=capped, lost=_d(lost), score=_d(result)
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
        style = _style(ctx, self.value)
        table = tuple(
            (b.range, b.points, filler(_band_text(b, style), "value")) for b in self.bands
        )
        otherwise = self.otherwise
        otherwise_text = (
            ""
            if otherwise is None
            else tr("explain.band_none", label=style.label, value="{value}", points=_d(otherwise))
        )
        number = style.number
        leaf = ctx.indicator_id

        def score(values: Values, explain: bool) -> tuple[Decimal, tuple[Step, ...]]:
            x = value.evaluate_unchecked(values)
            for interval, points, text in table:
                if x in interval:
                    if not explain:
                        return points, ()
                    return points, (Step("band", text(value=number(x))),)  # type: ignore[arg-type]  # a number formula gives a Decimal
            if otherwise is None:
                raise _NoMatch(leaf, msg("method.no_band", value=_d(x)), msg("method.no_band.hint"))
            return otherwise, (
                (Step("band", otherwise_text.format(value=number(x))),)  # type: ignore[arg-type]  # as above
                if explain
                else ()
            )

        return score

    def codegen(self, gen: CodeGen, weight: Decimal) -> str:
        x = gen.temp()
        out = gen.fallback() if self.otherwise is None else gen.const(self.otherwise)
        for band in reversed(self.bands):
            out = f"{gen.const(band.points)} if {python_test(band.range, x, gen.const)} else {out}"
        return f"(({x} := {gen.expr(self.value)}), ({out}))[1]"


def range_text(interval: Interval, style: ValueStyle = _PLAIN) -> str:
    """An interval as a scoring table writes it: ``80%（含）至90%``, ``90%（含）以上``,
    ``低于60%``, ``等于0``."""
    lo, hi = interval.lower, interval.upper
    if lo is not None and hi is not None and lo == hi:
        return tr("range.equals", a=style.bound(lo))
    if lo is not None and hi is not None:
        return tr(
            "range.between",
            a=style.bound(lo),
            a_in=tr("range.included") if interval.include_lower else "",
            b=style.bound(hi),
            b_in=tr("range.included") if interval.include_upper else "",
        )
    if lo is not None:
        return tr("range.from" if interval.include_lower else "range.above", a=style.bound(lo))
    if hi is not None:
        return tr("range.to" if interval.include_upper else "range.below", b=style.bound(hi))
    return tr("range.any")


def _band_text(band: Band, style: ValueStyle = _PLAIN) -> str:
    """A band's explanation with ``{value}`` left to fill:
    ``重点支出安排率{value}，在80%（含）至90%之间（良好），得4分``."""
    return tr(
        "explain.band",
        label=style.label,
        value="{value}",
        range=range_text(band.range, style),
        tag=tr("explain.tag", text=_braces(band.text)) if band.text else "",
        points=_d(band.points),
    )


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
        style = _style(ctx, self.value)
        number = style.number
        texts = {
            key: filler(
                tr(key, label=style.label, value="{value}", full="{full}", weight=_d(weight)),
                "value",
                "full",
            )
            for key in ("explain.prop_full", "explain.prop_zero", "explain.prop")
        }

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
            key = (
                "explain.prop_full"
                if x >= full
                else "explain.prop_zero"
                if x <= 0
                else "explain.prop"
            )
            text = texts[key](value=number(x), full=style.bound(full))
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
            (i, text, tr("explain.count", points=_d(points)), points, formula, is_count)
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
                            steps.append(
                                Step(
                                    "item",
                                    tr("explain.item_count", text=text, n=_d(got)) + unit,
                                    -lost,
                                )
                            )
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
            name: (Step("level", tr("explain.level", level=name, points=_d(p))),)
            for name, p in table.items()
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
        otherwise_text = "" if otherwise is None else tr("explain.case_none", points=_d(otherwise))
        leaf = ctx.indicator_id

        explained = tuple(
            (condition, points, (Step("case", tr("explain.case", text=text, points=_d(points))),))
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
        clamp_text = tr("explain.clamp", weight=_d(weight))

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
