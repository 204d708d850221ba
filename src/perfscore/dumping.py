"""A rubric back to data: canonical plain data, YAML and JSON text, and its content hash."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import yaml

from ._interval import Interval
from ._numbers import to_str
from .methods import dump_method

if TYPE_CHECKING:
    from .model import Indicator, Rubric

__all__ = ["canonical_data", "content_hash", "dump_rubric"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Interval):
        return value.notation()
    return value


def _indicator(node: Indicator) -> dict[str, Any]:
    data: dict[str, Any] = {"id": node.id, "name": node.name, "weight": node.weight}
    for key in ("description", "standard", "source", "not_applicable_when", "not_applicable"):
        value = getattr(node, key)
        if value is not None:
            data[key] = value
    if node.scoring is not None:
        data["scoring"] = _plain(dump_method(node.scoring))
    if node.rows is not None:
        data["rows"] = node.rows.model_dump(mode="python")
    if node.children is not None:
        data["children"] = [_indicator(c) for c in node.children]
    return data


def canonical_data(rubric: Rubric) -> dict[str, Any]:
    """The rubric as plain data in the file's shape, defaults left out, decimals exact."""
    data = rubric.model_dump(
        mode="python",
        exclude_defaults=True,
        exclude={"indicators", "grades"},
        by_alias=True,
    )
    data = {"schema_version": rubric.schema_version, **data}
    data["indicators"] = [_indicator(n) for n in rubric.indicators]
    data["grades"] = [{"name": g.name, "range": g.range.notation()} for g in rubric.grades]
    return _plain(data)  # type: ignore[no-any-return]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_str(value)
    raise TypeError(type(value).__name__)


def _hash_default(value: Any) -> Any:
    """Decimals by value: ``10.5`` and ``10.50`` are the same weight, so the same hash."""
    if isinstance(value, Decimal):
        text = to_str(value)
        return text.rstrip("0").rstrip(".") if "." in text else text
    raise TypeError(type(value).__name__)


def content_hash(rubric: Rubric, *, leave_out: Collection[str] = ()) -> str:
    """``sha256:`` of the canonical data: equal rubrics hash equal, whatever their layout.

    ``leave_out`` names top-level keys not to count (``perfscore diff`` leaves out
    ``status``: publishing a draft does not change what it scores)."""
    data = canonical_data(rubric)
    for key in leave_out:
        data.pop(key, None)
    text = json.dumps(
        data,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=_hash_default,
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = to_str(value)
    tag = "tag:yaml.org,2002:int" if "." not in text else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _represent_decimal)


def dump_rubric(rubric: Rubric, format: Literal["yaml", "json"] = "yaml") -> str:
    """The rubric as YAML (default) or JSON text that loads back equal."""
    data = canonical_data(rubric)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n"
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
