"""One compiled rubric, many threads: scoring from 8 threads at once gives exactly the
results of scoring one department after another, whatever each thread's decimal context.

A compiled rubric holds no mutable evaluator state; every evaluation runs in perfscore's
own decimal context. The threads switch as often as the interpreter allows, so that any
shared state would show as a wrong result.
"""

from __future__ import annotations

import decimal
import random
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import perfscore

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
THREADS = 8
DEPARTMENTS = 400
Outcome = tuple[str, Any]


def departments(count: int, seed: int = 20231128) -> list[dict[str, Any]]:
    """Varied departments for the demo rubric: good ones, edge cases and broken ones."""
    rng = random.Random(seed)
    base: dict[str, Any] = yaml.safe_load((DEMO / "inputs.yaml").read_text(encoding="utf-8"))
    options = ["及时完整", "基本及时完整", "不及时或不完整"]
    out = []
    for i in range(count):
        dept = dict(base)
        dept["staff_authorized"] = rng.randint(1, 60)
        dept["staff_actual"] = rng.randint(0, 70)
        dept["sangong_last_year"] = Decimal(rng.randint(0, 5000)) / 100  # zero: not applicable
        dept["sangong_this_year"] = Decimal(rng.randint(0, 5000)) / 100
        dept["key_project_spend"] = Decimal(rng.randint(0, 40000)) / 100
        dept["project_spend_total"] = Decimal(rng.randint(0, 50000)) / 100
        dept["budget_initial"] = Decimal(rng.randint(1, 90000)) / 100
        dept["budget_adjustment"] = Decimal(rng.randint(-9000, 9000)) / 100
        dept["noncompliant_cases"] = rng.choice([0, 0, 1, 2, 5, 9])
        dept["disclosure"] = rng.choice(options)
        dept["key_tasks_planned"] = rng.randint(1, 20)
        dept["key_tasks_done"] = rng.randint(0, 20)
        dept["satisfaction"] = rng.choice([Decimal(rng.randint(0, 1000)) / 10, "88.5", 0.5])
        for flag in ("rules_exist", "rules_lawful", "rules_executed"):
            dept[flag] = rng.random() < 0.8
        if i % 17 == 0:  # broken data: refused the same way in every thread
            dept[rng.choice(list(dept))] = rng.choice(["１２", "1,000", "无", None, -1])
        out.append(dept)
    return out


def outcome(compiled: perfscore.CompiledRubric, inputs: dict[str, Any], explain: bool) -> Outcome:
    try:
        result = compiled.score(inputs, explain=explain)
    except perfscore.PerfscoreError as error:
        return ("error", str(error))
    return ("result", result.to_dict())


@pytest.fixture(autouse=True)
def switch_often() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def in_threads(work: Callable[[int], Outcome], count: int) -> list[Outcome]:
    """``work(i)`` for every i, from THREADS threads that start together."""
    start = threading.Barrier(THREADS)

    def worker(first: int) -> list[tuple[int, Outcome]]:
        start.wait()
        return [(i, work(i)) for i in range(first, count, THREADS)]

    with ThreadPoolExecutor(THREADS) as pool:
        chunks = list(pool.map(worker, range(THREADS)))
    done = dict(pair for chunk in chunks for pair in chunk)
    return [done[i] for i in range(count)]


@pytest.mark.parametrize("explain", [True, False])
def test_threads_score_like_one_after_another(explain: bool) -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO / "rubric.yaml"))
    depts = departments(DEPARTMENTS)
    serial = [outcome(compiled, d, explain) for d in depts]
    assert {kind for kind, _ in serial} == {"result", "error"}  # both paths exercised
    assert len({str(o) for o in serial}) > DEPARTMENTS // 2  # and the results vary
    assert in_threads(lambda i: outcome(compiled, depts[i], explain), DEPARTMENTS) == serial


def test_a_thread_decimal_context_changes_nothing() -> None:
    """Each thread sets a hostile decimal context of its own before scoring."""
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO / "rubric.yaml"))
    depts = departments(DEPARTMENTS // 2, seed=7)
    serial = [outcome(compiled, d, explain=i % 2 == 0) for i, d in enumerate(depts)]

    def work(i: int) -> Outcome:
        decimal.setcontext(
            decimal.Context(prec=3 + i % 5, rounding=decimal.ROUND_FLOOR, Emax=99, traps=[])
        )
        return outcome(compiled, depts[i], explain=i % 2 == 0)

    mixed = in_threads(work, len(depts))
    assert [o[0] for o in mixed] == [o[0] for o in serial]
    for i, (got, want) in enumerate(zip(mixed, serial, strict=True)):
        assert got == want, f"department {i}"


def test_threads_compiling_the_same_rubric_agree() -> None:
    """Compiling is cached on the rubric; threads racing to compile it get equal results."""
    rubric = perfscore.load_rubric(DEMO / "rubric.yaml")
    rubric._compiled = None  # as loaded, before anyone compiled it
    depts = departments(THREADS * 4, seed=11)
    reference = perfscore.compile_rubric(perfscore.load_rubric(DEMO / "rubric.yaml"))
    serial = [outcome(reference, d, explain=True) for d in depts]
    racing = in_threads(
        lambda i: outcome(perfscore.compile_rubric(rubric), depts[i], explain=True), len(depts)
    )
    assert racing == serial
