"""Frozen results of scoring one department: per-indicator scores, total, grade, explanations."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Generic, NamedTuple, SupportsIndex, TypeVar, overload

from ._numbers import to_str
from .errors import Issue

__all__ = [
    "RESULT_FORMAT_VERSION",
    "Explanation",
    "IndicatorResult",
    "Override",
    "ScoreResult",
    "Status",
    "Step",
]

#: The version of the result JSON (:meth:`ScoreResult.to_dict`, its ``format`` key;
#: ``perfscore schema result`` describes it; errors have
#: :data:`perfscore.errors.ERROR_FORMAT_VERSION`). Within a version keys are only added,
#: never removed or changed in meaning, so a reader must ignore keys it does not know.
RESULT_FORMAT_VERSION: Final = 1

Value = Decimal | bool | str | None
_T = TypeVar("_T")


class _computed_once(Generic[_T]):  # a decorator, named like cached_property
    """:func:`functools.cached_property` without its lock (as Python 3.12 has it): the
    value is computed on first read and kept in the instance's ``__dict__``, where later
    reads find it without calling this. Two threads reading it first at once may both
    compute it, with equal results."""

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _computed_once[_T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...
    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._compute(instance)
        return value


class Status(enum.StrEnum):
    """Whether an indicator was scored or found not applicable (不适用)."""

    SCORED = "scored"
    NOT_APPLICABLE = "not_applicable"


class Step(NamedTuple):
    """One line of an explanation: what fired (a band, a step, a checklist item) and its points.

    ``kind`` is a stable word: ``threshold``, ``deduction``, ``floor``, ``band``,
    ``proportional``, ``item``, ``level``, ``case``, ``formula``, ``clamp``, ``row``,
    ``not_applicable``, ``redistribution``, ``rounding``, ``judged`` or ``override``;
    ``text`` says it in Chinese, as
    an evaluation report's 扣分说明 would (``85 在 [80, 90) 内，得 3 分``); ``points`` is the
    signed effect on the score when there is one.
    """

    kind: str
    text: str
    points: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.points is not None:
            out["points"] = to_str(self.points)
        return out


class ValuesRead(Mapping[str, Value]):
    """A read-only view of the values one indicator read, in the order it declares them:
    a window on the department's values, made without copying them."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Mapping[str, Value], names: tuple[str, ...]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, name: str) -> Value:
        if name not in self._names:
            raise KeyError(name)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"ValuesRead({dict(self)!r})"


class Explanation(NamedTuple):
    """Why an indicator scored what it did: the values it read and the steps taken.

    The leaves of a result made by the compiled fast path hold a lazy kind of
    explanation (a subclass): its ``values`` and ``steps`` are the same values of the same
    types (a read-only mapping, a tuple of :class:`Step`), written when first read. It
    equals, prints, iterates, indexes, pickles and converts (``to_dict``, ``_asdict``,
    ``_replace``) as this class does; only ``type(explanation) is Explanation`` tells
    them apart.
    """

    values: Mapping[str, Value] = MappingProxyType({})
    steps: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "steps": [s.to_dict() for s in self.steps],
        }


class LeafSteps:
    """What the explanations of one department's leaves are written from, shared by
    them: the department's values, the names each leaf reads, and a function writing
    leaf ``k``'s steps (``write(k, *args)``), called once per leaf, when first read."""

    __slots__ = ("_args", "_reads", "_steps", "_values", "_write")

    def __init__(
        self,
        values: Mapping[str, Value],
        reads: tuple[tuple[str, ...], ...],
        write: Callable[..., tuple[Step, ...]],
        args: tuple[Any, ...],
    ) -> None:
        self._values = values
        self._reads = reads
        self._write = write
        self._args = args
        self._steps: list[tuple[Step, ...] | None] | None = None

    def values(self, k: int) -> ValuesRead:
        """The values leaf ``k`` read."""
        return ValuesRead(self._values, self._reads[k])

    def steps(self, k: int) -> tuple[Step, ...]:
        """Leaf ``k``'s steps, written on the first call."""
        done = self._steps
        if done is None:
            done = self._steps = [None] * len(self._reads)
        steps = done[k]
        if steps is None:
            steps = done[k] = self._write(k, *self._args)
        return steps


#: The raw items of a lazy explanation (its source and its leaf), read past the fields.
_raw_source: Any = Explanation.__dict__["values"]
_raw_leaf: Any = Explanation.__dict__["steps"]


