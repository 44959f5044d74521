"""Broken or flaky: a broken test fails consistently since a commit, so a failure streak that contains a commit on
which the test also passed (at a first attempt or a retry, on any branch) is flakiness, not breakage. Histories
are built by hand, one result per line, oldest first."""

from __future__ import annotations

from harness_connector.analysis.flaky import Classification, FlakyVerdict, detect_flaky
from harness_connector.analysis.flaky_history import broken_streak
from harness_connector.domain.history import TestOutcome
from harness_connector.store.rows import TestCommitRow, TestRunRow, TestTotalsRow

UNTIL = 1_700_000_000_000
DAY = 86_400_000
HOUR = 3_600_000
START = UNTIL - 10 * DAY
OUTCOMES = {"P": TestOutcome.PASSED, "F": TestOutcome.FAILED, "K": TestOutcome.FLAKY}


def run(index: int, commit: str, letter: str, *, branch: str = "main", attempt: int = 1) -> TestRunRow:
    """The `index`-th result in time: its own execution, unless it is a retry of the result just before."""
    execution = f"exec-{index - 1 if attempt > 1 else index}"
    return TestRunRow(
        "t1", "suite", "com.acme.Thing", "case", OUTCOMES[letter], attempt, attempt > 1, 200, None, None, execution,
        "pipeline-a", "build", "test", commit, branch, None, START + index * HOUR,
    )  # fmt: skip


def newest_first(rows: list[TestRunRow]) -> list[TestRunRow]:
    """As `Store.test_history` returns them."""
    return sorted(rows, key=lambda row: (row.run_ms, row.attempt), reverse=True)


def on_main(pattern: str, commits: list[str]) -> list[TestRunRow]:
    """First attempts on main, oldest first, one letter and one commit per result."""
    return [run(index, commit, letter) for index, (letter, commit) in enumerate(zip(pattern, commits, strict=True))]


def per_commit(rows: list[TestRunRow]) -> list[TestCommitRow]:
    """What `Store.test_outcomes_by_commit` makes of the same results: the failing commits' counts."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        passed = row.outcome is TestOutcome.PASSED
        slot = (2 if passed else 3) if row.is_retry else (0 if passed else 1)
        counts.setdefault(row.commit_sha or "", [0, 0, 0, 0])[slot] += 1
    found = []
    for sha, (passed, failed, retries_passed, retries_failed) in sorted(counts.items()):
        if failed or retries_failed:
            runs, retries = passed + failed, retries_passed + retries_failed
            at = min(row.run_ms for row in rows if row.commit_sha == sha)
            found.append(
                TestCommitRow("t1", sha, runs, passed, failed, 0, retries, retries_passed, retries_failed, 0, 1, at, at)
            )
    return found


def judged(rows: list[TestRunRow]) -> FlakyVerdict:
    first = [row for row in rows if not row.is_retry]
    failed = sum(1 for row in first if row.outcome is TestOutcome.FAILED)
    retries = [row for row in rows if row.is_retry]
    retries_passed = sum(1 for row in retries if row.outcome is TestOutcome.PASSED)
    totals = TestTotalsRow(
        "t1", "suite", "com.acme.Thing", "case", len(first), len(first) - failed, failed, 0, len(retries),
        retries_passed, len(retries) - retries_passed, 0, 200.0, START, UNTIL - 1,
    )  # fmt: skip
    report = detect_flaky(
        [totals], per_commit(rows), until_ms=UNTIL, histories={"t1": newest_first(rows)}, default_branch="main"
    )
    (verdict,) = report.verdicts
    return verdict


def test_failing_again_and_again_on_a_commit_that_passed_is_flaky_not_broken() -> None:
    # The head commit c3 passed, then failed in its next three builds (a nightly rebuilding the same commit).
    rows = on_main("PPPPFFF", ["c0", "c1", "c2", "c3", "c3", "c3", "c3"])
    verdict = judged(rows)
    assert verdict.classification is Classification.FLAKY
    assert verdict.detectors == ("same_commit",)
    assert (verdict.broken_runs, verdict.broken_since_commit) == (0, None)
    assert verdict.first_flaky_commit == "c3"


def test_failures_passed_on_retry_in_another_build_of_their_commit_are_flaky_not_broken() -> None:
    # Three failing builds on main in a row; a pull-request build of the newest commit failed, then passed on retry.
    rows = on_main("PPPFFF", ["c0", "c1", "c2", "c3", "c4", "c5"])
    rows += [run(6, "c5", "F", branch="feature/x"), run(7, "c5", "P", branch="feature/x", attempt=2)]
    verdict = judged(rows)
    assert verdict.classification is Classification.FLAKY
    assert verdict.pass_on_retry_commits == 1
    assert verdict.broken_runs == 0


def test_a_test_that_flaked_before_and_fails_on_every_commit_since_is_broken() -> None:
    # Flaky on c2 (failed, then passed on the same commit), then failing on each of four new commits.
    rows = on_main("PPFPPFFFF", ["c0", "c1", "c2", "c2", "c3", "c4", "c5", "c6", "c7"])
    verdict = judged(rows)
    assert verdict.classification is Classification.BROKEN
    assert (verdict.broken_runs, verdict.broken_since_commit) == (4, "c4")
    assert verdict.broken_since_ms == START + 5 * HOUR


def test_a_streak_begins_after_the_last_commit_that_passed() -> None:
    # c3 passed and then failed: its failure is a flake; the test is broken since c4, the first commit that never
    # passed, not since c3.
    rows = on_main("PPPPFFFF", ["c0", "c1", "c2", "c3", "c3", "c4", "c5", "c6"])
    verdict = judged(rows)
    assert verdict.classification is Classification.BROKEN
    assert (verdict.broken_runs, verdict.broken_since_commit) == (3, "c4")


def test_a_pass_the_per_commit_counts_know_of_ends_the_streak_as_one_in_the_history_does() -> None:
    rows = newest_first(on_main("PPFFFF", ["c0", "c1", "c2", "c3", "c4", "c5"]))
    assert broken_streak(rows, branch="main").runs == 4
    streak = broken_streak(rows, branch="main", passed_commits={"c3"})
    assert (streak.runs, streak.since_commit) == (2, "c4")
    assert broken_streak(rows, branch="main", passed_commits={"c5"}).runs == 0
