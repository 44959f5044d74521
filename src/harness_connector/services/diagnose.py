"""`harness_diagnose`: why an execution failed, whether a connector works, and how the delegates are doing.

The work is split by concern: `diagnose_execution` (fetching, chained runs, logs), `diagnose_graph` (ranking
failures in an execution detail, pure), `diagnose_logs` (picking log lines within a budget, pure),
`diagnose_connector`, `diagnose_delegates` and `diagnose_models` (the results). This module is the entry point.
"""

from __future__ import annotations

from harness_connector.services.diagnose_connector import diagnose_connector
from harness_connector.services.diagnose_delegates import diagnose_delegates
from harness_connector.services.diagnose_execution import MAX_CHILD_DEPTH, diagnose_execution
from harness_connector.services.diagnose_models import (
    ChildExecution,
    ConnectorDiagnosis,
    DelegateDiagnosis,
    DelegateHealth,
    ExcerptLine,
    ExecutionDiagnosis,
    ExecutionInfo,
    Failure,
    LogExcerpt,
    PipelineRef,
    StageSummary,
    UnmatchedSelector,
)

__all__ = [
    "MAX_CHILD_DEPTH",
    "ChildExecution",
    "ConnectorDiagnosis",
    "DelegateDiagnosis",
    "DelegateHealth",
    "ExcerptLine",
    "ExecutionDiagnosis",
    "ExecutionInfo",
    "Failure",
    "LogExcerpt",
    "PipelineRef",
    "StageSummary",
    "UnmatchedSelector",
    "diagnose_connector",
    "diagnose_delegates",
    "diagnose_execution",
]
