"""Hostile files: every attack in ``tests/data/hostile/`` is refused with its expected
issue code, within 1 second of CPU time and 200 MB of memory.

An attack is a rubric, unless its name says otherwise: ``inputs_*`` is one department's
inputs (scored against the demo rubric), ``population_*`` a population (every row scored;
the code is the first failed row's, ``scored`` when every row scores, or ``xlsx.unsafe``
/ ``xlsx.malformed`` / ``xlsx.not_zip`` for a workbook refused whole), ``cases_*`` a
golden-case file (not named ``*.cases.yaml``, which the pytest plugin would collect) and
``form_*`` a filled-in XLSX form.

``tests/data/hostile/expected.yaml`` maps each attack to its code. Attacks too large to
keep in the repository (a file past the size limit, nesting 100 000 deep ...) are written
by :data:`GENERATED` at run time. A rubric that loads is then scored with ``x = 3999999``,
so that attacks which can only fail at run time (products of large powers) are measured
too.

All attacks run in one child process that has imported perfscore; each attack runs in a
process forked from it, with its address space limited to the child's own plus 200 MB
(``RLIMIT_AS``) and its CPU time to a few seconds (``RLIMIT_CPU``), and is killed if it
takes longer than :data:`HANG` of wall-clock time. Time and memory are measured inside
the forked process, around the load alone: interpreter start-up is not counted. The
budget is on CPU time, so that a machine busy with other work does not fail the test;
wall-clock time is reported with each outcome.

Everything runs twice: with libyaml's YAML parser (as PyYAML's wheels ship it) and with
PyYAML's pure-Python parser, which is slower and which the limits are chosen for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfscore.loading import MAX_FILE_BYTES, MAX_STRING

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RLIMIT_AS, fork and /proc are Linux's"
)

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
CPU_BUDGET = 1.0  # seconds of CPU time for one attack
MEMORY_BUDGET = 200 * 2**20  # bytes above what the process held before the attack
HANG = 10.0  # seconds of wall-clock time before an attack counts as a hang
WARM_UP = Path(__file__).resolve().parent.parent / "examples" / "demo" / "rubric.yaml"

BASE = """\
id: hostile
title: Hostile
inputs:
  x: {{label: X, kind: number}}
{derived}indicators:
  - id: a
    name: A
    weight: 100
    scoring: {{method: proportional, value: {value}, full_at: 100}}
grades:
  - {{name: ok, range: "[0, 100]"}}
