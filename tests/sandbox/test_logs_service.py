from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest

import harness_connector.sandbox.routes as sandbox_routes
from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.errors import HarnessInvalidRequestError, HarnessNotFoundError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.logs import LogService, iter_zip_logs
from harness_connector.sandbox import SandboxState, log_keys
from harness_connector.sandbox.model import ExecutionRecord, LogRecipe, StageRun, StepRun
from harness_connector.sandbox.routes import logs

ORG, PROJECT, PIPELINE = "default", "payments", "api"
T0 = 1_790_000_000_000
EXECUTION = "Wq3C1bKZTm2b4x7Gk0yJ1A"


@pytest.fixture(autouse=True)
def _serve_log_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until routes.ALL lists the log service, the sandbox built for these tests adds it.
    if logs.routes not in sandbox_routes.ALL:
        monkeypatch.setattr(sandbox_routes, "ALL", [logs.routes, *sandbox_routes.ALL])


class NoSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def connect(server: Any) -> HarnessClient:
    return HarnessClient(server.base_url, api_key=server.keys.admin_pat, max_retries=0)


def key(server: Any, stage: str, step: str, run: int = 7) -> str:
    return log_keys.step_log_key(server.keys.account_id, ORG, PROJECT, PIPELINE, run, stage, step)


def add_run(server: Any) -> ExecutionRecord:
    steps = [
        StepRun(identifier=s, name=s, step_type="Run", status=S.SUCCESS, start_ts=T0 + 1_000, end_ts=T0 + 9_000)
        for s in ("compile", "test")
    ]
    stage = StageRun(
        identifier="build",
        name="Build",
        stage_type="CI",
        module="ci",
        status=S.SUCCESS,
        start_ts=T0,
        end_ts=T0 + 9_000,
        steps=steps,
    )
    record = ExecutionRecord(
        plan_execution_id=EXECUTION,
        org=ORG,
        project=PROJECT,
        pipeline_id=PIPELINE,
        pipeline_name="API",
        run_sequence=7,
        status=S.SUCCESS,
        start_ts=T0,
        end_ts=T0 + 9_000,
        created_at=T0,
        stages=[stage],
    )
    server.ctx.state.put_execution(record)
    return record


def raw(server: Any, method: str, path: str, params: dict[str, str] | None = None, **kw: Any) -> httpx2.Response:
    query = {"accountID": server.keys.account_id, **(params or {})}
    headers = kw.pop("headers", {"x-api-key": server.keys.admin_pat})
    return httpx2.request(method, server.base_url + path, params=query, headers=headers, **kw)


def test_a_log_token_is_plain_text_and_authenticates_as_x_harness_token(sandbox_server: Any) -> None:
    sandbox_server.ctx.state.append_log_lines(key(sandbox_server, "build", "compile"), [("INFO", "t", "hi")])
    token = raw(sandbox_server, "GET", "/gateway/log-service/token")
    answer = raw(
        sandbox_server,
        "GET",
        "/log-service/blob",
        {"key": key(sandbox_server, "build", "compile")},
        headers={"X-Harness-Token": token.text},
    )
    without_key = raw(sandbox_server, "GET", "/log-service/token", headers={"X-Harness-Token": token.text})
    assert token.status_code == 200
    assert token.headers["content-type"].startswith("text/plain")
    assert answer.status_code == 200
    assert without_key.status_code == 400
    assert without_key.text == "token in request not authorized for receiving tokens"


def test_a_blob_streams_ndjson_lines_with_positions(sandbox_server: Any) -> None:
    step_key = key(sandbox_server, "build", "compile")
    sandbox_server.ctx.state.append_log_lines(
        step_key, [("INFO", "2026-09-21T14:13:20.035Z", "compiling"), ("ERROR", "2026-09-21T14:13:21.000Z", "boom")]
    )
    answer = raw(sandbox_server, "GET", "/gateway/log-service/blob", {"key": step_key})
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines == [
        {"level": "INFO", "pos": 0, "out": "compiling\n", "time": "2026-09-21T14:13:20.035Z", "args": {}},
        {"level": "ERROR", "pos": 1, "out": "boom\n", "time": "2026-09-21T14:13:21.000Z", "args": {}},
    ]


