"""Choosing a failed step's failure strategy, as Harness does: most specific level first, errors matched by type."""

from __future__ import annotations

from typing import Any

from harness_connector.sandbox.failure_strategies import FAIL, Action, choose, retry_interval_ms
from harness_connector.sandbox.runs import duration_ms


def strategy(errors: list[str], action: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"onFailure": {"errors": errors, "action": action}}]


RETRY = {
    "type": "Retry",
    "spec": {"retryCount": 3, "retryIntervals": ["1s", "5s"], "onRetryFailure": {"action": {"type": "MarkAsSuccess"}}},
}


def test_the_step_level_wins_over_the_stage_and_pipeline() -> None:
    chosen = choose(
        [strategy(["AllErrors"], {"type": "Ignore"}), strategy(["AllErrors"], {"type": "Abort"}), []],
        ["APPLICATION_ERROR"],
        duration_ms,
    )
    assert chosen == Action("ignore")


def test_errors_are_matched_against_the_failure_types_and_fall_through_to_outer_levels() -> None:
    levels = [strategy(["Timeout"], {"type": "Ignore"}), strategy(["DelegateProvisioning"], RETRY)]
    assert choose(levels, ["TIMEOUT_ERROR"], duration_ms) == Action("ignore")
    retry = choose(levels, ["DELEGATE_PROVISIONING"], duration_ms)
    assert (retry.kind, retry.retry_count, retry.retry_intervals_ms) == ("retry", 3, (1_000, 5_000))
    assert retry.on_retry_failure == Action("mark_as_success")
    assert choose(levels, ["APPLICATION_ERROR"], duration_ms) is FAIL


def test_unknown_errors_cover_an_untyped_failure_and_unsupported_actions_fail_the_step() -> None:
    assert choose([strategy(["Unknown"], {"type": "MarkAsSuccess"})], [], duration_ms) == Action("mark_as_success")
    assert choose([strategy(["AllErrors"], {"type": "StageRollback"})], ["UNKNOWN"], duration_ms) is FAIL
    assert choose([[{"onFailure": "nonsense"}], None], ["UNKNOWN"], duration_ms) is FAIL


def test_retry_intervals_repeat_the_last_one_and_default_to_none() -> None:
    retry = choose([strategy(["AllErrors"], RETRY)], ["UNKNOWN"], duration_ms)
    assert [retry_interval_ms(retry, n) for n in (1, 2, 3)] == [1_000, 5_000, 5_000]
    assert retry_interval_ms(Action("retry", retry_count=1), 1) == 0
