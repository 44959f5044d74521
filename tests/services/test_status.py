from __future__ import annotations

import itertools

import pytest

from harness_connector.domain.status import ExecutionStatus
from harness_connector.errors import UsageError
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.services.status import MAX_REQUESTS, StatusReport, WindowStats, project_status, verdict_for
from tests.services.sandbox_account import SandboxAccount

S = ExecutionStatus
NOW = 1_790_000_000_000
HOUR = 3_600_000
_ids = itertools.count(1)


def _record(
    pipeline: str, status: ExecutionStatus, hours_ago: float, *, stages: list[StageRun] | None = None
) -> ExecutionRecord:
    start = NOW - int(hours_ago * HOUR)
    n = next(_ids)
    return ExecutionRecord(
        plan_execution_id=f"exec{n:05d}",
        org="default",
        project="payments",
        pipeline_id=pipeline,
        pipeline_name=pipeline.replace("_", " ").title(),
        run_sequence=n,
        status=status,
        start_ts=start,
        end_ts=start + 60_000 if status.is_terminal else None,
        created_at=start,
        failure_message="exit status 1" if status.is_failure else None,
        stages=stages or [],
    )


def _seed(account: SandboxAccount, *records: ExecutionRecord) -> None:
    account.clock[0] = NOW
    account.ctx.state.put_executions(list(records))


def _waiting(pipeline: str, status: ExecutionStatus, hours_ago: float, step_type: str) -> ExecutionRecord:
    """An unfinished run whose stage holds it in `status` (the sandbox moves runs along its clock on reads)."""
    start = NOW - int(hours_ago * HOUR)
    step = StepRun(identifier="s", name="S", step_type=step_type, status=status, start_ts=start, timeout="7d")
    stage = StageRun(
        identifier="gate", name="Gate", stage_type="Approval", module="pms", status=status, start_ts=start, steps=[step]
    )
    return _record(pipeline, status, hours_ago, stages=[stage])


async def _status(account: SandboxAccount, **kwargs: object) -> StatusReport:
    return await project_status(account.conn, now_ms=NOW, **kwargs)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_an_old_failure_outside_the_window_does_not_degrade_the_project(sandbox_account: SandboxAccount) -> None:
    _seed(
        sandbox_account,
        *(_record("build", S.SUCCESS, h) for h in (1, 5, 10, 30, 40)),
        _record("build", S.FAILED, 24 * 3),
    )
    report = await _status(sandbox_account)
    assert report.window.failed == 0
    assert report.window.succeeded == 3
    assert report.previous_window.succeeded == 2
    assert report.verdict.health == "healthy"
    assert report.failed_executions == []
    assert report.top_failing_pipelines == []


@pytest.mark.anyio
async def test_a_recent_failure_after_a_clean_previous_window_degrades_the_project(
    sandbox_account: SandboxAccount,
) -> None:
    _seed(
        sandbox_account,
        *(_record("build", S.SUCCESS, h) for h in (1, 2, 3, 4, 25, 26, 27)),
        _record("deploy", S.FAILED, 0.5),
    )
    report = await _status(sandbox_account)
    assert (report.window.succeeded, report.window.failed) == (4, 1)
    assert report.window.success_rate == 0.8
    assert report.previous_window.success_rate == 1.0
    assert report.rate_change_points == -20.0
    assert report.verdict.health == "degraded"
    assert "10+ points below the window before" in report.verdict.rule
    assert report.failed_executions[0].pipeline_id == "deploy"
    assert report.failed_executions[0].failure == "exit status 1"


@pytest.mark.anyio
async def test_the_previous_window_is_compared_with_the_counts_behind_each_rate(
    sandbox_account: SandboxAccount,
) -> None:
    _seed(
        sandbox_account,
        *(_record("build", S.SUCCESS, h) for h in (1, 2, 3)),
        _record("build", S.ABORTED, 4),
        *(_record("build", S.SUCCESS, h) for h in (25, 26)),
        *(_record("build", S.FAILED, h) for h in (27, 28)),
        _record("build", S.SUCCESS, 50),  # before both windows: in neither
    )
    report = await _status(sandbox_account)
    assert (report.window.executions, report.window.succeeded, report.window.failed, report.window.other) == (
        4,
        3,
        0,
        1,
    )
    assert report.window.success_rate == 1.0
    assert (report.previous_window.executions, report.previous_window.succeeded) == (4, 2)
    assert report.previous_window.success_rate == 0.5
    assert report.rate_change_points == 50.0
    assert report.window.complete and report.previous_window.complete
    assert report.verdict.health == "healthy"


@pytest.mark.anyio
async def test_running_counts_every_unfinished_status_including_approvals_and_queues(
    sandbox_account: SandboxAccount,
) -> None:
    _seed(
        sandbox_account,
        _waiting("release", S.APPROVAL_WAITING, 30, "HarnessApproval"),  # started before the window, still waiting
        _waiting("build", S.QUEUED, 0.2, "Run"),
        _record("build", S.SUCCESS, 1),
    )
    report = await _status(sandbox_account)
    assert report.running_count == 2
    assert {row.status for row in report.running_executions} == {"ApprovalWaiting", "Queued"}
    assert report.window.running == 1
    assert all(row.link and "/executions/" in row.link for row in report.running_executions)


