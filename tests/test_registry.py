"""Rubric versions in force: ``effective`` / ``status`` and the registry that answers
"the rubric ``id`` in force on DATE"."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfscore
from perfscore import RubricRegistry
from perfscore.errors import RubricError, RubricValidationError

ROOT = Path(__file__).parents[1]
D = datetime.date

BODY = """\
title: 表
inputs:
  a: {label: A, kind: number, min: 0, max: 100}
indicators:
  - {id: top, name: 顶, weight: 100, scoring: {method: formula, expression: "a"}}
grades:
  - {name: 合格, range: "[60, 100]"}
  - {name: 不合格, range: "[0, 60)"}
"""


def rubric(
    version: str,
    start: D | None = None,
    until: D | None = None,
    status: str = "published",
    rubric_id: str = "city",
) -> perfscore.Rubric:
    text = f"id: {rubric_id}\nversion: '{version}'\nstatus: {status}\n" + BODY
    if start is not None:
        text += f"effective: {{from: {start.isoformat()}"
        text += f", until: {until.isoformat()}}}\n" if until is not None else "}\n"
    return perfscore.loads_rubric(text, name=f"{rubric_id}-{version}.yaml")


def test_effective_and_status_are_read_and_checked() -> None:
    r = rubric("1", D(2023, 1, 1), D(2023, 12, 31))
    assert r.effective is not None
    assert (r.effective.from_, r.effective.until) == (D(2023, 1, 1), D(2023, 12, 31))
    assert r.in_force(D(2023, 12, 31))
    assert not r.in_force(D(2024, 1, 1))
    assert not rubric("2", status="draft").in_force(D(2023, 6, 1))
    with pytest.raises(RubricValidationError) as info:
        rubric("1", D(2023, 1, 1), D(2022, 12, 31))
    assert info.value.issues[0].location.path == ("effective",)
    with pytest.raises(RubricValidationError):  # a retired rubric says when it ended
        rubric("1", D(2023, 1, 1), status="retired")
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric("id: x\nstatus: final\n" + BODY)
    assert info.value.codes == ("schema.invalid",)


def test_effective_dates_are_part_of_the_content_hash_and_dump_back() -> None:
    dated = rubric("1", D(2023, 1, 1), D(2023, 12, 31), status="retired")
    assert perfscore.content_hash(dated) != perfscore.content_hash(rubric("1"))
    for fmt in ("yaml", "json"):
        again = perfscore.loads_rubric(perfscore.dump_rubric(dated, fmt), format=fmt)
        assert again == dated
        assert again.effective == dated.effective
    toml = (
        'id = "city"\nversion = "1"\nstatus = "retired"\n'
        "effective = {from = 2023-01-01, until = 2023-12-31}\n"
    )
    assert perfscore.loads_rubric(toml + _toml_body(), format="toml").effective == dated.effective


def _toml_body() -> str:
    return (
        'title = "表"\n[inputs.a]\nlabel = "A"\nkind = "number"\nmin = 0\nmax = 100\n'
        '[[indicators]]\nid = "top"\nname = "顶"\nweight = 100\n'
        'scoring = {method = "formula", expression = "a"}\n'
        '[[grades]]\nname = "合格"\nrange = "[60, 100]"\n'
        '[[grades]]\nname = "不合格"\nrange = "[0, 60)"\n'
    )


def test_registry_answers_the_version_in_force() -> None:
    registry = RubricRegistry(
        [
            rubric("2023", D(2023, 1, 1), D(2023, 12, 31), status="retired"),
            rubric("2024", D(2024, 1, 1)),
            rubric("2025-draft", D(2025, 1, 1), status="draft"),
        ],
        check=["overlaps", "gaps"],
    )
    assert registry.in_force("city", D(2023, 7, 1)).version == "2023"
    assert registry.in_force("city", D(2024, 1, 1)).version == "2024"
    assert registry.in_force("city", D(2030, 1, 1)).version == "2024"  # the draft never
    assert registry.get("city", "2025-draft").status == "draft"
    assert [r.version for r in registry.versions("city")] == ["2023", "2024", "2025-draft"]
    assert len(registry) == 3
    with pytest.raises(RubricError) as info:
        registry.in_force("city", D(2022, 12, 31))
    assert info.value.codes == ("registry.not_in_force",)
    assert info.value.issues[0].params["day"] == "2022-12-31"
    with pytest.raises(RubricError) as info:
        registry.in_force("citi", D(2024, 1, 1))
    assert info.value.codes == ("registry.unknown_id",)
    assert info.value.issues[0].hint == "是否应为 'city'？"
    with pytest.raises(RubricError) as info:
        registry.get("city", "1999")
    assert info.value.codes == ("registry.unknown_version",)


def test_registry_refuses_overlaps_duplicates_and_gaps_asked_for() -> None:
    overlapping = [rubric("1", D(2023, 1, 1)), rubric("2", D(2024, 1, 1))]
    with pytest.raises(RubricError) as info:
        RubricRegistry(overlapping)
    assert info.value.codes == ("registry.overlap",)
    assert info.value.issues[0].params["day"] == "2024-01-01"
    assert info.value.issues[0].location.file == "city-2.yaml"
    unchecked = RubricRegistry(overlapping, check=())
    with pytest.raises(RubricError) as info:  # asked on a day two are in force
        unchecked.in_force("city", D(2024, 6, 1))
    assert info.value.codes == ("registry.overlap",)
    assert unchecked.in_force("city", D(2023, 6, 1)).version == "1"

    with pytest.raises(RubricError) as info:
        RubricRegistry([rubric("1"), rubric("1", status="draft")])
    assert info.value.codes == ("registry.duplicate",)

    gap = [rubric("1", D(2023, 1, 1), D(2023, 6, 30)), rubric("2", D(2023, 8, 1))]
    assert RubricRegistry(gap).in_force("city", D(2023, 8, 1)).version == "2"
    with pytest.raises(RubricError) as info:
        RubricRegistry(gap, check=["gaps"])
    assert info.value.codes == ("registry.gap",)
    assert (info.value.issues[0].params["first"], info.value.issues[0].params["last"]) == (
        "2023-07-01",
        "2023-07-31",
    )
    with pytest.raises(ValueError, match="unknown check"):
        RubricRegistry(gap, check=["holes"])  # type: ignore[list-item]


def test_registry_from_a_folder_and_from_resolvers(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text("library: l\ndefinitions: {}\n", encoding="utf-8")
    (tmp_path / "old.yaml").write_text(
        "id: city\nversion: '1'\neffective: {from: 2023-01-01, until: 2023-12-31}\n"
        "status: retired\nuses: lib\n" + BODY,
        encoding="utf-8",
    )
    (tmp_path / "new.yaml").write_text(
        "extends: old\nversion: '2'\nstatus: published\neffective: {from: 2024-01-01}\n",
        encoding="utf-8",
    )
    (tmp_path / "new.cases.yaml").write_text("rubric: new.yaml\ncases: []\n", encoding="utf-8")
    registry = RubricRegistry.from_folder(tmp_path, check=["overlaps", "gaps"])
    assert [r.version for r in registry] == ["1", "2"]
    assert registry.in_force("city", D(2024, 5, 1)).version == "2"

    store = perfscore.MappingResolver(
        {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.yaml")}
    )
    from_store = RubricRegistry.from_resolver(store, ["old", "new"])
    assert from_store.in_force("city", D(2023, 5, 1)).version == "1"
    assert len(RubricRegistry.from_resolver(store, ["old.yaml", "new.yaml", "lib.yaml"])) == 2

    shipped = RubricRegistry.from_resolver(perfscore.ShippedResolver())
    assert "shaoyang-dept-overall-2023" in shipped.ids()

    (tmp_path / "broken.yaml").write_text("id: b\n", encoding="utf-8")
    with pytest.raises(RubricError) as info:
        RubricRegistry.from_folder(tmp_path)
    assert {i.location.file for i in info.value.issues} == {str(tmp_path / "broken.yaml")}
    with pytest.raises(RubricError) as info:
        RubricRegistry.from_folder(tmp_path / "missing")
    assert info.value.codes == ("registry.not_a_folder",)


# --------------------------------------------------------------------------- properties

_DAYS = 40
_ORIGIN = D(2024, 1, 1)


@st.composite
def periods(draw: st.DrawFn) -> list[tuple[int, int | None, str]]:
    """Up to four versions: (first day, last day or None, status), days from _ORIGIN."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, _DAYS - 1))
        end = draw(st.none() | st.integers(start, _DAYS - 1))
        out.append((start, end, draw(st.sampled_from(["published", "published", "draft"]))))
    return out


