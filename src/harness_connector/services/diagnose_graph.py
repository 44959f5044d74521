"""Read an execution detail (`pipelineExecutionSummary` + `executionGraph`) into ranked failures: pure, no I/O.

Ranking, where the official server takes `nodeMap` iteration order:

1. Root causes: failed steps (Failed, Errored, Expired, ApprovalRejected) outside rollback sections, those with a
   failure message first, each group by start time. The earliest is the cause; later ones are independent failures.
   A failed stage with no failed step under it (infrastructure, chained pipeline, approval) counts as a step here.
2. With no failure at all, the earliest abort is the root cause (someone or something stopped the run).
3. Downstream, after them: other aborts, failed rollback steps, skipped steps, then stages that were skipped or
   never started, each with its relation to the first root cause ("skipped because stage build failed").

A step is a leaf node under `.steps.` (or `.rollbackSteps.`); containers such as step groups repeat their child's
failure and are dropped. Messages are the deepest `responseMessages` entry, Harness's most specific cause.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.services.diagnose_models import ExecutionInfo, Failure, PipelineRef, StageSummary
from harness_connector.services.shaping import dig, iso_time

__all__ = ["ChildRef", "Node", "execution_info", "pipeline_ref", "rank_failures", "stage_summaries"]

S = ExecutionStatus
_STAGE_FQN = re.compile(r"^pipeline\.stages\.([^.]+)")
_ABORTS = frozenset({S.ABORTED, S.ABORTED_BY_FREEZE})
_STANDARD_WHEN = ("OnStageSuccess", "OnPipelineSuccess", "OnStageFailure", "OnPipelineFailure", "Always")


@dataclass(frozen=True, slots=True)
class ChildRef:
    """A chained pipeline's run, from a node's `stepDetails.childPipelineExecutionDetails`."""

    execution_id: str
    org: str | None
    project: str | None


@dataclass(slots=True)
class Node:
    """What diagnosis needs of one graph node (or layout stage)."""

    fqn: str
    identifier: str
    stage: str | None
    step_type: str | None
    status: ExecutionStatus | None
    raw_status: str
    start: int | None = None
    message: str | None = None
    failure_types: list[str] = field(default_factory=list)
    delegate: str | None = None
    retries: int = 0
    log_keys: list[str] = field(default_factory=list)
    child: ChildRef | None = None
    when: str | None = None
    is_step: bool = True
    aborted_by: str | None = None

    @property
    def rollback(self) -> bool:
        return ".rollbackSteps." in self.fqn

    def where(self) -> str:
        if self.stage is None:
            return "the pipeline"
        if not self.is_step:
            return f"stage '{self.stage}'"
        return f"step '{self.identifier}' of stage '{self.stage}'"


@dataclass(slots=True)
class Ranked:
    """A ranked failure and the node it came from (log keys, child run) for the I/O layer."""

    failure: Failure
    node: Node


def _status(value: Any) -> ExecutionStatus | None:
    try:
        return ExecutionStatus.parse(str(value or ""))
    except ValueError:
        return None


def _seconds(start: Any, end: Any) -> float | None:
    if isinstance(start, int) and isinstance(end, int) and start > 0 and end >= start:
        return round((end - start) / 1000, 1)
    return None


def _iso(value: Any) -> str | None:
    return iso_time(value) if isinstance(value, int) and value > 0 else None


def deepest_message(failure: Any) -> str | None:
    """The last ERROR `responseMessages` entry with text, else `failureInfo.message`."""
    messages = dig(failure, "responseMessages") or []
    for entry in reversed(messages if isinstance(messages, list) else []):
        text = dig(entry, "message")
        if isinstance(text, str) and text.strip() and str(dig(entry, "level") or "ERROR").upper() == "ERROR":
            return text.strip()
    text = dig(failure, "message")
    return text.strip() if isinstance(text, str) and text.strip() else None


def failure_types(failure: Any) -> list[str]:
    found: list[str] = []
    lists = [dig(failure, "failureTypeList")]
    lists += [dig(entry, "failureTypes") for entry in dig(failure, "responseMessages") or [] if isinstance(entry, dict)]
    for values in lists:
        for value in values if isinstance(values, list) else []:
            if isinstance(value, str) and value and value not in found:
                found.append(value)
    return found


def pipeline_ref(summary: Mapping[str, Any]) -> PipelineRef:
    return PipelineRef(id=str(summary.get("pipelineIdentifier") or ""), name=summary.get("name") or None)


def execution_info(summary: Mapping[str, Any]) -> ExecutionInfo:
    trigger = summary.get("executionTriggerInfo") or {}
    by = dig(trigger, "triggeredBy.identifier") or dig(trigger, "triggeredBy.extraInfo.email")
    ci = dig(summary, "moduleInfo.ci") or {}
    commits = dig(ci, "ciExecutionInfoDTO.branch.commits") or dig(ci, "ciExecutionInfoDTO.pullRequest.commits") or []
    commit = dig(commits[0], "id") if isinstance(commits, list) and commits else None
    branch = dig(ci, "branch") or dig(ci, "ciExecutionInfoDTO.pullRequest.sourceBranch")
    branch = branch or dig(summary, "gitDetails.branch")
    return ExecutionInfo(
        id=str(summary.get("planExecutionId") or ""),
        status=str(summary.get("status") or "Unknown"),
        run_sequence=summary.get("runSequence") if isinstance(summary.get("runSequence"), int) else None,
        trigger=trigger.get("triggerType") or None,
        triggered_by=str(by) if by else None,
        branch=str(branch) if branch else None,
        commit=str(commit) if commit else None,
        started_at=_iso(summary.get("startTs")),
        ended_at=_iso(summary.get("endTs")),
        duration_s=_seconds(summary.get("startTs"), summary.get("endTs")),
    )


def _layout_stages(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Stage nodes of `layoutNodeMap` in run order: from `startingNodeId` along `nextIds`, parallel members
    in place of their `parallel` node; stages the walk misses are appended by start time."""
    nodes = summary.get("layoutNodeMap") or {}
    ordered: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    queue = [str(summary.get("startingNodeId") or "")]
    while queue:
        uid = queue.pop(0)
        node = nodes.get(uid)
        if uid in seen or not isinstance(node, Mapping):
            continue
        seen.add(uid)
        edges = node.get("edgeLayoutList") or {}
        if node.get("nodeType") == "parallel":
            queue[:0] = [str(child) for child in edges.get("currentNodeChildren") or []]
        elif node.get("nodeGroup") == "STAGE":
            ordered.append(node)
        queue += [str(nxt) for nxt in edges.get("nextIds") or []]
    rest = [
        n for uid, n in nodes.items() if uid not in seen and isinstance(n, Mapping) and n.get("nodeType") != "parallel"
    ]
    ordered += sorted(rest, key=lambda n: n.get("startTs") or math.inf)
    return [n for n in ordered if n.get("nodeGroup") == "STAGE"]


