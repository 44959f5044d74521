from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from harness_connector.config import Settings
from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.errors import UsageError
from harness_connector.sandbox import create_app
from harness_connector.sandbox.log_keys import step_log_key
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.services.connection import Connection, connect
from harness_connector.services.diagnose import diagnose_execution
from tests.services.sandbox_account import SandboxAccount

pytestmark = pytest.mark.anyio

MINUTE = 60_000
Json = dict[str, Any]


def _step(identifier: str, status: S, start: int, **fields: Any) -> StepRun:
    end = None if not status.is_terminal else start + MINUTE
    return StepRun(identifier=identifier, name=identifier.title(), step_type=fields.pop("step_type", "Run"),
                   status=status, start_ts=start, end_ts=end, **fields)  # fmt: skip


def _stage(identifier: str, status: S, start: int | None, steps: list[StepRun], **fields: Any) -> StageRun:
    end = start + 5 * MINUTE if start is not None and status.is_terminal else None
    return StageRun(identifier=identifier, name=identifier.title(), stage_type=fields.pop("stage_type", "CI"),
                    module="ci", status=status, start_ts=start, end_ts=end, steps=steps, **fields)  # fmt: skip


def _record(acc: SandboxAccount, eid: str, stages: list[StageRun], **fields: Any) -> ExecutionRecord:
    start = acc.clock[0] - 30 * MINUTE
    values: Json = {"pipeline_id": "build_api", "pipeline_name": "Build API", "run_sequence": 7, "status": S.FAILED,
                    "start_ts": start, "created_at": start, "end_ts": start + 20 * MINUTE, "branch": "main",
                    "commit_sha": "abc123", **fields}  # fmt: skip
    record = ExecutionRecord(plan_execution_id=eid, org="default", project="payments", stages=stages, **values)
    acc.ctx.state.put_execution(record)
    return record


def _key(acc: SandboxAccount, record: ExecutionRecord, stage: str, step: str) -> str:
    account = acc.keys.account_id
    return step_log_key(account, "default", "payments", record.pipeline_id, record.run_sequence, stage, step)


def _log(acc: SandboxAccount, key: str, texts: list[str]) -> None:
    acc.ctx.state.append_log_lines(key, [("INFO", "2026-09-21T10:00:00Z", text) for text in texts])


def _parallel_failure(acc: SandboxAccount, eid: str = "ExecParallel0000000001") -> ExecutionRecord:
    # The stage listed first (and so first in the graph's map) failed LATER than the second one.
    t = acc.clock[0] - 30 * MINUTE
    lint = _stage("lint", S.FAILED, t, [_step("eslint", S.FAILED, t + 4 * MINUTE,
                  failure_message="eslint found 3 problems", failure_types=["APPLICATION_ERROR"])],
                  parallel_group=1, failure_message="eslint found 3 problems")  # fmt: skip
    unit = _stage("unit", S.FAILED, t, [
        _step("compile", S.FAILED, t + MINUTE, failure_message="Command exited with code 1",
              failure_types=["APPLICATION_ERROR"], delegate="k8s-main", retries=2),
        _step("report", S.SKIPPED, t + 2 * MINUTE),
    ], parallel_group=1, failure_message="Command exited with code 1")  # fmt: skip
    deploy = _stage("deploy", S.NOT_STARTED, None, [], stage_type="Deployment")
    return _record(acc, eid, [lint, unit, deploy])


