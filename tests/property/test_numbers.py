"""Numbers written as text: plain notation, exactly the value."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from perfscore._numbers import to_plain, to_str


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_number_text_is_the_plain_notation(value: Decimal) -> None:
    """to_str is format(value, "f"), only faster; to_plain drops trailing zeros from it."""
    assert to_str(value) == format(value, "f")
    plain = format(value, "f")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    assert to_plain(value) == plain
    if value.is_finite():
        assert Decimal(to_plain(value)) == value


@given(st.one_of(st.integers(), st.booleans(), st.text(max_size=5)))
def test_plain_text_of_other_values_is_their_str(value: object) -> None:
    assert to_plain(value) == str(value)
