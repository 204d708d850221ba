"""Readable snake_case ids for Chinese indicator and input names.

Words of the national menu and of local tables are translated from a small glossary, the
longest match first ("在职人员控制率" → ``staff_control_rate``); characters the glossary does
not know are left out. A name with no known word gets its parent's id and a number.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["IdMaker", "slug"]

_GLOSSARY: Final[dict[str, str]] = {
    "投入": "input",
    "过程": "process",
    "产出": "output",
    "效果": "outcome",
    "效益": "benefit",
    "决策": "decision",
    "管理": "management",
    "绩效": "performance",
    "目标": "goal",
    "设定": "setting",
    "合理性": "soundness",
    "明确性": "clarity",
    "指标": "indicator",
    "预算": "budget",
    "配置": "allocation",
    "执行": "execution",
    "在职人员": "staff",
    "财政供养人员": "funded_staff",
    "在职人数": "staff",
    "在职": "staff",
    "人数": "count",
    "人员": "staff",
    "编制": "posts",
    "控制率": "control_rate",
    "控制": "control",
    "三公经费": "sangong",
    "三公": "sangong",
    "变动率": "change_rate",
    "变动": "change",
    "重点支出": "key_spend",
    "重点项目": "key_project",
    "重点工作": "key_tasks",
    "重点": "key",
    "安排率": "share",
    "完成率": "completion_rate",
    "完成": "completion",
    "调整率": "adjust_rate",
    "调整": "adjust",
    "支付进度": "payment_progress",
    "进度": "progress",
    "支付": "payment",
    "结转结余": "carryover",
    "结余": "surplus",
    "结转": "carryover",
    "资金": "funds",
    "公用经费": "public_funds",
    "经费": "funds",
    "政府采购": "procurement",
    "采购": "procurement",
    "制度": "rules",
    "健全性": "soundness",
    "健全": "sound",
    "合规性": "compliance",
    "合规": "compliance",
    "使用": "use",
    "预决算": "budget_accounts",
    "信息公开": "disclosure",
    "公开": "disclosure",
    "信息": "information",
    "基础": "basic",
    "完善性": "completeness",
    "资产": "asset",
    "安全性": "safety",
    "固定资产": "fixed_asset",
    "利用率": "use_rate",
    "职责履行": "duty_performance",
    "履职": "duty",
    "职责": "duty",
    "履行": "performance",
    "实际": "actual",
    "及时率": "timeliness",
    "及时": "timely",
    "质量": "quality",
    "达标率": "pass_rate",
    "达标": "pass",
    "办结率": "closure_rate",
    "经济": "economic",
    "社会": "social",
    "生态": "ecological",
    "满意度": "satisfaction",
    "服务对象": "clients",
    "公众": "public",
    "可持续": "sustainable",
    "影响": "impact",
    "数量": "quantity",
    "时效": "timeliness",
    "成本": "cost",
    "执行率": "execution_rate",
    "率": "rate",
    "数": "count",
    "总额": "total",
    "总数": "total",
    "本年度": "this_year",
    "上年度": "last_year",
    "本年": "this_year",
    "上年": "last_year",
    "计划": "planned",
    "工作": "work",
    "任务": "tasks",
    "项目": "project",
    "支出": "spend",
    "收入": "income",
    "财务": "finance",
    "会计": "accounting",
    "核算": "accounting",
    "监督": "supervision",
    "内控": "internal_control",
    "风险": "risk",
    "档案": "archives",
    "培训": "training",
    "宣传": "publicity",
    "考核": "assessment",
    "评价": "evaluation",
    "整改": "rectification",
    "问题": "issues",
    "审计": "audit",
    "满意": "satisfied",
    "覆盖率": "coverage",
    "合格率": "pass_rate",
    "准确率": "accuracy",
    "保障": "support",
    "能力": "capacity",
    "建设": "building",
    "运行": "operation",
    "维护": "maintenance",
    "车辆": "vehicles",
    "公务用车": "official_cars",
    "公务接待": "reception",
    "公务招待": "reception",
    "因公出国": "overseas_trips",
    "编外": "contract",
    "机构": "agency",
    "部门": "dept",
    "单位": "unit",
    "年初": "initial",
    "调整后": "adjusted",
    "全年": "annual",
    "专项": "special",
    "拨付": "disbursement",
    "未按": "not",
    "不合规": "noncompliant",
    "事项": "cases",
    "例": "cases",
    "个数": "count",
    "总体": "overall",
    "整体": "overall",
    "规划": "plan",
}
_WORDS: Final = sorted(_GLOSSARY, key=len, reverse=True)
_ASCII: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")


def slug(name: str, limit: int = 40) -> str:
    """The glossary words of ``name`` joined with ``_`` (may be empty)."""
    parts: list[str] = []
    i = 0
    while i < len(name):
        for word in _WORDS:
            if name.startswith(word, i):
                part = _GLOSSARY[word]
                if not parts or parts[-1] != part:
                    parts.append(part)
                i += len(word)
                break
        else:
            m = _ASCII.match(name, i)
            if m is not None:
                parts.append(m.group(0).lower())
                i = m.end()
            else:
                i += 1
    out = "_".join(parts)
    while len(out) > limit and "_" in out:
        out = out.rsplit("_", 1)[0]
    return out[:limit]


class IdMaker:
    """Unique ids within one rubric: ``slug`` of the name, else ``fallback``; a repeat
    gets ``_2``, ``_3``…"""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, name: str, fallback: str) -> str:
        base = slug(name) or fallback
        if not base[0].isalpha():
            base = f"x_{base}"
        candidate, n = base, 2
        while candidate in self.used:
            candidate = f"{base}_{n}"
            n += 1
        self.used.add(candidate)
        return candidate
