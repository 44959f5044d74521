from __future__ import annotations

from typing import Any

import httpx2
import pytest

import harness_connector.sandbox.routes as sandbox_routes
from harness_connector.domain.test_reports import TestStatus
from harness_connector.errors import HarnessUnavailableError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.registry.model import RetryPolicy
from harness_connector.harness.tests import TestReports
from harness_connector.sandbox.resources import create_resource
from harness_connector.sandbox.routes import executions, ti

ORG, PROJECT, PIPELINE = "default", "payments", "api"
BUILD = {"orgId": ORG, "projectId": PROJECT, "pipelineId": PIPELINE, "buildId": "42"}
SCOPE = (ORG, PROJECT, PIPELINE, 42)


@pytest.fixture(autouse=True)
def _serve_ti_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until routes.ALL lists ti-service (and executions), the sandbox built for these tests adds them.
    extra = [factory for factory in (ti.routes, executions.routes) if factory not in sandbox_routes.ALL]
    monkeypatch.setattr(sandbox_routes, "ALL", [*extra, *sandbox_routes.ALL])


def connect(server: Any) -> HarnessClient:
    return HarnessClient(server.base_url, api_key=server.keys.admin_pat, max_retries=0)


def case(name: str, suite: str, status: str = "passed", duration: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "class_name": f"com.acme.{suite}",
        "suite_name": suite,
        "file_name": f"{suite}.java",
        "result": {
            "status": status,
            "message": extra.pop("message", ""),
            "type": extra.pop("type", ""),
            "desc": extra.pop("desc", ""),
        },
        "duration_ms": duration,
        "stdout": "",
        "stderr": "",
        **extra,
    }


CASES = [
    case("adds", "MathTest"),
    case("divides", "MathTest", "failed", 30, message="expected 2", type="AssertionError", desc="at Math.java:9"),
    case("rounds", "MathTest", "skipped"),
    case("parses", "JsonTest", duration=5),
    case("escapes", "JsonTest", "error", 7, message="NullPointerException"),
    case("connects", "DbTest", duration=100),
]


def write(server: Any, cases: list[dict[str, Any]], *, stage: str = "build", step: str = "test", **params: str) -> Any:
    query = {
        "accountId": server.keys.account_id,
        **BUILD,
        "stageId": stage,
        "stepId": step,
        "report": "junit",
        **params,
    }
    return httpx2.post(
        f"{server.base_url}/gateway/ti-service/reports/write",
        params=query,
        json=cases,
        headers={"x-api-key": server.keys.admin_pat},
    )


def get(server: Any, path: str, **params: str) -> httpx2.Response:
    query = {"accountId": server.keys.account_id, **BUILD, "report": "junit", **params}
    return httpx2.get(
        f"{server.base_url}/ti-service/reports/{path}", params=query, headers={"x-api-key": server.keys.admin_pat}
    )


def test_writing_a_report_answers_204_and_the_summary_counts_it(sandbox_server: Any) -> None:
    written = write(sandbox_server, CASES)
    summary = get(sandbox_server, "summary").json()
    other_step = get(sandbox_server, "summary", stepId="lint").json()
    assert written.status_code == 204
    assert summary == {
        "total_tests": 6,
        "successful_tests": 3,
        "failed_tests": 2,
        "skipped_tests": 1,
        "skipped_by_ti": 0,
        "duration_ms": 162,
        "flaky_tests": 0,
    }
    assert other_step["total_tests"] == 0


def test_suites_page_with_ti_paging_sorted_by_failure_rate(sandbox_server: Any) -> None:
    write(sandbox_server, CASES)
    first = get(sandbox_server, "test_suites", pageSize="2").json()
    second = get(sandbox_server, "test_suites", pageSize="2", pageIndex="1").json()
    failed_only = get(sandbox_server, "test_suites", status="failed", sort="name", order="ASC").json()
    assert first["data"] == {"totalPages": 2, "totalItems": 3, "pageItemCount": 2, "pageSize": 2}
    assert [row["name"] for row in first["content"]] == ["JsonTest", "MathTest"]
    assert first["content"][0] == {
        "name": "JsonTest",
        "duration_ms": 12,
        "total_tests": 2,
        "failed_tests": 1,
        "skipped_tests": 0,
        "passed_tests": 1,
        "fail_pct": 50,
    }
    assert [row["name"] for row in second["content"]] == ["DbTest"]
    assert [row["name"] for row in failed_only["content"]] == ["JsonTest", "MathTest"]


def test_cases_of_a_suite_list_failures_first_with_result_details(sandbox_server: Any) -> None:
    write(sandbox_server, CASES)
    page = get(sandbox_server, "test_cases", suite_name="MathTest").json()
    failed = get(sandbox_server, "test_cases", suite_name="MathTest", status="failed").json()
    searched = get(sandbox_server, "test_cases", suite_name="MathTest", testCaseSearchTerm="ROUND").json()
    assert page["data"]["totalItems"] == 3
    assert [row["name"] for row in page["content"]] == ["divides", "rounds", "adds"]
    divides = page["content"][0]
    assert divides["result"] == {
        "status": "failed",
        "message": "expected 2\nat Math.java:9",
        "type": "AssertionError",
        "desc": "",
    }
    assert (divides["suite_name"], divides["class_name"], divides["flaky"]) == ("MathTest", "com.acme.MathTest", False)
    assert [row["name"] for row in failed["content"]] == ["divides"]
    assert [row["name"] for row in searched["content"]] == ["rounds"]


