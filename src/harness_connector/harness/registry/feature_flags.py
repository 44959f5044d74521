"""Feature Flags toolset: flags of Harness's CF admin API, switched per environment.

The CF admin API answers without an envelope; its lists hold the flags under `features`.
"""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, DELETE, HIGH_WRITE, READ, UPDATE, operations
from harness_connector.harness.registry.model import (
    BodyKind,
    Envelope,
    FieldSpec,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "feature_flags"

_FLAG = "/cf/admin/features/{identifier}"
_FLAG_PATH = {"identifier": "flag_id"}
_IN_ENVIRONMENT = {"environmentIdentifier": "environment_id"}


# apidocs documents only setFeatureFlagState; older official-server builds sent turnFlagOn/turnFlagOff.
_TURN_OFF = {"instructions": [{"kind": "setFeatureFlagState", "parameters": {"state": "off"}}]}
_TURN_ON = {"instructions": [{"kind": "setFeatureFlagState", "parameters": {"state": "on"}}]}


FEATURE_FLAG = ResourceType(
    name="feature_flag",
    display_name="Feature Flag",
    toolset=TOOLSET,
    description=(
        "A feature flag with its variations and, per environment, whether it is on and what it serves; kill turns "
        "it off in one environment."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("flag_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/cf/admin/features",
            policy=READ,
            description="List flags; with environment_id each flag carries its state in that environment.",
            query_params={
                **_IN_ENVIRONMENT,
                "name": "search_term",  # CF filters by name; search_term keeps the argument every list shares
                "kind": "kind",
                "archived": "archived",
            },
            envelope=Envelope.BARE,
            paging=PagingStyle.CF_PAGE,
            items_key="features",
        ),
        Operation(
            name="get",
            method="GET",
            path=_FLAG,
            policy=READ,
            description="Get a flag, with its rules and state in environment_id when given.",
            path_params=_FLAG_PATH,
            query_params=_IN_ENVIRONMENT,
            envelope=Envelope.BARE,
        ),
        Operation(
            name="create",
            method="POST",
            path="/cf/admin/features",
            policy=CREATE,
            description=(
                "Create a flag from {identifier, name, kind, permanent, project, variations[{identifier, value}], "
                "defaultOnVariation, defaultOffVariation, tags?, owner?}."
            ),
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path=_FLAG,
            policy=UPDATE,
            description="Replace a flag's definition; use toggle, kill or restore to switch it in an environment.",
            path_params=_FLAG_PATH,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path=_FLAG,
            policy=DELETE,
            description="Delete a flag from every environment; code that evaluates it gets the SDK default.",
            path_params=_FLAG_PATH,
            query_params={"forceDelete": "force_delete", "commitMsg": "commit_msg"},
            envelope=Envelope.BARE,
        ),
        Operation(
            name="toggle",
            method="PATCH",
            path=_FLAG,
            policy=HIGH_WRITE,
            description=(
                "Apply instructions to a flag in one environment; body {instructions: [{kind: setFeatureFlagState, "
                "parameters: {state: on|off}}], comment?}."
            ),
            path_params=_FLAG_PATH,
            query_params=_IN_ENVIRONMENT,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("environment_id", "body"),
        ),
        Operation(
            name="kill",
            method="PATCH",
            path=_FLAG,
            policy=HIGH_WRITE,
            description="Turn a flag off in one environment (the kill switch); the body may add a comment.",
            path_params=_FLAG_PATH,
            query_params=_IN_ENVIRONMENT,
            body=BodyKind.JSON,
            static_body=_TURN_OFF,
            envelope=Envelope.BARE,
            required=("environment_id",),
        ),
        Operation(
            name="restore",
            method="PATCH",
            path=_FLAG,
            policy=HIGH_WRITE,
            description="Turn a flag back on in one environment; the body may add a comment.",
            path_params=_FLAG_PATH,
            query_params=_IN_ENVIRONMENT,
            body=BodyKind.JSON,
            static_body=_TURN_ON,
            envelope=Envelope.BARE,
            required=("environment_id",),
        ),
    ),
    fields=(
        "identifier",
        "name",
        "kind",
        "envProperties.environment",
        "envProperties.state",
        "archived",
        "status.status",
        "modifiedAt",
    ),
    filters=(
        FieldSpec(name="environment_id", description="Report each flag's state in this environment."),
        FieldSpec(name="search_term", description="Matches flag name."),
        FieldSpec(name="kind", description="Only flags of this kind.", enum=("boolean", "int", "string", "json")),
        FieldSpec(name="archived", description="List archived flags instead of live ones.", type="boolean"),
    ),
    example={"org_id": "default", "project_id": "payments", "flag_id": "new_checkout", "environment_id": "prod"},
    search_aliases=("feature_flags", "flag", "flags", "toggle", "kill_switch", "ff"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (FEATURE_FLAG,)
