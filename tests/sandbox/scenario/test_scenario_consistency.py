from __future__ import annotations

import re
from collections import defaultdict

from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.sandbox.log_keys import step_log_key
from harness_connector.sandbox.model import ExecutionRecord, StageRun
from harness_connector.sandbox.state import SandboxState

FAILING = (S.FAILED, S.EXPIRED, S.APPROVAL_REJECTED)
WAITING = (S.RUNNING, S.APPROVAL_WAITING)
URL_SAFE_22 = re.compile(r"^[A-Za-z0-9_-]{22}$")
SHA = re.compile(r"^[0-9a-f]{40}$")


def _expected_status(stages: list[StageRun]) -> S:
    statuses = {stage.status for stage in stages}
    for status in (*WAITING, *FAILING, S.ABORTED):
        if status in statuses:
            return status
    return S.SUCCESS


def test_each_execution_status_agrees_with_its_stages(records: list[ExecutionRecord]) -> None:
    for record in records:
        assert record.status == _expected_status(record.stages), record.plan_execution_id
        for stage in record.stages:
            ran = [s for s in stage.steps if s.status not in (S.SKIPPED, S.NOT_STARTED)]
            if stage.status == S.SUCCESS:
                assert all(s.status in (S.SUCCESS, S.SKIPPED) for s in stage.steps), record.plan_execution_id
            elif stage.status == S.NOT_STARTED:
                assert not ran, record.plan_execution_id
            else:
                assert ran and ran[-1].status == stage.status, record.plan_execution_id


def test_the_first_failing_step_fails_and_the_steps_after_it_never_start(records: list[ExecutionRecord]) -> None:
    for record in records:
        for stage in record.stages:
            statuses = [s.status for s in stage.steps]
            bad = [i for i, status in enumerate(statuses) if status not in (S.SUCCESS, S.SKIPPED, S.NOT_STARTED)]
            if not bad:
                continue
            assert len(bad) == 1, (record.plan_execution_id, statuses)
            assert all(status == S.NOT_STARTED for status in statuses[bad[0] + 1 :]), record.plan_execution_id
            assert all(status in (S.SUCCESS, S.SKIPPED) for status in statuses[: bad[0]]), record.plan_execution_id


def test_stages_after_a_failed_group_never_start(records: list[ExecutionRecord]) -> None:
    for record in records:
        stopped = False
        previous_group: int | None = None
        for stage in record.stages:
            same_group = stage.parallel_group is not None and stage.parallel_group == previous_group
            if stopped and not same_group:
                assert stage.status == S.NOT_STARTED, record.plan_execution_id
            stopped = stopped or stage.status != S.SUCCESS
            previous_group = stage.parallel_group


def test_times_nest_steps_inside_stages_inside_executions(records: list[ExecutionRecord], anchor_ms: int) -> None:
    for record in records:
        assert record.start_ts < anchor_ms
        assert record.end_ts is None or record.start_ts <= record.end_ts <= anchor_ms
        for stage in record.stages:
            if stage.start_ts is None:
                assert stage.status == S.NOT_STARTED and all(s.start_ts is None for s in stage.steps)
                continue
            assert record.start_ts <= stage.start_ts
            if stage.end_ts is not None:
                assert stage.start_ts <= stage.end_ts
                assert record.end_ts is None or stage.end_ts <= record.end_ts
            for step in stage.steps:
                if step.start_ts is None:
                    assert step.status == S.NOT_STARTED
                    continue
                assert stage.start_ts <= step.start_ts
                assert step.end_ts is None or step.start_ts <= step.end_ts
                assert step.end_ts is None or stage.end_ts is None or step.end_ts <= stage.end_ts


def test_a_few_runs_are_still_in_progress_at_the_anchor(records: list[ExecutionRecord]) -> None:
    waiting = [r for r in records if r.status in WAITING]
    assert 1 <= len(waiting) <= 10
    assert all(r.end_ts is None for r in waiting)
    assert all(r.end_ts is not None for r in records if r.status not in WAITING)


