"""JSON Schemas (draft 2020-12) of rubric files, of one rubric's input files, and of what
perfscore writes: results (:func:`result_schema`) and errors (:func:`error_schema`).

:func:`rubric_schema` is built from the pydantic models of :mod:`perfscore.model`, so it
follows the rubric format as the loader reads it: ``scoring`` is a ``oneOf`` over the
registered scoring methods, each told apart by its ``method``; intervals are strings such
as ``"[80, 90)"`` (or ``equals`` / ``from`` + ``to``); descriptions come from the models.
It also knows the composition keys (``extends``, ``uses``, ``changes``, ``ref``) and the
shape of a library of shared definitions, so every rubric perfscore ships validates.

:func:`cases_schema` describes golden-case files (``*.cases.yaml``), key by key as the
loader (:mod:`perfscore.authoring.cases`) reads them.

:func:`inputs_schema` describes the input file of one rubric: each declared input with its
type, bounds, options, Chinese label (``title``) and unit.

A schema checks shape only, as an editor sees it: names, weight sums and formulas are
checked when the rubric compiles (``perfscore validate``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from perfscore._interval import Interval
from perfscore._numbers import to_str
from perfscore.errors import ERROR_FORMAT_VERSION
from perfscore.i18n import tr
from perfscore.methods import method_kinds
from perfscore.model import ID_PATTERN, InputSpec, Rubric
from perfscore.results import RESULT_FORMAT_VERSION

__all__ = [
    "DRAFT",
    "INTERVAL_PATTERN",
    "RESULT_FORMAT_VERSION",
    "cases_schema",
    "error_schema",
    "inputs_schema",
    "result_schema",
    "rubric_schema",
]

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"

_NUMBER: Final = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*[%％]?"
_INFINITY: Final = r"[+-]?(?:∞|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?)"
_END: Final = rf"(?:{_NUMBER}|{_INFINITY})?"
#: What an interval string looks like: ``[80, 90)``, ``(0, 10]``, ``[90, +∞)``.
INTERVAL_PATTERN: Final = rf"^\s*[\[(［（]\s*{_END}\s*[,，]\s*{_END}\s*[\])］）]\s*$"

_INTERVAL_TEXT: Final = (
    "an interval: '[' or ']' includes an end, '(' or ')' excludes it, '∞' for no bound, "
    'e.g. "[80, 90)", "(0, 10]", "[90, +∞)"'
)
_IDENTIFIER: Final = {"type": "string", "pattern": ID_PATTERN, "maxLength": 64}
_NUMBER_OR_TEXT: Final = {"anyOf": [{"type": "number"}, {"type": "string"}]}

#: Descriptions for fields whose model does not give one (the model's own wins).
_DESCRIPTIONS: Final[dict[str, dict[str, str]]] = {
    "Rubric": {
        "schema_version": "version of the rubric file format; 1",
        "id": "the rubric's id: lower case, digits, '.', '-' or '_'",
        "title": "the table's title (评分表名称)",
        "issuer": "who issues the table (e.g. a finance bureau, 财政局)",
        "year": "the budget year evaluated",
        "version": 'the rubric\'s own version, e.g. "1.0"',
        "notes": "free notes: where the table comes from, choices made",
        "total": "the full score; the top-level weights add up to it (default 100)",
        "rounding": "how ratios, leaf scores and the total are rounded",
        "not_applicable": "default policy for a leaf that does not apply (不适用)",
        "inputs": "the figures and judgements a department supplies, by id",
        "derived": "named formulas over inputs (ratios such as 在职人员控制率), by id",
        "indicators": "the indicator tree (一级 → 二级 → 三级指标)",
        "grades": "grade bands (等次) covering every total from 0 to the full score",
        "grade_caps": "rules that cap the grade after banding (veto items)",
        "effective": "the dates the rubric is in force, days included",
        "status": "draft (never in force), published (the default), or retired (withdrawn; "
        "still the rubric of its past dates, so it needs effective.until)",
    },
    "InputSpec": {
        "label": "the Chinese name shown to people (e.g. 编制数)",
        "kind": "number, integer, money (万元), percent (points, 95.1 = 95.1%), count, "
        "boolean, choice, text or table",
        "unit": "unit shown with the value (money defaults to 万元, percent to %)",
        "min": "smallest accepted value",
        "max": "largest accepted value",
        "options": "for kind choice: the accepted answers",
        "required": "false: the input may be left out (leaves reading it are not applicable)",
        "default": "value used when the input is left out",
        "description": "what exactly the figure is (口径)",
        "source": "where the figure comes from (e.g. 部门决算)",
        "group": "the section of the input form it is filled in under (e.g. 人员, 预算)",
    },
    "DerivedValue": {
        "label": "the Chinese name (e.g. 在职人员控制率)",
        "formula": "a formula over inputs and other derived values, e.g. staff_actual / "
        "staff_authorized",
        "rounding": "ratio, score, none, or {places, mode}",
        "on_zero_division": "value when the formula divides by zero, or not_applicable",
        "description": "what the value means",
        "source": "where the definition comes from",
    },
    "Indicator": {
        "id": "the indicator's id (snake_case ASCII)",
        "name": "the Chinese name (指标名称)",
        "weight": "points (分值); a branch's weight is the sum of its children's",
        "children": "the indicators below this one (a branch)",
        "scoring": "how this leaf is scored; 'method' names the scoring method",
        "rows": "leaves taken from the rows of a table input",
        "not_applicable_when": "a condition under which this leaf does not apply (不适用)",
        "not_applicable": "policy when it does not apply: full_marks, to_siblings or rescale",
    },
    "GradeBand": {"name": "the grade (等次), e.g. 优秀"},
    "GradeCap": {
        "id": "the cap's id",
        "when": "a condition over inputs and derived values",
        "max_grade": "the best grade allowed when the condition holds",
        "reason": "why, shown with the result",
    },
    "Rounding": {"places": "decimal places", "mode": "rounding mode (half_up = 四舍五入)"},
}

#: Fields whose model accepts a number as well as text (converted on load).
_NUMBER_AS_TEXT: Final = {("DerivedValue", "formula"), ("Rubric", "version")}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, with intervals written as strings."""

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        if schema["cls"] is Interval:
            return {"type": "string", "pattern": INTERVAL_PATTERN, "description": _INTERVAL_TEXT}
        return super().dataclass_schema(schema)


