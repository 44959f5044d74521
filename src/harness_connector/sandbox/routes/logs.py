"""The log service: tokens, single-key blobs as NDJSON, and zip downloads of a key prefix behind pre-signed links.

Served under `/gateway/log-service` and `/log-service`, with the log service's own habits: `accountID` (capital
ID) is required, errors are plain text, and a zip is built asynchronously, so `/blob/download` answers `queued`,
then `in_progress`, then `success` for the same prefix. The download link is pre-signed, so the `/storage/` route
checks its signature instead of an API key.

A key's log is its stored live lines when a run wrote some, else the recipe stored for the step's base key
(generated history), rendered on request. Keys in the simplified form Harness's docs use
(`<account>/pipeline/<pipeline>/<runSequence>/-<planExecutionId>/<stage>/<step>`) are read as the standard keys the
sandbox stores.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from harness_connector.sandbox import log_keys
from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.log_entries import encode_entries
from harness_connector.sandbox.model import ExecutionRecord
from harness_connector.sandbox.routes._common import route
from harness_connector.sandbox.state import Token

__all__ = ["MAX_FILES", "routes"]

PREFIXES = ("/gateway/log-service", "/log-service")
MAX_FILES = 500
LINK_TTL_MS = 3_600_000
_SIMPLIFIED = re.compile(
    r"^(?P<account>[^/:]+)/pipeline/(?P<pipeline>[^/]+)/(?P<seq>\d+)/-(?P<execution>[^/]+)(?P<rest>/.*)?$"
)
_STANDARD = re.compile(
    r"orgId:(?P<org>[^/]+)/projectId:(?P<project>[^/]+)/pipelineId:(?P<pipeline>[^/]+)/runSequence:(?P<seq>\d+)"
    r"(?:/level0:pipeline/level1:stages/level2:(?P<stage>[^/]+)"
    r"(?:/level3:spec/level4:execution/level5:steps/level6:(?P<step>[^/]+))?)?"
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The log-service endpoints under both prefixes, and the pre-signed zip download."""
    found: list[BaseRoute] = []
    for prefix in PREFIXES:
        found += [
            route(ctx, f"{prefix}/token", "GET", token),
            route(ctx, f"{prefix}/blob", "GET", blob),
            route(ctx, f"{prefix}/blob/download", "POST", download),
            route(ctx, f"{prefix}/blob/download", "GET", download),
            route(ctx, f"{prefix}/stream", "POST", stream),
        ]

    async def storage(request: Request) -> Response:
        return await download_zip(ctx, request)

    found.append(Route("/storage/harness-download/{job}/logs.zip", storage, methods=["GET"]))
    return found


def _account(request: Request) -> str:
    account = request.query_params.get("accountID")
    if not account:
        raise ApiError("INVALID_REQUEST", "no account ID in query params")
    return account


async def token(ctx: SandboxContext, request: Request) -> Response:
    """A log-service token, accepted afterwards as `X-Harness-Token`; only an API key may ask for one."""
    _account(request)
    if not request.headers.get("x-api-key"):
        raise ApiError("INVALID_REQUEST", "token in request not authorized for receiving tokens")
    value = secrets.token_urlsafe(32)
    ctx.state.add_token(Token(value, "log-service", "log"))
    return PlainTextResponse(value)


_LEVELS = {"INFO", "WARN", "ERROR", "DEBUG"}
_MAX_LINE = 64 * 1024


