"""The vectorised path inside Dask: partitions scored exactly like the row engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

dd = pytest.importorskip("dask.dataframe")
pandas = pytest.importorskip("pandas")

import perfscore  # noqa: E402 - after the optional imports
from perfscore.distributed import result_columns, score_partition  # noqa: E402
from perfscore.loading import load_document  # noqa: E402

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


def _population() -> list[dict[str, object]]:
    seed, _ = load_document(SEED)
    rows = []
    for i in range(40):
        row = dict(seed)
        row["id"] = f"d{i}"
        row["satisfaction"] = float(80 + i % 15) + 0.5  # binary floats, read through repr
        row["special_funds_late"] = i % 7
        row["social_benefit"] = ["好", "较好", "一般", "差"][i % 4]
        rows.append(row)
    rows[5]["staff_actual"] = "seventeen"  # a bad row: reported, never dropped
    return rows


def test_dask_map_partitions_agrees_with_the_row_engine() -> None:
    text = RUBRIC.read_text(encoding="utf-8")
    population = _population()
    frame = dd.from_pandas(pandas.DataFrame(population), npartitions=4)
    scores = frame.map_partitions(score_partition, text, meta=result_columns(text))
    result = scores.compute(scheduler="threads").set_index("id")
    assert len(result) == len(population)
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    for row in population:
        dept_id = str(row["id"])
        inputs = {k: v for k, v in row.items() if k != "id"}
        inputs["satisfaction"] = Decimal(repr(inputs["satisfaction"]))
        if dept_id == "d5":
            assert result.loc[dept_id, "status"] == "failed"
            assert "staff_actual" in result.loc[dept_id, "errors"]
            continue
        expected = compiled.score(inputs, explain=False)
        assert result.loc[dept_id, "status"] == "ok"
        assert Decimal(result.loc[dept_id, "total"]) == expected.total
        assert result.loc[dept_id, "grade"] == expected.grade
        assert Decimal(result.loc[dept_id, "social_benefit"]) == expected["social_benefit"].score


def test_partition_of_typed_columns_with_gaps_agrees_with_the_row_engine() -> None:
    text = RUBRIC.read_text(encoding="utf-8")
    population = _population()[:12]
    frame = pandas.DataFrame(population)
    # nullable integers with a gap, a text choice with a gap and one unknown option
    frame["special_funds_late"] = pandas.array(
        [None if i == 3 else i % 7 for i in range(12)], dtype="Int64"
    )
    frame.loc[4, "social_benefit"] = None
    frame.loc[6, "social_benefit"] = "极好"
    result = score_partition(frame, text).set_index("id")
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    for i, row in enumerate(population):
        dept_id = str(row["id"])
        inputs = {k: v for k, v in row.items() if k != "id"}
        inputs["satisfaction"] = Decimal(repr(inputs["satisfaction"]))
        if i == 3:
            del inputs["special_funds_late"]
        if i == 4:
            del inputs["social_benefit"]
        if i == 6:
            inputs["social_benefit"] = "极好"
        try:
            expected = compiled.score(inputs, explain=False)
        except perfscore.PerfscoreError:
            assert result.loc[dept_id, "status"] == "failed", dept_id
            continue
        assert result.loc[dept_id, "status"] == "ok", dept_id
        assert Decimal(result.loc[dept_id, "total"]) == expected.total
        assert result.loc[dept_id, "grade"] == expected.grade
    assert result.loc["d5", "status"] == "failed"
    assert result.loc["d6", "status"] == "failed"


def test_score_partition_on_a_local_cluster_with_worker_processes() -> None:
    """Partitions from a CSV (money as float64 with gaps, a bad row) scored in worker
    processes: the frame score_frame gives in this process, row for row."""
    distributed = pytest.importorskip("distributed")
    import io

    text = RUBRIC.read_text(encoding="utf-8")
    population = _population()
    population[7]["satisfaction"] = None  # not applicable
    population[9]["spend_total"] = -3  # refused
    buffer = io.StringIO()
    pandas.DataFrame(population).to_csv(buffer, index=False)
    buffer.seek(0)
    frame = pandas.read_csv(buffer)
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    expected = perfscore.score_frame(compiled, frame)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            host="127.0.0.1",
            worker_dashboard_address=None,
            memory_limit="1GiB",
        ) as cluster,
        distributed.Client(cluster, timeout="60s") as client,
    ):
        scores = dd.from_pandas(frame, npartitions=4).map_partitions(
            score_partition, text, meta=result_columns(text)
        )
        got = client.compute(scores).result(timeout=120)
    assert list(got.columns) == list(expected.columns)
    assert [str(t) for t in got.dtypes] == [str(t) for t in expected.dtypes]
    assert got.astype(str).equals(expected.astype(str))
    assert list(got["status"]).count("failed") == 2  # d5 and d9
    assert got["issue_code"].iloc[9] == "input.bounds"


def test_an_equal_text_finds_the_rubric_compiled_for_it() -> None:
    """A worker compiles a text once: the same text as a new object (Dask hands each task
    its own copy) finds the compiled rubric; a different text does not."""
    from perfscore.population import distributed

    text = RUBRIC.read_text(encoding="utf-8")
    copy = "".join(list(text))
    assert copy == text
    assert copy is not text
    compiled = distributed._compiled(text)
    assert distributed._compiled(copy) is compiled
    changed = text.replace("id: shaoyang-dept-overall-2023", "id: shaoyang-copy", 1)
    assert distributed._compiled(changed) is not compiled
    assert distributed._compiled(changed).id == "shaoyang-copy"
