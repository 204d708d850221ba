"""score_frame: a data frame of departments scored into typed columns, and the one
missing-value rule on every path."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

import perfscore  # noqa: E402
from perfscore import i18n, vectorised  # noqa: E402
from perfscore._inputs import is_missing as is_gap  # noqa: E402
from perfscore.loading import load_document  # noqa: E402
from perfscore.population.vectorised import _float_units  # noqa: E402

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


@pytest.fixture(scope="module")
def compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))


def _population(compiled: perfscore.CompiledRubric) -> list[dict[str, Any]]:
    """The seed department varied: gaps in optional inputs, zero divisors, bad rows."""
    seed, _ = load_document(SEED)
    seed = {
        k: (Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v)
        for k, v in seed.items()
    }
    variants: list[dict[str, Any]] = [
        {},
        {"satisfaction": None},
        {"economic_benefit": None, "ecological_benefit": None},
        {"spend_health": None},
        {"procurement_budget": Decimal(0), "procurement_actual": Decimal(0)},
        {"tasks_done": Decimal(0), "tasks_on_time": Decimal(0), "tasks_quality_ok": Decimal(0)},
        {"satisfaction": Decimal("87.35"), "budget_adjustment": Decimal("-12.5")},
        {"staff_actual": None},  # a required input missing: failed
        {"spend_total": Decimal("-1")},  # out of bounds: failed
    ]
    return [{**seed, **variant} for variant in variants]


def _frame(records: list[dict[str, Any]]) -> Any:
    """The records as pandas.read_csv gives them: money as float64 with NaN for gaps."""
    buffer = io.StringIO()
    pd.DataFrame(
        [
            {"id": f"d{i}", **{k: (None if v is None else str(v)) for k, v in r.items()}}
            for i, r in enumerate(records)
        ]
    ).to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


def test_score_frame_reads_a_csv_frame_and_agrees_with_the_row_engine(
    compiled: perfscore.CompiledRubric,
) -> None:
    records = _population(compiled)
    frame = _frame(records)
    assert frame["satisfaction"].dtype == np.float64
    out = perfscore.score_frame(compiled, frame)
    assert list(out.columns) == list(perfscore.population.frames.frame_columns(compiled))
    assert out["total"].dtype == pd.ArrowDtype(pa.decimal128(38, 2))
    assert str(out["status"].dtype) == "category"
    for i, record in enumerate(records):
        row = out.iloc[i]
        try:
            expected = compiled.score(record, explain=False)
        except perfscore.PerfscoreError as error:
            codes = "; ".join(issue.code for issue in error.issues)
            assert row["status"] == "failed"
            assert pd.isna(row["total"])
            assert pd.isna(row["grade"])
            assert row["issue_code"] == codes
            continue
        assert row["status"] == "ok"
        assert pd.isna(row["issue_code"])
        assert row["total"] == expected.total
        assert row["grade"] == expected.grade
        for node in expected.indicators:
            if node.id in out.columns:
                assert row[node.id] == node.score, (i, node.id)


def test_float64_columns_are_read_exactly_without_the_row_engine(
    compiled: perfscore.CompiledRubric,
) -> None:
    records = _population(compiled)[:1] * 50
    frame = _frame(records)
    columns = vectorised.columns_from_arrays(
        {c: frame[c] for c in frame.columns if c != "id"}, compiled
    )
    result = vectorised.compile_vectorised(compiled).score(columns)
    assert result.rows_from_engine == 0
    assert result.total == [compiled.score(records[0], explain=False).total] * 50


@pytest.mark.parametrize(
    "value", [0.1, 2.675, 465.92, 1e-7, 123456789.123, 3.0, -0.07, 1e14 + 0.5, 0.30000000000000004]
)
def test_the_float_rule_is_the_shortest_repr(value: float) -> None:
    _check_float_rule([value])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.decimals(-(10**12), 10**12, places=2).map(float),
            st.integers(-(10**9), 10**9).map(lambda k: k / 1000),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_float_rule_holds_at_every_edge(values: list[float]) -> None:
    """Any floats, whole columns of them: a row read here is its shortest repr exactly."""
    _check_float_rule(values)


def _check_float_rule(values: list[float]) -> None:
    units, null, places, unread = _float_units(np.array(values, dtype=np.float64))
    for value, unit, gap, left in zip(
        values, units.tolist(), null.tolist(), unread.tolist(), strict=True
    ):
        assert gap == math.isnan(value)
        if gap or left:  # a gap; or left to the row engine, which reads Decimal(repr(value))
            continue
        assert Decimal(int(unit)).scaleb(-places) == Decimal(repr(value)), value


def _float_units_by_definition(values: Any) -> tuple[Any, Any, int, Any]:
    """The float rule as its docstring states it, one grid at a time over every row:
    the reference :func:`_float_units` must agree with."""
    finite = np.isfinite(values)
    safe = np.where(finite, values, 0.0)

    def on_grid(x: Any, p: int) -> tuple[Any, Any]:
        units = np.rint(x * float(10**p))
        return units, (units / float(10**p) == x) & (np.abs(units) < 2**52)

    with np.errstate(over="ignore", invalid="ignore"):
        places = 2
        units, ok = on_grid(safe, places)
        if ok.all():
            while places > 0:
                coarser, fits = on_grid(safe, places - 1)
                if not fits.all():
                    break
                places, units, ok = places - 1, coarser, fits
        else:
            rest = safe[~ok]
            for p in range(places + 1, 7):
                _, fits = on_grid(rest, p)
                if fits.any():
                    places, rest = p, rest[~fits]
                if not len(rest):
                    break
            if places > 2:
                units, ok = on_grid(safe, places)
    ok &= finite
    null = np.isnan(values)
    return np.where(ok, units, 0.0).astype(np.int64), null, places, ~ok & ~null


_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(-(10**12), 10**12, places=2).map(float),
    st.decimals(-(10**6), 10**6, places=0).map(float),
    st.integers(-(10**9), 10**9).map(lambda k: k / 1000),
    st.sampled_from([2.0**52, -(2.0**52), 2.0**52 - 1, 4.5e13, 45035996273704.96, 0.1, 1e-7]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_FLOATS, min_size=0, max_size=8),
    st.integers(0, 150),
    st.sampled_from([0.0, 10.0, 1.5, 0.25, float("nan")]),
)
def test_the_float_rule_is_its_definition(head: list[float], length: int, fill: float) -> None:
    """:func:`_float_units`, with its shortcuts (a probe of the first rows before a
    coarser grid, bounds checked by min and max), gives what the rule by definition
    gives on every column: places, units, gaps and rows left unread."""
    values = np.array([*([fill] * length), *head], dtype=np.float64)
    for column in (values, values[::-1].copy()):
        got = _float_units(column)
        want = _float_units_by_definition(column)
        assert got[2] == want[2]
        for a, b in zip((got[0], got[1], got[3]), (want[0], want[1], want[3]), strict=True):
            assert a.dtype == b.dtype
            assert a.tolist() == b.tolist()


#: Every spelling of a gap, by entry point.
GAPS = [None, "", "   ", float("nan"), np.nan, pd.NA, pa.scalar(None, pa.float64())]


@pytest.mark.parametrize("gap", GAPS, ids=repr)
def test_one_missing_value_rule_on_every_path(
    compiled: perfscore.CompiledRubric, gap: Any, tmp_path: Path
) -> None:
    """A gap in an optional input (not applicable) and in a required one (failed), the
    key left out too: the same on the row engine, the fast path, the vectorised path
    from records and from arrays, score_frame, Dask and the command line."""
    seed = _population(compiled)[0]
    optional = {**seed, "satisfaction": gap}
    required = {**seed, "staff_actual": gap}
    absent = {k: v for k, v in seed.items() if k != "satisfaction"}
    expected = compiled._score(compiled.validate_inputs(absent), False)
    assert expected["satisfaction"].status is perfscore.Status.NOT_APPLICABLE
    # row engine and fast path
    assert compiled.score(optional).total == expected.total
    assert compiled.score(optional, explain=False) == expected
    with pytest.raises(perfscore.InputError) as info:
        compiled.score(required, explain=False)
    assert info.value.codes == ("input.missing",)
    # what the row engine says of an empty value (key given) and of a missing key
    empty = _issues(info.value)
    left_out = _issues(_engine(compiled, {k: v for k, v in seed.items() if k != "staff_actual"}))
    assert [code for code, _, _ in left_out] == ["input.missing"]
    assert empty != left_out  # the messages tell the two apart
    # vectorised, from records and from arrays (object columns, as given)
    scorer = vectorised.compile_vectorised(compiled)
    for cols in (
        vectorised.columns_from_records([optional, required, absent], compiled),
        vectorised.columns_from_arrays(
            {k: [optional.get(k), required.get(k), absent.get(k)] for k in seed}, compiled
        ),
    ):
        result = scorer.score(cols)
        assert result.total == [expected.total, None, expected.total]
        assert _issues(result.exact_rows[1]) == empty
    # a data frame, float64 where pandas makes it so, and a pyarrow Table
    frame = pd.DataFrame([optional, required, absent]).assign(id=["a", "b", "c"])
    out = perfscore.score_frame(compiled, frame)
    assert list(out["status"]) == ["ok", "failed", "ok"]
    assert list(out["issue_code"])[1] == "input.missing"
    assert out["total"][0] == out["total"][2] == expected.total
    assert _frame_issues(out, 1) == empty
    if isinstance(gap, pa.Scalar) or gap is None:
        nulls = {
            name: pa.array([None if is_gap(v) else float(v) for v in frame[name]], pa.float64())
            for name in ("satisfaction", "staff_actual")
        }
        table = pa.Table.from_pandas(frame.drop(columns=list(nulls)), preserve_index=False)
        for name, values in nulls.items():
            table = table.append_column(name, values)
        assert table.column("staff_actual").null_count == 1
        assert _frame_issues(perfscore.score_frame(compiled, table), 1) == empty
    # a column left out: the row engine's missing key, in every row
    without = perfscore.score_frame(compiled, frame.drop(columns=["staff_actual"]))
    assert list(without["status"]) == ["failed"] * 3
    assert _frame_issues(without, 0) == left_out
    # Dask, partition by partition
    dd = pytest.importorskip("dask.dataframe")
    from perfscore.distributed import result_columns, score_partition

    text = RUBRIC.read_text(encoding="utf-8")
    if isinstance(gap, pa.Scalar):
        # Dask writes object columns as text (an Arrow null scalar as "None"): an Arrow
        # null reaches a partition in an Arrow-backed column
        frame = frame.assign(
            **{
                name: pd.array(
                    [None if is_gap(v) else float(v) for v in frame[name]],
                    dtype=pd.ArrowDtype(pa.float64()),
                )
                for name in ("satisfaction", "staff_actual")
            }
        )
    scored = (
        dd.from_pandas(frame, npartitions=2)
        .map_partitions(score_partition, text, meta=result_columns(text))
        .compute(scheduler="sync")
    )
    assert list(scored["status"]) == ["ok", "failed", "ok"]
    assert scored["total"].iloc[0] == expected.total
    # the command line, from JSONL (null and text gaps) and CSV (an empty cell)
    if isinstance(gap, str) or gap is None:
        lines = [
            json.dumps({"id": "a", **{k: _json(v) for k, v in optional.items()}}),
            json.dumps({"id": "b", **{k: _json(v) for k, v in required.items()}}),
        ]
        population = tmp_path / "pop.jsonl"
        population.write_text("\n".join(lines) + "\n", encoding="utf-8")
        scores = tmp_path / "scores.jsonl"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfscore",
                "score",
                str(RUBRIC),
                str(population),
                "--out",
                str(scores),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PERFSCORE_LANG": i18n.current_lang()},
        )
        assert done.returncode == 1, done.stderr
        rows = [json.loads(line) for line in scores.read_text(encoding="utf-8").splitlines()]
        assert [r["status"] for r in rows] == ["ok", "failed"]
        assert Decimal(rows[0]["total"]) == expected.total
        assert "[input.missing]" in rows[1]["errors"]
        assert empty[0][1] in rows[1]["errors"]


def _frame_issues(out: Any, row: int) -> list[tuple[str, str, str | None]]:
    """The issues of ``out``'s row ``row`` (code, message, hint), as score_frame writes
    them: each column's texts joined by ``; ``."""
    codes = out["issue_code"][row].split("; ")
    messages = out["errors"][row].split("; ")
    hint = out["issue_hint"][row]
    hints = hint.split("; ") if hint is not None else [None] * len(codes)
    return list(zip(codes, messages, hints, strict=True))


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


