"""Every shipped rubric with its example, through every command and format a platform or
a person reads; every JSON perfscore writes (results, errors) valid against the schema
``perfscore schema result|error`` prints."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner, Result

import perfscore
from perfscore.authoring.schema import error_schema, result_schema
from perfscore.cli import main
from perfscore.loading import load_document

ROOT = Path(__file__).parents[1]

#: Each shipped rubric (and each example rubric) with the example inputs made for it.
PAIRS: list[tuple[str, str]] = [
    ("rubrics/shaoyang/dept-overall-2023.yaml", "examples/daxiang-emergency-2023/inputs.yaml"),
    ("rubrics/mof/project-self-eval-2020.yaml", "examples/project-self-eval-2020/inputs.yaml"),
    ("examples/demo/rubric.yaml", "examples/demo/inputs.yaml"),
    ("examples/local-variant/rubric.yaml", "examples/daxiang-emergency-2023/inputs.yaml"),
    *(
        (f"rubrics/hunan/variant-{v}.yaml", f"examples/hunan-variants/variant-{v}.yaml")
        for v in "abcde"
    ),
]
IDS = [Path(rubric).parent.name + "/" + Path(rubric).stem for rubric, _ in PAIRS]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


RESULT = validator(result_schema())
ERROR = validator(error_schema())


def scored(rubric: str, inputs: str) -> perfscore.ScoreResult:
    data, _ = load_document(Path(inputs))
    return perfscore.compile_rubric(perfscore.load_rubric(rubric)).score(data)


def test_every_shipped_rubric_has_an_example() -> None:
    shipped = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "rubrics").rglob("*.yaml")
        if not path.name.endswith((".cases.yaml", ".inputs.yaml"))
        and "library" not in load_document(path)[0]  # a library of shared definitions
    }
    assert shipped, "no shipped rubrics found"
    assert shipped <= {rubric for rubric, _ in PAIRS}


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
def test_score_json_is_the_result_and_fits_the_schema(rubric: str, inputs: str) -> None:
    result = run("score", rubric, inputs, "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    RESULT.validate(data)
    expected = scored(rubric, inputs)
    assert data == json.loads(json.dumps(expected.to_dict()))
    assert data["total"] == str(expected.total)
    assert data["grade"] == expected.grade


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
@pytest.mark.parametrize("format_", ["table", "markdown"])
def test_score_table_and_markdown_show_every_leaf_and_the_total(
    rubric: str, inputs: str, format_: str
) -> None:
    result = run("score", rubric, inputs, "-f", format_)
    assert result.exit_code == 0, result.output
    expected = scored(rubric, inputs)
    assert str(expected.total) in result.stdout
    assert expected.grade in result.stdout
    for leaf in expected.leaves:
        assert leaf.name.split("（")[0][:6] in result.stdout


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
def test_explain_explains_every_leaf(rubric: str, inputs: str) -> None:
    result = run("explain", rubric, inputs)
    assert result.exit_code == 0, result.output
    expected = scored(rubric, inputs)
    for leaf in expected.leaves:
        assert leaf.id in result.stdout
        assert str(leaf.score) in result.stdout


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
@pytest.mark.parametrize("format_", ["markdown", "html"])
def test_report_text_formats_hold_the_total_and_grade(
    rubric: str, inputs: str, format_: str
) -> None:
    result = run("report", rubric, inputs, "-f", format_)
    assert result.exit_code == 0, result.output
    expected = scored(rubric, inputs)
    assert str(expected.total) in result.stdout
    assert expected.grade in result.stdout


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
def test_report_xlsx_holds_every_leaf_score(rubric: str, inputs: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    result = run("report", rubric, inputs, "-f", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    cells = [
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    text = "\n".join(cells)
    expected = scored(rubric, inputs)
    assert expected.grade in cells
    for leaf in expected.leaves:
        assert leaf.name in text


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
def test_to_dict_is_json_safe(rubric: str, inputs: str) -> None:
    result = scored(rubric, inputs)
    for explanations in (True, False):
        data = result.to_dict(explanations=explanations)
        assert json.loads(json.dumps(data, ensure_ascii=False)) == data
        RESULT.validate(data)


# --------------------------------------------------------------------------- errors


def test_score_an_invalid_rubric_writes_the_error_as_json(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntitle: X\n", encoding="utf-8")
    result = run("score", str(broken), PAIRS[0][1], "-f", "json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    ERROR.validate(data)
    assert data["type"] == "RubricValidationError"
    assert {issue["code"] for issue in data["issues"]} == {"schema.missing"}
    assert all(i["location"]["file"] == str(broken) for i in data["issues"])
    assert "schema.missing" in result.stderr


def test_score_invalid_inputs_write_the_error_as_json(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text("staff_authorized: -1\n", encoding="utf-8")
    result = run("score", "examples/demo/rubric.yaml", str(inputs), "-f", "json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    ERROR.validate(data)
    assert data["type"] == "InputError"
    assert "input.missing" in {issue["code"] for issue in data["issues"]}


def test_a_usage_error_with_json_is_json_and_exit_2(tmp_path: Path) -> None:
    result = run("score", *PAIRS[2], "-f", "json", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    ERROR.validate(data)
    assert data["type"] == "UsageFailure"
    assert [issue["code"] for issue in data["issues"]] == ["cli.usage"]
    assert "用法: perfscore score" in result.stderr


def test_diff_exit_codes_tell_an_invalid_rubric_from_a_tripped_gate(tmp_path: Path) -> None:
    old = "examples/demo/rubric.yaml"
    broken = tmp_path / "new.yaml"
    text = (ROOT / old).read_text(encoding="utf-8")
    broken.write_text(text.replace("weight: 5", "weight: 6", 1), encoding="utf-8")
    invalid = run("diff", old, str(broken), "-f", "json")
    assert invalid.exit_code == 3
    data = json.loads(invalid.stdout)
    ERROR.validate(data)
    assert "rubric.weight_sum" in {issue["code"] for issue in data["issues"]}

    out = tmp_path / "diff.json"
    invalid_to_file = run("diff", old, str(broken), "-f", "json", "--out", str(out))
    assert invalid_to_file.exit_code == 3
    ERROR.validate(json.loads(out.read_text(encoding="utf-8")))

    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("threshold: 100", "threshold: 101", 1), encoding="utf-8")
    tripped = run("diff", old, str(changed), "-f", "json", "--fail-on", "structure")
    assert tripped.exit_code == 1
    assert json.loads(tripped.stdout)["changes"]
    assert run("diff", old, old, "-f", "json", "--fail-on", "structure").exit_code == 0


def test_every_json_error_in_the_error_schema_shape() -> None:
    with pytest.raises(perfscore.PerfscoreError) as caught:
        perfscore.loads_rubric("id: [\n")
    ERROR.validate(caught.value.to_dict())


@pytest.mark.parametrize("kind", ["result", "error"])
def test_schema_command_prints_the_versioned_schema(kind: str) -> None:
    result = run("schema", kind)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == (result_schema() if kind == "result" else error_schema())
    assert schema["$id"] == f"urn:perfscore:schema:{kind}:1"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_command_help_shows_the_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFSCORE_LANG", "en")
    commands = [
        [],
        ["validate"],
        ["score"],
        ["explain"],
        ["report"],
        ["test"],
        ["diff"],
        ["check"],
        ["template"],
        ["schema"],
        ["schema", "inputs"],
        ["schema", "result"],
    ]
    for command in commands:
        text = run(*command, "--help").stdout
        tail = text[text.index("Exit codes:") :]
        for code in ("0", "1", "2", "3"):
            assert f"\n  {code}  " in tail, (command, tail)
    assert "golden cases that failed" in run("test", "--help").stdout
    assert "a --fail-on condition holds" in run("diff", "--help").stdout
    assert "1  not used by this command" in run("schema", "result", "--help").stdout
    assert "failed golden cases, a --fail-on" in run("--help").stdout


@pytest.mark.parametrize(("rubric", "inputs"), PAIRS, ids=IDS)
def test_validate_json_names_the_rubric_it_checked(rubric: str, inputs: str) -> None:
    result = run("validate", rubric, "-f", "json")
    assert result.exit_code == 0, result.output
    compiled = perfscore.compile_rubric(perfscore.load_rubric(rubric))
    assert json.loads(result.stdout) == {
        "rubric": {"id": compiled.id, "version": compiled.version, "hash": compiled.hash},
        "issues": [],
    }


def test_validate_json_of_an_invalid_rubric_is_the_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [\n", encoding="utf-8")
    result = run("validate", str(broken), "-f", "json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    ERROR.validate(data)
    assert [issue["code"] for issue in data["issues"]] == ["yaml.syntax"]
    assert result.stderr.endswith("发现1个问题\n")


def test_warnings_in_a_result_have_the_issue_shape() -> None:
    data, _ = load_document(ROOT / "examples/demo/inputs.yaml")
    compiled = perfscore.compile_rubric(perfscore.load_rubric("examples/demo/rubric.yaml"))
    result = compiled.score({**data, "satisfaction": "0.9"}, source="inputs.yaml")
    assert [w.code for w in result.warnings] == ["input.percent_fraction"]
    out = result.to_dict()
    RESULT.validate(out)
    (warning,) = out["warnings"]
    assert warning == {**result.warnings[0].to_dict(), "severity": "warning"}
    assert warning["location"] == {
        "file": "inputs.yaml",
        "line": None,
        "column": None,
        "path": ["satisfaction"],
    }
    assert set(warning) == {"code", "severity", "message", "hint", "params", "location"}


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "{rubric}"],
        ["score", "{rubric}", "{inputs}"],
        ["score", "{rubric}", "{population}", "--out", "{out}"],
        ["explain", "{rubric}", "{inputs}"],
        ["report", "{rubric}", "{inputs}"],
        ["report", "{rubric}", "{population}", "--out-dir", "{out}"],
        ["diff", "{rubric}", "{good}"],
        ["check", "{rubric}"],
        ["template", "{rubric}"],
        ["schema", "inputs", "{rubric}"],
    ],
    ids=lambda command: " ".join(c for c in command if not c.startswith("{")),
)
def test_every_command_exits_3_for_an_invalid_rubric(command: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (ROOT / "examples/demo/rubric.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("weight: 5", "weight: 6", 1), encoding="utf-8")
    places = {
        "rubric": str(broken),
        "inputs": "examples/demo/inputs.yaml",
        "population": "examples/demo/departments.csv",
        "out": str(tmp_path / "out.csv"),
        "good": "examples/demo/rubric.yaml",
    }
    result = run(*(part.format(**places) for part in command))
    assert result.exit_code == 3, result.output
    assert "[rubric.weight_sum]" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["diff", "examples/demo/rubric.yaml", "examples/demo/rubric.yaml", "--out", "{out}"],
        ["report", *PAIRS[2], "--out", "{out}"],
        ["template", "examples/demo/rubric.yaml", "--out", "{out}"],
        ["test", "examples/demo", "--junit-xml", "{out}"],
    ],
    ids=lambda command: command[0],
)
def test_an_output_that_cannot_be_written_is_a_usage_error(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFSCORE_LANG", "en")
    out = tmp_path / "missing" / "out.file"
    result = run(*(part.format(out=out) for part in command))
    assert result.exit_code == 2, result.output
    assert "cannot write this file: No such file or directory [cli.cannot_write]" in result.stderr
    assert "Traceback" not in result.output


def test_an_output_that_cannot_be_written_is_json_with_json(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "diff.json"
    good = "examples/demo/rubric.yaml"
    result = run("diff", good, good, "-f", "json", "--out", str(out))
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    ERROR.validate(data)
    (issue,) = data["issues"]
    assert (issue["code"], issue["location"]["file"]) == ("cli.cannot_write", str(out))
    assert issue["params"] == {"file": str(out), "reason": "No such file or directory"}


def test_new_help_texts_follow_the_language_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFSCORE_LANG", "en")
    english = run("schema", "result", "--help").stdout
    assert "The JSON Schema of a result" in english
    assert "Exit codes:" in english
    monkeypatch.setenv("PERFSCORE_LANG", "zh")
    chinese = run("schema", "result", "--help").stdout
    assert "评分结果的 JSON Schema" in chinese
    assert "退出码:" in chinese
    assert "评分结果（-f json）的 JSON Schema。" in run("schema", "--help").stdout
    assert "json：输出评分规则的 id" in run("validate", "--help").stdout
