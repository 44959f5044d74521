"""How each kind of record becomes a row of its table, and back: column order, natural key, what a repeated write
does, and the values the store derives at write time (normalised status, failure and success flags)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

from harness_connector.domain.history import (
    Deployment,
    ExecutionFact,
    LogSignature,
    NodeFact,
    StepLog,
    SyncCursor,
    TelemetryEvent,
    TestResult,
)
from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.domain.status import ExecutionStatus
from harness_connector.store.schema import PAIR_KEY

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class TableSpec(Generic[R]):
    """Where records of one kind go. With `replace`, writing a stored key again replaces the row (records whose
    state can still change); without, the stored row stays (facts that never change once reported)."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    replace: bool
    to_row: Callable[[R], tuple[object, ...]]
    # (column, SQL expression over the staged columns): values the store derives in SQL as it inserts.
    computed: tuple[tuple[str, str], ...] = ()
    # Statements run after the insert, in the same transaction, reading the staging table `{stage}`.
    then: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Writes find a row's key as its first columns.
        if self.columns[: len(self.key)] != self.key:
            raise ValueError(f"{self.table}: the key {self.key} must be the first columns")

    @property
    def stage(self) -> str:
        return f"stage_{self.table}"


def status_flags(status: str) -> tuple[str, bool, bool]:
    """The status in Harness's display spelling, whether it is a failure, and whether it is a success.

    Unknown spellings are kept as given and count as neither, so a new Harness status never breaks a sync.
    """
    try:
        known = ExecutionStatus.parse(status)
    except ValueError:
        return status, False, False
    return known.value, known.is_failure, known is ExecutionStatus.SUCCESS


def _execution_row(e: ExecutionFact) -> tuple[object, ...]:
    status, failed, succeeded = status_flags(e.status)
    return (
        e.execution_id, e.account_id, e.org, e.project, e.pipeline_id, e.pipeline_name, e.run_sequence, status,
        failed, succeeded, e.started_ms, e.ended_ms, e.trigger_type, e.triggered_by, e.branch, e.target_branch,
        e.commit_sha, e.repo, e.pr_number, e.failure_message, list(e.failure_types), e.retry_of, e.is_rerun,
    )  # fmt: skip


def _node_row(n: NodeFact) -> tuple[object, ...]:
    status, failed, succeeded = status_flags(n.status)
    return (
        n.execution_id, n.node_id, n.kind, n.stage_id, n.identifier, n.name, n.step_type, status, failed, succeeded,
        list(n.failure_types), n.failure_message, n.delegate, n.started_ms, n.ended_ms, n.duration_ms, n.log_key,
    )  # fmt: skip


def _telemetry_row(t: TelemetryEvent) -> tuple[object, ...]:
    return (t.time_ms, t.source, t.kind, t.host or "", t.message, t.service)


EXECUTION_FIELDS = (
    "execution_id", "account_id", "org", "project", "pipeline_id", "pipeline_name", "run_sequence", "status",
    "started_ms", "ended_ms", "trigger_type", "triggered_by", "branch", "target_branch", "commit_sha", "repo",
    "pr_number", "failure_message", "failure_types", "retry_of", "is_rerun",
)  # fmt: skip
NODE_FIELDS = (
    "execution_id", "node_id", "kind", "stage_id", "identifier", "name", "step_type", "status", "failure_types",
    "failure_message", "delegate", "started_ms", "ended_ms", "log_key",
)  # fmt: skip
TEST_RESULT_FIELDS = (
    "execution_id", "test_id", "attempt", "suite", "class_name", "name", "outcome", "duration_ms", "message",
    "failure_type", "pipeline_id", "stage_id", "step_id", "commit_sha", "branch", "pr_number", "started_ms", "file",
)  # fmt: skip
LOG_SIGNATURE_FIELDS = (
    "execution_id", "step_id", "template_id", "stage_id", "template", "count", "first_line", "sample", "level",
)  # fmt: skip
DEPLOYMENT_FIELDS = (
    "execution_id", "stage_id", "service_id", "environment_id", "environment_type", "infrastructure_id", "artifact",
    "artifact_tag", "strategy", "status", "started_ms", "ended_ms", "pipeline_id",
)  # fmt: skip

