"""JSON Schemas: of rubric files (every shipped rubric validates) and of a rubric's inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator

import perfscore
from perfscore._interval import parse_interval
from perfscore.authoring.schema import INTERVAL_PATTERN, inputs_schema, rubric_schema
from perfscore.cli import main
from perfscore.methods import method_kinds

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_FILES = sorted(
    p
    for pattern in ("rubrics/**/*.yaml", "examples/**/rubric*.yaml")
    for p in ROOT.glob(pattern)
    if not p.name.endswith((".cases.yaml", ".inputs.yaml"))
)
COMPOSED = sorted((ROOT / "tests" / "data" / "compose").glob("*.yaml"))


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = rubric_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(validator: Draft202012Validator, data: Any) -> list[str]:
    return sorted(e.message for e in validator.iter_errors(data))


# --------------------------------------------------------------------------- rubric


def test_rubric_schema_is_draft_2020_12() -> None:
    schema = rubric_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_rubric_validates(validator: Draft202012Validator, path: Path) -> None:
    assert errors(validator, read(path)) == []


@pytest.mark.parametrize("path", COMPOSED, ids=lambda p: p.name)
def test_variants_and_libraries_validate(validator: Draft202012Validator, path: Path) -> None:
    assert errors(validator, read(path)) == []


def test_scoring_is_one_of_the_registered_methods() -> None:
    schema = rubric_schema()
    scoring = schema["$defs"]["Indicator"]["properties"]["scoring"]
    refs = [branch["$ref"].rsplit("/", 1)[1] for branch in scoring["oneOf"]]
    kinds = [schema["$defs"][ref]["properties"]["method"]["const"] for ref in refs]
    assert kinds == sorted(method_kinds())
    for ref in refs:
        assert "method" in schema["$defs"][ref]["required"]


def test_descriptions_come_from_the_models() -> None:
    defs = rubric_schema()["$defs"]
    assert defs["Indicator"]["description"].startswith("A node of the indicator tree")
    steps = defs["DeductionSteps"]["properties"]["steps"]
    assert steps["description"].startswith("whole: only complete steps count")
    assert defs["InputSpec"]["properties"]["label"]["description"]


def minimal(**changes: Any) -> dict[str, Any]:
    rubric: dict[str, Any] = {
        "id": "t",
        "title": "T",
        "inputs": {"x": {"label": "X", "kind": "percent", "min": 0, "max": 100}},
        "indicators": [
            {
                "id": "a",
                "name": "A",
                "weight": 10,
                "scoring": {
                    "method": "bands",
                    "value": "x",
                    "bands": [{"range": "[0, 60)", "points": 0}, {"equals": 100, "points": 10}],
                },
            }
        ],
        "total": 10,
        "grades": [{"name": "ok", "range": "[0, 10]"}],
    }
    rubric.update(changes)
    return rubric


def test_minimal_rubric_validates(validator: Draft202012Validator) -> None:
    assert errors(validator, minimal()) == []
    assert perfscore.loads_rubric(json.dumps(minimal())).id == "t"


def test_unknown_method_is_refused(validator: Draft202012Validator) -> None:
    rubric = minimal()
    rubric["indicators"][0]["scoring"] = {"method": "bandz", "value": "x"}
    assert errors(validator, rubric)


def test_interval_must_be_written_as_an_interval(validator: Draft202012Validator) -> None:
    rubric = minimal(grades=[{"name": "ok", "range": "0-10"}])
    (error,) = validator.iter_errors(rubric)
    assert error.validator == "pattern"
    assert list(error.absolute_path) == ["grades", 0, "range"]


def test_unknown_key_is_refused(validator: Draft202012Validator) -> None:
    assert errors(validator, minimal(totl=10)) == [
        "Additional properties are not allowed ('totl' was unexpected)"
    ]


def test_whole_rubric_needs_its_keys(validator: Draft202012Validator) -> None:
    assert errors(validator, {"id": "t"})
    assert errors(validator, {"extends": "base.yaml", "id": "t"}) == []


@pytest.mark.parametrize(
    "text",
    [
        "[80, 90)",
        "(0, 10]",
        "[90, +∞)",
        "(-∞, 60)",
        "[0,100]",
        "［80，90）",
        "(inf, 5]",
        "[95%, 100%]",
    ],
)
def test_interval_pattern_accepts_what_the_loader_reads(text: str) -> None:
    parse_interval(text)
    assert re.match(INTERVAL_PATTERN, text)


@pytest.mark.parametrize("text", ["80-90", "[80 90)", "[a, b]", "80", "[1, 2, 3]"])
def test_interval_pattern_refuses_non_intervals(text: str) -> None:
    with pytest.raises(ValueError, match=r"interval|number"):
        parse_interval(text)
    assert not re.match(INTERVAL_PATTERN, text)


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    ("rubric", "inputs"),
    [
        ("examples/demo/rubric.yaml", "examples/demo/inputs.yaml"),
        ("rubrics/shaoyang/dept-overall-2023.yaml", "examples/daxiang-emergency-2023/inputs.yaml"),
    ],
)
def test_example_inputs_validate(rubric: str, inputs: str) -> None:
    schema = inputs_schema(perfscore.load_rubric(ROOT / rubric))
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(read(ROOT / inputs))) == []


def test_inputs_schema_of_the_demo() -> None:
    rubric = perfscore.load_rubric(ROOT / "examples" / "demo" / "rubric.yaml")
    schema = inputs_schema(rubric)
    props = schema["properties"]
    assert list(props) == [*rubric.inputs, "unit", "claimed", "overrides", "judged"]
    assert schema["required"] == list(rubric.inputs)
    assert schema["additionalProperties"] is False
    assert props["staff_authorized"] == {
        "title": "编制数",
        "description": "count, 单位: 人, ≥ 1",
        "type": "integer",
        "minimum": 1,
    }
    assert props["satisfaction"]["type"] == "number"
    assert (props["satisfaction"]["minimum"], props["satisfaction"]["maximum"]) == (0, 100)
    assert props["disclosure"]["enum"] == ["及时完整", "基本及时完整", "不及时或不完整"]
    assert props["rules_exist"]["anyOf"][0] == {"type": "boolean"}
    assert "万元" in props["sangong_last_year"]["description"]


def test_inputs_schema_refuses_what_scoring_refuses() -> None:
    rubric = perfscore.load_rubric(ROOT / "examples" / "demo" / "rubric.yaml")
    validator = Draft202012Validator(inputs_schema(rubric))
    good = read(ROOT / "examples" / "demo" / "inputs.yaml")
    for change in (
        {"satisfaction": 101},
        {"disclosure": "很好"},
        {"staff_actual": -1},
        {"overrides": {"staff_control": {"score": 1}}},  # no reason
        {"unit": {"nme": "x"}},
    ):
        assert list(validator.iter_errors({**good, **change})), change
    reviewed = {**good, "unit": {"name": "某局"}, "claimed": {"total": 90, "grade": "良好"}}
    assert not list(validator.iter_errors(reviewed))
    assert list(validator.iter_errors({**good, "staff_actul": 17}))
    missing = dict(good)
    del missing["staff_actual"]
    assert list(validator.iter_errors(missing))


def test_optional_and_table_inputs() -> None:
    rubric = perfscore.load_rubric(ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml")
    props = inputs_schema(rubric)["properties"]
    rows = props["output_rows"]
    assert rows["type"] == "array"
    assert rows["items"]["properties"]["direction"]["enum"] == ["不低于", "不高于", "等于", "定性"]
    assert rows["items"]["properties"]["target"]["default"] == 0
    assert "null" in props["satisfaction_rows"]["type"]


# --------------------------------------------------------------------------- CLI


def test_cli_schema_rubric() -> None:
    result = run("schema", "rubric")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == rubric_schema()


def test_cli_schema_inputs() -> None:
    path = str(ROOT / "examples" / "demo" / "rubric.yaml")
    result = run("schema", "inputs", path)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "部门整体支出绩效评价指标评分表（演示） — inputs"
    assert schema == inputs_schema(perfscore.load_rubric(path), rubric_path=path)
