"""From the rows of a 评分表 to a rubric document, checked, with its golden-case skeleton.

:func:`draft_rubric` builds the indicator tree from :class:`~perfscore.draft.table.Row`
objects, reads every 评分标准 with :func:`~perfscore.draft.prose.parse_standard`, declares
the inputs and derived values each typed rule reads, and checks the result as
``perfscore validate`` would. A standard it cannot read becomes a judged leaf with a
``todo:`` holding the sentence, and a warning names the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import yaml

from perfscore._numbers import to_str
from perfscore.engine import compile_rubric
from perfscore.errors import Issue, Location, PerfscoreError
from perfscore.i18n import tr
from perfscore.loading import loads_rubric

from . import prose
from .ids import IdMaker, slug
from .table import Row, Table

__all__ = ["Draft", "DraftLeaf", "draft_rubric", "to_yaml"]

_NATIONAL_ROWS: Final = re.compile(r"定量指标.{0,40}(?:满分|全额).{0,80}定性指标|^同产出指标")
_ROW_COLUMNS: Final[dict[str, Any]] = {
    "name": {"label": "指标名称", "kind": "text"},
    "direction": {
        "label": "指标性质",
        "kind": "choice",
        "options": ["不低于", "不高于", "等于", "定性"],
    },
    "target": {"label": "年度指标值", "kind": "number", "min": 0, "default": 0},
    "actual": {"label": "实际完成值", "kind": "number", "min": 0, "default": 0},
    "weight": {"label": "分值", "kind": "number", "min": 0},
    "rating": {"label": "定性评价得分率", "kind": "percent", "min": 0, "max": 100, "default": 0},
}
_NATIONAL_FRACTION: Final = (
    'rating / 100 if direction == "定性" '
    'else (1 if actual >= target else actual / target) if direction == "不低于" '
    'else (1 if actual <= target else target / actual) if direction == "不高于" '
    "else (1 if actual == target else 0)"
)


@dataclass(frozen=True)
class DraftLeaf:
    """A leaf as drafted: its id, the row it came from, the rule read (None: judged), and
    the formula its standard states."""

    id: str
    name: str
    weight: Decimal
    place: str
    standard: str
    rule: prose.Rule | None
    value: str | None = None  # the id the rule reads (input or derived)
    formula: prose.StatedFormula | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # formula letter -> input id
    items: tuple[str, ...] = ()  # the boolean inputs of a checklist or cases rule
    rows: bool = False  # a row group (the national rule of 财预〔2020〕10号)


@dataclass(frozen=True)
class Draft:
    """A drafted rubric: the document, the leaves as read, and what the author must see."""

    data: dict[str, Any]
    leaves: tuple[DraftLeaf, ...]
    warnings: tuple[Issue, ...]
    problems: tuple[Issue, ...]  # why the draft does not validate (empty when it does)

    @property
    def unread(self) -> tuple[DraftLeaf, ...]:
        return tuple(leaf for leaf in self.leaves if leaf.rule is None and not leaf.rows)

    @property
    def typed_share(self) -> tuple[int, int]:
        """(leaves with a typed rule, leaves with a standard)."""
        with_standard = [leaf for leaf in self.leaves if leaf.standard.strip()]
        typed = [leaf for leaf in with_standard if leaf.rule is not None or leaf.rows]
        return len(typed), len(with_standard)


# --------------------------------------------------------------------------- the tree


@dataclass
class _Node:
    name: str
    place: str
    depth: int
    children: list[_Node] = field(default_factory=list)
    row: Row | None = None
    stated: Decimal | None = None
    stated_place: str = ""
    standard: str = ""


def _tree(table: Table) -> tuple[list[_Node], Decimal | None, str]:
    roots: list[_Node] = []
    path: list[_Node] = []
    total: Decimal | None = None
    total_place = ""
    for row in table.rows:
        if row.kind == "total":
            total, total_place = row.weight, row.weight_place
            continue
        if row.kind == "subtotal":
            target = _find(roots, row.names) if row.names else (path[0] if path else None)
            if target is not None and row.weight is not None:
                target.stated, target.stated_place = row.weight, row.weight_place
            continue
        names = row.names
        keep = 0
        while (
            keep < len(path)
            and keep < len(names) - 1
            and path[keep].name == names[keep]
            and path[keep].row is None
        ):
            keep += 1
        path = path[:keep]
        for depth in range(keep, len(names)):
            node = _Node(names[depth], row.place, depth)
            if depth < len(names) - 1:
                stated = row.level_weights[depth] if depth < len(row.level_weights) else None
                if stated is not None:
                    node.stated, node.stated_place = stated, row.place
            else:
                node.row = row
            (path[-1].children if path else roots).append(node)
            path.append(node)
    return roots, total, total_place


def _find(roots: list[_Node], names: tuple[str, ...]) -> _Node | None:
    level = roots
    found = None
    for name in names:
        found = next((n for n in reversed(level) if n.name == name), None)
        if found is None:
            return None
        level = found.children
    return found


def _leaves(node: _Node) -> list[_Node]:
    if node.row is not None:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _shared_standards(roots: list[_Node]) -> None:
    """A 评分标准 cell merged over exactly the leaves of one branch is that branch's."""

    def visit(node: _Node) -> None:
        leaves = _leaves(node)
        national = bool(
            leaves
            and leaves[0].row is not None
            and _NATIONAL_ROWS.search(re.sub(r"\s+", "", leaves[0].row.standard))
        )
        if node.row is None and (len(leaves) > 1 or national):
            origins = {leaf.row.standard_origin for leaf in leaves if leaf.row is not None}
            texts = {leaf.row.standard for leaf in leaves if leaf.row is not None}
            if len(origins) == 1 and len(texts) == 1 and next(iter(texts)):
                node.standard = next(iter(texts))
                return
        for child in node.children:
            visit(child)

    for root in roots:
        visit(root)


