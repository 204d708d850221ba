"""Shared Hypothesis strategies: decimals, formulas, grade layouts, whole rubrics and inputs.

Every strategy here builds things that are valid by construction (a rubric that loads,
inputs that fit it), so that a failing property points at perfscore, not at the test.
Rubrics are built as plain data and written out as YAML text, the way users write them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import yaml
from hypothesis import strategies as st

from perfscore import Issue, Location, Rubric, Symbol, ValueType, compile_rubric

D = Decimal

# --------------------------------------------------------------------------- numbers


def decimals(
    low: int | str | Decimal, high: int | str | Decimal, *, places: int = 2
) -> st.SearchStrategy[Decimal]:
    """Decimals in ``[low, high]`` with at most ``places`` decimals (never floats)."""
    scale = 10**places
    lo, hi = int(D(low) * scale), int(D(high) * scale)
    return st.integers(lo, hi).map(lambda n: D(n).scaleb(-places))


def any_places_decimals(
    low: int | str | Decimal, high: int | str | Decimal, max_places: int = 3
) -> st.SearchStrategy[Decimal]:
    """Decimals in ``[low, high]`` with 0 to ``max_places`` decimals, trailing zeros kept."""
    return st.integers(0, max_places).flatmap(lambda p: decimals(low, high, places=p))


def text(value: Decimal) -> str:
    """Plain notation, as a person writes a number: never ``1E+2``."""
    return format(value, "f")


# --------------------------------------------------------------------------- formulas

NUMBER_NAMES = ("a", "b", "c")
BOOLEAN_NAMES = ("p", "q")
CHOICE_NAME = "s"
CHOICE_OPTIONS = ("好", "中", "差")
FORMULA_SYMBOLS: Mapping[str, Symbol] = {
    **{n: Symbol(ValueType.NUMBER) for n in NUMBER_NAMES},
    **{n: Symbol(ValueType.BOOLEAN) for n in BOOLEAN_NAMES},
    CHOICE_NAME: Symbol(ValueType.TEXT, CHOICE_OPTIONS),
}

_SMALL_VALUES = st.sampled_from(["0", "1", "-1", "0.1", "0.5", "2", "100", "-0.01", "3.333"])
number_values: st.SearchStrategy[Decimal] = st.one_of(
    _SMALL_VALUES.map(D),
    any_places_decimals(-1000, 1000, 4),
    any_places_decimals(-1, 1, 6),
)


@st.composite
def formula_values(draw: st.DrawFn) -> dict[str, Decimal | bool | str]:
    """Values for every name of :data:`FORMULA_SYMBOLS`."""
    values: dict[str, Decimal | bool | str] = {n: draw(number_values) for n in NUMBER_NAMES}
    values.update({n: draw(st.booleans()) for n in BOOLEAN_NAMES})
    values[CHOICE_NAME] = draw(st.sampled_from(CHOICE_OPTIONS))
    return values


_number_literals = st.one_of(
    _SMALL_VALUES.filter(lambda t: not t.startswith("-")),
    any_places_decimals(0, 1000, 4).map(text),
)


def _number_leaf() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NUMBER_NAMES), _number_literals)


def _boolean_leaf() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BOOLEAN_NAMES),
        st.sampled_from(["True", "False"]),
        st.sampled_from(CHOICE_OPTIONS).map(lambda o: f"({CHOICE_NAME} == '{o}')"),
        st.sampled_from(CHOICE_OPTIONS).map(lambda o: f"({CHOICE_NAME} != '{o}')"),
    )


def _args(inner: st.SearchStrategy[str], low: int, high: int) -> st.SearchStrategy[str]:
    return st.lists(inner, min_size=low, max_size=high).map(", ".join)


@cache
def number_formulas(depth: int = 4) -> st.SearchStrategy[str]:
    """Number-valued formulas of the allowed language, nested at most ``depth`` deep.

    ``min`` / ``max`` always get two or more arguments, as the language requires.
    """
    if depth == 0:
        return _number_leaf()
    sub = number_formulas(depth - 1)
    cond = boolean_formulas(depth - 1)
    exponent = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(NUMBER_NAMES))
    return st.one_of(
        _number_leaf(),
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(sub, exponent).map(lambda t: f"({t[0]} ** {t[1]})"),
        sub.map(lambda s: f"(-{s})"),
        sub.map(lambda s: f"(+{s})"),
        st.tuples(st.sampled_from(["min", "max"]), _args(sub, 2, 3)).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(st.sampled_from(["abs", "floor", "ceil", "round"]), sub).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(sub, st.integers(0, 4)).map(lambda t: f"round({t[0]}, {t[1]})"),
        _args(sub, 3, 3).map(lambda a: f"clamp({a})"),
        st.tuples(sub, cond, sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


@cache
def boolean_formulas(depth: int = 4) -> st.SearchStrategy[str]:
    """Boolean formulas: comparisons (chained too), and / or / not, conditionals."""
    if depth == 0:
        return _boolean_leaf()
    sub = boolean_formulas(depth - 1)
    num = number_formulas(depth - 1)
    compare = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    return st.one_of(
        _boolean_leaf(),
        st.tuples(num, compare, num).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(num, compare, num, compare, num).map(
            lambda t: f"({t[0]} {t[1]} {t[2]} {t[3]} {t[4]})"
        ),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: "(" + f" {t[0]} ".join(t[1]) + ")"
        ),
        sub.map(lambda s: f"(not {s})"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


formulas: st.SearchStrategy[str] = st.one_of(number_formulas(), boolean_formulas())


# --------------------------------------------------------------------------- grade bands


@dataclass(frozen=True)
class Band:
    name: str
    lower: Decimal
    upper: Decimal
    include_lower: bool
    include_upper: bool

    @property
    def notation(self) -> str:
        left = "[" if self.include_lower else "("
        right = "]" if self.include_upper else ")"
        return f"{left}{text(self.lower)}, {text(self.upper)}{right}"

    def __contains__(self, x: Decimal) -> bool:
        above = x > self.lower or (x == self.lower and self.include_lower)
        below = x < self.upper or (x == self.upper and self.include_upper)
        return above and below


GRADE_NAMES = ("优秀", "良好", "合格", "基本合格", "不合格", "差")


@st.composite
def grade_cuts(draw: st.DrawFn, total: Decimal) -> list[Decimal]:
    """0 to 4 distinct cut points strictly inside (0, total), ascending."""
    inside = decimals(0, total, places=draw(st.integers(0, 2))).filter(lambda x: 0 < x < total)
    return sorted(draw(st.sets(inside, max_size=4)))


@st.composite
def grade_layouts(draw: st.DrawFn, total: Decimal) -> list[Band]:
    """A valid layout of grade bands over ``[0, total]``: each total in exactly one band.

    At every cut point exactly one of the two neighbouring bands includes it; the bands
    are listed in a random order (a rubric need not list them best first).
    """
    cuts = [D(0), *draw(grade_cuts(total)), total]
    bands = []
    upper_takes = [draw(st.booleans()) for _ in cuts[1:-1]]
    for i, (lo, hi) in enumerate(itertools.pairwise(cuts)):
        include_lower = True if i == 0 else not upper_takes[i - 1]
        include_upper = True if i == len(cuts) - 2 else upper_takes[i]
        bands.append(Band(GRADE_NAMES[-1 - i], lo, hi, include_lower, include_upper))
    return draw(st.permutations(bands))


@st.composite
def any_grade_layouts(draw: st.DrawFn, total: Decimal) -> list[Band]:
    """Grade bands over ``[0, total]`` whose ends are included at random: valid or not
    (gaps and overlaps at the cut points, open outer ends)."""
    cuts = [D(0), *draw(grade_cuts(total)), total]
    bands = [
        Band(GRADE_NAMES[-1 - i], lo, hi, draw(st.booleans()), draw(st.booleans()))
        for i, (lo, hi) in enumerate(itertools.pairwise(cuts))
    ]
    return draw(st.permutations(bands))


def probe_points(bands: Sequence[Band], total: Decimal) -> list[Decimal]:
    """Every cut point and a point inside each band: enough to tell a layout's coverage."""
    ends = sorted({b.lower for b in bands} | {b.upper for b in bands} | {D(0), total})
    middles = [(lo + hi) / 2 for lo, hi in itertools.pairwise(ends)]
    return sorted({*ends, *middles})


