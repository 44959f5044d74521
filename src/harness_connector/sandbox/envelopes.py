"""Harness's response envelopes and error bodies, as the real services write them.

NG and pipeline-service endpoints wrap payloads in a ResponseDTO (`status`, `data`, `metaData`,
`correlationId`); lists inside it are Spring pages (pipeline service) or NG `PageResponse`s. Errors are the
`Failure` shape with an ErrorCode name, and the HTTP status that code maps to in Harness's enum.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "ApiError",
    "correlation_id",
    "failure_body",
    "ng_page",
    "ok",
    "rest_response",
    "spring_page",
]

# One id per request, set by the middleware, so envelopes and the header agree.
_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")

# HTTP status of each ErrorCode the sandbox uses (Harness's enum defaults to 400).
CODE_STATUS: dict[str, int] = {
    "INVALID_TOKEN": 401,
    "EXPIRED_TOKEN": 401,
    "INVALID_CREDENTIAL": 401,
    "ACCESS_DENIED": 403,
    "NG_ACCESS_DENIED": 403,
    "RESOURCE_NOT_FOUND": 404,
    "ENTITY_NOT_FOUND": 404,
    "RESOURCE_NOT_FOUND_EXCEPTION": 400,
    "INVALID_REQUEST": 400,
    "INVALID_ARGUMENT": 400,
    "DUPLICATE_FIELD": 400,
    "INVALID_YAML_ERROR": 400,
    "TOO_MANY_REQUESTS": 429,
    "UNKNOWN_ERROR": 500,
    "GENERAL_ERROR": 400,
    "SERVICE_UNAVAILABLE": 503,
    "REQUEST_TIMEOUT": 504,
}


class ApiError(Exception):
    """Raised by handlers; rendered as a Harness `Failure` body with the code's HTTP status."""

    def __init__(self, code: str, message: str, *, status: int | None = None, causes: Sequence[str] = ()) -> None:
        self.code = code
        self.message = message
        self.status = status or CODE_STATUS.get(code, 400)
        self.causes = list(causes)
        super().__init__(f"{code}: {message}")


def new_correlation_id() -> str:
    """Start a request: make and remember its correlation id."""
    value = str(uuid.uuid4())
    _correlation.set(value)
    return value


def correlation_id() -> str:
    """The current request's correlation id."""
    return _correlation.get() or new_correlation_id()


def ok(data: Any, *, status: int = 200) -> JSONResponse:
    """A ResponseDTO success."""
    return JSONResponse(
        {"status": "SUCCESS", "data": data, "metaData": None, "correlationId": correlation_id()}, status_code=status
    )


def rest_response(resource: Any) -> JSONResponse:
    """The older RestResponse shape used by delegate endpoints (no `status`/`data`)."""
    return JSONResponse({"metaData": {}, "resource": resource, "responseMessages": []})


def failure_body(error: ApiError) -> dict[str, Any]:
    """The `Failure` body for an error; the deepest cause goes last in `responseMessages`."""
    messages = [error.message, *error.causes]
    return {
        "status": "ERROR",
        "code": error.code,
        "message": error.message,
        "correlationId": correlation_id(),
        "detailedMessage": None,
        "responseMessages": [
            {
                "code": error.code,
                "level": "ERROR",
                "message": text,
                "exception": None,
                "failureTypes": [],
            }
            for text in messages
        ],
        "metadata": None,
    }


def spring_page(items: Sequence[Any], *, page: int, size: int, total: int) -> dict[str, Any]:
    """A Spring `Page` as the pipeline service returns it (0-based `number`)."""
    total_pages = (total + size - 1) // size if size else 0
    return {
        "content": list(items),
        "pageable": {"pageNumber": page, "pageSize": size, "offset": page * size, "paged": True, "unpaged": False},
        "totalElements": total,
        "totalPages": total_pages,
        "last": page + 1 >= total_pages,
        "first": page == 0,
        "size": size,
        "number": page,
        "numberOfElements": len(items),
        "sort": {"empty": True, "sorted": False, "unsorted": True},
        "empty": len(items) == 0,
    }


def ng_page(items: Sequence[Any], *, page: int, size: int, total: int) -> dict[str, Any]:
    """An NG `PageResponse` (0-based `pageIndex`)."""
    return {
        "totalPages": (total + size - 1) // size if size else 0,
        "totalItems": total,
        "pageItemCount": len(items),
        "pageSize": size,
        "content": list(items),
        "pageIndex": page,
        "empty": len(items) == 0,
    }