class _LazyExplanation(Explanation):
    """An :class:`Explanation` of leaf ``k`` whose values and steps are written when first
    read, from the :class:`LeafSteps` of its department (its two raw items: the source
    and ``k``). Made with ``tuple.__new__``, one object per leaf."""

    __slots__ = ()

    @property
    def values(self) -> Mapping[str, Value]:
        source: LeafSteps = _raw_source.__get__(self)
        return source.values(_raw_leaf.__get__(self))

    @property
    def steps(self) -> tuple[Step, ...]:
        source: LeafSteps = _raw_source.__get__(self)
        return source.steps(_raw_leaf.__get__(self))

    def _fields_tuple(self) -> tuple[Mapping[str, Value], tuple[Step, ...]]:
        return (self.values, self.steps)

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Any, ...]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        return self._fields_tuple()[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fields_tuple())

    def __contains__(self, item: object) -> bool:
        return item in self._fields_tuple()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, tuple):
            return NotImplemented
        return self._fields_tuple() == tuple(other)

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, tuple):
            return NotImplemented
        return self._fields_tuple() != tuple(other)

    def __hash__(self) -> int:
        return hash(self._fields_tuple())

    def __repr__(self) -> str:
        return f"Explanation(values={self.values!r}, steps={self.steps!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_explanation, (dict(self.values), self.steps))

    def count(self, value: Any) -> int:
        return self._fields_tuple().count(value)

    def index(self, value: Any, *args: Any) -> int:
        return self._fields_tuple().index(value, *args)

    def _asdict(self) -> dict[str, Any]:
        return {"values": self.values, "steps": self.steps}

    # a plain Explanation, not a lazy one: its items are the fields
    def _replace(self, **changes: Any) -> Explanation:  # type: ignore[override]
        return Explanation(self.values, self.steps)._replace(**changes)


def _explanation(values: dict[str, Value], steps: tuple[Step, ...]) -> Explanation:
    """An explanation unpickled: its values a read-only view again."""
    return Explanation(MappingProxyType(values), steps)


@dataclass(frozen=True)
class Override:
    """A reviewer's decision on a leaf: the score that counts instead of the computed one,
    and why (required), by whom and when. ``computed`` is None for a leaf the rubric
    found not applicable."""

    score: Decimal
    computed: Decimal | None
    reason: str
    by: str | None = None
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": to_str(self.score),
            "computed": None if self.computed is None else to_str(self.computed),
            "reason": self.reason,
            "by": self.by,
            "date": self.date,
        }