EXECUTIONS: TableSpec[ExecutionFact] = TableSpec(
    "executions",
    (*EXECUTION_FIELDS[:8], "is_failure", "is_success", *EXECUTION_FIELDS[8:]),
    ("execution_id",),
    True,
    _execution_row,
)
NODES: TableSpec[NodeFact] = TableSpec(
    "nodes",
    (*NODE_FIELDS[:8], "is_failure", "is_success", *NODE_FIELDS[8:13], "duration_ms", "log_key"),
    ("execution_id", "node_id"),
    True,
    _node_row,
)
# attrgetter builds the row in C: test results are the one table written by the million.
TEST_RESULTS: TableSpec[TestResult] = TableSpec(
    "test_results",
    TEST_RESULT_FIELDS,
    ("execution_id", "test_id", "attempt"),
    False,
    attrgetter(*TEST_RESULT_FIELDS),
    computed=(("pair_key", PAIR_KEY),),
    then=(
        "INSERT INTO tests SELECT test_id, any_value(suite), any_value(class_name), any_value(name) "
        "FROM {stage} GROUP BY test_id ON CONFLICT DO NOTHING",
    ),
)
LOG_SIGNATURES: TableSpec[LogSignature] = TableSpec(
    "log_signatures",
    LOG_SIGNATURE_FIELDS,
    ("execution_id", "step_id", "template_id"),
    False,
    attrgetter(*LOG_SIGNATURE_FIELDS),
)
DEPLOYMENTS: TableSpec[Deployment] = TableSpec(
    "deployments", DEPLOYMENT_FIELDS, ("execution_id", "stage_id"), True, attrgetter(*DEPLOYMENT_FIELDS)
)
TELEMETRY: TableSpec[TelemetryEvent] = TableSpec(
    "telemetry",
    ("time_ms", "source", "kind", "host", "message", "service"),
    ("time_ms", "source", "kind", "host", "message"),
    False,
    _telemetry_row,
)
STEP_LOG_FIELDS = ("execution_id", "step_id", "stage_id", "line_count", "byte_count", "content")
STEP_LOGS: TableSpec[StepLog] = TableSpec(
    "step_logs", STEP_LOG_FIELDS, ("execution_id", "step_id"), False, attrgetter(*STEP_LOG_FIELDS)
)
QUARANTINE_FIELDS = (
    "proposal_id", "test_id", "suite", "class_name", "name", "file", "status", "reason", "evidence", "proposed_ms",
    "decided_by", "decided_ms", "lifted_ms", "lift_reason",
)  # fmt: skip
# Replaced when written again: a proposal's status changes as people decide.
QUARANTINE: TableSpec[QuarantineProposal] = TableSpec(
    "quarantine", QUARANTINE_FIELDS, ("proposal_id",), True, attrgetter(*QUARANTINE_FIELDS)
)
QUARANTINE_AUDIT_FIELDS = ("proposal_id", "at_ms", "action", "actor", "detail")
QUARANTINE_AUDIT: TableSpec[QuarantineAuditEntry] = TableSpec(
    "quarantine_audit",
    QUARANTINE_AUDIT_FIELDS,
    ("proposal_id", "at_ms", "action", "actor"),
    False,
    attrgetter(*QUARANTINE_AUDIT_FIELDS),
)
WRITTEN: tuple[TableSpec[Any], ...] = (
    EXECUTIONS, NODES, TEST_RESULTS, LOG_SIGNATURES, DEPLOYMENTS, TELEMETRY, STEP_LOGS, QUARANTINE, QUARANTINE_AUDIT,
)  # fmt: skip
DATA_TABLES = (
    "executions", "nodes", "test_results", "tests", "log_signatures", "deployments", "telemetry", "step_logs",
    "sync_cursors", "quarantine", "quarantine_audit",
)  # fmt: skip


def execution_from_row(row: Sequence[Any]) -> ExecutionFact:
    """An `ExecutionFact` from a row of `queries.EXECUTION_COLUMNS`."""
    values = dict(zip(EXECUTION_FIELDS, row, strict=True))
    values["failure_types"] = tuple(values["failure_types"])
    return ExecutionFact(**values)


def node_from_row(row: Sequence[Any]) -> NodeFact:
    """A `NodeFact` from a row of `NODE_FIELDS`."""
    values = dict(zip(NODE_FIELDS, row, strict=True))
    values["failure_types"] = tuple(values["failure_types"])
    return NodeFact(**values)


def log_signature_from_row(row: Sequence[Any]) -> LogSignature:
    """A `LogSignature` from a row of `LOG_SIGNATURE_FIELDS`."""
    return LogSignature(**dict(zip(LOG_SIGNATURE_FIELDS, row, strict=True)))


def step_log_from_row(row: Sequence[Any]) -> StepLog:
    """A `StepLog` from a row of `STEP_LOG_FIELDS`."""
    values = dict(zip(STEP_LOG_FIELDS, row, strict=True))
    values["content"] = bytes(values["content"])
    return StepLog(**values)


def quarantine_from_row(row: Sequence[Any]) -> QuarantineProposal:
    """A `QuarantineProposal` from a row of `QUARANTINE_FIELDS`."""
    values = dict(zip(QUARANTINE_FIELDS, row, strict=True))
    values["status"] = QuarantineStatus(values["status"])
    return QuarantineProposal(**values)


def quarantine_audit_from_row(row: Sequence[Any]) -> QuarantineAuditEntry:
    """A `QuarantineAuditEntry` from a row of `QUARANTINE_AUDIT_FIELDS`."""
    return QuarantineAuditEntry(**dict(zip(QUARANTINE_AUDIT_FIELDS, row, strict=True)))


def deployment_from_row(row: Sequence[Any]) -> Deployment:
    """A `Deployment` from a row of `DEPLOYMENT_FIELDS`."""
    return Deployment(**dict(zip(DEPLOYMENT_FIELDS, row, strict=True)))


def telemetry_from_row(row: Sequence[Any]) -> TelemetryEvent:
    """A `TelemetryEvent` from a row of (time_ms, source, kind, service, host, message)."""
    time_ms, source, kind, service, host, message = row
    return TelemetryEvent(time_ms=time_ms, source=source, kind=kind, service=service, host=host, message=message)


CURSOR_COLUMNS = "account_id, org, project, synced_until_ms, last_execution_id, updated_ms, extra_json"


def cursor_row(cursor: SyncCursor) -> list[object]:
    """The parameters of a `sync_cursors` row, in `CURSOR_COLUMNS` order."""
    extra = json.dumps(cursor.extra, sort_keys=True)
    return [cursor.account_id, cursor.org, cursor.project, cursor.synced_until_ms, cursor.last_execution_id,
            cursor.updated_ms, extra]  # fmt: skip


def cursor_from_row(row: Sequence[Any]) -> SyncCursor:
    """A `SyncCursor` from a row of `CURSOR_COLUMNS`."""
    account_id, org, project, synced_until_ms, last_execution_id, updated_ms, extra = row
    return SyncCursor(
        account_id=account_id,
        org=org,
        project=project,
        synced_until_ms=synced_until_ms,
        last_execution_id=last_execution_id,
        updated_ms=updated_ms,
        extra=json.loads(extra),
    )
