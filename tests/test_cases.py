"""The golden-case format: every key, every problem of a file at once, ``values:``
expectations, ``rubric:`` references and the JSON Schema of case files."""

from __future__ import annotations

import json
import shutil
import string
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from perfscore import i18n
from perfscore.authoring.cases import (
    CASE_KEYS,
    EXPECT_KEYS,
    FILE_KEYS,
    load_case_file,
    run_case_file,
)
from perfscore.authoring.schema import cases_schema
from perfscore.cli import main
from perfscore.errors import RubricValidationError

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "examples" / "demo"
CASE_FILES = sorted(
    p for folder in ("rubrics", "examples") for p in (ROOT / folder).rglob("*.cases.yaml")
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with i18n.use_lang("en"):
        yield


def _demo(tmp_path: Path, cases: str) -> Path:
    for name in ("rubric.yaml", "inputs.yaml"):
        shutil.copy(DEMO / name, tmp_path / name)
    path = tmp_path / "demo.cases.yaml"
    path.write_text(
        "rubric: rubric.yaml\nbase_inputs_file: inputs.yaml\ncases:\n" + cases, encoding="utf-8"
    )
    return path


def _problems(path: Path) -> list[tuple[str, str, str | None]]:
    with pytest.raises(RubricValidationError) as caught:
        load_case_file(path)
    return [
        (i.code, f"{i.location.line}:{i.location.column} {i.message}", i.hint)
        for i in caught.value.issues
    ]


# --------------------------------------------------------------------------- every problem


def test_every_problem_of_a_case_file_at_once(tmp_path: Path) -> None:
    path = _demo(
        tmp_path,
        """\
  - name: misspelt expectation
    expect: {score: {staff_control: 5}}
  - name: unknown ids
    inputs: {staff_actual: 19}
    expect:
      scores: {staff_controll: 2.5}
      status: {key_spend: skipped}
      values: {staff_control_rat: 105.56}
      grade: 良
    tolerence: 0.01
  - name: unknown ids
    expect: {total: many}
""",
    )
    assert _problems(path) == [
        ("case.unknown_key", "5:14 unknown key 'score' in expect", "did you mean 'scores'?"),
        (
            "case.unknown_indicator",
            "9:16 the rubric has no indicator 'staff_controll'",
            "did you mean 'staff_control'?",
        ),
        (
            "case.unknown_status",
            "10:27 unknown status 'skipped'",
            "one of: not_applicable, scored",
        ),
        (
            "case.unknown_value",
            "11:16 the rubric has no input or derived value 'staff_control_rat'",
            "did you mean 'staff_control_rate'?",
        ),
        ("case.unknown_grade", "12:14 the rubric has no grade '良'", "did you mean '良好'?"),
        ("case.unknown_key", "13:5 unknown key 'tolerence' in case", "did you mean 'tolerance'?"),
        ("case.duplicate_name", "14:11 case name 'unknown ids' is used twice", None),
        ("case.not_number", "15:21 'total' must be a number", None),
    ]


def test_unknown_inputs_are_reported_unless_an_error_is_expected(tmp_path: Path) -> None:
    path = _demo(
        tmp_path,
        """\
  - name: a
    inputs: {staff_actul: 19}
    expect: {total: 1}
  - name: b
    inputs: {staff_actul: 19}
    expect: {error: input.unknown}
""",
    )
    assert _problems(path) == [
        (
            "case.unknown_input",
            "5:14 the rubric has no input 'staff_actul'",
            "did you mean 'staff_actual'?",
        )
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("{total: 1}", "{total: 80.92}"))
    with pytest.raises(RubricValidationError):
        load_case_file(path)
    fixed = path.read_text(encoding="utf-8").replace(
        "staff_actul: 19}\n    expect: {total", "staff_actual: 19}\n    expect: {total"
    )
    path.write_text(fixed, encoding="utf-8")
    assert [r.passed for r in run_case_file(path)] == [False, True]


def test_problems_of_the_rubric_come_with_those_of_the_case_file(tmp_path: Path) -> None:
    path = _demo(tmp_path, "  - name: a\n    expct: {total: 1}\n")
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(
        rubric.read_text(encoding="utf-8").replace("weight:", "wieght:", 1), encoding="utf-8"
    )
    codes = [code for code, _, _ in _problems(path)]
    assert "case.unknown_key" in codes
    assert "case.no_expect" in codes
    assert "schema.unknown_key" in codes


def test_messages_are_in_both_languages(tmp_path: Path) -> None:
    path = _demo(tmp_path, "  - name: a\n    expect: {score: {staff_control: 5}}\n")
    with pytest.raises(RubricValidationError) as caught:
        load_case_file(path)
    (issue,) = caught.value.issues
    assert issue.message_in("en") == "unknown key 'score' in expect"
    assert issue.message_in("zh") == "expect 中有未知的键 'score'"


_KEY = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)