def _model_schema(model: Any) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(
        schema_generator=_Generator, ref_template="#/$defs/{model}"
    )
    return schema


def _tidy(node: Any) -> None:
    """Drop pydantic's generated per-property titles ('As Percent'): noise in an editor."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for value in props.values():
                if isinstance(value, dict):
                    value.pop("title", None)
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


def _interval_forms(definition: dict[str, Any]) -> None:
    """A band or grade gives its interval as ``range``, ``equals`` or ``from``/``to``."""
    props = definition["properties"]
    props["equals"] = {**_NUMBER_OR_TEXT, "description": "an exact value (e.g. equals: 0)"}
    props["from"] = {**_NUMBER_OR_TEXT, "description": "lower end; say include_from"}
    props["to"] = {**_NUMBER_OR_TEXT, "description": "upper end; say include_to"}
    props["include_from"] = {"type": "boolean", "description": "whether 'from' is included"}
    props["include_to"] = {"type": "boolean", "description": "whether 'to' is included"}
    definition["required"] = [r for r in definition.get("required", []) if r != "range"]
    definition["anyOf"] = [
        {"required": ["range"]},
        {"required": ["equals"]},
        {"required": ["from"]},
        {"required": ["to"]},
    ]


def _describe(defs: dict[str, Any]) -> None:
    for name, fields in _DESCRIPTIONS.items():
        props = defs.get(name, {}).get("properties", {})
        for field, text in fields.items():
            if field in props and "description" not in props[field]:
                props[field]["description"] = text
    for name, field in _NUMBER_AS_TEXT:
        prop = defs[name]["properties"][field]
        kept = {k: v for k, v in prop.items() if k in ("description", "default")}
        defs[name]["properties"][field] = {
            "anyOf": [{"type": "string"}, {"type": "number"}],
            **kept,
        }


def _method_defs(defs: dict[str, Any]) -> list[dict[str, str]]:
    """Add each registered scoring method's schema to ``defs``; return the oneOf branches."""
    branches: list[dict[str, str]] = []
    for kind, cls in sorted(method_kinds().items()):
        schema = _model_schema(cls)
        nested = schema.pop("$defs", {})
        for name, definition in nested.items():
            if name in defs and defs[name] != definition:
                raise ValueError(f"scoring method {kind!r}: schema name {name!r} is used twice")
            defs[name] = definition
        title = schema.get("title", cls.__name__)
        if title in defs and defs[title] != schema:
            raise ValueError(f"scoring method {kind!r}: schema name {title!r} is used twice")
        schema["required"] = ["method", *[r for r in schema.get("required", []) if r != "method"]]
        schema["properties"]["method"] = {
            "const": kind,
            "description": f"scoring method {kind!r}",
        }
        defs[title] = schema
        branches.append({"$ref": f"#/$defs/{title}"})
    if "Band" in defs:
        _interval_forms(defs["Band"])
    if "Proportional" in defs:
        prop = defs["Proportional"]["properties"]["full_at"]
        prop["anyOf"] = [{"type": "string"}, {"type": "number"}]
        prop.pop("type", None)
        prop.pop("maxLength", None)
    return branches


