"""Durations in the notation of a Harness step's `timeout`, or plain seconds."""

from __future__ import annotations

import pytest

from harness_connector.delegate.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90.0), (1.5, 1.5), ("45", 45.0), ("45s", 45.0), ("10m", 600.0), ("1h30m", 5400.0), ("1h 30m", 5400.0),
     ("2d", 172800.0), ("1w", 604800.0), ("500ms", 0.5), ("1.5m", 90.0)],
)  # fmt: skip
def test_harness_durations_and_plain_seconds_become_seconds(value: str | float, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "soon", "10x", "m10", "-5", "0", 0, -1, "1h-30m", True, float("inf")])
def test_anything_else_is_refused_with_the_forms_that_work(value: str | float) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)