def stage_summaries(summary: Mapping[str, Any]) -> list[StageSummary]:
    out = []
    for node in _layout_stages(summary):
        failure = deepest_message(node.get("failureInfoDTO")) or deepest_message(node.get("failureInfo"))
        out.append(
            StageSummary(
                id=str(node.get("nodeIdentifier") or node.get("nodeUuid") or ""),
                name=node.get("name") or None,
                status=str(node.get("status") or "Unknown"),
                duration_s=_seconds(node.get("startTs"), node.get("endTs")),
                failure=failure,
            )
        )
    return out


def _log_keys(raw: Mapping[str, Any]) -> list[str]:
    """The failed command units' keys when Harness names them, else every unit key, else `logBaseKey`."""
    keys: list[str] = []
    for response in raw.get("executableResponses") or []:
        for body in response.values() if isinstance(response, Mapping) else []:
            keys += [str(k) for k in dig(body, "logKeys") or [] if k and str(k) not in keys]
    units = raw.get("unitProgresses") or dig(raw, "progressData.unitProgresses") or []
    states = {str(u.get("unitName")): str(u.get("status", "")).upper() for u in units if isinstance(u, Mapping)}
    # The failed unit holds the error; failing that, the last unit that did not succeed, then the last unit.
    failed = [u for u, state in states.items() if state in ("FAILURE", "FAILED", "ERROR")]
    unfinished = [u for u, state in states.items() if state not in ("SUCCESS", "SUCCEEDED", "NOT_STARTED", "SKIPPED")]
    wanted = failed[:1] or unfinished[-1:]
    chosen = [k for k in keys if any(k.endswith(f"-commandUnit:{unit}") for unit in wanted)] or keys[-1:]
    base = str(raw.get("logBaseKey") or "")
    return [*chosen, base] if base and base not in chosen else chosen