def test_a_long_live_log_appended_in_pieces_is_served_whole_in_order(sandbox_server: Any) -> None:
    step_key = key(sandbox_server, "build", "compile")
    state = sandbox_server.ctx.state
    state.append_log_lines(step_key, [("INFO", "t", f"line {n}") for n in range(45_000)])  # three stored chunks
    state.append_log_lines(step_key, [("ERROR", "t", 'caf\u00e9 "quoted" \\ tab\there'), ("INFO", "t", "done\n")])
    answer = raw(sandbox_server, "GET", "/gateway/log-service/blob", {"key": step_key})
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["pos"] for line in lines] == list(range(45_002))
    assert lines[44_999]["out"] == "line 44999\n"
    assert lines[-2]["out"] == 'caf\u00e9 "quoted" \\ tab\there\n'
    assert lines[-1] == {"level": "INFO", "pos": 45_001, "out": "done\n", "time": "t", "args": {}}
    assert len(state.query("SELECT 1 FROM log_chunks WHERE key = ?", (step_key,))) == 4


def test_live_lines_of_a_file_from_before_chunks_are_moved_into_chunks_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE log_lines (key TEXT NOT NULL, pos INTEGER NOT NULL, level TEXT NOT NULL, "
            "time TEXT NOT NULL, out TEXT NOT NULL, PRIMARY KEY (key, pos))"
        )
        db.executemany(
            "INSERT INTO log_lines VALUES (?, ?, ?, ?, ?)",
            [("a", 1, "INFO", "t", "second"), ("a", 0, "INFO", "t", "first"), ("b", 0, "WARN", "t", "other")],
        )
    state = SandboxState(path)
    try:
        served = b"".join(state.stored_log_chunks("a")).decode().splitlines()
        assert [json.loads(line)["out"] for line in served] == ["first\n", "second\n"]
        assert state.has_log_lines("b")
        assert not state.query("SELECT 1 FROM sqlite_master WHERE name = 'log_lines'")
    finally:
        state.close()


@pytest.mark.anyio
async def test_the_project_client_reads_a_blob_and_simplified_keys_name_the_same_log(sandbox_server: Any) -> None:
    add_run(sandbox_server)
    sandbox_server.ctx.state.append_log_lines(key(sandbox_server, "build", "test"), [("WARN", "t", "flaky")])
    simplified = f"{sandbox_server.keys.account_id}/pipeline/{PIPELINE}/7/-{EXECUTION}/build/test"
    async with connect(sandbox_server) as client:
        service = LogService(client)
        standard = [
            (line.level, line.text) async for line in service.stream_step_log(key(sandbox_server, "build", "test"))
        ]
        via_simplified = [line.text async for line in service.stream_step_log(simplified)]
    assert standard == [("WARN", "flaky")]
    assert via_simplified == ["flaky"]


@pytest.mark.anyio
async def test_an_unknown_key_is_a_plain_text_404(sandbox_server: Any) -> None:
    answer = raw(sandbox_server, "GET", "/gateway/log-service/blob", {"key": "accountId:x/nothing"})
    async with connect(sandbox_server) as client:
        with pytest.raises(HarnessNotFoundError) as raised:
            _ = [line async for line in LogService(client).stream_step_log("accountId:x/nothing")]
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/plain")
    assert "no log exists for key accountId:x/nothing" in answer.text
    assert raised.value.status_code == 404


def test_log_service_errors_are_plain_text(sandbox_server: Any) -> None:
    no_account = httpx2.get(
        f"{sandbox_server.base_url}/gateway/log-service/blob",
        params={"key": "k"},
        headers={"x-api-key": sandbox_server.keys.admin_pat},
    )
    no_prefix = raw(sandbox_server, "POST", "/gateway/log-service/blob/download")
    no_key = raw(sandbox_server, "GET", "/gateway/log-service/blob")
    assert (no_account.status_code, no_account.text) == (400, "no account ID in query params")
    assert (no_prefix.status_code, no_prefix.text) == (404, "parameter prefix is required.")
    assert (no_key.status_code, no_key.text) == (400, "no key exists in the URL")


def test_a_recipe_log_is_rendered_from_the_step_start_when_no_live_lines_exist(sandbox_server: Any) -> None:
    add_run(sandbox_server)
    step_key = key(sandbox_server, "build", "compile")
    sandbox_server.ctx.state.put_log_recipes([(step_key, LogRecipe(family="init", seed=3, lines=12))])
    unit = raw(sandbox_server, "GET", "/gateway/log-service/blob", {"key": step_key + "-commandUnit:Execute"})
    lines = [json.loads(line) for line in unit.text.splitlines()]
    assert len(lines) >= 5
    assert [line["pos"] for line in lines] == list(range(len(lines)))
    assert lines[0]["time"].startswith("2026-09-21T14:13:21")  # the step started at T0 + 1s


