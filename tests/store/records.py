"""Record builders with plain defaults, so a test states only the fields it is about."""

from __future__ import annotations

from typing import Any

from harness_connector.domain.history import (
    Deployment,
    ExecutionFact,
    LogSignature,
    NodeFact,
    TelemetryEvent,
    TestOutcome,
    TestResult,
)


def execution(execution_id: str, **fields: Any) -> ExecutionFact:
    values: dict[str, Any] = {
        "account_id": "acct",
        "org": "default",
        "project": "payments",
        "pipeline_id": "build",
        "status": "Success",
        "branch": "main",
    }
    return ExecutionFact(execution_id=execution_id, **(values | fields))


def result(test_id: str, execution_id: str, outcome: TestOutcome, **fields: Any) -> TestResult:
    values: dict[str, Any] = {"suite": "unit", "class_name": f"com.acme.{test_id}Test", "name": f"test_{test_id}"}
    return TestResult(test_id=test_id, execution_id=execution_id, outcome=outcome, **(values | fields))


def step(execution_id: str, identifier: str, **fields: Any) -> NodeFact:
    values: dict[str, Any] = {"kind": "step", "stage_id": "ci", "status": "Success"}
    return NodeFact(
        execution_id=execution_id, node_id=f"{execution_id}/{identifier}", identifier=identifier, **(values | fields)
    )


def signature(execution_id: str, template_id: str, **fields: Any) -> LogSignature:
    values: dict[str, Any] = {
        "step_id": "compile",
        "template": f"template {template_id} <*>",
        "count": 1,
        "first_line": 1,
        "sample": f"template {template_id} 42",
    }
    return LogSignature(execution_id=execution_id, template_id=template_id, **(values | fields))


def deployment(execution_id: str, stage_id: str, **fields: Any) -> Deployment:
    values: dict[str, Any] = {"service_id": "cart", "environment_id": "prod", "status": "Success"}
    return Deployment(execution_id=execution_id, stage_id=stage_id, **(values | fields))


def event(time_ms: int, kind: str, **fields: Any) -> TelemetryEvent:
    values: dict[str, Any] = {"source": "net", "message": f"{kind} seen"}
    return TelemetryEvent(time_ms=time_ms, kind=kind, **(values | fields))
