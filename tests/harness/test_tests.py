from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from harness_connector.domain.test_reports import TestCaseResult, TestReportSummary, TestStatus, TestSuiteResult
from harness_connector.errors import HarnessInvalidRequestError, UsageError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.tests import TestReports

pytestmark = pytest.mark.anyio

KEY = "pat.acct1.tok.secret"
SCOPE = ("default", "demo", "build_and_test", 42)
Handler = Callable[[httpx2.Request], httpx2.Response]


class SleepRecorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_client(handler: Handler) -> HarnessClient:
    return HarnessClient(
        "https://app.harness.io", api_key=KEY, transport=httpx2.MockTransport(handler), sleep=SleepRecorder()
    )


def ti_page(rows: list[dict[str, Any]], *, total_items: int, total_pages: int, page_size: int) -> httpx2.Response:
    meta = {"totalPages": total_pages, "totalItems": total_items, "pageItemCount": len(rows), "pageSize": page_size}
    return httpx2.Response(200, json={"data": meta, "content": rows})


def case_row(name: str, suite: str, status: str = "passed", **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "class_name": f"com.example.{suite}",
        "file_name": "",
        "suite_name": suite,
        "result": {"status": status, "message": "", "type": "", "desc": ""},
        "duration_ms": 5,
        "stdout": "",
        "stderr": "",
        "flaky": False,
    }
    row.update(extra)
    return row


async def test_summary_maps_ti_service_counts_and_sends_the_build_scope() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        body = {
            "total_tests": 120,
            "successful_tests": 110,
            "failed_tests": 6,
            "skipped_tests": 4,
            "skipped_by_ti": 30,
            "duration_ms": 98765,
            "flaky_tests": 2,
        }
        return httpx2.Response(200, json=body)

    async with make_client(handler) as client:
        summary = await TestReports(client).summary(*SCOPE, stage_id="test", step_id="run_tests")

    assert summary == TestReportSummary(
        total=120, passed=110, failed=6, skipped=4, skipped_by_ti=30, duration_ms=98765, flaky=2
    )
    request = seen[0]
    assert (request.method, request.url.path) == ("GET", "/gateway/ti-service/reports/summary")
    assert dict(request.url.params) == {
        "accountId": "acct1",
        "routingId": "acct1",
        "orgId": "default",
        "projectId": "demo",
        "pipelineId": "build_and_test",
        "buildId": "42",
        "report": "junit",
        "stageId": "test",
        "stepId": "run_tests",
    }


async def test_summary_of_a_build_without_tests_is_all_zero_and_omits_stage_and_step() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={})

    async with make_client(handler) as client:
        summary = await TestReports(client).summary(*SCOPE)

    assert summary == TestReportSummary(total=0, passed=0, failed=0, skipped=0)
    assert "stageId" not in seen[0].url.params
    assert "stepId" not in seen[0].url.params


async def test_a_plan_execution_id_as_build_id_is_refused_before_any_request() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("no request expected")

    async with make_client(handler) as client:
        with pytest.raises(UsageError, match="run sequence number"):
            await TestReports(client).summary("default", "demo", "build_and_test", "kmpySmUISimoRrJL6NL73w")


async def test_suites_read_ti_paging_metadata_under_data_and_rows_under_content() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        rows = [
            {
                "name": "LoginTests",
                "duration_ms": 1500,
                "total_tests": 10,
                "failed_tests": 2,
                "skipped_tests": 1,
                "passed_tests": 7,
                "fail_pct": 20,
            },
            {"name": "CartTests", "duration_ms": 300, "total_tests": 4, "failed_tests": 1, "skipped_tests": 0},
        ]
        return ti_page(rows, total_items=25, total_pages=3, page_size=10)

    async with make_client(handler) as client:
        page = await TestReports(client).suites(*SCOPE, status=TestStatus.FAILED, page=1, size=10)

    assert page.items == [
        TestSuiteResult(name="LoginTests", total=10, passed=7, failed=2, skipped=1, duration_ms=1500, fail_pct=20.0),
        TestSuiteResult(name="CartTests", total=4, passed=3, failed=1, skipped=0, duration_ms=300, fail_pct=0.0),
    ]
    assert (page.page, page.size, page.total_items, page.total_pages, page.has_more) == (1, 10, 25, 3, True)
    params = seen[0].url.params
    assert seen[0].url.path == "/gateway/ti-service/reports/test_suites"
    assert (params["pageIndex"], params["pageSize"], params["status"]) == ("1", "10", "failed")
    assert (params["buildId"], params["accountId"], params["report"]) == ("42", "acct1", "junit")


