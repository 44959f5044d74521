"""The statistics of flakiness scores (the Beta distribution and the Jeffreys interval) and of trends, and the
CODEOWNERS matcher that names the owners of a test."""

from __future__ import annotations

import math

import pytest

from harness_connector.analysis.flaky_owners import CodeOwners
from harness_connector.analysis.flaky_stats import beta_cdf, beta_ppf, jeffreys_interval, trend_direction

# Jeffreys intervals at 95 %: Beta(k + 1/2, n - k + 1/2) quantiles at 2.5 % and 97.5 %, as published tables and
# statistics libraries give them.
REFERENCE = [
    (1, 10, 0.011011673763161133, 0.3813147710666164),
    (5, 20, 0.1023984856830451, 0.46419462924086813),
    (3, 1000, 0.0008456348018298346, 0.007984367358403443),
    (50, 100, 0.40317395089641805, 0.596826049103582),
]


@pytest.mark.parametrize(("failures", "runs", "low", "high"), REFERENCE, ids=[f"{k}-of-{n}" for k, n, *_ in REFERENCE])
def test_the_jeffreys_interval_matches_reference_values(failures: int, runs: int, low: float, high: float) -> None:
    mean, found_low, found_high = jeffreys_interval(failures, runs)
    assert (found_low, found_high) == pytest.approx((low, high), rel=1e-8)
    assert mean == pytest.approx((failures + 0.5) / (runs + 1))
    assert found_low < mean < found_high


def test_the_interval_is_pinned_to_the_edge_when_nothing_or_everything_failed() -> None:
    assert jeffreys_interval(0, 10) == pytest.approx((0.5 / 11, 0.0, 0.21719626750921053), rel=1e-8)
    assert jeffreys_interval(10, 10) == pytest.approx((10.5 / 11, 0.7828037324907894, 1.0), rel=1e-8)
    assert jeffreys_interval(0, 0) == (0.5, 0.0, 1.0)


def test_the_interval_narrows_with_more_runs_at_the_same_rate() -> None:
    widths = [high - low for _, low, high in (jeffreys_interval(n // 10, n) for n in (10, 100, 1_000, 10_000))]
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < 0.013


def test_a_wider_level_gives_a_wider_interval() -> None:
    _, low_90, high_90 = jeffreys_interval(4, 40, level=0.90)
    _, low_99, high_99 = jeffreys_interval(4, 40, level=0.99)
    assert low_99 < low_90 < high_90 < high_99


def test_the_beta_cdf_agrees_with_numeric_integration_of_the_density() -> None:
    a, b = 2.5, 7.5
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    steps = 20_000
    width = 0.3 / steps
    area = sum(
        math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_beta) * width
        for x in ((i + 0.5) * width for i in range(steps))
    )
    assert beta_cdf(0.3, a, b) == pytest.approx(area, rel=1e-6)
    assert beta_cdf(0.3, a, b) == pytest.approx(0.6789434858661821, rel=1e-10)


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (0.5, 300.5), (3.5, 997.5), (40.5, 60.5), (999.5, 1.5)])
def test_the_beta_quantile_inverts_the_cdf(a: float, b: float) -> None:
    for q in (1e-6, 0.005, 0.025, 0.5, 0.975, 0.995):
        assert beta_cdf(beta_ppf(q, a, b), a, b) == pytest.approx(q, rel=1e-8)
    assert beta_ppf(0.0, a, b) == 0.0
    assert beta_ppf(1.0, a, b) == 1.0


def test_the_beta_quantile_is_symmetric_in_its_parameters() -> None:
    assert beta_ppf(0.1, 3.5, 12.5) == pytest.approx(1 - beta_ppf(0.9, 12.5, 3.5), rel=1e-9)


@pytest.mark.parametrize(
    ("counts", "direction"),
    [
        ((0, 0, 1, 0, 2, 3), "rising"),
        ((4, 3, 0, 1, 0, 0), "falling"),
        ((1, 0, 1, 0, 1, 1), "steady"),
        ((0, 0, 0, 0, 0, 1), "steady"),  # one more failure is not a trend
        ((0, 0, 9, 0, 0), "steady"),  # the middle of an odd series counts for neither half
        ((), "steady"),
    ],
    ids=["rising", "falling", "flat", "too-few", "odd-middle", "empty"],
)
def test_the_trend_compares_the_later_half_with_the_earlier(counts: tuple[int, ...], direction: str) -> None:
    assert trend_direction(counts) == direction


CODEOWNERS = """
# Default owners
*                       @org/everyone
*.js                    @js-owner   # trailing comment
**/logs                 @logger
/build/logs/            @doctocat
docs/*                  docs@example.com
apps/                   @octocat
/scripts/ @ops @alice
/scripts/generated/
\\#notes.md              @hash
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ("@org/everyone",)),
        ("src/web/app.js", ("@js-owner",)),
        ("build/logs/today.txt", ("@doctocat",)),
        ("/build/logs/today.txt", ("@doctocat",)),
        ("docs/getting-started.md", ("docs@example.com",)),
        ("docs/build-app/troubleshooting.md", ("@org/everyone",)),  # docs/* is not recursive
        ("web/apps/github/main.py", ("@octocat",)),  # unanchored directory: at any depth
        ("deep/down/logs/x.txt", ("@logger",)),
        ("scripts/deploy.sh", ("@ops", "@alice")),
        ("scripts/generated/out.sh", ()),  # a later rule with no owners unsets them
        ("#notes.md", ("@hash",)),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_codeowners_rules_match_paths_and_the_last_match_wins(path: str, owners: tuple[str, ...]) -> None:
    assert CodeOwners.parse(CODEOWNERS).owners_of(path) == owners


def test_prefix_owners_take_the_longest_matching_prefix_of_a_path_or_class_name() -> None:
    owners = CodeOwners.from_prefixes({"com.acme": ["@platform"], "com.acme.billing": ["@billing"]})
    assert owners.owners_of_test("suite", "com.acme.billing.InvoiceTest") == ("@billing",)
    assert owners.owners_of_test("suite", "com.acme.search.QueryTest") == ("@platform",)
    assert owners.owners_of_test("suite", "org.other.Test") == ()


def test_a_suite_that_is_a_file_path_is_matched_before_the_class_name() -> None:
    owners = CodeOwners.parse("/tests/ @qa\n/tests/billing/ @billing\n")
    assert owners.owners_of_test("tests/billing/test_invoice.py", "TestInvoice") == ("@billing",)
    assert owners.owners_of_test("pytest", "tests.billing.test_invoice.TestInvoice") == ("@billing",)
    assert owners.owners_of_test("pytest", "TestInvoice", path="tests/other/test_x.py") == ("@qa",)
