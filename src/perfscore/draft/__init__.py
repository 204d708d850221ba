"""From a bureau's own 评分表 (XLSX or DOCX) to a rubric draft with its golden cases.

- :mod:`.table` reads the table: header names and their variants, merged and continuation
  cells, 小计 and 合计 rows, weights;
- :mod:`.prose` reads each 评分标准 into a typed rule, and writes rules back as prose;
- :mod:`.build` builds the rubric document, declares the inputs each rule reads and checks
  the draft and the table's own sums;
- :mod:`.skeleton` writes golden cases at the edges of every typed rule.

:func:`draft_table` does all of it for one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .build import Draft, DraftLeaf, draft_rubric, to_yaml
from .prose import parse_standard, render_rule
from .skeleton import skeleton
from .table import Table, TableError, read_table

__all__ = [
    "Draft",
    "DraftLeaf",
    "Table",
    "TableError",
    "draft_rubric",
    "draft_table",
    "parse_standard",
    "read_table",
    "render_rule",
    "skeleton",
    "to_yaml",
]


def draft_table(
    path: str | Path, *, sheet: str | None = None, out: str | Path | None = None
) -> tuple[Draft, dict[str, Any]]:
    """Draft the rubric of the table at ``path`` (the sheet named ``sheet``, else the
    first with a header row) and its case skeleton, for a rubric to be written at ``out``
    (default: ``path`` with ``.yaml``). Raises :class:`TableError` when the table cannot
    be read."""
    path = Path(path)
    target = Path(out) if out is not None else path.with_suffix(".yaml")
    draft = draft_rubric(read_table(path, sheet), rubric_file=str(target))
    return draft, skeleton(draft, target.name)
