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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any, Final

from ._numbers import ZERO, to_str
from ._submission import Claims
from .results import IndicatorResult, ScoreResult, Status

__all__ = ["FINDING_KINDS", "Finding", "ReviewPlan", "ReviewResult", "review_result"]

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
            "warnings": [w.to_dict(severity="warning") for w in self.result.warnings],
        }


def explanation_text(node: IndicatorResult) -> str:
    """The steps of a node's explanation as one line, as a 扣分说明 cell would read."""
    if node.explanation is None:
        return ""
    return "；".join(step.text for step in node.explanation.steps if step.text)


@dataclass(frozen=True, eq=False)
class ReviewPlan:
    """The indicator tree as a review reads it, in document order (parents first): ids,
    names, declared weights, each node's children (positions) and the top-level nodes.
    The same for every department of a rubric without row groups, so made once."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    weights: tuple[Decimal, ...]
    children: tuple[tuple[int, ...], ...]
    tops: tuple[int, ...]
    index: Mapping[str, int]

    @cached_property
    def leaves(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.children) if not c)

    @cached_property
    def branches(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.children) if c)

    @cached_property
    def pick_leaves(self) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """A function taking the leaves' entries out of a sequence in the plan's order."""
        leaves = self.leaves
        if len(leaves) == 1:
            only = leaves[0]
            return lambda values: (values[only],)
        return itemgetter(*leaves)  # a tuple for 2 or more

    @cached_property
    def branch_ids(self) -> frozenset[str]:
        return frozenset(self.ids[i] for i in self.branches)

    @cached_property
    def branches_last_first(self) -> tuple[int, ...]:
        return self.branches[::-1]

    @classmethod
    def of(cls, nodes: Sequence[IndicatorResult]) -> ReviewPlan:
        ids = tuple(n.id for n in nodes)
        index = {node_id: i for i, node_id in enumerate(ids)}
        return cls(
            ids=ids,
            names=tuple(n.name for n in nodes),
            weights=tuple(n.weight for n in nodes),
            children=tuple(tuple(index[c] for c in n.children) for n in nodes),
            tops=tuple(i for i, n in enumerate(nodes) if n.parent is None),
            index=index,
        )


def review_result(
    result: ScoreResult,
    claims: Claims,
    *,
    grade_of: Callable[[Decimal], str | None],
    tolerance: Decimal = ZERO,
    explain: Callable[[str], str] | None = None,
    plan: ReviewPlan | None = None,
    scores: Sequence[Decimal] | None = None,
) -> ReviewResult:
    """Compare ``claims`` with ``result``; ``grade_of`` names the grade band of a total.

    A finding about an indicator carries its explanation: ``explain(indicator_id)`` when
    given (called only for findings), else the one ``result`` holds. ``plan`` and
    ``scores`` (every node's score, in the plan's order) may be given for a result in
    which nothing was not applicable; they spare building the result's nodes.
    """
    if plan is None or scores is None:
        nodes = result.indicators
        plan = ReviewPlan.of(nodes)
        scores = tuple(n.score for n in nodes)
        effective: Sequence[Decimal] = tuple(n.effective_weight for n in nodes)
        dropped = frozenset(
            i
            for i, n in enumerate(nodes)
            if n.status is Status.NOT_APPLICABLE and n.effective_weight == 0
        )
    else:
        effective, dropped = plan.weights, frozenset()
    ids, names, children = plan.ids, plan.names, plan.children
    claimed = claims.scores
    findings: list[Finding] = []

    def add(i: int | None, indicator: str, kind: str, **fields: Any) -> None:
        if "explanation" not in fields:
            if i is None:
                fields["explanation"] = ""
            elif explain is not None:
                fields["explanation"] = explain(ids[i])
            else:
                fields["explanation"] = explanation_text(result[ids[i]])
        findings.append(Finding(indicator, kind, name=None if i is None else names[i], **fields))

    # The claim of a node as the department's table adds it up: its own claim, or the
    # sum of its children's when it has none and some child has one (children come
    # after their parent, so one pass from the end settles every node).
    get = claimed.get
    claim_of = list(map(get, ids))
    branch_claims = not plan.branch_ids.isdisjoint(claimed)
    tables: list[list[Decimal | None]] = []

    def table() -> list[Decimal | None]:
        if not tables:
            values = list(claim_of)
            for i in plan.branches_last_first:
                if values[i] is None:
                    known = [v for k in children[i] if (v := values[k]) is not None]
                    if known:
                        values[i] = sum(known, ZERO)
            tables.append(values)
        return tables[0]

    pick = plan.pick_leaves
    leaf_claims = pick(claim_of)

    def children_sum(of: Sequence[int]) -> Decimal | None:
        if of is plan.tops and not branch_claims:  # every leaf claim, once each
            # (``is``, not ``in``: comparing None with a Decimal asks the number ABCs)
            known = [v for v in leaf_claims if v is not None]
        else:
            values = table()
            known = [v for k in of if (v := values[k]) is not None]
        return sum(known, ZERO) if known else None

    def sum_text(of: Sequence[int], total: Decimal) -> str:
        values = table()
        parts = [to_str(v) for k in of if (v := values[k]) is not None]
        return " + ".join(parts) + f" = {to_str(total)}"

    # With no branch claimed (the common case), only the leaves whose claim is not the
    # computed score need a look.
    rows: Sequence[int]
    if branch_claims:
        rows = range(len(ids))
    else:
        leaf_scores = pick(scores)
        if leaf_claims == leaf_scores:
            rows = ()
        else:
            rows = [
                i for i, a, b in zip(plan.leaves, leaf_claims, leaf_scores, strict=True) if a != b
            ]
    for i in rows:
        claim = claim_of[i]
        score = scores[i]
        leaf = not children[i]
        if leaf and claim == score:  # an honest row: nothing to say
            continue
        if claim is None:
            if leaf and i not in dropped:
                add(i, ids[i], "missing_claim", claimed=None, computed=score)
            continue
        if leaf and 0 <= claim <= effective[i]:
            difference = claim - score
            if difference > tolerance or -difference > tolerance:
                _compare(add, i, ids[i], claim, score, tolerance)
            continue
        if claim < 0:
            add(i, ids[i], "claim_negative", claimed=claim, computed=score,
                difference=claim - score)  # fmt: skip
        elif claim > effective[i]:
            add(i, ids[i], "claim_above_weight", claimed=claim, computed=score,
                difference=claim - score)  # fmt: skip
        if leaf:
            _compare(add, i, ids[i], claim, score, tolerance)
        else:
            total = children_sum(children[i])
            if total is not None and abs(claim - total) > tolerance:
                add(i, ids[i], "subtotal_mismatch", claimed=claim, computed=total,
                    difference=claim - total,
                    explanation=sum_text(children[i], total))  # fmt: skip
    if not plan.index.keys() >= claimed.keys():
        for key in claimed:
            if key not in plan.index:
                add(None, key, "unknown_indicator", claimed=claimed[key], computed=None)

    tops = plan.tops
    claimed_total = claims.total
    if claimed_total is not None:
        total = children_sum(tops)
        if total is not None and abs(claimed_total - total) > tolerance:
            add(None, TOTAL, "subtotal_mismatch", claimed=claimed_total, computed=total,
                difference=claimed_total - total,
                explanation=sum_text(tops, total))  # fmt: skip
        _compare(add, None, TOTAL, claimed_total, result.total, tolerance)
    if claims.grade is not None:
        basis = claimed_total if claimed_total is not None else children_sum(tops)
        band = grade_of(basis) if basis is not None else None
        if basis is not None and band is not None and claims.grade != band:
            add(None, GRADE, "grade_mismatch", claimed=claims.grade, computed=band,
                explanation=f"{to_str(basis)} → {band}")  # fmt: skip
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    # Made without running the frozen __init__ (a review is made per department).
    review = object.__new__(ReviewResult)
    review.__dict__.update(
        result=result,
        claims=claims,
        findings=tuple(findings),
        claimed_total=claimed_total,
        claimed_grade=claims.grade,
        tolerance=tolerance,
        counts={kind: counts[kind] for kind in FINDING_KINDS if kind in counts} if counts else {},
    )
    return review


def _compare(
    add: Callable[..., None],
    i: int | None,
    indicator: str,
    claim: Decimal,
    computed: Decimal,
    tolerance: Decimal,
) -> None:
    difference = claim - computed
    if difference > tolerance:
        add(i, indicator, "over_claimed", claimed=claim, computed=computed,
            difference=difference)  # fmt: skip
    elif -difference > tolerance:
        add(i, indicator, "under_claimed", claimed=claim, computed=computed,
            difference=difference)  # fmt: skip