@settings(max_examples=60, deadline=None)
@given(spec=periods(), check_gaps=st.booleans())
def test_registry_agrees_with_counting_days(
    spec: list[tuple[int, int | None, str]], check_gaps: bool
) -> None:
    """Refused exactly when some day is covered twice (or, asked, when a day between
    the first and last versions is not covered); otherwise each day gets the one version
    that covers it, and a day no version covers gets none."""
    day = lambda n: _ORIGIN + datetime.timedelta(days=n)  # noqa: E731
    rubrics = [
        rubric(str(i), day(s), None if e is None else day(e), status)
        for i, (s, e, status) in enumerate(spec)
    ]
    horizon = range(-2, _DAYS + 2)
    cover = {
        n: [
            str(i)
            for i, (s, e, status) in enumerate(spec)
            if status != "draft" and s <= n and (e is None or n <= e)
        ]
        for n in horizon
    }
    overlap = any(len(v) > 1 for v in cover.values())
    covered = [n for n, v in cover.items() if v]
    gap = bool(covered) and any(not cover[n] for n in range(covered[0], covered[-1] + 1))
    check = ["overlaps", "gaps"] if check_gaps else ["overlaps"]
    refused = overlap or (check_gaps and gap)
    if refused:
        with pytest.raises(RubricError) as info:
            RubricRegistry(rubrics, check=check)
        expected = {"registry.overlap"} if overlap else {"registry.gap"}
        assert expected <= set(info.value.codes)
        return
    registry = RubricRegistry(rubrics, check=check)
    for n in horizon:
        if cover[n]:
            assert registry.in_force("city", day(n)).version == cover[n][0]
        else:
            with pytest.raises(RubricError):
                registry.in_force("city", day(n))


