"""Review a department's self-evaluation (复核): its claimed scores against the rubric.

A department sends its figures and the score it gave itself on every indicator, its
total and its grade. :meth:`perfscore.CompiledRubric.review` scores the figures and
:func:`review_result` compares, producing a :class:`ReviewResult` whose findings each have
a kind:

=====================  =================================================================
``over_claimed``       the claim is above the computed score (beyond the tolerance)
``under_claimed``      the claim is below the computed score
``claim_above_weight`` the claim is above the indicator's weight
``claim_negative``     the claim is below zero
``missing_claim``      a leaf has no claim
``unknown_indicator``  a claim names an indicator the rubric does not have
``subtotal_mismatch``  a claimed branch or total is not the sum of its claimed children
``grade_mismatch``     the claimed grade is not the band of the claimed total
=====================  =================================================================

The total is compared as the indicator ``total`` and the grade as ``grade``. The
computed score of a leaf is the one that counts: a reviewer's override when there is one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from ._numbers import ZERO, to_str
from ._submission import Claims
from .results import IndicatorResult, ScoreResult, Status

__all__ = ["FINDING_KINDS", "Finding", "ReviewResult", "review_result"]

#: Every kind of finding, in the order a report lists them.
FINDING_KINDS: Final = (
    "over_claimed",
    "under_claimed",
    "claim_above_weight",
    "claim_negative",
    "missing_claim",
    "unknown_indicator",
    "subtotal_mismatch",
    "grade_mismatch",
)
#: The ``indicator`` of a finding about the total, and about the grade.
TOTAL: Final = "total"
GRADE: Final = "grade"


@dataclass(frozen=True)
class Finding:
    """One place where a claim departs from the rubric or from the claims themselves.

    ``claimed`` and ``computed`` are scores (text for a grade); ``difference`` is
    ``claimed - computed`` when both are numbers; ``explanation`` is the engine's account
    of the computed score, or for an arithmetic finding the sum it checked.
    """

    indicator: str
    kind: str
    claimed: Decimal | str | None
    computed: Decimal | str | None
    difference: Decimal | None = None
    explanation: str = ""
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "kind": self.kind,
            "claimed": _text(self.claimed),
            "computed": _text(self.computed),
            "difference": _text(self.difference),
            "explanation": self.explanation,
        }


def _text(value: Decimal | str | None) -> str | None:
    return to_str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class ReviewResult:
    """A department's self-evaluation, reviewed: the result of scoring its figures, its
    claims, and the findings, in the rubric's order (the total and grade last).

    ``discrepancy`` is the points the leaves' claims are off by, added up without sign:
    the size a population review sorts departments by.
    """

    result: ScoreResult
    claims: Claims
    findings: tuple[Finding, ...]
    claimed_total: Decimal | None
    claimed_grade: str | None
    tolerance: Decimal = ZERO
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def computed_total(self) -> Decimal:
        return self.result.total

    @property
    def computed_grade(self) -> str:
        return self.result.grade

    @property
    def unit(self) -> Mapping[str, str] | None:
        return self.result.unit

    @property
    def discrepancy(self) -> Decimal:
        return sum(
            (
                abs(f.difference)
                for f in self.findings
                if f.difference is not None
                and f.kind in ("over_claimed", "under_claimed")
                and f.indicator != TOTAL
            ),
            ZERO,
        )

    def by_kind(self, kind: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; decimals as strings."""
        return {
            "rubric": {
                "id": self.result.rubric_id,
                "version": self.result.rubric_version,
                "hash": self.result.rubric_hash,
            },
            "unit": dict(self.result.unit or {}),
            "claimed_total": _text(self.claimed_total),
            "computed_total": to_str(self.computed_total),
            "claimed_grade": self.claimed_grade,
            "computed_grade": self.computed_grade,
            "tolerance": to_str(self.tolerance),
            "discrepancy": to_str(self.discrepancy),
            "counts": dict(self.counts),
            "findings": [f.to_dict() for f in self.findings],
            "indicators": [
                {
                    "indicator": node.id,
                    "name": node.name,
                    "weight": to_str(node.weight),
                    "claimed": _text(self.claims.scores.get(node.id)),
                    "computed": to_str(node.score),
                    "override": node.override.to_dict() if node.override else None,
                }
                for node in self.result.indicators
            ],
            "warnings": [
                {"code": w.code, "message": w.message, "hint": w.hint} for w in self.result.warnings
            ],
        }


def explanation_text(node: IndicatorResult) -> str:
    """The steps of a node's explanation as one line, as a 扣分说明 cell would read."""
    if node.explanation is None:
        return ""
    return "；".join(step.text for step in node.explanation.steps if step.text)


