"""The async Harness REST client: auth, scoping, retries, rate limit and error mapping in one place.

This is the only module that imports the HTTP library. Everything that talks to Harness, the real service or
the sandbox, goes through `HarnessClient`; tests inject a transport instead of patching.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import anyio
import httpx2
from pydantic import SecretStr

from harness_connector.errors import ConfigError, HarnessError, HarnessUnavailableError, UsageError
from harness_connector.harness.error_mapping import error_from_response, parse_retry_after
from harness_connector.harness.pagination import Page, page_query, parse_page
from harness_connector.harness.rate_limit import TokenBucket
from harness_connector.harness.registry.model import Envelope, PagingStyle, ResourceType, RetryPolicy, Scope

__all__ = ["DEFAULT_BASE_URL", "HarnessClient", "HarnessResponse", "Transport", "account_id_from_key"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://app.harness.io"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 30.0
_MAX_RETRY_AFTER_S = 120.0
_ERROR_BODY_LIMIT = 256 * 1024

Transport = httpx2.AsyncBaseTransport


def account_id_from_key(api_key: str) -> str | None:
    """The account id inside a `pat.<account>.<token>.<secret>` or `sat.` token, or None for other key shapes."""
    parts = api_key.strip().split(".")
    if len(parts) >= 4 and parts[0].lower() in ("pat", "sat") and parts[1]:
        return parts[1]
    return None


@dataclass(frozen=True, slots=True)
class HarnessResponse:
    """A finished answer: status, lower-cased headers and the body."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""
        import json

        return json.loads(self.content) if self.content.strip() else None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.content.decode("utf-8", errors="replace")


