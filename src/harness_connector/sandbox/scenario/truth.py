"""The ground truth of a scenario: why each run failed, which tests are flaky or broken, what was down when.

The API never exposes it; evaluation suites read it to score the connector's analyses. Lists are sorted and
the file is written with sorted keys, so two scenarios of one seed and anchor give byte-identical files.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.scenario.faults import Regression, Window
from harness_connector.sandbox.scenario.ids import rfc3339
from harness_connector.sandbox.scenario.pipelines import PIPELINES
from harness_connector.sandbox.scenario.plans import RunResult
from harness_connector.sandbox.scenario.telemetry import Incident
from harness_connector.sandbox.scenario.testcatalog import catalog

__all__ = ["FAILED", "build_truth"]

FAILED = (ExecutionStatus.FAILED, ExecutionStatus.EXPIRED, ExecutionStatus.APPROVAL_REJECTED)


def _test_id(test: dict[str, Any]) -> str:
    return f"{test['class_name']}::{test['name']}"


def _executions(results: list[RunResult]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for result in results:
        record, failure = result.record, result.failure
        if record.status not in FAILED or failure is None:
            continue
        family = failure.family
        found[record.plan_execution_id] = {
            "category": family.category,
            "transient": family.transient,
            "family": family.id,
            "stage": failure.stage,
            "step": failure.step,
            "cause": failure.cause,
            "status": record.status.value,
            "org": record.org,
            "project": record.project,
            "pipeline": record.pipeline_id,
            "run_sequence": record.run_sequence,
            "commit": record.commit_sha,
            "branch": record.branch,
            "pr_number": record.pr_number,
            "failure_types": list(family.failure_types),
            "failed_tests": sorted(_test_id(t) for t in failure.failed_tests),
        }
    return found


def _flaky(results: list[RunResult]) -> list[dict[str, Any]]:
    runs: Counter[tuple[str, int]] = Counter()
    fails: Counter[tuple[str, int]] = Counter()
    where: dict[tuple[str, int], set[str]] = {}
    for result in results:
        for attempt in result.tests:
            for index, spec in enumerate(catalog(attempt.service)):
                if spec.flaky_rate:
                    key = (attempt.service, index)
                    runs[key] += 1
                    fails[key] += index in attempt.failures and attempt.failures[index][1]
                    where.setdefault(key, set()).add(result.plan.pipeline.id)
    found = []
    for svc in sorted({p.service for p in PIPELINES if p.service}):
        for index, spec in enumerate(catalog(svc)):
            if spec.flaky_rate:
                key = (svc, index)
                found.append(
                    {
                        "service": svc,
                        "suite": spec.suite,
                        "class_name": spec.class_name,
                        "name": spec.name,
                        "file_name": spec.file_name,
                        "flake_rate": spec.flaky_rate,
                        "pipelines": sorted(where.get(key, ())),
                        "runs": runs[key],
                        "failures": fails[key],
                        "observed_rate": round(fails[key] / runs[key], 4) if runs[key] else None,
                    }
                )
    return found


def _commit_fields(reg: Regression) -> dict[str, Any]:
    fixed = reg.fixed_by
    return {
        "id": reg.id,
        "family": reg.family.id,
        "category": reg.family.category,
        "scope": reg.scope,
        "service": reg.service,
        "repo": reg.repo,
        "pr_number": reg.broken_by.pr_number,
        "broken_by": reg.broken_by.sha,
        "broken_by_message": reg.broken_by.message,
        "broken_at": rfc3339(reg.broken_by.ts),
        "broken_at_ms": reg.broken_by.ts,
        "fixed_by": fixed.sha if fixed else None,
        "fixed_by_message": fixed.message if fixed else None,
        "fixed_at": rfc3339(fixed.ts) if fixed else None,
        "fixed_at_ms": fixed.ts if fixed else None,
        "failed_executions": sorted(set(reg.hits)),
    }


def _regressions(regressions: list[Regression]) -> dict[str, list[dict[str, Any]]]:
    broken, config, pr = [], [], []
    for reg in sorted(regressions, key=lambda r: r.id):
        fields = _commit_fields(reg)
        if reg.family.id == "test_regression":
            fields["tests"] = sorted(f"{t.class_name}::{t.name}" for t in reg.tests)
            fields["pipelines"] = sorted(p.id for p in PIPELINES if p.service == reg.service and p.kind == "ci")
            broken.append(fields)
        elif reg.family.mode == "main_regression":
            config.append({**fields, "pipeline": reg.pipeline, "params": {k: str(v) for k, v in reg.params.items()}})
        else:
            pr.append({**fields, "params": {k: str(v) for k, v in reg.params.items()}})
    return {"broken_tests": broken, "config_regressions": config, "pr_regressions": pr}


def _outages(windows: list[Window], results: list[RunResult]) -> list[dict[str, Any]]:
    pipeline_of = {r.plan.id: r.plan.pipeline.id for r in results}
    found = []
    for window in sorted(windows, key=lambda w: (w.start, w.id)):
        family = window.family
        found.append(
            {
                "id": window.id,
                "family": family.id,
                "category": family.category,
                "transient": family.transient,
                "host": family.host.format_map({"cluster_host": window.params.get("cluster_host", "")}) or None,
                "start": rfc3339(window.start),
                "end": rfc3339(window.end),
                "start_ms": window.start,
                "end_ms": window.end,
                "delegate": window.delegate or None,
                "project": window.project or None,
                "pipelines": sorted(window.pipelines) or None,
                "pinned": window.id.endswith("-pinned"),
                "executions_hit": sorted(set(window.hits)),
                "pipelines_hit": sorted({pipeline_of[h] for h in window.hits if h in pipeline_of}),
            }
        )
    return found


def _pass_on_retry(results: list[RunResult]) -> list[dict[str, Any]]:
    found = []
    for result in results:
        for stage in result.record.stages:
            for step in stage.steps:
                if step.retries and step.status == ExecutionStatus.SUCCESS:
                    attempts = [a for a in result.tests if (a.stage, a.step) == (stage.identifier, step.identifier)]
                    specs = catalog(attempts[0].service) if attempts else ()
                    tests = sorted({f"{specs[i].class_name}::{specs[i].name}" for a in attempts for i in a.failures})
                    found.append(
                        {
                            "execution": result.record.plan_execution_id,
                            "pipeline": result.record.pipeline_id,
                            "stage": stage.identifier,
                            "step": step.identifier,
                            "tests": tests,
                        }
                    )
    return sorted(found, key=lambda f: f["execution"])


def _slow() -> list[dict[str, Any]]:
    return [
        {"service": svc, "class_name": spec.class_name, "name": spec.name, "base_ms": spec.base_ms}
        for svc in sorted({p.service for p in PIPELINES if p.service})
        for spec in catalog(svc)
        if spec.slow
    ]


def build_truth(
    *,
    scenario: dict[str, Any],
    results: list[RunResult],
    windows: list[Window],
    regressions: list[Regression],
    incidents: list[Incident],
) -> dict[str, Any]:
    """The ground-truth document."""
    executions = _executions(results)
    return {
        "scenario": scenario,
        "executions": executions,
        "families": dict(sorted(Counter(e["family"] for e in executions.values()).items())),
        "flaky_tests": _flaky(results),
        **_regressions(regressions),
        "outages": _outages(windows, results),
        "incidents": sorted((i.as_truth() for i in incidents), key=lambda i: i["id"]),
        "pass_on_retry": _pass_on_retry(results),
        "slow_tests": _slow(),
    }
