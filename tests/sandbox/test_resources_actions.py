"""Registry actions and read-only types against the sandbox over real HTTP, checked for their effect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import yaml

from harness_connector.domain.status import ExecutionStatus
from harness_connector.errors import HarnessInvalidRequestError, HarnessNotFoundError, HarnessPermissionError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.registry import get_resource_type
from harness_connector.sandbox.model import ExecutionRecord
from harness_connector.sandbox.resources import create_resource, update_resource
from harness_connector.sandbox.routes.connectors import NO_DELEGATE

SCOPE = {"org_id": "default", "project_id": "payments"}
MINUTE_MS = 60_000


@asynccontextmanager
async def harness_client(server: Any, key: str | None = None) -> AsyncIterator[HarnessClient]:
    api_key = key or server.keys.admin_pat
    async with HarnessClient(server.base_url, api_key=api_key, max_retries=0, rate_limit_rps=1000) as client:
        yield client


def _pipeline(ident: str = "deploy") -> str:
    step = {
        "step": {
            "type": "ShellScript",
            "name": "Roll",
            "identifier": "roll",
            "spec": {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": "<+input>"}}},
        }
    }
    stage = {
        "stage": {"name": "Prod", "identifier": "prod", "type": "Deployment", "spec": {"execution": {"steps": [step]}}}
    }
    build = {"stage": {"name": "Build", "identifier": "build", "type": "CI", "spec": {"execution": {"steps": []}}}}
    pipeline = {
        "name": "Deploy",
        "identifier": ident,
        "variables": [{"name": "tag", "type": "String", "value": "<+input>"}],
        "stages": [build, stage],
    }
    return yaml.safe_dump({"pipeline": pipeline}, sort_keys=False)


def _connector(selectors: list[str]) -> dict[str, Any]:
    spec = {
        "dockerRegistryUrl": "https://registry.example.com",
        "providerType": "Other",
        "auth": {"type": "Anonymous"},
        "delegateSelectors": selectors,
    }
    return {
        "identifier": "registry",
        "name": "Registry",
        "type": "DockerRegistry",
        "orgIdentifier": "default",
        "projectIdentifier": "payments",
        "spec": spec,
    }


@pytest.mark.anyio
async def test_a_connection_test_fails_without_a_connected_delegate_carrying_its_selectors(
    sandbox_server: Any, sandbox_clock: Any
) -> None:
    connector = get_resource_type("connector")
    args = {**SCOPE, "connector_id": "registry"}
    async with harness_client(sandbox_server) as client:
        await client.call(connector, "create", {**SCOPE, "body": _connector(["docker-builder"])})
        with pytest.raises(HarnessInvalidRequestError) as failed:
            await client.call(connector, "test_connection", args)
        assert (failed.value.code, failed.value.cause) == ("GENERAL_ERROR", NO_DELEGATE)
        assert (await client.call(connector, "get", args))["status"]["status"] == "FAILURE"

        body = {"name": "builder", "tags": ["docker-builder"], "lastHeartBeat": sandbox_clock.now_ms}
        create_resource(sandbox_server.ctx, "delegate", body=body)
        result = await client.call(connector, "test_connection", args)
        assert result["status"] == "SUCCESS"
        stored = await client.call(connector, "get", args)
        assert stored["status"]["status"] == "SUCCESS"
        assert stored["status"]["lastConnectedAt"] == sandbox_clock.now_ms

        sandbox_clock.now_ms += 6 * MINUTE_MS  # the delegate's heartbeat is now stale
        with pytest.raises(HarnessInvalidRequestError):
            await client.call(connector, "test_connection", args)


@pytest.mark.anyio
async def test_a_connector_without_delegate_selectors_passes_its_connection_test(sandbox_server: Any) -> None:
    connector = get_resource_type("connector")
    body = _connector([])
    body["spec"].pop("delegateSelectors")
    async with harness_client(sandbox_server) as client:
        await client.call(connector, "create", {**SCOPE, "body": body})
        result = await client.call(connector, "test_connection", {**SCOPE, "connector_id": "registry"})
    assert result["status"] == "SUCCESS"


@pytest.mark.anyio
async def test_kill_restore_and_toggle_switch_a_flag_in_one_environment_only(sandbox_server: Any) -> None:
    flag = get_resource_type("feature_flag")
    body = {"identifier": "new_checkout", "name": "New checkout", "kind": "boolean", "project": "payments"}
    prod = {**SCOPE, "flag_id": "new_checkout", "environment_id": "prod"}
    staging = {**prod, "environment_id": "staging"}
    async with harness_client(sandbox_server) as client:
        await client.call(flag, "create", {**SCOPE, "body": body})
        await client.call(flag, "restore", prod)
        assert (await client.call(flag, "get", prod))["envProperties"]["state"] == "on"
        assert (await client.call(flag, "get", staging))["envProperties"]["state"] == "off"
        killed = await client.call(flag, "kill", prod)
        assert killed["envProperties"]["state"] == "off"
        on = {"instructions": [{"kind": "setFeatureFlagState", "parameters": {"state": "on"}}]}
        await client.call(flag, "toggle", {**staging, "body": on})
        assert (await client.call(flag, "get", staging))["envProperties"]["state"] == "on"
        assert (await client.call(flag, "get", prod))["envProperties"]["state"] == "off"
        listed = await client.call(flag, "list", {**SCOPE, "environment_id": "staging"})
    assert [f["envProperties"]["state"] for f in listed.items] == ["on"]


@pytest.mark.anyio
async def test_delegates_report_connected_only_while_their_heartbeat_is_fresh(
    sandbox_server: Any, sandbox_clock: Any
) -> None:
    now = sandbox_clock.now_ms
    ctx = sandbox_server.ctx
    create_resource(ctx, "delegate", body={"name": "fresh", "tags": ["k8s"], "lastHeartBeat": now - MINUTE_MS})
    create_resource(ctx, "delegate", body={"name": "stale", "lastHeartBeat": now - 6 * MINUTE_MS})
    create_resource(ctx, "delegate", org="default", project="payments", body={"name": "local", "lastHeartBeat": now})
    delegate = get_resource_type("delegate")
    async with harness_client(sandbox_server) as client:
        listed = await client.call(delegate, "list", {})
        assert {d["name"]: d["connected"] for d in listed} == {"fresh": True, "stale": False}
        everything = await client.call(delegate, "list", {"all": True})
        assert sorted(d["name"] for d in everything) == ["fresh", "local", "stale"]
        connected = await client.call(delegate, "list", {"body": {"status": "CONNECTED"}})
        assert [d["name"] for d in connected] == ["fresh"]
        sandbox_clock.now_ms += 5 * MINUTE_MS
        update_resource(ctx, "delegate", "stale", body={"lastHeartBeat": sandbox_clock.now_ms})
        after = await client.call(delegate, "list", {})
    assert {d["name"]: d["connected"] for d in after} == {"fresh": False, "stale": True}
    replica = after[0]["delegateReplicas"][0]
    assert set(replica) == {"uuid", "lastHeartbeat", "hostName", "version", "expiringAt"}


@pytest.mark.anyio
async def test_delegate_tokens_are_created_listed_and_revoked_by_name(sandbox_server: Any) -> None:
    token = get_resource_type("delegate_token")
    async with harness_client(sandbox_server) as client:
        created = await client.call(token, "create", {"token_name": "ci_token"})
        assert created["status"] == "ACTIVE" and created["value"]
        listed = await client.call(token, "list", {})
        assert [(t["name"], t["status"], t["value"]) for t in listed] == [("ci_token", "ACTIVE", None)]
        revoked = await client.call(token, "revoke", {"token_name": "ci_token"})
        assert revoked["status"] == "REVOKED"
        assert [t["name"] for t in await client.call(token, "list", {"status": "REVOKED"})] == ["ci_token"]
        assert await client.call(token, "list", {"status": "ACTIVE"}) == []
        with pytest.raises(HarnessNotFoundError):
            await client.call(token, "revoke", {"token_name": "missing"})
        with pytest.raises(HarnessInvalidRequestError) as duplicate:
            await client.call(token, "create", {"token_name": "ci_token"})
    assert duplicate.value.code == "DUPLICATE_FIELD"


@pytest.mark.anyio
async def test_every_write_through_the_api_lands_in_the_audit_trail(sandbox_server: Any, sandbox_clock: Any) -> None:
    connector = get_resource_type("connector")
    audit = get_resource_type("audit_event")
    async with harness_client(sandbox_server) as client:
        await client.call(connector, "create", {**SCOPE, "body": _connector([])})
        sandbox_clock.now_ms += MINUTE_MS
        await client.call(connector, "delete", {**SCOPE, "connector_id": "registry"})
        page = await client.call(audit, "list", {"body": {"resources": [{"type": "CONNECTOR"}]}})
        assert [(e["action"], e["resource"]["identifier"]) for e in page.items] == [
            ("DELETE", "registry"),
            ("CREATE", "registry"),
        ]
        created = page.items[1]
        assert created["authenticationInfo"]["principal"]["identifier"] == "sandbox-admin"
        assert created["resourceScope"] == {
            "accountIdentifier": sandbox_server.keys.account_id,
            "orgIdentifier": "default",
            "projectIdentifier": "payments",
        }
        diff = await client.call(audit, "get", {"audit_id": created["auditId"]})
        assert diff["oldYaml"] is None and "identifier: registry" in diff["newYaml"]
        scoped = await client.call(audit, "list", {"body": {"scopes": [{"projectIdentifier": "elsewhere"}]}})
    assert scoped.items == []


@pytest.mark.anyio
async def test_a_pipeline_summary_reports_its_stages_and_latest_execution(
    sandbox_server: Any, sandbox_clock: Any
) -> None:
    now = sandbox_clock.now_ms
    runs = [(1, ExecutionStatus.SUCCESS, now - 3 * 86_400_000), (2, ExecutionStatus.FAILED, now - MINUTE_MS)]
    for number, status, start in runs:
        record = ExecutionRecord(
            plan_execution_id=f"run{number}",
            org="default",
            project="payments",
            pipeline_id="deploy",
            pipeline_name="Deploy",
            run_sequence=number,
            status=status,
            start_ts=start,
            end_ts=start + 1000,
            created_at=start,
        )
        sandbox_server.ctx.state.put_execution(record)
    async with harness_client(sandbox_server) as client:
        await client.call(get_resource_type("pipeline"), "create", {**SCOPE, "body": _pipeline()})
        summary = await client.call(get_resource_type("pipeline_summary"), "get", {**SCOPE, "pipeline_id": "deploy"})
    assert (summary["stageNames"], summary["numOfStages"], summary["modules"]) == (["Build", "Prod"], 2, ["cd", "ci"])
    info = summary["executionSummaryInfo"]
    assert (info["lastExecutionId"], info["lastExecutionStatus"]) == ("run2", "Failed")
    assert info["deployments"] == [0, 0, 0, 1, 0, 0, 1]
    assert info["numOfErrors"] == [0, 0, 0, 0, 0, 0, 1]


@pytest.mark.anyio
async def test_the_input_set_template_holds_only_runtime_inputs_and_merge_layers_input_sets(
    sandbox_server: Any,
) -> None:
    query = {"orgIdentifier": "default", "projectIdentifier": "payments", "pipelineIdentifier": "deploy"}
    input_set = get_resource_type("input_set")
    async with harness_client(sandbox_server) as client:
        await client.call(get_resource_type("pipeline"), "create", {**SCOPE, "body": _pipeline()})
        answer = await client.request("POST", "/pipeline/api/inputSets/template", params=query, json={})
        template = yaml.safe_load(answer.json()["data"]["inputSetTemplateYaml"])
        assert template["pipeline"]["variables"] == [{"name": "tag", "type": "String", "value": "<+input>"}]
        assert [s["stage"]["identifier"] for s in template["pipeline"]["stages"]] == ["prod"]
        for ident, tag in (("first", "1.0"), ("second", "2.0")):
            values = {"identifier": "deploy", "variables": [{"name": "tag", "type": "String", "value": tag}]}
            doc = {"inputSet": {"identifier": ident, "name": ident, "pipeline": values}}
            await client.call(input_set, "create", {**SCOPE, "pipeline_id": "deploy", "body": yaml.safe_dump(doc)})
        merge = {"inputSetReferences": ["first", "second"], "withMergedPipelineYaml": True}
        merged = (await client.request("POST", "/pipeline/api/inputSets/merge", params=query, json=merge)).json()
    assert yaml.safe_load(merged["data"]["pipelineYaml"])["pipeline"]["variables"][0]["value"] == "2.0"
    complete = yaml.safe_load(merged["data"]["completePipelineYaml"])["pipeline"]
    assert complete["variables"][0]["value"] == "2.0" and len(complete["stages"]) == 2


@pytest.mark.anyio
async def test_deleting_a_pipeline_deletes_its_input_sets_and_triggers(sandbox_server: Any) -> None:
    pipeline, input_set = get_resource_type("pipeline"), get_resource_type("input_set")
    doc = {"inputSet": {"identifier": "defaults", "name": "Defaults", "pipeline": {"identifier": "deploy"}}}
    async with harness_client(sandbox_server) as client:
        await client.call(pipeline, "create", {**SCOPE, "body": _pipeline()})
        await client.call(input_set, "create", {**SCOPE, "pipeline_id": "deploy", "body": yaml.safe_dump(doc)})
        await client.call(pipeline, "delete", {**SCOPE, "pipeline_id": "deploy"})
        await client.call(pipeline, "create", {**SCOPE, "body": _pipeline()})
        with pytest.raises(HarnessNotFoundError):
            await client.call(input_set, "get", {**SCOPE, "pipeline_id": "deploy", "input_set_id": "defaults"})


@pytest.mark.anyio
async def test_a_template_without_a_version_label_answers_its_stable_version(sandbox_server: Any) -> None:
    template = get_resource_type("template")

    def body(version: str) -> str:
        spec = {"type": "ShellScript", "spec": {"shell": "Bash"}}
        doc = {"identifier": "notify", "name": "Notify", "versionLabel": version, "type": "Step", "spec": spec}
        return yaml.safe_dump({"template": doc})

    async with harness_client(sandbox_server) as client:
        for version in ("v1", "v2"):
            await client.call(template, "create", {**SCOPE, "body": body(version)})
        stable = await client.call(template, "get", {**SCOPE, "template_id": "notify"})
        assert (stable["versionLabel"], stable["stableTemplate"], stable["childType"]) == ("v1", True, "ShellScript")
        with pytest.raises(HarnessInvalidRequestError):
            await client.call(template, "delete", {**SCOPE, "template_id": "notify", "version_label": "v1"})
        listed = await client.call(template, "list", SCOPE)
        assert sorted(t["versionLabel"] for t in listed.items) == ["v1", "v2"]


@pytest.mark.anyio
async def test_a_token_limited_to_one_project_cannot_write_anywhere_else(sandbox_server: Any) -> None:
    connector = get_resource_type("connector")
    body = {**_connector([]), "projectIdentifier": "other"}
    async with harness_client(sandbox_server, sandbox_server.keys.restricted_sat) as client:
        await client.call(connector, "create", {**SCOPE, "body": _connector([])})
        with pytest.raises(HarnessPermissionError):
            await client.call(connector, "create", {**SCOPE, "body": body})


@pytest.mark.anyio
async def test_a_simulated_connected_delegate_keeps_heartbeating_as_the_clock_moves_on(
    sandbox_server: Any, sandbox_clock: Any
) -> None:
    now = sandbox_clock.now_ms
    ctx = sandbox_server.ctx
    create_resource(ctx, "delegate", body={"name": "sim", "tags": ["k8s"], "connected": True, "lastHeartBeat": now})
    create_resource(ctx, "delegate", body={"name": "quiet", "tags": ["k8s"], "lastHeartBeat": now})
    sandbox_clock.now_ms += 60 * MINUTE_MS  # an hour on: stored heartbeats alone would be stale by now
    async with harness_client(sandbox_server) as client:
        listed = await client.call(get_resource_type("delegate"), "list", {})
    by_name = {d["name"]: d for d in listed}
    assert by_name["sim"]["connected"] is True and by_name["quiet"]["connected"] is False
    assert sandbox_clock.now_ms - by_name["sim"]["lastHeartBeat"] < MINUTE_MS
    assert sandbox_clock.now_ms - by_name["sim"]["delegateReplicas"][0]["lastHeartbeat"] < MINUTE_MS
