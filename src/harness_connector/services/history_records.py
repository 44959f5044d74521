"""Turn Harness answers into history records: an execution detail into its execution, nodes and deployments;
ti-service test cases into test results. Pure functions over the documented shapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness_connector.domain import (
    Deployment,
    ExecutionFact,
    NodeFact,
    TestCaseResult,
    TestOutcome,
    TestResult,
    TestStatus,
)
from harness_connector.junit import test_id
from harness_connector.services.diagnose_graph import deepest_message, failure_types
from harness_connector.services.shaping import dig

__all__ = ["deployments_of", "execution_fact", "node_facts", "test_results"]

_OUTCOMES = {
    TestStatus.PASSED: TestOutcome.PASSED,
    TestStatus.FAILED: TestOutcome.FAILED,
    TestStatus.ERROR: TestOutcome.ERROR,
    TestStatus.SKIPPED: TestOutcome.SKIPPED,
    TestStatus.SKIPPED_BY_TI: TestOutcome.SKIPPED,
}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def execution_fact(account_id: str, org: str, project: str, summary: Mapping[str, Any]) -> ExecutionFact:
    """The execution record of a `pipelineExecutionSummary`."""
    trigger = summary.get("executionTriggerInfo") or {}
    ci = dig(summary, "moduleInfo.ci") or {}
    commits = dig(ci, "ciExecutionInfoDTO.branch.commits") or dig(ci, "ciExecutionInfoDTO.pullRequest.commits") or []
    commit = dig(commits[0], "id") if isinstance(commits, list) and commits else None
    branch = (
        dig(ci, "branch") or dig(ci, "ciExecutionInfoDTO.pullRequest.sourceBranch") or dig(summary, "gitDetails.branch")
    )
    retry = summary.get("retryExecutionMetadata") or {}
    return ExecutionFact(
        execution_id=str(summary.get("planExecutionId")),
        account_id=account_id,
        org=str(summary.get("orgIdentifier") or org),
        project=str(summary.get("projectIdentifier") or project),
        pipeline_id=str(summary.get("pipelineIdentifier") or ""),
        pipeline_name=_str(summary.get("name")),
        run_sequence=_int(summary.get("runSequence")),
        status=str(summary.get("status") or "Unknown"),
        started_ms=_int(summary.get("startTs")),
        ended_ms=_int(summary.get("endTs")),
        trigger_type=_str(trigger.get("triggerType")),
        triggered_by=_str(dig(trigger, "triggeredBy.identifier") or dig(trigger, "triggeredBy.extraInfo.email")),
        branch=_str(branch),
        target_branch=_str(dig(ci, "ciExecutionInfoDTO.pullRequest.targetBranch")),
        commit_sha=_str(commit),
        repo=_str(ci.get("repoName")),
        pr_number=_int(ci.get("prNumber")),
        failure_message=deepest_message(summary.get("failureInfo")),
        failure_types=tuple(failure_types(summary.get("failureInfo"))),
        retry_of=_str(retry.get("parentExecutionId")),
        is_rerun=bool(trigger.get("isRerun")),
    )


def _stage_of(fqn: str) -> str | None:
    parts = fqn.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["pipeline", "stages"] else None


def node_facts(execution_id: str, detail: Mapping[str, Any]) -> list[NodeFact]:
    """Stage and step records from an execution detail with its full graph (layout stages when no graph)."""
    out: list[NodeFact] = []
    nodes = dig(detail, "executionGraph.nodeMap") or {}
    for uuid, node in nodes.items():
        if not isinstance(node, Mapping):
            continue
        fqn = str(node.get("baseFqn") or "")
        is_step = ".steps." in fqn
        is_stage = fqn.count(".") == 2 and fqn.startswith("pipeline.stages.") and not fqn.endswith("parallel")
        if not (is_step or is_stage) or str(node.get("stepType") or "") == "NG_FORK":
            continue
        delegates = node.get("delegateInfoList") or []
        out.append(
            NodeFact(
                execution_id=execution_id,
                node_id=str(uuid),
                kind="step" if is_step else "stage",
                stage_id=_stage_of(fqn),
                identifier=str(node.get("identifier") or uuid),
                name=_str(node.get("name")),
                step_type=_str(node.get("stepType")),
                status=str(node.get("status") or "Unknown"),
                failure_types=tuple(failure_types(node.get("failureInfo"))),
                failure_message=deepest_message(node.get("failureInfo")),
                delegate=_str(dig(delegates[0], "name")) if delegates else None,
                started_ms=_int(node.get("startTs")),
                ended_ms=_int(node.get("endTs")),
                log_key=_str(node.get("logBaseKey")),
            )
        )
    return out


def _strategy(stage_id: str, nodes: Iterable[NodeFact]) -> str | None:
    # Harness names the strategy only in the stage YAML; the deploy steps' types say it just as well.
    for node in nodes:
        kind = node.step_type or ""
        if node.stage_id == stage_id and kind.startswith("K8s"):
            for strategy in ("Canary", "BlueGreen", "Rolling"):
                if strategy in kind:
                    return strategy
    return None


def deployments_of(execution_id: str, summary: Mapping[str, Any], nodes: Iterable[NodeFact] = ()) -> list[Deployment]:
    """One deployment per CD stage that names a service and an environment."""
    steps = list(nodes)
    out: list[Deployment] = []
    for node in (summary.get("layoutNodeMap") or {}).values():
        if not isinstance(node, Mapping) or node.get("nodeGroup") != "STAGE":
            continue
        cd = dig(node, "moduleInfo.cd") or {}
        service = dig(cd, "serviceInfo.identifier")
        environment = dig(cd, "infraExecutionSummary.identifier") or dig(cd, "infraExecutionSummary.envIdentifier")
        if not service or not environment:
            continue
        artifact = dig(cd, "serviceInfo.artifacts.primary.imagePath") or dig(cd, "serviceInfo.artifacts.primary.image")
        tag = dig(cd, "serviceInfo.artifacts.primary.tag")
        out.append(
            Deployment(
                execution_id=execution_id,
                stage_id=str(node.get("nodeIdentifier")),
                service_id=str(service),
                environment_id=str(environment),
                environment_type=_str(dig(cd, "infraExecutionSummary.type") or dig(cd, "environmentType")),
                infrastructure_id=_str(dig(cd, "infraExecutionSummary.infrastructureIdentifier")),
                artifact=_str(artifact),
                artifact_tag=_str(tag),
                strategy=_strategy(str(node.get("nodeIdentifier")), steps),
                status=str(node.get("status") or "Unknown"),
                started_ms=_int(node.get("startTs")),
                ended_ms=_int(node.get("endTs")),
                pipeline_id=_str(summary.get("pipelineIdentifier")),
            )
        )
    return out


def test_results(cases: Iterable[TestCaseResult], fact: ExecutionFact) -> list[TestResult]:
    """ti-service test cases as history results of the execution (first attempt; retries come from JUnit)."""
    return [
        TestResult(
            test_id=test_id(case.suite, case.class_name, case.name),
            suite=case.suite,
            class_name=case.class_name,
            name=case.name,
            outcome=TestOutcome.FLAKY if case.flaky and case.status is TestStatus.PASSED else _OUTCOMES[case.status],
            duration_ms=case.duration_ms,
            message=case.message,
            failure_type=case.failure_type,
            execution_id=fact.execution_id,
            pipeline_id=fact.pipeline_id,
            commit_sha=fact.commit_sha,
            branch=fact.branch,
            pr_number=fact.pr_number,
            started_ms=fact.started_ms,
            file=case.file_name,
        )
        for case in cases
    ]
