"""Intervals with explicit ends: parsing, membership, overlap, and their notation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from perfscore._interval import Interval, interval_from_mapping, parse_interval

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[80, 90)", Interval(D(80), D(90), True, False)),
        ("(0, 10]", Interval(D(0), D(10), False, True)),
        ("[90, +∞)", Interval(D(90), None, True, False)),
        ("(-∞, 60)", Interval(None, D(60), False, False)),
        ("(-inf, +inf)", Interval(None, None, False, False)),
        ("[90, infinity)", Interval(D(90), None, True, False)),
        ("[80%, 90%]", Interval(D(80), D(90), True, True)),
        ("［80，90）", Interval(D(80), D(90), True, False)),  # full-width brackets and comma
        ("  [ 0.5 , 1.25 ]  ", Interval(D("0.5"), D("1.25"), True, True)),
        ("[1, 1]", Interval(D(1), D(1), True, True)),
        ("(, 5]", Interval(None, D(5), False, True)),
    ],
)
def test_parse(text: str, expected: Interval) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "80-90",
            "'80-90' is not an interval: write it like '[80, 90)' ('[' or ']' includes an end, "
            "'(' or ')' excludes it, '∞' for no bound)",
        ),
        ("[a, 1]", "lower end 'a' is not a number"),
        ("[0, b)", "upper end 'b' is not a number"),
        ("[nan, 1]", "lower end 'nan' is not a finite number"),
        ("[, 1)", "'[, 1)': an unbounded lower end cannot be included; write '(-∞, ...'"),
        ("[1, +∞]", "'[1, +∞]': an unbounded upper end cannot be included; write '..., +∞)'"),
        ("[2, 1]", "'[2, 1]' is empty: its lower end is above its upper end"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        parse_interval(text)
    assert str(info.value) == message


@pytest.mark.parametrize("text", ["(1, 1)", "[1, 1)", "(1, 1]"])
def test_empty_point_intervals_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is empty"):
        parse_interval(text)


@pytest.mark.parametrize("text", ["(+∞, 5)", "[1, -∞)"])
def test_infinity_on_the_wrong_side_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_interval(text)


# --------------------------------------------------------------------------- membership


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("[80, 90)", ["80", "85", "89.999"], ["79.999", "90", "100"]),
        ("(0, 10]", ["0.001", "10"], ["0", "10.001", "-1"]),
        ("[90, +∞)", ["90", "1e9"], ["89.99"]),
        ("(-∞, 60)", ["-1e9", "59.99"], ["60"]),
        ("[1, 1]", ["1", "1.000"], ["0.999", "1.001"]),
    ],
)
def test_membership(text: str, inside: list[str], outside: list[str]) -> None:
    interval = parse_interval(text)
    for x in inside:
        assert D(x) in interval, x
    for x in outside:
        assert D(x) not in interval, x


def test_membership_takes_decimals_and_ints_only() -> None:
    interval = parse_interval("[0, 10]")
    assert 5 in interval
    assert 5.0 not in interval  # binary floats are never scored
    assert "5" not in interval


# --------------------------------------------------------------------------- overlap


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("[80, 90)", "[90, 100]", False),
        ("[80, 90]", "[90, 100]", True),
        ("[80, 90)", "(90, 100]", False),
        ("[0, 10]", "[5, 6]", True),
        ("(-∞, 0)", "[0, +∞)", False),
        ("(-∞, 0]", "[0, +∞)", True),
        ("[1, 1]", "(0, 1]", True),
        ("[1, 1]", "(1, 2]", False),
        ("(-∞, +∞)", "[5, 6]", True),
    ],
)
def test_overlaps(a: str, b: str, overlap: bool) -> None:
    x, y = parse_interval(a), parse_interval(b)
    assert x.overlaps(y) is overlap
    assert y.overlaps(x) is overlap


# --------------------------------------------------------------------------- notation


@pytest.mark.parametrize(
    ("text", "shown", "notation"),
    [
        ("[80, 90)", "[80, 90)", "[80, 90)"),
        ("[1, 1]", "=1", "[1, 1]"),
        ("(-∞, 60)", "(-∞, 60)", "(-∞, 60)"),
        ("[90.50, +inf)", "[90.50, +∞)", "[90.50, +∞)"),
        ("[1e2, 2e2]", "[100, 200]", "[100, 200]"),
    ],
)
def test_str_and_notation(text: str, shown: str, notation: str) -> None:
    interval = parse_interval(text)
    assert str(interval) == shown
    assert interval.notation() == notation
    assert parse_interval(interval.notation()) == interval


def test_is_point_and_is_empty() -> None:
    assert parse_interval("[3, 3]").is_point
    assert not parse_interval("[3, 4]").is_point
    assert Interval(D(1), D(1), True, False).is_empty()
    assert Interval(D(2), D(1)).is_empty()
    assert not Interval(None, D(1), False, True).is_empty()


# --------------------------------------------------------------------------- mappings


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"equals": 0}, Interval(D(0), D(0), True, True)),
        ({"equals": "0.5"}, Interval(D("0.5"), D("0.5"), True, True)),
        (
            {"from": 80, "include_from": True, "to": 90, "include_to": False},
            Interval(D(80), D(90), True, False),
        ),
        ({"to": 60, "include_to": False}, Interval(None, D(60), False, False)),
        ({"from": 90, "include_from": True}, Interval(D(90), None, True, False)),
        ({"range": "(0, 10]"}, Interval(D(0), D(10), False, True)),
    ],
)
def test_from_mapping(data: dict[str, Any], expected: Interval) -> None:
    rest = {**data, "points": 3}
    assert interval_from_mapping(rest) == expected
    assert rest == {"points": 3}  # the interval keys are consumed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"from": 1}, "say whether 1 is included: add include_from: true or false"),
        (
            {"from": 1, "include_from": True, "to": 2},
            "say whether 2 is included: add include_to: true or false",
        ),
        ({"include_from": True, "to": 2, "include_to": True}, "include_from given without from"),
        (
            {"range": "[1, 2]", "equals": 1},
            "give the interval one way: 'range', 'equals', or 'from'/'to'",
        ),
        ({}, "no interval given: add 'range' (e.g. '[80, 90)'), 'equals', or 'from'/'to'"),
        ({"equals": "x"}, "'equals' must be a number, not 'x'"),
        ({"equals": True}, "'equals' must be a number"),
        ({"equals": float("inf")}, "'equals' must be a finite number"),
        ({"range": 5}, "'range' must be a string like '[80, 90)'"),
        (
            {"from": 2, "include_from": True, "to": 1, "include_to": True},
            "interval [2, 1] is empty",
        ),
    ],
)
def test_from_mapping_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        interval_from_mapping(dict(data))
    assert str(info.value) == message


def test_empty_point_interval_message_is_accurate() -> None:
    with pytest.raises(ValueError, match="is empty") as info:
        parse_interval("(1, 1)")
    assert "above" not in str(info.value)
