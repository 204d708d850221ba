"""评分标准 in prose to typed rules, and typed rules back to prose.

The standards of published 评分表 follow a small number of patterns. :func:`parse_standard`
reads one standard into a :class:`Parsed`: the typed rule it states (``None`` when it
matches no known pattern) and the formula it states, if any (``X=A/B×100%``). It runs no
code and takes time linear in the text (the regular expressions have no nested repeats).

Rules:

- :class:`DeductionRule`: full marks at a threshold, points off per step over or under it
  ("≤100%得满分；每超过1个百分点扣0.5分，扣完为止", "每低于5%扣2分"), or per instance counted
  ("每发现一例不合规扣1分");
- :class:`BandsRule`: ranges with their ends as written ("≥90%得4分；80%（含）-90%得3分");
- :class:`ChecklistRule`: items earned ("①…；②…。每项1分", "…的，得1分") or deducted
  ("…，每有一项不符合扣1分", "未按时公开扣1分");
- :class:`ProportionalRule`: "得分=执行率×分值，满分为止";
- :class:`LevelsRule`: "好得3分，较好得2.4分，一般得1.8分，差得0分";
- :class:`CasesRule`: conditions in words, each with its points ("无结余的得3分；…得0分").

:func:`render_rule` writes a rule as prose that :func:`parse_standard` reads back equal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

__all__ = [
    "Band",
    "BandsRule",
    "CasesRule",
    "ChecklistRule",
    "DeductionRule",
    "LevelsRule",
    "Parsed",
    "ProportionalRule",
    "Rule",
    "StatedFormula",
    "parse_standard",
    "render_rule",
]

MAX_STANDARD: Final = 2000
"""Characters of a standard read; a longer cell is not parsed (it becomes a judged row)."""


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class DeductionRule:
    """Full marks on the right side of ``threshold``; ``points`` off per ``per`` beyond it.

    ``counted``: the value is a number of instances (例, 项, 个), not a rate."""

    threshold: Decimal
    direction: Literal["over", "under"]
    per: Decimal
    points: Decimal
    counted: bool = False


@dataclass(frozen=True, slots=True)
class Band:
    """One band; ``None`` for an end means unbounded."""

    lower: Decimal | None
    upper: Decimal | None
    include_lower: bool
    include_upper: bool
    points: Decimal

    def notation(self) -> str:
        if self.lower is not None and self.lower == self.upper:
            return f"[{_num(self.lower)}, {_num(self.lower)}]"
        left = (
            "(-∞" if self.lower is None else ("[" if self.include_lower else "(") + _num(self.lower)
        )
        right = (
            "+∞)" if self.upper is None else _num(self.upper) + ("]" if self.include_upper else ")")
        )
        return f"{left}, {right}"


@dataclass(frozen=True, slots=True)
class BandsRule:
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class ChecklistRule:
    """``items`` are (text, points); in ``deduct`` mode the text is the requirement
    (``failure=False``) or the failure itself (``failure=True``)."""

    mode: Literal["earn", "deduct"]
    items: tuple[tuple[str, Decimal], ...]
    failure: bool = False


@dataclass(frozen=True, slots=True)
class ProportionalRule:
    full_at: Decimal = Decimal(100)


@dataclass(frozen=True, slots=True)
class LevelsRule:
    levels: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class CasesRule:
    cases: tuple[tuple[str, Decimal], ...]


Rule = DeductionRule | BandsRule | ChecklistRule | ProportionalRule | LevelsRule | CasesRule


@dataclass(frozen=True, slots=True)
class StatedFormula:
    """``name = expression`` as the standard states it: ``expression`` uses ``A``, ``B``…
    for the figures named in ``labels``; ``percent`` when it ends in ×100%."""

    name: str
    expression: str
    labels: tuple[str, ...]
    percent: bool


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a standard says: its rule (None when unread), a formula it states, and the
    policy for a leaf that is not applicable when the standard names one."""

    rule: Rule | None
    formula: StatedFormula | None = None
    not_applicable: Literal["full_marks", "to_siblings", "rescale"] | None = None


# --------------------------------------------------------------------------- normalising