# --------------------------------------------------------------------------- rules to scoring


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.ids = IdMaker()
        self.input_ids = IdMaker()
        self.inputs: dict[str, dict[str, Any]] = {}
        self.derived: dict[str, dict[str, Any]] = {}
        self.by_label: dict[str, str] = {}
        self.leaves: list[DraftLeaf] = []
        self.warnings: list[Issue] = []

    def where(self, place: str) -> Location:
        return Location(file=self.file, path=(place,))

    def input(self, label: str, spec: dict[str, Any], hint: str) -> str:
        key = f"{spec['kind']}:{label}"
        if key in self.by_label:
            return self.by_label[key]
        ident = self.input_ids.make(label, hint)
        while ident in self.derived:
            ident = self.input_ids.make(label, hint)
        self.inputs[ident] = {"label": label, **spec}
        self.by_label[key] = ident
        return ident

    def value(
        self, leaf_id: str, name: str, parsed: prose.Parsed, kind: str
    ) -> tuple[str, dict[str, str]]:
        """The id a rule reads: a derived value from the stated formula, else an input."""
        formula = parsed.formula
        if formula is not None:
            letters: dict[str, str] = {}
            for i, label in enumerate(formula.labels):
                letters[chr(ord("A") + i)] = self.input(
                    label, {"kind": "number", "min": 0}, f"{leaf_id}_{chr(ord('a') + i)}"
                )
            expression = re.sub(r"\b([A-Z])\b", lambda m: letters[m.group(1)], formula.expression)
            ident = self.input_ids.make(formula.name, f"{leaf_id}_rate")
            spec: dict[str, Any] = {"label": formula.name, "formula": expression}
            if formula.percent:
                spec["as_percent"] = True
            self.derived[ident] = spec
            return ident, letters
        spec = {"kind": kind, "min": 0} if kind != "percent" else {"kind": "percent"}
        label = name if kind != "count" else f"{name}（扣分事项数）"
        return self.input(label, spec, f"{leaf_id}_value"), {}

    def scoring(
        self, leaf_id: str, name: str, weight: Decimal, parsed: prose.Parsed
    ) -> tuple[dict[str, Any], DraftLeaf | None]:
        rule = parsed.rule
        if isinstance(rule, prose.DeductionRule):
            value, letters = self.value(
                leaf_id,
                name,
                parsed if not rule.counted else prose.Parsed(rule),
                "count" if rule.counted else "percent",
            )
            data = {
                "method": "deduction",
                "value": value,
                "threshold": rule.threshold,
                "direction": rule.direction,
                "deduct": {"points": rule.points, "per": rule.per, "steps": "whole"},
            }
            return data, DraftLeaf(
                leaf_id, name, weight, "", "", rule, value, parsed.formula, letters
            )
        if isinstance(rule, prose.BandsRule):
            value, letters = self.value(leaf_id, name, parsed, "percent")
            bands = [{"range": b.notation(), "points": b.points} for b in rule.bands]
            return {"method": "bands", "value": value, "bands": bands}, DraftLeaf(
                leaf_id, name, weight, "", "", rule, value, parsed.formula, letters
            )
        if isinstance(rule, prose.ProportionalRule):
            value, letters = self.value(leaf_id, name, parsed, "percent")
            data = {"method": "proportional", "value": value, "full_at": to_str(rule.full_at)}
            return data, DraftLeaf(
                leaf_id, name, weight, "", "", rule, value, parsed.formula, letters
            )
        if isinstance(rule, prose.LevelsRule):
            options = [n for n, _ in rule.levels]
            value = self.input(
                f"{name}（评价等级）", {"kind": "choice", "options": options}, f"{leaf_id}_level"
            )
            data = {"method": "levels", "value": value, "levels": dict(rule.levels)}
            return data, DraftLeaf(leaf_id, name, weight, "", "", rule, value)
        if isinstance(rule, prose.ChecklistRule):
            items = []
            names = []
            for i, (text, points) in enumerate(rule.items, start=1):
                ident = self.input(text, {"kind": "boolean"}, f"{leaf_id}_item{i}")
                names.append(ident)
                met = f"not {ident}" if rule.failure else ident
                items.append({"text": text, "met": met, "points": points})
            data = {"method": "checklist", "mode": rule.mode, "items": items}
            return data, DraftLeaf(leaf_id, name, weight, "", "", rule, items=tuple(names))
        if isinstance(rule, prose.CasesRule):
            cases = []
            names = []
            for i, (text, points) in enumerate(rule.cases, start=1):
                ident = self.input(text, {"kind": "boolean"}, f"{leaf_id}_case{i}")
                names.append(ident)
                cases.append({"when": ident, "points": points, "text": text})
            return {"method": "cases", "cases": cases}, DraftLeaf(
                leaf_id, name, weight, "", "", rule, items=tuple(names)
            )
        return {"method": "judged"}, None


