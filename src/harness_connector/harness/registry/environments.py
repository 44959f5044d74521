"""Environments toolset: deployment targets (environments) and the infrastructure definitions inside them."""

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

TOOLSET = "environments"

_MULTI_SCOPE = (Scope.ACCOUNT, Scope.ORG, Scope.PROJECT)
_ENVIRONMENT_PATH = {"environmentIdentifier": "environment_id"}

ENVIRONMENT = ResourceType(
    name="environment",
    display_name="Environment",
    toolset=TOOLSET,
    description="A place services are deployed to, Production or PreProduction, holding infrastructure definitions.",
    scope=Scope.PROJECT,
    supported_scopes=_MULTI_SCOPE,
    identifier_fields=("environment_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/environmentsV2",
            policy=READ,
            description="List environments.",
            query_params={"searchTerm": "search_term", "sort": "sort"},
            paging=PagingStyle.SPRING_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/environmentsV2/{environmentIdentifier}",
            policy=READ,
            description="Get an environment and its YAML.",
            path_params=_ENVIRONMENT_PATH,
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/environmentsV2",
            policy=CREATE,
            description=(
                "Create an environment from {identifier, name, type (Production or PreProduction), orgIdentifier, "
                "projectIdentifier, description?, tags?, yaml?} (the body is not wrapped)."
            ),
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/environmentsV2",
            policy=UPDATE,
            description="Replace an environment; the body names it by identifier, as for create.",
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/environmentsV2/{environmentIdentifier}",
            policy=DELETE,
            description="Delete an environment.",
            path_params=_ENVIRONMENT_PATH,
        ),
    ),
    fields=(
        "environment.identifier",
        "environment.name",
        "environment.type",
        "environment.description",
        "environment.orgIdentifier",
        "environment.projectIdentifier",
        "lastModifiedAt",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches environment name or identifier."),
        FieldSpec(name="sort", description="Sort order, such as lastModifiedAt,DESC."),
    ),
    id_field="environment.identifier",
    name_field="environment.name",
    ui_path="settings/environments/{environment_id}/details",
    example={"org_id": "default", "project_id": "payments", "environment_id": "prod"},
    search_aliases=("environments", "env", "envs", "stage_environment"),
)

_INFRA_PATH = {"infraIdentifier": "infrastructure_id"}
_IN_ENVIRONMENT = {"environmentIdentifier": "environment_id"}

INFRASTRUCTURE = ResourceType(
    name="infrastructure",
    display_name="Infrastructure Definition",
    toolset=TOOLSET,
    description="Where in an environment a service lands: a cluster and namespace, a cloud account, or a set of hosts.",
    scope=Scope.PROJECT,
    supported_scopes=_MULTI_SCOPE,
    identifier_fields=("environment_id", "infrastructure_id"),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/infrastructures",
            policy=READ,
            description="List the infrastructure definitions of one environment.",
            query_params={**_IN_ENVIRONMENT, "searchTerm": "search_term", "deploymentType": "deployment_type"},
            paging=PagingStyle.SPRING_PAGE,
            required=("environment_id",),
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/infrastructures/{infraIdentifier}",
            policy=READ,
            description="Get an infrastructure definition and its YAML.",
            path_params=_INFRA_PATH,
            query_params=_IN_ENVIRONMENT,
            required=("environment_id",),
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/infrastructures",
            policy=CREATE,
            description=(
                "Create an infrastructure definition from {identifier, name, environmentRef, type, deploymentType, "
                "orgIdentifier, projectIdentifier, yaml}; yaml (an 'infrastructureDefinition:' document) is required."
            ),
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/infrastructures",
            policy=UPDATE,
            description="Replace an infrastructure definition; the body names it and its environment, as for create.",
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/infrastructures/{infraIdentifier}",
            policy=DELETE,
            description="Delete an infrastructure definition.",
            path_params=_INFRA_PATH,
            query_params=_IN_ENVIRONMENT,
            required=("environment_id",),
        ),
    ),
    fields=(
        "infrastructure.identifier",
        "infrastructure.name",
        "infrastructure.environmentRef",
        "infrastructure.type",
        "infrastructure.deploymentType",
        "lastModifiedAt",
    ),
    filters=(
        FieldSpec(name="environment_id", description="The environment whose infrastructure to list.", required=True),
        FieldSpec(name="search_term", description="Matches infrastructure name or identifier."),
        FieldSpec(name="deployment_type", description="Only definitions for this deployment type, such as Kubernetes."),
    ),
    id_field="infrastructure.identifier",
    name_field="infrastructure.name",
    ui_path="settings/environments/{environment_id}/details?sectionId=INFRASTRUCTURE",
    link_fields={"environment_id": "infrastructure.environmentRef"},
    example={"org_id": "default", "project_id": "payments", "environment_id": "prod"},
    search_aliases=("infrastructures", "infra", "infrastructure_definition", "cluster", "target"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (ENVIRONMENT, INFRASTRUCTURE)
