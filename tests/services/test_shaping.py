from __future__ import annotations

from harness_connector.harness.registry import get_resource_type
from harness_connector.services.shaping import compact_item, iso_time, prune, ui_link


def test_prune_drops_empty_values_and_reads_epoch_times() -> None:
    assert prune({"a": None, "b": "", "c": [], "d": {"e": None}, "createdAt": 1790000000000, "n": 0}) == {
        "createdAt": "2026-09-21T14:13:20Z",
        "n": 0,
    }


def test_iso_time_is_utc_with_second_precision() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00Z"


def test_compact_rows_keep_whitelisted_fields_under_their_aliases() -> None:
    execution = get_resource_type("execution")
    row = compact_item(
        execution,
        {
            "planExecutionId": "E1",
            "pipelineIdentifier": "build",
            "name": "Build",
            "status": "Failed",
            "executionTriggerInfo": {"triggerType": "WEBHOOK", "triggeredBy": {"identifier": "bot"}},
            "layoutNodeMap": {"big": "graph"},
        },
    )
    assert row == {
        "planExecutionId": "E1",
        "name": "Build",
        "pipeline": "build",
        "status": "Failed",
        "trigger": "WEBHOOK",
        "triggered_by": "bot",
    }


def test_links_take_parent_ids_from_the_item_and_drop_missing_scope_segments() -> None:
    execution = get_resource_type("execution")
    link = ui_link(
        "https://app.harness.io",
        "ACC",
        execution,
        {"org_id": "o", "project_id": "p"},
        {"planExecutionId": "E1", "pipelineIdentifier": "build"},
    )
    assert link == "https://app.harness.io/ng/account/ACC/all/orgs/o/projects/p/pipelines/build/executions/E1/pipeline"
    connector = get_resource_type("connector")
    account_level = ui_link("https://app.harness.io", "ACC", connector, {"connector_id": "git"})
    assert account_level == "https://app.harness.io/ng/account/ACC/all/settings/connectors/git"
    assert ui_link("https://app.harness.io", "ACC", execution, {}) is None
