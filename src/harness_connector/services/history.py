"""Resource types served from the history store rather than Harness, and insight lines for status.

`test_result` lists stored test results (filters: test, suite, pipeline, status, branch, window) and gets one
test's history. These types are not in the Harness registry: they have no Harness endpoint, only the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import anyio

from harness_connector.domain import TestOutcome
from harness_connector.errors import UsageError
from harness_connector.services.connection import Connection
from harness_connector.services.results import ItemDetail, ItemList
from harness_connector.services.shaping import iso_time, prune
from harness_connector.store import Store, TestResultFilter

__all__ = ["LOCAL_TYPES", "LocalType", "get_local", "history_insights", "list_local"]

_DAY_MS = 86_400_000
_HISTORY_FIELDS = frozenset(
    {
        "outcome",
        "execution_id",
        "pipeline_id",
        "commit_sha",
        "branch",
        "attempt",
        "duration_ms",
        "started_at",
        "message",
    }
)


class LocalType:
    """A resource type answered from the store: its name, what it is, and the filters its list takes."""

    def __init__(self, name: str, description: str, filters: Mapping[str, str]) -> None:
        self.name = name
        self.description = description
        self.filters = dict(filters)


LOCAL_TYPES: dict[str, LocalType] = {
    "test_result": LocalType(
        "test_result",
        "Test results kept in the history store (synced from Harness or ingested from JUnit); get gives a test's "
        "history.",
        {
            "test": "A test id, or a word in the test's name, class or suite.",
            "suite": "Only this suite.",
            "pipeline_id": "Only results of this pipeline.",
            "status": "passed, failed, error, skipped or flaky.",
            "branch": "Only results on this branch.",
            "window_days": "How many days back (default 14).",
        },
    )
}


def _store(conn: Connection) -> Store:
    if conn.store is None:
        raise UsageError("no history store is open: run `harness-connector sync` (or set HARNESS_DB) first")
    return conn.store


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
    days = float(args.get("window_days") or 14)
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


async def list_local(
    conn: Connection, name: str, args: Mapping[str, Any], *, page: int, size: int, now_ms: int
) -> ItemList:
    """A page of a store-backed type."""
    store = _store(conn)
    filters = _filters(args, now_ms)
    found = await anyio.to_thread.run_sync(lambda: store.test_results(filters, page=page, size=size))
    return ItemList(
        resource_type=name,
        items=[_row(r) for r in found.items],
        page=found.page,
        size=found.size,
        total=found.total,
        has_more=found.has_more,
    )


async def get_local(conn: Connection, name: str, test_id: str, *, now_ms: int, window_days: float = 30) -> ItemDetail:
    """One test's recent history, newest first."""
    store = _store(conn)
    since = now_ms - int(window_days * _DAY_MS)
    rows = await anyio.to_thread.run_sync(lambda: store.test_history(test_id, since_ms=since, limit=50))
    if not rows:
        raise UsageError(f"no stored results for test {test_id} in the last {window_days:g} days")
    first = rows[0]
    outcomes = [str(r.outcome) for r in rows]
    item = {
        "test": f"{first.class_name or first.suite}::{first.name}",
        "suite": first.suite,
        "runs": len(rows),
        "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
        "history": [
            {
                k: v
                for k, v in _row(r).items()
                if k
                in (
                    "outcome",
                    "execution_id",
                    "pipeline_id",
                    "commit_sha",
                    "branch",
                    "attempt",
                    "duration_ms",
                    "started_at",
                    "message",
                )
            }
            for r in rows
        ],
    }
    return ItemDetail(resource_type=name, id=test_id, item=item)


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