def test_failed_executions_carry_the_failing_step_message_and_types(records: list[ExecutionRecord]) -> None:
    failed = [r for r in records if r.status in FAILING]
    assert failed
    for record in failed:
        step = next(s for st in record.stages for s in st.steps if s.status in FAILING)
        assert step.failure_message and step.failure_types
        assert (record.failure_message, record.failure_types) == (step.failure_message, step.failure_types)
    for record in records:
        if record.status not in FAILING:
            assert record.failure_message is None and record.failure_types == []


def test_aborted_runs_name_who_aborted_them(records: list[ExecutionRecord]) -> None:
    aborted = [r for r in records if r.status == S.ABORTED]
    assert aborted
    assert all(r.aborted_by for r in aborted)
    assert all(any(s.status == S.ABORTED for st in r.stages for s in st.steps) for r in aborted)


def test_parallel_stages_of_a_group_start_together(records: list[ExecutionRecord]) -> None:
    grouped = 0
    for record in records:
        starts: dict[int, set[int]] = defaultdict(set)
        for stage in record.stages:
            if stage.parallel_group is not None and stage.start_ts is not None:
                starts[stage.parallel_group].add(stage.start_ts)
        for group in starts.values():
            assert len(group) == 1, record.plan_execution_id
            grouped += 1
    assert grouped > 0


def test_run_sequences_count_each_pipelines_runs_in_start_order(records: list[ExecutionRecord]) -> None:
    runs: dict[tuple[str, str, str], list[ExecutionRecord]] = defaultdict(list)
    for record in records:
        runs[(record.org, record.project, record.pipeline_id)].append(record)
    for pipeline_runs in runs.values():
        ordered = sorted(pipeline_runs, key=lambda r: (r.start_ts, r.plan_execution_id))
        assert [r.run_sequence for r in ordered] == list(range(1, len(ordered) + 1))


def test_ids_and_commits_look_like_harness_and_git_ids(records: list[ExecutionRecord]) -> None:
    assert len({r.plan_execution_id for r in records}) == len(records)
    for record in records:
        assert URL_SAFE_22.match(record.plan_execution_id), record.plan_execution_id
        if record.commit_sha is not None:
            assert SHA.match(record.commit_sha) and record.commit_message


def test_retries_point_at_a_failed_run_of_the_same_pipeline_and_commit(records: list[ExecutionRecord]) -> None:
    by_id = {r.plan_execution_id: r for r in records}
    retries = [r for r in records if r.retry_of]
    assert retries and any(r.is_rerun for r in records)
    for retry in retries:
        original = by_id[retry.retry_of or ""]
        assert original.status in FAILING and original.pipeline_id == retry.pipeline_id
        assert original.commit_sha == retry.commit_sha and original.start_ts < retry.start_ts
        root = by_id[retry.root_execution_id or ""]
        assert root.retry_of is None and root.pipeline_id == retry.pipeline_id


def test_every_step_that_ran_has_a_log_recipe_under_its_log_key(
    records: list[ExecutionRecord], scenario_state: SandboxState
) -> None:
    account = scenario_state.get_meta("account_id") or ""
    for record in records[::15]:
        for stage in record.stages:
            for step in stage.steps:
                key = step_log_key(
                    account,
                    record.org,
                    record.project,
                    record.pipeline_id,
                    record.run_sequence,
                    stage.identifier,
                    step.identifier,
                )
                stored = scenario_state.get_log_recipe(key)
                if step.status in (S.NOT_STARTED, S.SKIPPED):
                    assert stored is None and step.log is None
                else:
                    assert stored is not None and stored == step.log, key


def test_steps_name_the_delegate_that_ran_them(records: list[ExecutionRecord]) -> None:
    for record in records:
        for stage in record.stages:
            for step in stage.steps:
                if step.start_ts is not None and step.status != S.SKIPPED and stage.stage_type != "Approval":
                    assert step.delegate, (record.plan_execution_id, step.identifier)


def test_deployment_stages_name_service_environment_infrastructure_and_artifact(
    records: list[ExecutionRecord],
) -> None:
    deployments = [st for r in records for st in r.stages if st.stage_type == "Deployment"]
    assert deployments
    for stage in deployments:
        assert stage.service_id and stage.environment_id and stage.infrastructure_id
        assert stage.environment_type == ("Production" if stage.environment_id == "production" else "PreProduction")
        assert stage.strategy in ("Rolling", "Canary") and stage.artifact and ":" in stage.artifact
