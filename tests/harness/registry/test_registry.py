"""The registry's contract over every resource type and operation, and the exact requests of a representative few."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType
from typing import Any

import pytest

from harness_connector.errors import UsageError
from harness_connector.harness import registry
from harness_connector.harness.registry import (
    PATH_SCOPE,
    READ_SAFE,
    BodyKind,
    Envelope,
    Operation,
    PagingStyle,
    PreparedRequest,
    ResourceType,
    RetryPolicy,
    Risk,
    _index,
    all_operations,
    get_resource_type,
    model,
    platform,
    resource_types,
    toolsets,
)

# Found on disk rather than listed, so a toolset module that was never registered fails the tests below.
MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{registry.__name__}.{info.name}")
    for info in pkgutil.iter_modules(registry.__path__)
    if info.name != "model" and not info.name.startswith("_")
)
OPERATIONS = all_operations()
TYPES = resource_types()


def _over(pairs: list[tuple[ResourceType, Operation]]) -> pytest.MarkDecorator:
    """Parametrize a test over (type, operation) pairs, each named `type.operation`."""
    return pytest.mark.parametrize(("resource_type", "op"), pairs, ids=[f"{t.name}.{op.name}" for t, op in pairs])


def _named(*names: str) -> list[tuple[ResourceType, Operation]]:
    return [(t, op) for t, op in OPERATIONS if op.name in names]


each_operation = _over(OPERATIONS)
each_type = pytest.mark.parametrize("resource_type", TYPES, ids=[t.name for t in TYPES])


CRUD = {"list", "get", "create", "update", "delete"}
ACTIONS = {"run", "run_with_input_sets", "rerun", "retry", "interrupt", "test_connection", "approve", "reject"}
ACTIONS |= {"toggle", "kill", "restore", "revoke"}
SCOPE_ARGS = {"org_id", "project_id"}
PAGING_WIRE_NAMES = {"page", "size", "pageIndex", "pageSize", "pageNumber", "limit"}
# These updates PUT the whole entity to a collection path; the body says which entity it is.
BODY_IDENTIFIED_UPDATES = {"service", "service_override", "environment", "infrastructure", "connector"}
_DEFINITIONS = ("pipeline", "input_set", "trigger", "template", "freeze_window")
YAML_BODIES = {(t, op) for t in _DEFINITIONS for op in ("create", "update")} | {
    ("execution", op) for op in ("run", "rerun", "retry")
}
WRAPPED_BODIES = {"connector": "connector", "secret": "secret", "organization": "organization", "project": "project"}


def _sent_arguments(op: Operation) -> set[str]:
    """The arguments an operation turns into some part of its request."""
    sent = {*op.path_params.values(), *op.query_params.values()}
    if op.scope_params.org:
        sent.add("org_id")
    if op.scope_params.project:
        sent.add("project_id")
    if op.body is not BodyKind.NONE:
        sent.add("body")
    return sent


def _known_arguments(resource_type: ResourceType) -> set[str]:
    known = {*resource_type.identifier_fields, *SCOPE_ARGS}
    for op in resource_type.operations.values():
        known |= _sent_arguments(op)
    return known


def _expected_envelope(path: str) -> Envelope:
    if path.startswith(("/v1/", "/cf/", "/code/", "/gateway/log-service/")):
        return Envelope.BARE
    if path.startswith(("/ng/api/delegate-setup/", "/ng/api/delegate-token-ng")):
        return Envelope.RESOURCE
    return Envelope.DATA


# --- every operation -------------------------------------------------------------------------------------------


@each_operation
def test_every_operation_is_known_and_has_a_policy(resource_type: ResourceType, op: Operation) -> None:
    assert op.name in CRUD | ACTIONS
    assert resource_type.operations[op.name] is op
    assert isinstance(op.policy.risk, Risk)
    assert isinstance(op.policy.retry, RetryPolicy)
    assert op.description.strip()


@_over(_named("list", "get"))
def test_lists_and_gets_only_read_and_may_be_retried(resource_type: ResourceType, op: Operation) -> None:
    assert op.policy == READ_SAFE


@_over(_named("delete"))
def test_every_delete_is_destructive_and_sent_once(resource_type: ResourceType, op: Operation) -> None:
    assert (op.policy.risk, op.policy.retry) == (Risk.DESTRUCTIVE, RetryPolicy.DO_NOT_RETRY)


@_over([(t, op) for t, op in OPERATIONS if op.name not in {"list", "get"}])
def test_writes_risk_more_than_reads_and_creates_and_high_risks_are_sent_once(
    resource_type: ResourceType, op: Operation
) -> None:
    assert op.policy.risk is not Risk.READ
    if op.name == "create" or op.policy.risk.rank >= Risk.HIGH_WRITE.rank:
        assert op.policy.retry is RetryPolicy.DO_NOT_RETRY


@each_operation
def test_path_placeholders_and_path_params_match_one_to_one(resource_type: ResourceType, op: Operation) -> None:
    assert sorted(op.placeholders()) == sorted(op.path_params)


@each_operation
def test_scope_in_the_path_is_filled_from_the_scope_arguments(resource_type: ResourceType, op: Operation) -> None:
    if "/orgs/{org}/projects/{project}/" in op.path:
        assert (op.path_params["org"], op.path_params["project"]) == ("org_id", "project_id")
        assert op.scope_params == PATH_SCOPE


@_over(_named("get", "update", "delete"))
def test_identifier_fields_reach_get_update_and_delete(resource_type: ResourceType, op: Operation) -> None:
    if op.name == "update" and resource_type.name in BODY_IDENTIFIED_UPDATES:
        assert not op.path_params
        return
    for identifier in resource_type.identifier_fields:
        assert identifier in op.path_params.values() or identifier in op.required


@each_operation
def test_required_arguments_reach_the_request(resource_type: ResourceType, op: Operation) -> None:
    assert set(op.required) <= _sent_arguments(op)


@_over([(t, op) for t, op in _named("list") if op.method == "POST"])
def test_every_post_list_sends_its_filter_type(resource_type: ResourceType, op: Operation) -> None:
    assert op.body is BodyKind.JSON
    assert op.static_body is not None
    assert op.static_body.get("filterType")


@each_operation
def test_paging_is_left_to_the_client_and_only_lists_page(resource_type: ResourceType, op: Operation) -> None:
    wire = {*op.query_params, *op.query_params.values(), *op.static_query}
    assert not wire & PAGING_WIRE_NAMES
    if op.name != "list":
        assert op.paging is PagingStyle.NONE
    assert (op.items_key is not None) == (op.paging is PagingStyle.CF_PAGE)


@each_operation
def test_envelope_follows_the_service_that_answers(resource_type: ResourceType, op: Operation) -> None:
    assert op.envelope is _expected_envelope(op.path)


@each_operation
def test_yaml_bodies_are_exactly_the_definition_documents(resource_type: ResourceType, op: Operation) -> None:
    assert (op.body is BodyKind.YAML) == ((resource_type.name, op.name) in YAML_BODIES)


@each_operation
def test_only_wrapped_entities_wrap_their_create_and_update_bodies(resource_type: ResourceType, op: Operation) -> None:
    expected = WRAPPED_BODIES.get(resource_type.name) if op.name in {"create", "update"} else None
    assert op.body_wrapper == expected


# --- every resource type ---------------------------------------------------------------------------------------


def test_type_names_are_unique_across_modules() -> None:
    names = [t.name for module in MODULES for t in module.RESOURCE_TYPES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__.rpartition(".")[2] for m in MODULES])
def test_each_module_is_one_toolset_named_after_it(module: ModuleType) -> None:
    assert module.__name__.rpartition(".")[2] == module.TOOLSET
    assert module.RESOURCE_TYPES
    assert {t.toolset for t in module.RESOURCE_TYPES} == {module.TOOLSET}


def test_the_registry_holds_every_toolset_module_and_all_their_types() -> None:
    assert sorted(toolsets()) == sorted(m.TOOLSET for m in MODULES)
    assert sorted(t.name for t in resource_types()) == sorted(t.name for m in MODULES for t in m.RESOURCE_TYPES)


@each_type
def test_compact_fields_are_few_and_keep_the_id_and_name(resource_type: ResourceType) -> None:
    assert 4 <= len(resource_type.fields) <= 14
    if "list" in resource_type.operations:
        assert resource_type.id_field in resource_type.fields
        assert resource_type.name_field in resource_type.fields


@each_type
def test_filters_are_arguments_the_list_sends(resource_type: ResourceType) -> None:
    if not resource_type.filters:
        return
    op = resource_type.operation("list")
    for spec in resource_type.filters:
        assert spec.name in {*op.path_params.values(), *op.query_params.values()}
        if spec.required:
            assert spec.name in {*op.path_params.values(), *op.required}


@each_type
def test_links_and_examples_use_arguments_the_type_knows(resource_type: ResourceType) -> None:
    known = _known_arguments(resource_type)
    assert set(re.findall(r"\{(\w+)\}", resource_type.ui_path or "")) <= known
    assert resource_type.example
    assert set(resource_type.example) <= known


@each_type
def test_multi_scope_types_include_their_default_scope(resource_type: ResourceType) -> None:
    assert resource_type.scope in resource_type.scopes
    assert resource_type.description.strip()
    assert resource_type.search_aliases


# --- lookup ----------------------------------------------------------------------------------------------------


def test_a_misspelt_type_names_the_nearest_one_and_where_to_see_all() -> None:
    with pytest.raises(UsageError) as raised:
        get_resource_type("pipline")
    assert "'pipeline'" in str(raised.value)
    assert "harness_describe" in str(raised.value)


def test_lookup_forgives_case_spaces_and_hyphens() -> None:
    assert get_resource_type(" Input-Set ") is get_resource_type("input_set")


def test_an_unknown_toolset_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as raised:
        resource_types("pipeline")
    assert "pipelines" in str(raised.value)


def test_resource_types_of_one_toolset() -> None:
    assert [t.name for t in resource_types("code")] == ["repository", "pull_request"]


def test_duplicate_type_names_are_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        _index([("platform", [platform.ORGANIZATION]), ("platform", [platform.ORGANIZATION])])


def test_a_type_declared_under_another_toolset_is_refused() -> None:
    with pytest.raises(ValueError, match="toolset"):
        _index([("pipelines", [platform.ORGANIZATION])])


def test_public_names_are_pinned() -> None:
    # The model's names are re-exported so callers need one import.
    extra = {"NG_SCOPE", "PATH_SCOPE", "READ_SAFE", "all_operations", "get_resource_type", "resource_types", "toolsets"}
    assert sorted(registry.__all__) == sorted({*model.__all__, *extra})


# --- exact requests --------------------------------------------------------------------------------------------

PROJECT = {"org_id": "default", "project_id": "payments"}
SCOPE_QUERY = [("orgIdentifier", "default"), ("projectIdentifier", "payments")]


def _prepare(type_name: str, op_name: str, **args: Any) -> PreparedRequest:
    resource_type = get_resource_type(type_name)
    return resource_type.operation(op_name).prepare(args, scope=resource_type.scope)


def test_pipeline_list_posts_the_filter_type_and_leaves_paging_to_the_client() -> None:
    assert _prepare("pipeline", "list", **PROJECT, search_term="build", page=2, size=10) == PreparedRequest(
        method="POST",
        path="/pipeline/api/pipelines/list",
        params=[*SCOPE_QUERY, ("searchTerm", "build")],
        json={"filterType": "PipelineSetup"},
        content_type="application/json",
        retry=RetryPolicy.SAFE,
    )


def test_run_sends_an_empty_yaml_body_and_repeats_input_set_ids() -> None:
    args = {"pipeline_id": "build_and_test", "module": "ci", "input_set_ids": ["base", "prod"], "branch": "main"}
    assert _prepare("execution", "run", **PROJECT, **args, body="") == PreparedRequest(
        method="POST",
        path="/pipeline/api/pipeline/execute/build_and_test",
        params=[
            *SCOPE_QUERY,
            ("moduleType", "ci"),
            ("inputSetIdentifiers", "base"),
            ("inputSetIdentifiers", "prod"),
            ("branch", "main"),
        ],
        content="",
        content_type="application/yaml",
        retry=RetryPolicy.DO_NOT_RETRY,
    )


def test_interrupt_carries_its_type_in_the_query_and_sends_no_body() -> None:
    assert _prepare(
        "execution", "interrupt", **PROJECT, execution_id="Wq3C1bKZ", interrupt_type="AbortAll"
    ) == PreparedRequest(
        method="PUT",
        path="/pipeline/api/pipeline/execute/interrupt/Wq3C1bKZ",
        params=[*SCOPE_QUERY, ("interruptType", "AbortAll")],
        retry=RetryPolicy.DO_NOT_RETRY,
    )


def test_interrupt_needs_an_interrupt_type() -> None:
    with pytest.raises(UsageError, match="interrupt_type"):
        _prepare("execution", "interrupt", **PROJECT, execution_id="Wq3C1bKZ")


def test_connector_create_wraps_the_body_in_connector() -> None:
    body = {"identifier": "github", "name": "GitHub", "type": "Github", "spec": {"url": "https://github.com/acme"}}
    assert _prepare("connector", "create", **PROJECT, body=body) == PreparedRequest(
        method="POST",
        path="/ng/api/connectors",
        params=SCOPE_QUERY,
        json={"connector": body},
        content_type="application/json",
        retry=RetryPolicy.DO_NOT_RETRY,
    )


def test_feature_flag_kill_sends_the_off_instruction_with_the_callers_comment() -> None:
    request = _prepare(
        "feature_flag", "kill", **PROJECT, flag_id="new_checkout", environment_id="prod", body={"comment": "INC-42"}
    )
    assert request == PreparedRequest(
        method="PATCH",
        path="/cf/admin/features/new_checkout",
        params=[*SCOPE_QUERY, ("environmentIdentifier", "prod")],
        json={
            "instructions": [{"kind": "setFeatureFlagState", "parameters": {"state": "off"}}],
            "comment": "INC-42",
        },
        content_type="application/json",
        retry=RetryPolicy.DO_NOT_RETRY,
    )


def test_v1_pipeline_list_puts_org_and_project_in_the_path() -> None:
    assert _prepare("pipeline_v1", "list", **PROJECT, search_term="pay") == PreparedRequest(
        method="GET",
        path="/v1/orgs/default/projects/payments/pipelines",
        params=[("search_term", "pay")],
    )


def test_approve_sends_the_fixed_action_with_the_callers_comments() -> None:
    request = _prepare("approval_instance", "approve", **PROJECT, approval_id="ap1", body={"comments": "ship it"})
    assert request.path == "/pipeline/api/approvals/ap1/harness/activity"
    assert request.json == {"action": "APPROVE", "comments": "ship it"}


def test_a_code_repository_ref_travels_as_one_encoded_segment() -> None:
    request = _prepare("pull_request", "get", repo_id="acct123/default/payments/checkout", pr_number=42)
    assert request == PreparedRequest(
        method="GET",
        path="/code/api/v1/repos/acct123%2Fdefault%2Fpayments%2Fcheckout/pullreq/42",
        params=[],
    )


def test_step_log_reads_the_blob_by_key_without_scope_parameters() -> None:
    request = _prepare("execution_log", "get", **PROJECT, log_key="acct/pipeline/p/1/-x/build/run_tests")
    assert request == PreparedRequest(
        method="GET",
        path="/gateway/log-service/blob",
        params=[("key", "acct/pipeline/p/1/-x/build/run_tests")],
    )
