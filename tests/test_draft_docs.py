"""docs/draft.md: its Python block runs and prints the output the page shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

PAGE = Path(__file__).parent.parent / "docs" / "draft.md"
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n\nOutput:\n\n```text\n(?P<out>.*?)```", re.S)


def test_the_python_examples_of_the_draft_page_print_what_it_shows() -> None:
    found = list(BLOCK.finditer(PAGE.read_text(encoding="utf-8")))
    assert found, "no python block with its output on docs/draft.md"
    for match in found:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(match.group("code"), str(PAGE), "exec"), {})
        assert printed.getvalue() == match.group("out")


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