async def test_the_earliest_failure_ranks_first_whatever_the_graph_order_with_downstream_after(
    sandbox_account: SandboxAccount,
) -> None:
    record = _parallel_failure(sandbox_account)
    _log(sandbox_account, _key(sandbox_account, record, "unit", "compile"), ["javac", "error: cannot find symbol"])
    result = await diagnose_execution(sandbox_account.conn, execution_id=record.plan_execution_id)
    ranked = [(f.rank, f.stage, f.step, f.role) for f in result.failures]
    assert ranked[:2] == [(1, "unit", "compile", "root_cause"), (2, "lint", "eslint", "root_cause")]
    assert ranked[2:] == [(3, "unit", "report", "downstream"), (4, "deploy", None, "downstream")]
    root = result.failures[0]
    assert root.message == "Command exited with code 1"
    assert root.failure_types == ["APPLICATION_ERROR"]
    assert root.delegate == "k8s-main"
    assert root.retries == 2
    assert "first failure" in root.reason
    assert result.failures[2].reason == "skipped because step 'compile' failed earlier in stage 'unit'"
    assert result.failures[3].reason == "did not run because stage 'unit' failed"
    assert result.execution.branch == "main"
    assert result.execution.commit == "abc123"
    assert [s.id for s in result.stages] == ["lint", "unit", "deploy"]
    assert result.link is not None and result.link.endswith(f"/executions/{record.plan_execution_id}/pipeline")
    assert result.log_excerpts[0].step == "compile"
    assert any("retries" in hint for hint in result.next_steps)


async def test_a_huge_log_yields_error_lines_with_their_numbers_within_the_token_budget(
    sandbox_account: SandboxAccount,
) -> None:
    record = _parallel_failure(sandbox_account, "ExecHugeLog00000000001")
    texts = [f"[{i:06d}] compiling module_{i % 977}.java" for i in range(200_000)]
    texts[41] = "[ERROR] /src/Payment.java:[88,17] cannot find symbol: class Ledger"
    texts[150_123] = "FATAL: database connection refused by 10.0.4.7:5432"
    texts[-1] = "Command exited with code 1"
    _log(sandbox_account, _key(sandbox_account, record, "unit", "compile"), texts)
    result = await diagnose_execution(sandbox_account.conn, execution_id=record.plan_execution_id, token_budget=600)
    assert result.tokens_used <= 600
    excerpt = result.log_excerpts[0]
    assert (excerpt.stage, excerpt.step, excerpt.total_lines, excerpt.truncated) == ("unit", "compile", 200_000, True)
    shown = {line.n: line.text for line in excerpt.lines}
    assert shown[42].startswith("[ERROR] /src/Payment.java")
    assert shown[150_124].startswith("FATAL: database connection refused")
    assert shown[200_000] == "Command exited with code 1"
    assert excerpt.error_lines == 3


async def test_a_running_execution_is_refused_with_advice_to_wait(sandbox_account: SandboxAccount) -> None:
    t = sandbox_account.clock[0] - MINUTE
    approval = _step("approve", S.APPROVAL_WAITING, t, step_type="HarnessApproval", timeout="1d")
    record = _record(sandbox_account, "ExecRunning00000000001", [_stage("gate", S.APPROVAL_WAITING, t, [approval],
                     stage_type="Approval")], status=S.APPROVAL_WAITING, end_ts=None)  # fmt: skip
    with pytest.raises(UsageError) as caught:
        await diagnose_execution(sandbox_account.conn, execution_id=record.plan_execution_id)
    assert "wait" in str(caught.value)
    assert "harness_get" in str(caught.value)


async def test_a_pipeline_alone_means_its_latest_failed_execution(sandbox_account: SandboxAccount) -> None:
    older = _parallel_failure(sandbox_account, "ExecOlderFailure000001")
    t = sandbox_account.clock[0] - 10 * MINUTE
    _record(sandbox_account, "ExecNewerSuccess000001", [_stage("unit", S.SUCCESS, t, [])], status=S.SUCCESS,
            run_sequence=8, start_ts=t, created_at=t)  # fmt: skip
    url = (
        f"https://app.harness.io/ng/account/{sandbox_account.keys.account_id}/all/orgs/default/projects/payments"
        "/pipelines/build_api/pipeline-studio"
    )
    result = await diagnose_execution(sandbox_account.conn, url=url)
    assert result.execution.id == older.plan_execution_id
    with pytest.raises(UsageError):
        await diagnose_execution(sandbox_account.conn, pipeline_id="never_ran")


