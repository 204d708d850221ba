"""The ``perfscore`` command, compared on its whole output.

Long outputs are frozen in ``tests/cli_expected/``; after a deliberate change, regenerate
them with ``PERFSCORE_UPDATE_EXPECTED=1 pytest tests/test_cli.py`` and read the diff.
Commands run from the repository root with relative paths, so that file names in the
output are the same on every machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import perfscore
from perfscore.cli import main

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = Path(__file__).resolve().parent / "cli_expected"
RUBRIC = "examples/demo/rubric.yaml"
INPUTS = "examples/demo/inputs.yaml"
UPDATE = bool(os.environ.get("PERFSCORE_UPDATE_EXPECTED"))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


def expected(name: str, actual: str) -> str:
    path = EXPECTED / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def write(directory: Path, name: str, text: str) -> str:
    """Write a file in ``directory`` and return its path relative to the working directory."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return os.path.relpath(path)


def demo_inputs(**changes: str) -> str:
    """The demo inputs with some lines replaced: ``old line -> new line``."""
    text = (ROOT / INPUTS).read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


# --------------------------------------------------------------------------- general


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"perfscore, version {perfscore.__version__}\n"


def test_no_arguments_is_usage_error() -> None:
    result = run("score")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Usage: perfscore score [OPTIONS] RUBRIC INPUTS\n"
        "Try 'perfscore score --help' for help.\n"
        "\n"
        "Error: Missing argument 'RUBRIC'.\n"
    )


def test_unknown_format_is_usage_error() -> None:
    result = run("score", RUBRIC, INPUTS, "--format", "xlsx")
    assert result.exit_code == 2
    assert "'xlsx' is not one of 'table', 'json', 'markdown'" in result.stderr


def test_missing_file_is_usage_error() -> None:
    result = run("validate", "nowhere.yaml")
    assert result.exit_code == 2
    assert "File 'nowhere.yaml' does not exist." in result.stderr


# --------------------------------------------------------------------------- validate


def test_validate_ok() -> None:
    result = run("validate", RUBRIC)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "ok: demo-dept-overall (version 1.0): 18 indicators, 9 leaves, total 100\n"
    )


BROKEN = """\
id: broken
title: 坏表
total: 10
inputs:
  speed: {label: 速度, kind: number}
indicators:
  - id: top
    name: 投入
    weight: 10
    children:
      - id: a
        name: 甲
        weight: 6
        scoring: {method: proportional, value: speeed}
      - id: b
        name: 乙
        weight: 5
        scoring: {method: proportional, value: speed}
grades:
  - {name: 好, range: "[0, 10]"}
"""


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    result = run("validate", path)
    assert result.exit_code == 3
    assert result.stderr == ""
    assert result.stdout == (
        f"{path}:9:13: indicators[0].weight: indicator 'top' (投入) has weight 10, "
        "but its children add up to 11 [rubric.weight_sum]\n"
        "    hint: make the parent's weight the sum of its children's\n"
        f"{path}:14:48: indicators[0].children[0].scoring.value: unknown name 'speeed' "
        "[formula.unknown_name]\n"
        "    speeed\n"
        "    ^^^^^^\n"
        "    hint: did you mean 'speed'?\n"
        "2 problems found\n"
    )


def test_validate_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "id: [unclosed\n")
    result = run("validate", path)
    assert result.exit_code == 3
    assert result.stdout.startswith(f"{path}:2:1: ")
    assert result.stdout.endswith("[yaml.syntax]\n1 problem found\n")


# --------------------------------------------------------------------------- score


@pytest.mark.lang("zh")
def test_score_table() -> None:
    result = run("score", RUBRIC, INPUTS)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == expected("score_table.txt", result.stdout)


def test_score_table_is_the_default_format() -> None:
    assert (
        run("score", RUBRIC, INPUTS, "--format", "table").stdout
        == run("score", RUBRIC, INPUTS).stdout
    )