@given(
    file_extra=st.lists(_KEY, max_size=3, unique=True),
    case_extra=st.lists(_KEY, max_size=3, unique=True),
    expect_extra=st.lists(_KEY, max_size=3, unique=True),
)
def test_each_unknown_key_is_one_problem_at_its_place(
    tmp_path_factory: pytest.TempPathFactory,
    file_extra: list[str],
    case_extra: list[str],
    expect_extra: list[str],
) -> None:
    """Whatever keys are added where, each unknown one is reported once, at its path, and
    nothing else is."""
    file_extra = [k for k in file_extra if k not in FILE_KEYS]
    case_extra = [k for k in case_extra if k not in CASE_KEYS]
    expect_extra = [k for k in expect_extra if k not in EXPECT_KEYS]
    tmp_path = tmp_path_factory.mktemp("cases")
    data: dict[str, Any] = {
        "rubric": "rubric.yaml",
        "base_inputs_file": "inputs.yaml",
        "cases": [{"name": "a", "expect": {"total": 89.92}}],
    }
    for key in file_extra:
        data[key] = 1
    for key in case_extra:
        data["cases"][0][key] = 1
    for key in expect_extra:
        data["cases"][0]["expect"][key] = 1
    for name in ("rubric.yaml", "inputs.yaml"):
        shutil.copy(DEMO / name, tmp_path / name)
    path = tmp_path / "x.cases.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    expected = sorted(
        [(k,) for k in file_extra]
        + [("cases", 0, k) for k in case_extra]
        + [("cases", 0, "expect", k) for k in expect_extra]
    )
    if not expected:
        assert [r.passed for r in run_case_file(path)] == [True]
        return
    with pytest.raises(RubricValidationError) as caught:
        load_case_file(path)
    assert set(caught.value.codes) == {"case.unknown_key"}
    assert sorted(i.location.path for i in caught.value.issues) == expected
    assert all(i.location.line is not None for i in caught.value.issues)


# --------------------------------------------------------------------------- values


def test_values_check_a_computed_rate(tmp_path: Path) -> None:
    path = _demo(
        tmp_path,
        """\
  - name: 136 / 143 is 95.10%
    inputs: {staff_authorized: 143, staff_actual: 136}
    expect: {values: {staff_control_rate: 95.10, staff_actual: 136}}
  - name: a wrong rate fails
    inputs: {staff_authorized: 143, staff_actual: 136}
    expect: {values: {staff_control_rate: 95.1049}}
  - name: within the tolerance
    inputs: {staff_authorized: 143, staff_actual: 136}
    expect: {values: {staff_control_rate: 95.1049}}
    tolerance: 0.01
  - name: no value where the rate is not applicable
    inputs: {sangong_last_year: 0, sangong_this_year: 0}
    expect: {values: {sangong_change_rate: null}}
  - name: a number is not no value
    expect: {values: {sangong_change_rate: null}}
""",
    )
    results = run_case_file(path)
    assert [r.passed for r in results] == [True, False, True, True, False]
    assert [str(f) for f in results[1].failures] == [
        "value staff_control_rate: value: expected 95.1049, got 95.10"
    ]
    assert [str(f) for f in results[4].failures] == [
        "value sangong_change_rate: value: expected no value, got -4.84"
    ]


@given(
    authorized=st.integers(min_value=1, max_value=10_000),
    actual=st.integers(min_value=0, max_value=10_000),
)
def test_a_value_expectation_passes_exactly_when_it_is_the_computed_value(
    tmp_path_factory: pytest.TempPathFactory, authorized: int, actual: int
) -> None:
    rate = (Decimal(actual) * 100 / authorized).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    tmp_path = tmp_path_factory.mktemp("values")
    inputs = f"{{staff_authorized: {authorized}, staff_actual: {actual}}}"
    path = _demo(
        tmp_path,
        f"""\
  - name: right
    inputs: {inputs}
    expect: {{values: {{staff_control_rate: {rate}}}}}
  - name: off by a cent
    inputs: {inputs}
    expect: {{values: {{staff_control_rate: {rate + Decimal("0.01")}}}}}
""",
    )
    assert [r.passed for r in run_case_file(path)] == [True, False]