# --------------------------------------------------------------------------- command line


def _versions_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "rubrics"
    folder.mkdir()
    (folder / "v2023.yaml").write_text(
        "id: city\nversion: '2023'\nstatus: retired\n"
        "effective: {from: 2023-01-01, until: 2023-12-31}\n" + BODY,
        encoding="utf-8",
    )
    (folder / "v2024.yaml").write_text(
        "id: city\nversion: '2024'\neffective: {from: 2024-01-01}\n"
        + BODY.replace('expression: "a"', 'expression: "min(a + 10, 100)"'),
        encoding="utf-8",
    )
    (tmp_path / "inputs.yaml").write_text("a: 55\n", encoding="utf-8")
    return folder


def _run(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from perfscore.cli import main

    result = CliRunner().invoke(main, list(args), prog_name="perfscore")
    return result.exit_code, result.stdout, result.stderr


def test_score_on_a_date_with_a_folder_of_versions(tmp_path: Path) -> None:
    import json

    folder = _versions_folder(tmp_path)
    inputs = str(tmp_path / "inputs.yaml")
    code, out, _ = _run("score", str(folder), inputs, "--on", "2023-06-30", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["rubric"]["version"], data["total"], data["grade"]) == ("2023", "55.00", "不合格")
    code, out, _ = _run("score", str(folder), inputs, "--on", "2024-02-01", "-f", "json")
    assert code == 0
    assert (json.loads(out)["rubric"]["version"], json.loads(out)["total"]) == ("2024", "65.00")
    # a population too
    population = tmp_path / "pop.jsonl"
    population.write_text('{"id": "d1", "a": 55}\n', encoding="utf-8")
    result = tmp_path / "out.csv"
    code, _, _ = _run(
        "score", str(folder), str(population), "--on", "2024-02-01", "--out", str(result)
    )
    assert code == 0
    assert "65.00" in result.read_text(encoding="utf-8")


def test_score_on_a_date_says_what_is_missing(tmp_path: Path) -> None:
    folder = _versions_folder(tmp_path)
    inputs = str(tmp_path / "inputs.yaml")
    code, _, err = _run("score", str(folder), inputs)
    assert code == 2
    assert "--on" in err
    with perfscore.i18n.use_lang("en"):
        code, _, err = _run("score", str(folder), inputs, "--on", "2022-01-01")
    assert code == 3
    assert "registry.not_in_force" in err
    assert "2022-01-01" in err
    code, _, err = _run("score", str(folder), inputs, "--on", "2024-13-01")
    assert code == 2
    (folder / "other.yaml").write_text("id: other\n" + BODY, encoding="utf-8")
    code, _, err = _run("score", str(folder), inputs, "--on", "2024-02-01")
    assert code == 2
    assert "city, other" in err
    code, out, _ = _run(
        "score", str(folder), inputs, "--on", "2024-02-01", "--rubric-id", "other", "-f", "json"
    )
    assert code == 0
    assert '"id": "other"' in out
    # a file and a date: the file's rubric must be in force that day
    code, _, err = _run("score", str(folder / "v2023.yaml"), inputs, "--on", "2024-02-01")
    assert code == 3
    assert "registry.not_in_force" in err
    code, _, _ = _run("score", str(folder / "v2023.yaml"), inputs, "--on", "2023-02-01")
    assert code == 0
    with perfscore.i18n.use_lang("en"):
        code, _, err = _run("score", str(folder / "v2023.yaml"), inputs, "--rubric-id", "other")
    assert code == 2
    assert "holds rubric 'city', not 'other'" in err


def test_json_schema_describes_effective_and_status() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from perfscore.authoring.schema import rubric_schema

    schema = rubric_schema()
    props = schema["properties"]
    assert props["status"]["enum"] == ["draft", "published", "retired"]
    effective = schema["$defs"]["Effective"]
    assert effective["required"] == ["from"]
    assert effective["properties"]["from"]["format"] == "date"
    data = {
        "id": "x",
        "title": "t",
        "status": "retired",
        "effective": {"from": "2023-01-01", "until": "2023-12-31"},
        "indicators": [
            {
                "id": "a",
                "name": "甲",
                "weight": 100,
                "scoring": {"method": "formula", "expression": "1"},
            }
        ],
        "grades": [{"name": "合格", "range": "[0, 100]"}],
    }
    jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "status": "final"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "effective": {"until": "2023-12-31"}}, schema)