def _composition(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """The keys that build a rubric from other files, and the library document shape."""
    reference = {
        "type": "string",
        "description": "a rubric file beside this one, or 'perfscore:NAME' for a shipped one",
    }
    indicator = defs["Indicator"]
    indicator["properties"]["ref"] = {
        "type": "string",
        "description": "take name, description, standard and scoring from a definition of a "
        "library named under 'uses'",
    }
    indicator["required"] = [r for r in indicator["required"] if r not in ("id", "name")]
    indicator["anyOf"] = [{"required": ["ref"]}, {"required": ["id", "name"]}]
    set_props = {
        "set": {**_IDENTIFIER, "description": "the id of the indicator to change"},
        **{k: v for k, v in indicator["properties"].items() if k != "ref"},
    }
    defs["Change"] = {
        "description": "an edit of the base rubric's indicator tree by indicator id, or of "
        "its inputs by input id",
        "type": "object",
        "oneOf": [
            {
                "properties": set_props,
                "required": ["set"],
                "additionalProperties": False,
                "description": "set keys on an indicator (e.g. its weight or scoring)",
            },
            {
                "properties": {
                    "remove": {**_IDENTIFIER, "description": "the id of the indicator to remove"}
                },
                "required": ["remove"],
                "additionalProperties": False,
                "description": "remove an indicator and everything below it",
            },
            {
                "properties": {
                    "add": {"$ref": "#/$defs/Indicator"},
                    "under": {**_IDENTIFIER, "description": "the branch to add it under"},
                },
                "required": ["add"],
                "additionalProperties": False,
                "description": "add an indicator under a branch (or at the top)",
            },
            {
                "properties": {
                    "set_input": {**_IDENTIFIER, "description": "the id of the input to change"},
                    **{k: v for k, v in defs["InputSpec"]["properties"].items() if k != "columns"},
                    "columns": defs["InputSpec"]["properties"]["columns"],
                },
                "required": ["set_input"],
                "additionalProperties": False,
                "description": "set keys on an inherited input (e.g. required: false)",
            },
            {
                "properties": {
                    "remove_input": {
                        **_IDENTIFIER,
                        "description": "the id of the inherited input to remove",
                    }
                },
                "required": ["remove_input"],
                "additionalProperties": False,
                "description": "remove an inherited input (nothing may read it)",
            },
        ],
    }
    defs["Definition"] = {
        "description": "a shared indicator definition, placed in a rubric with 'ref'",
        "type": "object",
        "properties": {
            k: v
            for k, v in indicator["properties"].items()
            if k in ("name", "description", "standard", "source", "scoring", "not_applicable_when")
        },
        "additionalProperties": False,
    }
    props = schema["properties"]
    props["extends"] = {
        **reference,
        "description": "start from this base rubric; "
        "top-level keys given here replace the base's, inputs and derived "
        "values merge by id. " + reference["description"],
    }
    props["uses"] = {
        "description": "libraries of shared inputs, derived values and definitions",
        "anyOf": [reference, {"type": "array", "items": reference}],
    }
    props["changes"] = {
        "description": "edits of the base rubric's indicators and inputs (needs 'extends')",
        "type": "array",
        "items": {"$ref": "#/$defs/Change"},
    }
    props["library"] = {
        "type": "string",
        "description": "this file is a library of shared definitions, with this id",
    }
    props["definitions"] = {
        "description": "a library's indicator definitions, by id",
        "type": "object",
        "propertyNames": {"pattern": ID_PATTERN},
        "additionalProperties": {"$ref": "#/$defs/Definition"},
    }
    required = schema.pop("required", [])
    schema["anyOf"] = [
        {"required": required, "description": "a whole rubric"},
        {"required": ["extends"], "description": "a variant of another rubric"},
        {"required": ["library"], "description": "a library of shared definitions"},
    ]


def rubric_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of rubric files, for editors and other tools."""
    schema = _model_schema(Rubric)
    defs: dict[str, Any] = schema.pop("$defs")
    branches = _method_defs(defs)
    indicator = defs["Indicator"]["properties"]
    indicator["scoring"] = {
        "description": "how this leaf is scored: 'method' is one of "
        + ", ".join(sorted(method_kinds())),
        "oneOf": branches,
    }
    defs.pop("ScoringMethod", None)
    _interval_forms(defs["GradeBand"])
    _describe({**defs, "Rubric": schema})
    notes = schema["properties"]["notes"]
    schema["properties"]["notes"] = {
        "description": notes.get("description", ""),
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    _composition(schema, defs)
    _tidy(schema)
    _tidy(defs)
    out: dict[str, Any] = {
        "$schema": DRAFT,
        "title": "perfscore rubric",
        "description": "A perfscore rubric: a scoring table (评分表) for 部门整体支出绩效评价. "
        "Check a file whole with `perfscore validate`.",
    }
    out.update((k, v) for k, v in schema.items() if k not in ("title", "description"))
    out["$defs"] = dict(sorted(defs.items()))
    return copy.deepcopy(out)


# --------------------------------------------------------------------------- inputs


def _bound(value: Any) -> int | float:
    """A bound as a JSON number (exact decimals as their closest float, whole ones as ints)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _input_description(spec: InputSpec) -> str:
    parts: list[str] = [spec.kind]
    unit = spec.display_unit
    if unit:
        parts.append(f"单位: {unit}")
    low, high = spec.lower_bound, spec.max
    if low is not None and high is not None:
        parts.append(f"{to_str(low)} to {to_str(high)}")
    elif low is not None:
        parts.append(f"≥ {to_str(low)}")
    elif high is not None:
        parts.append(f"≤ {to_str(high)}")
    if not spec.required:
        parts.append("optional")
    if spec.default is not None:
        default = spec.default
        shown = to_str(default) if not isinstance(default, bool | str) else str(default).lower()
        parts.append(f"default {shown}")
    text = ", ".join(parts)
    if spec.description:
        text += ". " + " ".join(spec.description.split())
    if spec.source:
        text += f" (来源: {' '.join(spec.source.split())})"
    return text


_BOOLEAN_WORDS: Final = ["是", "否", "true", "false", "yes", "no"]


def _input_value_schema(spec: InputSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"title": spec.label, "description": _input_description(spec)}
    kind = spec.kind
    if kind == "boolean":
        out["anyOf"] = [{"type": "boolean"}, {"enum": _BOOLEAN_WORDS}]
    elif kind == "choice":
        out["type"] = "string"
        out["enum"] = list(spec.options or ())
    elif kind == "text":
        out["type"] = "string"
    elif kind == "table":
        columns = spec.columns or {}
        out["type"] = "array"
        out["items"] = {
            "type": "object",
            "properties": {k: _input_value_schema(c) for k, c in columns.items()},
            "required": [k for k, c in columns.items() if c.required and c.default is None],
            "additionalProperties": False,
        }
    else:
        out["type"] = "integer" if kind in ("integer", "count") else "number"
        low, high = spec.lower_bound, spec.max
        if low is not None:
            out["minimum"] = _bound(low)
        if high is not None:
            out["maximum"] = _bound(high)
    if not spec.required or spec.default is not None:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"].append({"type": "null"})
    if spec.default is not None:
        default = spec.default
        out["default"] = default if isinstance(default, bool | str) else _bound(default)
    return out


def inputs_schema(rubric: Rubric, *, rubric_path: str | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an input file for ``rubric``: one property per
    declared input, in declaration order, with its label as ``title``."""
    inputs: Mapping[str, InputSpec] = rubric.inputs
    where = f" ({rubric_path})" if rubric_path else ""
    return {
        "$schema": DRAFT,
        "title": f"{rubric.title} — inputs",
        "description": f"Inputs of one department for rubric {rubric.id} version "
        f"{rubric.version}{where}. Score with `perfscore score RUBRIC INPUTS`.",
        "type": "object",
        "properties": {
            **{name: _input_value_schema(spec) for name, spec in inputs.items()},
            **_section_schemas(rubric),
        },
        "required": [
            name for name, spec in inputs.items() if spec.required and spec.default is None
        ],
        "additionalProperties": False,
    }


def _section_schemas(rubric: Rubric) -> dict[str, Any]:
    """The reserved sections of an inputs file: unit, claimed, overrides, judged."""
    from perfscore._submission import UNIT_FIELDS
    from perfscore.methods import Judged

    number = {"type": ["number", "string"]}
    ids = [node.id for node in rubric.walk()]
    leaves = [node.id for node in rubric.leaves if node.rows is None]
    judged = [node.id for node in rubric.leaves if isinstance(node.scoring, Judged)]
    score_list = {"type": "array", "items": number, "minItems": 1}
    by_judge = {"type": "object", "additionalProperties": number}
    return {
        "unit": {
            "type": "object",
            "description": "the unit evaluated, who filled the form and when",
            "properties": {k: {"type": ["string", "number"]} for k in UNIT_FIELDS},
            "additionalProperties": False,
        },
        "claimed": {
            "type": "object",
            "description": "the department's own scores (自评): indicator id → score, total, grade",
            "properties": {
                **dict.fromkeys(ids, number),
                "total": number,
                "grade": {"enum": [g.name for g in rubric.grades]},
            },
        },
        "overrides": {
            "type": "object",
            "description": "a reviewer's decisions: leaf id → score, reason (required), by, date",
            "propertyNames": {"enum": leaves},
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "score": number,
                    "reason": {"type": "string", "minLength": 1},
                    "by": {"type": "string"},
                    "date": {"type": "string"},
                },
                "required": ["score", "reason"],
                "additionalProperties": False,
            },
        },
        "judged": {
            "type": "object",
            "description": "scores of judged leaves: one score, a list, or judge → score",
            "propertyNames": {"enum": judged},
            "additionalProperties": {"anyOf": [number, score_list, by_judge]},
        },
    }


# --------------------------------------------------------------------------- results, errors

_DECIMAL_TEXT: Final = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
_NULLABLE_TEXT: Final = {"type": ["string", "null"]}


def _value_schema() -> dict[str, Any]:
    """An input or derived value: a decimal as text, a boolean, text, ``null`` (not
    applicable) or a table's rows (objects of such values)."""
    scalar = {"type": ["string", "boolean", "null"]}
    return {
        "anyOf": [
            scalar,
            {"type": "array", "items": {"type": "object", "additionalProperties": scalar}},
        ]
    }


def _issue_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": tr("schema.issue.description"),
        "required": ["code", "severity", "message", "hint", "params", "location"],
        "properties": {
            "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"},
            "severity": {"enum": ["error", "warning"]},
            "message": {"type": "string"},
            "hint": _NULLABLE_TEXT,
            "params": {"type": "object"},
            "location": {
                "type": "object",
                "required": ["file", "line", "column", "path"],
                "properties": {
                    "file": _NULLABLE_TEXT,
                    "line": {"type": ["integer", "null"], "minimum": 1},
                    "column": {"type": ["integer", "null"], "minimum": 1},
                    "path": {"type": "array", "items": {"type": ["string", "integer"]}},
                },
            },
        },
    }


