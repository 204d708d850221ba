"""Compare two versions of a rubric: what changed in the file, and what it does to scores.

:func:`diff_rubrics` compares two :class:`~perfscore.model.Rubric` objects and returns a
:class:`RubricDiff`: every structural :class:`Change` (indicators added, removed, moved,
reweighted, renamed; scoring parameters; grade bands; inputs and derived values; rubric
settings), each with its place in both files.

:class:`ImpactAnalysis` scores departments under both versions, one at a time, and keeps
only what its :class:`ImpactSummary` needs (counters, the distribution of total change, a
bounded heap of top movers), so memory stays flat however large the population::

    analysis = ImpactAnalysis(old, new, top=10)
    for outcome in analysis.run(read_population("departments.csv")):
        ...                                   # a DepartmentImpact or a DepartmentFailure
    summary = analysis.summary()              # migration matrix, up/down/same, top movers

Everything returned is frozen data; nothing here prints. Decimals stay exact; ``to_dict``
methods give JSON-ready dicts with decimals as strings.

How indicators are matched: by id. An indicator whose id changed is still matched when
exactly one removed and one added indicator share its name and kind (leaf or branch); the
change is then reported as ``indicator_renamed`` on ``id``. Grades are matched by name (a
grade renamed with the same range is ``grade_renamed``), inputs, derived values and grade
caps by id, scoring bands by their range, other lists by position.

An input that only one version declares is left out of the inputs given to the other, so
that one population file (with the columns of both versions) scores under both.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Literal

from pydantic import BaseModel

from perfscore._interval import Interval
from perfscore._numbers import ZERO, round_decimal, to_str
from perfscore.dumping import content_hash
from perfscore.engine import compile_rubric
from perfscore.errors import Issue, Location, PathPart, PerfscoreError
from perfscore.methods import Band
from perfscore.model import GradeBand, Indicator, Rubric
from perfscore.population.readers import Department
from perfscore.results import Explanation, IndicatorResult, ScoreResult

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "DepartmentFailure",
    "DepartmentImpact",
    "ImpactAnalysis",
    "ImpactSummary",
    "RubricDiff",
    "RubricInfo",
    "ScoreChange",
    "diff_rubrics",
    "format_key",
    "grade_order",
    "population_labels",
    "value_text",
]

#: Every ``Change.kind``. ``setting_changed``: the rubric's ``total``, ``rounding`` or
#: default ``not_applicable`` policy. ``indicator_renamed``: its name (``path`` ending in
#: ``name``) or its id (``id``). ``scoring_changed``: one parameter of a leaf's scoring
#: method (bands by range) or of a row group's rule; the whole method when its kind
#: changed. ``indicator_changed``: ``standard``, ``description``, ``source``,
#: ``not_applicable_when`` or ``not_applicable``. ``grade_changed``: a band's range.
CHANGE_KINDS: Final = (
    "setting_changed",
    "input_added",
    "input_removed",
    "input_changed",
    "derived_added",
    "derived_removed",
    "derived_changed",
    "indicator_added",
    "indicator_removed",
    "indicator_moved",
    "indicator_reweighted",
    "indicator_renamed",
    "scoring_changed",
    "indicator_changed",
    "grade_added",
    "grade_removed",
    "grade_renamed",
    "grade_changed",
    "grade_cap_added",
    "grade_cap_removed",
    "grade_cap_changed",
)

Side = Literal["read", "old", "new"]
Movement = Literal["up", "down", "same"]
Key = tuple[PathPart, ...]

_SETTINGS: Final = ("total", "rounding", "not_applicable")
_INDICATOR_SKIP: Final = frozenset({"id", "name", "weight", "children", "scoring"})


# --------------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    """A value as plain data: models as dicts of the fields the file gives (or that differ
    from their defaults), intervals in notation."""
    if isinstance(value, Band):
        out: dict[str, Any] = {"range": str(value.range), "points": value.points}
        if value.text is not None:
            out["text"] = value.text
        return out
    if isinstance(value, BaseModel):
        data: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            given = name in value.model_fields_set or info.is_required()
            if item is None or (not given and item == info.default):
                continue
            data[info.alias or name] = _plain(item)
        return data
    if isinstance(value, Interval):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def value_text(value: Any) -> str:
    """A value of a change as short text: ``0.5``, ``[80, 90)``, ``—`` for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return to_str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


_NAME: Final = re.compile(r"^[^\W\d]\w*$")


