"""Pipelines toolset: pipelines (v0 and v1 APIs), pipeline summaries, input sets and triggers.

Running a pipeline is an action of the `execution` type (executions.py): it creates an execution.
"""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, DELETE, READ, UPDATE, V1_PATH, operations
from harness_connector.harness.registry.model import (
    PATH_SCOPE,
    BodyKind,
    Envelope,
    FieldSpec,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "pipelines"

_PIPELINE_PATH = {"pipelineIdentifier": "pipeline_id"}
# Git-backed (remote) entities are read from a branch of a repository through a connector.
_GIT_READ = {"branch": "branch", "repoName": "repo_name", "storeType": "store_type", "connectorRef": "connector_ref"}
_GIT_WRITE = {**_GIT_READ, "filePath": "file_path", "commitMsg": "commit_msg"}
_GIT_UPDATE = {
    "branch": "branch",
    "commitMsg": "commit_msg",
    "lastObjectId": "last_object_id",
    "lastCommitId": "last_commit_id",
}
_GIT_DELETE = {"branch": "branch", "filePath": "file_path", "commitMsg": "commit_msg", "lastObjectId": "last_object_id"}
_PIPELINE_UI = "pipelines/{pipeline_id}/pipeline-studio"

PIPELINE = ResourceType(
    name="pipeline",
    display_name="Pipeline",
    toolset=TOOLSET,
    description=(
        "A CI/CD pipeline in a project; get returns its YAML in yamlPipeline, and the execution type's run action "
        "starts it."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("pipeline_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/pipeline/api/pipelines/list",
            policy=READ,
            description="List pipelines; the body may add pipelineIdentifiers[], name, description, tags{}.",
            query_params={"searchTerm": "search_term", "module": "module", "branch": "branch"},
            body=BodyKind.JSON,
            static_body={"filterType": "PipelineSetup"},
            paging=PagingStyle.SPRING_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/pipeline/api/pipelines/{pipelineIdentifier}",
            policy=READ,
            description="Get a pipeline's YAML, validity and Git details.",
            path_params=_PIPELINE_PATH,
            query_params=_GIT_READ,
        ),
        Operation(
            name="create",
            method="POST",
            path="/pipeline/api/pipelines/v2",
            policy=CREATE,
            description="Create a pipeline from its YAML (a 'pipeline:' document).",
            query_params=_GIT_WRITE,
            body=BodyKind.YAML,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/pipeline/api/pipelines/v2/{pipelineIdentifier}",
            policy=UPDATE,
            description="Replace a pipeline's YAML; remote pipelines also need last_object_id and last_commit_id.",
            path_params=_PIPELINE_PATH,
            query_params=_GIT_UPDATE,
            body=BodyKind.YAML,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/pipeline/api/pipelines/{pipelineIdentifier}",
            policy=DELETE,
            description="Delete a pipeline.",
            path_params=_PIPELINE_PATH,
            query_params=_GIT_DELETE,
        ),
    ),
    fields=(
        "identifier",
        "name",
        "description",
        "modules",
        "executionSummaryInfo.lastExecutionStatus as last_status",
        "executionSummaryInfo.lastExecutionTs as last_run",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches pipeline name, identifier or tags."),
        FieldSpec(name="module", description="Only pipelines with stages of this module.", enum=("ci", "cd", "cf")),
        FieldSpec(name="branch", description="Branch to read remote pipelines from."),
    ),
    ui_path=_PIPELINE_UI,
    # A get answers {yamlPipeline, ...} without the list row's fields; the YAML is what a reader wants.
    detail_fields=("yamlPipeline", "entityValidityDetails.valid", "storeType", "gitDetails.branch", "modules"),
    example={"org_id": "default", "project_id": "payments", "pipeline_id": "build_and_test"},
    search_aliases=("pipelines", "workflow", "ci", "cd"),
)

PIPELINE_V1 = ResourceType(
    name="pipeline_v1",
    display_name="Pipeline (v1 API)",
    toolset=TOOLSET,
    description="A pipeline through the newer v1 API: snake_case JSON, YAML in pipeline_yaml, recent runs in lists.",
    scope=Scope.PROJECT,
    identifier_fields=("pipeline_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/v1/orgs/{org}/projects/{project}/pipelines",
            policy=READ,
            description="List pipelines with their most recent executions.",
            path_params=V1_PATH,
            query_params={"search_term": "search_term", "module": "module", "sort": "sort", "order": "order"},
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
            paging=PagingStyle.V1_ARRAY,
        ),
        Operation(
            name="get",
            method="GET",
            path="/v1/orgs/{org}/projects/{project}/pipelines/{pipeline}",
            policy=READ,
            description="Get a pipeline and its YAML.",
            path_params={**V1_PATH, "pipeline": "pipeline_id"},
            query_params={"branch_name": "branch"},
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
        ),
        Operation(
            name="create",
            method="POST",
            path="/v1/orgs/{org}/projects/{project}/pipelines",
            policy=CREATE,
            description="Create a pipeline from {identifier, name, pipeline_yaml, description?, tags?}.",
            path_params=V1_PATH,
            scope_params=PATH_SCOPE,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/v1/orgs/{org}/projects/{project}/pipelines/{pipeline}",
            policy=UPDATE,
            description="Replace a pipeline from {identifier, name, pipeline_yaml, description?, tags?}.",
            path_params={**V1_PATH, "pipeline": "pipeline_id"},
            scope_params=PATH_SCOPE,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/v1/orgs/{org}/projects/{project}/pipelines/{pipeline}",
            policy=DELETE,
            description="Delete a pipeline.",
            path_params={**V1_PATH, "pipeline": "pipeline_id"},
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
        ),
    ),
    fields=("identifier", "name", "description", "modules", "store_type", "valid", "updated"),
    filters=(
        FieldSpec(name="search_term", description="Matches pipeline name or identifier."),
        FieldSpec(name="module", description="Only pipelines with stages of this module.", enum=("ci", "cd", "cf")),
        FieldSpec(name="sort", description="Field to sort by.", enum=("name", "updated")),
        FieldSpec(name="order", description="Sort direction.", enum=("ASC", "DESC")),
    ),
    ui_path=_PIPELINE_UI,
    example={"org_id": "default", "project_id": "payments"},
    search_aliases=("pipelines_v1", "v1_pipeline"),
)