def _number(value: Decimal) -> Decimal:
    """A weight as written: ``5`` rather than ``5.00``."""
    text = to_str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def draft_rubric(
    table: Table, *, rubric_id: str | None = None, rubric_file: str | None = None
) -> Draft:
    """The rubric drafted from ``table`` (see the module docstring). ``rubric_file`` is
    where the draft will be written: problems of the draft are placed in it."""
    file = table.source
    roots, stated_total, total_place = _tree(table)
    _shared_standards(roots)
    b = _Builder(file)
    b.warnings.extend(table.notes)

    def indicator(node: _Node, parent_id: str, index: int) -> tuple[dict[str, Any], Decimal]:
        ident = b.ids.make(node.name, f"{parent_id}_{index}" if parent_id else f"indicator_{index}")
        out: dict[str, Any] = {"id": ident, "name": node.name}
        standard = node.standard
        if standard and _NATIONAL_ROWS.search(re.sub(r"\s+", "", standard)):
            weight = (
                node.stated
                if node.stated is not None
                else sum(
                    (
                        leaf.row.weight or Decimal(0)
                        for leaf in _leaves(node)
                        if leaf.row is not None
                    ),
                    Decimal(0),
                )
            )
            table_id = b.input_ids.make(node.name, f"{ident}_rows")
            b.inputs[table_id] = {"label": node.name, "kind": "table", "columns": _ROW_COLUMNS}
            out["weight"] = _number(weight)
            out["standard"] = standard
            out["rows"] = {
                "table": table_id,
                "name": "name",
                "weight": "weight",
                "fraction": _NATIONAL_FRACTION,
            }
            b.leaves.append(
                DraftLeaf(ident, node.name, weight, node.place, standard, None, rows=True)
            )
            b.warnings.append(
                Issue.of(
                    "draft.rows_group", b.where(node.place), name=node.name, rows=len(_leaves(node))
                )
            )
            return out, weight
        if node.row is not None:
            row = node.row
            leaf_weight = row.weight
            if leaf_weight is None:
                b.warnings.append(
                    Issue.of("draft.weight_missing", b.where(row.weight_place), name=node.name)
                )
                leaf_weight = Decimal(0)
            out["weight"] = _number(leaf_weight)
            own = row.standard if not _inherits(node, roots) else ""
            if row.description:
                out["description"] = row.description
            text = own or _inherited(node, roots)
            if own:
                out["standard"] = own
            parsed = prose.parse_standard(text, leaf_weight) if text.strip() else prose.Parsed(None)
            scoring, leaf = b.scoring(ident, node.name, leaf_weight, parsed)
            if leaf is None:
                out["todo"] = " ".join(text.split()) or node.name
                b.warnings.append(
                    Issue.of(
                        "draft.unread", b.where(row.place), name=node.name, sentence=out["todo"]
                    )
                )
                b.leaves.append(DraftLeaf(ident, node.name, leaf_weight, row.place, text, None))
            else:
                b.leaves.append(
                    DraftLeaf(
                        ident,
                        node.name,
                        leaf_weight,
                        row.place,
                        text,
                        leaf.rule,
                        leaf.value,
                        leaf.formula,
                        leaf.inputs,
                        leaf.items,
                    )
                )
            out["scoring"] = scoring
            return out, leaf_weight
        if node.standard:
            out["standard"] = node.standard
        children = []
        total = Decimal(0)
        for i, child in enumerate(node.children, start=1):
            data, weight = indicator(child, ident, i)
            children.append(data)
            total += weight
        if node.stated is not None and node.stated != total:
            b.warnings.append(
                Issue.of(
                    "draft.sum_mismatch",
                    b.where(node.stated_place),
                    name=node.name,
                    stated=to_str(_number(node.stated)),
                    rows=to_str(_number(total)),
                )
            )
        out["weight"] = _number(total)
        out["children"] = children
        return {
            k: out[k] for k in ("id", "name", "weight", "standard", "children") if k in out
        }, total

    indicators = []
    total = Decimal(0)
    for i, root in enumerate(roots, start=1):
        node_data, weight = indicator(root, "", i)
        indicators.append(node_data)
        total += weight
    if stated_total is not None and stated_total != total:
        b.warnings.append(
            Issue.of(
                "draft.total_mismatch",
                b.where(total_place),
                stated=to_str(_number(stated_total)),
                rows=to_str(_number(total)),
            )
        )
    if total <= 0:
        total = Decimal(100)
    name = Path(file).stem
    ident = rubric_id or (slug(name).replace("_", "-") or "draft")
    ident = re.sub(r"[^a-z0-9_.-]", "-", ident.lower()).strip("-.") or "draft"
    if not ident[0].isalnum():
        ident = f"draft-{ident}"
    data: dict[str, Any] = {
        "schema_version": 1,
        "id": ident[:100],
        "title": table.title or name,
        "version": "0.1-draft",
        "notes": [
            tr("draft.note.source", file=Path(file).name, grid=table.grid),
            tr("draft.note.steps"),
            tr("draft.note.grades"),
        ],
        "total": _number(total),
    }
    if b.inputs:
        data["inputs"] = b.inputs
    if b.derived:
        data["derived"] = b.derived
    data["indicators"] = indicators
    scale = total / Decimal(100)
    cuts = [_number(total), _number(scale * 90), _number(scale * 80), _number(scale * 60)]
    data["grades"] = [
        {"name": "优", "range": f"[{to_str(cuts[1])}, {to_str(cuts[0])}]"},
        {"name": "良", "range": f"[{to_str(cuts[2])}, {to_str(cuts[1])})"},
        {"name": "中", "range": f"[{to_str(cuts[3])}, {to_str(cuts[2])})"},
        {"name": "差", "range": f"[0, {to_str(cuts[3])})"},
    ]
    unread = [leaf for leaf in b.leaves if leaf.rule is None and not leaf.rows]
    if unread:
        b.warnings.append(
            Issue.of(
                "draft.unread_rows",
                Location(file=file),
                count=len(unread),
                rows="；".join(
                    f"{leaf.place} {leaf.name}：{' '.join(leaf.standard.split())}"
                    for leaf in unread
                ),
            )
        )
    problems = _validate(data, rubric_file or str(Path(file).with_suffix(".yaml")))
    return Draft(data, tuple(b.leaves), tuple(b.warnings), problems)


def _inherits(node: _Node, roots: list[_Node]) -> bool:
    return bool(_inherited(node, roots))


def _inherited(node: _Node, roots: list[_Node]) -> str:
    """The standard of the branch above ``node`` that took the merged cell, if any."""

    def search(level: list[_Node]) -> str | None:
        for n in level:
            if n is node:
                return ""
            found = search(n.children)
            if found is not None:
                return n.standard or found
        return None

    return search(roots) or ""


# --------------------------------------------------------------------------- YAML and checks


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = to_str(value)
    return dumper.represent_scalar(
        "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int", text
    )


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(str, _text)


def to_yaml(data: Any) -> str:
    """``data`` as YAML: keys in the order given, decimals exact, Chinese as written."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _validate(data: dict[str, Any], file: str) -> tuple[Issue, ...]:
    text = to_yaml(data)
    try:
        compile_rubric(loads_rubric(text, name=file))
    except PerfscoreError as e:
        return e.issues
    return ()