def format_key(key: Key) -> str:
    """A logical path as text: ``indicators.key_spend.scoring.bands["[80, 90)"].points``."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


def _where(location: Location | None) -> str | None:
    """``file:line:col`` (or less, when that is all there is); None for no place."""
    if location is None or location.file is None:
        return None
    text = location.file
    if location.line is not None:
        text += f":{location.line}"
        if location.column is not None:
            text += f":{location.column}"
    return text


def _locate(rubric: Rubric, path: tuple[PathPart, ...]) -> Location:
    source = rubric._source
    if source is not None:
        return source.locate(path)  # type: ignore[no-any-return]
    return Location(path=path)


# --------------------------------------------------------------------------- structural diff


@dataclass(frozen=True, slots=True)
class Change:
    """One structural difference between two rubric versions.

    ``key`` is the logical path of what changed, independent of positions in the files
    (indicators, inputs, grades by id or name; bands by range), e.g.
    ``("indicators", "staff_control", "scoring", "deduct", "points")``. ``old`` / ``new``
    are plain values (decimals exact; None where the thing does not exist on that side).
    ``old_location`` / ``new_location`` give file:line:col in each file; for something
    added (removed) the old (new) location is where it would sit: its parent or list.
    """

    kind: str
    key: Key
    old: Any
    new: Any
    old_location: Location | None
    new_location: Location | None
    indicator: str | None = None

    @property
    def path(self) -> str:
        return format_key(self.key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "indicator": self.indicator,
            "path": self.path,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "old_location": _where(self.old_location),
            "new_location": _where(self.new_location),
        }


@dataclass(frozen=True, slots=True)
class RubricInfo:
    """Which rubric a side of a comparison is: id, version, title, file and content hash."""

    id: str
    version: str
    title: str
    file: str | None
    hash: str

    @classmethod
    def of(cls, rubric: Rubric) -> RubricInfo:
        compiled = compile_rubric(rubric)
        source = rubric._source
        file = getattr(source, "file", None)
        return cls(rubric.id, rubric.version, rubric.title, file, compiled.hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "file": self.file,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class RubricDiff:
    """Every structural change from ``old`` to ``new``, in a stable order: settings,
    inputs, derived values, indicators (new document order, then removed ones), grades,
    grade caps. ``indicator_ids`` maps each old indicator id to its new id (matched ones
    only)."""

    old: RubricInfo
    new: RubricInfo
    changes: tuple[Change, ...]
    indicator_ids: Mapping[str, str]
    #: What a reviewer should know that is not a change: ``diff.version_unchanged`` when
    #: the content changed (``status`` aside) and the ``version`` did not.
    warnings: tuple[Issue, ...] = ()

    @property
    def identical(self) -> bool:
        """True when nothing structural changed (titles, versions and notes aside)."""
        return not self.changes

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "changes": [c.to_dict() for c in self.changes],
            "warnings": [
                {"code": w.code, "message": w.message, "hint": w.hint, "params": dict(w.params)}
                for w in self.warnings
            ],
        }


@dataclass(frozen=True, slots=True)
class _Place:
    node: Indicator
    path: tuple[PathPart, ...]
    parent: str | None


def _places(rubric: Rubric) -> dict[str, _Place]:
    out: dict[str, _Place] = {}

    def add(node: Indicator, path: tuple[PathPart, ...], parent: str | None) -> None:
        out.setdefault(node.id, _Place(node, path, parent))
        for i, child in enumerate(node.children or ()):
            add(child, (*path, "children", i), node.id)

    for i, top in enumerate(rubric.indicators):
        add(top, ("indicators", i), None)
    return out


Emit = Callable[[Key, Any, Any, tuple[PathPart, ...], tuple[PathPart, ...]], None]


def _entries(value: Any) -> dict[PathPart, tuple[Any, PathPart]] | None:
    """The entries of a collection compared entry by entry: key -> (entry, position)."""
    if isinstance(value, Mapping):
        return {str(k): (v, str(k)) for k, v in value.items()}
    if isinstance(value, tuple) and value and all(isinstance(v, Band) for v in value):
        return {str(b.range): (b, i) for i, b in enumerate(value)}
    if isinstance(value, tuple) and value and all(isinstance(v, BaseModel) for v in value):
        return {i: (v, i) for i, v in enumerate(value)}
    return None


def _compare(
    old: Any,
    new: Any,
    key: Key,
    old_pos: tuple[PathPart, ...],
    new_pos: tuple[PathPart, ...],
    emit: Emit,
) -> None:
    """Emit (key, old, new, old position, new position) for every difference."""
    if isinstance(old, BaseModel) and type(old) is type(new):
        for name, info in type(old).model_fields.items():
            part = info.alias or name
            _compare(
                getattr(old, name),
                getattr(new, name),
                (*key, part),
                (*old_pos, part),
                (*new_pos, part),
                emit,
            )
        return
    old_entries, new_entries = _entries(old), _entries(new)
    if old_entries is not None and new_entries is not None:
        for k, (o, o_at) in old_entries.items():
            if k in new_entries:
                n, n_at = new_entries[k]
                _compare(o, n, (*key, k), (*old_pos, o_at), (*new_pos, n_at), emit)
            else:
                emit((*key, k), _plain(o), None, (*old_pos, o_at), new_pos)
        for k, (n, n_at) in new_entries.items():
            if k not in old_entries:
                emit((*key, k), None, _plain(n), old_pos, (*new_pos, n_at))
        return
    if old != new or type(old) is not type(new):
        emit(key, _plain(old), _plain(new), old_pos, new_pos)


class _Differ:
    def __init__(self, old: Rubric, new: Rubric) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(
        self,
        kind: str,
        key: Key,
        old: Any,
        new: Any,
        old_pos: tuple[PathPart, ...],
        new_pos: tuple[PathPart, ...],
        indicator: str | None = None,
    ) -> None:
        self.changes.append(
            Change(
                kind,
                key,
                old,
                new,
                _locate(self.old, old_pos),
                _locate(self.new, new_pos),
                indicator,
            )
        )

    def emitter(self, kind: str, indicator: str | None = None) -> Emit:
        def emit(
            key: Key,
            old: Any,
            new: Any,
            old_pos: tuple[PathPart, ...],
            new_pos: tuple[PathPart, ...],
        ) -> None:
            self.add(kind, key, old, new, old_pos, new_pos, indicator)

        return emit

    def settings(self) -> None:
        emit = self.emitter("setting_changed")
        for name in _SETTINGS:
            _compare(
                getattr(self.old, name), getattr(self.new, name), (name,), (name,), (name,), emit
            )

    def named(self, section: str, singular: str) -> None:
        """Inputs, derived values: matched by id."""
        old: Mapping[str, BaseModel] = getattr(self.old, section)
        new: Mapping[str, BaseModel] = getattr(self.new, section)
        for name, spec in new.items():
            if name in old:
                _compare(
                    old[name],
                    spec,
                    (section, name),
                    (section, name),
                    (section, name),
                    self.emitter(f"{singular}_changed"),
                )
            else:
                self.add(
                    f"{singular}_added",
                    (section, name),
                    None,
                    _summary(spec),
                    (section,),
                    (section, name),
                )
        for name, spec in old.items():
            if name not in new:
                self.add(
                    f"{singular}_removed",
                    (section, name),
                    _summary(spec),
                    None,
                    (section, name),
                    (section,),
                )

    def indicators(self) -> dict[str, str]:
        old, new = _places(self.old), _places(self.new)
        ids = {k: k for k in old if k in new}
        # An id renamed: one unmatched old and one unmatched new node share name and kind.
        lost = [p for k, p in old.items() if k not in ids]
        found = [p for k, p in new.items() if k not in ids.values()]

        def sig(p: _Place) -> tuple[str, bool]:
            return (p.node.name, p.node.is_leaf)

        lost_sigs = Counter(sig(p) for p in lost)
        found_sigs = Counter(sig(p) for p in found)
        for p in lost:
            s = sig(p)
            if lost_sigs[s] == 1 and found_sigs[s] == 1:
                match = next(q for q in found if sig(q) == s)
                ids[p.node.id] = match.node.id
        back = {v: k for k, v in ids.items()}

        for new_id, place in new.items():
            node = place.node
            key: Key = ("indicators", new_id)
            old_id = back.get(new_id)
            if old_id is None:
                parent = _parent_path(self.old, place.parent, back)
                self.add(
                    "indicator_added",
                    key,
                    None,
                    _indicator_summary(node, place.parent),
                    parent,
                    place.path,
                    new_id,
                )
                continue
            before = old[old_id]
            o, op, np_ = before.node, before.path, place.path
            if old_id != new_id:
                self.add(
                    "indicator_renamed",
                    (*key, "id"),
                    old_id,
                    new_id,
                    (*op, "id"),
                    (*np_, "id"),
                    new_id,
                )
            old_parent = None if before.parent is None else ids.get(before.parent, before.parent)
            if old_parent != place.parent:
                self.add(
                    "indicator_moved",
                    (*key, "parent"),
                    before.parent,
                    place.parent,
                    op,
                    np_,
                    new_id,
                )
            if o.name != node.name:
                self.add(
                    "indicator_renamed",
                    (*key, "name"),
                    o.name,
                    node.name,
                    (*op, "name"),
                    (*np_, "name"),
                    new_id,
                )
            if o.weight != node.weight:
                self.add(
                    "indicator_reweighted",
                    (*key, "weight"),
                    o.weight,
                    node.weight,
                    (*op, "weight"),
                    (*np_, "weight"),
                    new_id,
                )
            if o.scoring is not None and node.scoring is not None:
                if o.scoring.method == node.scoring.method:
                    _compare(
                        o.scoring,
                        node.scoring,
                        (*key, "scoring"),
                        (*op, "scoring"),
                        (*np_, "scoring"),
                        self.emitter("scoring_changed", new_id),
                    )
                else:
                    self.add(
                        "scoring_changed",
                        (*key, "scoring"),
                        _plain(o.scoring),
                        _plain(node.scoring),
                        (*op, "scoring"),
                        (*np_, "scoring"),
                        new_id,
                    )
            elif o.scoring is not None or node.scoring is not None:
                self.add(
                    "scoring_changed",
                    (*key, "scoring"),
                    _plain(o.scoring),
                    _plain(node.scoring),
                    (*op, "scoring") if o.scoring is not None else op,
                    (*np_, "scoring") if node.scoring is not None else np_,
                    new_id,
                )
            other = self.emitter("indicator_changed", new_id)
            rows = self.emitter("scoring_changed", new_id)  # a row group's rule is its scoring
            for name, info in Indicator.model_fields.items():
                if name in _INDICATOR_SKIP:
                    continue
                part = info.alias or name
                _compare(
                    getattr(o, name),
                    getattr(node, name),
                    (*key, part),
                    (*op, part),
                    (*np_, part),
                    rows if name == "rows" else other,
                )
        for old_id, place in old.items():
            if old_id in ids:
                continue
            parent = _parent_path(self.new, place.parent and ids.get(place.parent), None)
            self.add(
                "indicator_removed",
                ("indicators", old_id),
                _indicator_summary(place.node, place.parent),
                None,
                place.path,
                parent,
                old_id,
            )
        return ids

    def grades(self) -> None:
        old = {g.name: (i, g) for i, g in enumerate(self.old.grades)}
        new = {g.name: (i, g) for i, g in enumerate(self.new.grades)}
        renamed: dict[str, str] = {}
        lost = [n for n in old if n not in new]
        found = [n for n in new if n not in old]
        for name in lost:
            same = [f for f in found if new[f][1].range == old[name][1].range]
            if len(same) == 1 and same[0] not in renamed.values():
                renamed[name] = same[0]
        back = {v: k for k, v in renamed.items()}
        for name, (i, band) in new.items():
            key: Key = ("grades", name)
            if name in old:
                j, before = old[name]
                if before.range != band.range:
                    self.add(
                        "grade_changed",
                        (*key, "range"),
                        str(before.range),
                        str(band.range),
                        ("grades", j, "range"),
                        ("grades", i, "range"),
                    )
            elif name in back:
                j, before = old[back[name]]
                self.add(
                    "grade_renamed",
                    (*key, "name"),
                    before.name,
                    name,
                    ("grades", j, "name"),
                    ("grades", i, "name"),
                )
            else:
                self.add("grade_added", key, None, str(band.range), ("grades",), ("grades", i))
        for name, (j, before) in old.items():
            if name not in new and name not in renamed:
                self.add(
                    "grade_removed",
                    ("grades", name),
                    str(before.range),
                    None,
                    ("grades", j),
                    ("grades",),
                )

    def caps(self) -> None:
        old = {c.id: (i, c) for i, c in enumerate(self.old.grade_caps)}
        new = {c.id: (i, c) for i, c in enumerate(self.new.grade_caps)}
        emit = self.emitter("grade_cap_changed")
        for cap_id, (i, cap) in new.items():
            key: Key = ("grade_caps", cap_id)
            if cap_id in old:
                j, before = old[cap_id]
                _compare(before, cap, key, ("grade_caps", j), ("grade_caps", i), emit)
            else:
                self.add(
                    "grade_cap_added", key, None, _summary(cap), ("grade_caps",), ("grade_caps", i)
                )
        for cap_id, (j, before) in old.items():
            if cap_id not in new:
                self.add(
                    "grade_cap_removed",
                    ("grade_caps", cap_id),
                    _summary(before),
                    None,
                    ("grade_caps", j),
                    ("grade_caps",),
                )


def _summary(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = _plain(model)
    return data


def _indicator_summary(node: Indicator, parent: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": node.name, "weight": node.weight, "parent": parent}
    if node.scoring is not None:
        out["method"] = node.scoring.method
    elif node.rows is not None:
        out["rows"] = node.rows.table
    else:
        out["children"] = [c.id for c in node.children or ()]
    return out


def _parent_path(
    rubric: Rubric, parent: str | None, back: Mapping[str, str] | None
) -> tuple[PathPart, ...]:
    """The position, in ``rubric``, of the node that is (or matches) ``parent``: where a
    node added on the other side would sit. ``back`` maps the other side's ids to this
    side's, when they differ."""
    if parent is not None:
        own = back.get(parent, parent) if back is not None else parent
        place = _places(rubric).get(own)
        if place is not None:
            return (*place.path, "children")
    return ("indicators",)


