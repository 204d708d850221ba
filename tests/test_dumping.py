"""A rubric back to text: canonical data, YAML / JSON that loads back equal, a content hash."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import perfscore
from perfscore import content_hash, dump_rubric, loads_rubric
from perfscore.dumping import canonical_data

from .conftest import one_leaf_rubric

FORMATS = Path(__file__).parent / "data" / "formats"


def test_demo_round_trips_through_yaml(demo_rubric: perfscore.Rubric) -> None:
    text = dump_rubric(demo_rubric)
    again = loads_rubric(text)
    assert again == demo_rubric
    assert content_hash(again) == content_hash(demo_rubric)
    assert dump_rubric(again) == text  # dumping is idempotent


def test_demo_round_trips_through_json(demo_rubric: perfscore.Rubric) -> None:
    text = dump_rubric(demo_rubric, "json")
    json.loads(text)  # well-formed JSON
    assert loads_rubric(text, format="json") == demo_rubric
    assert text.endswith("}\n")


def test_dumped_rubric_scores_the_same(
    demo_rubric: perfscore.Rubric, demo_inputs: dict[str, object]
) -> None:
    again = loads_rubric(dump_rubric(demo_rubric))
    before = perfscore.compile_rubric(demo_rubric).score(demo_inputs)
    after = perfscore.compile_rubric(again).score(demo_inputs)
    assert after == before


def test_yaml_dump_is_readable(demo_rubric: perfscore.Rubric) -> None:
    text = dump_rubric(demo_rubric)
    assert "财政供养人员控制率" in text  # Chinese kept as is, not \u escapes
    assert "\\u" not in text
    data = yaml.safe_load(text)
    assert data["schema_version"] == 1
    assert list(data)[:3] == ["schema_version", "id", "title"]


def test_canonical_data_leaves_defaults_out() -> None:
    rubric = loads_rubric(one_leaf_rubric("{method: formula, expression: x}"))
    data = canonical_data(rubric)
    assert "rounding" not in data
    assert "not_applicable" not in data
    assert "derived" not in data
    assert data["indicators"] == [
        {
            "id": "a",
            "name": "A",
            "weight": 10,
            "scoring": {"method": "formula", "expression": "x"},
        }
    ]
    assert data["grades"] == [{"name": "ok", "range": "[0, 10]"}]


def test_intervals_dump_in_range_notation() -> None:
    scoring = """
    method: bands
    value: x
    bands:
      - {equals: 0, points: 10}
      - {from: 0, include_from: false, to: 10, include_to: true, points: 8}
      - {range: "(10, +inf)", points: 0}
    """
    rubric = loads_rubric(one_leaf_rubric(scoring))
    bands = canonical_data(rubric)["indicators"][0]["scoring"]["bands"]
    assert [b["range"] for b in bands] == ["[0, 0]", "(0, 10]", "(10, +∞)"]
    assert loads_rubric(dump_rubric(rubric)) == rubric


def test_decimals_dumped_exactly() -> None:
    text = one_leaf_rubric(
        "{method: deduction, value: x, direction: over, deduct: {points: 0.1, steps: whole}}",
        weight="10.25",
    )
    dumped = dump_rubric(loads_rubric(text))
    assert "points: 0.1\n" in dumped
    assert "weight: 10.25\n" in dumped
    assert "0.1000" not in dumped


def test_hash_ignores_layout() -> None:
    block = (FORMATS / "small.yaml").read_text(encoding="utf-8")
    flow = yaml.safe_dump(yaml.safe_load(block), allow_unicode=True, default_flow_style=True)
    a = loads_rubric(block)
    b = loads_rubric(flow)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) == content_hash(perfscore.load_rubric(FORMATS / "small.toml"))


def test_hash_ignores_key_order_and_comments() -> None:
    a = loads_rubric(one_leaf_rubric("{method: formula, expression: x}"))
    b = loads_rubric(
        "# a comment\n"
        + one_leaf_rubric("{expression: x, method: formula}").replace(
            "id: t\ntitle: T\n", "title: T\nid: t\n"
        )
    )
    assert content_hash(a) == content_hash(b)


def test_hash_changes_with_content() -> None:
    a = loads_rubric(one_leaf_rubric("{method: formula, expression: x}"))
    b = loads_rubric(one_leaf_rubric("{method: formula, expression: x / 2}"))
    assert a != b
    assert content_hash(a) != content_hash(b)


def test_equal_rubrics_hash_equal() -> None:
    text = one_leaf_rubric("{method: formula, expression: x}", weight="10.5")
    a = loads_rubric(text)
    b = loads_rubric(text.replace("weight: 10.5", "weight: 10.50"))
    assert a == b
    assert content_hash(a) == content_hash(b)
