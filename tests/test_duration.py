from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm import duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72h", timedelta(hours=72)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        (" 15M ", timedelta(minutes=15)),
    ],
)
def test_parses_operator_durations(text: str, expected: timedelta) -> None:
    assert duration.parse(text) == expected


@pytest.mark.parametrize("text", ["", "72", "h", "3 days", "-1h", "1.5h", "1y"])
def test_rejects_anything_else_with_the_units_named(text: str) -> None:
    with pytest.raises(ValueError, match="s, m, h, d or w"):
        duration.parse(text)


@given(st.integers(min_value=1, max_value=10**9))
def test_format_round_trips(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert duration.parse(duration.render(delta)) == delta