def diff_rubrics(old: Rubric, new: Rubric) -> RubricDiff:
    """Every structural change from ``old`` to ``new``, each located in both files.

    Both rubrics must compile (:class:`~perfscore.errors.RubricValidationError` otherwise).
    """
    differ = _Differ(old, new)
    differ.settings()
    differ.named("inputs", "input")
    differ.named("derived", "derived")
    ids = differ.indicators()
    differ.grades()
    differ.caps()
    return RubricDiff(
        RubricInfo.of(old),
        RubricInfo.of(new),
        tuple(differ.changes),
        MappingProxyType(ids),
        tuple(_version_warnings(old, new)),
    )


def _version_warnings(old: Rubric, new: Rubric) -> list[Issue]:
    """``diff.version_unchanged`` when the content (``status`` aside) changed and the
    ``version`` did not: two different rubrics would go by one name."""
    if old.version != new.version:
        return []
    before = content_hash(old, leave_out=("status",))
    after = content_hash(new, leave_out=("status",))
    if before == after:
        return []
    return [
        Issue.of(
            "diff.version_unchanged",
            _locate(new, ("version",)),
            id=new.id,
            version=new.version,
            old_hash=before,
            new_hash=after,
        )
    ]


# --------------------------------------------------------------------------- impact


def grade_order(rubric: Rubric) -> tuple[str, ...]:
    """Grade names best first (highest band first)."""
    return tuple(g.name for g in sorted(rubric.grades, key=_band_level, reverse=True))


