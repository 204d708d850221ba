"""Folded YAML scalars (``>``, ``>-``, ``>+``) in Chinese: a line break between two Chinese
characters (or Chinese punctuation) joins them without the space YAML would put there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore.loading import parse_document

ROOT = Path(__file__).parents[1]
CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff，。、；：“”（）] [\u4e00-\u9fff，。、；：“”（）]")


def _load(text: str) -> Any:
    data, _ = parse_document(text, "t.yaml")
    return data


def test_a_break_between_chinese_characters_joins_without_a_space() -> None:
    data = _load(
        "standard: >-\n"
        "  依据“三定”方案\n"
        "  确定的职责，每超过一个百分点\n"
        "  扣0.5分。\n"
        "  Checked by\n"
        "  hand.\n"
    )
    assert (
        data["standard"] == "依据“三定”方案确定的职责，每超过一个百分点扣0.5分。 Checked by hand."
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [(">", "甲乙\n\n丙\n"), (">-", "甲乙\n\n丙"), (">+", "甲乙\n\n丙\n\n")],
)
def test_chomping_and_blank_lines_are_kept(header: str, expected: str) -> None:
    data = _load(f"a: {header}\n  甲\n  乙\n\n\n  丙\n\nb: 1\n")
    assert data["a"] == expected


def test_literal_and_more_indented_lines_keep_their_breaks() -> None:
    data = _load("a: |\n  保留\n  换行\nb: >\n  甲\n    缩进\n  乙\n")
    assert data["a"] == "保留\n换行\n"
    assert data["b"] == "甲\n  缩进\n乙\n"


def test_an_explicit_indentation_indicator_keeps_the_parsers_value() -> None:
    text = "a: >2\n    甲\n    乙\n"
    assert _load(text)["a"] == yaml.safe_load(text)["a"]


_CHINESE = st.text(alphabet="甲乙丙丁，。“”（）", min_size=1, max_size=6)
_LATIN = st.text(alphabet="abcxyz.,", min_size=1, max_size=6)
_LINE = st.lists(st.one_of(_CHINESE, _LATIN), min_size=1, max_size=3).map(" ".join)


@given(st.lists(st.one_of(_LINE, st.just("")), min_size=1, max_size=8), st.sampled_from(">|"))
def test_folding_only_removes_spaces_put_between_chinese_characters(
    lines: list[str], style: str
) -> None:
    """Against PyYAML's own value: the same text once spaces are removed; Latin text folded
    exactly as YAML folds it; and no break between two Chinese characters left as a
    space (the lines themselves put none there)."""
    if not any(lines):
        lines = [*lines, "甲"]
    body = "".join(f"  {line}\n" if line else "\n" for line in lines)
    text = f"a: {style}-\n{body}b: 1\n"
    ours, theirs = _load(text)["a"], yaml.safe_load(text)["a"]
    assert ours.replace(" ", "") == theirs.replace(" ", "")
    if style == "|" or not any(re.search("[甲乙丙丁，。“”（）]", line) for line in lines):
        assert ours == theirs
    if not any(CJK_SPACE_CJK.search(line) for line in lines):
        assert not CJK_SPACE_CJK.search(ours)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("path", sorted((ROOT / "rubrics").rglob("*.yaml")), ids=lambda p: p.name)
def test_shipped_rubrics_hold_no_stray_space_between_chinese_characters(path: Path) -> None:
    """A space between two Chinese characters in a value is one the author wrote on one
    line, never one a folded line break put there."""
    text = path.read_text(encoding="utf-8")
    data, _ = parse_document(text, str(path))
    stray = [
        m.group()
        for value in _strings(data)
        for m in CJK_SPACE_CJK.finditer(value)
        if m.group() not in text
    ]
    assert stray == []
    if "indicators" in data:  # a rubric (not a library, not golden cases)
        perfscore.load_rubric(path)
