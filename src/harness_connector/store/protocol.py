"""The `Store` protocol: the only interface services use to keep and query history.

Writes are idempotent: every record has a natural key (see `domain.history`), and writing a record again changes
nothing, or, for the `upsert_*` methods, replaces the stored version with the newer one. Every write is atomic, and
`transaction()` makes several writes one: an execution and all its nodes and tests go in together or not at all.

Writes take any iterable, a generator included, and store it in bounded memory. Execution and node statuses are
stored in Harness's display spelling (`FAILED` and `Failed` are both `Failed`); a status Harness adds later is kept
as given.

Calls block; async callers run them in a worker thread (`anyio.to_thread.run_sync`). A store may be shared by
threads.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager
from typing import Protocol

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
from harness_connector.store.filters import ExecutionFilter, TestResultFilter
from harness_connector.store.rows import (
    ExecutionTestsRow,
    Page,
    ProjectSummary,
    SignatureOccurrenceRow,
    StepDurationRow,
    StepRunRow,
    TestCommitRow,
    TestRunRow,
    TestTotalsRow,
)

__all__ = ["Store"]


class Store(Protocol):
    """History of executions, nodes, tests, log signatures, deployments and telemetry, with named queries.

    Every method raises `StoreError` (or a subclass) when the store fails; a failed write leaves nothing behind.
    List queries raise `UsageError` for a negative page or a size outside 1-1000.
    """

    # Lifecycle

    def migrate(self) -> int:
        """Bring the schema up to date (a no-op when it is) and return its version.

        Raises:
            StoreSchemaError: the store was written by a newer version of the connector.
        """
        ...

    def close(self) -> None:
        """Release the store; calling it again does nothing."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Make the writes inside the block all-or-nothing. Nested blocks join the outermost one; other threads
        wait until it ends."""
        ...

    # Writes

    def upsert_executions(self, executions: Iterable[ExecutionFact]) -> int:
        """Store executions, replacing stored versions; return how many were new."""
        ...

    def upsert_nodes(self, nodes: Iterable[NodeFact]) -> int:
        """Store stage and step nodes, replacing stored versions; return how many were new."""
        ...

    def add_test_results(self, results: Iterable[TestResult]) -> int:
        """Store test results not stored yet; return how many were new."""
        ...

    def add_log_signatures(self, signatures: Iterable[LogSignature]) -> int:
        """Store log signatures not stored yet; return how many were new."""
        ...

    def add_deployments(self, deployments: Iterable[Deployment]) -> int:
        """Store deployments, replacing stored versions (a deployment's status changes as it runs); return how
        many were new."""
        ...

    def add_telemetry(self, events: Iterable[TelemetryEvent]) -> int:
        """Store telemetry events not stored yet; return how many were new."""
        ...

    def save_quarantine(self, proposal: QuarantineProposal, audit: QuarantineAuditEntry) -> None:
        """Write a proposal (new, or replacing the stored one with the same id) and its audit entry, atomically."""
        ...

    def quarantine(self, proposal_id: str) -> QuarantineProposal | None:
        """One quarantine proposal, or None."""
        ...

    def quarantines(self, *, statuses: Collection[QuarantineStatus] | None = None) -> list[QuarantineProposal]:
        """Quarantine proposals, newest first, optionally only those in `statuses`."""
        ...

    def quarantine_audit(self, proposal_id: str | None = None) -> list[QuarantineAuditEntry]:
        """The audit trail, oldest first: of one proposal, or of all."""
        ...

    def known_execution_ids(self, ids: Iterable[str]) -> set[str]:
        """The given execution ids that are stored already (what a sync can skip)."""
        ...

    def get_cursor(self, account_id: str, org: str, project: str) -> SyncCursor | None:
        """How far the project has been synced, or None before its first sync."""
        ...

    def set_cursor(self, cursor: SyncCursor) -> None:
        """Record how far a project has been synced, replacing the previous cursor."""
        ...

    def counts(self) -> dict[str, int]:
        """Rows per table: executions, nodes, test_results, tests (distinct test ids), log_signatures,
        deployments, telemetry, sync_cursors."""
        ...

    # Point reads

    def execution(self, execution_id: str) -> ExecutionFact | None:
        """One stored execution, or None."""
        ...

    def nodes(self, execution_id: str) -> list[NodeFact]:
        """An execution's stages and steps, in start order."""
        ...

    def log_signatures(self, execution_id: str) -> list[LogSignature]:
        """The log signatures stored for an execution, by step and first line."""
        ...

    def add_step_logs(self, logs: Iterable[StepLog]) -> int:
        """Store raw step logs; a (execution, step) already stored is kept. Returns how many were new."""
        ...

    def step_log(self, execution_id: str, step_id: str) -> StepLog | None:
        """The raw log kept for one step of an execution, if a sync kept it."""
        ...

    # Named queries

    def test_outcomes_by_commit(
        self,
        *,
        since_ms: int,
        until_ms: int,
        pipeline_id: str | None = None,
        branch: str | None = None,
        only_failing: bool = True,
    ) -> list[TestCommitRow]:
        """Per test and commit, how its runs went, ordered by test and commit.

        With `only_failing` (the default), only the (test, commit) pairs with at least one failure, error or flaky
        result: a commit on which a test only passed carries no flakiness evidence, and its counts are in
        `test_totals`. Without it, every pair: millions on a large store, so narrow the window or the pipeline.
        Results without a commit are left out.
        """
        ...

    def test_totals(
        self,
        *,
        since_ms: int,
        until_ms: int,
        pipeline_id: str | None = None,
        branch: str | None = None,
        test_ids: Collection[str] | None = None,
    ) -> list[TestTotalsRow]:
        """Per test, its totals over the window, ordered by test id."""
        ...

    def test_history(self, test_id: str, *, since_ms: int, limit: int = 100) -> list[TestRunRow]:
        """A test's most recent results, newest first."""
        ...

    def test_histories(
        self, test_ids: Collection[str], *, since_ms: int, limit: int = 100
    ) -> dict[str, list[TestRunRow]]:
        """`test_history` of several tests in one query: each test's newest `limit` results, newest first. Tests
        without results in the window are absent."""
        ...

    def test_files(self, test_ids: Collection[str]) -> dict[str, str]:
        """The source file of each test, as its newest result with a file gave it; tests without one are absent."""
        ...

    def execution_tests(
        self, *, since_ms: int, until_ms: int, pipeline_id: str | None = None, branch: str | None = None
    ) -> list[ExecutionTestsRow]:
        """Per execution that started in the window and reported tests, how its tests went, oldest first."""
        ...

    def busiest_branch(self, *, since_ms: int, until_ms: int, pipeline_id: str | None = None) -> str | None:
        """The branch most executions outside pull requests ran on in the window: the default branch, in practice."""
        ...

    def test_results(self, filters: TestResultFilter, *, page: int = 0, size: int = 50) -> Page[TestRunRow]:
        """A page of test results, newest first."""
        ...

    def signature_occurrences(
        self, template_id: str, *, since_ms: int, until_ms: int | None = None
    ) -> list[SignatureOccurrenceRow]:
        """Where else a log signature appeared: per pipeline and branch, the first and last execution that logged
        it, in order of first appearance."""
        ...

    def step_durations(
        self, pipeline_id: str, stage_id: str, step_id: str | None, *, since_ms: int, until_ms: int | None = None
    ) -> StepDurationRow:
        """Duration percentiles of a step's successful runs (of the stage itself when `step_id` is None)."""
        ...

    def step_history(
        self, pipeline_id: str, stage_id: str, step_id: str | None, *, since_ms: int, limit: int = 50
    ) -> list[StepRunRow]:
        """A step's (or stage's) most recent runs, newest first: is this failure new, and where did it run?"""
        ...

    def telemetry_between(
        self,
        start_ms: int,
        end_ms: int,
        *,
        kinds: Collection[str] | None = None,
        host: str | None = None,
        service: str | None = None,
    ) -> list[TelemetryEvent]:
        """Telemetry events in `[start_ms, end_ms)`, oldest first."""
        ...

    def executions(self, filters: ExecutionFilter, *, page: int = 0, size: int = 50) -> Page[ExecutionFact]:
        """A page of executions, newest first."""
        ...

    def deployments_between(
        self,
        start_ms: int,
        end_ms: int,
        *,
        service_id: str | None = None,
        environment_id: str | None = None,
    ) -> list[Deployment]:
        """Deployments that started in `[start_ms, end_ms)`, oldest first."""
        ...

    def project_summary(
        self, since_ms: int, until_ms: int, *, org: str | None = None, project: str | None = None, top: int = 5
    ) -> ProjectSummary:
        """Runs and failures over a window, with the `top` most failing pipelines and tests."""
        ...
