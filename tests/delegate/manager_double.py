"""A small delegate manager that speaks exactly protocol.py's contract, for the delegate's tests.

It checks every JWT itself (HS256 with the token as the key, decoded here with the standard library, not with
the delegate's code), keeps tasks QUEUED -> ASSIGNED -> DONE, queues again the tasks a delegate registers without,
and records everything it receives. The state lives in the `ManagerDouble` object, not in the server, so the server
can be stopped and started again on the same port (a manager restart that kept its database).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT = "acct-double"
TOKEN = "delegate-token-value-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _segment(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt(jwt: str, secret: str) -> dict[str, Any]:
    """The claims of an HS256 JWT signed with `secret`; ValueError when it is not one."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT")
    header = json.loads(_segment(parts[0]))
    if header.get("alg") != "HS256":
        raise ValueError("not HS256")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _segment(parts[2])):
        raise ValueError("bad signature")
    claims = json.loads(_segment(parts[1]))
    if not isinstance(claims, dict):
        raise ValueError("claims are not an object")
    return claims


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class DoubleTask:
    payload: dict[str, Any]
    status: str = "QUEUED"  # QUEUED, ASSIGNED, DONE, CANCELLED
    delegate_id: str | None = None
    acquired: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)


def task_payload(task_id: str, script: str, **fields: Any) -> dict[str, Any]:
    """A payload as a manager sends it (camelCase), with harmless defaults."""
    payload = {
        "delegateTaskId": task_id,
        "taskType": "CI_RUN",
        "accountId": ACCOUNT,
        "orgIdentifier": "default",
        "projectIdentifier": "payments",
        "planExecutionId": f"exec-{task_id}",
        "pipelineIdentifier": "build",
        "runSequence": 7,
        "stageIdentifier": "test",
        "stepIdentifier": f"step_{task_id}",
        "stepName": f"Step {task_id}",
        "script": script,
        "shell": "Bash",
        "environment": {},
        "outputVariables": [],
        "reportPaths": [],
        "timeoutMs": 60_000,
        "logKey": f"logs/{task_id}",
    }
    payload.update(fields)
    return payload