def test_score_json() -> None:
    result = run("score", RUBRIC, INPUTS, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total"] == "89.92"
    assert data["grade"] == "良好"
    assert data["max_total"] == "100"
    assert data["rubric"]["id"] == "demo-dept-overall"
    assert len(data["indicators"]) == 18
    for node in data["indicators"]:
        assert {"id", "name", "weight", "score", "status"} <= node.keys()
        assert isinstance(node["score"], str)
    by_id = {n["id"]: n for n in data["indicators"]}
    assert by_id["key_task_completion"]["score"] == "22.92"
    assert by_id["output"]["weight"] == "25"
    assert data["values"]["staff_control_rate"] == "94.44"
    assert '"grade": "良好"' in result.stdout  # Chinese written as is


@pytest.mark.lang("zh")
def test_score_markdown() -> None:
    result = run("score", RUBRIC, INPUTS, "-f", "markdown")
    assert result.exit_code == 0
    assert result.stdout == expected("score_markdown.md", result.stdout)


@pytest.mark.lang("zh")
def test_score_not_applicable_and_grade_cap(tmp_path: Path) -> None:
    inputs = write(
        tmp_path,
        "inputs.yaml",
        demo_inputs(
            **{
                "sangong_last_year: 12.40": "sangong_last_year: 0",
                "noncompliant_cases: 1": "noncompliant_cases: 5",
            }
        ),
    )
    result = run("score", RUBRIC, inputs)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert '    "三公经费"变动率           sangong_change           5    5.00   不适用' in lines
    assert lines[-3:] == [
        "总分：85.92 / 100",
        "等次：合格（由良好限定）",
        "提示：等次因 'serious_violation' 限定为合格：审计发现严重违规，等次最高为合格 "
        "[grade.capped]",
    ]


def test_score_unknown_input(tmp_path: Path) -> None:
    inputs = write(tmp_path, "inputs.yaml", demo_inputs(staff_actual="staf_actual"))
    result = run("score", RUBRIC, inputs, "--format", "json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)  # with -f json, the failure is JSON on stdout too
    assert error["type"] == "InputError"
    assert [(i["code"], i["location"]["path"], i["location"]["line"]) for i in error["issues"]] == [
        ("input.unknown", ["staf_actual"], 3),
        ("input.missing", ["staff_actual"], None),
    ]
    assert result.stderr == (
        f"{inputs}:3:1: staf_actual: unknown input 'staf_actual' [input.unknown]\n"
        "    staf_actual: 17\n"
        "    ^^^^^^^^^^^\n"
        "    hint: did you mean 'staff_actual'?\n"
        f"{inputs}: staff_actual: missing required input 'staff_actual' (实际在职人数) "
        "[input.missing]\n"
        "    hint: give a value, or declare a default or 'required: false' in the rubric\n"
        "2 problems found\n"
    )


def test_score_bad_values_point_at_the_value(tmp_path: Path) -> None:
    inputs = write(
        tmp_path,
        "inputs.yaml",
        demo_inputs(
            **{
                "satisfaction: 92.5": "satisfaction: 120  # survey",
                "disclosure: 基本及时完整": 'disclosure: "yes"',
            }
        ),
    )
    result = run("score", RUBRIC, inputs)
    assert result.exit_code == 3
    assert result.stderr == (
        f"{inputs}:14:13: disclosure: input 'disclosure' (预决算信息公开情况): 'yes' is not "
        "one of '及时完整', '基本及时完整', '不及时或不完整' [input.type]\n"
        '    disclosure: "yes"\n'
        "                ^^^^^\n"
        "    hint: one of: 及时完整, 基本及时完整, 不及时或不完整\n"
        f"{inputs}:17:15: satisfaction: input 'satisfaction' (社会公众满意度) is 120, "
        "outside [0, 100] [input.bounds]\n"
        "    satisfaction: 120  # survey\n"
        "                  ^^^\n"
        "    hint: check the figure and its unit\n"
        "2 problems found\n"
    )


def test_score_json_inputs(tmp_path: Path) -> None:
    data = {
        "staff_authorized": 18,
        "staff_actual": 17,
        "sangong_last_year": 12.40,
        "sangong_this_year": 11.80,
        "key_project_spend": 353.82,
        "project_spend_total": 413.31,
        "budget_initial": 450.00,
        "budget_adjustment": 15.92,
        "rules_exist": True,
        "rules_lawful": True,
        "rules_executed": True,
        "noncompliant_cases": 1,
        "disclosure": "基本及时完整",
        "key_tasks_planned": 12,
        "key_tasks_done": 11,
        "satisfaction": 92.5,
    }
    inputs = write(tmp_path, "inputs.json", json.dumps(data, ensure_ascii=False))
    result = run("score", RUBRIC, inputs, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"] == "89.92"


def test_score_refuses_hostile_inputs(tmp_path: Path) -> None:
    inputs = write(tmp_path, "inputs.yaml", "staff_actual: !!python/object:os.system x\n")
    result = run("score", RUBRIC, inputs)
    assert result.exit_code == 3
    assert result.stderr == (
        f"{inputs}:1:15: tag 'tag:yaml.org,2002:python/object:os.system' is not allowed "
        "[yaml.tag]\n"
        "    hint: rubric files use plain YAML: remove the '!' tag\n"
        "1 problem found\n"
    )


def test_score_inputs_not_a_mapping(tmp_path: Path) -> None:
    inputs = write(tmp_path, "inputs.yaml", "- 1\n- 2\n")
    result = run("score", RUBRIC, inputs)
    assert result.exit_code == 3
    assert result.stderr == (
        f"{inputs}: inputs must be a mapping of input id to value, not list [input.not_mapping]\n"
        "1 problem found\n"
    )


def test_score_broken_rubric(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    result = run("score", path, INPUTS)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.endswith("2 problems found\n")
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- explain


@pytest.mark.lang("zh")
def test_explain_one_leaf() -> None:
    result = run("explain", RUBRIC, INPUTS, "--indicator", "funds_compliance")
    assert result.exit_code == 0
    assert result.stdout == (
        "资金使用合规性 (funds_compliance)\n"
        "  得分：10.00 / 11\n"
        "  状态：已评分\n"
        "  评分标准：每发现一例不合规扣1分，扣完为止。\n"
        "  取值：\n"
        "    noncompliant_cases = 1（资金使用不合规事项数）\n"
        "  评分过程：\n"
        "    资金使用不合规事项数1，比0多1，每多1扣1分，扣1分，得10分\n"
    )


@pytest.mark.lang("zh")
def test_explain_one_leaf_with_units() -> None:
    result = run("explain", RUBRIC, INPUTS, "-i", "staff_control")
    assert result.exit_code == 0
    assert result.stdout == (
        "财政供养人员控制率 (staff_control)\n"
        "  得分：5.00 / 5\n"
        "  状态：已评分\n"
        "  评分标准：以100%为标准，控制率≤100%计满分；"
        "每超过一个百分点扣0.5分，扣完为止。\n"
        "  取值：\n"
        "    staff_authorized = 18人（编制数）\n"
        "    staff_actual = 17人（实际在职人数）\n"
        "    staff_control_rate = 94.44%（在职人员控制率）\n"
        "  评分过程：\n"
        "    在职人员控制率94.44%，未超过100%，得满分5分\n"
    )


@pytest.mark.lang("zh")
def test_explain_branch() -> None:
    result = run("explain", RUBRIC, INPUTS, "--indicator", "process")
    assert result.exit_code == 0
    assert result.stdout == (
        "过程 (process)\n"
        "  得分：33.00 / 40\n"
        "  状态：已评分\n"
        "  下级指标：\n"
        "    预算执行 (budget_execution): 8.00 / 10  已评分\n"
        "    预算管理 (budget_management): 25.00 / 30  已评分\n"
    )


@pytest.mark.lang("zh")
def test_explain_all() -> None:
    result = run("explain", RUBRIC, INPUTS)
    assert result.exit_code == 0
    assert result.stdout == expected("explain_all.txt", result.stdout)


def test_explain_unknown_indicator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFSCORE_LANG", "en")
    result = run("explain", RUBRIC, INPUTS, "--indicator", "staf_control")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{RUBRIC}: no indicator has id 'staf_control' [cli.unknown_indicator]\n"
        "    hint: did you mean 'staff_control'?\n"
        "1 problem found\n"
    )


def test_explain_unknown_indicator_far_from_any() -> None:
    result = run("explain", RUBRIC, INPUTS, "--indicator", "zzz")
    assert result.exit_code == 2
    assert "    hint: indicators are: input, budget_allocation, staff_control, " in result.stderr


@pytest.mark.lang("zh")
def test_validate_says_one_line_and_its_sources_with_verbose() -> None:
    shaoyang = "rubrics/shaoyang/dept-overall-2023.yaml"
    quiet = run("validate", shaoyang)
    assert quiet.exit_code == 0
    assert quiet.stdout.splitlines() == [
        "通过：shaoyang-dept-overall-2023（版本0.1-reconstructed）：38个指标，27个末级指标，总分100"
    ]
    verbose = run("validate", "--verbose", shaoyang)
    lines = verbose.stdout.splitlines()
    assert lines[:2] == [quiet.stdout.strip(), "指标来源："]
    assert len(lines) == 2 + 38
    assert all(line.startswith("  ") and ": " in line for line in lines[2:])


def test_every_command_takes_lang() -> None:
    from perfscore.cli import main

    def walk(command: click.Command) -> Iterator[click.Command]:
        yield command
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub)

    for command in walk(main):
        assert any("--lang" in getattr(p, "opts", ()) for p in command.params), command.name
    english = run("--lang", "en", "validate", "rubrics/shaoyang/dept-overall-2023.yaml")
    chinese = run("validate", "--lang", "zh", "rubrics/shaoyang/dept-overall-2023.yaml")
    assert english.stdout.startswith("ok: shaoyang-dept-overall-2023 (version")
    assert chinese.stdout.startswith("通过：shaoyang-dept-overall-2023（版本")


@pytest.mark.lang("zh")
def test_the_progress_bar_names_elapsed_and_remaining_time_rate_and_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from perfscore.cli import app
    from perfscore.population import batch
    from perfscore.population.readers import read_population

    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    records = list(batch.score_many(compiled, read_population("tests/data/diff/population.csv")))
    screen = Console(file=io.StringIO(), width=160, force_terminal=True, color_system=None)
    monkeypatch.setattr(app, "Console", lambda stderr=True: screen)
    failed = sum(isinstance(r, batch.FailedDepartment) for r in records * 100)
    seen = app._with_progress(iter(records * 100), len(records) * 100, lambda rs: list(rs))
    assert len(seen) == len(records) * 100
    shown = screen.file.getvalue()  # type: ignore[attr-defined]
    for words in ("评分中", "已用", "剩余", "个/秒", f"失败{failed}个"):
        assert words in shown, words