"""


def _formula(source: str) -> str:
    return BASE.format(derived=f"derived:\n  d: {{label: D, formula: '{source}'}}\n", value="d")


def _many_formulas() -> str:
    """Derived values of 400-part formulas filling the file: far past the formula budget."""
    source = "max(" + ",".join(["x"] * 399) + ")"
    count = (MAX_FILE_BYTES - 1000) // (len(source) + 40)
    derived = "".join(f"  d{i}: {{label: D, formula: '{source}'}}\n" for i in range(count))
    return BASE.format(derived="derived:\n" + derived, value="x")


def _many_indicators() -> str:
    """Nearly as many indicators as the value limit allows, each with its own formula."""
    rows = "".join(
        f"  - {{id: i{i}, name: I, weight: 1, scoring: "
        f"{{method: proportional, value: 'x * {i} + x', full_at: 100}}}}\n"
        for i in range(600)
    )
    return BASE.format(derived="", value="x").replace("indicators:\n", "indicators:\n" + rows, 1)


def _toml_indicators() -> str:
    """A TOML rubric of as many indicators as the file size allows (TOML has no aliases:
    its size bounds it)."""
    head = 'id = "t"\ntitle = "T"\n[inputs.x]\nlabel = "X"\nkind = "number"\n'
    tail = '[[grades]]\nname = "ok"\nrange = "[0, 100]"\n'
    row = (
        '[[indicators]]\nid = "i{}"\nname = "I"\nweight = 1\n'
        'scoring = {{method = "proportional", value = "x", full_at = 100}}\n'
    )
    count = (MAX_FILE_BYTES - 500) // len(row.format(99999))
    return head + "".join(row.format(i) for i in range(count)) + tail


def _many_inputs() -> str:
    """Nearly as many percent inputs as the value limit allows, each read by a derived value."""
    inputs = "".join(f"  p{i}: {{label: P, kind: percent}}\n" for i in range(750))
    derived = "".join(f"  d{i}: {{label: D, formula: p{i}}}\n" for i in range(750))
    return BASE.format(derived="derived:\n" + derived, value="x").replace(
        "inputs:\n", "inputs:\n" + inputs, 1
    )


#: Attacks written at run time: file name -> the file's content (text, or bytes).
GENERATED: dict[str, Callable[[], str | bytes]] = {
    "huge_file.yaml": lambda: b"#" * (MAX_FILE_BYTES + 1),
    "newlines_to_the_limit.yaml": lambda: "\n" * MAX_FILE_BYTES,
    "comment_to_the_limit.yaml": lambda: "#" + "x" * (MAX_FILE_BYTES - 2) + "\n",
    "spaces_to_the_limit.yaml": lambda: " " * MAX_FILE_BYTES,
    "flow_nesting_100k.yaml": lambda: "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "flow_mapping_nesting_50k.yaml": lambda: "a: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n",
    "block_nesting_300.yaml": lambda: "".join("  " * i + f"k{i}:\n" for i in range(300)),
    "long_string.yaml": lambda: "a: " + "x" * (MAX_STRING + 1) + "\n",
    "wide_document.yaml": lambda: "a: [" + "1," * 30_000 + "1]\n",
    "formula_sum_100k.yaml": lambda: _formula("+".join(["1"] * 100_000)),
    "formula_unary_10k.yaml": lambda: _formula("-(" * 10_000 + "x" + ")" * 10_000),
    "formula_parentheses_10k.yaml": lambda: _formula("(" * 10_000 + "x" + ")" * 10_000),
    "many_formulas.yaml": _many_formulas,
    "many_indicators.yaml": _many_indicators,
    "many_inputs.yaml": _many_inputs,
    "wide_array.toml": lambda: "a = [" + "1," * (MAX_FILE_BYTES // 2 - 10) + "1]\n",
    "deep_array.toml": lambda: "a = " + "[" * 50_000 + "]" * 50_000 + "\n",
    "many_indicators.toml": _toml_indicators,
}


def _wide_heading() -> str:
    """A heading of more columns than a table may have, each short."""
    return ",".join(f"c{i}" for i in range(20_000)) + "\n1\n"


def _jsonl_keys(count: int) -> str:
    return "{" + ",".join(f'"k{i}":1' for i in range(count)) + "}\n"


def _demo_heading() -> list[str]:
    return ["id", *_DEMO_FIGURES]


_DEMO_FIGURES = {
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


def _workbook(path: Path, rows: int = 3, **sheets: str) -> None:
    """A population workbook of the demo rubric's inputs; ``sheets`` adds sheets by
    name, each with its state (``hidden`` / ``veryHidden``) and one row that fails."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(_demo_heading())
    for i in range(rows):
        sheet.append([f"d{i}", *_DEMO_FIGURES.values()])
    for name, state in sheets.items():
        hidden = book.create_sheet(name)
        hidden.append(_demo_heading())
        hidden.append(["bad", "not a number"])
        hidden.sheet_state = state
    book.save(path)


