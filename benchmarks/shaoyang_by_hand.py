"""The Shaoyang 2023 rubric written by hand as one Decimal function: the floor.

This is what a careful programmer would write for this one table without perfscore:
plain Decimal arithmetic, the same rounding, no input checking, no explanations. The
benchmark checks that it agrees with perfscore on every department before timing it.
Departments with a not-applicable leaf are outside it (the generated population has none).
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

D = Decimal
Q = D("0.01")
ZERO, ONE, HUNDRED = D(0), D(1), D(100)
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=99_999, Emin=-99_999)
LEVEL = {"好": D(1), "较好": D("0.8"), "一般": D("0.6"), "差": ZERO}


def _r(x: Decimal) -> Decimal:
    return x.quantize(Q, ROUND_HALF_UP)


def _over(x: Decimal, threshold: Decimal, per: Decimal, points: Decimal, w: Decimal) -> Decimal:
    gap = x - threshold
    return w if gap <= 0 else max(ZERO, w - (gap // per) * points)


def _under(x: Decimal, threshold: Decimal, per: Decimal, points: Decimal, w: Decimal) -> Decimal:
    gap = threshold - x
    return w if gap <= 0 else max(ZERO, w - (gap // per) * points)


def _prop(x: Decimal, w: Decimal) -> Decimal:
    return w if x >= HUNDRED else ZERO if x <= 0 else w * x / HUNDRED


def score(v: dict[str, Any]) -> tuple[Decimal, str]:
    with decimal.localcontext(CONTEXT):
        # derived values, percentages rounded half-up to 2 places
        staff = _r(v["staff_actual"] / v["staff_authorized"] * HUNDRED)
        sb_last, sb_this, sa_this = (
            v["sangong_budget_last"],
            v["sangong_budget_this"],
            v["sangong_actual_this"],
        )
        change = _r(
            ((sb_this - sb_last) / sb_last if sb_last > 0 else (ZERO if sb_this == 0 else ONE))
            * HUNDRED
        )
        key = _r(v["key_project_spend"] / v["project_spend_total"] * HUNDRED)
        completion = _r(v["spend_total"] / v["budget_final"] * HUNDRED)
        adjust = _r(abs(v["budget_adjustment"]) / v["budget_initial"] * HUNDRED)
        public = _r(v["public_funds_actual"] / v["public_funds_budget"] * HUNDRED)
        sangong = _r(
            (sa_this / sb_this if sb_this > 0 else (ZERO if sa_this == 0 else D(2))) * HUNDRED
        )
        pb = v["procurement_budget"]
        procurement = _r((v["procurement_actual"] / pb if pb > 0 else ZERO) * HUNDRED)
        assets = _r(v["fixed_assets_in_use"] / v["fixed_assets_total"] * HUNDRED)
        done = v["tasks_done"]
        rate_done = _r(done / v["tasks_planned"] * HUNDRED)
        on_time = _r(v["tasks_on_time"] / done * HUNDRED) if done else ZERO
        quality = _r(v["tasks_quality_ok"] / done * HUNDRED) if done else ZERO
        key_tasks = _r(v["key_tasks_done"] / v["key_tasks_planned"] * HUNDRED)

        s = []
        # 投入
        s.append(
            _r(
                (ONE if v["goal_lawful"] else ZERO)
                + (D("0.5") if v["goal_duty"] else ZERO)
                + (D("0.5") if v["goal_plan"] else ZERO)
            )
        )
        missing = sum(
            not v[k]
            for k in ("ind_decomposed", "ind_measurable", "ind_match_tasks", "ind_match_budget")
        )
        s.append(_r(max(ZERO, D(3) - missing)))
        s.append(_r(_over(staff, HUNDRED, ONE, D("0.5"), D(3))))
        s.append(_r(_over(change, ZERO, ONE, D("0.5"), D(3))))
        s.append(
            D(4)
            if key >= 90
            else D(3)
            if key >= 80
            else D(2)
            if key >= 70
            else ONE
            if key >= 60
            else ZERO
        )
        # 过程
        s.append(_r(_under(completion, HUNDRED, D(5), D(2), D(4))))
        s.append(
            D(3)
            if adjust == 0
            else D(2)
            if adjust <= 10
            else ONE
            if adjust <= 20
            else D("0.5")
            if adjust <= 30
            else ZERO
        )
        s.append(_r(_over(v["special_funds_late"], ZERO, ONE, D("0.5"), D(3))))
        c_this, c_last = v["carryover_this"], v["carryover_last"]
        s.append(D(3) if c_this == 0 else D(2) if c_this <= c_last else ZERO)
        s.append(_r(_over(public, HUNDRED, ONE, D("0.2"), D(2))))
        s.append(_r(_over(sangong, HUNDRED, ONE, ONE, D(6))))
        s.append(_r(_prop(procurement, D(2))))
        s.append(
            _r(sum((ONE for k in ("rules_exist", "rules_lawful", "rules_executed") if v[k]), ZERO))
        )
        s.append(_r(_over(v["noncompliant_cases"], ZERO, ONE, ONE, D(3))))
        s.append(
            _r(
                (ONE if v["budget_disclosed"] else ZERO)
                + (ONE if v["final_accounts_disclosed"] else ZERO)
                + (D("0.5") if v["disclosure_on_time"] else ZERO)
                + (D("0.5") if v["disclosure_complete"] else ZERO)
            )
        )
        bad = sum(
            not v[k] for k in ("basic_data_true", "basic_data_complete", "basic_data_accurate")
        )
        s.append(_r(max(ZERO, D(2) - bad)))
        s.append(
            _r(
                (ONE if v["asset_rules_exist"] else ZERO)
                + (D("0.5") if v["asset_rules_lawful"] else ZERO)
                + (D("0.5") if v["asset_rules_executed"] else ZERO)
            )
        )
        unsafe = sum(
            not v[k]
            for k in (
                "asset_kept_intact",
                "asset_allocation_reasonable",
                "asset_disposal_compliant",
                "asset_accounts_match",
                "asset_income_remitted",
            )
        )
        s.append(_r(max(ZERO, D(2) - D("0.5") * unsafe)))
        s.append(_r(_under(assets, D(95), ONE, D("0.2"), D(2))))
        # 产出
        s.append(_r(_prop(rate_done, D(7))))
        s.append(_r(_prop(on_time, D(6))))
        s.append(_r(_prop(quality, D(6))))
        s.append(_r(_prop(key_tasks, D(6))))
        # 效果
        s.append(_r(D(3) * LEVEL[v["economic_benefit"]]))
        s.append(_r(D(8) * LEVEL[v["social_benefit"]]))
        s.append(_r(D(3) * LEVEL[v["ecological_benefit"]]))
        s.append(_r(_under(v["satisfaction"], D(90), ONE, D("0.2"), D(6))))

        total = sum(s, ZERO)
        grade = (
            "优秀" if total > 90 else "良好" if total >= 80 else "合格" if total >= 60 else "不合格"
        )
        return _r(total), grade


# ----------------------------------------------------------------------------- realistic
# The same table for real populations: optional inputs may be None (经济效益, 生态效益,
# 满意度 not assessed), and leaves are not applicable as the rubric says (三公 and
# procurement with neither budget nor spending, no project spending, no fixed assets):
# full marks, the weight moved to the siblings (largest remainder to two places), or the
# whole table rescaled. Written by hand for this table, the moved weights kept per pattern.

WEIGHTS = tuple(
    D(w) for w in (2, 3, 3, 3, 4, 4, 3, 3, 3, 2, 6, 2, 3, 3, 3, 2, 2, 2, 2, 7, 6, 6, 6, 3, 8, 3, 6)
)
ECONOMIC, ECOLOGICAL, SATISFACTION = 23, 25, 26
_MOVED: dict[tuple[bool, bool, bool], tuple[Decimal, ...]] = {}


def _moved(economic: bool, ecological: bool, satisfaction: bool) -> tuple[Decimal, ...]:
    """Every leaf's weight when 经济效益, 生态效益 (to their siblings) or 满意度 (rescaled)
    are not applicable; a leaf not applicable keeps 0."""
    key = (economic, ecological, satisfaction)
    cached = _MOVED.get(key)
    if cached is not None:
        return cached
    with decimal.localcontext(CONTEXT):
        exact = list(WEIGHTS)
        kept = (
            D(8)
            + (ZERO if economic else D(3))
            + (ZERO if ecological else D(3))
            + (ZERO if satisfaction else D(6))
        )
        moved = (D(3) if economic else ZERO) + (D(3) if ecological else ZERO)
        for i in (ECONOMIC, 24, ECOLOGICAL, SATISFACTION):
            exact[i] = WEIGHTS[i] * (kept + moved) / kept
        off = {i for i, na in zip((ECONOMIC, ECOLOGICAL, SATISFACTION), key, strict=True) if na}
        pool = D(6) if satisfaction else ZERO
        present = [i for i in range(len(WEIGHTS)) if i not in off]
        shares = [exact[i] * HUNDRED / (HUNDRED - pool) for i in present]
        # largest remainder: floor to 0.01, the missing cents to the largest remainders
        floors = [(s / Q).to_integral_value(rounding=decimal.ROUND_FLOOR) for s in shares]
        missing = int((sum(shares, ZERO) / Q).to_integral_value(ROUND_HALF_UP) - sum(floors))
        order = sorted(range(len(shares)), key=lambda k: (-(shares[k] / Q - floors[k]), k))
        for k in order[:missing]:
            floors[k] += 1
        weights = [ZERO] * len(WEIGHTS)
        for i, f in zip(present, floors, strict=True):
            weights[i] = (f * Q).quantize(Q)
    _MOVED[key] = out = tuple(weights)
    return out


def score_realistic(v: dict[str, Any]) -> tuple[Decimal, str]:
    with decimal.localcontext(CONTEXT):
        g = v.get
        staff = _r(v["staff_actual"] / v["staff_authorized"] * HUNDRED)
        sb_last, sb_this, sa_this = (
            v["sangong_budget_last"],
            v["sangong_budget_this"],
            v["sangong_actual_this"],
        )
        pst = v["project_spend_total"]
        completion = _r(v["spend_total"] / v["budget_final"] * HUNDRED)
        adjust = _r(abs(v["budget_adjustment"]) / v["budget_initial"] * HUNDRED)
        public = _r(v["public_funds_actual"] / v["public_funds_budget"] * HUNDRED)
        pb, pa = v["procurement_budget"], v["procurement_actual"]
        fat = v["fixed_assets_total"]
        done = v["tasks_done"]
        rate_done = _r(done / v["tasks_planned"] * HUNDRED)
        on_time = _r(v["tasks_on_time"] / done * HUNDRED) if done else ZERO
        quality = _r(v["tasks_quality_ok"] / done * HUNDRED) if done else ZERO
        key_tasks = _r(v["key_tasks_done"] / v["key_tasks_planned"] * HUNDRED)
        economic, ecological, satisfaction = (
            g("economic_benefit"),
            g("ecological_benefit"),
            g("satisfaction"),
        )

        s: list[Decimal | None] = []  # None: full marks (not applicable)
        s.append(
            _r(
                (ONE if v["goal_lawful"] else ZERO)
                + (D("0.5") if v["goal_duty"] else ZERO)
                + (D("0.5") if v["goal_plan"] else ZERO)
            )
        )
        missing = sum(
            not v[k]
            for k in ("ind_decomposed", "ind_measurable", "ind_match_tasks", "ind_match_budget")
        )
        s.append(_r(max(ZERO, D(3) - missing)))
        s.append(_r(_over(staff, HUNDRED, ONE, D("0.5"), D(3))))
        if sb_last == 0 and sb_this == 0:
            s.append(None)
        else:
            change = _r(((sb_this - sb_last) / sb_last if sb_last > 0 else ONE) * HUNDRED)
            s.append(_r(_over(change, ZERO, ONE, D("0.5"), D(3))))
        if pst == 0:
            s.append(None)
        else:
            key = _r(v["key_project_spend"] / pst * HUNDRED)
            s.append(
                D(4)
                if key >= 90
                else D(3)
                if key >= 80
                else D(2)
                if key >= 70
                else ONE
                if key >= 60
                else ZERO
            )
        s.append(_r(_under(completion, HUNDRED, D(5), D(2), D(4))))
        s.append(
            D(3)
            if adjust == 0
            else D(2)
            if adjust <= 10
            else ONE
            if adjust <= 20
            else D("0.5")
            if adjust <= 30
            else ZERO
        )
        s.append(_r(_over(v["special_funds_late"], ZERO, ONE, D("0.5"), D(3))))
        c_this, c_last = v["carryover_this"], v["carryover_last"]
        s.append(D(3) if c_this == 0 else D(2) if c_this <= c_last else ZERO)
        s.append(_r(_over(public, HUNDRED, ONE, D("0.2"), D(2))))
        if sb_this == 0 and sa_this == 0:
            s.append(None)
        else:
            sangong = _r((sa_this / sb_this if sb_this > 0 else D(2)) * HUNDRED)
            s.append(_r(_over(sangong, HUNDRED, ONE, ONE, D(6))))
        if pb == 0 and pa == 0:
            s.append(None)
        else:
            s.append(_r(_prop(_r((pa / pb if pb > 0 else ZERO) * HUNDRED), D(2))))
        s.append(
            _r(sum((ONE for k in ("rules_exist", "rules_lawful", "rules_executed") if v[k]), ZERO))
        )
        s.append(_r(_over(v["noncompliant_cases"], ZERO, ONE, ONE, D(3))))
        s.append(
            _r(
                (ONE if v["budget_disclosed"] else ZERO)
                + (ONE if v["final_accounts_disclosed"] else ZERO)
                + (D("0.5") if v["disclosure_on_time"] else ZERO)
                + (D("0.5") if v["disclosure_complete"] else ZERO)
            )
        )
        bad = sum(
            not v[k] for k in ("basic_data_true", "basic_data_complete", "basic_data_accurate")
        )
        s.append(_r(max(ZERO, D(2) - bad)))
        s.append(
            _r(
                (ONE if v["asset_rules_exist"] else ZERO)
                + (D("0.5") if v["asset_rules_lawful"] else ZERO)
                + (D("0.5") if v["asset_rules_executed"] else ZERO)
            )
        )
        unsafe = sum(
            not v[k]
            for k in (
                "asset_kept_intact",
                "asset_allocation_reasonable",
                "asset_disposal_compliant",
                "asset_accounts_match",
                "asset_income_remitted",
            )
        )
        s.append(_r(max(ZERO, D(2) - D("0.5") * unsafe)))
        if fat == 0:
            s.append(None)
        else:
            assets = _r(v["fixed_assets_in_use"] / fat * HUNDRED)
            s.append(_r(_under(assets, D(95), ONE, D("0.2"), D(2))))
        s.append(_r(_prop(rate_done, D(7))))
        s.append(_r(_prop(on_time, D(6))))
        s.append(_r(_prop(quality, D(6))))
        s.append(_r(_prop(key_tasks, D(6))))
        s.append(ZERO if economic is None else _r(D(3) * LEVEL[economic]))
        s.append(_r(D(8) * LEVEL[v["social_benefit"]]))
        s.append(ZERO if ecological is None else _r(D(3) * LEVEL[ecological]))
        s.append(
            ZERO if satisfaction is None else _r(_under(satisfaction, D(90), ONE, D("0.2"), D(6)))
        )

        if economic is None or ecological is None or satisfaction is None:
            weights = _moved(economic is None, ecological is None, satisfaction is None)
            total = ZERO
            for x, w, eff in zip(s, WEIGHTS, weights, strict=True):
                total += eff if x is None else x if eff == w else _r(x * eff / w)
        else:
            total = sum((w if x is None else x for x, w in zip(s, WEIGHTS, strict=True)), ZERO)
        grade = (
            "优秀" if total > 90 else "良好" if total >= 80 else "合格" if total >= 60 else "不合格"
        )
        return _r(total), grade