class IndicatorResult(NamedTuple):
    """One node of the indicator tree, scored.

    ``weight`` is the declared weight; ``effective_weight`` is what it counts for after
    not-applicable weight was moved (equal to ``weight`` when nothing moved). ``score`` is
    in ``[0, effective_weight]``; a branch's score is the sum of its children's.

    An immutable named tuple: a result holds one per node and scoring makes many, so it
    is built in one step.
    """

    id: str
    name: str
    weight: Decimal
    effective_weight: Decimal
    score: Decimal
    status: Status
    depth: int
    parent: str | None
    children: tuple[str, ...]
    explanation: Explanation | None = None
    standard: str | None = None
    override: Override | None = None

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def lost(self) -> Decimal:
        """Points lost against the effective weight (扣分)."""
        return self.effective_weight - self.score

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "weight": to_str(self.weight),
            "effective_weight": to_str(self.effective_weight),
            "score": to_str(self.score),
            "status": self.status.value,
            "depth": self.depth,
            "parent": self.parent,
            "children": list(self.children),
        }
        if self.explanation is not None:
            out["explanation"] = self.explanation.to_dict()
        if self.override is not None:
            out["override"] = self.override.to_dict()
        return out


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Everything about one department's scoring, immutable.

    ``unit`` holds the ``unit:`` fields of the inputs (name, code, year, filled_by,
    filled_on), when they were given.

    ``total`` is rounded by the rubric's total rounding; ``unrounded_total`` is the sum of
    the leaf scores before it, from which the grade is decided unless the rubric says
    otherwise. ``indicators`` lists every node in document order (parents before children).
    """

    rubric_id: str
    rubric_version: str
    rubric_hash: str
    total: Decimal
    unrounded_total: Decimal
    max_total: Decimal
    grade: str
    values: Mapping[str, Value]
    warnings: tuple[Issue, ...] = ()
    grade_before_caps: str | None = None
    grade_caps: tuple[str, ...] = ()
    unit: Mapping[str, str] | None = None
    nodes: tuple[IndicatorResult, ...] | Callable[[], tuple[IndicatorResult, ...]] = field(
        default=(), repr=False
    )
    #: The version of perfscore that computed this result (the audit record).
    perfscore_version: str = ""
    #: The ids of the rubric's inputs among ``values`` (the rest are derived values);
    #: None: every value is an input.
    input_ids: tuple[str, ...] | None = field(default=None, repr=False)

    @_computed_once
    def inputs_hash(self) -> str:
        """``sha256:`` of the inputs this result was computed from, as the rubric read them
        (after conversion: ``"95%"`` read as 95 hashes as 95), canonically written:
        keys sorted, numbers by value (``10.5`` and ``10.50`` alike), an input left out
        as ``null``. Computed on first use, so that scoring does not pay for it."""
        return inputs_hash(self.values, self.input_ids)

    @_computed_once
    def indicators(self) -> tuple[IndicatorResult, ...]:
        """Every node in document order (parents before children); built on first use."""
        nodes = self.nodes
        return nodes() if callable(nodes) else nodes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoreResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __getstate__(self) -> dict[str, Any]:
        """Plain data for pickling (a result sent back from a worker process): the nodes
        built, read-only views as dicts (restored as read-only views)."""
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["values"] = dict(self.values)
        state["nodes"] = tuple(
            n
            if n.explanation is None
            else n._replace(
                explanation=Explanation(dict(n.explanation.values), n.explanation.steps)
            )
            for n in self.indicators
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["values"] = MappingProxyType(state["values"])
        state["nodes"] = tuple(
            n
            if n.explanation is None
            else n._replace(
                explanation=Explanation(MappingProxyType(n.explanation.values), n.explanation.steps)
            )
            for n in state["nodes"]
        )
        self.__dict__.update(state)

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, indicator_id: str) -> IndicatorResult:
        """The node (leaf or branch) whose id is ``indicator_id``: ``result["staff_control"]``.
        Raises ``KeyError`` when the rubric has no such indicator."""
        for node in self.indicators:
            if node.id == indicator_id:
                return node
        raise KeyError(indicator_id)

    def __iter__(self) -> Iterator[IndicatorResult]:
        return iter(self.indicators)

    @property
    def leaves(self) -> tuple[IndicatorResult, ...]:
        """The scored leaves (nodes without children) in document order: the rows of the
        评分表 that carry a scoring standard; their scores add up to the total."""
        return tuple(n for n in self.indicators if n.is_leaf)

    @property
    def scores(self) -> dict[str, Decimal]:
        """Indicator id -> score, for every node."""
        return {n.id: n.score for n in self.indicators}

    @property
    def subtotals(self) -> dict[str, Decimal]:
        """Branch id -> score, for every node with children."""
        return {n.id: n.score for n in self.indicators if n.children}

    def to_dict(self, *, explanations: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps`` takes it as it is): decimals as strings, a
        table input's rows as lists of objects, each warning as :meth:`Issue.to_dict`
        writes it (with ``severity`` ``warning``). ``explanations=False`` leaves out each
        indicator's ``explanation``. ``perfscore schema result`` prints its JSON Schema.
        ``format`` (:data:`RESULT_FORMAT_VERSION`) comes first, then the audit record:
        ``rubric`` (id, version, hash), ``perfscore_version`` and ``inputs_hash``."""
        indicators = []
        for node in self.indicators:
            data = node.to_dict()
            if not explanations:
                data.pop("explanation", None)
            indicators.append(data)
        return {
            "format": RESULT_FORMAT_VERSION,
            "rubric": {
                "id": self.rubric_id,
                "version": self.rubric_version,
                "hash": self.rubric_hash,
            },
            "perfscore_version": self.perfscore_version,
            "inputs_hash": self.inputs_hash,
            "total": to_str(self.total),
            "unrounded_total": to_str(self.unrounded_total),
            "max_total": to_str(self.max_total),
            "grade": self.grade,
            "grade_before_caps": self.grade_before_caps,
            "grade_caps": list(self.grade_caps),
            "indicators": indicators,
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "warnings": [w.to_dict(severity="warning") for w in self.warnings],
            **({"unit": dict(self.unit)} if self.unit else {}),
        }


def _canonical(value: Any) -> Any:
    """A value as the inputs hash writes it: numbers by value, tables as lists of maps."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal | int):
        text = to_str(Decimal(value))
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return str(value)


def inputs_hash(values: Mapping[str, Any], names: Iterable[str] | None = None) -> str:
    """``sha256:`` of the canonical JSON of ``values`` (only ``names`` when given)."""
    keys = values.keys() if names is None else names
    data = {k: _canonical(values.get(k)) for k in keys}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _jsonable(value: object) -> Any:
    """A value as JSON: decimals as text; a table's rows (a sequence of mappings) as a list
    of objects, each value converted the same way."""
    if isinstance(value, Decimal):
        return to_str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
