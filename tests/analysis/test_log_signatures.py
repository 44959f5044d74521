from __future__ import annotations

from harness_connector.analysis.log_signatures import is_error_line, mask, signatures, template_id
from harness_connector.domain.logs import LogLine


def _lines(*texts: str) -> list[LogLine]:
    return [LogLine(number=i + 1, text=text) for i, text in enumerate(texts)]


def test_masking_replaces_ids_hosts_numbers_paths_and_times() -> None:
    text = (
        "2026-11-20T10:01:02Z npm ERR! network request to https://registry.npmjs.org/left-pad failed, "
        "reason: connect ETIMEDOUT 104.16.3.35:443 after 30000ms in /home/runner/work/app v1.2.3 sha 9f8e7d6c5b4a"
    )
    assert mask(text) == (
        "<time> npm ERR! network request to <url> failed, reason: connect ETIMEDOUT <ip> after <duration> "
        "in <path> <version> sha <hex>"
    )


def test_the_same_failure_with_other_values_has_the_same_signature() -> None:
    first = signatures(_lines("Error: connect ECONNRESET 10.0.0.1:443", "ok"))
    second = signatures(_lines("building", "Error: connect ECONNRESET 10.9.8.7:8443"))
    assert first[0].template_id == second[0].template_id
    assert first[0].first_line == 1
    assert second[0].first_line == 2


def test_only_error_looking_lines_count_and_the_most_frequent_comes_first() -> None:
    found = signatures(
        _lines(
            "compiling 12 files",
            "java.lang.OutOfMemoryError: Java heap space",
            "Tests: 0 failed, 12 passed",
            "retrying: read timed out after 30 s (attempt 1)",
            "retrying: read timed out after 60 s (attempt 2)",
        )
    )
    assert [(s.count, s.first_line) for s in found] == [(2, 4), (1, 2)]
    assert found[0].template == "retrying: read timed out after <duration> (attempt <num>)"
    assert found[0].sample == "retrying: read timed out after 30 s (attempt 1)"


def test_error_level_lines_count_even_without_error_words_and_zero_counts_do_not() -> None:
    assert is_error_line(LogLine(number=1, text="something odd", level="ERROR"))
    assert not is_error_line(LogLine(number=1, text="Build finished with 0 errors"))
    assert is_error_line(LogLine(number=1, text="Process exited with exit code 137"))


def test_template_ids_are_short_and_stable() -> None:
    assert template_id("x") == template_id("x")
    assert len(template_id("x")) == 16
    assert template_id("x") != template_id("y")


def test_distinct_templates_are_capped() -> None:
    found = signatures(_lines(*[f"error kind{chr(97 + i)}" for i in range(20)]), max_templates=5)
    assert len(found) == 5
