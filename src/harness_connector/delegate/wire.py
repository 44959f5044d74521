"""JSON over HTTP for the delegate side: the delegate manager, the log and test services, and test agents.

The one module of the delegate package that imports the HTTP library (the Harness REST client is the other one in
the package): the agents speak small, fixed protocols, not the Harness REST dialect the client maps. Calls are
synchronous; the agents run their own threads. An answer of 400 or more raises `WireError` with the server's code
and message; a refused connection or a timeout raises `WireUnavailable`, which callers retry with backoff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx2

__all__ = ["WireClient", "WireError", "WireUnavailable", "unwrap"]

_ERROR_TEXT_LIMIT = 2_000


class WireUnavailable(Exception):
    """The server could not be reached or did not answer in time: worth retrying later."""


class WireError(Exception):
    """The server answered with an error status: retrying the same request will not help (except 429 and 5xx)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (rate limits and server errors)."""
        return self.status == 429 or self.status >= 500


class WireClient:
    """A base URL and the headers every request carries (`headers` is called per request, so a token can be
    renewed). `unwrap` returns the `resource` (RestResponse) or `data` (ResponseDTO) of an enveloped answer."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Callable[[], Mapping[str, str]] = dict,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = headers
        self._http = httpx2.Client(timeout=timeout_s, follow_redirects=False)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """Send one request; return the parsed JSON answer (None for an empty body).

        Raises:
            WireError: the server answered 400 or more.
            WireUnavailable: no answer (refused, reset, timed out).
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        headers = dict(self._headers())
        if content_type:
            headers["content-type"] = content_type
        try:
            response = self._http.request(
                method,
                url,
                params={k: str(v) for k, v in (params or {}).items()},
                json=json_body if content is None else None,
                content=content,
                headers=headers,
                timeout=timeout_s if timeout_s is not None else httpx2.USE_CLIENT_DEFAULT,
            )
        except httpx2.TimeoutException as exc:
            raise WireUnavailable(f"{method} {url}: no answer in time") from exc
        except httpx2.TransportError as exc:
            raise WireUnavailable(f"{method} {url}: cannot connect ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise _error(response.status_code, response.content)
        return json.loads(response.content) if response.content.strip() else None

    def download(self, path: str, *, params: Mapping[str, str | int] | None = None) -> bytes:
        """The raw body of a GET (a report file).

        Raises:
            WireError: the server answered 400 or more.
            WireUnavailable: no answer.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        try:
            response = self._http.get(url, params={k: str(v) for k, v in (params or {}).items()},
                                      headers=dict(self._headers()))  # fmt: skip
        except httpx2.TimeoutException as exc:
            raise WireUnavailable(f"GET {url}: no answer in time") from exc
        except httpx2.TransportError as exc:
            raise WireUnavailable(f"GET {url}: cannot connect ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise _error(response.status_code, response.content)
        return bytes(response.content)


def unwrap(answer: Any) -> Any:
    """The payload of a Harness envelope: `resource` (RestResponse), `data` (ResponseDTO), else the answer."""
    if isinstance(answer, dict):
        if "resource" in answer:
            return answer["resource"]
        if "data" in answer and "status" in answer:
            return answer["data"]
    return answer


def _error(status: int, body: bytes) -> WireError:
    code, message = "HTTP_ERROR", body[:_ERROR_TEXT_LIMIT].decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(body)
    except ValueError:
        return WireError(status, code, message or f"HTTP {status}")
    if isinstance(parsed, dict):
        code = str(parsed.get("code") or code)
        found = parsed.get("message") or parsed.get("error")
        messages = parsed.get("responseMessages")
        if not found and isinstance(messages, list) and messages and isinstance(messages[-1], dict):
            found = messages[-1].get("message")
        message = str(found or message)
    return WireError(status, code, message[:_ERROR_TEXT_LIMIT])