#: Values a number input may be refused for, as a hand-filled sheet holds them.
_REFUSED = [
    None,
    "",
    "待补",
    "-12.50",
    "1,234.5",
    "#DIV/0!",
    "150",
    "12.5万元",
    "NaN",
    "-",
    "1e400",
    "0.1234567",
    "１２",
    True,
    Decimal("-1"),
    Decimal("1E+16"),
]


def _engine(compiled: perfscore.CompiledRubric, record: Any) -> Any:
    """The row engine's result for ``record``, or the error it raises."""
    try:
        return compiled.score(record, explain=False)
    except perfscore.PerfscoreError as error:
        return error


def _issues(error: perfscore.PerfscoreError) -> list[tuple[str, str, str | None]]:
    return [(i.code, i.message, i.hint) for i in error.issues]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["staff_actual", "spend_total", "budget_final", "satisfaction", "tasks_done"]
                ),
                st.sampled_from(_REFUSED),
            ),
            max_size=3,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_rows_refused_in_bulk_carry_the_row_engines_issues(
    compiled: perfscore.CompiledRubric, changes: list[list[tuple[str, Any]]]
) -> None:
    """Rows refused for their values are reported without the row engine, with its
    issues exactly (codes, messages, hints, in its order): from records, from a CSV frame
    (the values as pandas reads them) and from object columns."""
    seed = _population(compiled)[0]
    records = [{**seed, **dict(change)} for change in changes]
    scorer = vectorised.compile_vectorised(compiled)

    def check(result: vectorised.VectorResult, rows: Any) -> None:
        for i in range(len(records)):
            expected = _engine(compiled, rows[i])
            if isinstance(expected, perfscore.PerfscoreError):
                got = result.exact_rows.get(i)
                assert isinstance(got, perfscore.PerfscoreError), i
                assert type(got) is type(expected)
                assert _issues(got) == _issues(expected)
                continue
            if i in result.exact_rows:
                assert result.exact_rows[i] == expected
            else:
                assert result.total[i] == expected.total

    check(scorer.score(vectorised.columns_from_records(records, compiled)), records)
    arrays = {k: np.array([r.get(k) for r in records], dtype=object) for k in seed}
    columns = vectorised.columns_from_arrays(arrays, compiled)
    check(scorer.score(columns), columns.records)
    frame = _frame(records)
    arrays = {c: frame[c] for c in frame.columns if c != "id"}
    columns = vectorised.columns_from_arrays(arrays, compiled)
    check(scorer.score(columns), columns.records)
    out = perfscore.score_frame(compiled, frame)
    for i in range(len(records)):
        error = _engine(compiled, columns.records[i])
        if isinstance(error, perfscore.PerfscoreError):
            hints = [issue.hint for issue in error.issues if issue.hint]
            assert out["status"].iloc[i] == "failed"
            assert out["issue_code"].iloc[i] == "; ".join(error.codes)
            assert out["errors"].iloc[i] == "; ".join(issue.message for issue in error.issues)
            assert out["issue_hint"].iloc[i] == ("; ".join(hints) if hints else None)
        else:
            assert out["status"].iloc[i] == "ok"


