"""The small rules behind a test case's record: durations, reasons, trimmed output."""

from __future__ import annotations

import pytest

from harness_connector.junit.cases import duration_ms, message_from, trim


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.123", 123),
        ("12", 12000),
        ("0.0005", 1),
        ("1,234.5", 1234500),  # Surefire under some locales
        ("", 0),
        (None, 0),
        ("-1.0", 0),
        ("nan", 0),
        ("inf", 0),
        ("1e300", 0),
        ("soon", 0),
    ],
)
def test_durations_become_whole_milliseconds_and_junk_becomes_zero(value: str | None, expected: int) -> None:
    assert duration_ms(value) == expected


def test_long_output_keeps_its_head_and_tail_and_says_how_much_was_cut() -> None:
    text = "H" * 1000 + "m" * 5000 + "T" * 1000
    trimmed = trim(text, 300)
    assert trimmed == "H" * 200 + "\n[... 6700 characters cut ...]\n" + "T" * 100
    assert trim("short", 300) == "short"
    assert trim(None, 300) is None


def test_the_message_attribute_is_the_reason_when_it_says_something() -> None:
    assert message_from("expected: <1> but was: <2>", "stack", 100) == "expected: <1> but was: <2>"


def test_a_generic_message_gives_way_to_the_first_telling_line_of_the_body() -> None:
    body = "=== RUN   TestTotal\n    cart_test.go:41: Total() = 93, want 90\n--- FAIL: TestTotal (0.00s)\n"
    assert message_from("Failed", body, 100) == "cart_test.go:41: Total() = 93, want 90"
    assert message_from(None, "\n\n  Error: boom\n  at x", 100) == "Error: boom"
    assert message_from("Failed", "", 100) == "Failed"
    assert message_from(None, None, 100) is None


def test_a_body_line_that_only_names_the_test_is_not_its_reason() -> None:
    body = "Tests\\Unit\\CalcTest::testAdd\nFailed asserting that 3 matches expected 4.\n"
    assert message_from(None, body, 100, "testAdd") == "Failed asserting that 3 matches expected 4."


def test_messages_lose_terminal_colours_and_are_capped() -> None:
    assert message_from("\x1b[31mexpected\x1b[39m 1", None, 100) == "expected 1"
    assert message_from("x" * 50, None, 10) == "x" * 10
