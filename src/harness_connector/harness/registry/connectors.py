"""Connectors toolset: Harness's links to Git providers, registries, clusters and clouds."""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, DELETE, PROBE, READ, UPDATE, operations
from harness_connector.harness.registry.model import (
    BodyKind,
    FieldSpec,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "connectors"

_CONNECTOR_PATH = {"connectorIdentifier": "connector_id"}

CONNECTOR = ResourceType(
    name="connector",
    display_name="Connector",
    toolset=TOOLSET,
    description=(
        "Harness's credentials and settings for reaching an outside system (GitHub, Docker registry, Kubernetes "
        "cluster, cloud account), with the result of its last connectivity test."
    ),
    scope=Scope.PROJECT,
    supported_scopes=(Scope.ACCOUNT, Scope.ORG, Scope.PROJECT),
    identifier_fields=("connector_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/ng/api/connectors/listV2",
            policy=READ,
            description=(
                "List connectors; the body may add types[], categories[], connectivityStatuses[], "
                "connectorIdentifiers[]."
            ),
            query_params={
                "searchTerm": "search_term",
                "includeAllConnectorsAvailableAtScope": "include_parent_scopes",
            },
            body=BodyKind.JSON,
            static_body={"filterType": "Connector"},
            paging=PagingStyle.NG_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/connectors/{connectorIdentifier}",
            policy=READ,
            description="Get a connector's settings and last test status.",
            path_params=_CONNECTOR_PATH,
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/connectors",
            policy=CREATE,
            description="Create a connector from {name, identifier, type, spec, orgIdentifier?, projectIdentifier?}.",
            body=BodyKind.JSON,
            body_wrapper="connector",
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/connectors",
            policy=UPDATE,
            description="Replace a connector; the body names it by identifier, as for create.",
            body=BodyKind.JSON,
            body_wrapper="connector",
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/connectors/{connectorIdentifier}",
            policy=DELETE,
            description="Delete a connector; pipelines that reference it stop working.",
            path_params=_CONNECTOR_PATH,
        ),
        Operation(
            name="test_connection",
            method="POST",
            path="/ng/api/connectors/testConnection/{connectorIdentifier}",
            policy=PROBE,
            description=(
                "Test that Harness (or a delegate) can reach the system; fails with 'No eligible delegate(s)' when "
                "no delegate matches the connector's selectors."
            ),
            path_params=_CONNECTOR_PATH,
            body=BodyKind.JSON,  # an empty object
        ),
    ),
    fields=(
        "connector.identifier",
        "connector.name",
        "connector.type",
        "status.status",
        "status.errorSummary",
        "status.lastConnectedAt",
        "lastModifiedAt",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches connector name or identifier."),
        FieldSpec(
            name="include_parent_scopes",
            description="Also list the org and account connectors usable from this scope.",
            type="boolean",
        ),
    ),
    id_field="connector.identifier",
    name_field="connector.name",
    ui_path="settings/connectors/{connector_id}",
    example={"org_id": "default", "project_id": "payments", "connector_id": "github"},
    search_aliases=("connectors", "integration", "git_connector", "docker_registry", "cloud_provider"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (CONNECTOR,)
