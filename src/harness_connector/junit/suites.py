"""What a `<testsuite>` gives the test cases inside it: their suite name, file, commit, branch, start, attempt.

- The suite of a test case is the innermost `<testsuite>` with a non-empty name (PHPUnit nests suites for the
  project, the class and each data provider; the root `<testsuites>` name, such as "jest tests", is not a suite).
- Playwright writes one suite per (project, spec file) and puts the project name in `hostname`. In a Playwright
  report (a root `<testsuites>` with an `id` attribute, which only Playwright writes) the project stays in the
  suite name, `login.spec.ts [chromium]`, or the same test on three browsers would be one test; the spec path
  is the file. Elsewhere `hostname` is a machine name and is ignored.
- A case's file is its own `file` attribute, else the nearest suite's; mocha and Cypress write the spec file
  only on the empty "Root Suite", and the suites after it inherit it.
- Suite `<properties>` fill what the caller's context leaves empty: `commit`/`commit_sha`/`git_commit`/
  `git.commit`/`git.sha`/`sha`/`revision` → commit, `branch`/`git_branch`/`git.branch` → branch, and
  `attempt`/`run_attempt`/`test_attempt` (1-based) or `retry`/`rerun`/`retry_count` (0-based) → the attempt
  number of the suite's runs (a pipeline that re-runs a test step can label its second report so). Properties
  apply to the cases after them, which is where every dialect writes them.
- A suite's `timestamp` is when its cases started, unless the caller's context says; a report without one
  takes the context's fallback time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from harness_connector.junit.ids import Hasher, id_hasher
from harness_connector.junit.model import JUnitContext
from harness_connector.junit.records import Context

__all__ = ["Frame", "apply_properties", "child_frame", "collection_frame", "epoch_ms", "root_frame"]

_COMMIT_KEYS = frozenset({"commit", "commit_sha", "git_commit", "git.commit", "git.sha", "sha", "revision"})
_BRANCH_KEYS = frozenset({"branch", "git_branch", "git.branch"})
_ATTEMPT_KEYS = frozenset({"attempt", "run_attempt", "test_attempt"})
_RETRY_KEYS = frozenset({"retry", "rerun", "retry_count"})
_MAX_ATTEMPT = 1000
_MAX_VALUE = 256


class Frame:
    """One open suite, as its test cases see it."""

    __slots__ = ("attempt", "carry_file", "class_name", "collection", "context", "file", "hasher", "seen", "suite")

    def __init__(self, suite: str, file: str | None, context: Context, attempt: int, seen: dict[str, int]) -> None:
        self.suite = suite
        self.file = file
        self.context = context
        self.attempt = attempt
        # Test id -> what the repeat detector remembers (see the parser); shared by nested suites.
        self.seen = seen
        self.collection = False  # the root <testsuites>: each suite in it is a top-level suite
        self.carry_file: str | None = None
        # The id hash of (suite, last class seen): consecutive cases of one class share it. NUL is never a class.
        self.class_name = "\x00"
        self.hasher: Hasher = id_hasher(suite, "")


def epoch_ms(timestamp: str | None) -> int | None:
    """An ISO 8601 suite timestamp as epoch milliseconds (UTC when no zone is given); None when unusable."""
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # gotestsum writes 0001-01-01 when it has no time: no time is better than a wrong one.
    return int(moment.timestamp() * 1000) if moment.year > 1970 else None


def _suite_name(element: etree._Element, playwright: bool) -> tuple[str, str | None]:
    name = (element.get("name") or "").strip()
    file = element.get("file")
    if playwright:
        file = file or name or None
        project = (element.get("hostname") or "").strip()
        if project and name:
            name = f"{name} [{project}]"
    return name, file


def root_frame(element: etree._Element, ctx: JUnitContext, playwright: bool, *, named: bool) -> Frame:
    """The frame of the root element: a `<testsuite>` (`named`) or the `<testsuites>` collection."""
    name, file = _suite_name(element, playwright) if named else ("", None)
    started = ctx.started_ms if ctx.started_ms is not None else epoch_ms(element.get("timestamp"))
    if started is None:
        started = ctx.fallback_started_ms  # nested suites with a timestamp of their own still override it
    context: Context = (
        ctx.execution_id,
        ctx.pipeline_id,
        ctx.stage_id,
        ctx.step_id,
        ctx.commit_sha,
        ctx.branch,
        ctx.pr_number,
        started,
    )
    frame = Frame(name, file, context, 1, {})
    frame.collection = not named
    return frame


def child_frame(element: etree._Element, parent: Frame, ctx: JUnitContext, playwright: bool) -> Frame:
    """The frame of a `<testsuite>` inside another suite or the collection."""
    name, own_file = _suite_name(element, playwright)
    context = parent.context
    if ctx.started_ms is None and (started := epoch_ms(element.get("timestamp"))) is not None:
        context = (*context[:7], started)
    if name == "Root Suite" and own_file:
        parent.carry_file = own_file
    # Repeats are looked for within a top-level suite, so that memory is bounded by the largest suite.
    seen = {} if parent.collection else parent.seen
    file = own_file or parent.file or parent.carry_file
    return Frame(name or parent.suite, file, context, parent.attempt, seen)


def collection_frame(parent: Frame) -> Frame:
    """The frame of a `<testsuites>` nested in another element: it only groups; each suite in it is top-level."""
    frame = Frame(parent.suite, parent.file, parent.context, parent.attempt, {})
    frame.collection = True
    return frame


def apply_properties(element: etree._Element, frame: Frame, ctx: JUnitContext) -> None:
    """Read a suite's `<properties>` into its frame (see the module docstring for the names understood)."""
    execution_id, pipeline_id, stage_id, step_id, commit, branch, pr_number, started = frame.context
    for prop in element:
        key = (prop.get("name") or "").strip().lower()
        value = (prop.get("value") or prop.text or "").strip()
        if not value or len(value) > _MAX_VALUE:
            continue
        if key in _COMMIT_KEYS and ctx.commit_sha is None:
            commit = value
        elif key in _BRANCH_KEYS and ctx.branch is None:
            branch = value
        elif key in _ATTEMPT_KEYS or key in _RETRY_KEYS:
            try:
                number = int(value) + (1 if key in _RETRY_KEYS else 0)
            except ValueError:
                continue
            frame.attempt = min(max(number, 1), _MAX_ATTEMPT)
    frame.context = (execution_id, pipeline_id, stage_id, step_id, commit, branch, pr_number, started)
