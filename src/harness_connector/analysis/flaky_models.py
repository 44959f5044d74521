"""The typed inputs, settings and results of flaky-test detection.

Inputs are the rows of `harness_connector.store.rows` (`ExecutionTestsRow`, one per execution, for the outage
guard and for impact, is re-exported here); this module adds the `FlakyPolicy` that holds every threshold, with
the reason for its default, and the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness_connector.analysis.flaky_stats import TrendDirection
from harness_connector.store.rows import ExecutionTestsRow

__all__ = [
    "DAY_MS",
    "Classification",
    "ExecutionTestsRow",
    "FlakyImpact",
    "FlakyPolicy",
    "FlakyReport",
    "FlakyVerdict",
    "OutageGuard",
    "Recommendation",
    "TestImpact",
    "Trend",
]

DAY_MS = 86_400_000


class Classification(StrEnum):
    """What a test's recent history says about it."""

    FLAKY = "flaky"  # fails and passes without a change that explains it
    BROKEN = "broken"  # fails on every run since a commit
    SLOW_AND_FLAKY = "slow_and_flaky"  # flaky, and slow enough that reruns are expensive
    STABLE = "stable"


class Recommendation(StrEnum):
    """What to do about a test, most drastic first."""

    QUARANTINE = "quarantine"  # clearly flaky and costly: keep it running, stop it failing builds
    MOVE_TO_SCHEDULED = "move_to_scheduled"  # slow or environment-dependent: run it on a schedule instead
    FIX_NOW = "fix_now"  # started failing recently: the change that did it is known and fresh
    MONITOR = "monitor"  # flaky but cheap so far


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyPolicy:
    """Every threshold of detection, scoring and recommendation.

    The defaults follow the products whose verdicts ours should agree with: Harness CI and CircleCI flag a test
    that failed and passed on the same commit in a 14-day window, and Harness clears the flag after 5 consecutive
    passes. The history detector's rates follow Trunk's suggestions for a main branch (flag at 10 % or more,
    clear at 5 % or less, with a minimum sample); quarantine follows Datadog's triage rule (failure rate over 10 %,
    or more than 5 pipelines affected).
    """

    window_days: int = 14
    recovery_passes: int = 5
    min_same_commit: int = 1  # same-commit flakes needed to call a test flaky
    broken_min_runs: int = 3  # failing first attempts in a row, with no pass since, to call a test broken
    # The default-branch history detector.
    history_min_runs: int = 20  # fewer first attempts on the default branch than this decide nothing
    history_window: int = 50  # rates are taken over the latest this many runs
    enter_flip_rate: float = 0.10  # ≈ 5 % of runs failing at random
    exit_flip_rate: float = 0.04
    enter_failure_rate: float = 0.10
    exit_failure_rate: float = 0.04
    settle_runs: int = 3  # a failure that lasts this many runs after a new commit is a regression, not a flip
    # Scores.
    level: float = 0.95
    # Classes and recommendations.
    slow_ms: float = 30_000.0  # mean duration from which a flaky test is slow_and_flaky
    environment_share: float = 0.5  # share of failures that must look environmental (timeouts, DNS, ...)
    quarantine_failed_executions: int = 3
    quarantine_pipelines: int = 5
    quarantine_failure_rate: float = 0.10  # compared with the interval's lower end, so it holds with confidence
    recent_days: int = 3  # first flake this recent means "started flaking" (fix_now)
    trend_bucket_days: int = 1
    # The outage guard.
    outage_share: float = 0.5  # an execution in which this share of its tests failed is an outage
    outage_min_tests: int = 20  # ... when it ran at least this many
    # How many tests `history_candidates` asks histories for.
    max_histories: int = 50

    @property
    def window_ms(self) -> int:
        return self.window_days * DAY_MS

    def since(self, until_ms: int) -> int:
        """The start of the window that ends at `until_ms`: what the store queries must use as `since_ms`."""
        return until_ms - self.window_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class OutageGuard:
    """Results to leave out of flakiness learning because too much failed at once.

    Histories drop the results of `executions`; the per-commit aggregates drop whole `commits` (a `TestCommitRow`
    cannot be split by execution), so a real flake on a commit that also saw an outage is not counted.
    """

    executions: frozenset[str] = frozenset()
    commits: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend:
    """Failures per bucket over the window, oldest first, and where they are heading."""

    start_ms: int
    bucket_ms: int
    counts: tuple[int, ...]
    direction: TrendDirection


@dataclass(frozen=True, slots=True, kw_only=True)
class TestImpact:
    """What one test's failures cost. Fields that need `ExecutionTestsRow`s are None without them."""

    __test__ = False

    failed_executions: int | None  # executions that failed only because of flaky tests, this one among them
    reruns: int | None  # reruns of those executions
    test_retries: int  # retry attempts of this test
    ci_minutes_lost: float  # its retries, and its share of the executions it failed
    pipelines: tuple[str, ...]  # where it failed
    owners: tuple[str, ...]
    trend: Trend  # first-attempt failures per bucket


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyImpact:
    """What all flaky tests together cost over the window."""

    failed_executions: int | None
    reruns: int | None
    test_retries: int
    ci_minutes_lost: float
    pipelines: tuple[str, ...]
    owners: tuple[str, ...]
    trend: Trend  # first-attempt failures of flaky tests per bucket


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyVerdict:
    """One test's classification, with the numbers behind it.

    `score` is the posterior mean probability that a first attempt of the test fails (Jeffreys prior), and
    `ci_low`-`ci_high` its equal-tailed credible interval at the policy's level. Counts are first attempts over
    the window, outages left out. `flips` and `flip_rate` describe the default branch and are None without a
    history; `passes_since_failure` is None without a history.
    """

    test_id: str
    suite: str
    class_name: str
    name: str
    classification: Classification
    score: float
    ci_low: float
    ci_high: float
    runs: int
    failures: int
    retries: int
    retries_passed: int
    same_commit_commits: int  # commits on which the test both failed and passed (or was reported flaky)
    pass_on_retry_commits: int  # ... of which a failure passed on retry
    runner_flaky: int  # first attempts the test runner reported as flaky
    flips: int | None
    flip_rate: float | None
    first_flaky_ms: int | None
    first_flaky_commit: str | None
    last_flaky_ms: int | None
    broken_since_ms: int | None
    broken_since_commit: str | None
    broken_runs: int  # failing first attempts in a row, for a broken test
    passes_since_failure: int | None
    recovered: bool  # same-commit flakes in the window, but followed by `recovery_passes` passes
    mean_duration_ms: float
    detectors: tuple[str, ...]  # "same_commit", "default_branch", "broken"
    environment: str | None  # why the failures look environment-dependent, if they do
    impact: TestImpact
    recommendation: Recommendation | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyReport:
    """Flaky-test detection over one window.

    `verdicts` holds the broken and flaky tests, and the stable ones worth seeing (see `detect_flaky`), most urgent
    first: broken, then flaky by the executions they failed and their score. `stable` counts every test that
    failed in the window yet is stable; tests that never failed are only counted in `tests`.
    """

    since_ms: int
    until_ms: int
    tests: int
    flaky: int
    slow_and_flaky: int
    broken: int
    stable: int
    verdicts: tuple[FlakyVerdict, ...]
    impact: FlakyImpact
    ignored_executions: int
    ignored_commits: int