class HarnessClient:
    """Talks to one Harness account.

    Args:
        base_url: `https://app.harness.io`, a regional or self-managed host, or the sandbox's loopback URL.
        api_key: a PAT or SAT; sent only as the `x-api-key` header and never logged or shown.
        account_id: required when it cannot be read from the key.
        transport: an HTTP transport to use instead of the network (tests).
        asgi_app: an ASGI app to call in-process instead of the network (the embedded sandbox).
        timeout_s: per-attempt timeout.
        max_retries: extra attempts after a 408/429/5xx or connection failure, where the operation allows it.
        rate_limit_rps: client-side requests per second.
        allow_http: permit plain http to a non-loopback host.
        clock, wall_clock, sleep, rng: injected for tests (monotonic seconds, epoch seconds, async sleep, jitter).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: SecretStr | str,
        account_id: str | None = None,
        transport: Transport | None = None,
        asgi_app: Any = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        rate_limit_rps: float = 10.0,
        allow_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        key = self._key.get_secret_value().strip()
        if not key:
            raise ConfigError("HARNESS_API_KEY is empty; create a token in Harness (My Profile > API Keys)")
        found = account_id or account_id_from_key(key)
        if not found:
            raise ConfigError(
                "cannot tell the account: the API key is not a pat.<account>.<id>.<secret> or sat. token; "
                "set HARNESS_ACCOUNT_ID"
            )
        self.account_id: str = found
        self.base_url = _checked_base_url(base_url, allow_http=allow_http)
        self.max_retries = max(0, max_retries)
        self.timeout_s = timeout_s
        self.requests_made = 0
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._bucket = TokenBucket(rate_limit_rps, clock=clock, sleep=sleep)
        if asgi_app is not None and transport is None:
            transport = httpx2.ASGITransport(app=asgi_app)
        self._http = httpx2.AsyncClient(transport=transport, timeout=timeout_s, follow_redirects=False)

    def __repr__(self) -> str:
        return f"HarnessClient(base_url={self.base_url!r}, account_id={self.account_id!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # ---- generic requests -------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | Mapping[str, str] = (),
        json: Any = None,
        content: str | bytes | None = None,
        content_type: str | None = None,
        retry: RetryPolicy = RetryPolicy.SAFE,
    ) -> HarnessResponse:
        """Send one logical request (with the retries `retry` allows) and return the successful answer.

        Raises:
            HarnessError: the subclass that matches Harness's answer, after any retries.
        """
        url, query, headers = self._prepare(path, params, content_type, retry)
        body = content.encode() if isinstance(content, str) else content
        attempts = 1 + (self.max_retries if retry is not RetryPolicy.DO_NOT_RETRY else 0)
        for attempt in range(1, attempts + 1):
            await self._bucket.acquire()
            retry_after: float | None = None
            try:
                self.requests_made += 1
                response = await self._http.request(
                    method,
                    url,
                    params=tuple(query),
                    json=json,
                    content=body,
                    headers=headers,
                    timeout=self.timeout_s,
                )
            except httpx2.TimeoutException:
                failure: HarnessError = HarnessUnavailableError(
                    f"no answer within {self.timeout_s:g}s; try again, or raise HARNESS_API_TIMEOUT_MS",
                    method=method,
                    path=path,
                )
            except httpx2.TransportError as exc:
                failure = HarnessUnavailableError(
                    f"could not reach {self.base_url} ({type(exc).__name__}); check HARNESS_BASE_URL and the network",
                    method=method,
                    path=path,
                )
            else:
                answer = HarnessResponse(response.status_code, dict(response.headers), response.content)
                if answer.status < 400:
                    log.debug("%s %s -> %s", method, path, answer.status)
                    return answer
                retry_after = parse_retry_after(answer.headers.get("retry-after"), now_epoch_s=self._wall_clock())
                failure = self._error(answer, method, path, retry_after)
                if answer.status not in RETRYABLE_STATUSES:
                    raise failure
            if attempt == attempts:
                raise failure
            delay = self._backoff(attempt, retry_after)
            log.warning("%s %s failed (%s); retry %d/%d in %.2fs", method, path, failure.status_code or "network",
                        attempt, attempts - 1, delay)  # fmt: skip
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Sequence[tuple[str, str]] | Mapping[str, str] = (),
        authenticated: bool = True,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open a response and yield its body as chunks, without holding it in memory.

        `authenticated=False` is for pre-signed download links: those must get no Harness headers.

        Raises:
            HarnessError: the answer was an error (the connection is not retried once streaming started).
        """
        if authenticated:
            url, query, headers = self._prepare(path_or_url, params, None, RetryPolicy.SAFE)
        else:
            url, query, headers = path_or_url, list(_as_pairs(params)), {}
        await self._bucket.acquire()
        self.requests_made += 1
        request = self._http.build_request(
            method, url, params=tuple(query) or None, headers=headers, timeout=self.timeout_s
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx2.TimeoutException as exc:
            raise HarnessUnavailableError(
                f"no answer within {self.timeout_s:g}s", method=method, path=_shown(url)
            ) from exc
        except httpx2.TransportError as exc:
            raise HarnessUnavailableError(
                f"could not reach the server ({type(exc).__name__})", method=method, path=_shown(url)
            ) from exc
        try:
            if response.status_code >= 400:
                body = await _read_limited(response.aiter_bytes(), _ERROR_BODY_LIMIT)
                answer = HarnessResponse(response.status_code, dict(response.headers), body)
                raise self._error(answer, method, _shown(url), None)
            yield response.aiter_bytes()
        finally:
            await response.aclose()

    # ---- registry-driven calls ---------------------------------------------------------------------------

    async def call(
        self,
        resource: ResourceType,
        operation: str,
        args: Mapping[str, Any],
        *,
        page: int = 0,
        size: int = 20,
    ) -> Any:
        """Run a registry operation. List operations return a `Page`; others return the unwrapped payload.

        Raises:
            UsageError: an argument is missing or the scope is not supported by the type.
            HarnessError: Harness refused or failed.
        """
        op = resource.operation(operation)
        scope = _scope_of(resource, args.get("resource_scope"))
        prepared = op.prepare(args, scope=scope)
        params = list(prepared.params)
        if op.paging is not PagingStyle.NONE:
            params.extend(page_query(op.paging, page, size))
        answer = await self.request(
            prepared.method,
            prepared.path,
            params=params,
            json=prepared.json,
            content=prepared.content,
            content_type=prepared.content_type,
            retry=prepared.retry,
        )
        payload = self._unwrap(answer, op.envelope, prepared.method, prepared.path)
        if op.paging is PagingStyle.NONE:
            return payload
        return parse_page(op.paging, payload, page=page, size=size, headers=answer.headers, items_key=op.items_key)

    async def list_page(
        self, resource: ResourceType, args: Mapping[str, Any], *, page: int = 0, size: int = 20
    ) -> Page:
        """One page of a resource type's `list` operation."""
        result = await self.call(resource, "list", args, page=page, size=size)
        if not isinstance(result, Page):
            return parse_page(PagingStyle.NONE, result, page=page, size=size)
        return result

    # ---- internals --------------------------------------------------------------------------------------

    def _prepare(
        self,
        path: str,
        params: Sequence[tuple[str, str]] | Mapping[str, str],
        content_type: str | None,
        retry: RetryPolicy,
    ) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
        if "://" in path:
            raise UsageError("authenticated requests take a path relative to HARNESS_BASE_URL, not a full URL")
        url = self.base_url + _dedupe_gateway(self.base_url, path)
        given = list(_as_pairs(params))
        names = {name for name, _ in given}
        account_param = _account_param_name(path)
        query = [
            (n, v) for n, v in ((account_param, self.account_id), ("routingId", self.account_id)) if n not in names
        ]
        headers = {
            "x-api-key": self._key.get_secret_value(),
            "Harness-Account": self.account_id,
            "Accept": "application/json",
        }
        if content_type:
            headers["Content-Type"] = content_type
        if retry is RetryPolicy.IDEMPOTENCY_KEY_REQUIRED:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return url, query + given, headers

    def _error(self, answer: HarnessResponse, method: str, path: str, retry_after: float | None) -> HarnessError:
        key = self._key.get_secret_value().encode()
        body = answer.content.replace(key, b"***") if key in answer.content else answer.content
        return error_from_response(
            answer.status,
            body,
            content_type=answer.headers.get("content-type", ""),
            method=method,
            path=path,
            retry_after_s=retry_after,
        )

    def _unwrap(self, answer: HarnessResponse, envelope: Envelope, method: str, path: str) -> Any:
        try:
            payload = answer.json()
        except ValueError:
            if envelope is Envelope.BARE:
                return answer.text
            raise HarnessUnavailableError(
                "Harness answered with a body that is not JSON; a proxy may be in the way (check HARNESS_BASE_URL)",
                status_code=answer.status,
                method=method,
                path=path,
            ) from None
        if isinstance(payload, Mapping) and str(payload.get("status", "")).upper() in ("ERROR", "FAILURE"):
            # Some endpoints answer 200 with an error envelope.
            raise self._error(HarnessResponse(400, answer.headers, answer.content), method, path, None)
        if envelope is Envelope.DATA and isinstance(payload, Mapping) and "data" in payload:
            return payload["data"]
        if envelope is Envelope.RESOURCE and isinstance(payload, Mapping) and "resource" in payload:
            return payload["resource"]
        return payload

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_AFTER_S)
        # Full exponential growth with jitter in [0.5, 1.0] so parallel clients do not retry in lockstep.
        return min(_MAX_BACKOFF_S, 2.0 ** (attempt - 1) * self._rng.uniform(0.5, 1.0))


