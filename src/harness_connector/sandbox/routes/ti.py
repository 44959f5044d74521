"""The Test Intelligence service's report endpoints: what a build's Tests tab reads, and the ingest path CI uses.

Served under `/gateway/ti-service` and `/ti-service`. ti-service answers bare JSON: the summary is an object, lists
keep paging under `data` and rows under `content`, and errors are `{"error_msg": ...}` (a missing required query
parameter is a 500, as the real service answers). A build is named by `buildId`, the run sequence. Nothing here
invents results: a step's tests exist only once something wrote them with `/reports/write`.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.model import TestCaseRow
from harness_connector.sandbox.requests import json_body
from harness_connector.sandbox.routes._common import route
from harness_connector.sandbox.state import Token

__all__ = ["routes"]

PREFIXES = ("/gateway/ti-service", "/ti-service")
_BUILD = ("accountId", "orgId", "projectId", "pipelineId", "buildId")
_STATUSES = frozenset({"passed", "failed", "error", "skipped", "skipped_by_ti"})
_FAILED = "status IN ('failed', 'error')"
_SUITE_SORTS = {
    "name": "suite", "suite_name": "suite", "duration_ms": "duration_ms", "total_tests": "total_tests",
    "failed_tests": "failed_tests", "skipped_tests": "skipped_tests", "passed_tests": "passed_tests",
    "fail_pct": "fail_pct",
}  # fmt: skip
_CASE_SORTS = {
    "name": "name", "class_name": "class_name", "duration_ms": "duration_ms", "suite_name": "suite",
    "status": "CASE status WHEN 'error' THEN 0 WHEN 'failed' THEN 1 WHEN 'skipped' THEN 2 ELSE 3 END",
}  # fmt: skip


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The ti-service token and report endpoints under both prefixes."""
    found: list[BaseRoute] = []
    for prefix in PREFIXES:
        found += [
            route(ctx, f"{prefix}/token", "GET", token),
            route(ctx, f"{prefix}/reports/write", "POST", write),
            route(ctx, f"{prefix}/reports/summary", "GET", summary),
            route(ctx, f"{prefix}/reports/test_suites", "GET", test_suites),
            route(ctx, f"{prefix}/reports/test_cases", "GET", test_cases),
        ]
    return found


def _required(request: Request, *names: str) -> list[str]:
    values = []
    for name in names:
        value = request.query_params.get(name)
        if not value:
            raise ApiError("UNKNOWN_ERROR", f"required field {name} not present in query param", status=500)
        values.append(value)
    return values


def _build(request: Request) -> tuple[str, list[Any]]:
    """The WHERE clause naming one build (and optionally one stage and step)."""
    _, org, project, pipeline, build = _required(request, *_BUILD)
    # A buildId that is not a run sequence names no build: ti-service answers empty results, not an error.
    where = "org = ? AND project = ? AND pipeline = ? AND build_id = ?"
    params: list[Any] = [org, project, pipeline]
    params.append(int(build) if build.isdigit() else -1)
    for name, column in (("stageId", "stage_id"), ("stepId", "step_id")):
        if request.query_params.get(name):
            where += f" AND {column} = ?"
            params.append(request.query_params[name])
    return where, params


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("pageIndex") or 0)
        size = int(request.query_params.get("pageSize") or 10)
    except ValueError:
        raise ApiError("INVALID_REQUEST", "pageIndex and pageSize must be numbers") from None
    if page < 0 or size < 1:
        raise ApiError("INVALID_REQUEST", "pageIndex must be >= 0 and pageSize >= 1")
    return page, size


