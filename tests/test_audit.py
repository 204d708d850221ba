"""The audit record every result carries (rubric id, version, hash; perfscore's version;
the inputs hash), and ``perfscore verify`` that scores again and confirms or says what
differs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfscore
from perfscore.authoring.verify import verify_result
from perfscore.cli import main
from perfscore.loading import load_document
from perfscore.results import inputs_hash

from .property.strategies import department_inputs, rubrics

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "examples" / "demo" / "rubric.yaml"
INPUTS = ROOT / "examples" / "demo" / "inputs.yaml"
SHAOYANG = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


def _inputs(path: Path = INPUTS) -> dict[str, Any]:
    data, _ = load_document(path)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))


def test_every_result_carries_its_audit_record(compiled: perfscore.CompiledRubric) -> None:
    result = compiled.score(_inputs())
    data = result.to_dict()
    assert data["rubric"] == {"id": compiled.id, "version": compiled.version, "hash": compiled.hash}
    assert data["perfscore_version"] == perfscore.__version__
    assert data["inputs_hash"] == result.inputs_hash
    assert result.inputs_hash.startswith("sha256:")
    assert len(result.inputs_hash) == len("sha256:") + 64
    assert list(data)[:4] == ["format", "rubric", "perfscore_version", "inputs_hash"]
    assert data["format"] == perfscore.results.RESULT_FORMAT_VERSION == 1
    json.dumps(data)  # JSON-safe


def test_inputs_hash_is_of_the_inputs_as_read(compiled: perfscore.CompiledRubric) -> None:
    inputs = _inputs()
    base = compiled.score(inputs)
    # the fast path and the full engine agree
    assert compiled.score(inputs, explain=False).inputs_hash == base.inputs_hash
    # written differently, read the same: the same hash
    respelt = {
        k: (str(v) + ".00" if isinstance(v, int) and not isinstance(v, bool) else v)
        for k, v in inputs.items()
    }
    assert compiled.score(respelt).inputs_hash == base.inputs_hash
    # a different figure: a different hash; derived values are not inputs
    changed = {**inputs, "staff_actual": inputs["staff_actual"] + 1}
    assert compiled.score(changed).inputs_hash != base.inputs_hash
    only_inputs = {k: v for k, v in base.values.items() if k in compiled.rubric.inputs}
    assert inputs_hash(only_inputs) == base.inputs_hash


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric=rubrics, inputs=department_inputs(), trailing=st.integers(0, 3))
def test_inputs_hash_depends_on_values_only(
    rubric: perfscore.Rubric, inputs: dict[str, Any], trailing: int
) -> None:
    """Decimals written with more zeros, and ints as decimals, hash the same; the fast
    path's result and the full engine's hash the same."""
    compiled = perfscore.compile_rubric(rubric)
    try:
        result = compiled.score(inputs)
    except perfscore.PerfscoreError:
        return
    padded = {
        k: (
            Decimal(v).quantize(Decimal(1).scaleb(-(trailing + max(0, -v.as_tuple().exponent))))
            if isinstance(v, Decimal) and v.is_finite()
            else v
        )
        for k, v in inputs.items()
    }
    assert compiled.score(padded).inputs_hash == result.inputs_hash
    assert compiled.score(inputs, explain=False).inputs_hash == result.inputs_hash


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric=rubrics, inputs=department_inputs())
def test_a_result_verifies_against_its_own_rubric(
    rubric: perfscore.Rubric, inputs: dict[str, Any]
) -> None:
    """Any result, read back from its JSON, is confirmed: from the inputs it records and
    from the inputs given; changing its total is found."""
    compiled = perfscore.compile_rubric(rubric)
    try:
        result = compiled.score(inputs)
    except perfscore.PerfscoreError:
        return
    record = json.loads(json.dumps(result.to_dict()))
    assert verify_result(record, compiled, inputs).differences == ()
    assert verify_result(record, compiled).same
    record["total"] = str(Decimal(record["total"]) + 1)
    outcome = verify_result(record, compiled, inputs)
    assert not outcome.same
    assert [(d.kind, d.path) for d in outcome.differences] == [("score", "total")]


def test_verify_names_what_differs(compiled: perfscore.CompiledRubric) -> None:
    record = compiled.score(_inputs()).to_dict()
    leaf = next(n for n in record["indicators"] if not n["children"])
    leaf["explanation"]["steps"][0]["text"] += "（改）"
    record["grade"] = "优秀"
    record["rubric"]["version"] = "0.9"
    record["perfscore_version"] = "0.0.1"
    outcome = verify_result(record, compiled)
    kinds = [(d.kind, d.path) for d in outcome.differences]
    assert kinds == [
        ("rubric", "rubric.version"),
        ("grade", "grade"),
        ("explanation", f"indicators.{leaf['id']}.explanation"),
        ("perfscore_version", "perfscore_version"),
    ]
    assert not outcome.same
    # other inputs than those the result was computed from
    other = {**_inputs(), "staff_actual": 1}
    fresh = compiled.score(_inputs()).to_dict()
    kinds = {d.kind for d in verify_result(fresh, compiled, other).differences}
    assert "inputs" in kinds
    # only a newer perfscore: still the same result
    fresh["perfscore_version"] = "0.0.1"
    outcome = verify_result(fresh, compiled)
    assert outcome.same
    assert [d.kind for d in outcome.differences] == ["perfscore_version"]
    assert verify_result({"x": 1}, compiled).differences[0].kind == "record"


@pytest.mark.parametrize("written", [2, 0, "1", None, True])
def test_a_record_of_another_format_is_not_compared(
    compiled: perfscore.CompiledRubric, written: object
) -> None:
    """A record of a later format (or no format at all) may mean something else by the
    same keys: it is one ``record`` difference, not a comparison."""
    record = compiled.score(_inputs()).to_dict()
    record["format"] = written
    outcome = verify_result(record, compiled)
    assert [(d.kind, d.path, d.recorded) for d in outcome.differences] == [
        ("record", "format", written)
    ]
    assert not outcome.same


def test_a_record_written_before_the_format_key_verifies(
    compiled: perfscore.CompiledRubric,
) -> None:
    record = compiled.score(_inputs()).to_dict()
    del record["format"]
    assert verify_result(record, compiled).same


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), prog_name="perfscore")
    return result.exit_code, result.stdout, result.stderr


def test_cli_verify_confirms_or_lists_differences(tmp_path: Path) -> None:
    code, out, _ = _run("score", str(SHAOYANG), str(SEED), "-f", "json")
    assert code == 0
    stored = tmp_path / "result.json"
    stored.write_text(out, encoding="utf-8")
    with perfscore.i18n.use_lang("en"):
        code, out, _ = _run("verify", str(stored), str(SHAOYANG))
        assert code == 0
        assert out == (
            f"{stored}: the same result (rubric shaoyang-dept-overall-2023 version "
            "0.1-reconstructed, total 90.00, grade 良好)\n"
        )
        code, out, _ = _run("verify", str(stored), str(SHAOYANG), str(SEED))
        assert code == 0
        data = json.loads(stored.read_text(encoding="utf-8"))
        data["indicators"][2]["score"] = "0.00"
        stored.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        code, out, _ = _run("verify", str(stored), str(SHAOYANG))
        node = data["indicators"][2]["id"]
        assert code == 1
        assert f"score  indicators.{node}.score: recorded 0.00, recomputed" in out
        code, out, _ = _run("verify", str(stored), str(SHAOYANG), "-f", "json")
        assert code == 1
        payload = json.loads(out)
        assert payload["same"] is False
        assert payload["differences"][0]["path"] == f"indicators.{node}.score"
        (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
        code, _, err = _run("verify", str(tmp_path / "list.json"), str(SHAOYANG))
        assert code == 3
        assert "verify.not_a_result" in err


FRACTION = """\
id: f
title: t
inputs:
  p: {label: P, kind: percent, accept: [fraction]}
  rows:
    label: 行
    kind: table
    required: false
    columns:
      name: {label: 名称, kind: text}
      q: {label: Q, kind: percent, accept: [fraction]}
indicators:
  - {id: a, name: 甲, weight: 100, scoring: {method: formula, expression: "min(p, 100)"}}
grades:
  - {name: 合格, range: "[0, 100]"}
"""


@pytest.mark.parametrize("written", ["0.95", "0.955", "1", "0"])
def test_recorded_values_already_converted_are_read_the_same(written: str) -> None:
    """A percent that accepts fractions reads 0.95 as 95 and records 95: verifying from
    the recorded values gives it back as 0.95, so it is read as 95 again."""
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(FRACTION))
    inputs = {"p": written, "rows": [{"name": "x", "q": written}]}
    record = json.loads(json.dumps(compiled.score(inputs).to_dict()))
    outcome = verify_result(record, compiled)
    assert outcome.differences == ()