PIPELINE_SUMMARY = ResourceType(
    name="pipeline_summary",
    display_name="Pipeline Summary",
    toolset=TOOLSET,
    description="A pipeline's metadata without its YAML: stages, modules, and the status of its latest execution.",
    scope=Scope.PROJECT,
    identifier_fields=("pipeline_id",),
    operations=operations(
        Operation(
            name="get",
            method="GET",
            path="/pipeline/api/pipelines/summary/{pipelineIdentifier}",
            policy=READ,
            description="Get a pipeline's summary.",
            path_params=_PIPELINE_PATH,
            query_params={"branch": "branch", "repoName": "repo_name"},
        ),
    ),
    fields=(
        "identifier",
        "name",
        "numOfStages",
        "stageNames",
        "modules",
        "executionSummaryInfo.lastExecutionStatus",
        "executionSummaryInfo.lastExecutionTs",
    ),
    ui_path=_PIPELINE_UI,
    example={"org_id": "default", "project_id": "payments", "pipeline_id": "build_and_test"},
    search_aliases=("pipeline_info", "pipeline_metadata"),
)

# The input-set endpoints name their pipeline in the query, not the path.
_INPUT_SET_PATH = {"inputSetIdentifier": "input_set_id"}
_FOR_PIPELINE = {"pipelineIdentifier": "pipeline_id"}

