"""perfscore draft: the share of real 评分标准 read into typed rules, and drafting time.

    python benchmarks/draft.py [--rows N] [--repeat N]

Prints, measured in this run:

* the corpus (tests/data/draft/corpus.yaml): sentences, those stating a typed rule, and
  the share of those read into exactly that rule (target ≥ 85 %), by source; sentences
  read as a *different* rule than expected (should be 0);
* the time to draft a table of N leaf rows (40 by default) as XLSX and as DOCX: reading
  the file, parsing every standard, building and validating the rubric and its case
  skeleton (median of ``--repeat`` runs; the issue's bound is 1 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.draft_corpus import entries, expected, signature  # noqa: E402  (after the path)

from perfscore.draft import draft_table, parse_standard  # noqa: E402  (after the path)

STANDARDS = [
    "控制率≤100%得满分；每超过1个百分点扣0.5分，扣完为止。",
    "≥90%得{w}分；80%（含）-90%得{w4}分；<80%得0分。",
    "①已制定管理制度；②制度合法合规；③制度得到有效执行。每项{p}分。",
    "每发现一例资金使用不合规扣1分，扣完为止。",
    "完成率=实际完成数/计划数×100%。得分=完成率×{w}分，满分为止。",
    "好得{w}分，较好得{w4}分，一般得{w2}分，差得0分。",
    "由评价组酌情评分。",
]


def corpus() -> None:
    rows = entries()
    typed = [e for e in rows if e.expect is not None]
    read = Counter()
    wrong = []
    by_source = Counter(e.source for e in typed)
    for e in typed:
        got = signature(parse_standard(e.text, e.weight).rule)
        if got == expected(e):
            read[e.source] += 1
        elif got is not None:
            wrong.append(e.text)
    for e in rows:
        if e.expect is None and parse_standard(e.text, e.weight).rule is not None:
            wrong.append(e.text)
    total = sum(read.values())
    print(f"corpus: {len(rows)} sentences, {len(typed)} state a typed rule")
    print(f"parsed into the expected typed rule: {total}/{len(typed)} = {total / len(typed):.1%}")
    for source in sorted(by_source):
        print(f"  {source:10} {read[source]:3}/{by_source[source]:3}")
    print(f"read as another rule than expected: {len(wrong)}")
    for text in wrong:
        print(f"  {text}")


def _table(rows: int, folder: Path) -> tuple[Path, Path]:
    import docx
    from openpyxl import Workbook

    header = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "得分"]
    body = []
    for i in range(rows):
        w = 5
        text = STANDARDS[i % len(STANDARDS)].format(w=w, w4=4, w2=3, p=1)
        if "每项" in text:
            w = 3
        body.append([f"一级{i // 10 + 1}", f"二级{i // 5 + 1}", f"指标{i + 1}", w, text, ""])
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header)
    for row in body:
        ws.append(row)
    xlsx = folder / "table.xlsx"
    book.save(xlsx)
    document = docx.Document()
    table = document.add_table(rows=1 + len(body), cols=len(header))
    for c, text in enumerate(header):
        table.cell(0, c).text = text
    for r, row in enumerate(body, start=1):
        for c, value in enumerate(row):
            table.cell(r, c).text = str(value)
    out = folder / "table.docx"
    document.save(str(out))
    return xlsx, out


def drafting(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        xlsx, docx_file = _table(rows, Path(tmp))
        for path in (xlsx, docx_file):
            draft_table(path)  # warm: imports and the catalogue
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                draft, cases = draft_table(path)
                times.append(time.perf_counter() - start)
            typed, with_standard = draft.typed_share
            print(
                f"draft of a {rows}-row {path.suffix[1:].upper()} table: "
                f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                f"over {repeat} runs ({typed}/{with_standard} rows typed, "
                f"{len(cases['cases'])} cases)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    corpus()
    drafting(args.rows, args.repeat)


if __name__ == "__main__":
    main()
