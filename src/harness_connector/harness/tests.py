"""CI test reports from Harness's Test Intelligence service (ti-service), the data behind a run's Tests tab.

Every call names a build by `build_id`, which is the pipeline's **run sequence** (the `#42` shown in the UI,
`runSequence` in execution summaries), **not** the `planExecutionId`. ti-service answers bare JSON objects;
list pages carry their paging metadata under `data` and their rows under `content`. The client adds
`accountId` and `routingId` to every call itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from harness_connector.domain.test_reports import TestCaseResult, TestReportSummary, TestStatus, TestSuiteResult
from harness_connector.errors import HarnessUnavailableError, UsageError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.pagination import Page, iterate_items, page_query, parse_page
from harness_connector.harness.registry.model import PagingStyle

__all__ = ["REPORTS_PATH", "TestReports"]

REPORTS_PATH = "/gateway/ti-service/reports"
_STATUS_ALIASES = {
    "pass": TestStatus.PASSED,
    "success": TestStatus.PASSED,
    "successful": TestStatus.PASSED,
    "failure": TestStatus.FAILED,
    "skip": TestStatus.SKIPPED,
    "errored": TestStatus.ERROR,
}


class TestReports:
    """Reads JUnit test results that CI steps reported for a build.

    Each method takes `org_id`, `project_id`, `pipeline_id` and `build_id` (the run sequence number, not the
    plan execution id); `stage_id` and `step_id` narrow the report to one stage or step (None means all).
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, client: HarnessClient) -> None:
        self._client = client

    async def summary(
        self,
        org_id: str,
        project_id: str,
        pipeline_id: str,
        build_id: int | str,
        stage_id: str | None = None,
        step_id: str | None = None,
    ) -> TestReportSummary:
        """Test counts for the build (`GET /reports/summary`); all zero when the build reported no tests."""
        params = _build_params(org_id, project_id, pipeline_id, build_id, stage_id, step_id)
        row = _mapping(await self._get("/summary", params))
        return TestReportSummary(
            total=_int(row.get("total_tests")),
            passed=_int(row.get("successful_tests")),
            failed=_int(row.get("failed_tests")),
            skipped=_int(row.get("skipped_tests")),
            skipped_by_ti=_int(row.get("skipped_by_ti")),
            duration_ms=_int(row.get("duration_ms")),
            flaky=_int(row.get("flaky_tests")),
        )

    async def suites(
        self,
        org_id: str,
        project_id: str,
        pipeline_id: str,
        build_id: int | str,
        stage_id: str | None = None,
        step_id: str | None = None,
        *,
        status: TestStatus | str | None = None,
        page: int = 0,
        size: int = 100,
    ) -> Page:
        """One page of the build's suites (`GET /reports/test_suites`); items are `TestSuiteResult`s.

        `status="failed"` keeps only suites with failures.
        """
        params = _build_params(org_id, project_id, pipeline_id, build_id, stage_id, step_id)
        params += _filters(status, page, size)
        payload = await self._get("/test_suites", params)
        raw = parse_page(PagingStyle.TI_PAGE, payload, page=page, size=size)
        return _with_items(raw, [_suite(row) for row in raw.items if isinstance(row, Mapping)])

    async def cases(
        self,
        org_id: str,
        project_id: str,
        pipeline_id: str,
        build_id: int | str,
        stage_id: str | None = None,
        step_id: str | None = None,
        *,
        suite_name: str,
        status: TestStatus | str | None = None,
        page: int = 0,
        size: int = 100,
    ) -> Page:
        """One page of one suite's test cases (`GET /reports/test_cases`); items are `TestCaseResult`s.

        Raises:
            UsageError: `suite_name` is empty (ti-service requires it).
        """
        if not suite_name.strip():
            raise UsageError("suite_name is required to list test cases; list the suites first")
        params = _build_params(org_id, project_id, pipeline_id, build_id, stage_id, step_id)
        params += [("suite_name", suite_name), *_filters(status, page, size)]
        payload = await self._get("/test_cases", params)
        raw = parse_page(PagingStyle.TI_PAGE, payload, page=page, size=size)
        return _with_items(raw, [_case(row, suite_name) for row in raw.items if isinstance(row, Mapping)])

    async def iter_cases(
        self,
        org_id: str,
        project_id: str,
        pipeline_id: str,
        build_id: int | str,
        stage_id: str | None = None,
        step_id: str | None = None,
        *,
        status: TestStatus | str | None = None,
        page_size: int = 100,
        max_pages: int = 1000,
    ) -> AsyncIterator[TestCaseResult]:
        """Every test case of the build, suite by suite and page by page, fetched only as they are used.

        `status` filters the cases (e.g. `TestStatus.FAILED`); suites are always walked in full.
        """
        scope = (org_id, project_id, pipeline_id, build_id, stage_id, step_id)

        async def suite_page(number: int) -> Page:
            return await self.suites(*scope, page=number, size=page_size)

        async for suite in iterate_items(suite_page, max_pages=max_pages):
            name = suite.name

            async def case_page(number: int, name: str = name) -> Page:
                return await self.cases(*scope, suite_name=name, status=status, page=number, size=page_size)

            async for case in iterate_items(case_page, max_pages=max_pages):
                yield case

    async def _get(self, path: str, params: list[tuple[str, str]]) -> Any:
        answer = await self._client.request("GET", REPORTS_PATH + path, params=params)
        try:
            return answer.json()
        except ValueError:
            raise HarnessUnavailableError(
                "ti-service answered with a body that is not JSON; a proxy may be in the way",
                status_code=answer.status,
                method="GET",
                path=REPORTS_PATH + path,
            ) from None