_DIGITS: Final = {
    "零": "0",
    "一": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "十": "10",
    "半": "0.5",
}
_CN_NUMBER: Final = re.compile(
    r"([零一二两三四五六七八九十半])(?=个?(?:百分点|项|例|个|次|处|份|人|家|条|分|%|档|起|笔))"
)
_NUM: Final = r"-?\d+(?:\.\d+)?"
_COMMA: Final = "\u201a"  # stands for the comma inside an interval while clauses are split
_SEPARATORS: Final = re.compile(r"[;。\n]+")
_LEVEL_WORDS: Final = (
    "优秀",
    "良好",
    "合格",
    "不合格",
    "基本合格",
    "较好",
    "一般",
    "较差",
    "好",
    "差",
    "优",
    "良",
    "中",
    "高",
    "较高",
    "低",
    "较低",
    "很好",
    "非常满意",
    "满意",
    "基本满意",
    "不满意",
    "完全达到",
    "基本达到",
    "部分达到",
    "未达到",
    "完善",
    "较完善",
    "基本完善",
    "不完善",
    "健全",
    "较健全",
    "不健全",
    "规范",
    "较规范",
    "不规范",
    "及时",
    "较及时",
    "不及时",
    "充分",
    "较充分",
    "不充分",
    "明显",
    "较明显",
    "不明显",
    "达成",
    "部分达成",
    "未达成",
    "显著",
    "较显著",
    "不显著",
)


def _normalise(text: str) -> str:
    """Half-width forms, no spaces, Chinese numerals before units as digits, and the
    comparison words as symbols."""
    text = re.sub(r"[\u2460-\u2473]", "◆", text)  # ①…⑳ (NFKC would make them digits)
    text = re.sub(r"[\u2474-\u2487]|\(\d{1,2}\)|（\d{1,2}）", "◆", text)  # ⑴ (1) （1）
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    text = text.replace("〔", "[").replace("〕", "]").replace("【", "[").replace("】", "]")
    text = re.sub(r"[－—–~～]", "-", text).replace("−", "-")
    text = text.replace("*", "×").replace("÷", "/").replace("x100", "×100")
    text = text.replace("<=", "≤").replace(">=", "≥").replace("≦", "≤").replace("≧", "≥")
    text = _CN_NUMBER.sub(lambda m: _DIGITS[m.group(1)], text)
    # the comma inside an interval "(0,10%]" is not a clause separator
    text = re.sub(r"([(\[][-\d.%∞]*),([-+\d.%∞]*[)\]])", rf"\1{_COMMA}\2", text)
    text = text.replace("十分", "10分")
    text = re.sub(r"(?:不得分|不计分|不给分|得分为0|计0分|为0分)", "得0分", text)
    text = re.sub(r"[。;]+\)", ")", text)  # a full stop closing a note in brackets
    # a note in brackets opening a sentence is a sentence of its own
    text = re.sub(r"(^|。)(\([^()\[\]]*[\u4e00-\u9fff][^()\[\]]*\))(?!$|。)", r"\1\2。", text)
    return re.sub(r"(?:扣除|减去)", "扣", text)


