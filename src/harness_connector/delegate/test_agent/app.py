"""The test agent's HTTP face: Avo Assure's DevOps protocol, so a script written for Avo drives it unchanged.

```
POST /execAutomation {"key": K, "executionType": "asynchronous" | "synchronous"}
     -> {status: "pass", message, error: null, reportLink, runningStatusLink, executionListId}
        400 malformed body, 404 unknown key: {status: "fail", message, error} naming the keys that exist
        synchronous: held until the run ends, then the final status document with reportLink
GET  /runningStatus?executionListId=ID
     -> {status: Queued|Inprogress|Completed, Completed: "x/y", overallstatus: Pass|Fail|Error|Timeout|Aborted|null,
         key, executionListId, queuedAt, startedAt, endedAt, exitCode, summary: {tests, passed, failed, errors,
         skipped}, message}
GET  /reports/devOpsReport?configurekey=K&executionListId=ID -> the status document plus `testcases`
GET  /reports/junit?executionListId=ID -> the run's merged JUnit XML; 404 until it completed, or if it has none
GET  /health
```

Avo's own server has no authentication. This one listens on loopback unless given a token; with a token, every
request must carry `Authorization: Bearer <token>` (`harness-connector tests run --token` sends it). On loopback
without a token, requests whose Host or Origin is not loopback are refused, so a web page cannot reach the agent
by DNS rebinding.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from harness_connector.delegate.test_agent.executions import Executions, UnknownProfile
from harness_connector.delegate.test_agent.store import ExecutionRecord, is_execution_id

__all__ = ["create_app", "is_loopback_host"]

_MAX_BODY_BYTES = 64 * 1024
_SYNC_POLL_S = 0.25
_EXECUTION_TYPES = ("asynchronous", "synchronous")


def is_loopback_host(host: str) -> bool:
    """Whether `host` (an address or name, without port) stays on this machine."""
    if host.lower() in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(executions: Executions, *, token: str | None = None, public_url: str | None = None) -> ASGIApp:
    """The ASGI app; its lifespan starts the queue's workers and, at shutdown, aborts what still runs."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(executions.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(executions.stop)

    routes = _Routes(executions, public_url)
    app = Starlette(
        routes=[
            Route("/execAutomation", routes.exec_automation, methods=["POST"]),
            Route("/runningStatus", routes.running_status, methods=["GET"]),
            Route("/reports/devOpsReport", routes.devops_report, methods=["GET"]),
            Route("/reports/junit", routes.junit, methods=["GET"]),
            Route("/health", routes.health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    return _Guard(app, token)


def _fail(status_code: int, error: str, *, code: str = "INVALID_REQUEST") -> JSONResponse:
    body = {
        "status": "fail",
        "code": code,
        "message": error,
        "error": error,
        "reportLink": None,
        "runningStatusLink": None,
        "executionListId": None,
    }
    return JSONResponse(body, status_code=status_code)


class _Routes:
    def __init__(self, executions: Executions, public_url: str | None) -> None:
        self._executions = executions
        self._public_url = public_url.rstrip("/") if public_url else None

    def _keys(self) -> str:
        return ", ".join(sorted(self._executions.profiles)) or "(none)"

    def _links(self, request: Request, record: ExecutionRecord) -> dict[str, str]:
        base = self._public_url or str(request.base_url).rstrip("/")
        execution = {"executionListId": record.execution_list_id}
        report = urlencode({"configurekey": record.key, **execution})
        return {
            "reportLink": f"{base}/reports/devOpsReport?{report}",
            "runningStatusLink": f"{base}/runningStatus?{urlencode(execution)}",
        }

    async def exec_automation(self, request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return _fail(413, f"the request body is over {_MAX_BODY_BYTES} bytes")
        parsed, problem = _parse_request(body)
        if problem:
            return _fail(
                400,
                f'{problem}; send {{"key": "<profile key>", "executionType": "asynchronous"}}'
                f" (keys on this agent: {self._keys()})",
            )
        key, execution_type = parsed
        try:
            record = self._executions.submit(key)
        except UnknownProfile:
            return _fail(
                404,
                f"no execution profile has the key '{key[:64]}'; keys on this agent: {self._keys()}",
                code="UNKNOWN_KEY",
            )
        links = self._links(request, record)
        if execution_type == "synchronous":
            return await self._hold(request, record.execution_list_id, links)
        message = f"execution of '{key}' queued"
        return JSONResponse(
            {"status": "pass", "message": message, "error": None, **links, "executionListId": record.execution_list_id}
        )

    async def _hold(self, request: Request, execution_id: str, links: dict[str, str]) -> Response:
        """Answer once the run completed (the run goes on if the caller hangs up before that)."""
        while True:
            record = self._executions.get(execution_id)
            if record is None or record.status == "Completed" or await request.is_disconnected():
                break
            await anyio.sleep(_SYNC_POLL_S)
        document = record.document() if record is not None else {}
        return JSONResponse({**document, **links, "error": None})

    def _record(self, request: Request) -> ExecutionRecord | Response:
        execution_id = request.query_params.get("executionListId", "").strip()
        if not execution_id:
            return _fail(400, "pass the executionListId query parameter (from the execAutomation answer)")
        record = self._executions.get(execution_id) if is_execution_id(execution_id) else None
        if record is None:
            return _fail(
                404, f"no execution with executionListId '{execution_id[:64]}' on this agent", code="UNKNOWN_EXECUTION"
            )
        return record

    async def running_status(self, request: Request) -> Response:
        record = self._record(request)
        if isinstance(record, Response):
            return record
        return JSONResponse(record.document())

    async def devops_report(self, request: Request) -> Response:
        record = self._record(request)
        if isinstance(record, Response):
            return record
        key = request.query_params.get("configurekey")
        if key is not None and key != record.key:
            return _fail(
                404,
                f"execution {record.execution_list_id} ran '{record.key}', not '{key[:64]}'",
                code="UNKNOWN_EXECUTION",
            )
        details: dict[str, Any] = {"testcases": [], "reportFiles": [], "refusedReports": []}
        if record.status == "Completed":
            path = self._executions.run_dir(record.execution_list_id) / "report.json"
            # A run closed without finishing (restart, abort) has no report file.
            with contextlib.suppress(OSError, ValueError):
                details = json.loads(path.read_bytes())
        return JSONResponse({**record.document(), **self._links(request, record), **details})

    async def junit(self, request: Request) -> Response:
        record = self._record(request)
        if isinstance(record, Response):
            return record
        if record.status != "Completed":
            return _fail(
                404,
                f"execution {record.execution_list_id} is {record.status}; its JUnit is served once it is Completed",
                code="NOT_COMPLETED",
            )
        path = self._executions.run_dir(record.execution_list_id) / "junit.xml"
        if not path.is_file():
            why = f" ({record.message})" if record.message else ""
            return _fail(
                404, f"execution {record.execution_list_id} produced no readable JUnit report{why}", code="NO_REPORTS"
            )
        return FileResponse(path, media_type="application/xml", filename=f"{record.execution_list_id}.xml")

    async def health(self, request: Request) -> Response:
        counts = self._executions.counts()
        return JSONResponse({"status": "ok", "profiles": sorted(self._executions.profiles), **counts})


async def _read_body(request: Request) -> bytes | None:
    """The body, or None past the size cap (read no further than the cap)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_request(body: bytes) -> tuple[tuple[str, str], str | None]:
    """(key, executionType) and, when the body is unusable, what is wrong with it."""
    try:
        document = json.loads(body) if body.strip() else None
    except ValueError:
        return ("", ""), "the body is not JSON"
    if not isinstance(document, dict):
        return ("", ""), "the body must be a JSON object"
    key = document.get("key")
    if not isinstance(key, str) or not key.strip():
        return ("", ""), "the body has no 'key'"
    execution_type = document.get("executionType", "asynchronous")
    if execution_type not in _EXECUTION_TYPES:
        return ("", ""), f"executionType must be 'asynchronous' or 'synchronous', not {execution_type!r}"
    return (key.strip(), str(execution_type)), None


class _Guard:
    """Bearer token on every request when one is set; otherwise loopback Host and Origin only."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            refusal = self._refusal(headers)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, headers: dict[str, str]) -> Response | None:
        if self._token is not None:
            scheme, _, value = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), self._token):
                response = _fail(
                    401,
                    "this test agent needs 'Authorization: Bearer <token>' (tests run --token)",
                    code="UNAUTHORIZED",
                )
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            return None
        host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
        origin = headers.get("origin")
        # An opaque origin ("null": a sandboxed frame, a file) is a page all the same.
        origin_ok = origin is None or (origin != "null" and is_loopback_host(urlsplit(origin).hostname or "-"))
        if not is_loopback_host(host) or not origin_ok:
            return _fail(
                403,
                "this test agent accepts only loopback requests; start it with --token to serve others",
                code="FORBIDDEN",
            )
        return None