def _node(raw: Mapping[str, Any], *, is_step: bool) -> Node:
    fqn = str(raw.get("baseFqn") or "")
    stage = _STAGE_FQN.match(fqn)
    failure = raw.get("failureInfo")
    delegates = [str(d.get("name")) for d in raw.get("delegateInfoList") or [] if isinstance(d, Mapping)]
    interrupts = [i for i in raw.get("interruptHistories") or [] if isinstance(i, Mapping)]
    child = dig(raw, "stepDetails.childPipelineExecutionDetails")
    issuer = next((dig(i, "interruptConfig.issuedBy.manualIssuer") for i in interrupts
                   if "ABORT" in str(i.get("interruptType", "")).upper()), None)  # fmt: skip
    return Node(
        fqn=fqn,
        identifier=str(raw.get("identifier") or ""),
        stage=stage.group(1) if stage else None,
        step_type=raw.get("stepType") or None,
        status=_status(raw.get("status")),
        raw_status=str(raw.get("status") or "Unknown"),
        start=raw.get("startTs") if isinstance(raw.get("startTs"), int) else None,
        message=deepest_message(failure),
        failure_types=failure_types(failure),
        delegate=", ".join(dict.fromkeys(d for d in delegates if d)) or None,
        retries=sum(str(i.get("interruptType", "")).upper() == "RETRY" for i in interrupts),
        log_keys=_log_keys(raw),
        child=ChildRef(str(child["planExecutionId"]), child.get("orgId"), child.get("projectId"))
        if isinstance(child, Mapping) and child.get("planExecutionId")
        else None,
        when=dig(raw, "nodeRunInfo.whenCondition"),
        is_step=is_step,
        aborted_by=str(dig(issuer, "identifier") or dig(issuer, "email") or "") or None,
    )


def _graph_nodes(detail: Mapping[str, Any]) -> tuple[list[Node], list[Node]]:
    """(steps, stages) of the execution graph; steps are leaves: no other step node lies under them."""
    raw_nodes = [n for n in (dig(detail, "executionGraph.nodeMap") or {}).values() if isinstance(n, Mapping)]
    step_raw = [
        n for n in raw_nodes if ".steps." in str(n.get("baseFqn")) or ".rollbackSteps." in str(n.get("baseFqn"))
    ]
    prefixes = {str(n.get("baseFqn")) for n in step_raw}
    leaves = [n for n in step_raw if not any(p.startswith(str(n.get("baseFqn")) + ".") for p in prefixes)]
    # Parallel blocks are fork nodes (NG_FORK) at stage level; their status only repeats a member's.
    stages = [
        n
        for n in raw_nodes
        if re.fullmatch(r"pipeline\.stages\.[^.]+", str(n.get("baseFqn") or ""))
        and "FORK" not in str(n.get("stepType"))
    ]
    return [_node(n, is_step=True) for n in leaves], [_node(n, is_step=False) for n in stages]