class ManagerDouble:
    """The manager's state and its HTTP server on a fixed loopback port."""

    def __init__(self, *, account: str = ACCOUNT, token: str = TOKEN) -> None:
        self.account, self.token = account, token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.delegates: dict[str, str] = {}  # name -> id
        self.registrations: list[dict[str, Any]] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.unregistered: list[str] = []
        self.tasks: dict[str, DoubleTask] = {}
        self.logs: dict[str, list[dict[str, Any]]] = {}
        self.reports: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
        self.result_order: list[str] = []
        self.events: list[str] = []  # "register", "acquire TASK", "result TASK", in the order they happened
        self.to_abort: set[str] = set()
        self.revoked = False
        self.claims_seen: list[dict[str, Any]] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # Driving the double from a test

    def queue(self, task_id: str, script: str, **fields: Any) -> None:
        with self.lock:
            self.tasks[task_id] = DoubleTask(task_payload(task_id, script, **fields))

    def assign(self, task_id: str, delegate_name: str) -> None:
        """As if a delegate of that name had acquired the task in an earlier life."""
        with self.lock:
            delegate_id = self.delegates.setdefault(delegate_name, f"dlg-{len(self.delegates) + 1}")
            task = self.tasks[task_id]
            task.status, task.delegate_id, task.acquired = "ASSIGNED", delegate_id, 1

    def abort(self, task_id: str) -> None:
        with self.lock:
            self.to_abort.add(task_id)

    def results(self, task_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.tasks[task_id].results)

    def log_text(self, task_id: str) -> list[str]:
        with self.lock:
            return [line["out"] for line in self.logs.get(f"logs/{task_id}", [])]

    def wait_for(self, condition: Callable[[], object], timeout_s: float = 20.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def start(self) -> None:
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the manager double did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    @property
    def serving(self) -> bool:
        return self._server is not None and not self._server.should_exit

    # The HTTP side

    def app(self) -> Starlette:
        api = "/api/agent"
        routes = [
            Route(f"{api}/delegates/register", self._wrap(self._register), methods=["POST"]),
            Route(f"{api}/delegates/heartbeat-with-polling", self._wrap(self._heartbeat), methods=["POST"]),
            Route(f"{api}/delegates/{{delegateId}}/task-events", self._wrap(self._task_events), methods=["GET"]),
            Route(
                f"{api}/delegates/{{delegateId}}/tasks/{{taskId}}/acquire", self._wrap(self._acquire), methods=["PUT"]
            ),
            Route(f"{api}/v2/tasks/{{taskId}}/delegates/{{delegateId}}", self._wrap(self._result), methods=["POST"]),
            Route(f"{api}/delegates/{{delegateId}}/unregister", self._wrap(self._unregister), methods=["POST"]),
            Route("/log-service/stream", self._wrap(self._log_stream, account_param="accountID"), methods=["POST"]),
            Route("/ti-service/reports/write", self._wrap(self._reports_write), methods=["POST"]),
        ]
        return Starlette(routes=routes)

    def _wrap(self, handler: Callable[[Request], Any], *, account_param: str = "accountId") -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                self._check_auth(request, account_param)
                answer = await handler(request)
            except _ApiError as exc:
                body = {
                    "code": exc.code,
                    "message": exc.message,
                    "responseMessages": [{"code": exc.code, "level": "ERROR", "message": exc.message}],
                }
                return JSONResponse(body, status_code=exc.status)
            if isinstance(answer, Response):
                return answer
            return JSONResponse({"metaData": {}, "resource": answer, "responseMessages": []})

        return endpoint

    def _check_auth(self, request: Request, account_param: str) -> None:
        header = request.headers.get("authorization", "")
        if self.revoked or not header.startswith("Delegate "):
            raise _ApiError(401, "INVALID_TOKEN", "Delegate token is not valid")
        try:
            claims = decode_jwt(header.removeprefix("Delegate "), self.token)
        except (ValueError, UnicodeDecodeError):
            raise _ApiError(401, "INVALID_TOKEN", "Delegate token is not valid") from None
        now = time.time()
        if claims.get("sub") != self.account or claims.get("iss") != "Harness Inc" or claims.get("exp", 0) < now:
            raise _ApiError(401, "INVALID_TOKEN", "Delegate token is not valid for this account")
        if claims.get("exp") != claims.get("iat", 0) + 600 or not claims.get("jti"):
            raise _ApiError(401, "INVALID_TOKEN", "Delegate token must live 600 s and carry a jti")
        if request.query_params.get(account_param) != self.account:
            raise _ApiError(400, "INVALID_REQUEST", f"{account_param} must name the account")
        with self.lock:
            self.claims_seen.append(claims)

    def _delegate_id(self, delegate_id: str) -> str:
        with self.lock:
            if delegate_id not in self.delegates.values():
                raise _ApiError(404, "DELEGATE_NOT_FOUND", f"Delegate {delegate_id} is not registered")
        return delegate_id

    async def _register(self, request: Request) -> Any:
        body = await request.json()
        running = set(body.get("runningTaskIds") or [])
        with self.lock:
            self.registrations.append(body)
            self.events.append("register")
            name = body["delegateName"]
            delegate_id = self.delegates.setdefault(name, f"dlg-{len(self.delegates) + 1}")
            for task in self.tasks.values():
                if (
                    task.status == "ASSIGNED"
                    and task.delegate_id == delegate_id
                    and (task.payload["delegateTaskId"] not in running)
                ):
                    task.status, task.delegate_id = "QUEUED", None
        return {"delegateId": delegate_id, "delegateName": name, "status": "ENABLED", "heartbeatIntervalMs": 50_000}

    async def _heartbeat(self, request: Request) -> Any:
        body = await request.json()
        delegate_id = self._delegate_id(str(body.get("delegateId")))
        with self.lock:
            self.heartbeats.append(body)
            aborts = sorted(self.to_abort & set(body.get("runningTaskIds") or []))
            self.to_abort -= set(aborts)
        return {"delegateId": delegate_id, "status": "ENABLED", "abortTaskIds": aborts}

    async def _task_events(self, request: Request) -> Any:
        self._delegate_id(request.path_params["delegateId"])
        wait = min(float(request.query_params.get("wait", "0")), 30.0)
        limit = int(request.query_params.get("max", "10"))
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                queued = [
                    {"delegateTaskId": t.payload["delegateTaskId"], "taskType": t.payload["taskType"]}
                    for t in self.tasks.values()
                    if t.status == "QUEUED"
                ][:limit]
            if queued or time.monotonic() >= deadline or not self.serving:
                return queued
            await asyncio.sleep(0.05)

    async def _acquire(self, request: Request) -> Any:
        delegate_id = self._delegate_id(request.path_params["delegateId"])
        with self.lock:
            task = self.tasks.get(request.path_params["taskId"])
            if task is None or task.status != "QUEUED":
                raise _ApiError(409, "TASK_ALREADY_TAKEN", "the task is not queued")
            task.status, task.delegate_id = "ASSIGNED", delegate_id
            task.acquired += 1
            self.events.append(f"acquire {task.payload['delegateTaskId']}")
            return dict(task.payload)

    async def _result(self, request: Request) -> Any:
        self._delegate_id(request.path_params["delegateId"])
        body = await request.json()
        with self.lock:
            task = self.tasks.get(request.path_params["taskId"])
            if task is None:
                raise _ApiError(404, "RESOURCE_NOT_FOUND", "no such task")
            task.results.append(body)
            self.result_order.append(task.payload["delegateTaskId"])
            self.events.append(f"result {task.payload['delegateTaskId']}")
            if task.status == "CANCELLED":
                return {"accepted": False, "reason": "the step no longer waits"}
            task.status = "DONE"
        return {"accepted": True, "reason": "recorded"}

    async def _unregister(self, request: Request) -> Any:
        delegate_id = self._delegate_id(request.path_params["delegateId"])
        with self.lock:
            self.unregistered.append(delegate_id)
        return {"delegateId": delegate_id, "status": "DISCONNECTED"}

    async def _log_stream(self, request: Request) -> Any:
        key = request.query_params.get("key")
        if not key:
            raise _ApiError(400, "INVALID_REQUEST", "key is required")
        lines = await request.json()
        with self.lock:
            self.logs.setdefault(key, []).extend(lines)
        return Response(status_code=200)

    async def _reports_write(self, request: Request) -> Any:
        names = ("orgId", "projectId", "pipelineId", "buildId", "stageId", "stepId", "report")
        query = {name: request.query_params.get(name, "") for name in names}
        if not all(query.values()):
            raise _ApiError(500, "UNKNOWN_ERROR", "a required query parameter is missing")
        rows = await request.json()
        with self.lock:
            self.reports.append((query, rows))
        return Response(status_code=204)


@contextmanager
def running_manager() -> Iterator[ManagerDouble]:
    """A started manager double, stopped at the end."""
    manager = ManagerDouble()
    manager.start()
    try:
        yield manager
    finally:
        manager.stop()