def test_zip_download_polls_queued_then_in_progress_then_success(sandbox_server: Any) -> None:
    prefix = log_keys.run_prefix(sandbox_server.keys.account_id, ORG, PROJECT, PIPELINE, 7)
    answers = [
        raw(sandbox_server, "POST", "/gateway/log-service/blob/download", {"prefix": prefix}).json() for _ in range(4)
    ]
    assert [a["status"] for a in answers] == ["queued", "in_progress", "success", "success"]
    assert answers[0]["link"].startswith(f"{sandbox_server.base_url}/storage/harness-download/")
    assert "X-Amz-Signature=" in answers[0]["link"]
    assert answers[0]["expires"].endswith("Z")


@pytest.mark.anyio
async def test_the_project_client_downloads_a_zip_with_one_ndjson_file_per_key(
    sandbox_server: Any, tmp_path: Path
) -> None:
    state = sandbox_server.ctx.state
    state.append_log_lines(key(sandbox_server, "build", "compile"), [("INFO", "t", "compiled")])
    state.append_log_lines(key(sandbox_server, "build", "test"), [("INFO", "t", "tested"), ("INFO", "t", "done")])
    state.append_log_lines(key(sandbox_server, "build", "test", run=8), [("INFO", "t", "another run")])
    prefix = log_keys.run_prefix(sandbox_server.keys.account_id, ORG, PROJECT, PIPELINE, 7) + "/level0:pipeline"
    sleep = NoSleep()
    async with connect(sandbox_server) as client:
        path = await LogService(client, sleep=sleep).download_prefix(prefix, dest_dir=tmp_path, poll_interval_s=3)
    entries = {name: [line.text for line in lines] for name, lines in iter_zip_logs(path)}
    assert sleep.calls == [3, 3]
    assert entries == {
        key(sandbox_server, "build", "compile"): ["compiled"],
        key(sandbox_server, "build", "test"): ["tested", "done"],
    }


def test_download_links_are_presigned_and_only_served_once_ready_and_unexpired(sandbox_server: Any) -> None:
    sandbox_server.ctx.state.append_log_lines(key(sandbox_server, "build", "compile"), [("INFO", "t", "x")])
    prefix = key(sandbox_server, "build", "compile")
    link = raw(sandbox_server, "POST", "/gateway/log-service/blob/download", {"prefix": prefix}).json()["link"]
    early = httpx2.get(link)
    for _ in range(2):
        raw(sandbox_server, "POST", "/gateway/log-service/blob/download", {"prefix": prefix})
    ready = httpx2.get(link)
    tampered = httpx2.get(link[:-4] + "0000")
    sandbox_server.ctx.clock.now_ms += 2 * 3_600_000
    expired = httpx2.get(link)
    assert (early.status_code, "NoSuchKey" in early.text) == (404, True)
    assert (ready.status_code, ready.headers["content-type"]) == (200, "application/zip")
    assert ready.content[:2] == b"PK"
    assert (tampered.status_code, "SignatureDoesNotMatch" in tampered.text) == (403, True)
    assert (expired.status_code, "Request has expired" in expired.text) == (403, True)


@pytest.mark.anyio
async def test_a_prefix_over_500_files_fails_with_the_download_limit_message(
    sandbox_server: Any, tmp_path: Path
) -> None:
    state = sandbox_server.ctx.state
    for index in range(logs.MAX_FILES + 1):
        state.append_log_lines(key(sandbox_server, "build", f"step{index}"), [("INFO", "t", "x")])
    prefix = log_keys.stage_log_key(sandbox_server.keys.account_id, ORG, PROJECT, PIPELINE, 7, "build")
    first = raw(sandbox_server, "POST", "/gateway/log-service/blob/download", {"prefix": prefix}).json()
    second = raw(sandbox_server, "POST", "/gateway/log-service/blob/download", {"prefix": prefix}).json()
    async with connect(sandbox_server) as client:
        with pytest.raises(HarnessInvalidRequestError) as raised:
            await LogService(client, sleep=NoSleep()).download_prefix(prefix, dest_dir=tmp_path)
    assert first["status"] == "queued"
    assert (second["status"], second["message"]) == ("error", "Prefix Key Exceeds Maximum Download Limit")
    assert "Prefix Key Exceeds Maximum Download Limit" in raised.value.message
