"""Which failure strategy applies to a failed step, and what it does: Harness's `failureStrategies` YAML.

A strategy is `{onFailure: {errors: [...], action: {type, spec}}}`, declared on a step, its stage or the pipeline;
the most specific list with an entry whose errors match the failure wins, as in Harness. Errors are Harness's
failure-strategy names (`AllErrors`, `Timeout`, `DelegateProvisioning`, ...), matched against the step's
`failureTypeList`. Actions the engine carries out: `Retry` (with `retryCount`, `retryIntervals` and
`onRetryFailure`), `Ignore`, `MarkAsSuccess`, `Abort` and `MarkAsFailure`. Rollback and manual-intervention actions
end the step as failed: the sandbox models no rollback steps and no intervention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Action", "choose", "retry_interval_ms"]

# Failure-strategy error names → the failureTypeList values they cover.
_ERRORS: dict[str, frozenset[str]] = {
    "unknown": frozenset({"UNKNOWN", "APPLICATION_ERROR"}),
    "application": frozenset({"APPLICATION_ERROR"}),
    "authentication": frozenset({"AUTHENTICATION", "AUTHENTICATION_ERROR"}),
    "authorization": frozenset({"AUTHORIZATION_ERROR"}),
    "connectivity": frozenset({"CONNECTIVITY", "CONNECTIVITY_ERROR"}),
    "timeout": frozenset({"TIMEOUT_ERROR", "EXPIRED"}),
    "verification": frozenset({"VERIFICATION_FAILURE"}),
    "delegateprovisioning": frozenset({"DELEGATE_PROVISIONING"}),
    "delegaterestart": frozenset({"DELEGATE_RESTART"}),
    "policyevaluationfailure": frozenset({"POLICY_EVALUATION_FAILURE"}),
    "inputtimeouterror": frozenset({"INPUT_TIMEOUT_FAILURE"}),
    "approvalrejection": frozenset({"APPROVAL_REJECTION"}),
    "usermarkedfailure": frozenset({"USER_MARKED_FAILURE"}),
}
_CARRIED_OUT = {"retry", "ignore", "markassuccess", "abort", "markasfailure"}


@dataclass(frozen=True, slots=True)
class Action:
    """What to do with a failed step. `kind` is one of retry, ignore, mark_as_success, abort, mark_as_failure;
    a retry carries its count, intervals and the action once the retries are spent."""

    kind: str
    retry_count: int = 0
    retry_intervals_ms: tuple[int, ...] = ()
    on_retry_failure: Action | None = None


FAIL = Action("mark_as_failure")


def _matches(errors: Any, failure_types: Sequence[str]) -> bool:
    names = [str(e).replace("_", "").lower() for e in errors] if isinstance(errors, list) else []
    if "allerrors" in names:
        return True
    found = {t.upper() for t in failure_types} or {"UNKNOWN"}
    return any(found & _ERRORS.get(name, frozenset()) for name in names)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _action(raw: Any, duration_ms: Any) -> Action:
    action = raw if isinstance(raw, dict) else {}
    kind = str(action.get("type") or "").replace("_", "").lower()
    if kind not in _CARRIED_OUT:
        return FAIL
    if kind != "retry":
        return Action({"markassuccess": "mark_as_success", "markasfailure": "mark_as_failure"}.get(kind, kind))
    spec = _mapping(action.get("spec"))
    try:
        count = max(0, int(spec.get("retryCount") or 0))
    except (TypeError, ValueError):
        count = 0
    intervals = spec.get("retryIntervals") or []
    after = _mapping(spec.get("onRetryFailure"))
    fallback = _action(after.get("action"), duration_ms)
    return Action(
        "retry",
        retry_count=count,
        retry_intervals_ms=tuple(duration_ms(str(i)) for i in intervals) if isinstance(intervals, list) else (),
        on_retry_failure=FAIL if fallback.kind == "retry" else fallback,  # a retry's fallback cannot retry again
    )


def choose(levels: Sequence[Any], failure_types: Sequence[str], duration_ms: Any) -> Action:
    """The action of the first strategy, most specific level first (step, stage, pipeline), whose errors match
    `failure_types`; failing the step when none does. `duration_ms` reads Harness durations (`10s`, `1m`)."""
    for strategies in levels:
        for entry in strategies if isinstance(strategies, list) else []:
            on_failure = entry.get("onFailure") if isinstance(entry, dict) else None
            if isinstance(on_failure, dict) and _matches(on_failure.get("errors"), failure_types):
                return _action(on_failure.get("action"), duration_ms)
    return FAIL


def retry_interval_ms(action: Action, retry: int) -> int:
    """The wait before retry number `retry` (1-based): its interval, or the last one given, or 0."""
    if not action.retry_intervals_ms:
        return 0
    return action.retry_intervals_ms[min(retry, len(action.retry_intervals_ms)) - 1]