def _band_level(band: GradeBand) -> tuple[Decimal, bool]:
    lower = band.range.lower if band.range.lower is not None else ZERO
    return (lower, not band.range.include_lower)


GradeLevels = Mapping[str, tuple[Decimal, bool]]


def _movement(levels: GradeLevels, old_grade: str, new_grade: str) -> Movement:
    if old_grade == new_grade:
        return "same"
    old_level, new_level = levels[old_grade], levels[new_grade]
    if new_level > old_level:
        return "up"
    if new_level < old_level:
        return "down"
    return "same"


def population_labels(old: Rubric, new: Rubric) -> dict[str, str]:
    """Column headings that name inputs by label (编制数 ...) -> input id, for
    :func:`~perfscore.population.read_population`; the new rubric's labels win."""
    labels = {spec.label: name for name, spec in old.inputs.items()}
    labels.update({spec.label: name for name, spec in new.inputs.items()})
    return labels


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """A leaf whose score differs: its scores under each version (None where the version
    has no such indicator) and, for top movers, the explanations."""

    id: str
    name: str
    old_score: Decimal | None
    new_score: Decimal | None
    old_explanation: Explanation | None = None
    new_explanation: Explanation | None = None

    @property
    def change(self) -> Decimal:
        """New score minus old, a missing side counting as 0."""
        old = ZERO if self.old_score is None else self.old_score
        new = ZERO if self.new_score is None else self.new_score
        return new - old

    def to_dict(self, *, explanations: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "old_score": None if self.old_score is None else to_str(self.old_score),
            "new_score": None if self.new_score is None else to_str(self.new_score),
        }
        if explanations:
            out["old_explanation"] = (
                None if self.old_explanation is None else self.old_explanation.to_dict()
            )
            out["new_explanation"] = (
                None if self.new_explanation is None else self.new_explanation.to_dict()
            )
        return out


