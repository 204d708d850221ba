"""Rubrics and compiled rubrics pickle, so worker processes receive them compiled once
(a process pool, a Dask cluster); the distributed cache of compiled rubrics is bounded."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import perfscore
from perfscore.loading import load_document

from .property.strategies import department_inputs, rubrics

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


def _seed() -> dict[str, Any]:
    data, _ = load_document(SEED)
    assert isinstance(data, dict)
    return data


def _score(compiled: perfscore.CompiledRubric, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run in a worker: the rubric arrives pickled."""
    return compiled.score(inputs).to_dict()


def _score_rubric(rubric: perfscore.Rubric, inputs: dict[str, Any]) -> dict[str, Any]:
    return perfscore.compile_rubric(rubric).score(inputs).to_dict()


def test_rubric_pickles_without_its_compiled_form_and_compiles_again() -> None:
    rubric = perfscore.load_rubric(RUBRIC)
    compiled = perfscore.compile_rubric(rubric)
    restored = pickle.loads(pickle.dumps(rubric))
    assert restored == rubric
    assert restored._compiled is None  # compiled again on first use
    again = perfscore.compile_rubric(restored)
    assert again.hash == compiled.hash
    assert again.score(_seed()) == compiled.score(_seed())
    # locations survive: a problem found after unpickling still names the file and line
    with pytest.raises(perfscore.InputError) as info:
        again.score({**_seed(), "staff_actual": -1})
    assert info.value.codes


def test_compiled_rubric_pickles_and_scores_the_same() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    restored = pickle.loads(pickle.dumps(compiled))
    assert isinstance(restored, perfscore.CompiledRubric)
    assert restored.hash == compiled.hash
    assert restored.rubric.indicator_origins == compiled.rubric.indicator_origins
    assert restored.score(_seed()).to_dict() == compiled.score(_seed()).to_dict()


def test_process_pool_scores_as_this_process_does() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    seed = _seed()
    population = [{**seed, "special_funds_late": i % 5} for i in range(6)]
    expected = [compiled.score(row).to_dict() for row in population]
    with ProcessPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(_score, [compiled] * len(population), population, timeout=120))
        by_rubric = pool.submit(_score_rubric, compiled.rubric, seed).result(timeout=120)
    assert got == expected
    assert by_rubric == compiled.score(seed).to_dict()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric=rubrics, inputs=department_inputs())
def test_any_rubric_round_trips_through_pickle(
    rubric: perfscore.Rubric, inputs: dict[str, Any]
) -> None:
    """For generated rubrics and inputs: the unpickled rubric scores exactly the same."""
    compiled = perfscore.compile_rubric(rubric)
    restored = pickle.loads(pickle.dumps(compiled))
    assert restored.rubric == rubric

    def outcome(rubric: perfscore.CompiledRubric) -> Any:
        try:
            return rubric.score(inputs).to_dict()
        except perfscore.PerfscoreError as e:
            return type(e), e.codes

    assert outcome(restored) == outcome(compiled)


def test_dask_local_cluster_with_worker_processes() -> None:
    distributed = pytest.importorskip("distributed")
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    seed = _seed()
    population = [{**seed, "special_funds_late": i % 4} for i in range(4)]
    expected = [compiled.score(row).to_dict() for row in population]
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            worker_dashboard_address=None,
            memory_limit="1GiB",
        ) as cluster,
        distributed.Client(cluster, timeout="60s") as client,
    ):
        shared = client.scatter(compiled, broadcast=True)
        futures = client.map(_score, [shared] * len(population), population, pure=False)
        got = client.gather(futures)
        by_rubric = client.submit(_score_rubric, compiled.rubric, seed).result(timeout=120)
    assert by_rubric == compiled.score(seed).to_dict()
    assert got == expected


def test_distributed_cache_keeps_the_most_recently_used_rubrics() -> None:
    pandas = pytest.importorskip("pandas")
    from perfscore.population import distributed

    text = RUBRIC.read_text(encoding="utf-8")
    frame = pandas.DataFrame([{"id": "d1", **_seed()}])
    distributed._COMPILED.clear()
    texts = [
        text.replace("id: shaoyang-dept-overall-2023", f"id: shaoyang-{i}", 1)
        for i in range(distributed.CACHE_SIZE + 3)
    ]
    for variant in texts:
        assert distributed.score_partition(frame, variant)["total"].tolist() == [Decimal("90.00")]
    assert len(distributed._COMPILED) == distributed.CACHE_SIZE
    first_kept = distributed._compiled(texts[3])  # the oldest one still held
    assert distributed._compiled(texts[3]) is first_kept
    assert first_kept.id == "shaoyang-3"
    held = list(distributed._COMPILED.values())
    assert held[-1] is first_kept  # used last, so dropped last
    distributed._compiled(texts[0])  # compiled again; the least recently used goes
    assert len(distributed._COMPILED) == distributed.CACHE_SIZE
    assert all(c.id != "shaoyang-4" for c in distributed._COMPILED.values())
    assert Decimal(str(len(texts))) > distributed.CACHE_SIZE


def test_results_and_errors_come_back_from_worker_processes() -> None:
    """``pool.map(compiled.score, ...)``: results arrive equal, read-only views and all;
    an error raised in a worker arrives with every issue."""
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    seed = _seed()
    rows = [seed, {**seed, "special_funds_late": 3}]
    with ProcessPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(compiled.score, rows, timeout=120))
        failed = pool.submit(compiled.score, {**seed, "staff_actual": -1, "zzz": 1})
        with pytest.raises(perfscore.InputError) as info:
            failed.result(timeout=120)
    for result, row in zip(got, rows, strict=True):
        expected = compiled.score(row)
        assert result == expected
        assert result.inputs_hash == expected.inputs_hash
        leaf = result.leaves[0]
        assert leaf.explanation is not None
        with pytest.raises(TypeError):
            leaf.explanation.values["x"] = 1  # type: ignore[index]
    local = pytest.raises(perfscore.InputError)
    with local as here:
        compiled.score({**seed, "staff_actual": -1, "zzz": 1})
    assert info.value.issues == here.value.issues
    assert len(info.value.issues) >= 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric=rubrics, inputs=department_inputs())
def test_any_result_or_error_round_trips_through_pickle(
    rubric: perfscore.Rubric, inputs: dict[str, Any]
) -> None:
    compiled = perfscore.compile_rubric(rubric)
    outcome: perfscore.ScoreResult | perfscore.PerfscoreError
    try:
        outcome = compiled.score(inputs)
    except perfscore.PerfscoreError as e:
        outcome = e
    restored = pickle.loads(pickle.dumps(outcome))
    assert type(restored) is type(outcome)
    if isinstance(outcome, perfscore.ScoreResult):
        assert restored == outcome
        assert restored.to_dict() == outcome.to_dict()
    else:
        assert restored.issues == outcome.issues
        assert str(restored) == str(outcome)