def _patch_detail(app: Any, patches: dict[str, Callable[[Json], None]]) -> Any:
    """Wrap the sandbox app so the detail of some executions gets edited before it is sent."""

    async def wrapped(scope: Json, receive: Any, send: Any) -> None:
        found = [p for eid, p in patches.items() if str(scope.get("path", "")).endswith(f"/execution/v2/{eid}")]
        if scope["type"] != "http" or not found:
            await app(scope, receive, send)
            return
        start: Json = {}
        body = bytearray()

        async def capture(message: Json) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            payload = json.loads(body)
            found[0](payload["data"])
            data = json.dumps(payload).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
            await send({"type": "http.response.body", "body": data})

        await app(scope, receive, capture)

    return wrapped


def _link_child(stage: str, child_id: str) -> Callable[[Json], None]:
    def patch(detail: Json) -> None:
        for node in detail["executionGraph"]["nodeMap"].values():
            if node["baseFqn"] == f"pipeline.stages.{stage}":
                details = {"planExecutionId": child_id, "orgId": "default", "projectId": "payments"}
                node["stepDetails"] = {"childPipelineExecutionDetails": details}

    return patch


@pytest.fixture
async def chained(sandbox_account: SandboxAccount) -> AsyncIterator[tuple[SandboxAccount, Connection]]:
    acc = sandbox_account
    t = acc.clock[0] - 30 * MINUTE
    parent = _record(acc, "ExecParentRun000000001", [
        _stage("build", S.SUCCESS, t, [_step("compile", S.SUCCESS, t)]),
        _stage("release", S.FAILED, t + 5 * MINUTE, [], stage_type="Pipeline",
               failure_message="Pipeline stage failed: child pipeline execution failed"),
    ])  # fmt: skip
    child = _record(acc, "ExecChildRun0000000001", [
        _stage("deploy", S.FAILED, t + 6 * MINUTE, [_step("helm", S.FAILED, t + 7 * MINUTE,
               failure_message="UPGRADE FAILED: timed out waiting for the condition", failure_types=["TIMEOUT_ERROR"],
               step_type="ShellScript")], stage_type="Custom"),
    ], pipeline_id="release_app", pipeline_name="Release App", run_sequence=3)  # fmt: skip
    _log(acc, _key(acc, child, "deploy", "helm"), ["helm upgrade app", "Error: UPGRADE FAILED: timed out"])
    # The child points back at its parent: diagnosis must not loop.
    patches = {parent.plan_execution_id: _link_child("release", child.plan_execution_id),
               child.plan_execution_id: _link_child("deploy", parent.plan_execution_id)}  # fmt: skip
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    app = _patch_detail(create_app(acc.ctx), patches)
    conn = connect(settings, asgi_app=app, base_url="http://127.0.0.1", api_key=acc.keys.admin_pat,
                   org="default", project="payments")  # fmt: skip
    try:
        yield acc, conn
    finally:
        await conn.aclose()


async def test_a_failed_chained_pipeline_stage_is_followed_into_the_child_run(
    chained: tuple[SandboxAccount, Connection],
) -> None:
    _, conn = chained
    result = await diagnose_execution(conn, execution_id="ExecParentRun000000001")
    root = result.failures[0]
    assert (root.stage, root.step, root.role) == ("release", None, "root_cause")
    assert root.child_execution_id == "ExecChildRun0000000001"
    assert "chained pipeline 'release_app'" in root.reason
    assert "step 'helm' of stage 'deploy'" in root.reason
    (child,) = result.child_executions
    assert child.depth == 1
    assert child.parent_stage == "release"
    assert child.pipeline is not None and child.pipeline.id == "release_app"
    assert [(f.stage, f.step, f.role) for f in child.failures][:1] == [("deploy", "helm", "root_cause")]
    assert child.failures[0].failure_types == ["TIMEOUT_ERROR"]
    excerpt = result.log_excerpts[0]
    assert (excerpt.execution_id, excerpt.step) == ("ExecChildRun0000000001", "helm")
    assert any(line.text.startswith("Error: UPGRADE FAILED") for line in excerpt.lines)
    assert any("ran out of time" in hint for hint in result.next_steps)


async def test_bad_limits_are_refused(sandbox_account: SandboxAccount) -> None:
    with pytest.raises(UsageError):
        await diagnose_execution(sandbox_account.conn, execution_id="x", max_failed_steps=0)
    with pytest.raises(UsageError):
        await diagnose_execution(sandbox_account.conn)
