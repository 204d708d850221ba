"""``perfscore check``: the property hunt, on rubrics crafted with one defect each.

Each rubric in ``tests/data/check/`` has one kind of defect (its comment says which); the
hunt must find it, and show the smallest inputs as a golden case that passes when pasted
into a case file. Hunts here are small (``max_examples`` 30-60) to keep the suite quick.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given

import perfscore
from perfscore import MethodContext, Scorer, ScoringMethod, register_method, testing
from perfscore import methods as methods_module
from perfscore.authoring.check import CheckReport, Finding, check_rubric, inputs_strategy
from perfscore.cli import main
from perfscore.methods import NUMBER, Bands

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "check"
DEMO = ROOT / "examples" / "demo" / "rubric.yaml"


def hunt(name: str, max_examples: int = 40, seed: int = 0) -> CheckReport:
    return check_rubric(perfscore.load_rubric(DATA / name), seed=seed, max_examples=max_examples)


def summary(report: CheckReport) -> list[str]:
    return [str(f) for f in report.findings]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


# --------------------------------------------------------------------------- each defect


def test_clean_rubric_has_no_findings() -> None:
    report = hunt("clean.yaml")
    assert report.findings == ()
    assert report.exit_code == 0
    assert report.examples == 40
    assert report.rejected == 0


def test_division_by_zero_with_smallest_inputs() -> None:
    report = hunt("division_by_zero.yaml")
    assert summary(report) == [
        "error: derived staff_control_rate: division by zero "
        "[evaluation.division_by_zero] [evaluation_error]"
    ]
    (finding,) = report.findings
    assert finding.inputs == {"staff_authorized": 0, "staff_actual": 0}
    assert finding.issue is not None
    assert finding.issue.location.path == ("derived", "staff_control_rate", "formula")
    assert finding.case == textwrap.dedent(
        """\
        - name: "check: evaluation_error derived staff_control_rate"
          inputs:
            staff_authorized: 0
            staff_actual: 0
          expect: {error: "evaluation.division_by_zero"}"""
    )
    assert report.exit_code == 1


@pytest.fixture
def claimed_tiers() -> Iterator[None]:
    """Register 'claimed_tiers': bands whose 'monotone' claim is taken on trust (the
    built-in bands refuse a false claim when the rubric loads, so the hunt needs this
    to show what it finds in a method of someone else's)."""

    class ClaimedTiers(Bands):
        kind: ClassVar[str] = "claimed_tiers"
        method: Literal["claimed_tiers"] = "claimed_tiers"  # type: ignore[assignment]

        def compile(self, ctx: MethodContext) -> Scorer:
            return Bands.compile(self.model_copy(update={"monotone": None}), ctx)

    saved = dict(methods_module._REGISTRY)
    register_method(ClaimedTiers)
    yield
    methods_module._REGISTRY.clear()
    methods_module._REGISTRY.update(saved)


@pytest.mark.usefixtures("claimed_tiers")
def test_not_monotone_shows_both_sides() -> None:
    report = hunt("not_monotone.yaml")
    errors = [str(f) for f in report.errors]
    assert errors == [
        "error: public_satisfaction: declared increasing in satisfaction, but satisfaction = "
        "80 scores 10.00 and satisfaction = 90 scores 8.00 [not_monotone]"
    ]
    assert report.errors[0].case == textwrap.dedent(
        """\
        - name: "check: not_monotone public_satisfaction at 80"
          inputs:
            satisfaction: 80
          expect: {total: 10, grade: "合格", scores: {public_satisfaction: 10}}
        - name: "check: not_monotone public_satisfaction at 90"
          inputs:
            satisfaction: 90
          expect: {total: 8, grade: "合格", scores: {public_satisfaction: 8}}"""
    )


def test_unreachable_branches_and_leaves_are_warnings() -> None:
    report = hunt("unreachable.yaml")
    assert report.errors == ()
    assert report.exit_code == 0
    kinds = [(f.kind, f.indicator) for f in report.findings]
    assert kinds == [
        ("unreached_branch", "banded"),
        ("never_full", "banded"),
        ("unreached_branch", "cased"),
        ("never_full", "cased"),
        ("never_full", "scaled"),
        ("never_scored", "never_applies"),
    ]
    messages = [f.message for f in report.findings]
    assert messages[0].startswith("band (100, +∞) (4 points) was never reached in ")
    assert messages[2].startswith("case '超过100%' (3 points) was never reached in ")
    assert "best seen 1.67 of 2" in messages[4]
    # A never-full leaf comes with its best inputs, pinned as a golden case.
    scaled = report.findings[4]
    assert scaled.inputs is not None
    assert scaled.inputs["satisfaction"] == 100
    assert scaled.case is not None
    assert "scores: {scaled: 1.67}" in scaled.case


@pytest.fixture
def overshoot() -> Iterator[None]:
    """Register a scoring method that does not clamp its score (for one test)."""

    class Overshoot(ScoringMethod):
        kind: ClassVar[str] = "overshoot"
        method: Literal["overshoot"] = "overshoot"
        value: str

        def compile(self, ctx: MethodContext) -> Scorer:
            value = ctx.formula("value", self.value, NUMBER)

            def score(values: Mapping[str, Any], explain: bool) -> tuple[Decimal, tuple[()]]:
                return value.evaluate_unchecked(values), ()  # type: ignore[return-value]

            return score

    saved = dict(methods_module._REGISTRY)
    register_method(Overshoot)
    yield
    methods_module._REGISTRY.clear()
    methods_module._REGISTRY.update(saved)


@pytest.mark.usefixtures("overshoot")
def test_leaf_out_of_range() -> None:
    report = hunt("out_of_range.yaml")
    (finding,) = report.errors
    assert finding.kind == "out_of_range"
    assert finding.indicator == "raw"
    assert finding.inputs == {"x": Decimal("10.01")}
    assert finding.case is not None
    assert finding.case.endswith('expect: {error: "evaluation.out_of_range"}')


# --------------------------------------------------------------------------- the hunt


def test_same_seed_same_findings() -> None:
    first = hunt("unreachable.yaml", max_examples=30, seed=7)
    again = hunt("unreachable.yaml", max_examples=30, seed=7)
    assert first == again


def test_max_examples_bounds_the_hunt() -> None:
    assert hunt("clean.yaml", max_examples=5).examples == 5
    with pytest.raises(ValueError, match="at least 1"):
        hunt("clean.yaml", max_examples=0)


@pytest.mark.usefixtures("claimed_tiers")
def test_pasted_golden_case_passes(tmp_path: Path) -> None:
    report = hunt("not_monotone.yaml")
    cases = "\n".join(f.case for f in report.errors if f.case)
    shutil.copy(DATA / "not_monotone.yaml", tmp_path)
    case_file = tmp_path / "pasted.cases.yaml"
    case_file.write_text(f"rubric: not_monotone.yaml\ncases:\n{cases}\n", encoding="utf-8")
    results = testing.run_case_file(case_file)
    assert [r.passed for r in results] == [True, True]


def test_error_case_passes_when_pasted(tmp_path: Path) -> None:
    (finding,) = hunt("division_by_zero.yaml").errors
    shutil.copy(DATA / "division_by_zero.yaml", tmp_path)
    case_file = tmp_path / "pasted.cases.yaml"
    case_file.write_text(
        f"rubric: division_by_zero.yaml\ncases:\n{finding.case}\n", encoding="utf-8"
    )
    assert all(r.passed for r in testing.run_case_file(case_file))


def demo_fixed(tmp_path: Path) -> Path:
    """The demo rubric with its three denominators declared non-zero."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["inputs"]["staff_authorized"]["min"] = 1
    data["inputs"]["key_tasks_planned"]["min"] = 1
    data["inputs"]["budget_initial"]["min"] = 0.01
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_demo_rubric_errors_are_only_its_zero_denominators() -> None:
    report = check_rubric(perfscore.load_rubric(DEMO), max_examples=40)
    for finding in report.errors:
        assert finding.kind == "evaluation_error"
        assert finding.indicator in {
            "derived staff_control_rate",
            "derived key_task_rate",
            "derived budget_adjust_rate",
        }, finding


def test_demo_rubric_with_nonzero_denominators_has_no_errors(tmp_path: Path) -> None:
    report = check_rubric(perfscore.load_rubric(demo_fixed(tmp_path)), max_examples=60)
    assert report.errors == ()


def test_generated_inputs_fit_the_declarations() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO))
    specs = compiled.rubric.inputs

    @given(inputs_strategy(compiled.rubric))
    def fits(inputs: dict[str, Any]) -> None:
        values = compiled.validate_inputs(inputs)
        assert set(values) == set(specs)
        for name, value in inputs.items():
            spec = specs[name]
            if spec.kind == "money" and isinstance(value, Decimal):
                assert value == value.quantize(Decimal("0.01"))
            if spec.kind == "count":
                assert isinstance(value, int)
                assert value >= 0

    fits()


# --------------------------------------------------------------------------- CLI


def test_cli_error_exits_1_with_golden_case() -> None:
    result = run("check", "tests/data/check/division_by_zero.yaml", "--max-examples", "30")
    assert result.exit_code == 1
    # How many departments scored without error depends on Hypothesis's generation.
    output = re.sub(r", \d+ scored in all", ", N scored in all", result.stdout)
    assert output == textwrap.dedent(
        """\
        perfscore check tests/data/check/division_by_zero.yaml: 30 departments generated (seed 0), N scored in all

        error [evaluation_error] derived staff_control_rate: division by zero
            tests/data/check/division_by_zero.yaml:11:29: derived.staff_control_rate.formula: division by zero [evaluation.division_by_zero]
                staff_actual / staff_authorized
                               ^^^^^^^^^^^^^^^^
                hint: declare 'on_zero_division' for this value, or guard it with 'if'
          smallest failing inputs, as a golden case (paste under 'cases:'):
            - name: "check: evaluation_error derived staff_control_rate"
              inputs:
                staff_authorized: 0
                staff_actual: 0
              expect: {error: "evaluation.division_by_zero"}

        1 error, 0 warnings
        """  # noqa: E501 - the whole output, line for line
    )


def test_cli_warnings_only_exit_0() -> None:
    result = run("check", "tests/data/check/unreachable.yaml", "--max-examples", "30")
    assert result.exit_code == 0
    assert result.stdout.endswith("0 errors, 6 warnings\n")
    assert "warning [unreached_branch] banded: band (100, +∞) (4 points)" in result.stdout


def test_cli_clean() -> None:
    result = run("check", "tests/data/check/clean.yaml", "--max-examples", "20", "--seed", "3")
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "perfscore check tests/data/check/clean.yaml: 20 departments generated (seed 3)"
    )
    assert result.stdout.endswith("\n\n0 errors, 0 warnings\n")


def test_cli_bad_max_examples_is_usage_error() -> None:
    result = run("check", "tests/data/check/clean.yaml", "--max-examples", "0")
    assert result.exit_code == 2


def test_cli_broken_rubric_lists_its_issues(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntitle: X\n", encoding="utf-8")
    result = run("check", str(broken))
    assert result.exit_code == 3
    assert "missing required key 'indicators'" in result.stderr


def test_finding_str() -> None:
    finding = Finding("never_full", "warning", "a", "never reached its full weight")
    assert str(finding) == "warning: a: never reached its full weight [never_full]"


def test_cli_json_has_the_text_findings_as_data() -> None:
    """``-f json``: the same hunt as the text, each finding with its inputs (numbers as
    text), its golden case and, for an engine error, the issue; the same exit code."""
    args = ("check", "tests/data/check/division_by_zero.yaml", "--max-examples", "30")
    text = run(*args)
    result = run(*args, "-f", "json")
    assert result.exit_code == text.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["rubric_id"], report["seed"], report["max_examples"]) == (
        "check-division-by-zero",
        0,
        30,
    )
    assert report["examples"] == 30
    assert (report["errors"], report["warnings"]) == (1, 0)
    [finding] = report["findings"]
    assert finding["kind"] == "evaluation_error"
    assert finding["level"] == "error"
    assert finding["inputs"] == {"staff_authorized": "0", "staff_actual": "0"}
    assert finding["issue"]["code"] == "evaluation.division_by_zero"
    assert finding["issue"]["location"]["line"] == 11
    assert textwrap.indent(finding["case"], "    ") in text.stdout


def test_cli_json_clean_exits_0() -> None:
    result = run("check", "tests/data/check/clean.yaml", "--max-examples", "20", "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert report["errors"] == 0
