"""Every field of every stored record has a column, so a field added to a domain record cannot be dropped silently."""

from __future__ import annotations

from dataclasses import fields

import pytest

from harness_connector.domain.history import Deployment, ExecutionFact, LogSignature, NodeFact, TestResult
from harness_connector.store import _tables as tables


@pytest.mark.parametrize(
    ("record", "columns"),
    [
        (ExecutionFact, tables.EXECUTION_FIELDS),
        (NodeFact, tables.NODE_FIELDS),
        (TestResult, tables.TEST_RESULT_FIELDS),
        (LogSignature, tables.LOG_SIGNATURE_FIELDS),
        (Deployment, tables.DEPLOYMENT_FIELDS),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_record_field_is_stored(record: type, columns: tuple[str, ...]) -> None:
    assert sorted(columns) == sorted(f.name for f in fields(record))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Failed", ("Failed", True, False)),
        ("FAILED", ("Failed", True, False)),
        ("SUCCEEDED", ("Success", False, True)),
        ("Aborted", ("Aborted", False, False)),
        ("Brand_New_State", ("Brand_New_State", False, False)),
    ],
)
def test_statuses_are_stored_in_display_spelling_with_their_failure_and_success_flags(
    status: str, expected: tuple[str, bool, bool]
) -> None:
    assert tables.status_flags(status) == expected
