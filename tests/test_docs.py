"""The docs keep up with the code: every rubric key and every issue code is documented."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from perfscore import methods, model

from ._source_texts import issue_codes

ROOT = Path(__file__).parents[1]
SRC = ROOT / "src" / "perfscore"


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for module in (model, methods):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                found.append(value)
    found.extend(methods.method_kinds().values())
    return found


def test_every_rubric_key_is_in_the_format_reference() -> None:
    text = (ROOT / "docs" / "rubric-format.md").read_text(encoding="utf-8")
    missing = sorted(
        {
            (info.alias or name)
            for cls in _models()
            for name, info in cls.model_fields.items()
            if f"`{info.alias or name}`" not in text
        }
    )
    assert missing == []


def test_every_issue_code_is_in_the_errors_page() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    codes = issue_codes(top_level=True)
    assert len(codes) > 50, "few issue codes found: the reader in _source_texts is stale"
    assert sorted(c for c in codes if f"`{c}`" not in text) == []


def test_the_chinese_format_reference_has_every_key_the_english_one_has() -> None:
    """docs/zh/rubric-format.md (编写评分表：格式参考) keeps in step with the English."""
    english = (ROOT / "docs" / "rubric-format.md").read_text(encoding="utf-8")
    chinese = (ROOT / "docs" / "zh" / "rubric-format.md").read_text(encoding="utf-8")
    keys = {(info.alias or name) for cls in _models() for name, info in cls.model_fields.items()}
    assert sorted(k for k in keys if f"`{k}`" not in chinese) == []
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", english, re.MULTILINE))
    assert sorted(k for k in listed if f"`{k}`" not in chinese) == []


def test_the_chinese_guide_lists_every_issue_code_the_english_errors_page_lists() -> None:
    english = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    chinese = (ROOT / "docs" / "zh" / "authoring.md").read_text(encoding="utf-8")
    codes = issue_codes(top_level=True) | {
        c
        for c in re.findall(r"`([a-z_]+\.[a-z_]+)`", english)
        if c.split(".")[0] in {c.split(".")[0] for c in issue_codes(top_level=True)}
    }
    assert sorted(c for c in codes if f"`{c}`" not in chinese) == []
