"""Speed and memory of perfscore on the Shaoyang rubric, against a hand-written floor.

    python benchmarks/run.py [--departments N] [--stream N] [--stream-format F] [--json]

Prints, all measured in this run: departments per second for

* the floor: the rubric written by hand as one Decimal function (shaoyang_by_hand.py);
* simpleeval with parsing cached: the perfscore engine with every formula evaluated by
  simpleeval from a parse kept between calls;
* the perfscore row engine (``score(inputs, explain=False)``, the compiled fast path);
* the row engine with explanations (``score(inputs)``);
* review (复核, ``review(inputs)``) of the departments with their claimed scores, one in
  ten over-claiming a leaf;
* the vectorised path (``perfscore.vectorised``), when numpy is installed, scoring
  columns; and, with pyarrow, end to end from columns: ``columns_from_arrays`` and scoring
  (reported beside the ratios, under ``vectorised_from_columns``);
* on the realistic population (``generate_realistic``), against its own floor: the row
  engine, and with pandas the vectorised path from a CSV file (``pandas.read_csv`` and
  ``perfscore.score_frame``), ``read_csv`` alone, the share of good rows sent back to the
  row engine, and with Dask ``score_partition`` in worker processes of a ``LocalCluster``
  against ``score_frame`` here (under ``realistic``);

each as a ratio to the floor; the rubric's load-and-compile time (median);
``import perfscore`` next to ``import pydantic`` (fresh interpreters, median); and the
rate and peak memory of ``perfscore score RUBRIC POPULATION --out FILE`` streaming a
generated JSONL population file (``--stream``, 1,000,000 departments by default; a CSV
or TSV file with ``--stream-format csv`` or ``tsv``).

``--json`` prints the same figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import shaoyang_by_hand  # noqa: E402

import perfscore  # noqa: E402


def generate(rubric: perfscore.Rubric, n: int, seed: int = 2023) -> list[dict[str, Any]]:
    """``n`` plausible departments: every input present, numbers as Decimals, the
    spending lines adding up to the total (as the rubric's ``spend_split`` check wants)."""
    rng = random.Random(seed)
    split = random.Random(seed + 1)
    out = []
    specs = list(rubric.inputs.items())
    for _ in range(n):
        dept: dict[str, Any] = {}
        for name, spec in specs:
            if spec.kind == "boolean":
                dept[name] = rng.random() < 0.85
            elif spec.kind == "choice":
                dept[name] = rng.choice(spec.options or ("",))
            elif spec.kind in ("count", "integer"):
                low = int(spec.min if spec.min is not None else 1)
                high = int(spec.max if spec.max is not None else 30)
                dept[name] = Decimal(rng.randint(max(low, 0), max(low, high)))
            elif spec.kind == "percent":
                low = float(spec.min if spec.min is not None else 50)
                high = float(spec.max if spec.max is not None else 100)
                dept[name] = Decimal(f"{rng.uniform(max(low, 50), high):.2f}")
            else:
                low = float(spec.min if spec.min is not None else 1)
                high = float(spec.max if spec.max is not None else 500)
                dept[name] = Decimal(f"{rng.uniform(max(low, 1), min(high, 500)):.2f}")
        _split_spending(dept, split)
        out.append(dept)
    return out


def _split_spending(dept: dict[str, Any], rng: random.Random) -> None:
    """The department's spending total cut at random into its six lines, to the cent
    (a rubric without them is left as it is)."""
    if not {"spend_total", *_SPEND_LINES} <= dept.keys():
        return
    cents = int(dept["spend_total"] * 100)
    cuts = sorted(rng.randint(0, cents) for _ in range(len(_SPEND_LINES) - 1))
    for name, low, high in zip(_SPEND_LINES, [0, *cuts], [*cuts, cents], strict=True):
        dept[name] = Decimal(high - low).scaleb(-2)


def with_claims(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]], seed: int = 12
) -> list[dict[str, Any]]:
    """The departments with the self-evaluation each sent in (``claimed:``): the scores the
    rubric gives them, their total and grade; one in ten over-claims a leaf by a point
    (so its review has findings and explanations to write)."""
    rng = random.Random(seed)
    out = []
    for dept in population:
        result = compiled.score(dept, explain=False)
        claims: dict[str, Any] = {n.id: n.score for n in result.leaves}
        if rng.random() < 0.1:
            leaf = rng.choice(result.leaves)
            claims[leaf.id] = min(leaf.weight, leaf.score + 1)
        claims["total"] = result.total
        claims["grade"] = result.grade
        out.append({**dept, "claimed": claims})
    return out


