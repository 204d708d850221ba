"""Review (复核): claims against the rubric, one department and a population; the command."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore._submission import split_submission
from perfscore.cli import main
from perfscore.i18n import use_lang
from perfscore.population import batch
from perfscore.render import review as render

from .conftest import REPO_ROOT

SHAOYANG = REPO_ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SELF_EVAL = REPO_ROOT / "examples" / "daxiang-emergency-2023" / "self-evaluation.yaml"
SEED = REPO_ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


@pytest.fixture(scope="module")
def compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(SHAOYANG))


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return data


def honest_claims(result: perfscore.ScoreResult) -> dict[str, Any]:
    claims: dict[str, Any] = {n.id: str(n.score) for n in result.leaves}
    claims["total"] = str(result.total)
    claims["grade"] = result.grade
    return claims


def test_the_example_self_evaluation_has_every_kind_of_finding(
    compiled: perfscore.CompiledRubric,
) -> None:
    data = yaml.safe_load(SELF_EVAL.read_text(encoding="utf-8"))
    review = compiled.review(data)
    found = {(f.indicator, f.kind) for f in review.findings}
    assert found == {
        ("input", "claim_above_weight"),
        ("indicator_clarity", "over_claimed"),
        ("key_spend", "claim_above_weight"),
        ("key_spend", "over_claimed"),
        ("process", "subtotal_mismatch"),
        ("payment_progress", "over_claimed"),
        ("timeliness", "over_claimed"),
        ("key_task_completion", "under_claimed"),
        ("economic_benefit", "claim_negative"),
        ("economic_benefit", "under_claimed"),
        ("ecological_benefit", "missing_claim"),
        ("public_satisfaction", "unknown_indicator"),
        ("total", "subtotal_mismatch"),
        ("total", "under_claimed"),
        ("grade", "grade_mismatch"),
    }
    assert review.computed_total == Decimal("90.00")
    assert review.claimed_total == 0
    assert review.claimed_grade == "良好"
    assert review.unit is not None
    assert review.unit["name"] == "邵阳市大祥区应急管理局"
    timeliness = review.by_kind("over_claimed")[3]
    assert timeliness.indicator == "timeliness"
    assert timeliness.difference == Decimal("1.20")
    assert "80.00%÷100%×6分" in timeliness.explanation
    grade = review.by_kind("grade_mismatch")[0]
    assert (grade.claimed, grade.computed) == ("良好", "不合格")
    assert review.discrepancy == Decimal("1") + 2 + 1 + Decimal("1.2") + 1 + Decimal("2.8")


def test_json_keys_are_exactly_the_documented_ones(compiled: perfscore.CompiledRubric) -> None:
    data = yaml.safe_load(SELF_EVAL.read_text(encoding="utf-8"))
    out = compiled.review(data).to_dict()
    assert {
        "findings",
        "claimed_total",
        "computed_total",
        "claimed_grade",
        "computed_grade",
    } <= set(out)
    for item in out["findings"]:
        assert set(item) == {
            "indicator",
            "kind",
            "claimed",
            "computed",
            "difference",
            "explanation",
        }
    assert out["claimed_total"] == "0"
    assert out["computed_total"] == "90.00"
    json.dumps(out)  # plain data throughout


def test_claims_may_be_given_apart_from_the_inputs(
    compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    result = compiled.score(seed)
    review = compiled.review(seed, honest_claims(result))
    assert review.findings == ()
    with pytest.raises(perfscore.InputError) as error:
        compiled.review(seed, {"staff_control": "三分"})
    assert error.value.codes == ("claimed.type",)


leaf_ids = st.sampled_from(
    [n.id for n in perfscore.load_rubric(SHAOYANG).leaves]  # the rubric's leaves
)


@given(
    leaf_ids, st.decimals(min_value="-2", max_value="2", places=2), st.decimals("0", "1", places=2)
)
def test_a_claim_off_by_d_is_a_finding_exactly_when_d_exceeds_the_tolerance(
    leaf: str, d: Decimal, tolerance: Decimal
) -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(SHAOYANG))
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    result = compiled.score(seed)
    claims = {n.id: n.score for n in result.leaves}
    claims[leaf] += d
    review = compiled.review(seed, claims, tolerance=tolerance)
    on_leaf = [f for f in review.findings if f.indicator == leaf]
    kinds = {f.kind for f in on_leaf}
    if abs(d) <= tolerance:
        assert not kinds & {"over_claimed", "under_claimed"}
    else:
        assert ("over_claimed" if d > 0 else "under_claimed") in kinds
        assert next(f.difference for f in on_leaf if f.kind.endswith("claimed")) == d
    weight = result[leaf].weight
    assert ("claim_above_weight" in kinds) == (claims[leaf] > weight)
    assert ("claim_negative" in kinds) == (claims[leaf] < 0)
    assert review.discrepancy == (abs(d) if abs(d) > tolerance else 0)


def test_an_override_is_what_the_claim_is_compared_with(
    compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    result = compiled.score(seed)
    claims = honest_claims(result)
    claims["timeliness"] = "6"
    claims.pop("total")
    decided = {"timeliness": {"score": 6, "reason": "延期系上级调整计划", "by": "绩效科"}}
    review = compiled.review({**seed, "overrides": decided}, claims)
    assert all(f.indicator != "timeliness" for f in review.findings)
    assert review.result["timeliness"].override is not None
    with use_lang("en"):
        text = render.render_review(review, "table")
    assert isinstance(text, str)
    assert "延期系上级调整计划" in text
    assert "Reviewer overrides" in text


def test_sections_as_dotted_columns() -> None:
    figures, submission = split_submission(
        {
            "x": 1,
            "unit.name": "某局",
            "claimed.a": "3",
            "claimed.total": "",
            "overrides.a.score": 2,
            "overrides.a.reason": "因",
            "judged.p.专家1": 4,
        }
    )
    assert figures == {"x": 1}
    assert submission.unit == {"name": "某局"}
    assert submission.claimed == {"a": "3"}
    assert submission.overrides == {"a": {"score": 2, "reason": "因"}}
    assert submission.judged == {"p": {"专家1": 4}}


def test_unit_and_claims_problems_are_reported_together(
    compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    with pytest.raises(perfscore.InputError) as error:
        compiled.score({**seed, "unit": {"nme": "x"}, "claimed": {"total": "九十"}})
    assert error.value.codes == ("unit.unknown", "claimed.type")


# --------------------------------------------------------------------------- population


def population_csv(tmp_path: Path, seed: dict[str, Any], result: perfscore.ScoreResult) -> Path:
    honest = honest_claims(result)
    rows = []
    for dept, change in (("honest", {}), ("a_bit", {"timeliness": "6"}), ("lots", {"total": "0"})):
        claims = {**honest, **change}
        row = {**seed, "id": dept, "unit.name": f"{dept} 局"}
        row.update({f"claimed.{k}": v for k, v in claims.items()})
        rows.append(row)
    rows.append({**seed, "id": "broken", "staff_actual": "many"})
    path = tmp_path / "population.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_population_is_listed_by_discrepancy_and_keeps_the_good_rows(
    tmp_path: Path, compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    path = population_csv(tmp_path, seed, compiled.score(seed))
    population = batch.review_population(batch.review_many(compiled, path))
    assert [r.id for r in population.reviewed] == ["a_bit", "lots", "honest"]
    assert [f.id for f in population.failed] == ["broken"]
    assert population.counts["over_claimed"] == 1
    # a_bit's total no longer adds up; lots claims a total of 0 under rows adding up to 90
    assert population.counts["subtotal_mismatch"] == 2
    assert population.counts["under_claimed"] == 1
    assert population.counts["grade_mismatch"] == 1
    assert population.reviewed[2].review.findings == ()


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


def test_review_command_formats_and_fail_on(tmp_path: Path) -> None:
    table = run("review", str(SHAOYANG), str(SELF_EVAL))
    assert table.exit_code == 0, table.output
    assert "邵阳市大祥区应急管理局" in table.output
    as_json = run("review", str(SHAOYANG), str(SELF_EVAL), "-f", "json")
    data = json.loads(as_json.output)
    assert data["computed_total"] == "90.00"
    assert len(data["findings"]) == 15
    for fail_on in ("any", "total", "grade"):
        assert run("review", str(SHAOYANG), str(SELF_EVAL), "--fail-on", fail_on).exit_code == 1
    loose = run("review", str(SHAOYANG), str(SELF_EVAL), "-f", "json", "--tolerance", "1.5")
    assert {f["indicator"] for f in json.loads(loose.output)["findings"]} >= {"key_spend"}
    assert "timeliness" not in {
        f["indicator"] for f in json.loads(loose.output)["findings"] if f["kind"] == "over_claimed"
    }
    assert run("review", str(SHAOYANG), str(SELF_EVAL), "--tolerance", "-1").exit_code == 2
    markdown = run("review", str(SHAOYANG), str(SELF_EVAL), "-f", "markdown")
    assert "| timeliness |" in markdown.output


def test_review_command_population_reports(
    tmp_path: Path, compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    path = population_csv(tmp_path, seed, compiled.score(seed))
    out = tmp_path / "review.xlsx"
    result = run("review", str(SHAOYANG), str(path), "--out", str(out))
    assert result.exit_code == 1  # a department failed
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames == ["汇总", "a_bit 局", "lots 局", "honest 局"]
    flagged = [row[0] for row in book["a_bit 局"].iter_rows(values_only=True)]
    assert "timeliness" in flagged
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert any(row[0] == "broken" for row in summary)
    page = tmp_path / "review.html"
    assert run("review", str(SHAOYANG), str(path), "--out", str(page)).exit_code == 1
    html = page.read_text(encoding="utf-8")
    assert html.count("<section") == 3
    assert html.index("a_bit 局") < html.index("lots 局") < html.index("honest 局")


def test_review_of_a_single_department_xlsx_report(tmp_path: Path) -> None:
    out = tmp_path / "one.xlsx"
    assert run("review", str(SHAOYANG), str(SELF_EVAL), "--out", str(out)).exit_code == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["邵阳市大祥区应急管理局"]
    values = [row[0] for row in book.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert "grade" in values
    assert "timeliness" in values


def test_report_names_the_unit_from_its_inputs(tmp_path: Path) -> None:
    result = run("report", str(SHAOYANG), str(SELF_EVAL), "-f", "markdown")
    assert result.exit_code == 0, result.output
    assert "邵阳市大祥区应急管理局" in result.output
    assert "self-evaluation" not in result.output


def test_golden_cases_state_expected_findings(tmp_path: Path) -> None:
    import shutil

    from perfscore.testing import run_case_file

    shutil.copy(SELF_EVAL, tmp_path / "self-eval.yaml")
    cases = tmp_path / "r.cases.yaml"
    cases.write_text(
        "rubric: perfscore:shaoyang/dept-overall-2023\n"  # a case file names no absolute path
        "base_inputs_file: self-eval.yaml\n"
        "cases:\n"
        "  - name: 只列出一项\n"
        "    expect:\n"
        "      findings:\n"
        "        - {indicator: timeliness, kind: over_claimed}\n"
        "        - {indicator: staff_control, kind: over_claimed}\n",
        encoding="utf-8",
    )
    (result,) = run_case_file(cases)
    failures = {(f.indicator, f.expected, f.actual) for f in result.failures}
    assert ("staff_control", "over_claimed", "not found") in failures
    assert ("grade", "nothing", "grade_mismatch") in failures
    assert ("timeliness", "over_claimed", "not found") not in failures
    assert len(result.failures) == 1 + 14


def test_the_xlsx_form_carries_the_unit_and_claims(
    tmp_path: Path, compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    from perfscore.authoring.template import CLAIMS_SHEET, DATA_SHEET, xlsx_template

    path = tmp_path / "form.xlsx"
    xlsx_template(compiled.rubric, path)
    book = openpyxl.load_workbook(path)
    claims_sheet = book[CLAIMS_SHEET]
    ids = [row[0].value for row in claims_sheet.iter_rows(min_row=2)]
    unit = ["unit.name", "unit.code", "unit.year", "unit.filled_by", "unit.filled_on"]
    assert [r[0].value for r in book[DATA_SHEET].iter_rows() if r[0].value][:5] == unit
    assert ids[-2:] == ["claimed.total", "claimed.grade"]
    assert {f"claimed.{n.id}" for n in compiled.rubric.walk()} <= set(ids)
    result = compiled.score(seed)
    wanted = {"claimed.total": float(result.total), "claimed.grade": "优秀"}
    wanted.update({f"claimed.{n.id}": float(n.score) for n in result.leaves})
    wanted["claimed.timeliness"] = 6.0
    for row in claims_sheet.iter_rows(min_row=2):
        if row[0].value in wanted:
            row[3].value = wanted[row[0].value]
    figures = {**seed, "unit.name": "某某局"}
    for row in book[DATA_SHEET].iter_rows(min_row=2):
        if row[0].value in figures:
            value = figures[row[0].value]
            row[3].value = "是" if value is True else "否" if value is False else value
    book.save(path)
    out = run("review", str(SHAOYANG), str(path), "-f", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["unit"]["name"] == "某某局"
    kinds = {(f["indicator"], f["kind"]) for f in data["findings"]}
    assert kinds == {
        ("timeliness", "over_claimed"),
        ("total", "subtotal_mismatch"),
        ("grade", "grade_mismatch"),
    }


def test_a_parquet_population_is_reviewed(
    tmp_path: Path, compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    claims = honest_claims(compiled.score(seed))
    rows = [
        {
            **{k: str(v) for k, v in seed.items()},
            "id": name,
            **{f"claimed.{k}": str(v) for k, v in claims.items()},
        }
        for name in ("a", "b")
    ]
    rows[1]["claimed.timeliness"] = "6"
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    population = batch.review_population(batch.review_many(compiled, path))
    assert [r.id for r in population.reviewed] == ["b", "a"]
    assert population.counts["over_claimed"] == 1
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    (failed,) = batch.review_many(compiled, broken)
    assert not failed.ok
    assert failed.issues[0].code == "input.parquet"  # type: ignore[union-attr]


def test_the_scoring_table_marks_an_override(
    compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    from perfscore.render.scoresheet import render_report

    decided = {"timeliness": {"score": 6, "reason": "延期系上级调整工作计划", "by": "绩效科"}}
    result = compiled.score({**seed, "overrides": decided, "unit": {"name": "某某局"}})
    text = render_report(result, compiled.rubric, "markdown")
    assert isinstance(text, str)
    line = next(row for row in text.splitlines() if "完成及时率" in row)
    assert "计算得分 4.8；" in line
    assert "复核调整为 6 分（绩效科）：延期系上级调整工作计划" in line
    assert "某某局" in text


_SEED_RESULT = perfscore.compile_rubric(perfscore.load_rubric(SHAOYANG)).score(
    yaml.safe_load(SEED.read_text(encoding="utf-8"))
)
_LEAVES = [n.id for n in _SEED_RESULT.leaves]


@given(
    st.dictionaries(
        st.sampled_from(_LEAVES),
        st.decimals(min_value="-1", max_value="1", places=2).filter(lambda d: d != 0),
        max_size=6,
    ),
    st.booleans(),
)
def test_claims_that_add_up_have_only_the_findings_of_their_rows(
    changes: dict[str, Decimal], with_subtotals: bool
) -> None:
    """Rows changed by d: each is over/under-claimed by exactly d (and above the weight or
    negative when it is); subtotals and a total that are the sums of their rows are never
    a mismatch; the discrepancy is the sum of |d|."""
    compiled = perfscore.compile_rubric(perfscore.load_rubric(SHAOYANG))
    result = _SEED_RESULT
    claims: dict[str, Decimal] = {n.id: n.score + changes.get(n.id, 0) for n in result.leaves}
    nodes = {n.id: n for n in result.indicators}

    def total_of(node_id: str) -> Decimal:
        node = nodes[node_id]
        return claims[node_id] if node.is_leaf else sum(map(total_of, node.children), Decimal(0))

    if with_subtotals:
        claims.update({n.id: total_of(n.id) for n in result.indicators if not n.is_leaf})
    tops = [n.id for n in result.indicators if n.parent is None]
    review = compiled.review(
        yaml.safe_load(SEED.read_text(encoding="utf-8")),
        {**claims, "total": sum(map(total_of, tops), Decimal(0))},
    )
    rows = {(f.indicator, f.kind, f.difference) for f in review.findings if f.indicator in changes}
    for leaf, d in changes.items():
        assert (leaf, "over_claimed" if d > 0 else "under_claimed", d) in rows
    assert not [f for f in review.findings if f.kind == "subtotal_mismatch"]
    assert not [f for f in review.findings if f.kind in ("missing_claim", "unknown_indicator")]
    assert review.discrepancy == sum((abs(d) for d in changes.values()), Decimal(0))
    over_weight = {f.indicator for f in review.by_kind("claim_above_weight")}
    assert over_weight == {n for n, c in claims.items() if c > nodes[n].effective_weight}


def test_a_result_with_an_override_and_a_unit_fits_the_result_schema(
    compiled: perfscore.CompiledRubric, seed: dict[str, Any]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from perfscore.authoring.schema import result_schema

    decided = {"timeliness": {"score": 6, "reason": "延期系上级调整工作计划"}}
    result = compiled.score({**seed, "overrides": decided, "unit": {"name": "某某局"}})
    data = json.loads(json.dumps(result.to_dict()))
    jsonschema.Draft202012Validator(result_schema()).validate(data)
    assert data["unit"] == {"name": "某某局"}
    timeliness = next(i for i in data["indicators"] if i["id"] == "timeliness")
    assert timeliness["override"]["computed"] == "4.80"
    assert timeliness["score"] == "6.00"


def test_score_and_report_take_a_parquet_population(tmp_path: Path, seed: dict[str, Any]) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [{**{k: str(v) for k, v in seed.items()}, "id": "x", "unit.name": "某某局"}]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = tmp_path / "scores.csv"
    assert run("score", str(SHAOYANG), str(path), "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("x,1,ok,90.00,良好")
    reports = tmp_path / "reports"
    done = run("report", str(SHAOYANG), str(path), "--out-dir", str(reports), "-f", "markdown")
    assert done.exit_code == 0, done.output
    assert "某某局" in (reports / "x.md").read_text(encoding="utf-8")


TINY = """
id: tiny
title: 小表
inputs:
  rate: {label: 执行率, kind: percent}
