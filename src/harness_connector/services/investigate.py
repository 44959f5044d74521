"""Investigate a failed build: why it failed, whether it is transient, and what to do, with the evidence.

The steps, each its own function:

1. `analyse_execution` (from diagnose): locate and fetch the run, rank its failures, follow chained runs.
2. `_read_step`: stream the root-cause step's log once through a `StepLogScan` (bounded memory, a few string
   tests a line), whatever its size.
3. `_baseline`: the same step in the pipeline's last successful run before this one, scanned the same way and
   mined into templates, so lines the success also printed can be told from lines new in the failure.
4. `_history`: from the history store, when it has data: the failing tests' verdicts (flaky or broken), the same
   error signature in other pipelines, network-error telemetry around the failure, the step's usual duration, and
   where the error first appeared.
5. `classify` (pure, `analysis/failures`), then the verdict is written for people within a token budget.

`investigate_log` does steps 2 and 5 for a standalone log file, with no Harness at all.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from harness_connector.analysis.failures.classifier import (
    Classification,
    FailureSignals,
    HistorySignals,
    TestSignal,
    classify,
)
from harness_connector.analysis.failures.scan import ScannedLog, StepLogScan
from harness_connector.analysis.failures.taxonomy import Action, Category, Taxonomy, load_taxonomy
from harness_connector.analysis.failures.test_history import judge_test
from harness_connector.analysis.log_signatures import signatures
from harness_connector.analysis.logs import TemplateMiner
from harness_connector.analysis.logs.masking import strip_ansi
from harness_connector.domain.history import TestOutcome
from harness_connector.domain.logs import LogLine
from harness_connector.errors import HarnessError, UsageError
from harness_connector.harness.logs import LogService, parse_log_text
from harness_connector.harness.registry import get_resource_type
from harness_connector.services.connection import Connection
from harness_connector.services.diagnose_execution import LogTarget, analyse_execution, next_steps
from harness_connector.services.diagnose_logs import looks_like_error
from harness_connector.services.diagnose_models import Failure
from harness_connector.services.investigate_models import (
    EvidenceLine,
    FailedStep,
    HistoryEvidence,
    Investigation,
    LogInvestigation,
    Verdict,
)
from harness_connector.services.shaping import dig
from harness_connector.store import ExecutionFilter, Store, TestResultFilter

__all__ = ["investigate_execution", "investigate_log"]

_MINUTE_MS = 60_000
_DAY_MS = 24 * 60 * _MINUTE_MS
_SIGNATURE_WINDOW_MS = 3 * 60 * _MINUTE_MS  # "at the same time" for other pipelines' failures
_EVENT_BEFORE_MS, _EVENT_AFTER_MS = 30 * _MINUTE_MS, 10 * _MINUTE_MS
_ONGOING_MS = 15 * _MINUTE_MS
_HISTORY_MS = 14 * _DAY_MS
_MAX_TESTS = 10
_MAX_EVIDENCE = 12
_LINE_CHARS = 240
_HOST = re.compile(r"(?:https?://|host=')([a-z0-9.-]+\.[a-z]{2,})", re.IGNORECASE)
_NETWORK_KINDS = ("network", "dns", "timeout", "connection", "reset", "tls")
_CATEGORY_WORDS = {
    Category.DEPENDENCY_REGISTRY_OUTAGE: "a package or image registry was unavailable",
    Category.NETWORK: "a network error",
    Category.RATE_LIMIT: "a rate limit",
    Category.RUNNER_ENVIRONMENT: "the build machine or its infrastructure failed",
    Category.TIMEOUT: "a timeout",
    Category.AUTHENTICATION: "credentials were missing or rejected",
    Category.CONFIGURATION: "the pipeline's configuration is wrong",
    Category.COMPILE_ERROR: "the code does not compile",
    Category.TEST_FAILURE: "tests failed",
    Category.DEPLOYMENT: "the deployment failed",
    Category.APPROVAL_REJECTED: "an approver rejected it",
    Category.UNKNOWN: "no known cause",
}
_ACTION_WORDS = {
    Action.RERUN_NOW: "re-run now",
    Action.RERUN_AFTER_OUTAGE: "re-run once the outage clears",
    Action.FIX: "fix it before re-running",
}


async def investigate_execution(
    conn: Connection,
    *,
    execution_id: str | None = None,
    pipeline_id: str | None = None,
    url: str | None = None,
    org_id: str | None = None,
    project_id: str | None = None,
    token_budget: int = 2000,
    now_ms: int | None = None,
    taxonomy: Taxonomy | None = None,
) -> Investigation:
    """The verdict on a finished, failed execution (by id, URL, or a pipeline's latest failed run).

    Raises:
        UsageError: nothing names an execution, it has not finished, or the budget is too small.
        HarnessError: Harness refused or failed to return the execution.
    """
    if token_budget < 300:
        raise UsageError("token_budget must be at least 300 tokens: a verdict with evidence needs that much")
    rules = taxonomy or load_taxonomy()
    analysed = await analyse_execution(
        conn, execution_id=execution_id, pipeline_id=pipeline_id, url=url, org_id=org_id, project_id=project_id
    )
    diagnosis, summary = analysed.diagnosis, analysed.summary
    root = next((f for f in diagnosis.failures if f.role == "root_cause"), None)
    target = _root_target(analysed.log_targets, root)
    logs = LogService(conn.client)
    scanned = await _read_step(logs, target) if target is not None else None
    failure = target.ranked.failure if target is not None else root
    baseline_id, is_new = await _baseline(conn, analysed.org, analysed.project, summary, failure, logs)
    new_templates = _count_new(scanned, is_new)
    history = None
    evidence_history = None
    if conn.store is not None and failure is not None:
        history, evidence_history = await anyio.to_thread.run_sync(
            lambda: _history(
                conn.store,  # type: ignore[arg-type]  # checked above
                summary,
                failure,
                scanned,
                now_ms if now_ms is not None else _now_ms(),
                baseline_id,
            )
        )
        if evidence_history is not None:
            evidence_history.last_success_execution = baseline_id
    signals = FailureSignals(
        failure_types=tuple(failure.failure_types) if failure else (),
        message=(failure.message or "") if failure else "",
        lines=scanned.lines if scanned else (),
        is_new=is_new,
        history=history,
    )
    result = classify(signals, rules)
    verdict = _verdict(result, failure, history)
    evidence = _evidence(result, scanned, failure, is_new)
    diagnosis.next_steps = next_steps(diagnosis, summary)
    investigation = Investigation(
        verdict=verdict,
        failed_step=_failed_step(failure, scanned, new_templates),
        evidence=evidence,
        history=evidence_history,
        diagnosis=diagnosis,
    )
    return _fit(investigation, token_budget)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _root_target(targets: Sequence[LogTarget], root: Failure | None) -> LogTarget | None:
    if not targets:
        return None
    if root is not None:
        for target in targets:
            failure = target.ranked.failure
            if (failure.stage, failure.step) == (root.stage, root.step):
                return target
    return targets[0]


async def _read_step(logs: LogService, target: LogTarget) -> ScannedLog | None:
    """The first of the step's log keys that exists, scanned; None when none could be read."""
    for key in target.ranked.node.log_keys:
        try:
            scanned = await _scan(logs, key)
        except HarnessError:
            continue
        target.log_key = key
        return scanned
    return None


async def _scan(logs: LogService, key: str) -> ScannedLog:
    """One log read to the end (the tail matters, and the stream then closes itself), decoding only what the
    scan keeps."""
    scan = StepLogScan()
    async for batch in logs.stream_step_log_undecoded(key):
        scan.feed_batch(batch)
    return scan.result()


async def _baseline(
    conn: Connection,
    org: str | None,
    project: str | None,
    summary: Mapping[str, Any],
    failure: Failure | None,
    logs: LogService,
) -> tuple[str | None, Callable[[str], bool] | None]:
    """The last successful run of the pipeline before this one, and a test for lines its same step never printed."""
    if failure is None or not failure.step or not failure.stage:
        return None, None
    execution = get_resource_type("execution")
    started = int(summary.get("startTs") or 0)
    args = {"org_id": org, "project_id": project, "pipeline_id": summary.get("pipelineIdentifier")}
    try:
        page = await conn.client.list_page(execution, {**args, "status": ["Success"]}, page=0, size=20)
        earlier = [row for row in page.items if int(dig(row, "startTs") or 0) < started]
        if not earlier:
            return None, None
        success_id = str(dig(earlier[0], "planExecutionId"))
        detail = await conn.client.call(
            execution, "get", {**args, "execution_id": success_id, "render_full_bottom_graph": True}
        )
    except HarnessError:
        return None, None
    key = _step_log_key(detail, failure.stage, failure.step)
    if key is None:
        return success_id, None
    try:
        scanned = await _scan(logs, key)
    except HarnessError:
        return success_id, None
    miner = TemplateMiner()
    for line in scanned.lines:
        miner.add(line.text, line.number)

    def is_new(text: str) -> bool:
        return miner.match(text) is None

    return success_id, is_new


def _step_log_key(detail: Mapping[str, Any], stage: str, step: str) -> str | None:
    for node in (dig(detail, "executionGraph.nodeMap") or {}).values():
        fqn = str(node.get("baseFqn") or "")
        if node.get("identifier") == step and f".stages.{stage}." in fqn and node.get("logBaseKey"):
            return str(node["logBaseKey"])
    return None


def _count_new(scanned: ScannedLog | None, is_new: Callable[[str], bool] | None) -> int | None:
    if scanned is None or is_new is None:
        return None
    miner = TemplateMiner()
    for line in scanned.lines:
        miner.add(line.text, line.number)
    return sum(1 for template in miner.templates() if is_new(template.sample))


def _history(
    store: Store,
    summary: Mapping[str, Any],
    failure: Failure,
    scanned: ScannedLog | None,
    now_ms: int,
    last_success_id: str | None,
) -> tuple[HistorySignals | None, HistoryEvidence | None]:
    execution_id = str(summary.get("planExecutionId") or "")
    fact = store.execution(execution_id)
    started = int(summary.get("startTs") or 0) or (fact.started_ms if fact else 0) or 0
    ended = int(summary.get("endTs") or 0) or started
    if not started:
        return None, None
    pipeline = str(summary.get("pipelineIdentifier") or "")
    tests = _test_signals(store, execution_id, fact.commit_sha if fact else None, pipeline, fact, started)
    other_pipelines: set[str] = set()
    other_executions = 0
    first_commit: str | None = None
    hosts_in_log: set[str] = set()
    if scanned is not None:
        for signature in signatures(scanned.lines, max_templates=20)[:3]:
            for row in store.signature_occurrences(
                signature.template_id, since_ms=started - _SIGNATURE_WINDOW_MS, until_ms=ended + _SIGNATURE_WINDOW_MS
            ):
                if row.pipeline_id != pipeline:
                    other_pipelines.add(row.pipeline_id or "?")
                    other_executions += row.executions
            if first_commit is None:
                first = [
                    r
                    for r in store.signature_occurrences(signature.template_id, since_ms=started - _HISTORY_MS)
                    if r.pipeline_id == pipeline
                ]
                if first:
                    first_commit = min(first, key=lambda r: r.first_ms).first_commit_sha
        hosts_in_log = _hosts(scanned.lines)
    events = [
        e
        for e in store.telemetry_between(started - _EVENT_BEFORE_MS, ended + _EVENT_AFTER_MS)
        if any(word in e.kind.lower() for word in _NETWORK_KINDS) and (not hosts_in_log or e.host in hosts_in_log)
    ]
    event_hosts = tuple(sorted({e.host for e in events if e.host}))
    ongoing = bool(events) and any(
        e.time_ms >= now_ms - _ONGOING_MS
        for e in store.telemetry_between(now_ms - _ONGOING_MS, now_ms + 1)
        if e.host in event_hosts
    )
    ratio, samples, this_s, usual_s = _duration(store, pipeline, failure, execution_id, started)
    history = HistorySignals(
        failing_tests=tuple(tests),
        other_pipelines_hit=len(other_pipelines),
        other_executions_hit=other_executions,
        network_events=len(events),
        event_hosts=event_hosts,
        events_ongoing=ongoing,
        duration_ratio=ratio,
        duration_samples=samples,
        first_seen_commit=first_commit,
        commits_since_success=_commits_since(store, pipeline, last_success_id, started),
    )
    evidence = HistoryEvidence(
        other_pipelines_hit=len(other_pipelines),
        other_executions_hit=other_executions,
        network_events=len(events),
        event_hosts=list(event_hosts),
        step_duration_s=this_s,
        usual_duration_s=usual_s,
        first_seen_commit=first_commit,
        commits_since_success=list(history.commits_since_success[:10]),
        tests=[f"{t.name}: {t.verdict} ({t.reason})" for t in tests],
    )
    return history, evidence


def _commits_since(store: Store, pipeline: str, last_success_id: str | None, started: int) -> tuple[str, ...]:
    """The commits the pipeline ran after its last success, up to this run, oldest first: the suspects."""
    success = store.execution(last_success_id) if last_success_id else None
    if success is None or success.started_ms is None:
        return ()
    runs = store.executions(
        ExecutionFilter(pipeline_id=pipeline, since_ms=success.started_ms + 1, until_ms=started + 1), size=200
    )
    commits: dict[str, None] = {}
    for fact in sorted(runs.items, key=lambda f: f.started_ms or 0):
        if fact.commit_sha and fact.commit_sha != success.commit_sha:
            commits.setdefault(fact.commit_sha)
    return tuple(commits)


def _test_signals(
    store: Store, execution_id: str, commit: str | None, pipeline: str, fact: Any, started: int
) -> list[TestSignal]:
    failed = store.test_results(
        TestResultFilter(execution_id=execution_id, outcomes=(TestOutcome.FAILED, TestOutcome.ERROR)), size=50
    )
    seen: dict[str, TestSignal] = {}
    for row in failed.items:
        if row.test_id in seen or len(seen) >= _MAX_TESTS:
            continue
        name = f"{row.class_name}.{row.name}" if row.class_name else row.name
        rows = store.test_history(row.test_id, since_ms=started - _HISTORY_MS, limit=500)
        seen[row.test_id] = judge_test(
            name,
            rows,
            execution_id=execution_id,
            commit_sha=commit or row.commit_sha,
            pipeline_id=pipeline or row.pipeline_id,
            branch=fact.branch if fact is not None else row.branch,
        )
    return list(seen.values())


def _duration(
    store: Store, pipeline: str, failure: Failure, execution_id: str, started: int
) -> tuple[float | None, int, float | None, float | None]:
    if not failure.stage:
        return None, 0, None, None
    wanted = failure.step or failure.stage
    node = next((n for n in store.nodes(execution_id) if n.identifier == wanted and n.stage_id == failure.stage), None)
    this_ms = node.duration_ms if node is not None else None
    usual = store.step_durations(
        pipeline, failure.stage, failure.step, since_ms=started - _HISTORY_MS, until_ms=started
    )
    if this_ms is None or usual.p50_ms is None or usual.p50_ms <= 0:
        return None, usual.runs, (this_ms / 1000 if this_ms else None), None
    return round(this_ms / usual.p50_ms, 2), usual.runs, round(this_ms / 1000, 1), round(usual.p50_ms / 1000, 1)


def _hosts(lines: Sequence[LogLine]) -> set[str]:
    """Host names in URLs and `host='...'` forms of the kept lines."""
    found: set[str] = set()
    for line in lines:
        if "://" in line.text or "host=" in line.text:
            found.update(m.lower() for m in _HOST.findall(line.text))
    return found


def _verdict(result: Classification, failure: Failure | None, history: HistorySignals | None) -> Verdict:
    where = f" in {failure.stage}/{failure.step}" if failure is not None and failure.step else ""
    rule = result.rule
    flaky_names = [t.name for t in history.failing_tests] if history is not None else []
    summary = f"{_CATEGORY_WORDS[result.category].capitalize()}{where}"
    summary += f" ({rule.id.replace('_', ' ')})" if rule is not None else ""
    summary += f"; {'transient' if result.transient else 'not transient'}: {_ACTION_WORDS[result.action]}."
    return Verdict(
        category=result.category.value,
        transient=result.transient,
        confidence=result.confidence,
        recommendation=result.action.value,
        summary=summary,
        remediation=result.remediation,
        rule=rule.id if rule is not None else None,
        reasons=result.reasons[:6],
        references=list(rule.references) if rule is not None else [],
        failing_tests=flaky_names[:_MAX_TESTS],
    )


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _LINE_CHARS else text[: _LINE_CHARS - 1] + "…"


def _evidence(
    result: Classification,
    scanned: ScannedLog | None,
    failure: Failure | None,
    is_new: Callable[[str], bool] | None,
) -> list[EvidenceLine]:
    if scanned is None:
        return []
    stage, step = (failure.stage, failure.step) if failure is not None else (None, None)
    picked: dict[int, EvidenceLine] = {}
    for hit in result.hits:
        picked[hit.line.number] = EvidenceLine(
            stage=stage, step=step, n=hit.line.number, text=_clip(hit.line.text), why=f"matched rule {hit.rule_id}"
        )
    # Then the error lines the rules did not explain: new ones when a baseline says which are new, else the first.
    why = "new since the last success" if is_new is not None else "error line"
    for line in scanned.lines:
        if len(picked) >= _MAX_EVIDENCE - 1:
            break
        if line.number in picked or not looks_like_error(line.text, line.level):
            continue
        if is_new is None or is_new(line.text):
            picked[line.number] = EvidenceLine(stage=stage, step=step, n=line.number, text=_clip(line.text), why=why)
    last = scanned.last_line
    if last is not None and last.number not in picked and last.text.strip():
        picked[last.number] = EvidenceLine(
            stage=stage, step=step, n=last.number, text=_clip(last.text), why="last line"
        )
    return [picked[n] for n in sorted(picked)]


def _failed_step(failure: Failure | None, scanned: ScannedLog | None, new_templates: int | None) -> FailedStep | None:
    if failure is None:
        return None
    return FailedStep(
        stage=failure.stage,
        step=failure.step,
        step_type=failure.step_type,
        failure_types=list(failure.failure_types),
        message=failure.message,
        log_lines=scanned.total_lines if scanned else 0,
        new_templates=new_templates,
    )


def _tokens(model: Investigation | LogInvestigation) -> int:
    return math.ceil(len(model.model_dump_json(exclude_none=True)) / 4)


def _fit(investigation: Investigation, budget: int) -> Investigation:
    """Drop the least useful parts until the answer fits: excerpts, then evidence beyond the rule's, then stages."""
    investigation.diagnosis.log_excerpts = []
    while _tokens(investigation) > budget and len(investigation.evidence) > 3:
        weakest = next(
            (e for e in reversed(investigation.evidence) if not e.why.startswith("matched")), investigation.evidence[-1]
        )
        investigation.evidence.remove(weakest)
    diagnosis = investigation.diagnosis
    if _tokens(investigation) > budget:
        diagnosis.stages = [s for s in diagnosis.stages if s.status != "Success"]
        diagnosis.failures = diagnosis.failures[:3]
        diagnosis.child_executions = diagnosis.child_executions[:1]
    investigation.tokens_used = _tokens(investigation)
    return investigation


def investigate_log(path: Path, *, taxonomy: Taxonomy | None = None) -> LogInvestigation:
    """Classify a standalone log file: plain text, or Harness's JSON lines (as the log service serves them).

    Raises:
        UsageError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    scan = StepLogScan().feed_all(_file_lines(text))
    scanned = scan.result()
    result = classify(FailureSignals(lines=scanned.lines), taxonomy or load_taxonomy())
    miner = TemplateMiner()
    for line in scanned.lines:
        miner.add(line.text, line.number)
    return LogInvestigation(
        verdict=_verdict(result, None, None),
        path=str(path),
        log_lines=scanned.total_lines,
        evidence=_evidence(result, scanned, None, None),
        templates=len(miner.templates()),
    )


def _file_lines(text: str) -> Iterator[LogLine]:
    """Harness JSON lines as the log service serves them; otherwise plain text numbered as the file's lines."""
    head = text.lstrip()[:1000]
    if head.startswith("{") and '"out"' in head.split("\n", 1)[0]:
        yield from parse_log_text(text)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        yield LogLine(number=number, text=strip_ansi(line))
