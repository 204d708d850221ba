"""docs/draft.md names every issue code of perfscore.draft (its Python block is run by
test_docs_examples)."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).parent.parent / "docs" / "draft.md"
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n\nOutput:\n\n```text\n(?P<out>.*?)```", re.S)


def test_every_draft_issue_code_is_on_the_page() -> None:
    src = Path(__file__).parent.parent / "src" / "perfscore" / "draft"
    codes = {
        m.group(1)
        for path in src.glob("*.py")
        for m in re.finditer(r'"(draft\.[a-z_]+)"', path.read_text(encoding="utf-8"))
    }
    codes -= {c for c in codes if c.startswith(("draft.cli", "draft.cases", "draft.note"))}
    assert codes
    text = PAGE.read_text(encoding="utf-8")
    assert sorted(c for c in codes if f"`{c}`" not in text) == []