def generate_realistic(
    rubric: perfscore.Rubric, n: int, seed: int = 2024
) -> tuple[list[dict[str, Any]], list[bool]]:
    """``n`` departments as real populations come: about 40 % with at least one missing
    optional input or not-applicable leaf (no satisfaction survey, benefits not assessed,
    neither 三公 budget nor spending, no procurement, no project spending, no fixed assets,
    a spending line left empty), and 2 % bad rows (a required input missing, a negative
    figure, text in a number, a percent over 100). Returns the departments (numbers as
    Decimals, gaps as None) and which rows are bad."""
    rng = random.Random(seed)
    population = generate(rubric, n, seed)
    bad = [False] * n
    zero = Decimal("0.00")
    for i, dept in enumerate(population):
        if rng.random() < 0.10:
            dept["satisfaction"] = None
        if rng.random() < 0.07:
            dept["economic_benefit"] = None
        if rng.random() < 0.08:
            dept["ecological_benefit"] = None
        if rng.random() < 0.04:
            dept["sangong_budget_last"] = dept["sangong_budget_this"] = zero
            dept["sangong_actual_this"] = zero
        if rng.random() < 0.04:
            dept["procurement_budget"] = dept["procurement_actual"] = zero
        if rng.random() < 0.03:
            dept["project_spend_total"] = dept["key_project_spend"] = zero
        if rng.random() < 0.02:
            dept["fixed_assets_total"] = dept["fixed_assets_in_use"] = zero
        if rng.random() < 0.08:
            dept[rng.choice(_SPEND_LINES)] = None
        if rng.random() < 0.02:
            bad[i] = True
            kind = rng.randrange(4)
            if kind == 0:
                dept["staff_actual"] = None
            elif kind == 1:
                dept["spend_total"] = Decimal("-12.50")
            elif kind == 2:
                dept["budget_final"] = "待补"
            else:
                dept["satisfaction"] = Decimal("150")
    return population, bad


_SPEND_LINES = (
    "spend_general_public",
    "spend_social_security",
    "spend_health",
    "spend_agriculture",
    "spend_housing",
    "spend_disaster",
)


