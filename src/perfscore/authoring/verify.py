"""Verify a stored result: score again and say whether it is the same, or what differs.

A result written with :meth:`~perfscore.ScoreResult.to_dict` (``perfscore score -f json``)
carries its audit record: the rubric's id, version and content hash, the version of
perfscore that computed it and a hash of the inputs it used. :func:`verify_result`
scores again, with the rubric given and the inputs given (or, without them, the inputs
the result itself records), and compares::

    verification = verify_result(json.load(f), compiled, inputs)
    verification.same          # True: the result is what this rubric gives these inputs
    verification.differences   # else: each thing that differs, recorded and recomputed

What is compared, each a ``kind`` of :class:`Difference`: ``rubric`` (id, version, content
hash), ``inputs`` (the inputs hash: the result was computed from other inputs), ``score``
(total, unrounded total, full marks, each indicator's score, weight and status),
``grade`` (grade, grade before caps, caps applied), ``explanation`` (an indicator's
explanation steps: wording or points), ``warning`` (the warnings' codes) and
``perfscore_version``, which alone does not make a result differ (a newer perfscore that
scores the same confirms it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from perfscore import i18n
from perfscore._numbers import to_str
from perfscore.engine import CompiledRubric
from perfscore.model import InputSpec
from perfscore.results import RESULT_FORMAT_VERSION

__all__ = ["KINDS", "Difference", "Verification", "verify_result"]

Kind = Literal[
    "rubric", "inputs", "score", "grade", "explanation", "warning", "perfscore_version", "record"
]
#: Every kind of difference, in the order they are reported.
KINDS: Final[tuple[Kind, ...]] = (
    "record",
    "rubric",
    "inputs",
    "score",
    "grade",
    "explanation",
    "warning",
    "perfscore_version",
)
#: Kinds that are reported but leave the result confirmed.
NOTES: Final = frozenset({"perfscore_version"})


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that differs: what (``kind``), where in the result's JSON (``path``,
    e.g. ``indicators.staff_control.score``), as recorded and as recomputed."""

    kind: Kind
    path: str
    recorded: Any
    recomputed: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "recorded": self.recorded,
            "recomputed": self.recomputed,
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of :func:`verify_result`."""

    differences: tuple[Difference, ...]
    recomputed: dict[str, Any]

    @property
    def same(self) -> bool:
        """True when nothing differs but, at most, the version of perfscore."""
        return all(d.kind in NOTES for d in self.differences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "differences": [d.to_dict() for d in self.differences],
        }


def recorded_inputs(record: Mapping[str, Any], compiled: CompiledRubric) -> dict[str, Any]:
    r"""The inputs a result records among its ``values`` (the derived values left out;
    an input recorded as ``null``, left out as it was), written so that the rubric reads
    them as it read them then: a recorded value is already converted, so a percent that
    ``accept``\ s ``fraction`` (0.95 read as 95) is given back as the fraction."""
    values = record.get("values")
    if not isinstance(values, Mapping):
        return {}
    specs = compiled.rubric.inputs
    inputs = {
        k: _as_written(specs[k], v) for k, v in values.items() if k in specs and v is not None
    }
    # A reviewer's overrides and the unit are recorded too: give them back as sections.
    overrides = {
        node["id"]: {k: v for k, v in node["override"].items() if k != "computed" and v is not None}
        for node in record.get("indicators") or ()
        if isinstance(node, Mapping) and isinstance(node.get("override"), Mapping)
    }
    if overrides:
        inputs["overrides"] = overrides
    if isinstance(record.get("unit"), Mapping):
        inputs["unit"] = dict(record["unit"])
    return inputs


def _as_written(spec: InputSpec, value: Any) -> Any:
    """``value`` as recorded (after conversion) -> a value the input reads as the same."""
    if spec.kind == "table" and spec.columns and isinstance(value, list):
        return [
            {
                k: (_as_written(spec.columns[k], v) if k in spec.columns and v is not None else v)
                for k, v in row.items()
            }
            if isinstance(row, Mapping)
            else row
            for row in value
        ]
    if spec.kind == "percent" and "fraction" in spec.accept and not isinstance(value, bool):
        try:
            return to_str(Decimal(str(value)).scaleb(-2))
        except InvalidOperation:
            return value
    return value


def verify_result(
    record: Mapping[str, Any],
    compiled: CompiledRubric,
    inputs: Mapping[str, Any] | None = None,
    *,
    source: str | None = None,
) -> Verification:
    """Score ``inputs`` (default: the inputs ``record`` holds) with ``compiled`` and
    compare with ``record``, a result's :meth:`~perfscore.ScoreResult.to_dict`.

    Raises :class:`~perfscore.errors.InputError` or
    :class:`~perfscore.errors.EvaluationError` when the inputs cannot be scored."""
    if not isinstance(record.get("rubric"), Mapping) or "total" not in record:
        wanted = "a result's JSON (perfscore score -f json)"
        return Verification((Difference("record", "", None, wanted),), {})
    written = record.get("format", 1)  # records written before the key was added are 1
    if type(written) is not int or not 1 <= written <= RESULT_FORMAT_VERSION:
        # a later format may mean something else by the same keys: not compared
        return Verification((Difference("record", "format", written, RESULT_FORMAT_VERSION),), {})
    used = dict(inputs) if inputs is not None else recorded_inputs(record, compiled)
    result = compiled.score(used, source=source)
    recomputed = result.to_dict()
    differences = list(_compare(record, recomputed))
    if any(d.kind == "explanation" for d in differences):
        # Explanations are written in a language (--lang): a record written in another
        # one is compared with explanations recomputed in that language.
        for lang in i18n.LANGS:
            with i18n.use_lang(lang):
                again = compiled.score(used, source=source).to_dict()
            found = list(_compare(record, again))
            if not any(d.kind == "explanation" for d in found):
                recomputed, differences = again, found
                break
    order = {kind: i for i, kind in enumerate(KINDS)}
    differences.sort(key=lambda d: order[d.kind])
    return Verification(tuple(differences), recomputed)


_SCORES: Final = ("total", "unrounded_total", "max_total")
_GRADES: Final = ("grade", "grade_before_caps", "grade_caps")
_NODE_FIELDS: Final = ("score", "weight", "effective_weight", "status")


def _compare(record: Mapping[str, Any], new: dict[str, Any]) -> Iterator[Difference]:
    for key in ("id", "version", "hash"):
        old_value = record["rubric"].get(key)
        if old_value != new["rubric"][key]:
            yield Difference("rubric", f"rubric.{key}", old_value, new["rubric"][key])
    if record.get("inputs_hash") != new["inputs_hash"]:
        yield Difference("inputs", "inputs_hash", record.get("inputs_hash"), new["inputs_hash"])
    for key in _SCORES:
        if record.get(key) != new[key]:
            yield Difference("score", key, record.get(key), new[key])
    for key in _GRADES:
        if record.get(key) != new[key]:
            yield Difference("grade", key, record.get(key), new[key])
    old_nodes = {n.get("id"): n for n in record.get("indicators") or () if isinstance(n, Mapping)}
    new_nodes = {n["id"]: n for n in new["indicators"]}
    for node_id in [*new_nodes, *(i for i in old_nodes if i not in new_nodes)]:
        old_node, new_node = old_nodes.get(node_id), new_nodes.get(node_id)
        if old_node is None or new_node is None:
            yield Difference(
                "score",
                f"indicators.{node_id}",
                None if old_node is None else old_node.get("score"),
                None if new_node is None else new_node["score"],
            )
            continue
        for key in _NODE_FIELDS:
            if old_node.get(key) != new_node[key]:
                yield Difference(
                    "score", f"indicators.{node_id}.{key}", old_node.get(key), new_node[key]
                )
        if "explanation" in old_node:  # a result written without explanations has none
            old_steps = _steps(old_node.get("explanation"))
            new_steps = _steps(new_node.get("explanation"))
            if old_steps != new_steps:
                yield Difference(
                    "explanation", f"indicators.{node_id}.explanation", old_steps, new_steps
                )
    old_warnings = [w.get("code") for w in record.get("warnings") or () if isinstance(w, Mapping)]
    new_warnings = [w["code"] for w in new["warnings"]]
    if old_warnings != new_warnings:
        yield Difference("warning", "warnings", old_warnings, new_warnings)
    if record.get("perfscore_version") != new["perfscore_version"]:
        yield Difference(
            "perfscore_version",
            "perfscore_version",
            record.get("perfscore_version"),
            new["perfscore_version"],
        )


def _steps(explanation: Any) -> list[Any]:
    """An explanation's steps as compared: each step's kind, text and points."""
    if not isinstance(explanation, Mapping):
        return []
    steps = explanation.get("steps") or []
    return [dict(s) if isinstance(s, Mapping) else s for s in steps]
