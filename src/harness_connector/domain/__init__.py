"""Typed records shared by every layer. Nothing here does I/O."""

from harness_connector.domain.logs import LogLine
from harness_connector.domain.refs import HarnessRef
from harness_connector.domain.status import ExecutionStatus
from harness_connector.domain.test_reports import TestCaseResult, TestReportSummary, TestStatus, TestSuiteResult

__all__ = [
    "ExecutionStatus",
    "HarnessRef",
    "LogLine",
    "TestCaseResult",
    "TestReportSummary",
    "TestStatus",
    "TestSuiteResult",
]