def _schema_head(kind: str, version: int) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": f"urn:perfscore:schema:{kind}:{version}",
        "title": tr(f"schema.{kind}.title", version=str(version)),
    }


def result_schema() -> dict[str, Any]:
    """The JSON Schema of a scored result, as :meth:`ScoreResult.to_dict` writes it (and
    ``perfscore score -f json``): version :data:`RESULT_FORMAT_VERSION`."""
    step = {
        "type": "object",
        "required": ["kind", "text"],
        "properties": {
            "kind": {"type": "string"},
            "text": {"type": "string"},
            "points": _DECIMAL_TEXT,
        },
    }
    indicator = {
        "type": "object",
        "required": [
            "id",
            "name",
            "weight",
            "effective_weight",
            "score",
            "status",
            "depth",
            "parent",
            "children",
        ],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "weight": _DECIMAL_TEXT,
            "effective_weight": _DECIMAL_TEXT,
            "score": _DECIMAL_TEXT,
            "status": {"enum": ["scored", "not_applicable"]},
            "depth": {"type": "integer", "minimum": 0},
            "parent": _NULLABLE_TEXT,
            "children": {"type": "array", "items": {"type": "string"}},
            "explanation": {
                "type": "object",
                "required": ["values", "steps"],
                "properties": {
                    "values": {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}},
                    "steps": {"type": "array", "items": step},
                },
            },
            "override": {
                "type": "object",
                "description": "a reviewer's decision: the score that counts, the computed "
                "one (null when the leaf was not applicable), why, by whom and when",
                "required": ["score", "computed", "reason", "by", "date"],
                "properties": {
                    "score": _DECIMAL_TEXT,
                    "computed": {"anyOf": [_DECIMAL_TEXT, {"type": "null"}]},
                    "reason": {"type": "string"},
                    "by": _NULLABLE_TEXT,
                    "date": _NULLABLE_TEXT,
                },
            },
        },
    }
    return {
        **_schema_head("result", RESULT_FORMAT_VERSION),
        "type": "object",
        "required": [
            "format",
            "rubric",
            "perfscore_version",
            "inputs_hash",
            "total",
            "unrounded_total",
            "max_total",
            "grade",
            "grade_before_caps",
            "grade_caps",
            "indicators",
            "values",
            "warnings",
        ],
        "properties": {
            "format": {
                "const": RESULT_FORMAT_VERSION,
                "description": "the version of this format; within it keys are only added",
            },
            "rubric": {
                "type": "object",
                "required": ["id", "version", "hash"],
                "properties": {
                    "id": {"type": "string"},
                    "version": {"type": "string"},
                    "hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                },
            },
            "perfscore_version": {
                "type": "string",
                "description": "the version of perfscore that computed the result",
            },
            "inputs_hash": {
                "type": "string",
                "pattern": "^sha256:[0-9a-f]{64}$",
                "description": "sha256 of the inputs as the rubric read them, written "
                "canonically (keys sorted, numbers by value)",
            },
            "total": _DECIMAL_TEXT,
            "unrounded_total": _DECIMAL_TEXT,
            "max_total": _DECIMAL_TEXT,
            "grade": {"type": "string"},
            "grade_before_caps": _NULLABLE_TEXT,
            "grade_caps": {"type": "array", "items": {"type": "string"}},
            "indicators": {"type": "array", "items": indicator},
            "values": {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}},
            "warnings": {
                "type": "array",
                "items": {
                    "allOf": [
                        {"$ref": "#/$defs/issue"},
                        {"properties": {"severity": {"const": "warning"}}},
                    ]
                },
            },
            "unit": {
                "type": "object",
                "description": "the unit: fields of the inputs (name, code, year, filled_by, "
                "filled_on), when given",
                "additionalProperties": {"type": "string"},
            },
        },
        "$defs": {"issue": _issue_schema(), "value": _value_schema()},
    }