async def test_cases_map_result_fields_and_send_the_suite_name() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        failed = case_row(
            "test_login_rejects_bad_password",
            "LoginTests",
            "failed",
            file_name="tests/test_login.py",
            result={
                "status": "failed",
                "message": "AssertionError: 200 != 401",
                "type": "AssertionError",
                "desc": "Traceback (most recent call last): ...",
            },
            duration_ms=812,
            stdout="POST /login",
            stderr="warning: slow",
            flaky=True,
        )
        rows = [failed, case_row("test_sso", "LoginTests", "skipped_by_ti"), case_row("test_odd", "", "weird")]
        return ti_page(rows, total_items=3, total_pages=1, page_size=100)

    async with make_client(handler) as client:
        page = await TestReports(client).cases(*SCOPE, suite_name="LoginTests", status="failed")

    assert page.items == [
        TestCaseResult(
            name="test_login_rejects_bad_password",
            suite="LoginTests",
            class_name="com.example.LoginTests",
            status=TestStatus.FAILED,
            duration_ms=812,
            file_name="tests/test_login.py",
            message="AssertionError: 200 != 401\nTraceback (most recent call last): ...",
            failure_type="AssertionError",
            stdout="POST /login",
            stderr="warning: slow",
            flaky=True,
        ),
        TestCaseResult(
            name="test_sso",
            suite="LoginTests",
            class_name="com.example.LoginTests",
            status=TestStatus.SKIPPED_BY_TI,
            duration_ms=5,
        ),
        TestCaseResult(
            name="test_odd", suite="LoginTests", class_name="com.example.", status=TestStatus.ERROR, duration_ms=5
        ),
    ]
    assert page.has_more is False
    params = seen[0].url.params
    assert seen[0].url.path == "/gateway/ti-service/reports/test_cases"
    assert (params["suite_name"], params["status"], params["pageIndex"], params["pageSize"]) == (
        "LoginTests",
        "failed",
        "0",
        "100",
    )


async def test_cases_without_a_suite_name_are_refused() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("no request expected")

    async with make_client(handler) as client:
        with pytest.raises(UsageError, match="suite_name is required"):
            await TestReports(client).cases(*SCOPE, suite_name=" ")


async def test_iter_cases_walks_every_page_of_every_suite_in_order() -> None:
    seen: list[tuple[str, str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        params = request.url.params
        endpoint = request.url.path.rsplit("/", 1)[-1]
        seen.append((endpoint, params.get("suite_name", ""), params["pageIndex"]))
        assert (params["buildId"], params["accountId"]) == ("42", "acct1")
        if endpoint == "test_suites":
            suites = [{"name": "Alpha", "total_tests": 3}, {"name": "Beta", "total_tests": 3}]
            return ti_page(suites, total_items=2, total_pages=1, page_size=2)
        suite, page = params["suite_name"], int(params["pageIndex"])
        names = [f"{suite.lower()}_{page}_{i}" for i in range(2 if page == 0 else 1)]
        return ti_page([case_row(n, suite) for n in names], total_items=3, total_pages=2, page_size=2)

    async with make_client(handler) as client:
        cases = [case async for case in TestReports(client).iter_cases(*SCOPE, page_size=2)]

    assert [(c.suite, c.name) for c in cases] == [
        ("Alpha", "alpha_0_0"),
        ("Alpha", "alpha_0_1"),
        ("Alpha", "alpha_1_0"),
        ("Beta", "beta_0_0"),
        ("Beta", "beta_0_1"),
        ("Beta", "beta_1_0"),
    ]
    assert seen == [
        ("test_suites", "", "0"),
        ("test_cases", "Alpha", "0"),
        ("test_cases", "Alpha", "1"),
        ("test_cases", "Beta", "0"),
        ("test_cases", "Beta", "1"),
    ]


async def test_a_ti_service_error_message_reaches_the_caller() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(400, json={"error_msg": "could not find build 42"})

    async with make_client(handler) as client:
        with pytest.raises(HarnessInvalidRequestError, match="could not find build 42"):
            await TestReports(client).summary(*SCOPE)
