"""`perfscore test`: golden cases from the command line, with a JUnit report."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from perfscore.cli import main

DEMO = Path(__file__).parents[1] / "examples" / "demo"


def _copy_demo(tmp_path: Path) -> Path:
    for name in ("rubric.yaml", "inputs.yaml", "rubric.cases.yaml"):
        shutil.copy(DEMO / name, tmp_path / name)
    return tmp_path / "rubric.cases.yaml"


def test_passing_cases_exit_0(tmp_path: Path) -> None:
    _copy_demo(tmp_path)
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output == "通过6个，未通过0个\n"


def test_failure_names_file_case_indicator_and_explains(tmp_path: Path) -> None:
    cases = _copy_demo(tmp_path)
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace("staff_control: 2.5", "staff_control: 3"), encoding="utf-8")
    junit = tmp_path / "report.xml"
    result = CliRunner().invoke(main, ["test", str(cases), "--junit-xml", str(junit)])
    assert result.exit_code == 1
    assert result.output == (
        f"{cases}:13：用例“控制率105.56%按整百分点扣5步”未通过：\n"
        "  指标 staff_control：得分：期望 3，实际 2.50\n"
        "  staff_control（财政供养人员控制率）：2.50 / 5 [已评分]\n"
        "    staff_authorized = 18\n"
        "    staff_actual = 19\n"
        "    staff_control_rate = 105.56\n"
        "    - 在职人员控制率105.56%，超过100% 5.56个百分点，每个百分点扣0.5分（不足一档不扣），"
        "扣2.5分，得2.5分  (-2.5)\n"
        "\n"
        "通过5个，未通过1个\n"
    )
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("6", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "指标 staff_control：得分：期望 3，实际 2.50"


@pytest.mark.lang("en")
def test_failure_in_english(tmp_path: Path) -> None:
    cases = _copy_demo(tmp_path)
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace("staff_control: 2.5", "staff_control: 3"), encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(cases)])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"{cases}:13: case '控制率105.56%按整百分点扣5步' failed:\n"
        "  indicator staff_control: score: expected 3, got 2.50\n"
        "  staff_control (财政供养人员控制率): 2.50 / 5 [scored]\n"
    )
    assert result.output.endswith("\n5 passed, 1 failed\n")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_failure_words_are_in_the_language_in_force(lang: str) -> None:
    from perfscore import i18n
    from perfscore.authoring import cases as golden

    samples = [
        golden.Failure("score", "3", golden._NO_INDICATOR, "x"),
        golden.Failure("error", "input.missing", "a result (total 89.92)"),
        golden.Failure("finding", golden._NOTHING, "missing_claim", "x"),
        golden.Failure("value", golden._NO_VALUE, "1", "rate"),
    ]
    with i18n.use_lang(lang):
        shown = [str(f) for f in samples]
    if lang == "zh":
        assert shown == [
            "指标 x：得分：期望 3，实际 无此指标",
            "错误：期望 input.missing，实际 得出结果（总分89.92）",
            "指标 x：复核发现：期望 无，实际 missing_claim",
            "值 rate：取值：期望 无值，实际 1",
        ]
    else:
        assert shown == [
            "indicator x: score: expected 3, got no such indicator",
            "error: expected input.missing, got a result (total 89.92)",
            "indicator x: finding: expected nothing, got missing_claim",
            "value rate: value: expected no value, got 1",
        ]


def test_no_case_files_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2


def test_a_case_file_that_cannot_be_used_exits_3_even_beside_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFSCORE_LANG", "en")
    cases = _copy_demo(tmp_path)
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace("staff_control: 2.5", "staff_control: 3"), encoding="utf-8")
    (tmp_path / "broken.cases.yaml").write_text("rubric: rubric.yaml\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 3
    assert result.output.endswith("5 passed, 1 failed, 1 case file(s) could not be used\n")
    assert "broken.cases.yaml: cannot be used:" in result.output
    cases.write_text(text, encoding="utf-8")
    (tmp_path / "broken.cases.yaml").unlink()
    assert CliRunner().invoke(main, ["test", str(tmp_path)]).exit_code == 0


def test_json_run_counts_files_cases_and_failures(tmp_path: Path) -> None:
    """``-f json``: what the text says, as data, with the same exit codes."""
    cases = _copy_demo(tmp_path)
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace("staff_control: 2.5", "staff_control: 3"), encoding="utf-8")
    junit = tmp_path / "report.xml"
    result = CliRunner().invoke(
        main, ["test", str(tmp_path), "-f", "json", "--junit-xml", str(junit)]
    )
    assert result.exit_code == 1
    run = json.loads(result.stdout)
    assert (run["passed"], run["failed"], run["unusable"]) == (5, 1, 0)
    [file] = run["files"]
    assert file["file"] == str(cases)
    assert file["error"] is None
    assert len(file["cases"]) == 6
    [failed] = [c for c in file["cases"] if not c["passed"]]
    assert (failed["name"], failed["line"]) == ("控制率105.56%按整百分点扣5步", 13)
    assert failed["failures"] == [
        {
            "what": "score",
            "indicator": "staff_control",
            "expected": "3",
            "actual": "2.50",
            "message": "指标 staff_control：得分：期望 3，实际 2.50",
        }
    ]
    assert all(c["failures"] == [] for c in file["cases"] if c["passed"])
    assert junit.is_file()  # the JUnit report is written beside the JSON

    (tmp_path / "broken.cases.yaml").write_text("rubric: rubric.yaml\n", encoding="utf-8")
    broken = CliRunner().invoke(main, ["test", str(tmp_path), "-f", "json"])
    assert broken.exit_code == 3
    run = json.loads(broken.stdout)
    assert run["unusable"] == 1
    [unusable] = [f for f in run["files"] if f["error"] is not None]
    assert unusable["file"].endswith("broken.cases.yaml")
    assert unusable["error"]["issues"][0]["code"]
    assert unusable["cases"] == []