def _rewrite(path: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite the parts of the workbook ``path``: ``change`` returns a part's new bytes,
    or None to leave the part out."""
    import zipfile

    with zipfile.ZipFile(path) as old:
        parts = [(i.filename, old.read(i)) for i in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in parts:
            replaced = change(name, data)
            if replaced is not None:
                new.writestr(name, replaced)


def _dimension_bomb(path: Path) -> None:
    """2 000 rows, their sheet declaring A1:XFD2001: openpyxl pads each row to 16 384."""
    _workbook(path, rows=2000)

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD2001"', data)
        return data

    _rewrite(path, change)


def _truncated(path: Path) -> None:
    _workbook(path, rows=200)
    _rewrite(path, lambda n, d: d[: len(d) // 2] if n == "xl/worksheets/sheet1.xml" else d)


def _doctype(path: Path) -> None:
    _workbook(path)
    entities = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":  # before the root element
            start = data.index(b"<worksheet")
            return data[:start] + entities + data[start:]
        return data

    _rewrite(path, change)


def _no_content_types(path: Path) -> None:
    _workbook(path)
    _rewrite(path, lambda n, d: None if n == "[Content_Types].xml" else d)


def _no_worksheet(path: Path) -> None:
    _workbook(path)
    _rewrite(path, lambda n, d: None if n.startswith("xl/worksheets/") else d)


def _form_far_cell(path: Path) -> None:
    """A form whose one extra cell sits at the last row and column a sheet can have."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "基础数据表"
    sheet.append(["输入项", "名称", "单位", "值", "说明"])
    sheet.cell(row=1_048_576, column=5, value="x")
    book.save(path)


def _form_big_part(path: Path) -> None:
    """A form whose sheet unpacks to 20 MiB."""
    _workbook(path)
    row = b'<row r="{}"><c r="A{}" t="inlineStr"><is><t>x</t></is></c></row>'
    filler = b"".join(row.replace(b"{}", str(i).encode()) for i in range(2, 300_000))

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", filler + b"</sheetData>")
        return data

    _rewrite(path, change)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


GENERATED.update(
    {
        "population_50mb_line.jsonl": lambda: b'{"id": "' + b"x" * (50 * 2**20) + b'"}\n',
        "population_million_columns.csv": lambda: ",".join(["c"] * 1_000_000) + "\n1\n",
        "population_wide_heading.csv": _wide_heading,
        "population_100k_keys.jsonl": lambda: _jsonl_keys(100_000),
        "population_20k_keys.jsonl": lambda: _jsonl_keys(20_000),
        "population_csv_field_limit.csv": lambda: "id,disclosure\na," + "x" * 200_000 + "\n",
    }
)

#: Attacks made at run time that are not plain files' content: file name -> a function
#: that makes the file at the path it is given.
MADE: dict[str, Callable[[Path], None]] = {
    "population_dimension_bomb.xlsx": _dimension_bomb,
    "population_hidden_sheets.xlsx": lambda p: _workbook(p, secret="hidden", deep="veryHidden"),
    "population_truncated_sheet.xlsx": _truncated,
    "population_doctype_entities.xlsx": _doctype,
    "population_no_content_types.xlsx": _no_content_types,
    "population_no_worksheet.xlsx": _no_worksheet,
    "population_named_pipe.csv": _fifo,
    "inputs_named_pipe.yaml": _fifo,
    "inputs_device_link.yaml": _device_link,
    "rubric_device_link.yaml": _device_link,
    "form_far_cell.xlsx": _form_far_cell,
    "form_big_part.xlsx": _form_big_part,
}

#: The child process: imports perfscore, then forks one limited process per attack.
WORKER = textwrap.dedent(
    """
    import json, os, resource, select, signal, sys, time
    from decimal import Decimal

    import yaml

    MEMORY, HANG, WARM_UP, PARSER = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
    if PARSER == "python":  # as where PyYAML comes without libyaml
        yaml.__with_libyaml__ = False

    import perfscore

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise LookupError(field)

    import zipfile
    from perfscore.authoring.cases import load_case_file
    from perfscore.authoring.template import read_template_xlsx
    from perfscore.loading import load_document
    from perfscore.population import batch
    from perfscore.population.readers import UnsafeWorkbook, WorkbookProblem

    DEMO = perfscore.compile_rubric(perfscore.load_rubric(WARM_UP))

    def population(path):
        for record in batch.score_many(DEMO, path):
            if not record.ok:
                return record.issues[0].code, str(record.issues[0])[:300]
        return "scored", "every row scored"

    def attack(path):
        name = os.path.basename(path)
        try:
            if name.startswith("inputs_"):
                DEMO.score(load_document(path)[0])
                return "scored", "the inputs scored"
            if name.startswith("population_"):
                return population(path)
            if name.startswith("cases_"):
                load_case_file(path)
                return "loaded", "the case file loaded"
            if name.startswith("form_"):
                DEMO.score(read_template_xlsx(path))
                return "scored", "the form scored"
            rubric = perfscore.load_rubric(path)
            perfscore.compile_rubric(rubric).score({"x": Decimal(3999999)})
        except perfscore.PerfscoreError as error:
            return error.codes[0], str(error).splitlines()[0][:300]
        except UnsafeWorkbook as error:
            return "xlsx.unsafe", str(error)[:300]
        except WorkbookProblem as error:
            return "xlsx.malformed", str(error)[:300]
        except zipfile.BadZipFile as error:
            return "xlsx.not_zip", str(error)[:300]
        return "loaded", "the rubric loaded and scored"

    def run(path):
        limit = status("VmSize") + MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (5, 5))
        rss = status("VmRSS")
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            code, message = attack(path)
        except BaseException as error:  # an escape: anything but perfscore's own errors
            code, message = "escaped " + type(error).__name__, str(error)[:300]
        return {
            "code": code,
            "message": message,
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "memory": status("VmHWM") - rss,
        }

    # Warm up: import every module and build every model a load may need, so that each
    # attack is charged only for what it costs itself.
    attack(WARM_UP)
    if PARSER == "python":
        from perfscore import loading

        assert loading._Parser is loading._PyParser, "libyaml still in use"
    for text in ("a: [", "a: !!python/object:x {}", "{}", "id: x"):
        try:
            perfscore.loads_rubric(text)
        except perfscore.PerfscoreError:
            pass
    for path in json.loads(sys.argv[5]):  # a population and a form of each kind, read once
        attack(path)

    results = {}
    for name, path in json.load(sys.stdin):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                out = json.dumps(run(path)).encode()
            except BaseException as error:
                out = json.dumps({"code": "worker " + repr(error)}).encode()
            os.write(write, out)
            os._exit(0)
        os.close(write)
        ready, _, _ = select.select([read], [], [], HANG)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            results[name] = {"code": "hang", "wall": HANG}
        else:
            data = b""
            while chunk := os.read(read, 65536):
                data += chunk
            _, status_code = os.waitpid(pid, 0)
            results[name] = json.loads(data) if data else {"code": f"died {status_code}"}
        os.close(read)
        if not ready:
            os.waitpid(pid, 0)
    json.dump(results, sys.stdout)
    """
)


def _expected() -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load((HOSTILE / "expected.yaml").read_text("utf-8"))
    return data


#: Attacks that are not rubrics, by the start of their name.
NOT_RUBRICS = ("inputs_", "population_", "cases_", "form_")


def rubric_attacks() -> dict[str, str]:
    """The attacks that are rubric files' content (committed or generated): what a
    service that takes rubric documents can be sent."""
    return {
        name: code
        for name, code in _expected().items()
        if not name.startswith(NOT_RUBRICS) and name not in MADE
    }


@pytest.fixture(scope="module", params=["libyaml", "python"])
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Run every attack once, in the limited child processes; name -> what happened.

    Once with libyaml's YAML parser (when PyYAML has it), once with PyYAML's own."""
    folder = tmp_path_factory.mktemp("hostile")
    warm = tmp_path_factory.mktemp("warm")
    _workbook(warm / "population_warm.xlsx")
    (warm / "population_warm.csv").write_text("id,staff_actual\na,1\n", encoding="utf-8")
    (warm / "population_warm.jsonl").write_text('{"id": "a"}\n', encoding="utf-8")
    _form_far_cell(warm / "form_warm.xlsx")
    warm_ups = [str(p) for p in sorted(warm.iterdir())]
    jobs = []
    for name in _expected():
        path = HOSTILE / name
        if name in MADE:
            path = folder / name
            MADE[name](path)
        elif name in GENERATED:
            content = GENERATED[name]()
            path = folder / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        jobs.append((name, str(path)))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            str(MEMORY_BUDGET),
            str(HANG),
            str(WARM_UP),
            request.param,
            json.dumps(warm_ups),
        ],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=HANG * len(jobs) + 60,
        check=True,
    )
    results: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return results


def test_corpus_and_expectations_match() -> None:
    """Every file in the corpus has an expected code, and every code an attack."""
    files = {p.name for p in HOSTILE.iterdir()} - {"expected.yaml"}
    expected = set(_expected())
    assert sorted(files - expected) == [], "attacks without an expected code"
    assert sorted(expected - files - set(GENERATED) - set(MADE)) == [], "no attack for a code"
    assert sorted(files & (set(GENERATED) | set(MADE))) == [], "attacks both committed and made"


def test_committed_attacks_are_small() -> None:
    sizes = {p.name: p.stat().st_size for p in HOSTILE.iterdir() if p.name != "expected.yaml"}
    assert max(sizes.values()) <= 4096, "generate large attacks in GENERATED instead"


@pytest.mark.parametrize("name", sorted(_expected()))
def test_attack_refused_within_budget(name: str, outcomes: dict[str, dict[str, Any]]) -> None:
    outcome = outcomes[name]
    assert outcome["code"] == _expected()[name], outcome
    assert outcome["cpu"] <= CPU_BUDGET, f"{name} took {outcome['cpu']:.2f}s of CPU time"
    assert outcome["memory"] <= MEMORY_BUDGET, f"{name} took {outcome['memory'] / 2**20:.0f} MB"