def test_a_refused_row_with_an_unknown_key_goes_to_the_row_engine(
    compiled: perfscore.CompiledRubric,
) -> None:
    seed = _population(compiled)[0]
    records = [{**seed, "spend_total": Decimal("-1"), "spend_totl": 3}]
    result = vectorised.compile_vectorised(compiled).score(
        vectorised.columns_from_records(records, compiled)
    )
    error = result.exact_rows[0]
    assert isinstance(error, perfscore.InputError)
    assert error.codes == ("input.unknown", "input.bounds")


#: Ways a department's leaves become not applicable, each as the values it sets.
_NOT_APPLICABLE = {
    "no survey": {"satisfaction": None},
    "no economic benefit": {"economic_benefit": None},
    "no ecological benefit": {"ecological_benefit": None},
    "no 三公": {
        "sangong_budget_last": Decimal(0),
        "sangong_budget_this": Decimal(0),
        "sangong_actual_this": Decimal(0),
    },
    "no procurement": {"procurement_budget": Decimal(0), "procurement_actual": Decimal(0)},
    "no projects": {"project_spend_total": Decimal(0), "key_project_spend": Decimal(0)},
    "no fixed assets": {"fixed_assets_total": Decimal(0), "fixed_assets_in_use": Decimal(0)},
    "a spending line empty": {"spend_health": None},
}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sets(st.sampled_from(sorted(_NOT_APPLICABLE))),
            st.decimals(50, 100, places=2),
            st.decimals(0, 50, places=1),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_not_applicable_patterns_in_a_frame_agree_with_the_row_engine(
    compiled: perfscore.CompiledRubric, drawn: list[tuple[set[str], Decimal, Decimal]]
) -> None:
    """Many patterns of not-applicable leaves in one frame (full marks, weight to the
    siblings, rescaling): every leaf, subtotal, total and grade as the row engine's."""
    seed = _population(compiled)[0]
    records = []
    for patterns, satisfaction, key_share in drawn:
        record = {
            **seed,
            "satisfaction": satisfaction,
            "key_project_spend": seed["project_spend_total"] * (1 - key_share / 100),
        }
        for pattern in sorted(patterns):
            record.update(_NOT_APPLICABLE[pattern])
        records.append(record)
    out = perfscore.score_frame(compiled, _frame(records))
    for i, record in enumerate(records):
        expected = compiled.score(record, explain=False)
        row = out.iloc[i]
        assert row["status"] == "ok"
        assert (row["total"], row["grade"]) == (expected.total, expected.grade), i
        for node in expected.indicators:
            assert row[node.id] == node.score, (i, node.id)


