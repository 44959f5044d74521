"""Reading Harness-style requests: scope parameters, paging, JSON and YAML bodies, with Harness's errors."""

from __future__ import annotations

import json
from typing import Any

import yaml
from starlette.requests import Request

from harness_connector.sandbox.envelopes import ApiError

__all__ = ["json_body", "ng_paging", "require", "scope", "spring_paging", "yaml_body"]

MAX_PAGE_SIZE = 1000


def scope(request: Request) -> tuple[str, str]:
    """(org, project) from the NG query parameters; empty strings where absent."""
    params = request.query_params
    return params.get("orgIdentifier", ""), params.get("projectIdentifier", "")


def require(request: Request, name: str) -> str:
    """A query parameter that must be present, or Harness's 400."""
    value = request.query_params.get(name)
    if value is None or value == "":
        raise ApiError("INVALID_REQUEST", f"{name} is required")
    return value


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError("INVALID_REQUEST", f"{name} must be a number, got {raw!r}") from None


def spring_paging(request: Request, default_size: int = 20) -> tuple[int, int]:
    """(page, size) from `page`/`size`."""
    return _bounded(_int_param(request, "page", 0), _int_param(request, "size", default_size))


def ng_paging(request: Request, default_size: int = 50) -> tuple[int, int]:
    """(page, size) from `pageIndex`/`pageSize`."""
    return _bounded(_int_param(request, "pageIndex", 0), _int_param(request, "pageSize", default_size))


def _bounded(page: int, size: int) -> tuple[int, int]:
    if page < 0 or size < 1 or size > MAX_PAGE_SIZE:
        raise ApiError("INVALID_REQUEST", f"page must be >= 0 and size between 1 and {MAX_PAGE_SIZE}")
    return page, size


async def json_body(request: Request, *, required: bool = True) -> Any:
    """The JSON body, or Harness's 400 when it is missing or malformed."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiError("INVALID_REQUEST", "Request body is required")
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError("INVALID_REQUEST", f"Unable to process JSON: {exc}") from None


async def yaml_body(request: Request, *, root: str | None = None, allow_empty: bool = False) -> tuple[str, Any]:
    """The YAML body as text and parsed; a parse error is a 400 carrying the parser's message and position."""
    text = (await request.body()).decode("utf-8", errors="replace")
    if not text.strip():
        if allow_empty:
            return text, None
        raise ApiError("INVALID_REQUEST", "Request body is required: send the YAML as the body")
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ApiError("INVALID_REQUEST", f"Invalid yaml: {exc}".replace("\n", " ")) from None
    if root is not None and (not isinstance(parsed, dict) or not isinstance(parsed.get(root), dict)):
        raise ApiError("INVALID_REQUEST", f"Invalid yaml: the document must have a top-level '{root}:' mapping")
    return text, parsed