def _checked_base_url(base_url: str, *, allow_http: bool) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"HARNESS_BASE_URL {base_url!r} is not an http(s) URL; for SaaS use {DEFAULT_BASE_URL}")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"HARNESS_BASE_URL {base_url!r} uses plain http to a remote host; use https, "
            "or set HARNESS_ALLOW_HTTP=true if you really mean it"
        )
    return base_url.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dedupe_gateway(base_url: str, path: str) -> str:
    path = path if path.startswith("/") else "/" + path
    if base_url.endswith("/gateway") and path.startswith("/gateway/"):
        return path[len("/gateway") :]
    return path


def _account_param_name(path: str) -> str:
    if "/log-service/" in path:
        return "accountID"
    if "/ti-service/" in path:
        return "accountId"
    return "accountIdentifier"


def _as_pairs(params: Sequence[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def _scope_of(resource: ResourceType, requested: Any) -> Scope:
    if requested in (None, ""):
        return resource.scope
    try:
        scope = Scope(str(requested))
    except ValueError:
        raise UsageError(f"resource_scope must be one of account, org, project (got {requested!r})") from None
    if scope not in resource.scopes:
        allowed = ", ".join(s.value for s in resource.scopes)
        raise UsageError(f"resource type '{resource.name}' exists at {allowed} scope, not {scope.value}")
    return scope


def _shown(url: str) -> str:
    # Pre-signed links carry credentials in their query; show only the path.
    return urlsplit(url).path or url


async def _read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    out = bytearray()
    async for chunk in chunks:
        out.extend(chunk[: limit - len(out)])
        if len(out) >= limit:
            break
    return bytes(out)