indicators:
  - id: a
    name: 甲
    weight: 60
    children:
      - {id: a1, name: 甲一, weight: 30, scoring: {method: proportional, value: rate}}
      - {id: a2, name: 甲二, weight: 30, scoring: {method: judged}}
  - {id: b, name: 乙, weight: 40, scoring: {method: proportional, value: rate}}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
"""


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"a1": 15, "a2": 20, "b": 20, "total": 55, "grade": "差"}, set()),
        ({"a1": 16, "a2": 20, "b": 20}, {("a1", "over_claimed", "1")}),
        ({"a1": 14, "a2": 20, "b": 20}, {("a1", "under_claimed", "-1")}),
        (
            {"a1": 31, "a2": 20, "b": 20},
            {("a1", "claim_above_weight", "16"), ("a1", "over_claimed", "16")},
        ),
        (
            {"a1": -1, "a2": 20, "b": 20},
            {("a1", "claim_negative", "-16"), ("a1", "under_claimed", "-16")},
        ),
        ({"a2": 20, "b": 20}, {("a1", "missing_claim", None)}),
        ({"a1": 15, "a2": 20, "b": 20, "c": 1}, {("c", "unknown_indicator", None)}),
        ({"a1": 15, "a2": 20, "b": 20, "a": 30}, {("a", "subtotal_mismatch", "-5")}),
        (
            {"a1": 15, "a2": 20, "b": 20, "total": 60},
            {("total", "subtotal_mismatch", "5"), ("total", "over_claimed", "5")},
        ),
        ({"a1": 15, "a2": 20, "b": 20, "grade": "好"}, {("grade", "grade_mismatch", None)}),
    ],
)
def test_each_kind_of_finding_on_a_small_table(
    claims: dict[str, Any], expected: set[tuple[str, str, str | None]]
) -> None:
    from .conftest import rubric_from_yaml

    compiled = perfscore.compile_rubric(rubric_from_yaml(TINY))
    review = compiled.review({"rate": 50, "judged": {"a2": 20}}, claims)
    assert review.computed_total == Decimal("55.00")
    found = {
        (f.indicator, f.kind, None if f.difference is None else str(f.difference.normalize()))
        for f in review.findings
    }
    assert found == expected


def test_review_labels_follow_the_language() -> None:
    from .conftest import rubric_from_yaml

    compiled = perfscore.compile_rubric(rubric_from_yaml(TINY))
    review = compiled.review({"rate": 50, "judged": {"a2": 20}}, {"a1": 16, "a2": 20, "b": 20})
    with use_lang("en"):
        english = render.render_review(review, "markdown")
    with use_lang("zh"):
        chinese = render.render_review(review, "markdown")
    assert isinstance(english, str)
    assert isinstance(chinese, str)
    assert "| a1 | 甲一 | over-claimed | 16 | 15.00 | 1.00 |" in english
    assert "| a1 | 甲一 | 自评高于复核 | 16 | 15.00 | 1.00 |" in chinese
    assert "Claimed total" in english
    assert "自评总分" in chinese


def test_review_on_a_date_with_a_folder_of_versions(tmp_path: Path) -> None:
    from .test_registry import _versions_folder

    folder = _versions_folder(tmp_path)
    department = tmp_path / "claims.yaml"
    department.write_text("a: 55\nclaimed: {total: 65}\n", encoding="utf-8")
    old = run("review", str(folder), str(department), "--on", "2023-06-30", "-f", "json")
    assert old.exit_code == 0, old.output
    data = json.loads(old.stdout)
    assert (data["rubric"]["version"], data["computed_total"]) == ("2023", "55.00")
    assert ("total", "over_claimed") in {(f["indicator"], f["kind"]) for f in data["findings"]}
    new = run("review", str(folder), str(department), "--on", "2024-02-01", "-f", "json")
    data = json.loads(new.stdout)
    assert (data["rubric"]["version"], data["computed_total"]) == ("2024", "65.00")
    assert ("total", "over_claimed") not in {(f["indicator"], f["kind"]) for f in data["findings"]}
    assert run("review", str(folder), str(department)).exit_code == 2  # --on is needed


def test_score_outputs_mark_an_override(tmp_path: Path, seed: dict[str, Any]) -> None:
    decided = {"timeliness": {"score": 6, "reason": "延期系上级调整工作计划", "by": "绩效科"}}
    path = tmp_path / "d.yaml"
    path.write_text(
        yaml.safe_dump({**seed, "overrides": decided}, allow_unicode=True), encoding="utf-8"
    )
    for fmt in ("table", "markdown"):
        with use_lang("zh"):
            out = run("score", str(SHAOYANG), str(path), "-f", fmt)
        assert out.exit_code == 0, out.output
        line = next(row for row in out.stdout.splitlines() if "timeliness" in row)
        assert "复核调整（计算得分 4.80）" in line
        assert "6.00" in line
    with use_lang("zh"):
        explained = run("explain", str(SHAOYANG), str(path), "-i", "timeliness")
    assert "复核调整为 6 分（绩效科）：延期系上级调整工作计划" in explained.stdout


def test_verify_gives_back_a_recorded_override_and_unit(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    decided = {"timeliness": {"score": 6, "reason": "延期系上级调整", "by": "绩效科"}}
    path = tmp_path / "d.yaml"
    path.write_text(
        yaml.safe_dump(
            {**seed, "overrides": decided, "unit": {"name": "某局"}}, allow_unicode=True
        ),
        encoding="utf-8",
    )
    scored = run("score", str(SHAOYANG), str(path), "-f", "json")
    record = tmp_path / "result.json"
    record.write_text(scored.stdout, encoding="utf-8")
    for lang in ("zh", "en"):  # explanation steps read the same in either language
        with use_lang(lang):
            assert run("verify", str(record), str(SHAOYANG)).exit_code == 0
            assert run("verify", str(record), str(SHAOYANG), str(path)).exit_code == 0
