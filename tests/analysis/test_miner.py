from __future__ import annotations

from collections.abc import Hashable

import pytest

from bench.bench_miner import drain3_miner
from bench.labelled_logs import EVENTS, generate, grouping_accuracy
from harness_connector.analysis.logs import (
    OVERFLOW,
    Template,
    TemplateMiner,
    diff_templates,
    mine,
    mine_log_lines,
    template_id,
)
from harness_connector.domain.logs import LogLine


def _texts(templates: list[Template]) -> list[str]:
    return [template.text for template in templates]


def test_lines_of_one_event_form_one_template_with_wildcards_where_they_differ() -> None:
    templates = mine(["--- PASS: TestLogin (0.01s)", "--- PASS: TestLogout (1.20s)", "--- PASS: TestLogin (0.30s)"])
    assert templates == [
        Template(
            template_id=template_id("--- PASS: <*> (<duration>)"),
            text="--- PASS: <*> (<duration>)",
            count=3,
            first_line=1,
            last_line=3,
            sample="--- PASS: TestLogin (0.01s)",
        )
    ]


def test_add_returns_the_template_as_it_is_after_the_line() -> None:
    miner = TemplateMiner()
    first = miner.add("connect to 10.0.0.1 refused", 7)
    second = miner.add("connect to db.internal refused", 9)
    assert (first.text, first.count) == ("connect to <ip> refused", 1)
    assert (second.text, second.count, second.first_line, second.last_line) == ("connect to <*> refused", 2, 7, 9)
    assert second.template_id == template_id(second.text)


def test_lines_of_different_lengths_never_share_a_template() -> None:
    assert _texts(mine(["job done", "job done twice"])) == ["job done", "job done twice"]


def test_leading_keywords_pick_the_branch_before_similarity_is_scored() -> None:
    lines = ["--- PASS: TestA (0.1s)", "--- FAIL: TestA (0.1s)"]
    # Depth 4 descends two token levels: PASS and FAIL take different branches although 3 of 4 tokens match.
    assert _texts(mine(lines)) == ["--- PASS: TestA (<duration>)", "--- FAIL: TestA (<duration>)"]
    # With one token level they meet in one leaf, and similarity merges them.
    assert _texts(mine(lines, depth=3)) == ["--- <*> TestA (<duration>)"]


def test_a_leading_token_with_a_digit_or_placeholder_goes_to_the_wildcard_branch() -> None:
    assert _texts(mine(["worker7 started now", "worker9 started now"])) == ["<*> started now"]
    assert _texts(mine(["alpha started now", "beta started now"])) == ["alpha started now", "beta started now"]


def test_new_keywords_beyond_max_children_share_the_wildcard_branch() -> None:
    lines = ["a x y", "b x y", "c x y", "d x y"]
    assert _texts(mine(lines, max_children=2)) == ["a x y", "b x y", "<*> x y"]


def test_a_line_joins_a_template_when_the_share_of_matching_tokens_reaches_the_threshold() -> None:
    lines = ["job a b c started", "job a x y started"]  # 3 of 5 tokens match
    assert _texts(mine(lines, sim_threshold=0.6)) == ["job a <*> <*> started"]
    assert _texts(mine(lines, sim_threshold=0.61)) == ["job a b c started", "job a x y started"]


def test_wildcards_in_a_template_match_any_token() -> None:
    miner = TemplateMiner(sim_threshold=0.75)
    miner.add("job run a to b", 1)
    miner.add("job run c to d", 2)  # 3 of 5 tokens match: a template of its own
    assert miner.add("job run a to c", 3).text == "job run a to <*>"  # 4 of 5
    # Against "job run a to <*>" 4 of 5 count: the three equal tokens and the wildcard.
    assert miner.add("job run e to f", 4).text == "job run <*> to <*>"


def test_a_placeholder_in_a_template_matches_any_token() -> None:
    lines = ["job sent 5 bytes to a", "job sent 10.0.0.1 bytes to b"]
    # 5 of 6 count with `<num>` matching `<ip>`; equal tokens alone would be 4 of 6.
    assert _texts(mine(lines, sim_threshold=0.75)) == ["job sent <*> bytes to <*>"]


def test_a_literal_wildcard_in_a_log_line_is_not_a_wildcard() -> None:
    assert _texts(mine(["pattern <*> compiled", "pattern abc compiled"], sim_threshold=0.9)) == [
        "pattern <\\*> compiled",
        "pattern abc compiled",
    ]


def test_templates_come_in_order_of_first_appearance_with_their_first_raw_line_as_sample() -> None:
    templates = mine(["\x1b[32mok\x1b[0m   step 1", "boom", "ok step 2"])
    assert [(t.text, t.first_line, t.last_line, t.sample) for t in templates] == [
        ("ok step <num>", 1, 3, "ok   step 1"),
        ("boom", 2, 2, "boom"),
    ]


def test_log_lines_keep_their_own_numbers() -> None:
    lines = [LogLine(number=41, text="retry 1 of 3"), LogLine(number=57, text="retry 2 of 3")]
    assert [(t.text, t.first_line, t.last_line) for t in mine_log_lines(lines)] == [("retry <num> of <num>", 41, 57)]


def test_at_most_max_templates_are_kept_forgetting_the_oldest_one_off_first() -> None:
    miner = TemplateMiner(max_templates=3)
    miner.add("cache warmed", 1)
    miner.add("cache warmed", 2)
    for number, word in enumerate(["alpha", "beta", "gamma", "delta", "omega"], start=3):
        miner.add(f"{word} happened here", number)
    assert [(t.text, t.count) for t in miner.templates()] == [
        ("cache warmed", 2),
        ("delta happened here", 1),
        ("omega happened here", 1),
    ]