# --------------------------------------------------------------------------- rubrics

#: The inputs every generated rubric declares.
INPUTS: dict[str, dict[str, Any]] = {
    "x": {"label": "数值", "kind": "number", "min": -1000, "max": 1000},
    "y": {"label": "比率", "kind": "percent", "min": 0, "max": 200},
    "n": {"label": "次数", "kind": "count", "max": 50},
    "f": {"label": "是否", "kind": "boolean"},
    "c": {"label": "等级", "kind": "choice", "options": list(CHOICE_OPTIONS)},
    "o": {"label": "可选", "kind": "number", "required": False},
}
NUMBER_VALUES = ("x", "y", "n", "o", "r", "d", "x / 10", "y * 0.1 - 2", "n * 2 - 3", "x + y")
CONDITIONS = ("f", "not f", "x > 0", "y >= 100", "c == '好'", "c != '差'", "n >= 3", "o > 5")

_modes = st.sampled_from(["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"])
_policies = st.sampled_from(["full_marks", "to_siblings", "rescale"])


def _part_of(weight: Decimal) -> st.SearchStrategy[Decimal]:
    """A number of points in ``[0, weight]`` with at most two decimals."""
    return st.integers(0, int(weight * 100)).map(lambda k: D(k).scaleb(-2))


def _positive_part_of(weight: Decimal) -> st.SearchStrategy[Decimal]:
    return st.integers(1, max(1, int(weight * 100))).map(lambda k: D(k).scaleb(-2))