def _dec(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as e:  # the patterns only let digits through
        raise ValueError(text) from e


def _num(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------- formulas

_FORMULA: Final = re.compile(
    r"^(?P<name>[^=\d()]{1,40}?)=(?P<expr>[^=]*?[/×][^=]*?)(?P<pct>×100%)?(?:\(.*\))?$"
)
_LABEL: Final = re.compile(r"[^+\-×/()\d.%]+")


def _stated_formula(sentence: str) -> StatedFormula | None:
    match = _FORMULA.match(sentence)
    if match is None or match.group("name").startswith("得分"):
        return None
    expr = match.group("expr")
    percent = match.group("pct") is not None
    if expr.endswith("×100%"):
        expr, percent = expr[: -len("×100%")], True
    labels: list[str] = []
    out: list[str] = []
    pos = 0
    for found in _LABEL.finditer(expr):
        between = expr[pos : found.start()]
        if not re.fullmatch(r"[+\-×/()\d.\s]*", between):
            return None
        out.append(between)
        label = found.group(0).strip('"“”')
        if not label or (label.endswith(("率", "得分")) and "/" not in expr):
            return None
        if label not in labels:
            labels.append(label)
        out.append(chr(ord("A") + labels.index(label)))
        pos = found.end()
    tail = expr[pos:]
    if not re.fullmatch(r"[+\-×/()\d.\s]*", tail) or not labels or len(labels) > 26:
        return None
    out.append(tail)
    expression = "".join(out).replace("×", " * ").replace("/", " / ")
    expression = re.sub(r"(?<=[A-Z)])([+-])(?=[A-Z(\d])", r" \1 ", expression)
    expression = " ".join(expression.split())
    name = match.group("name")
    return StatedFormula(name, expression, tuple(labels), percent or name.endswith("率"))


# --------------------------------------------------------------------------- intervals

_SUBJECT: Final = re.compile(r"^[^\d≤≥<>=(\[]*?(?=[\d≤≥<>=(\[]|-\d)")


def _interval(cond: str) -> Band | None:
    """A condition as an interval (points 0), or None. Values in percentage points: ``%``
    is dropped; ``(含)`` includes the end it follows."""
    c = cond.replace("%", "").replace("百分点", "").replace(_COMMA, ",")
    c = re.sub(r"^(?:[^\d]*?)(?:在|为|达到|达)(?=[\d≤≥<>=(\[])", "", c)
    words = (
        ("大于等于", "≥"),
        ("大于或等于", "≥"),
        ("小于等于", "≤"),
        ("小于或等于", "≤"),
        ("不低于", "≥"),
        ("不少于", "≥"),
        ("不超过", "≤"),
        ("不高于", "≤"),
        ("不大于", "≤"),
        ("高于", ">"),
        ("大于", ">"),
        ("超过", ">"),
        ("低于", "<"),
        ("小于", "<"),
        ("不足", "<"),
        ("等于", "="),
    )
    for word, symbol in words:
        c = c.replace(word, symbol)
    c = c.replace("(含)", "含").replace("[含]", "含").replace("(不含)", "不含")
    c = _SUBJECT.sub("", c, count=1)
    c = c.rstrip("的,:")
    n = _NUM
    if m := re.fullmatch(rf"([(\[])(-∞|{n})?,(\+?∞|{n})?([)\]])", c):
        lo, hi = m.group(2), m.group(3)
        return Band(
            None if lo in (None, "-∞") else _dec(lo),
            None if hi in (None, "∞", "+∞") else _dec(hi),
            m.group(1) == "[",
            m.group(4) == "]",
            Decimal(0),
        )
    if m := re.fullmatch(rf"=?({n})", c):
        v = _dec(m.group(1))
        return Band(v, v, True, True, Decimal(0)) if c.startswith("=") else None
    if m := re.fullmatch(rf"(≥|>|≤|<)({n})", c):
        op, v = m.group(1), _dec(m.group(2))
        if op in "≥>":
            return Band(v, None, op == "≥", False, Decimal(0))
        return Band(None, v, False, op == "≤", Decimal(0))
    if m := re.fullmatch(rf"({n})(含)?(以上|以下)(含|不含)?", c):
        v, inc = _dec(m.group(1)), m.group(4) != "不含"
        if m.group(3) == "以上":
            return Band(v, None, inc, False, Decimal(0))
        return Band(None, v, False, inc, Decimal(0))
    if m := re.fullmatch(rf"({n})(含|不含)?-({n})(含|不含)?", c):
        lo, hi = _dec(m.group(1)), _dec(m.group(3))
        low_mark, high_mark = m.group(2), m.group(4)
        if low_mark is None and high_mark is None:
            return Band(lo, hi, True, False, Decimal(0))  # the usual reading: [lo, hi)
        return Band(lo, hi, low_mark == "含", high_mark == "含", Decimal(0))
    if m := re.fullmatch(rf"({n})(≤|<)[^\d≤<]{{0,20}}?(≤|<)({n})", c):
        return Band(
            _dec(m.group(1)), _dec(m.group(4)), m.group(2) == "≤", m.group(3) == "≤", Decimal(0)
        )
    return None


# --------------------------------------------------------------------------- clauses

_PIECES: Final = re.compile(r",(?=[^,]+?(?:得|计|给|记|赋|扣)(?:\d|满分))")
_EARN: Final = re.compile(
    rf"^(?P<cond>.+?)(?:(?:的)?[,:]?(?:可)?(?:得|计|给|记|加|赋)|[,:])(?P<pts>满分|{_NUM}分)$"
)
_EARN_FIRST: Final = re.compile(rf"^(?P<cond>.+?)[,:](?P<pts>{_NUM})分$")
_STEP: Final = re.compile(
    rf"每(?P<dir>超过|超出|高于|增加|上升|增长|提高|超|低于|下降|减少|降低|少于|不足|未达到)"
    rf"(?P<per>{_NUM})?个?(?:百分点|%|个点)?[,]?(?:的)?[,]?(?:扣|减)(?:除)?(?P<pts>{_NUM})分"
)
_COUNT: Final = re.compile(
    rf"(?:每(?:发现|出现|发生|有|存在)?|发现|出现|发生)(?:1|一)?(?:例|项|个|次|处|份|起|笔|家|条)"
    rf"(?P<what>[^,;]*?)(?:的)?[,]?(?:扣|减)(?P<pts>{_NUM})分"
)
_EACH: Final = re.compile(
    rf"^(?P<what>.+?)的?[,]?每(?:个|例|项|次|处|份|起|笔|家|条)(?:扣|减)(?P<pts>{_NUM})分"
)
_ITEM_FAIL: Final = re.compile(
    r"每(?:有)?(?:1|一)项(?:不符合|不满足|不达标|未达到|未做到|不到位|未落实|不合格|缺失)"
)
_PER_ITEM: Final = re.compile(
    rf"^每(?:项|条|点)(?:得|计)?({_NUM})分(?:,(?:不符合|未做到|否则|未达到|不满足)的?得0分)?$"
)
_PROPORTIONAL: Final = re.compile(
    r"(?:得分=|按|以)?[^=×]*?(?:率|比例|比率|完成值/指标值|/[^×]+)(?:×|乘以)(?:该?指标)?(?:分值|权重|满分|"
    + _NUM
    + r"分?)(?:计分|计算|得分)?"
)
_CAP: Final = re.compile(
    r"(?:满分为止|最高不超过.*|最高(?:得)?\d*(?:\.\d+)?分?|封顶|不超过分值|超过.*按满分计.*|以满分为限)$"
)
_FLOOR: Final = re.compile(
    r"^(?:扣完为止|扣完即止|扣至0分为止|最低(?:得)?0分|直至扣完|该项分值扣完为止|此项分值扣完为止|扣分不超过.*分值)$"
)
_ENUM: Final = re.compile(r"◆|(?:(?<=^)|(?<=[;。:]))\d{1,2}[.、](?!\d)")


def _points(text: str, weight: Decimal | None) -> Decimal | None:
    if text == "满分":
        return weight
    return _dec(text[:-1])


def _clauses(text: str) -> list[str]:
    parts = [p.strip(",") for p in _SEPARATORS.split(text)]
    return [p for p in parts if p]


def _bands(clauses: list[str], weight: Decimal | None) -> BandsRule | None:
    bands: list[Band] = []
    for clause in clauses:
        for piece in _PIECES.split(clause):
            m = _EARN.match(piece)
            if m is None:
                return None
            band = _interval(m.group("cond"))
            bare = re.fullmatch(rf"[^\d≤≥<>=]*?({_NUM})%?", m.group("cond"))
            if band is None and bare is not None:  # "完成率100%得满分" among bands: that value
                value = _dec(bare.group(1))
                band = Band(value, value, True, True, Decimal(0))
            pts = _points(m.group("pts"), weight)
            if band is None or pts is None:
                return None
            bands.append(Band(band.lower, band.upper, band.include_lower, band.include_upper, pts))
    if len(bands) < 2:
        return None
    return BandsRule(tuple(bands))


def _levels(clauses: list[str], weight: Decimal | None) -> LevelsRule | None:
    levels: list[tuple[str, Decimal]] = []
    for clause in clauses:
        for piece in clause.split(","):
            if not piece:
                continue
            m = _EARN.match(piece)
            if m is None:
                return None
            name = re.sub(
                r"^(?:评价等级为|评价结果为|等级评定为|评定为|评价为|评为|等级为|为|达到|效果)",
                "",
                m.group("cond"),
            )
            name = name.strip("\"“”'")
            if name.endswith("的"):
                name = name[:-1]
            pts = _points(m.group("pts"), weight)
            # the first name may carry its subject ("制度健全"); the others may add a
            # word to a level ("无明显效益"), but two at least must be levels as such
            known = name in _LEVEL_WORDS or (
                any(w in name for w in _LEVEL_WORDS if len(w) > 1)
                if levels
                else any(name.endswith(w) and len(name) > len(w) for w in _LEVEL_WORDS)
            )
            if not known or pts is None or any(n == name for n, _ in levels):
                return None
            levels.append((name, pts))
    exact = sum(
        1
        for i, (name, _) in enumerate(levels)
        if name in _LEVEL_WORDS or (i == 0 and any(name.endswith(w) for w in _LEVEL_WORDS))
    )
    return LevelsRule(tuple(levels)) if len(levels) >= 2 and exact >= 2 else None


def _deduction(clauses: list[str], weight: Decimal | None) -> DeductionRule | None:
    threshold: Decimal | None = None
    clauses = list(clauses)
    for i, clause in enumerate(clauses):
        if m := re.search(rf"以({_NUM})%?为(?:标准|基准)(?:值)?,?", clause):
            threshold = _dec(m.group(1))
            clauses[i] = clause[: m.start()] + clause[m.end() :]
    clauses = [c for c in clauses if c]
    step = None
    for clause in clauses:
        if (step := _STEP.search(clause)) is not None:
            break
    if step is None:
        return None
    direction: Literal["over", "under"] = (
        "over"
        if step.group("dir") in ("超过", "超出", "高于", "增加", "上升", "增长", "提高", "超")
        else "under"
    )
    per = _dec(step.group("per")) if step.group("per") else Decimal(1)
    for clause in clauses:
        rest = clause[: step.start()] if clause is step.string else clause
        rest = rest.rstrip(",")
        for piece in _PIECES.split(rest):
            if not piece:
                continue
            m = re.match(rf"^(?:以)?(?P<v>{_NUM})%?为(?:标准|基准|满分标准)$", piece)
            if m:
                threshold = _dec(m.group("v"))
                continue
            m = _EARN.match(piece)
            if m is None or (
                m.group("pts") != "满分"
                and (weight is None or _points(m.group("pts"), weight) != weight)
            ):
                if _FLOOR.match(piece) or _interval(piece) is not None:
                    continue  # "扣完为止", or the condition restated ("变动率>0，每超过…")
                return None
            cond = m.group("cond")
            band = _interval(cond)
            if band is None:
                bare = re.fullmatch(
                    rf"[^\d]*?(?:达到|为)?({_NUM})%?(?:及以上|以上|以下|及以下)?",
                    cond.replace("(含)", ""),
                )
                if bare is None:
                    return None
                threshold = _dec(bare.group(1))
            elif direction == "over" and band.lower is None and band.upper is not None:
                threshold = band.upper
            elif (direction == "under" and band.upper is None and band.lower is not None) or (
                band.lower is not None and band.lower == band.upper
            ):
                threshold = band.lower
            else:
                return None
    for clause in clauses:
        tail = clause[step.end() :] if clause is step.string else ""
        for piece in tail.split(","):
            if piece and not _FLOOR.match(piece):
                return None
    if threshold is None:
        return None
    return DeductionRule(threshold, direction, per, _dec(step.group("pts")))


def _full_marks(piece: str, weight: Decimal | None) -> bool:
    """ "…的，得满分" / "…得5分" with 5 the weight: the full marks before a deduction."""
    m = _EARN.match(piece)
    return m is not None and (
        m.group("pts") == "满分"
        or (weight is not None and _points(m.group("pts"), weight) == weight)
    )


def _counted(clauses: list[str], weight: Decimal | None) -> DeductionRule | None:
    pieces = [p for c in clauses for p in _PIECES.split(c) if p]
    if len(pieces) > 1 and all(
        _full_marks(p, weight) or not re.search(r"得|扣|计|减|\d分", p) for p in pieces[:-1]
    ):
        clauses = pieces[-1:]  # the requirements, or full marks, stated before the deduction
    if len(clauses) != 1:
        return None
    clause = clauses[0]
    m = _COUNT.search(clause) or _EACH.search(clause)
    if m is None or _ITEM_FAIL.search(clause):
        return None
    tail = clause[m.end() :].strip(",")
    if tail and not all(_FLOOR.match(p) for p in tail.split(",") if p):
        return None
    return DeductionRule(Decimal(0), "over", Decimal(1), _dec(m.group("pts")), counted=True)


def _enumerated(text: str) -> list[str]:
    parts = [p.strip(",;。、") for p in _ENUM.split(text)]
    return [p for p in parts[1:] if p] if len(parts) > 2 else []


def _checklist(clauses: list[str], text: str, weight: Decimal | None) -> ChecklistRule | None:
    # "①…；②…；③…。每项1分"
    if clauses and (m := _PER_ITEM.match(clauses[-1])):
        items = _enumerated(text[: text.rfind("每")])
        if len(items) >= 2:
            return ChecklistRule("earn", tuple((i, _dec(m.group(1))) for i in items))
    # "…、…、…，每有一项不符合扣1分"  /  "①…；②…。每有一项不符合扣1分"
    last = clauses[-1] if clauses else ""
    fail = _ITEM_FAIL.search(last)
    if fail is not None:
        found = re.search(rf"(?:扣|减)({_NUM})分", last[fail.end() :])
        tail = re.sub(rf"^[^扣减]*(?:扣|减){_NUM}分", "", last[fail.end() :]).strip(",")
        if found is None or (tail and not all(_FLOOR.match(p) for p in tail.split(",") if p)):
            return None
        head = text[: text.find(last)] + last[: fail.start()]
        items = _enumerated(head)
        if not items:
            body = [c for c in _clauses(head.rstrip(",")) if c]
            if len(body) >= 2:
                items = body
            elif len(body) == 1 and "、" in body[0]:
                first, *rest = body[0].rstrip(",").split("、")
                items = [first, *rest]
            else:
                return None
        items = [re.sub(r"^(?:是否)", "", i).rstrip(",的") for i in items]
        return ChecklistRule("deduct", tuple((i, _dec(found.group(1))) for i in items if i))
    # "…的，得1分；…的，得0.5分" (earn) or "未…扣1分；未…扣1分" (deduct, failures named)
    earn: list[tuple[str, Decimal]] = []
    lose: list[tuple[str, Decimal]] = []
    for clause in clauses:
        for piece in _PIECES.split(clause):
            if not piece or _FLOOR.match(piece):
                continue
            if m := _EARN.match(piece):
                pts = _points(m.group("pts"), weight)
                if pts is None or pts == 0 or _interval(m.group("cond")) is not None:
                    return None
                earn.append((m.group("cond").rstrip(",的"), pts))
            elif m := re.match(rf"^(?P<cond>.+?)(?:的)?[,]?(?:扣|减)(?P<pts>{_NUM})分$", piece):
                if "每" in m.group("cond"):
                    return None
                lose.append((m.group("cond").rstrip(",的"), _dec(m.group("pts"))))
            else:
                return None
    if earn and not lose and len(earn) >= 2:
        if weight is not None and sum(p for _, p in earn) > weight:
            return None
        return ChecklistRule("earn", tuple(earn))
    if lose and not earn:
        return ChecklistRule("deduct", tuple(lose), failure=True)
    return None


def _cases(clauses: list[str], weight: Decimal | None) -> CasesRule | None:
    cases: list[tuple[str, Decimal]] = []
    for clause in clauses:
        for piece in _PIECES.split(clause):
            m = _EARN.match(piece)
            if m is None:
                return None
            pts = _points(m.group("pts"), weight)
            if pts is None or _interval(m.group("cond")) is not None:
                return None
            cases.append((m.group("cond").rstrip(",的"), pts))
    return CasesRule(tuple(cases)) if len(cases) >= 2 else None


def _proportional(clauses: list[str]) -> ProportionalRule | None:
    if not clauses:
        return None
    found = False
    for clause in clauses:
        for piece in clause.split(","):
            if not piece:
                continue
            if not found and _PROPORTIONAL.fullmatch(piece):
                found = True
            elif not _CAP.match(piece):
                return None
    return ProportionalRule() if found else None


# --------------------------------------------------------------------------- entry point

_NOT_APPLICABLE: Final = re.compile(r"不适用|不涉及|无此项|未开展.*调查的")
_DEFINITION: Final = re.compile(r"^(?:评价|反映|考核|衡量|用以|用于|主要|指|是指|该指标)")


def parse_standard(text: str, weight: Decimal | None = None) -> Parsed:
    """Read the 评分标准 ``text`` of a leaf whose weight is ``weight`` (needed where the
    text says 满分 for a band or an item)."""
    if len(text) > MAX_STANDARD:
        return Parsed(None)
    norm = _normalise(text)
    formula: StatedFormula | None = None
    policy: Literal["full_marks", "to_siblings", "rescale"] | None = None
    kept: list[str] = []
    for sentence in re.split(r"[。\n]+", norm):
        sentence = sentence.strip(",")
        if not sentence:
            continue
        if _NOT_APPLICABLE.search(sentence):
            if "满分" in sentence:
                policy = "full_marks"
            elif "同级" in sentence:
                policy = "to_siblings"
            elif "其他" in sentence or "按比例" in sentence:
                policy = "rescale"
            continue
        head = re.split(r"[,;:]", sentence, maxsplit=1)
        if formula is None and "=" in head[0] and (found := _stated_formula(head[0])):
            formula = found
            rest = sentence[len(head[0]) :].strip(",")
            if rest:
                kept.append(rest)
            continue
        scoring = re.search(r"(?:得|扣|计|分)", sentence) is not None
        if re.fullmatch(r"\([^()\[\]]*[\u4e00-\u9fff][^()\[\]]*\)", sentence) or (
            _DEFINITION.match(sentence) and not re.search(r"(?:得|扣|计)(?:\d|满分)", sentence)
        ):
            continue  # a note in brackets, or what the indicator measures
        if not scoring and "◆" not in sentence and ";" not in sentence and "、" not in sentence:
            continue
        if sentence.startswith("得分=") or re.match(r"^得分按", sentence):
            sentence = sentence[3:] if sentence.startswith("得分=") else sentence
        kept.append(sentence)
    body = ";".join(kept)
    clauses = _clauses(body)
    rule: Rule | None = None
    if clauses:
        rule = (
            _deduction(clauses, weight)
            or _bands(clauses, weight)
            or _levels(clauses, weight)
            or _proportional(clauses)
            or _counted(clauses, weight)
            or _checklist(clauses, body, weight)
            or _cases(clauses, weight)
        )
    return Parsed(rule, formula, policy)


# --------------------------------------------------------------------------- back to prose


def _range_text(band: Band) -> str:
    lo, hi = band.lower, band.upper
    if lo is not None and lo == hi:
        return f"={_num(lo)}%"
    if lo is None and hi is not None:
        return ("≤" if band.include_upper else "<") + f"{_num(hi)}%"
    if hi is None and lo is not None:
        return ("≥" if band.include_lower else ">") + f"{_num(lo)}%"
    left = "[" if band.include_lower else "("
    right = "]" if band.include_upper else ")"
    return f"{left}{_num(lo or Decimal(0))}%,{_num(hi or Decimal(0))}%{right}"


def render_rule(rule: Rule) -> str:
    """The rule as a 评分标准 sentence that :func:`parse_standard` reads back equal (given
    the weight for checklists whose points add up to more than it)."""
    if isinstance(rule, DeductionRule):
        if rule.counted:
            return f"每发现一例不合规事项扣{_num(rule.points)}分，扣完为止。"
        full = "≤" if rule.direction == "over" else "≥"
        word = "超过" if rule.direction == "over" else "低于"
        return (
            f"{full}{_num(rule.threshold)}%得满分；每{word}{_num(rule.per)}个百分点"
            f"扣{_num(rule.points)}分，扣完为止。"
        )
    if isinstance(rule, BandsRule):
        return "；".join(f"{_range_text(b)}得{_num(b.points)}分" for b in rule.bands) + "。"
    if isinstance(rule, ChecklistRule):
        if rule.mode == "earn":
            return "；".join(f"{t}的，得{_num(p)}分" for t, p in rule.items) + "。"
        if rule.failure:
            return "；".join(f"{t}的，扣{_num(p)}分" for t, p in rule.items) + "。"
        points = {p for _, p in rule.items}
        (each,) = points if len(points) == 1 else (None,)
        if each is None:
            raise ValueError("a deduct checklist of requirements has one points value")
        body = "；".join(f"{chr(0x2460 + i)}{t}" for i, (t, _) in enumerate(rule.items))
        return f"{body}。每有一项不符合扣{_num(each)}分，扣完为止。"
    if isinstance(rule, ProportionalRule):
        return "得分=完成率×该指标分值，满分为止。"
    if isinstance(rule, LevelsRule):
        return "，".join(f"{n}得{_num(p)}分" for n, p in rule.levels) + "。"
    return "；".join(f"{t}的，得{_num(p)}分" for t, p in rule.cases) + "。"
