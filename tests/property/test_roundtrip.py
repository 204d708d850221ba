"""A rubric dumped with ``dump_rubric`` loads back equal, hashes the same and scores the same."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

import perfscore
from perfscore import content_hash, dump_rubric, loads_rubric

from .strategies import department_inputs, rubric_texts, rubrics

#: Writing and reading YAML costs most of each example here: a third of the usual count.
fewer = settings(max_examples=max(5, settings().max_examples // 3))


@fewer
@given(rubric_texts)
def test_yaml_dump_loads_back_equal(text: str) -> None:
    rubric = loads_rubric(text)  # written the way users write it, then loaded
    dumped = dump_rubric(rubric)
    again = loads_rubric(dumped)
    assert again == rubric
    assert content_hash(again) == content_hash(rubric)
    assert dump_rubric(again) == dumped


@fewer
@given(rubrics)
def test_json_dump_loads_back_equal(rubric: perfscore.Rubric) -> None:
    again = loads_rubric(dump_rubric(rubric, "json"), format="json")
    assert again == rubric
    assert content_hash(again) == content_hash(rubric)


@fewer
@given(rubrics, department_inputs())
def test_dumped_rubric_scores_the_same(rubric: perfscore.Rubric, inputs: dict[str, Any]) -> None:
    again = loads_rubric(dump_rubric(rubric))
    before = perfscore.compile_rubric(rubric).score(inputs)
    after = perfscore.compile_rubric(again).score(inputs)
    # Scores, statuses, total and grade; not the explanations' wording, where a dropped
    # default (floor: 0.00 dumps as nothing, reads back as 0) may print 1 for 1.00.
    assert after.to_dict(explanations=False) == before.to_dict(explanations=False)