@dataclass(frozen=True, slots=True)
class DepartmentImpact:
    """One department scored under both versions.

    ``movement`` says whether the grade went ``up``, ``down`` or stayed the ``same``;
    ``changed_indicators`` lists the leaves whose score differs, in the new rubric's order
    (then leaves only the old one has).
    """

    id: str
    row: int
    source: str
    old_total: Decimal
    new_total: Decimal
    old_grade: str
    new_grade: str
    movement: Movement
    changed_indicators: tuple[ScoreChange, ...]

    @property
    def change(self) -> Decimal:
        return self.new_total - self.old_total

    @property
    def grade_changed(self) -> bool:
        return self.old_grade != self.new_grade

    @property
    def changed(self) -> bool:
        """True when the total, the grade or any leaf's score differs."""
        return bool(self.change or self.grade_changed or self.changed_indicators)

    def to_dict(self, *, explanations: bool = False) -> dict[str, Any]:
        return {
            "id": self.id,
            "row": self.row,
            "source": self.source,
            "status": "scored",
            "old_total": to_str(self.old_total),
            "new_total": to_str(self.new_total),
            "change": to_str(self.change),
            "old_grade": self.old_grade,
            "new_grade": self.new_grade,
            "movement": self.movement,
            "changed_indicators": [
                c.to_dict(explanations=explanations) for c in self.changed_indicators
            ],
        }