INPUT_SET = ResourceType(
    name="input_set",
    display_name="Input Set",
    toolset=TOOLSET,
    description="Saved values for a pipeline's runtime inputs, reused when running it (overlay sets combine several).",
    scope=Scope.PROJECT,
    identifier_fields=("pipeline_id", "input_set_id"),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/pipeline/api/inputSets",
            policy=READ,
            description="List a pipeline's input sets.",
            query_params={**_FOR_PIPELINE, "inputSetType": "input_set_type", "searchTerm": "search_term"},
            # The official server sends page/size here; the SDK's NG PageResponse takes pageIndex/pageSize.
            paging=PagingStyle.NG_PAGE,
            required=("pipeline_id",),
        ),
        Operation(
            name="get",
            method="GET",
            path="/pipeline/api/inputSets/{inputSetIdentifier}",
            policy=READ,
            description="Get an input set and its YAML.",
            path_params=_INPUT_SET_PATH,
            query_params={**_FOR_PIPELINE, "branch": "branch", "repoName": "repo_name"},
            required=("pipeline_id",),
        ),
        Operation(
            name="create",
            method="POST",
            path="/pipeline/api/inputSets",
            policy=CREATE,
            description="Create an input set from its YAML (an 'inputSet:' document with a pipeline: block).",
            query_params={**_FOR_PIPELINE, **_GIT_WRITE},
            body=BodyKind.YAML,
            required=("pipeline_id", "body"),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/pipeline/api/inputSets/{inputSetIdentifier}",
            policy=UPDATE,
            description="Replace an input set's YAML.",
            path_params=_INPUT_SET_PATH,
            query_params={**_FOR_PIPELINE, **_GIT_UPDATE},
            body=BodyKind.YAML,
            required=("pipeline_id", "body"),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/pipeline/api/inputSets/{inputSetIdentifier}",
            policy=DELETE,
            description="Delete an input set.",
            path_params=_INPUT_SET_PATH,
            query_params={**_FOR_PIPELINE, **_GIT_DELETE},
            required=("pipeline_id",),
        ),
    ),
    fields=("identifier", "name", "pipelineIdentifier", "inputSetType", "description", "isOutdated", "lastUpdatedAt"),
    filters=(
        FieldSpec(name="pipeline_id", description="The pipeline whose input sets to list.", required=True),
        FieldSpec(
            name="input_set_type", description="Kind of input set.", enum=("ALL", "INPUT_SET", "OVERLAY_INPUT_SET")
        ),
        FieldSpec(name="search_term", description="Matches input set name or identifier."),
    ),
    ui_path="pipelines/{pipeline_id}/input-sets",
    link_fields={"pipeline_id": "pipelineIdentifier"},
    example={"org_id": "default", "project_id": "payments", "pipeline_id": "build_and_test"},
    search_aliases=("input_sets", "inputs", "runtime_inputs", "overlay"),
)

# Triggers call their pipeline the "target".
_TRIGGER_PATH = {"triggerIdentifier": "trigger_id"}
_FOR_TARGET = {"targetIdentifier": "pipeline_id"}

TRIGGER = ResourceType(
    name="trigger",
    display_name="Trigger",
    toolset=TOOLSET,
    description="Starts a pipeline on a schedule, a webhook (Git push, pull request, custom) or a new artifact.",
    scope=Scope.PROJECT,
    identifier_fields=("pipeline_id", "trigger_id"),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/pipeline/api/triggers",
            policy=READ,
            description="List a pipeline's triggers with their status and webhook URL.",
            query_params={**_FOR_TARGET, "searchTerm": "search_term"},
            paging=PagingStyle.SPRING_PAGE,
            required=("pipeline_id",),
        ),
        Operation(
            name="get",
            method="GET",
            path="/pipeline/api/triggers/{triggerIdentifier}",
            policy=READ,
            description="Get a trigger and its YAML.",
            path_params=_TRIGGER_PATH,
            query_params=_FOR_TARGET,
            required=("pipeline_id",),
        ),
        Operation(
            name="create",
            method="POST",
            path="/pipeline/api/triggers",
            policy=CREATE,
            description="Create a trigger from a 'trigger:' YAML document (source, then inputYaml or inputSetRefs).",
            query_params=_FOR_TARGET,
            body=BodyKind.YAML,
            required=("pipeline_id", "body"),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/pipeline/api/triggers/{triggerIdentifier}",
            policy=UPDATE,
            description="Replace a trigger's YAML (set enabled: false there to pause it).",
            path_params=_TRIGGER_PATH,
            query_params=_FOR_TARGET,
            body=BodyKind.YAML,
            required=("pipeline_id", "body"),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/pipeline/api/triggers/{triggerIdentifier}",
            policy=DELETE,
            description="Delete a trigger.",
            path_params=_TRIGGER_PATH,
            query_params=_FOR_TARGET,
            required=("pipeline_id",),
        ),
    ),
    fields=("identifier", "name", "type", "enabled", "triggerStatus.status", "description"),
    filters=(
        FieldSpec(name="pipeline_id", description="The pipeline whose triggers to list.", required=True),
        FieldSpec(name="search_term", description="Matches trigger name or identifier."),
    ),
    ui_path="pipelines/{pipeline_id}/triggers",
    link_fields={"pipeline_id": "targetIdentifier"},
    example={"org_id": "default", "project_id": "payments", "pipeline_id": "build_and_test"},
    search_aliases=("triggers", "webhook", "schedule", "cron"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (PIPELINE, PIPELINE_V1, PIPELINE_SUMMARY, INPUT_SET, TRIGGER)