def error_schema() -> dict[str, Any]:
    """The JSON Schema of an error, as :meth:`PerfscoreError.to_dict` writes it (and every
    command given ``-f json`` prints on failure): version
    :data:`~perfscore.errors.ERROR_FORMAT_VERSION`."""
    return {
        **_schema_head("error", ERROR_FORMAT_VERSION),
        "type": "object",
        "required": ["format", "type", "code", "message", "issues"],
        "properties": {
            "format": {"const": ERROR_FORMAT_VERSION},
            "type": {"type": "string"},
            "code": {"type": "string"},
            "message": {"type": "string"},
            "issues": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/issue"}},
        },
        "$defs": {"issue": _issue_schema()},
    }


# --------------------------------------------------------------------------- cases


def cases_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of golden-case files (``*.cases.yaml``).

    Built from the tables the loader reads (:data:`~perfscore.authoring.cases.FILE_KEYS`,
    ``CASE_KEYS``, ``EXPECT_KEYS``), so a key the loader knows is a key the schema knows.
    Ids (indicators, values, grades) are checked against the rubric by the loader only.
    """
    from perfscore.authoring.cases import CASE_KEYS, EXPECT_KEYS, FILE_KEYS, STATUSES
    from perfscore.review import FINDING_KINDS

    number = {"type": "number"}
    inputs = {"type": "object", "additionalProperties": True}
    text = {"type": "string", "minLength": 1}
    by_id = {"type": "object", "propertyNames": {"type": "string", "minLength": 1}}
    expect_types: dict[str, dict[str, Any]] = {
        "total": number,
        "grade": text,
        "scores": {**by_id, "additionalProperties": number},
        "status": {**by_id, "additionalProperties": {"enum": list(STATUSES)}},
        "values": {
            **by_id,
            "additionalProperties": {"type": ["number", "boolean", "string", "null"]},
        },
        "error": {"type": "string", "pattern": r"^[a-z_]+\.[a-z_.]+$"},
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"indicator": text, "kind": {"enum": list(FINDING_KINDS)}},
                "required": ["indicator", "kind"],
                "additionalProperties": False,
            },
        },
    }
    case_types: dict[str, dict[str, Any]] = {
        "name": text,
        "description": {"type": "string"},
        "inputs": inputs,
        "inputs_file": text,
        "expect": {"$ref": "#/$defs/Expect"},
        "tolerance": {"type": "number", "minimum": 0},
    }
    file_types: dict[str, dict[str, Any]] = {
        "rubric": text,
        "description": {"type": "string"},
        "base_inputs": inputs,
        "base_inputs_file": text,
        "cases": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Case"}},
    }

    def properties(keys: Mapping[str, str], types: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            key: {**types.get(key, {}), "description": meaning} for key, meaning in keys.items()
        }

    return {
        "$schema": DRAFT,
        "title": "perfscore golden cases",
        "description": "Golden cases (*.cases.yaml): departments' inputs and what scoring "
        "them must give. Run them with `perfscore test`.",
        "type": "object",
        "properties": properties(FILE_KEYS, file_types),
        "required": ["rubric", "cases"],
        "additionalProperties": False,
        "$defs": {
            "Case": {
                "type": "object",
                "description": "one case: a department's inputs and what scoring them gives",
                "properties": properties(CASE_KEYS, case_types),
                "required": ["name", "expect"],
                "additionalProperties": False,
            },
            "Expect": {
                "type": "object",
                "description": "what scoring must give: a result's figures, or an error",
                "properties": properties(EXPECT_KEYS, expect_types),
                "minProperties": 1,
                "additionalProperties": False,
            },
        },
    }