def test_vectorised_scorers_are_kept_per_compiled_rubric(
    compiled: perfscore.CompiledRubric,
) -> None:
    from perfscore.population import vectorised as module

    scorer = vectorised.compile_vectorised(compiled)
    assert vectorised.compile_vectorised(compiled) is scorer
    text = RUBRIC.read_text(encoding="utf-8")
    others = [
        perfscore.compile_rubric(
            perfscore.loads_rubric(
                text.replace("id: shaoyang-dept-overall-2023", f"id: shaoyang-{i}", 1)
            )
        )
        for i in range(module.SCORERS + 2)
    ]
    for other in others:
        assert vectorised.compile_vectorised(other).compiled is other
    assert len(module._SCORERS) == module.SCORERS
    assert vectorised.compile_vectorised(compiled) is not scorer  # dropped, made again


def test_earlier_results_keep_their_values_after_later_calls(
    compiled: perfscore.CompiledRubric,
) -> None:
    """The result's decimals, and the scorer's block of leaf scores (large enough here to
    come from pyarrow's memory pool), live in buffers of their own: scoring another
    population afterwards leaves an earlier result as it was."""
    records = _population(compiled)
    frame = _frame(records * 700)
    first = perfscore.score_frame(compiled, frame)
    before = first.to_dict("list")
    scorer = vectorised.compile_vectorised(compiled)
    arrays = {c: frame[c] for c in frame.columns if c != "id"}
    result = scorer.score(vectorised.columns_from_arrays(arrays, compiled))
    assert result.leaf_units[compiled._leaves[0].node.id].base is not None  # a block's row
    leaf_units = {k: v.tolist() for k, v in result.leaf_units.items()}
    other = _frame(list(reversed(records)) * 700)
    second = perfscore.score_frame(compiled, other)
    scorer.score(
        vectorised.columns_from_arrays({c: other[c] for c in other.columns if c != "id"}, compiled)
    )
    assert first.to_dict("list") == before
    assert {k: v.tolist() for k, v in result.leaf_units.items()} == leaf_units
    assert second["total"].astype(str).tolist() != first["total"].astype(str).tolist()


