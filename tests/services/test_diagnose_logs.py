from __future__ import annotations

import pytest

from harness_connector.domain.logs import LogLine
from harness_connector.services.diagnose_logs import (
    ExcerptSelector,
    allocate_budget,
    line_cost,
    looks_like_error,
)


def _feed(texts: list[str], **settings: int) -> ExcerptSelector:
    selector = ExcerptSelector(**settings)
    for number, text in enumerate(texts, start=1):
        level = "ERROR" if text.startswith("E:") else "INFO"
        selector.feed(LogLine(number=number, text=text, level=level))
    return selector


def test_error_words_count_but_zero_counts_and_exit_code_zero_do_not() -> None:
    assert looks_like_error("npm ERR! code ELIFECYCLE")
    assert looks_like_error("Error: connect ECONNREFUSED 10.0.0.7:5432")
    assert looks_like_error("Container killed: OOMKilled")
    assert looks_like_error("command terminated with exit code 137")
    assert looks_like_error("plain text", "ERROR")
    assert not looks_like_error("Tests run: 12, Failures: 0, Errors: 0, Skipped: 1")
    assert not looks_like_error("process exited with exit code 0")
    assert not looks_like_error("Compiling 12 source files")


def test_an_error_line_comes_with_its_context_before_and_after_and_true_line_numbers() -> None:
    texts = [f"step {i}" for i in range(1, 21)]
    texts[9] = "fatal: could not read Username for 'https://github.com'"
    excerpt = _feed(texts, before=2, after=2, tail=2).excerpt(10_000)
    shown = {line.n: line.text for line in excerpt.lines}
    assert shown[10].startswith("fatal:")
    assert [n for n in shown if n < 19] == [8, 9, 10, 11, 12]
    assert [n for n in shown if n >= 19] == [19, 20]
    assert shown[8] == "step 8"
    assert excerpt.total_lines == 20
    assert excerpt.error_lines == 1
    assert excerpt.truncated


def test_an_error_that_repeats_is_shown_once_with_its_repeat_count() -> None:
    texts = ["start", *[f"Error: timeout after {i}ms talking to 10.0.0.{i}" for i in range(50)], "done"]
    excerpt = _feed(texts, before=0, after=0, tail=1).excerpt(10_000)
    errors = [line for line in excerpt.lines if line.text.startswith("Error")]
    assert len(errors) == 1
    assert errors[0].n == 2
    assert errors[0].repeats == 49
    assert excerpt.error_lines == 50


def test_the_excerpt_never_exceeds_its_budget_and_keeps_the_first_and_last_error_and_the_end() -> None:
    texts = [f"noise line {i} " + "x" * 80 for i in range(1, 301)]
    texts[20] = "E: first problem: cannot find symbol Foo"
    texts[150] = "E: middle problem: unrelated"
    texts[280] = "E: last problem: BUILD FAILED"
    texts[-1] = "Cleaning up the workspace"
    selector = _feed(texts)
    budget = 260
    excerpt = selector.excerpt(budget)
    assert excerpt.chars <= budget
    assert sum(line_cost(line) for line in excerpt.lines) == excerpt.chars
    numbers = [line.n for line in excerpt.lines]
    assert numbers == sorted(numbers)
    assert {21, 281, 300} <= set(numbers)
    assert 151 not in numbers  # the middle error loses to the ends when the budget is tight
    assert 280 not in numbers  # so does context
    assert selector.needed_chars() > budget


def test_a_zero_budget_gives_no_lines_and_a_large_one_gives_everything_kept() -> None:
    selector = _feed(["a", "E: broken", "b"])
    assert selector.excerpt(0).lines == []
    assert [line.n for line in selector.excerpt(selector.needed_chars()).lines] == [1, 2, 3]


def test_without_errors_the_tail_of_the_log_is_shown() -> None:
    excerpt = _feed([f"line {i}" for i in range(1, 101)], tail=5).excerpt(10_000)
    assert [line.n for line in excerpt.lines] == [96, 97, 98, 99, 100]


def test_long_lines_are_cut_and_control_characters_dropped() -> None:
    excerpt = _feed(["E: " + "y" * 5000 + "\x07\x00"], max_line_chars=100).excerpt(10_000)
    (line,) = excerpt.lines
    assert line.text.startswith("E: yyy")
    assert line.text.endswith("more chars]")
    assert len(line.text) < 140
    assert "\x07" not in line.text


def test_memory_stays_bounded_when_every_line_is_a_distinct_error() -> None:
    selector = ExcerptSelector(before=3, after=3, tail=10, max_hits=8)
    for number in range(1, 50_001):
        word = "".join(chr(97 + (number // 26**k) % 26) for k in range(4))
        selector.feed(LogLine(number=number, text=f"error in module {word}"))
    kept = selector.excerpt(10**9).lines
    assert len(kept) <= 8 * 7 + 10
    assert kept[0].n == 1
    assert kept[-1].n == 50_000
    assert selector.error_lines == 50_000


def test_the_budget_goes_to_the_root_cause_first_and_unused_shares_flow_back() -> None:
    assert allocate_budget([1000, 1000, 1000], 1000) == [600, 200, 200]
    assert allocate_budget([100, 5000, 5000], 1000) == [100, 450, 450]
    assert allocate_budget([5000, 10, 10], 1000) == [980, 10, 10]
    assert allocate_budget([5000], 1000) == [1000]
    assert allocate_budget([], 1000) == []
    assert sum(allocate_budget([300, 900, 50, 4000], 2000)) <= 2000


def test_bad_selector_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        ExcerptSelector(before=-1)