@dataclass(frozen=True, slots=True)
class DepartmentFailure:
    """A department that could not be read, or not scored under one version or both.

    ``issues`` pairs each issue with the side it came from: ``read`` (the population
    record), ``old`` or ``new``. What did score is kept (``old_total`` ...).
    """

    id: str
    row: int
    source: str
    issues: tuple[tuple[Side, Issue], ...]
    old_total: Decimal | None = None
    new_total: Decimal | None = None
    old_grade: str | None = None
    new_grade: str | None = None

    @property
    def failed_under(self) -> tuple[Side, ...]:
        """The sides that failed, in order (``read``; or ``old``, ``new`` or both)."""
        return tuple(dict.fromkeys(side for side, _ in self.issues))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "row": self.row,
            "source": self.source,
            "status": "failed",
            "old_total": None if self.old_total is None else to_str(self.old_total),
            "new_total": None if self.new_total is None else to_str(self.new_total),
            "change": None,
            "old_grade": self.old_grade,
            "new_grade": self.new_grade,
            "changed_indicators": [],
            "failed_under": list(self.failed_under),
            "issues": [
                {
                    "side": side,
                    "code": issue.code,
                    "message": issue.message,
                    "location": str(issue.location),
                    "hint": issue.hint,
                }
                for side, issue in self.issues
            ],
        }


Outcome = DepartmentImpact | DepartmentFailure


@dataclass(frozen=True, slots=True)
class ImpactSummary:
    """What a population's comparison comes to.

    ``migration[old_grade][new_grade]`` counts departments, every grade of each version
    present (zeros included), both in grade order best first. ``up`` / ``down`` / ``same``
    count grade movements (a grade of the other version is placed by where its band
    starts, as a share of the total) and ``grade_changed`` the departments whose grade name
    differs; ``increased`` / ``decreased`` / ``unchanged`` count totals.
    ``mean_change`` is rounded half-up to two more places than the new rubric's totals;
    ``max_change`` is the change of largest size, with its sign. ``distribution`` lists
    each total change and how many departments had it, smallest first. ``top_movers`` are
    the departments with the largest total change (ties: a grade change first, then file
    order), with the explanations of their changed leaves under both versions.
    """

    old_grades: tuple[str, ...]
    new_grades: tuple[str, ...]
    scored: int
    failed: int
    migration: Mapping[str, Mapping[str, int]]
    up: int
    down: int
    same: int
    grade_changed: int
    increased: int
    decreased: int
    unchanged: int
    mean_change: Decimal | None
    max_change: Decimal | None
    distribution: tuple[tuple[Decimal, int], ...]
    top_movers: tuple[DepartmentImpact, ...]
    grade_levels: GradeLevels = field(default_factory=lambda: MappingProxyType({}), repr=False)

    @property
    def total_changed(self) -> int:
        """Departments whose total changed."""
        return self.increased + self.decreased

    def movement(self, old_grade: str, new_grade: str) -> Movement:
        """Whether going from ``old_grade`` to ``new_grade`` is up, down or the same."""
        return _movement(self.grade_levels, old_grade, new_grade)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scored": self.scored,
            "failed": self.failed,
            "old_grades": list(self.old_grades),
            "new_grades": list(self.new_grades),
            "migration": {o: dict(row) for o, row in self.migration.items()},
            "up": self.up,
            "down": self.down,
            "same": self.same,
            "grade_changed": self.grade_changed,
            "increased": self.increased,
            "decreased": self.decreased,
            "unchanged": self.unchanged,
            "mean_change": None if self.mean_change is None else to_str(self.mean_change),
            "max_change": None if self.max_change is None else to_str(self.max_change),
            "distribution": [
                {"change": to_str(change), "count": count} for change, count in self.distribution
            ],
            "top_movers": [m.to_dict(explanations=True) for m in self.top_movers],
        }


