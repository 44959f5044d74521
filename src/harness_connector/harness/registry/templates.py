"""Templates toolset: versioned, reusable steps, stages and pipelines."""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, DELETE, READ, UPDATE, operations
from harness_connector.harness.registry.model import (
    BodyKind,
    FieldSpec,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "templates"

_TEMPLATE_PATH = {"templateIdentifier": "template_id"}
# Update and delete act on one version, so the version label is part of their path.
_VERSION_PATH = {**_TEMPLATE_PATH, "versionLabel": "version_label"}

TEMPLATE = ResourceType(
    name="template",
    display_name="Template",
    toolset=TOOLSET,
    description=(
        "A versioned, reusable step, stage, step group or pipeline that pipelines reference by identifier and "
        "version label."
    ),
    scope=Scope.PROJECT,
    supported_scopes=(Scope.ACCOUNT, Scope.ORG, Scope.PROJECT),
    identifier_fields=("template_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/template/api/templates/list",
            policy=READ,
            description="List templates, a row per version; the body may add templateEntityTypes[] (Step, Stage, ...).",
            query_params={"searchTerm": "search_term"},
            # The list type picks which versions come back (Stable, LastUpdated, All); the official server sends All.
            static_query={"templateListType": "All"},
            body=BodyKind.JSON,
            static_body={"filterType": "Template"},
            paging=PagingStyle.SPRING_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/template/api/templates/{templateIdentifier}",
            policy=READ,
            description="Get a template's YAML; without version_label Harness returns the stable version.",
            path_params=_TEMPLATE_PATH,
            query_params={"versionLabel": "version_label", "branch": "branch", "repoName": "repo_name"},
        ),
        Operation(
            name="create",
            method="POST",
            path="/template/api/templates",
            policy=CREATE,
            description="Create a template, or a new version of one, from its YAML (a 'template:' document).",
            query_params={
                "comments": "comments",
                "setDefaultTemplate": "set_default_template",
                "storeType": "store_type",
            },
            body=BodyKind.YAML,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/template/api/templates/update/{templateIdentifier}/{versionLabel}",
            policy=UPDATE,
            description="Replace one version of a template with new YAML.",
            path_params=_VERSION_PATH,
            query_params={"comments": "comments"},
            body=BodyKind.YAML,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/template/api/templates/{templateIdentifier}/{versionLabel}",
            policy=DELETE,
            description="Delete one version of a template.",
            path_params=_VERSION_PATH,
            query_params={"comments": "comments", "forceDelete": "force_delete"},
        ),
    ),
    fields=(
        "identifier",
        "name",
        "versionLabel",
        "templateEntityType",
        "childType",
        "stableTemplate",
        "storeType",
        "lastUpdatedAt",
    ),
    filters=(FieldSpec(name="search_term", description="Matches template name, identifier or tags."),),
    ui_path="setup/resources/templates/{template_id}",
    example={"org_id": "default", "project_id": "payments", "template_id": "docker_build", "version_label": "v1"},
    search_aliases=("templates", "step_template", "stage_template", "pipeline_template"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (TEMPLATE,)