def _by_start(nodes: Iterable[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: (n.start if n.start is not None else math.inf, n.fqn))


def rank_failures(detail: Mapping[str, Any]) -> list[Ranked]:
    """Every failed, aborted and skipped step or stage of the run, ranked (see the module docstring)."""
    summary = detail.get("pipelineExecutionSummary") or {}
    steps, stages = _graph_nodes(detail)
    broken = {S.FAILED, S.ERRORED, S.EXPIRED, S.APPROVAL_REJECTED, *_ABORTS}
    covered = {n.stage for n in steps if n.status in broken}
    # A failed stage with no failed step under it failed by itself (infrastructure, chained pipeline, approval).
    units = steps + [s for s in stages if s.status in broken and s.stage not in covered]
    failed = [n for n in units if n.status is not None and n.status.is_failure and not n.rollback]
    roots = _by_start(n for n in failed if n.message) + _by_start(n for n in failed if not n.message)
    aborts = _by_start(n for n in units if n.status in _ABORTS)
    if not roots and aborts:
        roots, aborts = aborts[:1], aborts[1:]
    if not roots:
        roots = _pipeline_failure(summary)
    first = roots[0] if roots else None
    ranked = [_entry(n, "root_cause", _root_reason(n, first, index)) for index, n in enumerate(roots)]
    rollbacks = _by_start(n for n in units if n.rollback and n.status is not None and n.status.is_failure)
    skipped = _by_start(n for n in steps if n.status is S.SKIPPED)
    downstream = [(n, _abort_reason(n, first)) for n in aborts]
    downstream += [(n, f"rollback after {_ref(first)} failed, and the rollback failed too") for n in rollbacks]
    downstream += [(n, _skip_reason(n, first)) for n in skipped]
    listed = {n.stage for n in [*roots, *aborts, *rollbacks, *skipped]}
    downstream += [(n, _stage_reason(n, first)) for n in _idle_stages(summary, listed)]
    ranked += [_entry(n, "downstream", reason) for n, reason in downstream]
    for rank, item in enumerate(ranked, start=1):
        item.failure.rank = rank
    return ranked


def _pipeline_failure(summary: Mapping[str, Any]) -> list[Node]:
    """The run's own failure, when the graph shows no failed node (it failed before any stage started)."""
    failure = summary.get("failureInfo") or summary.get("executionErrorInfo")
    message = deepest_message(failure)
    if not message:
        return []
    status = str(summary.get("status") or "Failed")
    node = Node("pipeline", "pipeline", None, None, _status(status), status, is_step=False)
    node.message, node.failure_types = message, failure_types(failure)
    return [node]


def _idle_stages(summary: Mapping[str, Any], listed: set[str | None]) -> list[Node]:
    out = []
    for raw in _layout_stages(summary):
        status = _status(raw.get("status"))
        identifier = str(raw.get("nodeIdentifier") or "")
        if status in (S.SKIPPED, S.NOT_STARTED, *_ABORTS) and identifier not in listed:
            out.append(Node(f"pipeline.stages.{identifier}", identifier, identifier, raw.get("nodeType"), status,
                            str(raw.get("status")), is_step=False))  # fmt: skip
    return out


def _entry(node: Node, role: str, reason: str) -> Ranked:
    failure = Failure(
        rank=0,
        stage=node.stage,
        step=node.identifier if node.is_step else None,
        step_type=node.step_type,
        status=node.raw_status,
        failure_types=node.failure_types,
        message=node.message,
        delegate=node.delegate,
        retries=node.retries,
        started_at=_iso(node.start),
        role="root_cause" if role == "root_cause" else "downstream",
        reason=reason,
        child_execution_id=node.child.execution_id if node.child else None,
    )
    return Ranked(failure, node)


def _ref(node: Node | None) -> str:
    return node.where() if node is not None else "an earlier node"


def _root_reason(node: Node, first: Node | None, index: int) -> str:
    retried = f", after {node.retries} retr{'y' if node.retries == 1 else 'ies'}" if node.retries else ""
    if node.status in _ABORTS:
        who = f" by {node.aborted_by}" if node.aborted_by else ""
        return f"the run was aborted{who} here; nothing failed before it"
    if node.fqn == "pipeline":
        return "the pipeline failed without a failed stage or step in the graph"
    if index == 0:
        return f"first failure of the run (earliest start){retried}"
    return f"also failed, independently of {_ref(first)} (its own error){retried}"


def _abort_reason(node: Node, first: Node | None) -> str:
    if node.aborted_by:
        return f"aborted by {node.aborted_by}"
    return f"aborted after {_ref(first)} failed"


def _skip_reason(node: Node, first: Node | None) -> str:
    when = str(node.when or "")
    if when and not any(word in when for word in _STANDARD_WHEN):
        return "skipped by its own run condition, not by a failure"
    if first is not None and first.stage == node.stage and first.is_step:
        return f"skipped because step '{first.identifier}' failed earlier in stage '{node.stage}'"
    return f"skipped because stage '{first.stage if first else '?'}' failed"


def _stage_reason(node: Node, first: Node | None) -> str:
    verb = "did not run" if node.status is S.NOT_STARTED else str(node.raw_status).lower()
    if first is None or first.stage is None:
        return f"{verb} because the run ended early"
    return f"{verb} because stage '{first.stage}' failed"