class ImpactAnalysis:
    """Score departments under two rubric versions, one at a time, keeping a summary.

    Memory is bounded: counters, the distribution of total change (at most one entry per
    possible rounded change) and a heap of the ``top`` largest movers (with their inputs,
    re-scored with explanations when :meth:`summary` is asked for). Scoring runs without
    explanations otherwise, which is several times faster.
    """

    def __init__(self, old: Rubric, new: Rubric, *, top: int = 10) -> None:
        if top < 0:
            raise ValueError("top must be 0 or more")
        self.old, self.new = old, new
        self._old = compile_rubric(old)
        self._new = compile_rubric(new)
        self.top = top
        self.indicator_ids: Mapping[str, str] = diff_rubrics(old, new).indicator_ids
        self._back = {v: k for k, v in self.indicator_ids.items()}
        self._old_only = frozenset(old.inputs) - frozenset(new.inputs)
        self._new_only = frozenset(new.inputs) - frozenset(old.inputs)
        self.old_grades = grade_order(old)
        self.new_grades = grade_order(new)
        self._levels = self._grade_levels()
        self._migration: dict[str, dict[str, int]] = {
            o: dict.fromkeys(self.new_grades, 0) for o in self.old_grades
        }
        self._moves: Counter[str] = Counter()
        self._totals: Counter[str] = Counter()
        self._distribution: Counter[Decimal] = Counter()
        self._sum = ZERO
        self._max: Decimal | None = None
        self._scored = 0
        self._failed = 0
        self._heap: list[tuple[tuple[Decimal, bool, int], int, Department, DepartmentImpact]] = []
        self._seq = itertools.count()
        places = new.rounding.total.places + 2
        self._mean_places = places
        self._summary: ImpactSummary | None = None  # until the next department

    # -- set-up ---------------------------------------------------------------------
    @staticmethod
    def _map(ids: Mapping[str, str], node_id: str) -> str | None:
        """The other version's id of a result node: matched indicators through ``ids``;
        the rows of a row group (``group.3``) through their group's id."""
        mapped = ids.get(node_id)
        if mapped is None and "." in node_id:
            group, _, k = node_id.rpartition(".")
            parent = ids.get(group)
            mapped = None if parent is None else f"{parent}.{k}"
        return mapped

    def _grade_levels(self) -> dict[str, tuple[Decimal, bool]]:
        levels: dict[str, tuple[Decimal, bool]] = {}
        for rubric in (self.old, self.new):  # the new rubric's bands win for shared names
            for band in rubric.grades:
                low, excl = _band_level(band)
                levels[band.name] = (low / rubric.total, excl)
        return levels

    # -- one department ---------------------------------------------------------------
    def _inputs(self, inputs: Mapping[str, Any], drop: frozenset[str]) -> Mapping[str, Any]:
        if not drop or drop.isdisjoint(inputs):
            return inputs
        return {k: v for k, v in inputs.items() if k not in drop}

    def _score(
        self, department: Department, explain: bool
    ) -> tuple[ScoreResult | list[Issue], ScoreResult | list[Issue]]:
        assert department.inputs is not None
        out: list[ScoreResult | list[Issue]] = []
        for compiled, drop in ((self._old, self._new_only), (self._new, self._old_only)):
            try:
                out.append(
                    compiled.score(
                        self._inputs(department.inputs, drop),
                        explain=explain,
                        source=department.source,
                    )
                )
            except PerfscoreError as error:
                out.append(list(error.issues))
        return out[0], out[1]

    def _changed(
        self, old: ScoreResult, new: ScoreResult, explain: bool
    ) -> tuple[ScoreChange, ...]:
        """The leaves (of either version's results: a row group's rows included) whose
        score differs, new document order first, then leaves only the old version has."""
        old_nodes = {n.id: n for n in old.indicators}
        new_nodes = {n.id: n for n in new.indicators}
        changes: list[ScoreChange] = []
        seen: set[str] = set()

        def add(o: IndicatorResult | None, n: IndicatorResult | None) -> None:
            old_score = None if o is None else o.score
            new_score = None if n is None else n.score
            if old_score == new_score:
                return
            either = n if n is not None else o
            assert either is not None
            changes.append(
                ScoreChange(
                    either.id,
                    either.name,
                    old_score,
                    new_score,
                    o.explanation if (explain and o is not None) else None,
                    n.explanation if (explain and n is not None) else None,
                )
            )

        for n in new.indicators:
            if n.children:
                continue
            old_id = self._map(self._back, n.id)
            o = None if old_id is None else old_nodes.get(old_id)
            if o is not None:
                seen.add(o.id)
            add(o, n)
        for o in old.indicators:
            if o.children or o.id in seen:
                continue
            new_id = self._map(self.indicator_ids, o.id)
            add(o, None if new_id is None else new_nodes.get(new_id))
        return tuple(changes)

    def _impact(
        self, department: Department, old: ScoreResult, new: ScoreResult, explain: bool
    ) -> DepartmentImpact:
        return DepartmentImpact(
            department.id,
            department.row,
            department.source,
            old.total,
            new.total,
            old.grade,
            new.grade,
            _movement(self._levels, old.grade, new.grade),
            self._changed(old, new, explain),
        )

    def compare(self, department: Department) -> DepartmentImpact | DepartmentFailure:
        """Score one department under both versions and add it to the summary."""
        if department.inputs is None:
            self._failed += 1
            self._summary = None
            issues = department.issues or (Issue.of("input.unreadable", Location()),)
            return DepartmentFailure(
                department.id,
                department.row,
                department.source,
                tuple(("read", i) for i in issues),
            )
        old, new = self._score(department, explain=False)
        if not isinstance(old, ScoreResult) or not isinstance(new, ScoreResult):
            self._failed += 1
            self._summary = None
            reasons: list[tuple[Side, Issue]] = []
            if not isinstance(old, ScoreResult):
                reasons.extend(("old", i) for i in old)
            if not isinstance(new, ScoreResult):
                reasons.extend(("new", i) for i in new)
            return DepartmentFailure(
                department.id,
                department.row,
                department.source,
                tuple(reasons),
                old_total=old.total if isinstance(old, ScoreResult) else None,
                new_total=new.total if isinstance(new, ScoreResult) else None,
                old_grade=old.grade if isinstance(old, ScoreResult) else None,
                new_grade=new.grade if isinstance(new, ScoreResult) else None,
            )
        impact = self._impact(department, old, new, explain=False)
        self._count(impact, department)
        return impact

    def _count(self, impact: DepartmentImpact, department: Department) -> None:
        self._scored += 1
        self._summary = None
        self._migration[impact.old_grade][impact.new_grade] += 1
        self._moves[impact.movement] += 1
        if impact.grade_changed:
            self._moves["changed"] += 1
        change = impact.change
        self._totals["increased" if change > 0 else "decreased" if change < 0 else "unchanged"] += 1
        self._distribution[change] += 1
        self._sum += change
        if self._max is None or abs(change) > abs(self._max):
            self._max = change
        if self.top and impact.changed:
            rank = (abs(change), impact.grade_changed, -impact.row)
            entry = (rank, next(self._seq), department, impact)
            if len(self._heap) < self.top:
                heapq.heappush(self._heap, entry)
            elif rank > self._heap[0][0]:
                heapq.heapreplace(self._heap, entry)

    def run(
        self, departments: Iterable[Department]
    ) -> Iterator[DepartmentImpact | DepartmentFailure]:
        """:meth:`compare` each department in turn, yielding each outcome as it comes."""
        for department in departments:
            yield self.compare(department)

    # -- summary ------------------------------------------------------------------------
    def summary(self) -> ImpactSummary:
        """The summary of every department compared so far (kept until the next one)."""
        if self._summary is not None:
            return self._summary
        movers: list[DepartmentImpact] = []
        for _, _, department, _ in sorted(self._heap, key=lambda e: (e[0], -e[1]), reverse=True):
            old, new = self._score(department, explain=True)
            assert isinstance(old, ScoreResult)
            assert isinstance(new, ScoreResult)
            movers.append(self._impact(department, old, new, explain=True))
        mean = None
        if self._scored:
            mean = round_decimal(self._sum / self._scored, self._mean_places)
        self._summary = ImpactSummary(
            old_grades=self.old_grades,
            new_grades=self.new_grades,
            scored=self._scored,
            failed=self._failed,
            migration=MappingProxyType(
                {o: MappingProxyType(dict(row)) for o, row in self._migration.items()}
            ),
            up=self._moves["up"],
            down=self._moves["down"],
            same=self._moves["same"],
            grade_changed=self._moves["changed"],
            increased=self._totals["increased"],
            decreased=self._totals["decreased"],
            unchanged=self._totals["unchanged"],
            mean_change=mean,
            max_change=self._max,
            distribution=tuple(sorted(self._distribution.items())),
            top_movers=tuple(movers),
            grade_levels=MappingProxyType(dict(self._levels)),
        )
        return self._summary