async def stream(ctx: SandboxContext, request: Request) -> Response:
    """Lines a running step writes to its key, as a JSON array of `{level, out, time}`: they are appended to the
    key's live log, which `blob` serves while the step still runs."""
    _account(request)
    key = request.query_params.get("key")
    if not key:
        raise ApiError("INVALID_REQUEST", "no key exists in the URL")
    try:
        lines = json.loads(await request.body())
    except ValueError:
        raise ApiError("INVALID_REQUEST", "the body must be a JSON array of log lines") from None
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise ApiError("INVALID_REQUEST", "the body must be a JSON array of {level, out, time} objects")
    rows = [
        (
            str(line.get("level") or "INFO").upper() if str(line.get("level") or "").upper() in _LEVELS else "INFO",
            str(line.get("time") or ""),
            str(line.get("out") or "")[:_MAX_LINE],
        )
        for line in lines
    ]
    if rows:
        ctx.state.append_log_lines(_standard_key(ctx, key), rows)
    return PlainTextResponse("", status_code=200)


async def blob(ctx: SandboxContext, request: Request) -> Response:
    """One key's log as NDJSON lines `{level, pos, out, time, args}`, streamed."""
    _account(request)
    key = request.query_params.get("key")
    if not key:
        raise ApiError("INVALID_REQUEST", "no key exists in the URL")
    body = _body(ctx, _standard_key(ctx, key))
    if body is None:
        raise ApiError("RESOURCE_NOT_FOUND", f"cannot download the blob: no log exists for key {key}")
    return StreamingResponse(body, media_type="text/plain; charset=utf-8")


def _standard_key(ctx: SandboxContext, key: str) -> str:
    """The stored (standard) form of a simplified key; other keys unchanged."""
    found = _SIMPLIFIED.match(key)
    record = ctx.state.get_execution(found["execution"]) if found else None
    if found is None or record is None:
        return key
    base = log_keys.run_prefix(found["account"], record.org, record.project, record.pipeline_id, record.run_sequence)
    rest = [part for part in (found["rest"] or "").split("/") if part]
    if not rest:
        return f"{base}/level0:pipeline"
    stage = f"{base}/level0:pipeline/level1:stages/level2:{rest[0]}"
    return f"{stage}/level3:spec/level4:execution/level5:steps/level6:{'/'.join(rest[1:])}" if rest[1:] else stage


def _body(ctx: SandboxContext, key: str) -> Iterator[bytes] | None:
    """A key's log as JSON-lines bytes: its stored live lines, else its step's recipe rendered; None if neither."""
    if ctx.state.has_log_lines(key):
        return ctx.state.stored_log_chunks(key)
    recipe = ctx.state.get_log_recipe(log_keys.base_key_of(key))
    if recipe is None:
        return None
    # Imported here: the scenario package is large and only generated history needs it.
    from harness_connector.sandbox.scenario.logs import render_log

    start = _start_of(ctx, key)
    rendered = render_log(recipe, start_ts_ms=ctx.clock() if start is None else start)
    return encode_entries((pos, level, time, out) for pos, (level, time, out) in enumerate(rendered))


def _start_of(ctx: SandboxContext, key: str) -> int | None:
    """When the step (or stage, or run) behind a standard key started."""
    found = _STANDARD.search(key)
    if found is None:
        return None
    rows = ctx.state.query(
        "SELECT doc FROM executions WHERE org = ? AND project = ? AND pipeline = ? AND run_sequence = ?",
        (found["org"], found["project"], found["pipeline"], int(found["seq"])),
    )
    if not rows:
        return None
    record = ExecutionRecord.model_validate_json(rows[0][0])
    for stage in record.stages:
        if stage.identifier == found["stage"]:
            step_id = log_keys.base_key_of(found["step"] or "")
            step = next((s for s in stage.steps if s.identifier == step_id), None)
            return (step.start_ts if step else None) or stage.start_ts or record.start_ts
    return record.start_ts


# ---- zip downloads ---------------------------------------------------------------------------------------


def _secret(ctx: SandboxContext) -> bytes:
    value = ctx.state.get_meta("log-download-secret")
    if value is None:
        value = secrets.token_hex(32)
        ctx.state.set_meta("log-download-secret", value)
    return value.encode()


