"""The sandbox as an ASGI app: Harness's REST dialect over the sandbox state.

`create_app` wires the route modules (one per toolset, under `routes/`) behind three layers that real Harness
has too: a correlation id on every answer, API-key checks (401 for an unknown key, 403 for a key scoped to
another project), and optional fault injection (latency, 429/5xx, a per-key rate limit) for reliability tests.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from harness_connector.sandbox.delegate_auth import SCHEME, delegate_token_of
from harness_connector.sandbox.envelopes import ApiError, failure_body, new_correlation_id
from harness_connector.sandbox.state import SandboxState, Token

__all__ = ["Faults", "SandboxContext", "create_app", "render_error"]

PUBLIC_PREFIXES = ("/health", "/storage/")
DELEGATE_PREFIX = "/api/agent/"  # delegate calls: the routes check the delegate's own token


def _epoch_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Reliability knobs, all off by default.

    `error_rate` answers that share of requests with one of `error_statuses`; `rate_limit_per_minute` answers 429
    without `Retry-After` (as Harness's edge does) once a key exceeds it within a minute.
    """

    latency_ms: int = 0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (429, 500, 502, 503)
    rate_limit_per_minute: int | None = None
    seed: int = 0

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.error_rate or self.rate_limit_per_minute)


@dataclass(slots=True, kw_only=True)
class SandboxContext:
    """What route handlers share: the state, the account, the clock, and the URL the sandbox is served at."""

    state: SandboxState
    account_id: str
    clock: Callable[[], int] = _epoch_ms
    base_url: str = "http://127.0.0.1"
    faults: Faults = field(default_factory=Faults)


RouteFactory = Callable[[SandboxContext], list[BaseRoute]]


def render_error(path: str, error: ApiError) -> Response:
    """An error in the dialect of the service that owns `path`."""
    if "/log-service/" in path or path.startswith("/log-service"):
        return PlainTextResponse(error.message, status_code=error.status)
    if "/ti-service/" in path or path.startswith("/ti-service"):
        return JSONResponse({"error_msg": error.message}, status_code=error.status)
    if path.startswith("/code/"):
        return JSONResponse({"message": error.message}, status_code=error.status)
    if path.startswith("/cf/"):
        return JSONResponse({"code": error.status, "message": error.message, "details": {}}, status_code=error.status)
    return JSONResponse(failure_body(error), status_code=error.status)


class _RateWindow:
    """Requests per key within the last minute."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now_ms: int, limit: int) -> bool:
        with self._lock:
            window = self._seen.setdefault(key, deque())
            while window and window[0] <= now_ms - 60_000:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now_ms)
            return True


def create_app(ctx: SandboxContext, *, extra_routes: list[RouteFactory] | None = None) -> Starlette:
    """Build the sandbox app over `ctx`; route modules register themselves in `routes.ALL`."""
    from harness_connector.sandbox.routes import ALL

    routes: list[BaseRoute] = [Route("/health", _health, methods=["GET"])]
    for factory in [*ALL, *(extra_routes or [])]:
        routes.extend(factory(ctx))
    app = Starlette(routes=routes)
    app.state.ctx = ctx
    rng = random.Random(ctx.faults.seed)
    window = _RateWindow()

    async def harness_edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        cid = new_correlation_id()
        path = request.url.path
        try:
            if not path.startswith((*PUBLIC_PREFIXES, DELEGATE_PREFIX)):
                key = _authenticate(ctx, request)
                fault = await _inject_faults(ctx, rng, window, key.token)
                if fault is not None:
                    fault.headers["x-correlation-id"] = cid
                    return fault
            response = await call_next(request)
        except ApiError as error:
            response = render_error(path, error)
        response.headers["x-correlation-id"] = cid
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=harness_edge)
    app.add_exception_handler(ApiError, _api_error_handler)  # type: ignore[arg-type]
    return app


async def _api_error_handler(request: Request, exc: ApiError) -> Response:
    return render_error(request.url.path, exc)


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _authenticate(ctx: SandboxContext, request: Request) -> Token:
    if (request.headers.get("authorization") or "").startswith(SCHEME):
        # A delegate writing a task's logs and test reports, with the token it registered with.
        signer = delegate_token_of(ctx.state, ctx.account_id, request.headers["authorization"], ctx.clock())
        return Token(f"delegate:{signer.identifier}", signer.identifier, "delegate", signer.org, signer.project)
    supplied = (
        request.headers.get("x-api-key")
        or request.headers.get("x-harness-token")
        or request.query_params.get("X-Harness-Token")
    )
    if not supplied:
        raise ApiError("INVALID_TOKEN", "Token is not valid: no x-api-key header was sent")
    token = ctx.state.find_token(supplied.strip())
    if token is None:
        raise ApiError("INVALID_TOKEN", "Token is not valid or has expired")
    asked = (
        request.query_params.get("accountIdentifier")
        or request.query_params.get("accountID")
        or request.query_params.get("accountId")
        or request.headers.get("harness-account")
    )
    if asked and asked != ctx.account_id:
        raise ApiError("ACCESS_DENIED", f"The token does not belong to account {asked}")
    _check_project_scope(token, request)
    return token


def _check_project_scope(token: Token, request: Request) -> None:
    if not token.project:
        return
    params = request.query_params
    project = params.get("projectIdentifier") or params.get("projectId")
    org = params.get("orgIdentifier") or params.get("orgId")
    parts = request.url.path.strip("/").split("/")
    # v1 paths carry the scope in the path: /v1/orgs/{org}/projects/{project}/...
    if "projects" in parts and parts[0] == "v1":
        index = parts.index("projects")
        project = parts[index + 1] if index + 1 < len(parts) else project
    if "orgs" in parts and parts[0] == "v1":
        index = parts.index("orgs")
        org = parts[index + 1] if index + 1 < len(parts) else org
    if (project and project != token.project) or (org and org != token.org):
        raise ApiError(
            "NG_ACCESS_DENIED",
            f"Missing permission core_project_view on project {project or '?'} for token {token.name}",
        )


async def _inject_faults(ctx: SandboxContext, rng: random.Random, window: _RateWindow, key: str) -> Response | None:
    faults = ctx.faults
    if not faults.active:
        return None
    if faults.latency_ms:
        await anyio.sleep(faults.latency_ms / 1000.0)
    if faults.rate_limit_per_minute is not None and not window.hit(key, ctx.clock(), faults.rate_limit_per_minute):
        # Harness's edge answers rate limits without Retry-After.
        return PlainTextResponse("Too Many Requests", status_code=429)
    if faults.error_rate and rng.random() < faults.error_rate:
        status = rng.choice(faults.error_statuses)
        if status == 429:
            return PlainTextResponse("Too Many Requests", status_code=429)
        if status in (502, 503, 504):
            return HTMLResponse(f"<html><body><h1>{status} Server Error</h1></body></html>", status_code=status)
        return JSONResponse(failure_body(ApiError("UNKNOWN_ERROR", "Oops, something went wrong on our end")),
                            status_code=status)  # fmt: skip
    return None