def test_ti_errors_are_error_msg_bodies_and_missing_fields_are_500s(sandbox_server: Any) -> None:
    no_suite = get(sandbox_server, "test_cases")
    no_build = httpx2.get(
        f"{sandbox_server.base_url}/ti-service/reports/summary",
        params={
            "accountId": sandbox_server.keys.account_id,
            "orgId": ORG,
            "projectId": PROJECT,
            "pipelineId": PIPELINE,
        },
        headers={"x-api-key": sandbox_server.keys.admin_pat},
    )
    not_a_list = write(sandbox_server, {"name": "x"})  # type: ignore[arg-type]
    assert (no_suite.status_code, no_suite.json()) == (
        500,
        {"error_msg": "required field suite_name not present in query param"},
    )
    assert (no_build.status_code, no_build.json()) == (
        500,
        {"error_msg": "required field buildId not present in query param"},
    )
    assert not_a_list.status_code == 400
    assert "error_msg" in not_a_list.json()


def test_a_ti_token_authenticates_as_x_harness_token(sandbox_server: Any) -> None:
    token = httpx2.get(
        f"{sandbox_server.base_url}/ti-service/token",
        params={"accountId": sandbox_server.keys.account_id},
        headers={"x-api-key": sandbox_server.keys.admin_pat},
    ).text
    answer = httpx2.get(
        f"{sandbox_server.base_url}/ti-service/reports/summary",
        params={"accountId": sandbox_server.keys.account_id, **BUILD},
        headers={"X-Harness-Token": token},
    )
    assert answer.status_code == 200
    assert answer.json()["total_tests"] == 0


@pytest.mark.anyio
async def test_the_project_client_reads_summary_suites_and_every_case(sandbox_server: Any) -> None:
    write(sandbox_server, CASES)
    write(sandbox_server, [case("lints", "LintTest")], stage="lint", step="eslint")
    async with connect(sandbox_server) as client:
        reports = TestReports(client)
        summary = await reports.summary(*SCOPE)
        build_only = await reports.summary(*SCOPE, stage_id="build")
        suites = await reports.suites(*SCOPE, size=2)
        failed = [c async for c in reports.iter_cases(*SCOPE, status=TestStatus.FAILED, page_size=1)]
        with pytest.raises(HarnessUnavailableError) as raised:
            await client.request(
                "GET", "/gateway/ti-service/reports/test_cases", params=[("orgId", ORG)], retry=RetryPolicy.DO_NOT_RETRY
            )
    assert (summary.total, summary.passed, summary.failed, summary.skipped) == (7, 4, 2, 1)
    assert build_only.total == 6
    assert (suites.total_items, len(suites.items)) == (4, 2)
    assert sorted((c.suite, c.name, c.status) for c in failed) == [
        ("JsonTest", "escapes", TestStatus.ERROR),
        ("MathTest", "divides", TestStatus.FAILED),
    ]
    assert "required field projectId not present in query param" in raised.value.message


RUN_WITH_REPORTS = """
pipeline:
  name: API
  identifier: api
  stages:
    - stage:
        name: Build
        identifier: build
        type: CI
        spec:
          execution:
            steps:
              - step:
                  type: Run
                  name: Test
                  identifier: test
                  spec:
                    command: mvn test
                    reports:
                      type: JUnit
                      spec:
                        paths: ["target/surefire-reports/*.xml"]
"""


@pytest.mark.anyio
async def test_a_run_step_with_reports_has_no_tests_until_something_writes_them(sandbox_server: Any) -> None:
    create_resource(sandbox_server.ctx, "pipeline", org=ORG, project=PROJECT, body=RUN_WITH_REPORTS)
    async with connect(sandbox_server) as client:
        answer = await client.request(
            "POST",
            f"/pipeline/api/pipeline/execute/{PIPELINE}",
            params=[("orgIdentifier", ORG), ("projectIdentifier", PROJECT)],
            content="",
            content_type="application/yaml",
            retry=RetryPolicy.DO_NOT_RETRY,
        )
        sequence = answer.json()["data"]["planExecution"]["metadata"]["runSequence"]
        sandbox_server.ctx.clock.now_ms += 600_000
        before = await TestReports(client).summary(ORG, PROJECT, PIPELINE, sequence)
        write(sandbox_server, [case("works", "ApiTest")], buildId=str(sequence))
        after = await TestReports(client).summary(ORG, PROJECT, PIPELINE, sequence, stage_id="build", step_id="test")
    assert before.total == 0
    assert (after.total, after.passed) == (1, 1)
