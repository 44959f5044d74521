"""Each dialect's realistic report parses into exactly the records and counts it describes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.junit import CaseDetail, FileSummary, JUnitContext, ParsedFile, parse_file, test_id

DATA = Path(__file__).parent / "data"
CONTEXT = JUnitContext(
    execution_id="exec-42", pipeline_id="build", stage_id="test", step_id="unit", branch="main", pr_number=7
)
MAY_1_10AM = 1714557600000


def parse(name: str, context: JUnitContext = CONTEXT) -> ParsedFile:
    return parse_file(DATA / name, context)


def by_name(parsed: ParsedFile, name: str) -> list[TestResult]:
    return [record for record in parsed.results if record.name == name]


@pytest.mark.parametrize(
    ("name", "suites", "cases", "records", "passed", "failed", "errors", "skipped", "flaky", "duration_ms"),
    [
        ("pytest.xml", 1, 8, 8, 3, 2, 1, 2, 0, 488),
        ("surefire.xml", 1, 7, 11, 2, 2, 1, 1, 1, 860),
        ("failsafe.xml", 1, 4, 6, 2, 1, 0, 0, 1, 38902),
        ("gradle.xml", 1, 5, 5, 3, 1, 0, 1, 0, 22),
        ("jest.xml", 2, 5, 5, 3, 1, 0, 1, 0, 19),
        ("mocha.xml", 3, 4, 4, 2, 1, 0, 1, 0, 407),
        ("go-junit-report.xml", 3, 7, 7, 3, 2, 1, 1, 0, 35),
        ("gotestsum.xml", 2, 5, 6, 2, 1, 0, 1, 1, 1683),
        ("cypress.xml", 2, 3, 3, 2, 1, 0, 0, 0, 14190),
        ("playwright.xml", 2, 6, 7, 3, 1, 0, 1, 1, 24500),
        ("phpunit.xml", 4, 6, 6, 3, 1, 1, 1, 0, 52),
        ("nunit-as-junit.xml", 1, 5, 5, 2, 1, 0, 2, 0, 318),
        ("xunit-as-junit.xml", 1, 4, 4, 2, 1, 0, 1, 0, 3),
    ],
)
def test_every_dialect_is_counted_as_its_report_describes(
    name: str,
    suites: int,
    cases: int,
    records: int,
    passed: int,
    failed: int,
    errors: int,
    skipped: int,
    flaky: int,
    duration_ms: int,
) -> None:
    parsed = parse(name)
    assert parsed.summary == FileSummary(
        path=str(DATA / name),
        suites=suites,
        cases=cases,
        records=records,
        passed=passed,
        failed=failed,
        errors=errors,
        skipped=skipped,
        flaky=flaky,
        duration_ms=duration_ms,
    )
    assert len(parsed.results) == records
    assert sum(record.duration_ms for record in parsed.results) == duration_ms
    keys = [(record.test_id, record.attempt) for record in parsed.results]
    assert len(set(keys)) == len(keys), "two records would share a store key"
    assert all(record.execution_id == "exec-42" and record.pr_number == 7 for record in parsed.results)


def test_a_pytest_failure_keeps_its_reason_type_and_the_callers_context() -> None:
    [record] = by_name(parse("pytest.xml"), "test_divide[1-0-inf]")
    assert record == TestResult(
        test_id=test_id("pytest", "tests.test_calc.TestCalc", "test_divide[1-0-inf]"),
        suite="pytest",
        class_name="tests.test_calc.TestCalc",
        name="test_divide[1-0-inf]",
        outcome=TestOutcome.FAILED,
        duration_ms=4,
        message="ZeroDivisionError: division by zero",
        attempt=1,
        execution_id="exec-42",
        pipeline_id="build",
        stage_id="test",
        step_id="unit",
        branch="main",
        pr_number=7,
        started_ms=MAY_1_10AM + 123,
    )


def test_pytest_skips_xfails_setup_errors_and_teardown_errors_are_told_apart() -> None:
    parsed = parse("pytest.xml")
    outcomes = {record.name: (record.outcome, record.failure_type, record.message) for record in parsed.results}
    assert outcomes["test_fetch_remote"] == (TestOutcome.SKIPPED, "pytest.skip", "requires network")
    assert outcomes["test_known_bug"] == (TestOutcome.SKIPPED, "pytest.xfail", "known bug #42")
    assert outcomes["test_migrations_apply"] == (
        TestOutcome.ERROR,
        None,
        'failed on setup with "psycopg.OperationalError: connection refused"',
    )
    # A failure followed by a teardown error is the test's failure.
    assert outcomes["test_cancel_order"] == (TestOutcome.FAILED, None, "AssertionError: assert 409 == 200")


def test_surefire_flaky_failures_become_failed_attempts_then_a_flaky_pass() -> None:
    parsed = parse("surefire.xml")
    records = by_name(parsed, "sendsConfirmationEmail")
    final = TestResult(
        test_id=test_id(
            "com.example.shop.OrderServiceTest", "com.example.shop.OrderServiceTest", "sendsConfirmationEmail"
        ),
        suite="com.example.shop.OrderServiceTest",
        class_name="com.example.shop.OrderServiceTest",
        name="sendsConfirmationEmail",
        outcome=TestOutcome.FLAKY,
        duration_ms=510,
        attempt=3,
        execution_id="exec-42",
        pipeline_id="build",
        stage_id="test",
        step_id="unit",
        commit_sha="9f2c1e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
        branch="main",
        pr_number=7,
    )
    timeout = "org.awaitility.core.ConditionTimeoutException"
    assert records == [
        replace(
            final,
            outcome=TestOutcome.FAILED,
            attempt=1,
            duration_ms=0,
            message="Timed out waiting for mail",
            failure_type=timeout,
        ),
        replace(
            final,
            outcome=TestOutcome.ERROR,
            attempt=2,
            duration_ms=0,
            message="Broken pipe",
            failure_type="java.net.SocketException",
        ),
        final,
    ]


def test_surefire_reruns_that_keep_failing_are_numbered_after_the_first_failure() -> None:
    records = by_name(parse("surefire.xml"), "refundsCancelledOrder")
    assert [(r.attempt, r.outcome, r.duration_ms, r.failure_type) for r in records] == [
        (1, TestOutcome.FAILED, 101, "org.opentest4j.AssertionFailedError"),
        (2, TestOutcome.FAILED, 0, "org.opentest4j.AssertionFailedError"),
        (3, TestOutcome.ERROR, 0, "java.sql.SQLTransactionRollbackException"),
    ]


def test_a_commit_in_suite_properties_fills_the_context_but_never_overrides_the_caller() -> None:
    from_file = parse("surefire.xml")
    assert {r.commit_sha for r in from_file.results} == {"9f2c1e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"}
    given = parse("surefire.xml", JUnitContext(execution_id="exec-42", commit_sha="abc1234"))
    assert {r.commit_sha for r in given.results} == {"abc1234"}


def test_failsafe_reports_read_like_surefire_reports() -> None:
    records = by_name(parse("failsafe.xml"), "checkoutWithVoucher")
    assert [(r.attempt, r.outcome, r.message) for r in records] == [
        (1, TestOutcome.FAILED, "Expecting HTTP 201 but was 503"),
        (2, TestOutcome.FLAKY, None),
    ]


def test_gotestsum_reruns_of_the_same_test_continue_its_attempts_and_end_flaky() -> None:
    parsed = parse("gotestsum.xml")
    records = by_name(parsed, "TestReserveStock")
    assert [(r.attempt, r.outcome, r.duration_ms, r.message) for r in records] == [
        (1, TestOutcome.FAILED, 1200, "cart_test.go:88: context deadline exceeded"),
        (2, TestOutcome.FLAKY, 480, None),
    ]
    assert len({r.test_id for r in records}) == 1


def test_go_messages_come_from_the_test_output_when_the_attribute_says_only_failed() -> None:
    go = {r.name: r.message for r in parse("go-junit-report.xml").results}
    assert go["TestTotal/with_coupon"] == "cart_test.go:41: Total() = 93, want 90"
    assert go["TestTotal"] == "Failed"  # nothing better in the body
    assert go["[build failed]"] == "Build error"
    assert go["TestCheckoutIntegration"] == "cart_test.go:77: set SHOP_INTEGRATION=1 to run"
    gotestsum = {r.name: r.message for r in parse("gotestsum.xml").results}
    assert gotestsum["TestCheckoutIntegration"] == "cart_test.go:77: set SHOP_INTEGRATION=1 to run"


def test_playwright_projects_are_separate_tests_and_the_spec_is_the_file() -> None:
    parsed = parse("playwright.xml")
    voucher = by_name(parsed, "Checkout › applies a voucher")
    assert [(r.suite, r.attempt, r.outcome, r.duration_ms) for r in voucher] == [
        ("checkout.spec.ts [chromium]", 1, TestOutcome.FAILED, 5100),
        ("checkout.spec.ts [chromium]", 2, TestOutcome.FLAKY, 2900),
        ("checkout.spec.ts [firefox]", 1, TestOutcome.PASSED, 3100),
    ]
    assert voucher[0].test_id != voucher[2].test_id
    assert {r.file for r in parsed.results} == {"checkout.spec.ts"}


def test_phpunit_nested_suites_use_the_innermost_named_suite_and_the_case_file() -> None:
    parsed = parse("phpunit.xml")
    assert {r.name: r.suite for r in parsed.results} == {
        "testAppliesVat": "Tests\\Unit\\PriceCalculatorTest",
        "testRoundsToCents": "Tests\\Unit\\PriceCalculatorTest",
        "testLoadsRatesFromApi": "Tests\\Unit\\PriceCalculatorTest",
        "testCurrencyConversion": "Tests\\Unit\\PriceCalculatorTest",
        "testDiscount with data set #0": "Tests\\Unit\\PriceCalculatorTest::testDiscount",
        'testDiscount with data set "black friday"': "Tests\\Unit\\PriceCalculatorTest::testDiscount",
    }
    [failure] = by_name(parsed, "testRoundsToCents")
    assert failure.message == "Failed asserting that 10.005 matches expected 10.01."
    assert failure.failure_type == "PHPUnit\\Framework\\ExpectationFailedException"
    assert failure.file == "/app/tests/Unit/PriceCalculatorTest.php"
    assert failure.class_name == "Tests.Unit.PriceCalculatorTest"


def test_cypress_cases_inherit_the_spec_file_written_on_the_root_suite() -> None:
    parsed = parse("cypress.xml")
    assert {r.file for r in parsed.results} == {"cypress/e2e/login.cy.ts"}
    [failure] = [r for r in parsed.results if r.outcome is TestOutcome.FAILED]
    assert failure.suite == "Login"
    assert failure.name == "Login shows an error for a wrong password"
    assert failure.failure_type == "AssertionError"


def test_jest_failures_without_a_message_attribute_take_the_first_line_of_the_error() -> None:
    [failure] = by_name(parse("jest.xml"), "Cart totals include tax")
    assert failure.outcome is TestOutcome.FAILED
    assert failure.message == "Error: expect(received).toBe(expected) // Object.is equality"
    assert failure.started_ms == MAY_1_10AM


def test_mocha_suites_carry_their_file_and_pending_tests_are_skipped() -> None:
    parsed = parse("mocha.xml")
    assert {r.file for r in parsed.results} == {"test/inventory.spec.js"}
    assert [r.outcome for r in by_name(parsed, "Inventory #restock ignores negative counts")] == [TestOutcome.SKIPPED]


def test_nunit_skips_written_only_as_a_status_are_skipped() -> None:
    parsed = parse("nunit-as-junit.xml")
    outcomes = {r.name: r.outcome for r in parsed.results}
    assert outcomes["Discount_ForLoyalCustomers"] is TestOutcome.SKIPPED
    assert outcomes["Export_ToLegacyErp"] is TestOutcome.SKIPPED
    assert outcomes["PlaceOrder_WithStock_Succeeds"] is TestOutcome.PASSED


def test_xunit_theory_cases_keep_their_arguments_in_the_name() -> None:
    parsed = parse("xunit-as-junit.xml")
    [failure] = [r for r in parsed.results if r.outcome is TestOutcome.FAILED]
    assert failure.name == "Shop.Tests.PriceCalculatorTests.AppliesDiscount(percent: 50, expected: 50)"
    assert failure.message == "Assert.Equal() Failure: Values differ\nExpected: 50\nActual:   45"
    [skipped] = [r for r in parsed.results if r.outcome is TestOutcome.SKIPPED]
    assert skipped.message == "Warehouse API is rate limited on CI"


def test_details_carry_stack_traces_and_output_per_attempt_when_asked_for() -> None:
    details: list[CaseDetail] = []
    parse_file(DATA / "surefire.xml", CONTEXT, on_detail=details.append)
    flaky_id = test_id(
        "com.example.shop.OrderServiceTest", "com.example.shop.OrderServiceTest", "sendsConfirmationEmail"
    )
    first = next(d for d in details if d.test_id == flaky_id and d.attempt == 1)
    assert first.text is not None and first.text.startswith("org.awaitility.core.ConditionTimeoutException")
    assert first.stdout == "10:00:03.001 INFO  Mailer - queue depth 12"
    cache = next(d for d in details if d.stdout and "PriceCache" in d.stdout)
    assert cache.text is not None and "RedisConnectionException" in cache.text
    passing = test_id(
        "com.example.shop.OrderServiceTest", "com.example.shop.OrderServiceTest", "placesOrderWhenInStock"
    )
    assert passing not in {d.test_id for d in details}
    assert len(details) == 7  # 2 flaky attempts, 3 rerun attempts, 1 failure, 1 error; the skip has no text


def test_a_quarantined_tests_xfail_is_its_failure_and_an_ordinary_xfail_stays_a_skip(tmp_path: Path) -> None:
    # As pytest's --junitxml writes a test that the exported quarantine plugin marked xfail, and one that its
    # authors marked xfail themselves.
    report = tmp_path / "report.xml"
    report.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" '
        'failures="0" skipped="2" tests="3" time="0.070" timestamp="2024-05-01T10:00:00+00:00">'
        '<testcase classname="test_mod.TestThing" name="test_sometimes_fails" time="0.001">'
        '<skipped type="pytest.xfail" message="harness-connector quarantine q-0123456789: flaky on 4 commits" />'
        "</testcase>"
        '<testcase classname="test_mod.TestThing" name="test_known_bug" time="0.001">'
        '<skipped type="pytest.xfail" message="harness-connector quarantine is our name, not this" /></testcase>'
        '<testcase classname="test_mod.TestThing" name="test_quarantined_note" time="0.001">'
        '<skipped type="pytest.skip" message="harness-connector quarantine q-0123456789: skipped by hand" />'
        "</testcase></testsuite></testsuites>",
        encoding="utf-8",
    )
    parsed = parse_file(report, CONTEXT)
    outcomes = {record.name: (record.outcome, record.failure_type) for record in parsed.results}
    assert outcomes == {
        "test_sometimes_fails": (TestOutcome.FAILED, "pytest.xfail"),
        "test_known_bug": (TestOutcome.SKIPPED, "pytest.xfail"),
        "test_quarantined_note": (TestOutcome.SKIPPED, "pytest.skip"),
    }
    [failed] = by_name(parsed, "test_sometimes_fails")
    assert failed.message == "harness-connector quarantine q-0123456789: flaky on 4 commits"
    assert (parsed.summary.failed, parsed.summary.skipped) == (1, 2)