def _csv_text(population: list[dict[str, Any]]) -> str:
    """The population as a CSV file's text: an ``id`` column, empty cells for gaps."""
    import csv
    import io

    names = list(population[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", *names])
    for i, dept in enumerate(population):
        writer.writerow([f"d{i}", *("" if dept[k] is None else dept[k] for k in names)])
    return buffer.getvalue()


def rate(
    fn: Callable[[dict[str, Any]], Any], population: list[dict[str, Any]], repeat: int = 3
) -> float:
    """Best of ``repeat`` runs, in departments per second."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for dept in population:
            fn(dept)
        best = min(best, time.perf_counter() - start)
    return len(population) / best


def simpleeval_engine() -> perfscore.CompiledRubric:
    """The engine with every formula evaluated by simpleeval from a cached parse."""
    import ast

    import simpleeval

    from perfscore import _reference, formula

    original = formula._compile_function

    def through_simpleeval(expr: Any) -> Callable[[Any], Any]:
        source = formula.formula_text(expr)
        tree = _reference._DecimalLiterals(source).visit(ast.parse(source, mode="eval")).body
        evaluator = simpleeval.SimpleEval(
            operators=_reference._OPERATORS,
            functions={name: spec.impl for name, spec in formula.FUNCTIONS.items()},
        )

        def evaluate(values: Any) -> Any:
            evaluator.names = values
            return evaluator.eval(source, previously_parsed=tree)

        return evaluate

    formula._compile_function = through_simpleeval  # type: ignore[assignment]
    try:
        compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    finally:
        formula._compile_function = original
    object.__setattr__(compiled, "_fast", None)
    return compiled


def import_time(statement: str, runs: int = 7) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


def load_time(runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _jsonl_lines(population: list[dict[str, Any]], n: int) -> Iterable[str]:
    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, Decimal) else value

    for i in range(n):
        dept = population[i % len(population)]
        yield (
            json.dumps(
                {"id": f"d{i}", **{k: plain(v) for k, v in dept.items()}}, ensure_ascii=False
            )
            + "\n"
        )


# Spawns a command and prints its exit code and peak RSS (kB). The CLI is started through
# it because the peak RSS of a child of this process is never below this process's own:
# Linux keeps the peak of the address space that exec replaces, and a child execs from a
# copy of ours (here 140-180 MB of generated departments and timings), not from nothing.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def _csv_lines(population: list[dict[str, Any]], n: int, delimiter: str) -> Iterable[str]:
    """A CSV (or TSV) file's lines of ``n`` departments, as :func:`_jsonl_lines` holds
    them: an ``id`` column, empty cells for gaps, booleans as ``true``/``false``."""
    import csv
    import io

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    names = list(population[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["id", *names])
    for i in range(n):
        dept = population[i % len(population)]
        writer.writerow([f"d{i}", *(cell(dept.get(k)) for k in names)])
        if buffer.tell() > 1 << 20:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def stream_memory(
    population: list[dict[str, Any]], n: int, form: str = "jsonl"
) -> dict[str, float] | None:
    """Rate and peak RSS of the CLI scoring ``n`` departments from a JSONL (or CSV, TSV:
    ``form``) file into a CSV file (the file is written first, outside the time; pipes
    are refused as populations)."""
    cli = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "perfscore"]
    with tempfile.TemporaryDirectory() as tmp:
        population_file = Path(tmp) / f"population.{form}"
        with population_file.open("w", encoding="utf-8") as handle:
            if form == "jsonl":
                handle.writelines(_jsonl_lines(population, n))
            else:
                handle.writelines(_csv_lines(population, n, "\t" if form == "tsv" else ","))
        out = Path(tmp) / "scores.csv"
        start = time.perf_counter()
        result = subprocess.run(
            [*cli, "score", str(RUBRIC), str(population_file), "--out", str(out)],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        code, peak_kb = (int(x) for x in (result.stdout.split() or ["-1", "0"])[:2])
        if code not in (0, 1):
            print(f"stream run failed: {result.stderr[-500:]}", file=sys.stderr)
            return None
        return {
            "format": form,
            "departments": n,
            "seconds": round(seconds, 2),
            "departments_per_second": round(n / seconds),
            "peak_rss_mb": round(peak_kb / 1024, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--departments", type=int, default=20_000, help="population timed in memory"
    )
    parser.add_argument(
        "--stream",
        type=int,
        default=1_000_000,
        help="departments streamed through the CLI (0: skip)",
    )
    parser.add_argument(
        "--stream-format",
        choices=("jsonl", "csv", "tsv"),
        default="jsonl",
        help="the streamed population file's format (default: jsonl)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the figures as JSON on the last line"
    )
    args = parser.parse_args()

    rubric = perfscore.load_rubric(RUBRIC)
    compiled = perfscore.compile_rubric(rubric)
    population = generate(rubric, args.departments)

    disagree = [
        i
        for i, dept in enumerate(population)
        if (lambda r, h: (r.total, r.grade) != h)(
            compiled.score(dept, explain=False), shaoyang_by_hand.score(dept)
        )
    ]
    if disagree:
        sys.exit(
            f"the hand-written floor disagrees with perfscore on {len(disagree)} "
            f"departments, e.g. {disagree[:5]}"
        )

    realistic, bad_rows = generate_realistic(rubric, args.departments)
    _check_realistic_floor(compiled, realistic, bad_rows)

    figures: dict[str, Any] = {"machine": _machine(), "departments": len(population)}
    reference = simpleeval_engine()
    tenth, quarter = (
        population[: max(1, len(population) // 10)],
        population[: max(1, len(population) // 4)],
    )
    paths: dict[str, tuple[Callable[[dict[str, Any]], Any], list[dict[str, Any]]]] = {
        "floor": (shaoyang_by_hand.score, population),
        "simpleeval_cached": (lambda d: reference.score(d, explain=False), tenth),
        "row": (lambda d: compiled.score(d, explain=False), population),
        "row_explain": (lambda d: compiled.score(d).indicators, quarter),
        "review": (lambda d: compiled.review(d).findings, with_claims(compiled, quarter)),
        "floor_realistic": (_tolerant(shaoyang_by_hand.score_realistic), realistic),
        "row_realistic": (_tolerant(lambda d: compiled.score(d, explain=False)), realistic),
        "explain_realistic": (
            _tolerant(lambda d: compiled.score(d).indicators),
            realistic[: max(1, len(realistic) // 4)],
        ),
    }
    # Rounds interleave the paths, so that a machine that speeds up or slows down during
    # the run affects them alike; each path keeps its best round.
    rates = dict.fromkeys(paths, 0.0)
    for _ in range(5):
        for name, (fn, departments) in paths.items():
            rates[name] = max(rates[name], rate(fn, departments, repeat=1))
    vectorised = _vectorised(compiled, population)
    if vectorised is not None:
        rates["vectorised"] = vectorised
    from_columns = _vectorised_from_columns(compiled, population)
    realistic_figures = _vectorised_realistic(compiled, realistic, bad_rows)
    if realistic_figures is not None:
        rates["vectorised_realistic"] = realistic_figures["departments_per_second"]
    figures["departments_per_second"] = {k: round(v) for k, v in rates.items()}
    # Paths on the realistic population are measured against the realistic floor.
    figures["ratios"] = {
        k: round(v / rates["floor_realistic" if "realistic" in k else "floor"], 3)
        for k, v in rates.items()
        if k not in ("floor", "floor_realistic")
    }
    if realistic_figures is not None:
        figures["ratios"]["fallback_share"] = realistic_figures["fallback_share"]
        figures["realistic"] = {
            "departments": len(realistic),
            "with_not_applicable_or_gap": round(
                sum(_unusual(d) for d in realistic) / len(realistic), 3
            ),
            "bad_rows": sum(bad_rows),
            "rows_from_engine": realistic_figures["rows_from_engine"],
            # pandas.read_csv alone, as a ratio to the realistic floor: the most
            # vectorised_realistic can reach
            "read_csv_ratio": round(
                realistic_figures["read_csv_per_second"] / rates["floor_realistic"], 3
            ),
            "partitions": realistic_figures["partitions"],
        }
    if from_columns is not None:
        # End to end from columns as Parquet or Arrow hand them over: building the columns
        # (columns_from_arrays) and scoring them.
        figures["vectorised_from_columns"] = {
            "departments_per_second": round(from_columns),
            "ratio": round(from_columns / rates["floor"], 3),
        }
    figures["load_and_compile_ms"] = round(load_time() * 1000, 2)
    perfscore_import = import_time("import perfscore")
    pydantic_import = import_time("import pydantic")
    # The package root loads its parts on first use; this is the cost of the first use.
    first_use = import_time("import perfscore; perfscore.compile_rubric")
    figures["import_ms"] = {
        "perfscore": round(perfscore_import * 1000, 1),
        "pydantic": round(pydantic_import * 1000, 1),
        "ratio": round(perfscore_import / pydantic_import, 2),
        "perfscore_first_use": round(first_use * 1000, 1),
    }
    if args.stream:
        figures["stream"] = stream_memory(population, args.stream, args.stream_format)

    _print(figures)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))


def _vectorised(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]]
) -> float | None:
    try:
        from perfscore import vectorised
    except ImportError:
        return None
    table = vectorised.columns_from_records(population, compiled)
    scorer = vectorised.compile_vectorised(compiled)
    result = scorer.score(table)
    for i in range(0, len(population), max(1, len(population) // 200)):
        row = compiled.score(population[i], explain=False)
        if (result.total[i], result.grade[i]) != (row.total, row.grade):
            sys.exit(f"the vectorised path disagrees with the row engine on department {i}")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        scorer.score(table)
        best = min(best, time.perf_counter() - start)
    return len(population) / best


def _vectorised_from_columns(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]]
) -> float | None:
    """Departments per second of ``columns_from_arrays`` and scoring together, the
    population given as columns: counts as int64, other numbers as Arrow decimal128,
    booleans as numpy bools, choices as Arrow strings."""
    try:
        import numpy as np
        import pyarrow as pa

        from perfscore import vectorised
    except ImportError:
        return None
    arrays: dict[str, Any] = {}
    for name, spec in compiled.rubric.inputs.items():
        values = [dept[name] for dept in population]
        if spec.kind == "boolean":
            arrays[name] = np.array(values, dtype=bool)
        elif spec.kind == "choice":
            arrays[name] = pa.array(values, type=pa.string())
        elif spec.kind in ("count", "integer"):
            arrays[name] = np.array([int(x) for x in values], dtype=np.int64)
        else:
            arrays[name] = pa.array(values, type=pa.decimal128(18, 2))
    scorer = vectorised.compile_vectorised(compiled)
    expected = scorer.score(vectorised.columns_from_records(population, compiled))
    result = scorer.score(vectorised.columns_from_arrays(arrays, compiled))
    if (result.total, result.grade) != (expected.total, expected.grade):
        sys.exit("columns_from_arrays and columns_from_records disagree")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        scorer.score(vectorised.columns_from_arrays(arrays, compiled))
        best = min(best, time.perf_counter() - start)
    return len(population) / best


def _tolerant(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """``fn``, a bad row's exception caught (perfscore reports it; the floor gives up)."""

    def call(dept: dict[str, Any]) -> Any:
        try:
            return fn(dept)
        except (perfscore.PerfscoreError, ArithmeticError, TypeError, KeyError):
            return None

    return call


def _unusual(dept: dict[str, Any]) -> bool:
    """A gap in an optional input, or a not-applicable leaf, in this department."""
    zero = Decimal(0)
    return (
        any(v is None for v in dept.values())
        or dept["sangong_budget_this"] == dept["sangong_actual_this"] == zero
        or dept["procurement_budget"] == dept["procurement_actual"] == zero
        or dept["project_spend_total"] == zero
        or dept["fixed_assets_total"] == zero
    )


def _check_realistic_floor(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]], bad: list[bool]
) -> None:
    disagree = []
    for i, dept in enumerate(population):
        try:
            result = compiled.score(dept, explain=False)
        except perfscore.PerfscoreError:
            if not bad[i]:
                disagree.append(i)
            continue
        if bad[i] or (result.total, result.grade) != shaoyang_by_hand.score_realistic(dept):
            disagree.append(i)
    if disagree:
        sys.exit(
            f"the realistic floor disagrees with perfscore on {len(disagree)} departments, "
            f"e.g. {disagree[:5]}"
        )


