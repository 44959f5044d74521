"""Delegates toolset: the workers that run Harness tasks inside a customer's network, and their tokens.

Both endpoints answer with the older RestResponse envelope ({metaData, resource, responseMessages}).
"""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, HIGH_WRITE, READ, operations
from harness_connector.harness.registry.model import (
    BodyKind,
    Envelope,
    FieldSpec,
    Operation,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "delegates"

# Delegates and their tokens exist at every scope; the account is where most of them live.
_ALL_SCOPES = (Scope.ACCOUNT, Scope.ORG, Scope.PROJECT)

DELEGATE = ResourceType(
    name="delegate",
    display_name="Delegate",
    toolset=TOOLSET,
    description=(
        "A delegate (group) with its replicas, connection state and last heartbeat; a stale heartbeat means tasks "
        "that need it will fail."
    ),
    scope=Scope.ACCOUNT,
    supported_scopes=_ALL_SCOPES,
    identifier_fields=("delegate_name",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/ng/api/delegate-setup/listDelegates",
            policy=READ,
            description=(
                "List delegates; the body may add status (CONNECTED, DISCONNECTED, ...), delegateName, "
                "delegateType, hostName, delegateTags[]."
            ),
            query_params={"all": "all"},
            body=BodyKind.JSON,
            static_body={"filterType": "Delegate"},
            envelope=Envelope.RESOURCE,
        ),
    ),
    fields=("name", "type", "connected", "lastHeartBeat", "autoUpgrade", "legacy", "delegateReplicas"),
    filters=(FieldSpec(name="all", description="Also list delegates of the scopes below this one.", type="boolean"),),
    id_field="name",
    # Account-level page: the link composer drops the empty org/project segments, as the Harness UI does.
    ui_path="settings/resources/delegates",
    example={"all": True},
    search_aliases=("delegates", "agent", "runner", "worker"),
)

# The SDK passes the token name as a query parameter; the official server puts it in the path. We follow the SDK.
_TOKEN_NAME = {"tokenName": "token_name"}

DELEGATE_TOKEN = ResourceType(
    name="delegate_token",
    display_name="Delegate Token",
    toolset=TOOLSET,
    description="A token delegates register with; revoking it disconnects every delegate that uses it.",
    scope=Scope.ACCOUNT,
    supported_scopes=_ALL_SCOPES,
    identifier_fields=("token_name",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/delegate-token-ng",
            policy=READ,
            description="List delegate tokens, active and revoked.",
            query_params={"name": "token_name", "status": "status"},
            envelope=Envelope.RESOURCE,
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/delegate-token-ng",
            policy=CREATE,
            description="Create a delegate token; revoke_after (epoch ms) sets when it expires.",
            query_params={**_TOKEN_NAME, "revokeAfter": "revoke_after"},
            envelope=Envelope.RESOURCE,
            required=("token_name",),
        ),
        Operation(
            name="revoke",
            method="PUT",
            path="/ng/api/delegate-token-ng",
            policy=HIGH_WRITE,
            description="Revoke a delegate token; delegates registered with it can no longer connect.",
            query_params=_TOKEN_NAME,
            envelope=Envelope.RESOURCE,
            required=("token_name",),
        ),
    ),
    # Never `value`: a token's secret must not reach a compact result.
    fields=("name", "status", "createdAt", "revokeAfter", "ownerIdentifier"),
    filters=(
        FieldSpec(name="token_name", description="Only the token with this name."),
        FieldSpec(name="status", description="Only tokens in this state.", enum=("ACTIVE", "REVOKED")),
    ),
    id_field="name",
    ui_path="settings/resources/delegates/tokens",
    example={"status": "ACTIVE"},
    search_aliases=("delegate_tokens", "registration_token"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (DELEGATE, DELEGATE_TOKEN)
