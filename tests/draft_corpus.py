"""The corpus of 评分标准 sentences (tests/data/draft/corpus.yaml) and its expected rules,
shared by the corpus test and the benchmark that prints the parsed share."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from perfscore._interval import parse_interval
from perfscore.draft.prose import (
    Band,
    BandsRule,
    CasesRule,
    ChecklistRule,
    DeductionRule,
    LevelsRule,
    ProportionalRule,
    Rule,
)

CORPUS = Path(__file__).parent / "data" / "draft" / "corpus.yaml"


@dataclass(frozen=True)
class Entry:
    text: str
    weight: Decimal
    source: str
    expect: Any


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def entries() -> list[Entry]:
    data = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [Entry(e["text"], _d(e["weight"]), e["source"], e["expect"]) for e in data["entries"]]


def signature(rule: Rule | None) -> Any:
    """A rule in the corpus's notation (checklist and case texts left out)."""
    if rule is None:
        return None
    if isinstance(rule, DeductionRule):
        out: dict[str, Any] = {"deduction": [rule.threshold, rule.direction, rule.per, rule.points]}
        if rule.counted:
            out["counted"] = True
        return out
    if isinstance(rule, BandsRule):
        return {"bands": [[b.notation(), b.points] for b in rule.bands]}
    if isinstance(rule, ChecklistRule):
        body: dict[str, Any] = {"mode": rule.mode, "points": [p for _, p in rule.items]}
        if rule.failure:
            body["failure"] = True
        return {"checklist": body}
    if isinstance(rule, ProportionalRule):
        return {"proportional": rule.full_at}
    if isinstance(rule, LevelsRule):
        return {"levels": [[n, p] for n, p in rule.levels]}
    assert isinstance(rule, CasesRule)
    return {"cases": [p for _, p in rule.cases]}


def expected(entry: Entry) -> Any:
    """The entry's expectation with its numbers as decimals and intervals normalised."""
    e = entry.expect
    if e is None:
        return None
    if "deduction" in e:
        t, direction, per, pts = e["deduction"]
        out: dict[str, Any] = {"deduction": [_d(t), direction, _d(per), _d(pts)]}
        if e.get("counted"):
            out["counted"] = True
        return out
    if "bands" in e:
        bands = []
        for notation, pts in e["bands"]:
            iv = parse_interval(notation)
            band = Band(iv.lower, iv.upper, iv.include_lower, iv.include_upper, _d(pts))
            bands.append([band.notation(), _d(pts)])
        return {"bands": bands}
    if "checklist" in e:
        c = e["checklist"]
        body: dict[str, Any] = {"mode": c["mode"], "points": [_d(p) for p in c["points"]]}
        if c.get("failure"):
            body["failure"] = True
        return {"checklist": body}
    if "proportional" in e:
        return {"proportional": _d(e["proportional"])}
    if "levels" in e:
        return {"levels": [[str(n), _d(p)] for n, p in e["levels"]]}
    return {"cases": [_d(p) for p in e["cases"]]}