@st.composite
def _deduction(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    method: dict[str, Any] = {
        "method": "deduction",
        "value": draw(st.sampled_from(NUMBER_VALUES)),
        "threshold": draw(decimals(-50, 150, places=draw(st.integers(0, 2)))),
        "direction": draw(st.sampled_from(["over", "under"])),
        "deduct": {
            "points": draw(_positive_part_of(weight)),
            "per": draw(st.sampled_from([D("0.5"), D(1), D(5), D("0.01")])),
            "steps": draw(st.sampled_from(["whole", "partial_up", "pro_rata"])),
        },
    }
    if draw(st.booleans()):
        method["floor"] = draw(_part_of(weight))
    if draw(st.booleans()):
        method["max_deduction"] = draw(_positive_part_of(weight))
    return method


@st.composite
def band_tables(
    draw: st.DrawFn, weight: Decimal, *, monotone: str | None = None
) -> list[dict[str, Any]]:
    """Bands that cover every number once: ``(-∞, c1)``, ``[c1, c2]``, ... ``(cn, +∞)``,
    with points that rise (``increasing``) or fall (``decreasing``) when asked."""
    cuts = sorted(draw(st.sets(decimals(-100, 200, places=draw(st.integers(0, 2))), max_size=4)))
    bounds: list[Decimal | None] = [None, *cuts, None]
    ranges = []
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        upper_takes = draw(st.booleans())
        left = "(" if lo is None or (i > 0 and ranges[-1][1]) else "["
        right = "]" if hi is not None and upper_takes else ")"
        lo_text = "-∞" if lo is None else text(lo)
        hi_text = "+∞" if hi is None else text(hi)
        ranges.append((f"{left}{lo_text}, {hi_text}{right}", right == "]"))
    points = [draw(_part_of(weight)) for _ in ranges]
    if monotone == "increasing":
        points.sort()
    elif monotone == "decreasing":
        points.sort(reverse=True)
    bands = [{"range": r, "points": p} for (r, _), p in zip(ranges, points, strict=True)]
    if len(cuts) and draw(st.booleans()):
        # An exact value as an 'equals' band, carved out of the band that held it.
        return _with_equals_band(bands, cuts, draw(st.sampled_from(cuts)), draw, weight, monotone)
    return bands


def _with_equals_band(
    bands: list[dict[str, Any]],
    cuts: list[Decimal],
    point: Decimal,
    draw: st.DrawFn,
    weight: Decimal,
    monotone: str | None,
) -> list[dict[str, Any]]:
    out = []
    for band in bands:
        notation = band["range"]
        lo_text, hi_text = (part.strip() for part in notation[1:-1].split(","))
        if lo_text == text(point) and notation[0] == "[":
            notation = "(" + notation[1:]
        if hi_text == text(point) and notation[-1] == "]":
            notation = notation[:-1] + ")"
        out.append({**band, "range": notation})
    if monotone is None:
        points = draw(_part_of(weight))
    else:
        # Between its neighbours' points, so that the table stays monotone.
        below = [b["points"] for b in out if _upper(b["range"]) == point]
        above = [b["points"] for b in out if _lower(b["range"]) == point]
        points = below[0] if below else above[0]
    out.append({"equals": point, "points": points})
    return out


def _lower(notation: str) -> Decimal | None:
    t = notation[1:-1].split(",")[0].strip()
    return None if "∞" in t else D(t)


def _upper(notation: str) -> Decimal | None:
    t = notation[1:-1].split(",")[1].strip()
    return None if "∞" in t else D(t)


@st.composite
def _bands(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    monotone = draw(st.sampled_from([None, "increasing", "decreasing"]))
    method: dict[str, Any] = {
        "method": "bands",
        "value": draw(st.sampled_from(NUMBER_VALUES)),
        "bands": draw(band_tables(weight, monotone=monotone)),
    }
    if monotone is not None:
        method["monotone"] = monotone
    return method


@st.composite
def _proportional(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    return {
        "method": "proportional",
        "value": draw(st.sampled_from(NUMBER_VALUES)),
        "full_at": draw(st.sampled_from(["100", "90", "50", "y + 1", "12.5"])),
    }


@st.composite
def _checklist(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    mode = draw(st.sampled_from(["earn", "deduct"]))
    count = draw(st.integers(1, 4))
    items = []
    budget = weight
    for i in range(count):
        if mode == "earn":
            points = draw(_positive_part_of(budget / (count - i))) if budget > 0 else None
            if points is None:
                break
            budget -= points
        else:
            points = draw(_positive_part_of(weight))
        item: dict[str, Any] = {"text": f"第{i + 1}项", "points": points}
        if mode == "deduct" and draw(st.booleans()):
            item["count"] = draw(st.sampled_from(["n", "floor(y / 50)"]))
        else:
            item["met"] = draw(st.sampled_from(CONDITIONS))
        items.append(item)
    if not items:
        items.append({"text": "第1项", "points": weight, "met": "f"})
    method: dict[str, Any] = {"method": "checklist", "mode": mode, "items": items}
    if draw(st.booleans()):
        method["floor"] = draw(_part_of(weight))
    return method


@st.composite
def _levels(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    if draw(st.booleans()):
        fractions = st.integers(0, 100).map(lambda k: D(k).scaleb(-2))
        return {
            "method": "levels",
            "value": "c",
            "scale": "fraction",
            "levels": {o: draw(fractions) for o in CHOICE_OPTIONS},
        }
    return {
        "method": "levels",
        "value": "c",
        "levels": {o: draw(_part_of(weight)) for o in CHOICE_OPTIONS},
    }


@st.composite
def _cases(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    cases = [
        {"when": draw(st.sampled_from(CONDITIONS)), "points": draw(_part_of(weight))}
        for _ in range(draw(st.integers(1, 3)))
    ]
    return {"method": "cases", "cases": cases, "otherwise": draw(_part_of(weight))}


@st.composite
def _formula(draw: st.DrawFn, weight: Decimal) -> dict[str, Any]:
    expression = draw(
        st.sampled_from(
            ["x", "x / 10", "y * 0.1", "n * 2 - 3", "min(x, y)", "r", "max(0, 100 - y) / 3"]
        )
    )
    return {"method": "formula", "expression": expression}


_METHODS: dict[str, Callable[[Decimal], st.SearchStrategy[dict[str, Any]]]] = {
    "deduction": _deduction,
    "bands": _bands,
    "proportional": _proportional,
    "checklist": _checklist,
    "levels": _levels,
    "cases": _cases,
    "formula": _formula,
}


def leaf_weights(places: int = 2) -> st.SearchStrategy[Decimal]:
    """Leaf weights with at most ``places`` decimals (and at least 1 × 10^-places)."""
    options = [st.integers(1, 30).map(D)]
    if places >= 1:
        options.append(decimals("0.5", 30, places=1))
    if places >= 2:
        options.append(decimals("0.01", 30, places=2))
    return st.one_of(options)


@st.composite
def _node(draw: st.DrawFn, depth: int, counter: list[int], weight_places: int) -> dict[str, Any]:
    counter[0] += 1
    number = counter[0]
    node_id, name = f"i{number}", f"指标{number}"
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        weight = draw(leaf_weights(weight_places))
        kind = draw(st.sampled_from(sorted(_METHODS)))
        node: dict[str, Any] = {
            "id": node_id,
            "name": name,
            "weight": weight,
            "scoring": draw(_METHODS[kind](weight)),
        }
        if draw(st.integers(0, 4)) == 0:
            node["not_applicable_when"] = draw(st.sampled_from(["not f", "n == 0", "y > 150"]))
        if draw(st.integers(0, 3)) == 0:
            node["not_applicable"] = draw(_policies)
        return node
    children = [
        draw(_node(depth - 1, counter, weight_places)) for _ in range(draw(st.integers(1, 3)))
    ]
    return {
        "id": node_id,
        "name": name,
        "weight": sum((c["weight"] for c in children), D(0)),
        "children": children,
    }


@st.composite
def rubric_data(draw: st.DrawFn, *, max_depth: int = 2) -> dict[str, Any]:
    """A small valid rubric as plain data: inputs, derived values, a tree, grade bands.

    Leaf weights never have more decimals than scores and the total are rounded to: a
    finer weight is refused at load (rubric.weight_precision), and a finer total still
    breaks grading (the xfailed test_engine.test_total_finer_than_total_rounding).
    """
    rounding: dict[str, Any] = {}
    if draw(st.booleans()):
        rounding = {
            key: {"places": draw(st.integers(0, 3)), "mode": draw(_modes)}
            for key in ("ratio", "score", "total")
            if draw(st.booleans())
        }
        if draw(st.booleans()):
            rounding["grade_on"] = draw(st.sampled_from(["unrounded", "rounded"]))
    places = min(rounding.get(key, {}).get("places", 2) for key in ("score", "total"))
    counter = [0]
    top = [draw(_node(max_depth, counter, places)) for _ in range(draw(st.integers(1, 3)))]
    total = sum((n["weight"] for n in top), D(0))
    data: dict[str, Any] = {
        "schema_version": 1,
        "id": "generated",
        "title": "随机评分表",
        "total": total,
        "inputs": INPUTS,
        "derived": {
            "r": {"label": "平均", "formula": "(x + y) / 2"},
            "d": {
                "label": "人均",
                "formula": "y / n",
                "on_zero_division": draw(st.sampled_from([D(0), D(100), "not_applicable"])),
            },
        },
        "indicators": top,
        "grades": [{"name": b.name, "range": b.notation} for b in draw(grade_layouts(total))],
    }
    if rounding:
        data["rounding"] = rounding
    if draw(st.booleans()):
        data["not_applicable"] = draw(_policies)
    if draw(st.booleans()):
        data["derived"]["r"]["as_percent"] = True
    if draw(st.booleans()):
        data["year"] = draw(st.integers(2010, 2030))
        data["notes"] = ["生成的评分表"]
    return data


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    t = text(value)
    return dumper.represent_scalar(
        "tag:yaml.org,2002:float" if "." in t else "tag:yaml.org,2002:int", t
    )


_Dumper.add_representer(Decimal, _represent_decimal)


def to_yaml(data: Mapping[str, Any]) -> str:
    """YAML text for plain data holding Decimals (written exactly, as in a rubric file)."""
    return yaml.dump(dict(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False)


rubric_texts: st.SearchStrategy[str] = rubric_data().map(to_yaml)


def build_rubric(data: Mapping[str, Any]) -> Rubric:
    """A rubric straight from plain data, without writing and parsing YAML (which costs
    most of the time of a generated example): validated and compiled as a file would be."""
    rubric = Rubric.model_validate(data)
    compile_rubric(rubric)
    return rubric


rubrics: st.SearchStrategy[Rubric] = rubric_data().map(build_rubric)


@st.composite
def department_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Inputs for a generated rubric, as a department would send them (strings, floats,
    ints and Decimals mixed); the optional ``o`` is sometimes left out."""
    number = st.one_of(
        decimals(-1000, 1000, places=2),
        decimals(-5, 5, places=2),
        st.sampled_from([D(0), D(100), D(1000), D(-1000)]),
    )
    inputs: dict[str, Any] = {
        "x": draw(number),
        "y": draw(st.one_of(decimals(0, 200, places=2), st.sampled_from([D(0), D(100)]))),
        "n": draw(st.integers(0, 50)),
        "f": draw(st.booleans()),
        "c": draw(st.sampled_from(CHOICE_OPTIONS)),
    }
    if draw(st.booleans()):
        inputs["o"] = draw(number)
    style = draw(st.sampled_from(["decimal", "string"]))
    if style == "string":
        inputs = {k: text(v) if isinstance(v, Decimal) else v for k, v in inputs.items()}
    return inputs


# --------------------------------------------------------------------------- every input kind

#: Inputs of the kinds :data:`INPUTS` leaves out (money, integer, text, table), read by a
#: row group (:func:`rubric_with_tables`); the table's columns hold every other kind.
TABLE_INPUTS: dict[str, dict[str, Any]] = {
    "m": {"label": "金额", "kind": "money", "min": 0},
    "i": {"label": "整数", "kind": "integer", "min": -100, "max": 100},
    "memo": {"label": "说明", "kind": "text", "required": False},
    "t": {
        "label": "自定指标",
        "kind": "table",
        "columns": {
            "name": {"label": "指标名称", "kind": "text"},
            "grade": {"label": "等级", "kind": "choice", "options": list(CHOICE_OPTIONS)},
            "amount": {"label": "数量", "kind": "number", "min": 0, "default": 0},
            "share": {"label": "得分率", "kind": "percent", "min": 0, "max": 100},
            "done": {"label": "完成", "kind": "boolean", "default": False},
            "cost": {"label": "成本", "kind": "money", "min": 0, "default": 0},
            "count": {"label": "件数", "kind": "count", "default": 0},
            "points": {"label": "分值", "kind": "number", "min": 0},
        },
    },
}
_ROW_FRACTIONS = (
    "share / 100",
    "1 if done else share / 100",
    "amount / (amount + 1)",
    "1 if grade == '好' else 0.5 if grade == '中' else 0",
    "cost / (cost + count + 1) if m > 0 else 1",
)


@st.composite
def rubric_with_tables(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid rubric as plain data that declares every input kind (a row group reads a
    table input), with inputs for it: ``(rubric data, inputs)``."""
    data = draw(rubric_data(max_depth=1))
    weight = D(draw(st.integers(1, 10)))
    group = {
        "id": "rows",
        "name": "自定指标",
        "weight": weight,
        "rows": {
            "table": "t",
            "name": "name",
            "weight": "points",
            "fraction": draw(st.sampled_from(_ROW_FRACTIONS)),
        },
    }
    data["indicators"] = [*data["indicators"], group]
    data["total"] += weight
    data["inputs"] = {**data["inputs"], **TABLE_INPUTS}
    data["grades"] = [
        {"name": b.name, "range": b.notation} for b in draw(grade_layouts(data["total"]))
    ]
    inputs = draw(department_inputs())
    count = draw(st.integers(1, min(4, int(weight))))
    cuts = (
        sorted(
            draw(st.sets(st.integers(1, int(weight) - 1), min_size=count - 1, max_size=count - 1))
        )
        if count > 1
        else []
    )
    bounds = [0, *cuts, int(weight)]
    rows = []
    for k in range(count):
        row: dict[str, Any] = {
            "name": draw(
                st.text(
                    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                    min_size=1,
                    max_size=8,
                )
            ),
            "grade": draw(st.sampled_from(CHOICE_OPTIONS)),
            "share": draw(decimals(0, 100, places=2)),
            "points": D(bounds[k + 1] - bounds[k]),
        }
        if draw(st.booleans()):
            row["amount"] = draw(decimals(0, 1000, places=3))
            row["done"] = draw(st.booleans())
            row["cost"] = draw(decimals(0, 1000, places=2))
            row["count"] = draw(st.integers(0, 100))
        rows.append(row)
    inputs.update(
        m=draw(decimals(0, 100000, places=2)),
        i=draw(st.integers(-100, 100)),
        t=rows,
    )
    if draw(st.booleans()):
        inputs["memo"] = draw(st.text(max_size=20))
    return data, inputs


# --------------------------------------------------------------------------- issues

_PARAM_SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.none(),
    decimals(-1000, 1000, places=4),
)
params_values = st.recursive(
    _PARAM_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def issues(draw: st.DrawFn) -> Issue:
    """Any issue: a code, a message, a hint or none, parameters of every JSON-able kind and
    a location with or without each part."""
    optional_int = st.one_of(st.none(), st.integers(1, 10**6))
    location = Location(
        file=draw(st.one_of(st.none(), st.text(min_size=1, max_size=20))),
        line=draw(optional_int),
        column=draw(optional_int),
        path=tuple(draw(st.lists(st.one_of(st.text(max_size=8), st.integers(0, 99)), max_size=4))),
    )
    code = draw(st.from_regex(r"[a-z]{1,8}(\.[a-z_]{1,10}){0,2}", fullmatch=True))
    return Issue(
        code,
        draw(st.text(max_size=40)),
        location,
        draw(st.one_of(st.none(), st.text(max_size=20))),
        draw(st.dictionaries(st.text(min_size=1, max_size=8), params_values, max_size=4)),
        draw(st.sampled_from(["error", "warning"])),
    )
