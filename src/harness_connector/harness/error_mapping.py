"""Turn a Harness error response into the right exception with an actionable message.

Harness has several error dialects: the NG/PMS `Failure` envelope (`status`, `code`, `message`,
`responseMessages`, `correlationId`), the older `RestResponse` (only `responseMessages`), the CF admin API's
`{code: int, message}`, ti-service's `{error_msg}`, the log service's plain text, and gateway or WAF pages in
HTML. The top-level `message` often repeats a generic first entry; the real cause is usually the last ERROR
entry of `responseMessages`, so that is what `cause` reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness_connector.errors import (
    HarnessAuthError,
    HarnessError,
    HarnessInvalidRequestError,
    HarnessNotFoundError,
    HarnessPermissionError,
    HarnessRateLimitedError,
    HarnessUnavailableError,
)

__all__ = ["error_from_response", "parse_retry_after"]

_AUTH_CODES = frozenset({"INVALID_TOKEN", "EXPIRED_TOKEN", "REVOKED_TOKEN", "INVALID_CREDENTIAL", "INVALID_API_KEY"})
_PERMISSION_CODES = frozenset({"ACCESS_DENIED", "NG_ACCESS_DENIED", "USER_NOT_AUTHORIZED"})
# RESOURCE_NOT_FOUND_EXCEPTION arrives with HTTP 400 (the enum gives it no status) but means "not found".
_NOT_FOUND_CODES = frozenset(
    {
        "RESOURCE_NOT_FOUND",
        "RESOURCE_NOT_FOUND_EXCEPTION",
        "ENTITY_NOT_FOUND",
        "TEMPLATE_NOT_FOUND",
        "CONNECTOR_NOT_FOUND_EXCEPTION",
        "PIPELINE_NOT_FOUND",
    }
)
_RATE_CODES = frozenset({"TOO_MANY_REQUESTS"})

_STATUS_ADVICE = {
    401: "The API key is invalid, expired or revoked. Create a new token in Harness (My Profile > API Keys) "
    "and set HARNESS_API_KEY.",
    403: "The key is valid but not allowed here: check HARNESS_ACCOUNT_ID, the key's role bindings for this "
    "org/project, IP allow-lists, or a corporate proxy in between.",
    404: "The endpoint or resource does not exist: check the identifiers, the org/project scope and HARNESS_BASE_URL.",
    408: "Harness timed out answering; try again, or raise HARNESS_API_TIMEOUT_MS.",
    429: "Harness is rate limiting this key; wait a minute or lower HARNESS_RATE_LIMIT_RPS.",
    502: "A gateway in front of Harness failed; Harness or the network may be degraded. Try again shortly.",
    503: "Harness is unavailable right now; try again shortly and check status.harness.io.",
    504: "A gateway timed out waiting for Harness; try again, or narrow the request.",
}


def error_from_response(
    status: int,
    body: bytes,
    *,
    content_type: str = "",
    method: str | None = None,
    path: str | None = None,
    retry_after_s: float | None = None,
) -> HarnessError:
    """Build the exception for an error answer. Pure: the caller has already read the body."""
    payload = _json_or_none(body, content_type)
    if isinstance(payload, Mapping):
        code, message, cause, correlation_id = _read_envelope(payload)
    else:
        code, cause, correlation_id = None, None, None
        message = _describe_non_json(status, body, content_type)
    if not message:
        message = _STATUS_ADVICE.get(status, f"Harness answered HTTP {status} without an explanation.")
    cls = _exception_class(status, code)
    if cls is HarnessRateLimitedError:
        return HarnessRateLimitedError(
            message,
            retry_after_s=retry_after_s,
            status_code=status,
            code=code,
            cause=cause,
            correlation_id=correlation_id,
            method=method,
            path=path,
        )
    return cls(
        message, status_code=status, code=code, cause=cause, correlation_id=correlation_id, method=method, path=path
    )


def _exception_class(status: int, code: str | None) -> type[HarnessError]:
    if status == 401 or code in _AUTH_CODES:
        return HarnessAuthError
    if code in _NOT_FOUND_CODES or status == 404:
        return HarnessNotFoundError
    if status == 403 or code in _PERMISSION_CODES:
        return HarnessPermissionError
    if status == 429 or code in _RATE_CODES:
        return HarnessRateLimitedError
    if status == 408 or status >= 500:
        return HarnessUnavailableError
    return HarnessInvalidRequestError


def _json_or_none(body: bytes, content_type: str) -> Any:
    text = body.strip()
    if not text or not (text[:1] in (b"{", b"[") or "json" in content_type):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _read_envelope(payload: Mapping[str, Any]) -> tuple[str | None, str, str | None, str | None]:
    raw_code = payload.get("code")
    code = str(raw_code) if raw_code not in (None, "") else None
    message = _first_text(payload, ("message", "error_msg", "error", "detailedMessage"))
    correlation_id = _first_text(payload, ("correlationId", "correlation_id")) or None
    cause = _deepest_cause(payload.get("responseMessages"))
    if not message and cause:
        message, cause = cause, None
    if code is None and isinstance(payload.get("responseMessages"), list):
        code = _first_error_code(payload["responseMessages"])
    return code, message, cause, correlation_id


def _first_text(payload: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _deepest_cause(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    errors = [m for m in messages if isinstance(m, Mapping) and str(m.get("level", "ERROR")).upper() == "ERROR"]
    for entry in reversed(errors or [m for m in messages if isinstance(m, Mapping)]):
        text = entry.get("message")
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _first_error_code(messages: list[Any]) -> str | None:
    for entry in messages:
        if isinstance(entry, Mapping) and isinstance(entry.get("code"), str):
            return str(entry["code"])
    return None


def _describe_non_json(status: int, body: bytes, content_type: str) -> str:
    head = body[:2048].decode("utf-8", errors="replace").strip()
    lowered = head.lower()
    advice = _STATUS_ADVICE.get(status, f"Harness answered HTTP {status}.")
    if "html" in content_type or lowered.startswith(("<!doctype", "<html")) or "<body" in lowered:
        if "login" in lowered or "sign in" in lowered:
            return f"Harness redirected to a login page instead of answering the API call. {_STATUS_ADVICE[401]}"
        return f"Harness returned an HTML error page instead of JSON (a gateway, proxy or WAF answered). {advice}"
    if head and len(head) <= 300 and "\n" not in head:
        # Short plain-text bodies (the log service's) are Harness's own words and worth keeping.
        return f"{head}. {advice}" if status in _STATUS_ADVICE else head
    return advice


def parse_retry_after(value: str | None, *, now_epoch_s: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or None if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch_s)