def _signature(ctx: SandboxContext, job: str, amz_date: str, expires: str) -> str:
    return hmac.new(_secret(ctx), f"{job}\n{amz_date}\n{expires}".encode(), hashlib.sha256).hexdigest()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def download(ctx: SandboxContext, request: Request) -> Response:
    """Ask for a zip of every log under `prefix`: queued, then in_progress, then success with the link."""
    _account(request)
    prefix = request.query_params.get("prefix")
    if not prefix:
        raise ApiError("RESOURCE_NOT_FOUND", "parameter prefix is required.")
    now = ctx.clock()
    saved = ctx.state.get_meta(f"log-download:{prefix}")
    job: dict[str, Any] = json.loads(saved) if saved else {}
    if not job or job["expires"] <= now:
        standard = _standard_key(ctx, prefix)
        files = len(ctx.state.log_keys_with_prefix(standard))
        job = {"id": secrets.token_hex(16), "prefix": standard, "polls": 0, "created": now, "files": files}
        job["expires"] = now + LINK_TTL_MS
    else:
        job["polls"] += 1
    status = ("queued", "in_progress", "success")[min(job["polls"], 2)]
    answer: dict[str, Any] = {"link": _link(ctx, job), "status": status, "expires": _iso(job["expires"])}
    if job["files"] > MAX_FILES and job["polls"] >= 1:
        # The builder finds out when it lists the keys; like Harness, the failed job is forgotten once reported.
        ctx.state.set_meta(f"log-download:{prefix}", "")
        return JSONResponse(
            {**answer, "link": "", "status": "error", "message": "Prefix Key Exceeds Maximum Download Limit"}
        )
    ctx.state.set_meta(f"log-download:{prefix}", json.dumps(job))
    ctx.state.set_meta(f"log-download-job:{job['id']}", json.dumps(job))
    return JSONResponse(answer)


def _link(ctx: SandboxContext, job: dict[str, Any]) -> str:
    amz_date = datetime.fromtimestamp(job["created"] / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    expires = str(LINK_TTL_MS // 1000)
    signature = _signature(ctx, job["id"], amz_date, expires)
    return (
        f"{ctx.base_url}/storage/harness-download/{job['id']}/logs.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Date={amz_date}&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
    )


def _storage_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")


async def download_zip(ctx: SandboxContext, request: Request) -> Response:
    """The zip behind a pre-signed link: one NDJSON file per log key, named by its key (nested folders)."""
    job_id, query = request.path_params["job"], request.query_params
    amz_date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
    expected = _signature(ctx, job_id, amz_date, expires)
    if not hmac.compare_digest(expected, query.get("X-Amz-Signature", "")):
        return _storage_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        deadline_ms = int(signed_at.timestamp() * 1000) + int(expires) * 1000
    except ValueError:
        return _storage_error(403, "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed")
    if deadline_ms < ctx.clock():
        return _storage_error(403, "AccessDenied", "Request has expired")
    saved = ctx.state.get_meta(f"log-download-job:{job_id}")
    job = json.loads(saved) if saved else None
    if job is None or job["polls"] < 2:
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    spool = await anyio.to_thread.run_sync(_build_zip, ctx, str(job["prefix"]))
    size = spool.seek(0, 2)
    spool.seek(0)
    headers = {"Content-Length": str(size), "Content-Disposition": 'attachment; filename="logs.zip"'}
    return StreamingResponse(_read(spool), media_type="application/zip", headers=headers)


def _build_zip(ctx: SandboxContext, prefix: str) -> IO[bytes]:
    # Spooled: small zips stay in memory, large ones move to a temporary file instead of growing the heap.
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by _read
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in ctx.state.log_keys_with_prefix(prefix)[:MAX_FILES]:
            body = _body(ctx, key)
            if body is None:
                continue
            with archive.open(key, "w") as entry:
                for chunk in body:
                    entry.write(chunk)
    return spool


def _read(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(64 * 1024):
            yield chunk
    finally:
        spool.close()
