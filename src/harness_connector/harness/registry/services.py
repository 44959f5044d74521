"""Services toolset: the things CD deploys, and the per-environment overrides of their settings."""

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

TOOLSET = "services"

_SERVICE_PATH = {"serviceIdentifier": "service_id"}

SERVICE = ResourceType(
    name="service",
    display_name="Service",
    toolset=TOOLSET,
    description="A deployable application or microservice: its manifests, artifacts and variables, held in its YAML.",
    scope=Scope.PROJECT,
    supported_scopes=(Scope.ACCOUNT, Scope.ORG, Scope.PROJECT),
    identifier_fields=("service_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/servicesV2",
            policy=READ,
            description="List services.",
            query_params={"searchTerm": "search_term", "sort": "sort"},
            paging=PagingStyle.SPRING_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/servicesV2/{serviceIdentifier}",
            policy=READ,
            description="Get a service and its YAML.",
            path_params=_SERVICE_PATH,
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/servicesV2",
            policy=CREATE,
            description=(
                "Create a service from {identifier, name, orgIdentifier, projectIdentifier, description?, tags?, yaml} "
                "(the body is not wrapped)."
            ),
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/servicesV2",
            policy=UPDATE,
            description="Replace a service; the body names it by identifier, as for create.",
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/servicesV2/{serviceIdentifier}",
            policy=DELETE,
            description="Delete a service.",
            path_params=_SERVICE_PATH,
        ),
    ),
    fields=(
        "service.identifier",
        "service.name",
        "service.description",
        "service.orgIdentifier",
        "service.projectIdentifier",
        "service.tags",
        "lastModifiedAt",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches service name or identifier."),
        FieldSpec(name="sort", description="Sort order, such as lastModifiedAt,DESC."),
    ),
    id_field="service.identifier",
    name_field="service.name",
    ui_path="settings/services/{service_id}",
    example={"org_id": "default", "project_id": "payments", "service_id": "checkout_api"},
    search_aliases=("services", "application", "app", "microservice"),
)

_OVERRIDE_PATH = {"identifier": "override_id"}

# Listing goes through the environment-scoped endpoint the official server uses (the SDK's override API has
# get/create/update/delete only). Its rows may carry fewer fields than a get of the same override.
SERVICE_OVERRIDE = ResourceType(
    name="service_override",
    display_name="Service Override",
    toolset=TOOLSET,
    description=(
        "Values that replace a service's variables, manifests or config files in one environment, infrastructure "
        "or globally for an environment."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("override_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/environmentsV2/serviceOverrides",
            policy=READ,
            description="List the overrides of one environment, optionally for one service.",
            query_params={"environmentIdentifier": "environment_id", "serviceIdentifier": "service_id"},
            paging=PagingStyle.SPRING_PAGE,
            required=("environment_id",),
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/serviceOverrides/{identifier}",
            policy=READ,
            description="Get one override with its type, environment, service, infrastructure and spec.",
            path_params=_OVERRIDE_PATH,
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/serviceOverrides",
            policy=CREATE,
            description=(
                "Create an override from {type (ENV_GLOBAL_OVERRIDE, ENV_SERVICE_OVERRIDE, INFRA_GLOBAL_OVERRIDE, "
                "INFRA_SERVICE_OVERRIDE), environmentRef, serviceRef?, infraIdentifier?, orgIdentifier, "
                "projectIdentifier, spec}."
            ),
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/serviceOverrides",
            policy=UPDATE,
            description="Replace an override; the body names it by identifier, as for create.",
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/serviceOverrides/{identifier}",
            policy=DELETE,
            description="Delete an override.",
            path_params=_OVERRIDE_PATH,
        ),
    ),
    fields=("identifier", "type", "environmentRef", "serviceRef", "infraIdentifier", "yaml"),
    filters=(
        FieldSpec(name="environment_id", description="The environment whose overrides to list.", required=True),
        FieldSpec(name="service_id", description="Only overrides of this service."),
    ),
    name_field="identifier",
    example={"org_id": "default", "project_id": "payments", "environment_id": "prod"},
    search_aliases=("override", "overrides", "service_overrides", "env_override"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (SERVICE, SERVICE_OVERRIDE)