@pytest.mark.anyio
async def test_top_failing_pipelines_rank_by_failures_then_failure_rate_then_latest_failure(
    sandbox_account: SandboxAccount,
) -> None:
    _seed(
        sandbox_account,
        _record("api", S.FAILED, 1),
        _record("api", S.FAILED, 2),
        _record("api", S.SUCCESS, 3),
        _record("api", S.SUCCESS, 4),
        _record("web", S.FAILED, 5),
        _record("web", S.ERRORED, 6),
        _record("docs", S.FAILED, 7),
        _record("jobs", S.EXPIRED, 0.5),
        _record("lint", S.SUCCESS, 2),
    )
    report = await _status(sandbox_account)
    top = report.top_failing_pipelines
    assert [(p.pipeline_id, p.failures, p.runs) for p in top] == [
        ("web", 2, 2),
        ("api", 2, 4),
        ("jobs", 1, 1),
        ("docs", 1, 1),
    ]
    assert top[1].last_status == "Failed"
    assert top[1].last_failure_at == "2026-09-21T13:13:20Z"  # one hour before NOW
    assert top[1].link is not None and "/pipelines/api/executions/" in top[1].link
    assert report.verdict.health == "failing"  # 3 successes of 9 finished runs


@pytest.mark.anyio
async def test_the_verdict_text_names_the_rule_that_gave_it(sandbox_account: SandboxAccount) -> None:
    _seed(sandbox_account, _record("build", S.FAILED, 1), _record("build", S.SUCCESS, 2), _record("x", S.FAILED, 3))
    report = await _status(sandbox_account)
    assert report.verdict.health == "failing"
    assert report.verdict.text.startswith("failing: 2 of 3 finished executions failed in the last 24h")
    assert "rule: failing = success rate under 50%" in report.verdict.text
    assert report.insights == []


@pytest.mark.anyio
async def test_a_quiet_project_is_idle_not_healthy(sandbox_account: SandboxAccount) -> None:
    _seed(sandbox_account, _record("build", S.FAILED, 48 + 5))
    report = await _status(sandbox_account)
    assert report.verdict.health == "idle"
    assert "no execution finished in the last 24h" in report.verdict.text


@pytest.mark.anyio
async def test_a_busy_project_is_read_within_the_request_cap_and_marked_incomplete(
    sandbox_account: SandboxAccount,
) -> None:
    in_window = (_record("build", S.SUCCESS, (i + 0.5) * 0.029) for i in range(800))
    before_it = (_record("build", S.SUCCESS, 24.5 + i * 0.05) for i in range(300))
    _seed(sandbox_account, *in_window, *before_it)
    client = sandbox_account.conn.client
    before = client.requests_made
    report = await _status(sandbox_account)
    assert client.requests_made - before == report.requests_made == MAX_REQUESTS
    assert report.window.executions == 800  # Harness's count, beyond what was read
    assert report.window.examined == 400
    assert not report.window.complete
    assert (report.previous_window.executions, report.previous_window.examined) == (300, 100)
    assert "latest 400 of 800" in report.verdict.text


@pytest.mark.anyio
async def test_a_quiet_project_costs_three_requests(sandbox_account: SandboxAccount) -> None:
    _seed(sandbox_account, _record("build", S.SUCCESS, 1))
    report = await _status(sandbox_account, window_hours=6)
    assert report.requests_made == 3
    assert report.window_hours == 6
    assert report.window.start == "2026-09-21T08:13:20Z"


@pytest.mark.anyio
async def test_bad_arguments_get_a_clear_error(sandbox_account: SandboxAccount) -> None:
    with pytest.raises(UsageError, match="limit"):
        await _status(sandbox_account, limit=0)
    with pytest.raises(UsageError, match="window_hours"):
        await _status(sandbox_account, window_hours=0)


def test_degraded_needs_a_failure_in_the_window_not_only_a_lower_rate() -> None:
    def window(succeeded: int, failed: int) -> WindowStats:
        rate = succeeded / (succeeded + failed) if succeeded + failed else None
        return WindowStats(
            start="a", end="b", executions=succeeded + failed, examined=succeeded + failed, complete=True,
            succeeded=succeeded, failed=failed, other=0, running=0, success_rate=rate,
        )  # fmt: skip

    assert verdict_for(window(19, 1), window(10, 0), 24).health == "healthy"  # 95%, down 5 points
    assert verdict_for(window(9, 1), window(10, 0), 24).health == "degraded"  # 90%, down exactly 10 points
    assert verdict_for(window(17, 3), window(10, 0), 24).health == "degraded"  # 85%, down 15 points
    assert verdict_for(window(7, 3), window(7, 3), 24).health == "degraded"  # 70%: under 80%
    assert verdict_for(window(5, 0), window(0, 5), 24).health == "healthy"