def _build_params(
    org_id: str,
    project_id: str,
    pipeline_id: str,
    build_id: int | str,
    stage_id: str | None,
    step_id: str | None,
) -> list[tuple[str, str]]:
    for label, value in (("org_id", org_id), ("project_id", project_id), ("pipeline_id", pipeline_id)):
        if not str(value).strip():
            raise UsageError(f"{label} is required for test reports")
    build = str(build_id).strip()
    if not build.isdigit():
        raise UsageError(
            f"build_id must be the run sequence number (the #N of the run, e.g. 42), not {build_id!r}; "
            "a planExecutionId does not work here"
        )
    params = [("orgId", org_id), ("projectId", project_id), ("pipelineId", pipeline_id), ("buildId", build)]
    params.append(("report", "junit"))
    if stage_id:
        params.append(("stageId", stage_id))
    if step_id:
        params.append(("stepId", step_id))
    return params


def _filters(status: TestStatus | str | None, page: int, size: int) -> list[tuple[str, str]]:
    if page < 0 or size < 1:
        raise UsageError("page must be 0 or more and size at least 1")
    status_param = [("status", str(status))] if status else []
    return status_param + page_query(PagingStyle.TI_PAGE, page, size)


def _with_items(page: Page, items: list[Any]) -> Page:
    return Page(items=items, page=page.page, size=page.size, total_items=page.total_items, total_pages=page.total_pages)


def _suite(row: Mapping[str, Any]) -> TestSuiteResult:
    total, failed, skipped = _int(row.get("total_tests")), _int(row.get("failed_tests")), _int(row.get("skipped_tests"))
    passed = row.get("passed_tests")
    return TestSuiteResult(
        name=_text(row.get("name")) or "",
        total=total,
        passed=_int(passed) if passed is not None else max(0, total - failed - skipped),
        failed=failed,
        skipped=skipped,
        duration_ms=_int(row.get("duration_ms")),
        fail_pct=_float(row.get("fail_pct")),
    )


def _case(row: Mapping[str, Any], suite_name: str) -> TestCaseResult:
    result = _mapping(row.get("result"))
    message, desc = _text(result.get("message")), _text(result.get("desc"))
    if desc and desc != message:
        message = f"{message}\n{desc}" if message else desc
    return TestCaseResult(
        name=_text(row.get("name")) or "",
        suite=_text(row.get("suite_name")) or suite_name,
        class_name=_text(row.get("class_name")) or "",
        status=_status(result.get("status")),
        duration_ms=_int(row.get("duration_ms")),
        file_name=_text(row.get("file_name")),
        message=message,
        failure_type=_text(result.get("type")),
        stdout=_text(row.get("stdout")),
        stderr=_text(row.get("stderr")),
        flaky=bool(row.get("flaky")),
    )


def _status(value: Any) -> TestStatus:
    """ti-service's status; anything unknown counts as ERROR so it is never mistaken for a pass."""
    text = str(value or "").strip().lower()
    try:
        return TestStatus(text)
    except ValueError:
        return _STATUS_ALIASES.get(text, TestStatus.ERROR)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))  # "12.0", 12.5
        except (TypeError, ValueError, OverflowError):
            return 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