def test_a_frames_own_index_and_an_arrow_table_give_the_same_rows(
    compiled: perfscore.CompiledRubric,
) -> None:
    """The result keeps the frame's index, a repeated one too (the text columns are laid
    on it as they are), and a pyarrow Table of the same columns gives the same frame on a
    RangeIndex: every column, its type, and the failed rows' codes and hints."""
    frame = _frame(_population(compiled))
    plain = perfscore.score_frame(compiled, frame)
    assert isinstance(plain.index, pd.RangeIndex)
    assert plain["issue_code"].dtype == object
    assert plain["issue_code"].notna().any()
    repeated = pd.Index(["a", "b", "a"] * (len(frame) // 3) + ["c"] * (len(frame) % 3))
    indexed = perfscore.score_frame(compiled, frame.set_index(repeated))
    assert indexed.index.tolist() == repeated.tolist()
    pd.testing.assert_frame_equal(indexed.reset_index(drop=True), plain)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pd.testing.assert_frame_equal(perfscore.score_frame(compiled, table), plain)


class _ArrowStream:
    """A frame of another library (polars, DuckDB ...) as score_frame sees it: nothing
    but the Arrow PyCapsule interface."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


def test_any_frame_with_the_arrow_capsule_interface_scores_as_its_table(
    compiled: perfscore.CompiledRubric,
) -> None:
    frame = _frame(_population(compiled))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    expected = perfscore.score_frame(compiled, table)
    pd.testing.assert_frame_equal(perfscore.score_frame(compiled, _ArrowStream(table)), expected)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7))
    pd.testing.assert_frame_equal(perfscore.score_frame(compiled, reader), expected)


def test_columns_are_read_the_same_without_pandas_own_column_iterator(
    compiled: perfscore.CompiledRubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    """score_frame takes a frame's columns through pandas' private column iterator where
    pandas has one, else as Series (``items``): the same frame either way."""
    frame = _frame(_population(compiled))
    through_iterator = perfscore.score_frame(compiled, frame)
    assert hasattr(pd.DataFrame, "_iter_column_arrays")
    monkeypatch.delattr(pd.DataFrame, "_iter_column_arrays")
    pd.testing.assert_frame_equal(perfscore.score_frame(compiled, frame), through_iterator)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["好", "较好", "一般", "差", "很好", "", None]), max_size=40),
    st.sampled_from(["string", "large_string", "dictionary"]),
)
def test_arrow_choice_codes_mark_options_gaps_and_the_rest(
    values: list[str | None], kind: str
) -> None:
    """An Arrow column of choices: each option its index, a null -2 (a gap), anything
    else -1 (the row engine reads it), whatever the Arrow string type."""
    from perfscore.population.vectorised import _choice_codes

    options = ["好", "较好", "一般", "差"]
    column = pa.array(values, type=pa.large_string() if kind == "large_string" else pa.string())
    if kind == "dictionary":
        column = column.dictionary_encode()
    codes = _choice_codes(column, options)
    expected = [-2 if v is None else options.index(v) if v in options else -1 for v in values]
    assert codes is not None
    assert codes.tolist() == expected
