"""Run one planned execution through its stages and steps and write down what Harness would have recorded.

Statuses follow Harness: the first failing step is Failed (or Expired, ApprovalRejected), the steps after it in
its stage never start, later stages never start, stages of the same parallel group run to their end; a step that
is still going at the anchor is Running (ApprovalWaiting for approvals) and so are its stage and execution; an
abort marks the running step Aborted. The execution carries the failing step's message and failure types.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.sandbox.scenario.failure import FailureFamily
from harness_connector.sandbox.scenario.families import FAMILIES, families_by_mode
from harness_connector.sandbox.scenario.faults import Regression, Window
from harness_connector.sandbox.scenario.ids import stream
from harness_connector.sandbox.scenario.pipelines import StageSpec, StepSpec
from harness_connector.sandbox.scenario.plans import Failure, RunPlan, RunResult, TestAttempt
from harness_connector.sandbox.scenario.stepdetails import (
    BAD_ORDER,
    failure_message,
    input_set_yaml,
    log_recipe,
    overall_status,
    stage_fields,
    stage_groups,
    step_spec,
    timeout_ms,
    trigger_identity,
)
from harness_connector.sandbox.scenario.testcatalog import catalog
from harness_connector.sandbox.scenario.testruns import attempt, broken_indexes, failed_test, suite_duration

__all__ = ["Simulator"]

S = ExecutionStatus


@dataclass(slots=True)
class _Fault:
    family: FailureFamily
    cause: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Outcome:
    status: ExecutionStatus
    duration: int
    fault: _Fault | None = None
    retries: int = 0
    failed_tests: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Run:
    plan: RunPlan
    rng: random.Random
    failure: Failure | None = None
    tests: list[TestAttempt] = field(default_factory=list)
    forced_pending: bool = False

    @property
    def shielded(self) -> bool:
        """No windows or random failures: the run carries a forced family, or the scenario needs it to pass."""
        return self.forced_pending or self.plan.protected


class Simulator:
    """Turns run plans into execution records, given the planned windows and regressions."""

    def __init__(self, seed: int, anchor: int, regressions: list[Regression]) -> None:
        self.seed = seed
        self.anchor = anchor
        self.windows: list[Window] = []
        self.config: dict[str, list[Regression]] = {}
        self.broken_tests: dict[str, list[Regression]] = {}
        self.by_id = {reg.id: reg for reg in regressions}
        for reg in regressions:
            if reg.scope == "main" and reg.family.mode == "main_regression":
                self.config.setdefault(reg.pipeline, []).append(reg)
            elif reg.scope == "main":
                self.broken_tests.setdefault(reg.service, []).append(reg)
        self.random = families_by_mode("random")

    def run(self, plan: RunPlan) -> RunResult:
        run = _Run(plan, stream(self.seed, "run", plan.id), forced_pending=bool(plan.forced))
        t = plan.start + int(run.rng.uniform(1, 9) * 1000)
        stages: list[StageRun] = []
        halted = False
        for group in stage_groups(plan.pipeline.stages):
            if halted or t >= self.anchor:
                stages += [self._not_started(plan, spec) for spec in group]
                continue
            ran = [self._stage(run, spec, t) for spec in group]
            stages += [stage for stage, _ in ran]
            halted = any(stage.status != S.SUCCESS for stage, _ in ran)
            t = max(end for _, end in ran) + int(run.rng.uniform(0.5, 3) * 1000)
        return RunResult(plan, self._record(run, stages), run.failure, run.tests)

    # ---- stages and steps -------------------------------------------------------------------------------

    def _stage(self, run: _Run, spec: StageSpec, start: int) -> tuple[StageRun, int]:
        plan, rng = run.plan, run.rng
        t = start + int(rng.uniform(0.3, 2.5) * 1000)
        steps: list[StepRun] = []
        status, message, types = S.SUCCESS, None, []
        stopped = False
        for step in spec.steps:
            if stopped or t >= self.anchor:
                steps.append(self._step_run(run, spec, step, S.NOT_STARTED, None, None))
                stopped = True
                status = S.RUNNING if status == S.SUCCESS else status
                continue
            if step.push_only and plan.is_pr:
                steps.append(self._step_run(run, spec, step, S.SKIPPED, t, t))
                continue
            outcome = self._step(run, spec, step, t)
            end = t + outcome.duration
            if plan.abort_at is not None and plan.abort_at < min(end, self.anchor):
                end = max(plan.abort_at, t)
                steps.append(self._step_run(run, spec, step, S.ABORTED, t, end, outcome))
                status, stopped = S.ABORTED, True
            elif end > self.anchor:
                waiting = S.APPROVAL_WAITING if step.role == "approval" else S.RUNNING
                steps.append(self._step_run(run, spec, step, waiting, t, None, outcome))
                status, stopped, end = waiting, True, t
            else:
                steps.append(self._step_run(run, spec, step, outcome.status, t, end, outcome))
                if outcome.status != S.SUCCESS:
                    status, stopped = outcome.status, True
                    message, types = steps[-1].failure_message, steps[-1].failure_types
                    self._note_failure(run, spec, step, outcome)
            t = end + int(rng.uniform(0.2, 1.5) * 1000)
        running = status in (S.RUNNING, S.APPROVAL_WAITING)
        end_ts = None if running else max(s.end_ts or start for s in steps)
        stage = StageRun(
            identifier=spec.identifier,
            name=spec.name,
            stage_type=spec.stage_type,
            module=spec.module,
            status=status,
            start_ts=start,
            end_ts=end_ts,
            steps=steps,
            parallel_group=spec.parallel_group,
            failure_message=message,
            failure_types=types,
            **stage_fields(plan, spec),
        )
        return stage, end_ts if end_ts is not None else self.anchor

    def _not_started(self, plan: RunPlan, spec: StageSpec) -> StageRun:
        steps = [
            StepRun(
                identifier=s.identifier, name=s.name, step_type=s.step_type, status=S.NOT_STARTED, timeout=s.timeout
            )
            for s in spec.steps
        ]
        return StageRun(
            identifier=spec.identifier,
            name=spec.name,
            stage_type=spec.stage_type,
            module=spec.module,
            status=S.NOT_STARTED,
            steps=steps,
            parallel_group=spec.parallel_group,
            **stage_fields(plan, spec),
        )

    def _step(self, run: _Run, stage: StageSpec, step: StepSpec, t: int) -> _Outcome:
        rng = run.rng
        usual = int(rng.uniform(*step.seconds) * 1000)
        if step.role == "approval":
            return self._approval(run)
        fault = self._fault(run, stage, step, t)
        if fault is None and step.role == "test":
            return self._tests(run, stage, step)
        if fault is None:
            return _Outcome(S.SUCCESS, max(usual, 800))
        status = ExecutionStatus(fault.family.step_status)
        if status == S.EXPIRED:
            return _Outcome(status, timeout_ms(step.timeout), fault)
        if step.role == "test":
            usual = int(rng.uniform(40, 400) * 1000)
        return _Outcome(status, max(int(usual * rng.uniform(*fault.family.fail_at)), 300), fault)

    def _approval(self, run: _Run) -> _Outcome:
        deploy = run.plan.deploy
        if deploy is None or deploy.decision == "approve":
            return _Outcome(S.SUCCESS, deploy.wait_ms if deploy else 60_000)
        family = FAMILIES["approval_rejected" if deploy.decision == "reject" else "approval_expired"]
        status = ExecutionStatus(family.step_status)
        duration = timeout_ms("4h") if status == S.EXPIRED else deploy.wait_ms
        params = {name: run.rng.choice(options) for name, options in sorted(family.choices.items())}
        return _Outcome(status, duration, _Fault(family, "approver", params))

    def _fault(self, run: _Run, stage: StageSpec, step: StepSpec, t: int) -> _Fault | None:
        plan, rng = run.plan, run.rng
        regression = self._regression(plan, step, t)
        forced = FAMILIES.get(plan.forced)
        if (
            run.forced_pending
            and forced is not None
            and forced.mode != "test"
            and forced.applies_to(step.role, step.toolchain)
        ):
            run.forced_pending = False
            if regression is not None and regression.family is forced:
                return _Fault(forced, regression.id, dict(regression.params))
            if plan.window is not None:
                plan.window.struck += 1
                return _Fault(forced, plan.window.id, dict(plan.window.params))
            incident = plan.deploy.incident if plan.deploy is not None and forced.mode == "incident" else ""
            return _Fault(forced, incident or "forced", {})
        if regression is not None:
            return _Fault(regression.family, regression.id, dict(regression.params))
        if run.shielded:
            return None  # keep the run alive until the step its forced family needs
        for window in self.windows:
            if window.matches(plan.pipeline, step, t) and (not window.struck or rng.random() < window.hit_rate):
                # The first run to meet a window always fails: a window nobody noticed would not be an outage.
                window.struck += 1
                return _Fault(window.family, window.id, dict(window.params))
        if step.role == "verify" and plan.deploy is not None and plan.deploy.bad_release:
            return _Fault(FAMILIES["canary_verification_failed"], plan.deploy.incident or "bad_release", {})
        for family in self.random:
            if family.applies_to(step.role, step.toolchain) and rng.random() < family.rate:
                return _Fault(family, "random", {})
        return None

    def _regression(self, plan: RunPlan, step: StepSpec, t: int) -> Regression | None:
        """The configuration or pull-request regression that breaks this step of this run, if any."""
        for reg in self.config.get(plan.pipeline.id, ()):
            if reg.family.applies_to(step.role, step.toolchain) and self._broken(reg, plan, t):
                return reg
        own = self.by_id.get(plan.commit.breaks) if plan.commit is not None and plan.commit.breaks else None
        if own is not None and own.family.mode != "test" and own.family.applies_to(step.role, step.toolchain):
            return own
        return None

    def disturbed(self, plan: RunPlan) -> bool:
        """Whether a regression already breaks this run (so it cannot carry a forced family)."""
        if plan.commit is not None and plan.commit.breaks:
            return True
        regs = [*self.config.get(plan.pipeline.id, ()), *self.broken_tests.get(plan.pipeline.service, ())]
        return any(self._broken(reg, plan, plan.start) for reg in regs)

    def _broken(self, reg: Regression, plan: RunPlan, t: int) -> bool:
        if plan.is_pr or plan.commit is None or plan.commit.index < 0:
            return reg.broken_at_time(t)
        return reg.broken_at_main(plan.commit)

    def _tests(self, run: _Run, stage: StageSpec, step: StepSpec) -> _Outcome:
        plan, rng = run.plan, run.rng
        if FAMILIES.get(plan.forced) is FAMILIES["test_regression"]:
            run.forced_pending = False
        specs = catalog(plan.pipeline.service)
        regs = [reg for reg in self.broken_tests.get(plan.pipeline.service, ()) if self._broken(reg, plan, plan.start)]
        own = self.by_id.get(plan.commit.breaks) if plan.commit is not None and plan.commit.breaks else None
        if own is not None and own.family.mode == "test":
            regs.append(own)
        broken = broken_indexes(specs, regs)
        total = 0
        for retry in range(step.retry + 1):
            run.tests.append(
                attempt(plan.pipeline.service, stage.identifier, step.identifier, broken, rng, run.shielded)
            )
            last = run.tests[-1]
            total += suite_duration(last, rng)
            if not last.failures:
                return _Outcome(S.SUCCESS, total, retries=retry)
            total += 10_000  # the failure strategy's retry interval
        genuine = sorted({broken[i][1] for i, (_, flaky) in last.failures.items() if not flaky})
        family = FAMILIES["flaky_test" if not genuine else "test_regression"]
        failed = [failed_test(specs[i], last.durations[i], m) for i, (m, _) in sorted(last.failures.items())]
        return _Outcome(
            S.FAILED, total - 10_000, _Fault(family, genuine[0] if genuine else "flaky", {}), step.retry, failed
        )

    def _note_failure(self, run: _Run, stage: StageSpec, step: StepSpec, outcome: _Outcome) -> None:
        if run.failure is None and outcome.fault is not None:
            fault = outcome.fault
            run.failure = Failure(
                fault.family, stage.identifier, step.identifier, fault.cause, fault.params, outcome.failed_tests
            )

    def _step_run(
        self,
        run: _Run,
        stage: StageSpec,
        step: StepSpec,
        status: ExecutionStatus,
        start: int | None,
        end: int | None,
        outcome: _Outcome | None = None,
    ) -> StepRun:
        fault = outcome.fault if outcome is not None and status == outcome.status and status != S.SUCCESS else None
        message, types = None, []
        recipe = None
        if start is not None and status not in (S.SKIPPED, S.NOT_STARTED):
            duration = (end if end is not None else self.anchor) - start
            unfinished = status in (S.RUNNING, S.APPROVAL_WAITING, S.ABORTED)
            recipe = log_recipe(
                self.seed,
                run.plan,
                stage,
                step,
                duration,
                fault.family if fault else None,
                fault.params if fault else {},
                outcome.failed_tests if outcome else [],
                run.rng,
                unfinished,
            )
            if fault is not None:
                message = failure_message(fault.family, recipe.params)
                types = list(fault.family.failure_types)
        delegate = step.delegate or ("ci-build-delegate" if stage.stage_type == "CI" else None)
        return StepRun(
            identifier=step.identifier,
            name=step.name,
            step_type=step.step_type,
            status=status,
            start_ts=start,
            end_ts=end,
            failure_message=message,
            failure_types=types,
            delegate=delegate if start is not None and step.role != "approval" else None,
            delegate_selectors=list(step.selectors),
            log=recipe,
            has_reports=step.has_reports and start is not None,
            retries=outcome.retries if outcome is not None else 0,
            timeout=step.timeout,
            spec=step_spec(run.plan, step),
        )

    def _record(self, run: _Run, stages: list[StageRun]) -> ExecutionRecord:
        plan = run.plan
        status = overall_status(stages)
        running = status in (S.RUNNING, S.APPROVAL_WAITING)
        ends = [stage.end_ts for stage in stages if stage.end_ts is not None]
        failing = next((stage for stage in stages if stage.failure_message), None)
        commit = plan.commit
        triggered_by, email = trigger_identity(plan)
        return ExecutionRecord(
            plan_execution_id=plan.id,
            org=plan.pipeline.org,
            project=plan.pipeline.project,
            pipeline_id=plan.pipeline.id,
            pipeline_name=plan.pipeline.name,
            run_sequence=0,
            status=status,
            start_ts=plan.start,
            end_ts=None if running else max(ends, default=plan.start),
            created_at=plan.start - 150,
            module=plan.pipeline.module,
            trigger_type=plan.trigger_type,
            triggered_by=triggered_by,
            triggered_by_email=email,
            branch=plan.branch,
            target_branch=plan.target_branch,
            commit_sha=commit.sha if commit else None,
            commit_message=commit.message if commit else None,
            repo=plan.pipeline.repo or None,
            pr_number=plan.pr.number if plan.pr else None,
            is_rerun=plan.is_rerun,
            retry_of=plan.retry_of,
            root_execution_id=plan.root_id,
            tags=dict(plan.tags),
            input_set_yaml=input_set_yaml(plan),
            failure_message=failing.failure_message if failing and status in BAD_ORDER[:3] else None,
            failure_types=list(failing.failure_types) if failing and status in BAD_ORDER[:3] else [],
            stages=stages,
            aborted_by=plan.user.identifier if status == S.ABORTED else None,
        )
