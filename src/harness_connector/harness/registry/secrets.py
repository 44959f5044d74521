"""Secrets toolset: secret metadata. Harness never returns a secret's value, only where it is kept."""

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

TOOLSET = "secrets"

_SECRET_PATH = {"identifier": "secret_id"}

SECRET = ResourceType(
    name="secret",
    display_name="Secret",
    toolset=TOOLSET,
    description=(
        'A secret text, file, SSH key or WinRM credential that pipelines read as <+secrets.getValue("id")>; '
        "its value is never returned."
    ),
    scope=Scope.PROJECT,
    supported_scopes=(Scope.ACCOUNT, Scope.ORG, Scope.PROJECT),
    identifier_fields=("secret_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/ng/api/v2/secrets/list/secrets",
            policy=READ,
            description="List secrets; the body may add secretTypes[] such as SecretText, SecretFile, SSHKey.",
            query_params={"searchTerm": "search_term"},
            body=BodyKind.JSON,
            static_body={"filterType": "Secret"},
            paging=PagingStyle.NG_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/v2/secrets/{identifier}",
            policy=READ,
            description="Get a secret's metadata.",
            path_params=_SECRET_PATH,
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/v2/secrets",
            policy=CREATE,
            description=(
                "Create a secret from {type, name, identifier, orgIdentifier?, projectIdentifier?, "
                "spec: {secretManagerIdentifier, valueType (Inline or Reference), value}}."
            ),
            body=BodyKind.JSON,
            body_wrapper="secret",
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/v2/secrets/{identifier}",
            policy=UPDATE,
            description="Replace a secret's metadata or value; the body has the same shape as for create.",
            path_params=_SECRET_PATH,
            body=BodyKind.JSON,
            body_wrapper="secret",
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/v2/secrets/{identifier}",
            policy=DELETE,
            description="Delete a secret; pipelines and connectors that read it start failing.",
            path_params=_SECRET_PATH,
        ),
    ),
    fields=(
        "secret.identifier",
        "secret.name",
        "secret.type",
        "secret.description",
        "secret.spec.secretManagerIdentifier",
        "secret.spec.valueType",
        "updatedAt",
    ),
    filters=(FieldSpec(name="search_term", description="Matches secret name or identifier."),),
    id_field="secret.identifier",
    name_field="secret.name",
    ui_path="settings/secrets/{secret_id}",
    example={"org_id": "default", "project_id": "payments", "secret_id": "github_token"},
    search_aliases=("secrets", "credential", "credentials", "password", "token_secret"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (SECRET,)
