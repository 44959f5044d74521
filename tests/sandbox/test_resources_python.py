"""The Python contract the scenario generator seeds the sandbox through, without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from harness_connector.sandbox import SandboxContext, SandboxState
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.resources import (
    Actor,
    create_resource,
    delete_resource,
    get_resource,
    list_resources,
    spec_of,
    update_resource,
)
from harness_connector.sandbox.routes.runtime_inputs import apply_inputs, merge_trees, runtime_input_template

PIPELINE = """pipeline:
  name: Build
  identifier: build
  tags: {team: payments}
  stages:
    - parallel:
        - stage: {name: Lint, identifier: lint, type: CI, spec: {}}
        - stage: {name: Unit, identifier: unit, type: CI, spec: {}}
    - stage: {name: Ship, identifier: ship, type: Deployment, spec: {}}
"""


class Clock:
    def __init__(self) -> None:
        self.now_ms = 1_000_000

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(clock: Clock) -> Iterator[SandboxContext]:
    state = SandboxState(":memory:")
    yield SandboxContext(state=state, account_id="acct", clock=clock)
    state.close()


def _refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as refused:
        call()
    return refused.value


def test_a_created_pipeline_keeps_its_yaml_text_and_the_fields_derived_from_it(ctx: SandboxContext) -> None:
    entity = create_resource(ctx, "pipeline", org="default", project="payments", body=PIPELINE)
    assert entity.doc["yaml"] == PIPELINE
    assert (entity.identifier, entity.doc["name"], entity.doc["tags"]) == ("build", "Build", {"team": "payments"})
    assert entity.doc["stageNames"] == ["Lint", "Unit", "Ship"]
    assert (entity.doc["numOfStages"], entity.doc["modules"]) == (3, ["cd", "ci"])
    assert get_resource(ctx, "pipeline", "build", org="default", project="payments").doc == entity.doc


def test_updates_keep_created_at_and_move_updated_at_with_the_clock(ctx: SandboxContext, clock: Clock) -> None:
    create_resource(ctx, "pipeline", org="default", project="payments", body=PIPELINE)
    clock.now_ms += 5_000
    updated = update_resource(
        ctx, "pipeline", "build", org="default", project="payments", body=PIPELINE.replace("name: Build", "name: B2")
    )
    assert (updated.created_at, updated.updated_at, updated.doc["name"]) == (1_000_000, 1_005_000, "B2")
    assert updated.doc["version"] == 2


REFUSED_BODIES = {
    "identifier pattern": ("organization", {"organization": {"identifier": "has-dash", "name": "x"}}, "identifier"),
    "missing name": ("organization", {"organization": {"identifier": "eng"}}, "name"),
    "missing wrapper": ("connector", {"identifier": "gh", "name": "GitHub"}, "connector"),
    "yaml syntax": ("pipeline", "pipeline:\n  name: [\n", "while parsing"),
    "wrong yaml root": ("template", "pipeline: {identifier: x}", "'template:'"),
    "environment type": ("environment", {"identifier": "prod", "name": "Prod", "type": "Live"}, "Production"),
    "secret value": (
        "secret",
        {"secret": {"type": "SecretText", "name": "t", "identifier": "t",
                    "spec": {"secretManagerIdentifier": "harnessSecretManager", "valueType": "Inline"}}},
        "value",
    ),
    "flag variations": ("feature_flag", {"identifier": "f", "kind": "string"}, "variations"),
}  # fmt: skip


@pytest.mark.parametrize(("kind", "body", "words"), REFUSED_BODIES.values(), ids=REFUSED_BODIES.keys())
def test_invalid_bodies_are_refused_as_the_endpoint_refuses_them(
    ctx: SandboxContext, kind: str, body: Any, words: str
) -> None:
    refused = _refused(lambda: create_resource(ctx, kind, org="default", project="payments", body=body))
    assert (refused.code, refused.status) == ("INVALID_REQUEST", 400)
    assert words in refused.message


def test_a_second_create_of_one_identifier_is_a_duplicate(ctx: SandboxContext) -> None:
    body = {"organization": {"identifier": "eng", "name": "Engineering"}}
    create_resource(ctx, "organization", body=body)
    refused = _refused(lambda: create_resource(ctx, "organization", body=body))
    assert (refused.code, refused.status) == ("DUPLICATE_FIELD", 400)
    assert "Organization [eng]" in refused.message and refused.message.endswith("already exists")


def test_reads_of_missing_entities_are_404_resource_not_found(ctx: SandboxContext) -> None:
    refused = _refused(lambda: get_resource(ctx, "connector", "github", org="default", project="payments"))
    assert (refused.code, refused.status) == ("RESOURCE_NOT_FOUND", 404)
    assert "Connector [github] under Project[payments], Organization [default]" in refused.message


def test_entities_in_other_scopes_are_distinct(ctx: SandboxContext) -> None:
    body = {"identifier": "checkout", "name": "Checkout"}
    create_resource(ctx, "service", body=body)
    create_resource(ctx, "service", org="default", project="payments", body=body)
    assert [e.org for e in list_resources(ctx, "service")] == [""]
    delete_resource(ctx, "service", "checkout")
    assert get_resource(ctx, "service", "checkout", org="default", project="payments").doc["orgIdentifier"] == "default"


def test_writes_by_an_actor_are_audited_and_limited_to_its_project(ctx: SandboxContext) -> None:
    reader = Actor("ci-reader", "SERVICE_ACCOUNT", "default", "payments")
    create_resource(ctx, "pipeline", org="default", project="payments", body=PIPELINE, actor=reader)
    refused = _refused(lambda: create_resource(ctx, "pipeline", org="default", project="other", body=PIPELINE,
                                               actor=reader))  # fmt: skip
    assert refused.code == "NG_ACCESS_DENIED"
    events = [e.doc for e in list_resources(ctx, "audit_event")]
    assert [(e["action"], e["resource"]["type"], e["module"]) for e in events] == [("CREATE", "PIPELINE", "PMS")]
    assert events[0]["newYaml"] == PIPELINE


def test_seeding_without_an_actor_writes_no_audit_events(ctx: SandboxContext) -> None:
    create_resource(ctx, "delegate", body={"name": "k8s-east", "tags": ["k8s"], "lastHeartBeat": 1})
    assert list_resources(ctx, "audit_event") == []


def test_the_kinds_the_scenario_generator_seeds_are_all_known() -> None:
    kinds = ("organization", "project", "pipeline", "input_set", "trigger", "template", "service", "service_override",
             "environment", "infrastructure", "connector", "secret", "delegate", "delegate_token", "feature_flag",
             "freeze_window", "repository", "pull_request", "audit_event")  # fmt: skip
    assert [spec_of(kind).kind for kind in kinds] == list(kinds)
    with pytest.raises(ValueError, match="unknown sandbox resource kind"):
        spec_of("pipelines")


def test_the_runtime_input_template_keeps_only_inputs_located_by_identifiers() -> None:
    text = PIPELINE.replace("stage: {name: Unit, identifier: unit, type: CI, spec: {}}",
                            "stage: {name: Unit, identifier: unit, type: CI, spec: {timeout: <+input>}}")  # fmt: skip
    template = yaml.safe_load(runtime_input_template(text))
    parallel = template["pipeline"]["stages"][0]["parallel"]
    assert parallel == [{"stage": {"identifier": "unit", "type": "CI", "spec": {"timeout": "<+input>"}}}]
    assert runtime_input_template(PIPELINE) == ""


def test_merging_runtime_inputs_matches_list_items_by_identity_not_position() -> None:
    base = {"stages": [{"stage": {"identifier": "a", "x": 1}}, {"stage": {"identifier": "b", "x": 2}}]}
    overlay = {"stages": [{"stage": {"identifier": "b", "x": 3}}]}
    assert merge_trees(base, overlay)["stages"][1] == {"stage": {"identifier": "b", "x": 3}}
    filled = yaml.safe_load(apply_inputs("pipeline: {variables: [{name: v, value: <+input>}]}",
                                         "pipeline: {variables: [{name: v, value: '42'}]}"))  # fmt: skip
    assert filled["pipeline"]["variables"] == [{"name": "v", "value": "42"}]
