"""The rubric format as pydantic models: what a rubric file may say, checked for shape.

Shape only: cross-references (formula names, weight sums, band coverage) are checked when
the rubric compiles (:mod:`perfscore.engine`), so that every problem is reported with its
place in the file.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from ._interval import Interval, interval_from_mapping
from ._numbers import HUNDRED, RoundingMode
from .errors import Problem
from .methods import ScoringMethod, method_class, method_kinds

__all__ = [
    "Check",
    "DerivedValue",
    "Effective",
    "GradeBand",
    "GradeCap",
    "Indicator",
    "InputSpec",
    "NotApplicablePolicy",
    "Rounding",
    "RoundingPolicy",
    "Rubric",
]

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
_ID = re.compile(ID_PATTERN)
Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Text = Annotated[str, Field(max_length=10_000)]
#: A short heading, such as an input's form section (``group: 人员``).
GroupLabel = Annotated[str, Field(min_length=1, max_length=50)]
NotApplicablePolicy = Literal["full_marks", "to_siblings", "rescale"]
InputKind = Literal[
    "number", "integer", "money", "percent", "count", "boolean", "choice", "text", "table"
]
#: Spellings a numeric input may also read, each converted by a declared rule (never guessed).
InputAccept = Literal["full_width", "thousands_separator", "percent_sign", "fraction"]
NUMERIC_KINDS = frozenset({"number", "integer", "money", "percent", "count"})
DEFAULT_UNITS: dict[str, str] = {"money": "万元", "percent": "%"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Rounding(_Model):
    """Round to ``places`` decimals with ``mode`` (default half-up, 四舍五入)."""

    places: int = Field(2, ge=0, le=10)
    mode: RoundingMode = "half_up"


class RoundingPolicy(_Model):
    """How ratios (derived values), leaf scores and the total are rounded."""

    ratio: Rounding = Rounding()
    score: Rounding = Rounding()
    total: Rounding = Rounding()
    grade_on: Literal["unrounded", "rounded"] = Field(
        "unrounded", description="decide the grade on the unrounded or the rounded total"
    )


class InputSpec(_Model):
    """One figure or judgement a department supplies."""

    label: Text
    kind: InputKind
    unit: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    options: tuple[str, ...] | None = None
    required: bool = True
    default: Decimal | bool | str | None = None
    description: Text | None = None
    source: Text | None = None
    group: GroupLabel | None = Field(
        None,
        description="the section of the input form this input is filled in under "
        "(e.g. 人员, 预算, 三公经费); inputs without one go under a heading of their own",
    )
    columns: dict[Identifier, InputSpec] | None = Field(
        None, description="for kind table: the columns of each row, each an input spec"
    )
    accept: tuple[InputAccept, ...] = Field(
        (),
        description="spellings of a figure this numeric input also reads: full_width "
        "(１２３ as 123), thousands_separator (1,234.5 as 1234.5), percent_sign (95% as 95, "
        "percent inputs), fraction (a percent input whose figures are fractions of one: "
        "0.95 as 95); anything else is refused with the fix",
    )

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        if self.kind == "table":
            if not self.columns:
                raise Problem("model.table_columns")
            if any(c.kind == "table" for c in self.columns.values()):
                raise Problem("model.table_in_table")
            if self.default is not None:
                raise Problem("model.table_default")
            if any(c.group is not None for c in self.columns.values()):
                raise Problem("model.column_group")
        elif self.columns is not None:
            raise Problem("model.columns_kind", kind=self.kind)
        if self.kind == "choice":
            if not self.options:
                raise Problem("model.choice_options")
            if len(set(self.options)) != len(self.options):
                raise Problem("model.options_repeat")
        elif self.options is not None:
            raise Problem("model.options_kind", kind=self.kind)
        if self.accept and self.kind not in NUMERIC_KINDS:
            raise Problem("model.accept_kind", kind=self.kind)
        if {"percent_sign", "fraction"} & set(self.accept) and self.kind != "percent":
            raise Problem("model.percent_accept")
        if self.kind not in NUMERIC_KINDS and (self.min is not None or self.max is not None):
            raise Problem("model.bounds_kind", kind=self.kind)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise Problem("model.min_above_max", min=str(self.min), max=str(self.max))
        if self.default is not None:
            if self.kind == "boolean" and not isinstance(self.default, bool):
                raise Problem("model.default_boolean")
            if self.kind == "choice" and self.default not in (self.options or ()):
                raise Problem("model.default_option", default=repr(self.default))
            if self.kind in NUMERIC_KINDS and not isinstance(self.default, Decimal):
                raise Problem("model.default_number")
            if isinstance(self.default, Decimal) and not isinstance(self.default, bool):
                low, high = self.lower_bound, self.max
                if (low is not None and self.default < low) or (
                    high is not None and self.default > high
                ):
                    raise Problem("model.default_bounds", default=str(self.default))
                if (
                    self.kind in ("integer", "count")
                    and self.default != self.default.to_integral_value()
                ):
                    raise Problem("model.default_whole", default=str(self.default), kind=self.kind)
        return self

    @property
    def display_unit(self) -> str | None:
        return self.unit if self.unit is not None else DEFAULT_UNITS.get(self.kind)

    @property
    def lower_bound(self) -> Decimal | None:
        """The declared minimum, or 0 for counts."""
        if self.min is None and self.kind == "count":
            return Decimal(0)
        return self.min


class DerivedValue(_Model):
    """A named formula over inputs and other derived values (e.g. 在职人员控制率)."""

    label: Text
    formula: Annotated[str, Field(max_length=5000)]
    rounding: Literal["ratio", "score", "none"] | Rounding = "ratio"
    as_percent: bool = Field(
        False, description="multiply by 100 before rounding (136/143 -> 95.10)"
    )
    on_zero_division: Decimal | Literal["not_applicable"] | None = None
    description: Text | None = None
    source: Text | None = None

    @field_validator("formula", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v


class RowGroup(_Model):
    """Indicator rows that come from a table input, one leaf per row, scored by one rule.

    Each row's weight is read from a column; the rows' weights must add up to the group's
    weight. ``fraction`` is a formula over the rubric's names and the row's columns giving
    the share of the row's weight it earns, clamped to [0, 1].
    """

    table: Identifier = Field(description="the table input holding the rows")
    name: Identifier = Field(description="the column holding each row's name")
    weight: Identifier = Field(description="the column holding each row's weight")
    fraction: Annotated[str, Field(max_length=5000)] = Field(
        description="formula: the share of the row's weight earned, clamped to [0, 1]"
    )


class Indicator(_Model):
    """A node of the indicator tree: a branch with ``children``, a leaf with ``scoring``,
    or a group of leaves with ``rows`` taken from a table input."""

    id: Identifier
    name: Text
    weight: Decimal = Field(ge=0)
    description: Text | None = Field(None, description="what the indicator measures (指标解释)")
    standard: Text | None = Field(None, description="the scoring standard in prose (评分标准)")
    source: Text | None = Field(None, description="where the weight and standard come from")
    children: tuple[Indicator, ...] | None = None
    scoring: SerializeAsAny[ScoringMethod] | None = None
    rows: RowGroup | None = None
    not_applicable_when: str | None = None
    not_applicable: NotApplicablePolicy | None = None
    alternatives: bool = Field(
        False,
        description="a branch whose children are alternatives (二者择其一): each weighs as "
        "much as the branch, and exactly one of them applies",
    )
    todo: Text | None = Field(
        None, description="an author's note of work left on this row; validate lists it"
    )

    @field_validator("scoring", mode="wrap")
    @classmethod
    def _dispatch(cls, value: Any, handler: Any) -> Any:
        if isinstance(value, dict):
            kind = value.get("method")
            if not isinstance(kind, str):
                raise Problem("model.scoring_method", methods=", ".join(sorted(method_kinds())))
            method = method_class(kind)
            if method is None:
                raise Problem("model.unknown_method", method=repr(kind))
            return method.model_validate(value)
        return handler(value)

    @model_validator(mode="after")
    def _shape(self) -> Indicator:
        given = [k for k in ("children", "scoring", "rows") if getattr(self, k) is not None]
        if not given:
            raise Problem("model.indicator_shape")
        if len(given) > 1:
            raise Problem("model.indicator_shapes", given=", ".join(given))
        if self.children is not None and not self.children:
            raise Problem("model.children_empty")
        if self.children is not None and self.not_applicable_when is not None:
            raise Problem("model.na_when_leaf")
        if self.alternatives and self.children is None:
            raise Problem("model.alternatives_branch")
        if self.children is not None and self.not_applicable is not None:
            raise Problem("model.na_leaf")
        return self

    @property
    def is_leaf(self) -> bool:
        """True for a node scored directly: by ``scoring``, or by ``rows``."""
        return self.children is None

    def walk(self) -> list[Indicator]:
        """This node and every node below it, parents first."""
        out = [self]
        for child in self.children or ():
            out.extend(child.walk())
        return out


def _interval_before(data: Any) -> Any:
    if isinstance(data, dict) and not isinstance(data.get("range"), Interval):
        data = dict(data)
        data["range"] = interval_from_mapping(data)
    return data


class GradeBand(_Model):
    """A grade (等次) and the totals that earn it."""

    name: Text
    range: Interval

    @model_validator(mode="before")
    @classmethod
    def _interval(cls, data: Any) -> Any:
        return _interval_before(data)


class GradeCap(_Model):
    """A rule applied after banding: when ``when`` holds, the grade is at most ``max_grade``."""

    id: Identifier
    when: str
    max_grade: Text
    reason: Text | None = None


class Check(_Model):
    """A consistency check on a department's data: when ``when`` holds, the score carries
    a warning with ``message`` (code ``input.inconsistent``); scoring goes on."""

    id: Identifier
    when: str = Field(description="a boolean formula: true when the data disagree")
    message: Text


class Effective(_Model):
    """The dates a rubric is in force: from ``from`` to ``until``, both days included;
    without ``until``, from ``from`` on."""

    from_: datetime.date = Field(alias="from", description="the first day in force")
    until: datetime.date | None = Field(
        None, description="the last day in force (included); none: no end yet"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.until is not None and self.until < self.from_:
            raise ValueError(f"'until' {self.until} is before 'from' {self.from_}")
        return self

    def covers(self, day: datetime.date) -> bool:
        """Whether ``day`` is in force."""
        return self.from_ <= day and (self.until is None or day <= self.until)


#: A rubric's state: ``draft`` (never in force), ``published`` (in force over its
#: ``effective`` dates), ``retired`` (withdrawn; still the rubric of its past dates).
RubricStatus = Literal["draft", "published", "retired"]


class Rubric(_Model):
    """A whole rubric: metadata, declared inputs, derived values, indicators, grades."""

    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)]
    title: Text
    issuer: Text | None = None
    year: int | None = Field(None, ge=1990, le=2100)
    version: Annotated[str, Field(max_length=50)] = "1"
    effective: Effective | None = Field(
        None, description="the dates the rubric is in force: {from, until}, days included"
    )
    status: RubricStatus = Field(
        "published", description="draft (never in force), published, or retired"
    )
    notes: tuple[Text, ...] = ()
    total: Decimal = Field(HUNDRED, gt=0)
    rounding: RoundingPolicy = RoundingPolicy()
    not_applicable: NotApplicablePolicy = "full_marks"
    inputs: dict[Identifier, InputSpec] = Field(default_factory=dict)
    derived: dict[Identifier, DerivedValue] = Field(default_factory=dict)
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    grades: tuple[GradeBand, ...] = Field(min_length=1)
    grade_caps: tuple[GradeCap, ...] = ()
    checks: tuple[Check, ...] = Field(
        (), description="consistency checks that warn, e.g. 实有人数 > 编制数, never fail"
    )

    _source: Any = PrivateAttr(default=None)
    _compiled: Any = PrivateAttr(default=None)  # language -> CompiledRubric
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _retired_has_ended(self) -> Rubric:
        if self.status == "retired" and (self.effective is None or self.effective.until is None):
            raise ValueError(
                "a retired rubric says when it ended: give 'effective: {from: ..., until: ...}'"
            )
        return self

    def in_force(self, day: datetime.date) -> bool:
        """Whether this rubric applies on ``day``: not a draft, and ``day`` within its
        ``effective`` dates (any day, when it declares none)."""
        if self.status == "draft":
            return False
        return self.effective is None or self.effective.covers(day)

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v

    def walk(self) -> list[Indicator]:
        """Every indicator, parents first, in document order."""
        out: list[Indicator] = []
        for node in self.indicators:
            out.extend(node.walk())
        return out

    @property
    def leaves(self) -> list[Indicator]:
        return [n for n in self.walk() if n.is_leaf]

    @property
    def indicator_origins(self) -> dict[str, str]:
        """For a rubric built with ``extends`` / ``uses``: indicator id -> the file that
        defined (or last changed) it. Empty for a self-contained rubric."""
        return dict(self._origins)

    def indicator(self, indicator_id: str) -> Indicator:
        for node in self.walk():
            if node.id == indicator_id:
                return node
        raise KeyError(indicator_id)

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without its compiled form (functions made at run time, which do not
        pickle): :func:`~perfscore.compile_rubric` compiles it again where it is
        unpickled, on first use."""
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private is not None and private.get("_compiled") is not None:
            state["__pydantic_private__"] = {**private, "_compiled": None}
        return state

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rubric):
            return NotImplemented
        from .dumping import canonical_data

        return canonical_data(self) == canonical_data(other)

    def __hash__(self) -> int:
        return hash(self.id)