def _vectorised_realistic(
    compiled: perfscore.CompiledRubric, population: list[dict[str, Any]], bad: list[bool]
) -> dict[str, Any] | None:
    """End to end from a CSV file: ``pandas.read_csv`` of the file (money as float64, gaps
    as NaN) and :func:`perfscore.score_frame` to the result frame (best of 7); the same
    for ``read_csv`` alone, the ceiling of that figure; and the share of the good rows
    the vectorised path sends back to the row engine."""
    try:
        import pandas

        from perfscore import vectorised
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "population.csv"
        path.write_text(_csv_text(population), encoding="utf-8")
        frame = pandas.read_csv(path)
        out = perfscore.score_frame(compiled, frame)
        for i in range(0, len(population), max(1, len(population) // 500)):
            try:
                row = compiled.score(population[i], explain=False)
            except perfscore.PerfscoreError:
                if out["status"].iloc[i] != "failed":
                    sys.exit(f"score_frame scored bad department {i}")
                continue
            if (out["total"].iloc[i], out["grade"].iloc[i]) != (row.total, row.grade):
                sys.exit(f"score_frame disagrees with the row engine on department {i}")
        arrays = {c: frame[c] for c in frame.columns if c != "id"}
        result = vectorised.compile_vectorised(compiled).score(
            vectorised.columns_from_arrays(arrays, compiled)
        )
        good = len(population) - sum(bad)
        back = sum(1 for i in result.exact_rows if not bad[i])
        best = read = float("inf")
        for _ in range(7):
            start = time.perf_counter()
            read_in = pandas.read_csv(path)
            middle = time.perf_counter()
            perfscore.score_frame(compiled, read_in)
            best = min(best, time.perf_counter() - start)
            read = min(read, middle - start)
    return {
        "departments_per_second": len(population) / best,
        "read_csv_per_second": len(population) / read,
        "fallback_share": round(back / good, 4),
        "rows_from_engine": len(result.exact_rows),
        "partitions": _partitions(compiled, frame),
    }


def _partitions(compiled: perfscore.CompiledRubric, frame: Any) -> dict[str, Any] | None:
    """``score_partition`` in the worker processes of a Dask ``LocalCluster`` (two, one
    thread each) against ``score_frame`` in this process, on the same partitions of the
    realistic frame: departments per second each, best of 5 calls on each partition in
    three rounds, timed where the scoring runs. One partition is scored at a time, in
    turn here and in a worker, so that neither competes with the other for the cores."""
    try:
        import distributed
    except ImportError:
        return None
    text = RUBRIC.read_text(encoding="utf-8")
    size = max(1, len(frame) // 4)
    parts = [frame.iloc[k : k + size] for k in range(0, len(frame), size)]
    here = there = float("inf")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            host="127.0.0.1",
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for part in parts * 3:
            there = min(there, client.submit(_timed_partition, part, text, pure=False).result())
            here = min(here, _timed(perfscore.score_frame, compiled, part))
    return {
        "rows": size,
        "score_frame_per_second": round(size / here),
        "score_partition_per_second": round(size / there),
        "ratio": round(here / there, 3),
    }


def _timed(fn: Callable[..., Any], *args: Any, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def _timed_partition(part: Any, text: str) -> float:
    """Seconds of the best of 5 ``score_partition`` calls on ``part``, in a worker; the
    rubric is compiled by a first call, as a worker compiles it once."""
    from perfscore.distributed import score_partition

    score_partition(part, text)
    return _timed(score_partition, part, text)


def _machine() -> str:
    import platform

    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {python}, {platform.system()}"


def _print(figures: dict[str, Any]) -> None:
    print(
        f"perfscore benchmark: Shaoyang 2023 rubric, {figures['departments']} generated departments"
    )
    print(f"machine: {figures['machine']}")
    print()
    print(f"{'path':<22}{'departments/s':>15}{'× floor':>10}")
    for name, value in figures["departments_per_second"].items():
        floor = name in ("floor", "floor_realistic")
        ratio = "1.000" if floor else f"{figures['ratios'][name]:.3f}"
        print(f"{name:<22}{value:>15,}{ratio:>10}")
    if "fallback_share" in figures["ratios"]:
        real = figures["realistic"]
        print(
            f"realistic population: {real['with_not_applicable_or_gap']:.0%} with a gap or a "
            f"not-applicable leaf, {real['bad_rows']} bad rows; good rows sent back to the "
            f"row engine: {figures['ratios']['fallback_share']:.2%}; pandas.read_csv alone "
            f"{real['read_csv_ratio']:.1f} × floor"
        )
        parts = real.get("partitions")
        if parts:
            print(
                f"score_partition on a LocalCluster: {parts['score_partition_per_second']:,} "
                f"departments/s per partition of {parts['rows']:,}, score_frame here "
                f"{parts['score_frame_per_second']:,}: {parts['ratio']:.0%}"
            )
    columns = figures.get("vectorised_from_columns")
    if columns:
        print(
            f"{'vectorised, columns':<22}{columns['departments_per_second']:>15,}"
            f"{columns['ratio']:>10.3f}  (columns_from_arrays + scoring)"
        )
    print()
    print(f"load and compile (median): {figures['load_and_compile_ms']} ms")
    imp = figures["import_ms"]
    print(
        f"import perfscore: {imp['perfscore']} ms; import pydantic: {imp['pydantic']} ms; "
        f"ratio {imp['ratio']}; first use (models and engine): {imp['perfscore_first_use']} ms"
    )
    stream = figures.get("stream")
    if stream:
        print(
            f"CLI streaming {stream['departments']:,} departments: {stream['seconds']:.1f} s "
            f"({stream['departments_per_second']:,}/s), peak memory {stream['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
