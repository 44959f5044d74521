"""Typed records shared by every layer. Nothing here does I/O."""

from harness_connector.domain.history import (
    Deployment,
    ExecutionFact,
    LogSignature,
    NodeFact,
    StepLog,
    SyncCursor,
    TelemetryEvent,
    TestOutcome,
    TestResult,
)
from harness_connector.domain.logs import LogLine
from harness_connector.domain.refs import HarnessRef
from harness_connector.domain.status import ExecutionStatus
from harness_connector.domain.test_reports import TestCaseResult, TestReportSummary, TestStatus, TestSuiteResult

__all__ = [
    "Deployment",
    "ExecutionFact",
    "ExecutionStatus",
    "HarnessRef",
    "LogLine",
    "LogSignature",
    "NodeFact",
    "StepLog",
    "SyncCursor",
    "TelemetryEvent",
    "TestCaseResult",
    "TestOutcome",
    "TestReportSummary",
    "TestResult",
    "TestStatus",
    "TestSuiteResult",
]