def _page(rows: list[dict[str, Any]], total: int, size: int) -> JSONResponse:
    meta = {"totalPages": (total + size - 1) // size, "totalItems": total, "pageItemCount": len(rows), "pageSize": size}
    return JSONResponse({"data": meta, "content": rows})


def _order(request: Request, sorts: dict[str, str], default: str, default_order: str) -> str:
    column = sorts.get((request.query_params.get("sort") or default).lower(), sorts[default])
    order = (request.query_params.get("order") or default_order).upper()
    return f"{column} {'ASC' if order == 'ASC' else 'DESC'}"


async def token(ctx: SandboxContext, request: Request) -> Response:
    """A ti-service token, accepted afterwards as `X-Harness-Token`."""
    _required(request, "accountId")
    value = secrets.token_urlsafe(32)
    ctx.state.add_token(Token(value, "ti-service", "ti"))
    return PlainTextResponse(value)


async def write(ctx: SandboxContext, request: Request) -> Response:
    """Store a step's parsed JUnit test cases, as the CI runner does after a step with `reports`."""
    _, org, project, pipeline, build, stage, step = _required(request, *_BUILD, "stageId", "stepId")
    if not build.isdigit():
        raise ApiError("INVALID_REQUEST", f"buildId must be the run sequence number, got {build!r}")
    body = await json_body(request)
    if not isinstance(body, list):
        raise ApiError("INVALID_REQUEST", "the body must be a JSON array of test cases")
    rows = [_row(item, index) for index, item in enumerate(body)]
    ctx.state.add_test_cases(
        org=org, project=project, pipeline=pipeline, build_id=int(build), stage_id=stage, step_id=step, cases=rows
    )
    return Response(status_code=204)


def _row(item: Any, index: int) -> TestCaseRow:
    if not isinstance(item, dict) or not item.get("name"):
        raise ApiError("INVALID_REQUEST", f"test case {index}: must be an object with a name")
    result: dict[str, Any] = item["result"] if isinstance(item.get("result"), dict) else {}
    status = str(result.get("status") or "passed").lower()
    message, desc = str(result.get("message") or ""), str(result.get("desc") or "")
    # The sandbox keeps one text per case: the description (the stack trace) goes after the message.
    text = message if not desc or desc == message else (f"{message}\n{desc}" if message else desc)
    try:
        duration = int(item.get("duration_ms") or 0)
    except (TypeError, ValueError):
        raise ApiError("INVALID_REQUEST", f"test case {index}: duration_ms must be a number") from None
    return TestCaseRow(
        suite=str(item.get("suite_name") or item.get("class_name") or "default"),
        class_name=str(item.get("class_name") or ""), name=str(item["name"]),
        status=status if status in _STATUSES else "error", duration_ms=duration, file_name=_opt(item, "file_name"),
        message=text or None, failure_type=_opt(result, "type"), stdout=_opt(item, "stdout"),
        stderr=_opt(item, "stderr"),
    )  # fmt: skip


def _opt(holder: dict[str, Any], key: str) -> str | None:
    value = holder.get(key)
    return str(value) if value not in (None, "") else None


async def summary(ctx: SandboxContext, request: Request) -> Response:
    where, params = _build(request)
    row = ctx.state.query(
        "SELECT COUNT(*), COALESCE(SUM(status = 'passed'), 0), COALESCE(SUM(status IN ('failed', 'error')), 0), "
        "COALESCE(SUM(status = 'skipped'), 0), COALESCE(SUM(status = 'skipped_by_ti'), 0), "
        f"COALESCE(SUM(duration_ms), 0) FROM test_cases WHERE {where}",
        params,
    )[0]
    keys = ("total_tests", "successful_tests", "failed_tests", "skipped_tests", "skipped_by_ti", "duration_ms")
    return JSONResponse({**{key: int(value) for key, value in zip(keys, row, strict=True)}, "flaky_tests": 0})


async def test_suites(ctx: SandboxContext, request: Request) -> Response:
    where, params = _build(request)
    page, size = _paging(request)
    having = " HAVING failed_tests > 0" if (request.query_params.get("status") or "").lower() == "failed" else ""
    grouped = (
        "SELECT suite, SUM(duration_ms) AS duration_ms, COUNT(*) AS total_tests, "
        f"SUM({_FAILED}) AS failed_tests, SUM(status IN ('skipped', 'skipped_by_ti')) AS skipped_tests, "
        f"SUM(status = 'passed') AS passed_tests, SUM({_FAILED}) * 100 / COUNT(*) AS fail_pct "
        f"FROM test_cases WHERE {where} GROUP BY suite{having}"
    )
    total = int(ctx.state.query(f"SELECT COUNT(*) FROM ({grouped})", params)[0][0])
    order = _order(request, _SUITE_SORTS, "fail_pct", "DESC")
    rows = ctx.state.query(f"{grouped} ORDER BY {order}, suite LIMIT ? OFFSET ?", [*params, size, page * size])
    keys = ("name", "duration_ms", "total_tests", "failed_tests", "skipped_tests", "passed_tests", "fail_pct")
    return _page([dict(zip(keys, row, strict=True)) for row in rows], total, size)


async def test_cases(ctx: SandboxContext, request: Request) -> Response:
    where, params = _build(request)
    (suite,) = _required(request, "suite_name")
    page, size = _paging(request)
    where += " AND suite = ?"
    params.append(suite)
    status = (request.query_params.get("status") or "").lower()
    if status:
        where += f" AND {_FAILED}" if status == "failed" else " AND status = ?"
        params += [] if status == "failed" else [status]
    term = request.query_params.get("testCaseSearchTerm")
    if term:
        where += " AND (lower(name) LIKE ? OR lower(class_name) LIKE ?)"
        params += [f"%{term.lower()}%"] * 2
    total = int(ctx.state.query(f"SELECT COUNT(*) FROM test_cases WHERE {where}", params)[0][0])
    order = _order(request, _CASE_SORTS, "status", "ASC")
    rows = ctx.state.query(
        "SELECT name, class_name, file_name, suite, status, message, failure_type, duration_ms, stdout, stderr "
        f"FROM test_cases WHERE {where} ORDER BY {order}, name LIMIT ? OFFSET ?",
        [*params, size, page * size],
    )
    return _page([_case(row) for row in rows], total, size)


def _case(row: Any) -> dict[str, Any]:
    name, class_name, file_name, suite, status, message, failure_type, duration, stdout, stderr = row
    return {
        "name": name, "class_name": class_name, "file_name": file_name or "", "suite_name": suite,
        "result": {"status": status, "message": message or "", "type": failure_type or "", "desc": ""},
        "duration_ms": duration, "stdout": stdout or "", "stderr": stderr or "", "flaky": False,
        "quarantine": False, "problematic": False,
    }  # fmt: skip