# --------------------------------------------------------------------------- rubric references


@pytest.mark.parametrize(
    "reference",
    ["perfscore:hunan/variant-a", "perfscore:hunan/variant-a.yaml"],
)
def test_rubric_is_named_as_extends_names_it(tmp_path: Path, reference: str) -> None:
    shipped = (ROOT / "rubrics" / "hunan" / "variant-a.cases.yaml").read_text(encoding="utf-8")
    path = tmp_path / "mine.cases.yaml"
    path.write_text(
        shipped.replace("rubric: variant-a.yaml", f"rubric: {reference}"), encoding="utf-8"
    )
    results = run_case_file(path)
    assert len(results) > 20
    assert all(r.passed for r in results)


def test_rubric_without_suffix_beside_the_case_file(tmp_path: Path) -> None:
    path = _demo(tmp_path, "  - name: a\n    expect: {total: 89.92}\n")
    path.write_text(path.read_text(encoding="utf-8").replace("rubric.yaml", "rubric", 1))
    assert [r.passed for r in run_case_file(path)] == [True]


def test_rubric_in_a_search_folder_of_the_project(tmp_path: Path) -> None:
    """As `extends` finds it: beside the case file, then in the folders the project's
    perfscore.toml declares, never above the project."""
    (tmp_path / "perfscore.toml").write_text('[references]\nsearch = ["shared"]\n')
    (tmp_path / "shared").mkdir()
    (tmp_path / "city").mkdir()
    shutil.copy(DEMO / "rubric.yaml", tmp_path / "shared" / "base.yaml")
    shutil.copy(DEMO / "inputs.yaml", tmp_path / "city" / "inputs.yaml")
    path = tmp_path / "city" / "base.cases.yaml"
    path.write_text(
        "rubric: base\nbase_inputs_file: inputs.yaml\ncases:\n"
        "  - name: a\n    expect: {total: 89.92}\n",
        encoding="utf-8",
    )
    assert [r.passed for r in run_case_file(path)] == [True]
    assert load_case_file(path).rubric_path == tmp_path / "shared" / "base.yaml"


@pytest.mark.parametrize("reference", ["../rubric.yaml", "/etc/passwd", "perfscore:nothing"])
def test_rubric_reference_refused(tmp_path: Path, reference: str) -> None:
    path = _demo(tmp_path, "  - name: a\n    expect: {total: 89.92}\n")
    path.write_text(path.read_text(encoding="utf-8").replace("rubric.yaml", reference, 1))
    problems = _problems(path)
    assert [code for code, _, _ in problems] == ["case.reference"]
    assert problems[0][1].startswith(f"1:9 rubric {reference!r} cannot be used: ")


# --------------------------------------------------------------------------- schema


def test_schema_knows_every_key_the_loader_knows() -> None:
    schema = cases_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == set(FILE_KEYS)
    assert set(schema["$defs"]["Case"]["properties"]) == set(CASE_KEYS)
    assert set(schema["$defs"]["Expect"]["properties"]) == set(EXPECT_KEYS)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_case_file_fits_the_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, cases_schema())


def test_schema_refuses_what_the_loader_refuses() -> None:
    bad = {"rubric": "r.yaml", "cases": [{"name": "a", "expect": {"score": {"x": 1}}}]}
    errors = list(jsonschema.Draft202012Validator(cases_schema()).iter_errors(bad))
    assert [list(e.absolute_path) for e in errors] == [["cases", 0, "expect"]]


def test_cli_prints_the_schema() -> None:
    result = CliRunner().invoke(main, ["schema", "cases"])
    assert result.exit_code == 0
    assert json.loads(result.output) == cases_schema()


def test_reference_documents_every_key() -> None:
    text = (ROOT / "docs" / "golden-cases.md").read_text(encoding="utf-8")
    missing = [k for k in (*FILE_KEYS, *CASE_KEYS, *EXPECT_KEYS) if f"`{k}`" not in text]
    assert missing == []
