"""What hostile files cost: CPU time and peak memory of reading each, in a fresh process.

    python benchmarks/hostile.py [--src PATH] [--json]

Each case is written to a temporary folder, then read in a child interpreter that has
already imported perfscore (and openpyxl), so that only the read is measured: its CPU
time (``time.process_time``) and its peak resident memory above what the child held
before (``VmHWM`` minus ``VmRSS``, Linux). The cases:

* ``line_50mb``: a JSONL population whose one line is 50 MB, then a good line;
* ``dimension_bomb``: an XLSX population of 2 000 rows whose sheet declares
  ``A1:XFD2001`` (openpyxl pads rows to the declared width);
* ``form_big_part``: a filled-in form whose sheet unpacks to about 20 MiB;
* ``alias_text``: a 2.7 KB rubric whose aliases repeat a 2 500-character text 1 000 times;
* ``unknown_columns``: a 20 000-row CSV whose heading has 200 unknown columns.

``--only NAME ...`` runs some cases; ``--timeout`` stops a case after that many seconds.
``--src`` runs the same cases against another checkout's ``src`` folder (to compare with
an earlier version). A case that fails in the child is reported with its error.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo" / "rubric.yaml"
FIGURES = {
    "staff_authorized": 18,
    "staff_actual": 17,
    "sangong_last_year": 12,
    "sangong_this_year": 11,
    "key_project_spend": 353,
    "project_spend_total": 413,
    "budget_initial": 450,
    "budget_adjustment": 15,
    "rules_exist": "true",
    "rules_lawful": "true",
    "rules_executed": "true",
    "noncompliant_cases": 1,
    "disclosure": "基本及时完整",
    "key_tasks_planned": 12,
    "key_tasks_done": 11,
    "satisfaction": 92,
}

CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import openpyxl, perfscore
    from perfscore.population import batch
    from perfscore.authoring.template import read_template_xlsx

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise LookupError(field)

    kind, path = sys.argv[2], sys.argv[3]
    compiled = perfscore.compile_rubric(perfscore.load_rubric(sys.argv[4]))
    rss, cpu = status("VmRSS"), time.process_time()
    outcome = "ok"
    try:
        if kind == "population":
            records = list(batch.score_many(compiled, path))
            failed = [r for r in records if not r.ok]
            outcome = f"{len(records) - len(failed)} scored, {len(failed)} failed"
            if failed:
                outcome += " (" + failed[0].issues[0].code + ")"
        elif kind == "form":
            compiled.score(read_template_xlsx(path))
        else:
            perfscore.load_rubric(path)
    except Exception as error:
        outcome = type(error).__name__ + ": " + str(error).splitlines()[0][:80]
    print(time.process_time() - cpu, status("VmHWM") - rss, outcome)
    """
)


def _workbook(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", *FIGURES])
    for i in range(rows):
        sheet.append([f"d{i}", *FIGURES.values()])
    book.save(path)


def _rewrite(path: Path, part: str, change: object) -> None:
    with zipfile.ZipFile(path) as old:
        parts = [(i.filename, old.read(i)) for i in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in parts:
            new.writestr(name, change(data) if name == part else data)  # type: ignore[operator]


def make(folder: Path) -> dict[str, tuple[str, Path]]:
    cases: dict[str, tuple[str, Path]] = {}
    good = json.dumps({"id": "good", **FIGURES}, ensure_ascii=False)

    line = folder / "line.jsonl"
    line.write_bytes(b'{"id": "' + b"x" * (50 * 2**20) + b'"}\n' + good.encode() + b"\n")
    cases["line_50mb"] = ("population", line)

    bomb = folder / "bomb.xlsx"
    _workbook(bomb, 2000)
    _rewrite(
        bomb,
        "xl/worksheets/sheet1.xml",
        lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD2001"', d),
    )
    cases["dimension_bomb"] = ("population", bomb)

    form = folder / "form.xlsx"
    _workbook(form, 1)
    row = b'<row r="{}"><c r="A{}" t="inlineStr"><is><t>x</t></is></c></row>'
    filler = b"".join(row.replace(b"{}", str(i).encode()) for i in range(3, 300_000))
    _rewrite(
        form,
        "xl/worksheets/sheet1.xml",
        lambda d: d.replace(b"</sheetData>", filler + b"</sheetData>"),
    )
    cases["form_big_part"] = ("form", form)

    alias = folder / "alias.yaml"
    alias.write_text(
        "t: &t " + "x" * 2500 + "\na: &a [" + ", ".join(["*t"] * 10) + "]\n"
        "b: &b [" + ", ".join(["*a"] * 10) + "]\nc: [" + ", ".join(["*b"] * 10) + "]\n",
        encoding="utf-8",
    )
    cases["alias_text"] = ("rubric", alias)

    wide = folder / "unknown.csv"
    extra = [f"备注{i}" for i in range(200)]
    values = ",".join(str(v) for v in FIGURES.values())
    with wide.open("w", encoding="utf-8") as handle:
        handle.write(",".join(["id", *FIGURES, *extra]) + "\n")
        for i in range(20_000):
            handle.write(f"d{i},{values}," + ",".join(["x"] * len(extra)) + "\n")
    cases["unknown_columns"] = ("population", wide)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per case")
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (kind, path) in make(Path(folder)).items():
            if args.only and name not in args.only:
                continue
            try:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(args.src), kind, str(path), str(DEMO)],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                figures[name] = {"error": f"over {args.timeout:g} s"}
                print(f"{name:16} stopped after {args.timeout:g} s", flush=True)
                continue
            if done.returncode != 0:
                figures[name] = {"error": done.stderr.strip().splitlines()[-1:]}
                print(f"{name:16} failed: {figures[name]['error']}", flush=True)
                continue
            cpu, memory, outcome = done.stdout.strip().split(" ", 2)
            figures[name] = {
                "cpu_s": round(float(cpu), 3),
                "memory_mib": round(int(memory) / 2**20, 1),
                "outcome": outcome,
            }
            print(
                f"{name:16} {float(cpu):7.2f} s CPU  {int(memory) / 2**20:7.1f} MiB  {outcome}",
                flush=True,
            )
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
