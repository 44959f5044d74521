"""The `test_result` resource type, served from the history store rather than Harness, and insight lines for status.

`test_result` lists stored test results (filters: test, suite, pipeline, status, branch, window) and gets one
test's history. It is not in the Harness registry: it has no Harness endpoint, only the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import anyio

from harness_connector.domain import TestOutcome
from harness_connector.errors import UsageError
from harness_connector.services.connection import Connection
from harness_connector.services.local_model import LocalType, require_store
from harness_connector.services.results import ItemDetail, ItemList
from harness_connector.services.shaping import iso_time, prune
from harness_connector.store import TestResultFilter, TestRunRow

__all__ = ["TEST_RESULTS", "history_insights", "history_row"]

_DAY_MS = 86_400_000
_GET_WINDOW_DAYS = 30  # a test's history reaches further back than the list's default window
_HISTORY_FIELDS = frozenset(
    {
        "outcome",
        "execution_id",
        "pipeline_id",
        "commit_sha",
        "branch",
        "attempt",
        "duration_ms",
        "run_at",
        "message",
    }
)


def _row(row: Any) -> dict[str, Any]:
    data = asdict(row)
    for key in ("started_ms", "run_ms", "last_failure_ms"):
        if isinstance(data.get(key), int):
            data[key.removesuffix("_ms") + "_at"] = iso_time(data.pop(key))
    data["outcome"] = str(data["outcome"]) if "outcome" in data else None
    pruned = prune(data)
    return pruned if isinstance(pruned, dict) else {}


def _filters(args: Mapping[str, Any], now_ms: int) -> TestResultFilter:
    test = args.get("test") or args.get("search_term")
    status = args.get("status")
    outcomes: tuple[TestOutcome, ...] = ()
    if status:
        try:
            outcomes = tuple(TestOutcome(str(s).lower()) for s in (status if isinstance(status, list) else [status]))
        except ValueError:
            raise UsageError(f"status must be one of {', '.join(o.value for o in TestOutcome)}") from None
    try:
        days = float(args.get("window_days") or 14)
    except (TypeError, ValueError):
        raise UsageError(f"window_days must be a number of days, not {args.get('window_days')!r}") from None
    is_id = isinstance(test, str) and len(test) == 16 and all(c in "0123456789abcdef" for c in test)
    return TestResultFilter(
        test_id=test if is_id else None,
        search=None if is_id else test,
        suite=args.get("suite"),
        pipeline_id=args.get("pipeline_id"),
        outcomes=outcomes,
        branch=args.get("branch"),
        since_ms=now_ms - int(days * _DAY_MS),
    )


def history_row(row: TestRunRow) -> dict[str, Any]:
    """One stored result as a history line: outcome, where and when it ran, and its message."""
    return {k: v for k, v in _row(row).items() if k in _HISTORY_FIELDS}


async def _list_results(conn: Connection, args: Mapping[str, Any], page: int, size: int, now_ms: int) -> ItemList:
    store = require_store(conn)
    filters = _filters(args, now_ms)
    found = await anyio.to_thread.run_sync(lambda: store.test_results(filters, page=page, size=size))
    return ItemList(
        resource_type="test_result",
        items=[_row(r) for r in found.items],
        page=found.page,
        size=found.size,
        total=found.total,
        has_more=found.has_more,
    )


async def _test_history(conn: Connection, test_id: str, args: Mapping[str, Any], now_ms: int) -> ItemDetail:
    store = require_store(conn)
    since = now_ms - _GET_WINDOW_DAYS * _DAY_MS
    rows = await anyio.to_thread.run_sync(lambda: store.test_history(test_id, since_ms=since, limit=50))
    if not rows:
        raise UsageError(f"no stored results for test {test_id} in the last {_GET_WINDOW_DAYS} days")
    first = rows[0]
    outcomes = [str(r.outcome) for r in rows]
    item = {
        "test": f"{first.class_name or first.suite}::{first.name}",
        "suite": first.suite,
        "runs": len(rows),
        "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
        "history": [history_row(r) for r in rows],
    }
    return ItemDetail(resource_type="test_result", id=test_id, item=item)


TEST_RESULTS = LocalType(
    name="test_result",
    description="Test results kept in the history store (synced from Harness or ingested from JUnit); get gives a "
    "test's history.",
    id_field="test_id",
    filters={
        "test": "A test id, or a word in the test's name, class or suite.",
        "suite": "Only this suite.",
        "pipeline_id": "Only results of this pipeline.",
        "status": "passed, failed, error, skipped or flaky.",
        "branch": "Only results on this branch.",
        "window_days": "How many days back (default 14).",
    },
    list_items=_list_results,
    list_description="stored results, newest first",
    get_item=_test_history,
    get_description=f"one test's history over {_GET_WINDOW_DAYS} days, newest first",
    example={"filters": {"status": "failed"}},
)


async def history_insights(conn: Connection, *, org: str, project: str, since_ms: int, until_ms: int) -> list[str]:
    """Lines for status from the store: runs in the window, and the tests failing most often."""
    if conn.store is None:
        return []
    store = conn.store
    summary = await anyio.to_thread.run_sync(
        lambda: store.project_summary(since_ms, until_ms, org=org, project=project, top=3)
    )
    if not summary.executions:
        return []
    lines = [f"history store: {summary.executions} synced runs in the window, {summary.failed} failed"]
    lines.extend(
        f"test {test.class_name or test.suite}::{test.name} failed {test.failures} of {test.runs} first attempts "
        f"(test_result id {test.test_id})"
        for test in summary.most_failing_tests
        if test.failures
    )
    return lines
