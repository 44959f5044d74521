"""Classify one failed step: which rule explains it, whether it is transient, what to do, and why. Pure.

Signals, in the order they are trusted:

1. Harness's own `failureTypeList`. Specific types (DELEGATE_PROVISIONING, TIMEOUT_ERROR, APPROVAL_REJECTION,
   VERIFICATION_FAILURE, ...) point at rules on their own; APPLICATION_ERROR says only "the command failed".
2. The pattern library: rules matched on Harness's failure message and on the step's log lines.
3. The log diff: a rule whose lines also appear in the last successful run of the same step explains nothing
   (an `npm WARN ... retrying` that every build prints), so its weight drops; lines new in the failure count more.
4. History (`HistorySignals`): whether the failing tests are flaky or broken, whether the same signature hit other
   pipelines (systemic), network-error telemetry to the host, a duration far from the step's usual one.

The winner is the rule with the highest score (its priority plus what the signals add); history then adjusts the
verdict: a test failure whose tests are all flaky is transient; a network error that other pipelines saw at the
same time, against a package registry, is a registry outage; an outage whose errors are still arriving means
"re-run after it clears".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness_connector.analysis.failures.taxonomy import Action, Category, Rule, Taxonomy
from harness_connector.domain.logs import LogLine

__all__ = ["Classification", "FailureSignals", "HistorySignals", "LineHit", "TestSignal", "classify"]

_GENERIC_TYPES = frozenset({"APPLICATION_ERROR", "UNKNOWN", ""})
_TYPE_BONUS = 20
_MESSAGE_BONUS = 10
_NEW_LINE_BONUS = 8
_OLD_LINES_PENALTY = 25
_MAX_HITS_PER_RULE = 3
_SYSTEMIC_PIPELINES = 2  # other pipelines hit by the same signature around the failure: not this change's doing


@dataclass(frozen=True, slots=True)
class LineHit:
    """A log line a rule matched; `new` is False when the last successful run printed it too (None: no baseline)."""

    rule_id: str
    line: LogLine
    new: bool | None


@dataclass(frozen=True, slots=True)
class TestSignal:
    """What history says of one failing test."""

    __test__ = False

    name: str
    verdict: str  # flaky | broken | new | unknown
    reason: str
    since_commit: str | None = None


@dataclass(frozen=True, slots=True)
class HistorySignals:
    """What the history store knows around the failure; every field optional, so no history is no signal."""

    failing_tests: tuple[TestSignal, ...] = ()
    other_pipelines_hit: int = 0  # other pipelines whose failed steps logged the same signature in the window
    other_executions_hit: int = 0
    network_events: int = 0  # network-error telemetry events around the failure
    event_hosts: tuple[str, ...] = ()
    events_ongoing: bool = False  # the latest such event is recent: the outage is not over
    duration_ratio: float | None = None  # this run's step duration / its median over earlier successful runs
    duration_samples: int = 0
    first_seen_commit: str | None = None  # where the signature first appeared on this pipeline (a regression)
    commits_since_success: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureSignals:
    """Everything known about one failed step before classifying it."""

    failure_types: tuple[str, ...] = ()
    message: str = ""
    lines: Sequence[LogLine] = ()
    is_new: Callable[[str], bool] | None = None  # whether a line is absent from the last successful run
    history: HistorySignals | None = None


@dataclass(slots=True)
class Classification:
    """The verdict before it is dressed for people: a rule (or none), what it means, and the reasons."""

    rule: Rule | None
    category: Category
    transient: bool
    action: Action
    confidence: float
    remediation: str
    reasons: list[str] = field(default_factory=list)
    hits: list[LineHit] = field(default_factory=list)
    runner_up: str | None = None


@dataclass(slots=True)
class _Candidate:
    rule: Rule
    score: float
    via: list[str] = field(default_factory=list)
    hits: list[LineHit] = field(default_factory=list)
    matched_lines: int = 0
    new_lines: int = 0


class _Candidates(dict[str, _Candidate]):
    def of(self, rule: Rule) -> _Candidate:
        if rule.id not in self:
            self[rule.id] = _Candidate(rule, float(rule.priority))
        return self[rule.id]


def _from_failure_types(found: _Candidates, kinds: tuple[str, ...], taxonomy: Taxonomy) -> None:
    for kind in kinds:
        if kind.upper() in _GENERIC_TYPES:
            continue
        for rule in taxonomy.by_failure_type.get(kind.upper(), ()):
            candidate = found.of(rule)
            candidate.score += _TYPE_BONUS
            candidate.via.append(f"Harness reported {kind.upper()}")


def _from_message(found: _Candidates, message: str, taxonomy: Taxonomy) -> None:
    for rule in taxonomy.rules:
        if rule.message and rule.matches_message(message):
            candidate = found.of(rule)
            candidate.score += _MESSAGE_BONUS
            candidate.via.append("Harness's failure message matches")


def _from_log(found: _Candidates, signals: FailureSignals, taxonomy: Taxonomy) -> None:
    touched: set[str] = set()
    for line in signals.lines:
        for rule in taxonomy.log_rules_matching(line.text):
            candidate = found.of(rule)
            touched.add(rule.id)
            candidate.matched_lines += 1
            new = signals.is_new(line.text) if signals.is_new is not None else None
            candidate.new_lines += new is not False
            if len(candidate.hits) < _MAX_HITS_PER_RULE:
                candidate.hits.append(LineHit(rule.id, line, new))
    for rule_id in touched:
        candidate = found[rule_id]
        if candidate.new_lines:
            candidate.score += _NEW_LINE_BONUS
            if signals.is_new is not None:
                candidate.via.append(
                    f"{candidate.matched_lines} log line(s) match, {candidate.new_lines} new since the last success"
                )
            else:
                candidate.via.append(f"{candidate.matched_lines} log line(s) match")
        else:
            candidate.score -= _OLD_LINES_PENALTY
            candidate.via.append("its log lines also appear in the last successful run")


def _candidates(signals: FailureSignals, taxonomy: Taxonomy) -> dict[str, _Candidate]:
    found = _Candidates()
    _from_failure_types(found, signals.failure_types, taxonomy)
    if signals.message:
        _from_message(found, signals.message, taxonomy)
    _from_log(found, signals, taxonomy)
    return found


def _confidence(best: _Candidate, runner_up: _Candidate | None) -> float:
    base = 0.55
    if any(v.startswith("Harness reported") for v in best.via):
        base = 0.9
    elif any(v.startswith("Harness's failure message") for v in best.via):
        base = 0.85
    elif best.new_lines:
        base = 0.8
    if runner_up is not None and runner_up.rule.category is not best.rule.category:
        margin = best.score - runner_up.score
        if margin < 5:
            base -= 0.15
        elif margin < 15:
            base -= 0.05
    return round(min(max(base, 0.2), 0.97), 2)


def classify(signals: FailureSignals, taxonomy: Taxonomy) -> Classification:
    """The best explanation of one failed step; `Category.UNKNOWN` with low confidence when nothing matches."""
    candidates = sorted(_candidates(signals, taxonomy).values(), key=lambda c: (-c.score, -c.rule.priority))
    if not candidates:
        result = Classification(
            rule=None,
            category=Category.UNKNOWN,
            transient=False,
            action=Action.FIX,
            confidence=0.3,
            remediation="No known failure pattern matched. Read the log lines in the evidence; re-running an "
            "unexplained failure once is cheap, but if it fails the same way it needs a fix.",
            reasons=["no rule of the taxonomy matched the failure type, the message or the log"],
        )
    else:
        best = candidates[0]
        runner_up = next((c for c in candidates[1:] if c.rule.category is not best.rule.category), None)
        result = Classification(
            rule=best.rule,
            category=best.rule.category,
            transient=best.rule.transient,
            action=best.rule.action,
            confidence=_confidence(best, runner_up),
            remediation=best.rule.remediation,
            reasons=[f"rule {best.rule.id}: " + "; ".join(best.via)],
            hits=best.hits,
            runner_up=runner_up.rule.id if runner_up is not None else None,
        )
    if signals.history is not None:
        _apply_history(result, signals.history, taxonomy)
    return result


def _apply_history(result: Classification, history: HistorySignals, taxonomy: Taxonomy) -> None:
    if result.category is Category.TEST_FAILURE:
        _judge_tests(result, history.failing_tests)
    elif result.category is Category.NETWORK:
        _network_or_outage(result, history, taxonomy)
    if result.category is Category.DEPENDENCY_REGISTRY_OUTAGE or (
        result.category is Category.RATE_LIMIT and history.network_events
    ):
        _outage_timing(result, history)
    if history.other_pipelines_hit >= _SYSTEMIC_PIPELINES and result.category is not Category.TEST_FAILURE:
        result.reasons.append(
            f"the same error hit {history.other_pipelines_hit} other pipeline(s) "
            f"({history.other_executions_hit} execution(s)) around the same time: systemic, not this change"
        )
    if history.duration_ratio is not None and history.duration_samples >= 3:
        if history.duration_ratio >= 2.0:
            result.reasons.append(
                f"the step ran {history.duration_ratio:.1f}x its usual duration (median of "
                f"{history.duration_samples} earlier runs): it hung or slowed down"
            )
        elif result.category is Category.TIMEOUT and history.duration_ratio < 1.2:
            result.reasons.append("its duration is usual, so the timeout is tight for this step: raise it")
    if history.first_seen_commit and not result.transient:
        since = len(history.commits_since_success)
        result.reasons.append(
            f"this error first appeared at commit {history.first_seen_commit[:12]}"
            + (f"; {since} commit(s) since the last success" if since else "")
        )


def _judge_tests(result: Classification, tests: tuple[TestSignal, ...]) -> None:
    if not tests:
        result.reasons.append("no test history to tell flaky from broken tests; sync the history store")
        result.confidence = min(result.confidence, 0.6)
        return
    names = ", ".join(t.name for t in tests[:5]) + (f" and {len(tests) - 5} more" if len(tests) > 5 else "")
    broken = [t for t in tests if t.verdict == "broken"]
    flaky = [t for t in tests if t.verdict == "flaky"]
    unknown = [t for t in tests if t.verdict == "unknown"]
    if flaky and len(flaky) + len(unknown) == len(tests):
        # Known-flaky tests failing beside tests with too little history: the flakes are the likelier story.
        result.transient, result.action = True, Action.RERUN_NOW
        result.confidence = max(result.confidence, 0.85) if not unknown else min(result.confidence, 0.7)
        result.remediation = (
            f"The failing test(s) are flaky ({names}): re-run now, and quarantine or fix them so they stop failing "
            "builds at random."
        )
        result.reasons += [f"{t.name}: {t.reason}" for t in flaky[:3]]
    elif broken:
        result.transient, result.action = False, Action.FIX
        result.confidence = max(result.confidence, 0.85)
        commits = sorted({t.since_commit[:12] for t in broken if t.since_commit})
        blame = f" since commit {', '.join(commits)}" if commits else ""
        result.remediation = f"Test(s) broken{blame}: {names}. Fix the code or the test (or revert); a re-run fails."
        result.reasons += [f"{t.name}: {t.reason}" for t in broken[:3]]
    else:
        result.transient, result.action = False, Action.FIX
        result.confidence = min(result.confidence, 0.75)
        result.remediation = (
            f"Failing test(s): {names}. They have no flaky history, so the change under test most likely broke "
            "them: fix before re-running."
        )
        result.reasons += [f"{t.name}: {t.reason}" for t in tests[:3]]


def _network_or_outage(result: Classification, history: HistorySignals, taxonomy: Taxonomy) -> None:
    """A network error that many saw at once, against a package registry, is that registry's outage."""
    texts = " ".join(hit.line.text for hit in result.hits).lower()
    hosts = [h for h in taxonomy.registry_hosts if h in texts or h in history.event_hosts]
    widespread = history.other_pipelines_hit >= _SYSTEMIC_PIPELINES or history.network_events > 0
    if hosts and widespread:
        outage = next(
            (
                r
                for r in taxonomy.rules
                if r.category is Category.DEPENDENCY_REGISTRY_OUTAGE and set(hosts) & set(r.hosts)
            ),
            None,
        )
        result.category, result.transient, result.action = (
            Category.DEPENDENCY_REGISTRY_OUTAGE,
            True,
            (Action.RERUN_AFTER_OUTAGE),
        )
        if outage is not None:
            result.remediation = outage.remediation
        result.confidence = max(result.confidence, 0.8)
        result.reasons.append(
            f"network errors to {', '.join(sorted(hosts))} were seen elsewhere at the same time "
            f"({history.network_events} telemetry event(s), {history.other_pipelines_hit} other pipeline(s)): "
            "the registry was having an outage"
        )


def _outage_timing(result: Classification, history: HistorySignals) -> None:
    if history.network_events:
        hosts = ", ".join(history.event_hosts[:3]) or "the host"
        result.reasons.append(f"{history.network_events} network-error event(s) to {hosts} around the failure")
        result.confidence = min(0.97, result.confidence + 0.05)
    if history.events_ongoing:
        result.action = Action.RERUN_AFTER_OUTAGE
        result.reasons.append("errors to it are still being recorded: wait for the outage to clear")
    elif history.network_events:
        result.action = Action.RERUN_NOW
        result.reasons.append("no errors to it were recorded lately: the outage looks over, re-run now")