def review_result(
    result: ScoreResult,
    claims: Claims,
    *,
    grade_of: Callable[[Decimal], str | None],
    tolerance: Decimal = ZERO,
    explain: Callable[[str], str] | None = None,
) -> ReviewResult:
    """Compare ``claims`` with ``result``; ``grade_of`` names the grade band of a total.

    A finding about an indicator carries its explanation: ``explain(indicator_id)`` when
    given (called only for findings), else the one ``result`` holds.
    """
    nodes = {node.id: node for node in result.indicators}
    claimed = claims.scores
    findings: list[Finding] = []

    def add(node: IndicatorResult | None, indicator: str, kind: str, **fields: Any) -> None:
        if "explanation" not in fields:
            if node is None:
                fields["explanation"] = ""
            else:
                fields["explanation"] = (
                    explain(node.id) if explain is not None else explanation_text(node)
                )
        findings.append(Finding(indicator, kind, name=node.name if node else None, **fields))

    # The claim of a node as the department's table adds it up: its own claim, or the
    # sum of its children's when it has none and some child has one.
    memo: dict[str, Decimal | None] = {}

    def table_value(node_id: str) -> Decimal | None:
        if node_id in memo:
            return memo[node_id]
        value = claimed.get(node_id)
        if value is None:
            parts = [table_value(c) for c in nodes[node_id].children]
            known = [p for p in parts if p is not None]
            value = sum(known, ZERO) if known else None
        memo[node_id] = value
        return value

    def children_sum(children: tuple[str, ...]) -> Decimal | None:
        parts = [table_value(c) for c in children]
        known = [p for p in parts if p is not None]
        return sum(known, ZERO) if known else None

    for node in result.indicators:
        claim = claimed.get(node.id)
        dropped = node.status is Status.NOT_APPLICABLE and node.effective_weight == 0
        if claim is None:
            if node.is_leaf and not dropped:
                add(node, node.id, "missing_claim", claimed=None, computed=node.score)
            continue
        if claim < 0:
            add(node, node.id, "claim_negative", claimed=claim, computed=node.score,
                difference=claim - node.score)  # fmt: skip
        elif claim > node.effective_weight:
            add(node, node.id, "claim_above_weight", claimed=claim, computed=node.score,
                difference=claim - node.score)  # fmt: skip
        if node.is_leaf:
            _compare(add, node, node.id, claim, node.score, tolerance)
        else:
            total = children_sum(node.children)
            if total is not None and abs(claim - total) > tolerance:
                add(node, node.id, "subtotal_mismatch", claimed=claim, computed=total,
                    difference=claim - total,
                    explanation=_sum_text(node.children, table_value, total))  # fmt: skip
    for key in claimed:
        if key not in nodes:
            add(None, key, "unknown_indicator", claimed=claimed[key], computed=None)

    tops = tuple(node.id for node in result.indicators if node.parent is None)
    claimed_total = claims.total
    if claimed_total is not None:
        total = children_sum(tops)
        if total is not None and abs(claimed_total - total) > tolerance:
            add(None, TOTAL, "subtotal_mismatch", claimed=claimed_total, computed=total,
                difference=claimed_total - total,
                explanation=_sum_text(tops, table_value, total))  # fmt: skip
        _compare(add, None, TOTAL, claimed_total, result.total, tolerance)
    if claims.grade is not None:
        basis = claimed_total if claimed_total is not None else children_sum(tops)
        band = grade_of(basis) if basis is not None else None
        if basis is not None and band is not None and claims.grade != band:
            add(None, GRADE, "grade_mismatch", claimed=claims.grade, computed=band,
                explanation=f"{to_str(basis)} → {band}")  # fmt: skip
    counts = Counter(f.kind for f in findings)
    return ReviewResult(
        result=result,
        claims=claims,
        findings=tuple(findings),
        claimed_total=claimed_total,
        claimed_grade=claims.grade,
        tolerance=tolerance,
        counts={kind: counts[kind] for kind in FINDING_KINDS if counts[kind]},
    )


def _compare(
    add: Callable[..., None],
    node: IndicatorResult | None,
    indicator: str,
    claim: Decimal,
    computed: Decimal,
    tolerance: Decimal,
) -> None:
    difference = claim - computed
    if difference > tolerance:
        add(node, indicator, "over_claimed", claimed=claim, computed=computed,
            difference=difference)  # fmt: skip
    elif -difference > tolerance:
        add(node, indicator, "under_claimed", claimed=claim, computed=computed,
            difference=difference)  # fmt: skip


def _sum_text(
    children: tuple[str, ...], value: Callable[[str], Decimal | None], total: Decimal
) -> str:
    parts = [to_str(v) for c in children if (v := value(c)) is not None]
    return " + ".join(parts) + f" = {to_str(total)}"