def test_when_every_kept_template_recurred_new_lines_go_to_the_overflow_template() -> None:
    miner = TemplateMiner(max_templates=2)
    for number, text in enumerate(["a b", "a b", "c d", "c d", "e f", "g h", "a b"], start=1):
        miner.add(text, number)
    assert [(t.text, t.count, t.first_line, t.last_line, t.sample) for t in miner.templates()] == [
        ("a b", 3, 1, 7, "a b"),
        ("c d", 2, 3, 4, "c d"),
        (OVERFLOW, 2, 5, 6, "e f"),
    ]


def test_many_one_off_lines_stay_within_the_bound() -> None:
    def word(n: int) -> str:
        return "".join(chr(97 + n // 26**k % 26) for k in range(3))

    miner = TemplateMiner(max_templates=50)
    for number in range(1, 3_001):
        # Two of five tokens shared with any other line: each line is a template of its own.
        miner.add(f"job run {word(number)} {word(number + 5_000)} {word(number + 10_000)}", number)
    templates = miner.templates()
    assert len(templates) == 50
    assert [t.first_line for t in templates] == list(range(2_951, 3_001))


def test_a_megabyte_line_is_cut_to_max_tokens_and_its_sample_to_sample_chars() -> None:
    (template,) = mine(["word " * 200_000, "word " * 200_000])
    assert template.text == " ".join(["word"] * 64)
    assert (template.count, len(template.sample)) == (2, 300)


def test_match_finds_the_template_without_changing_anything() -> None:
    miner = TemplateMiner()
    for number, text in enumerate(["upload 1 of 9 done", "upload 2 of 9 done", "build failed"], start=1):
        miner.add(text, number)
    before = miner.templates()
    matched = miner.match("upload 7 of 8 done")
    assert matched is not None
    assert matched.text == "upload <num> of <num> done"
    assert miner.match("something else entirely") is None
    assert miner.templates() == before


def test_match_also_looks_under_the_wildcard_branch() -> None:
    miner = TemplateMiner()
    miner.add("node7 joined cluster", 1)  # a digit: stored under the wildcard branch
    matched = miner.match("nodeb joined cluster")  # a keyword that has no branch of its own
    assert matched is not None
    assert matched.text == "node7 joined cluster"


def test_a_miner_rebuilt_from_templates_knows_them() -> None:
    templates = mine(["upload 1 of 9 done", "upload 2 of 9 done", "build ok"])
    rebuilt = TemplateMiner.from_templates(templates)
    assert rebuilt.templates() == templates
    assert rebuilt.match("upload 3 of 4 done") == templates[0]


def test_diff_keeps_only_the_templates_the_baseline_never_printed() -> None:
    baseline = mine(["fetching 10 packages", "fetching 3 packages", "retry after 5s in cache", "build ok"])
    failed = mine(
        [
            "fetching 7 packages",  # the same template id
            "retry after 2s in queue",  # generalised differently, but the baseline's template takes it
            "error: disk full on /var/lib/docker",
            "build failed",
        ]
    )
    assert _texts(diff_templates(failed, baseline)) == ["error: disk full on <path>", "build failed"]


def test_diff_accepts_the_baseline_miner_and_orders_by_first_line() -> None:
    miner = TemplateMiner()
    miner.add("fetching 10 packages", 1)
    failed = [
        Template("b", "late error", 1, 9, 9, "late error"),
        Template("a", "early error", 1, 2, 2, "early error"),
        Template("c", "fetching <num> packages", 3, 1, 4, "fetching 4 packages"),
    ]
    assert _texts(diff_templates(failed, miner)) == ["early error", "late error"]


def test_a_stricter_threshold_reports_more_templates_as_new() -> None:
    baseline = mine(["step compile finished ok"])
    failed = mine(["step compile finished badly"])
    assert diff_templates(failed, baseline) == []
    assert _texts(diff_templates(failed, baseline, sim_threshold=0.9)) == ["step compile finished badly"]


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError):
        TemplateMiner(depth=2)
    with pytest.raises(ValueError):
        TemplateMiner(sim_threshold=1.5)
    with pytest.raises(ValueError):
        TemplateMiner(max_templates=0)


def test_the_labelled_generator_is_deterministic_and_covers_thirty_events_or_more() -> None:
    assert generate(500, seed=3) == generate(500, seed=3)
    assert generate(500, seed=3) != generate(500, seed=4)
    assert len({event.name for event in EVENTS}) >= 30
    assert len({line.event for line in generate(20_000)}) == len(EVENTS)


def test_grouping_accuracy_counts_lines_whose_group_is_exactly_their_event() -> None:
    truth = ["a", "a", "b", "b", "c"]
    assert grouping_accuracy([1, 1, 2, 2, 3], truth) == 1.0
    assert grouping_accuracy([1, 1, 2, 3, 4], truth) == pytest.approx(3 / 5)  # b split: both b lines wrong
    assert grouping_accuracy([1, 1, 2, 2, 2], truth) == pytest.approx(2 / 5)  # b and c merged: all three wrong


def test_grouping_accuracy_on_labelled_ci_logs_is_high_and_at_least_drain3s() -> None:
    lines = generate(20_000, seed=7)
    texts = [line.text for line in lines]
    truth = [line.event for line in lines]

    miner = TemplateMiner()
    ours: list[Hashable] = [miner.add(text, number).first_line for number, text in enumerate(texts, start=1)]
    reference = drain3_miner(depth=4)
    theirs: list[Hashable] = [reference.add_log_message(text)["cluster_id"] for text in texts]

    accuracy = grouping_accuracy(ours, truth)
    assert accuracy >= 0.9
    assert accuracy >= grouping_accuracy(theirs, truth)
