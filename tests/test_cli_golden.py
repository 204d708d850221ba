"""`perfscore test`: golden cases from the command line, with a JUnit report."""

from __future__ import annotations

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
    assert result.output == "6 passed, 0 failed\n"


def test_failure_names_file_case_indicator_and_explains(tmp_path: Path) -> None:
    cases = _copy_demo(tmp_path)
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace("staff_control: 2.5", "staff_control: 3"), encoding="utf-8")
    junit = tmp_path / "report.xml"
    result = CliRunner().invoke(main, ["test", str(cases), "--junit-xml", str(junit)])
    assert result.exit_code == 1
    assert result.output == (
        f"{cases}:13: case '控制率105.56%按整百分点扣5步' failed:\n"
        "  indicator staff_control: score: expected 3, got 2.50\n"
        "  staff_control (财政供养人员控制率): 2.50 / 5 [scored]\n"
        "    staff_authorized = 18\n"
        "    staff_actual = 19\n"
        "    staff_control_rate = 105.56\n"
        "    - 在职人员控制率105.56%，超过100% 5.56个百分点，每个百分点扣0.5分（不足一档不扣），"
        "扣2.5分，得2.5分  (-2.5)\n"
        "\n"
        "5 passed, 1 failed\n"
    )
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("6", "1")


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
