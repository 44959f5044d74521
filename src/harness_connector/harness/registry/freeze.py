"""Freeze toolset: deployment freeze windows, the periods in which matching pipelines may not deploy."""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, DELETE, READ, UPDATE, operations
from harness_connector.harness.registry.model import (
    BodyKind,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "freeze"

_FREEZE_PATH = {"freezeIdentifier": "freeze_id"}

FREEZE_WINDOW = ResourceType(
    name="freeze_window",
    display_name="Freeze Window",
    toolset=TOOLSET,
    description=(
        "A deployment freeze: time windows in which deployments to the matching services and environments are "
        "blocked, Enabled or Disabled."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("freeze_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/ng/api/freeze/list",
            policy=READ,
            description=(
                "List freeze windows; the body may add freezeStatus (Enabled or Disabled), searchTerm, and "
                "startTime/endTime (epoch ms)."
            ),
            body=BodyKind.JSON,
            static_body={"filterType": "FreezeSetup"},
            # page/size on the wire, although the answer is counted like an NG page (totalItems).
            paging=PagingStyle.SPRING_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/freeze/{freezeIdentifier}",
            policy=READ,
            description="Get a freeze window and its YAML.",
            path_params=_FREEZE_PATH,
        ),
        # The freeze endpoints read YAML (a 'freeze:' document), not JSON.
        Operation(
            name="create",
            method="POST",
            path="/ng/api/freeze",
            policy=CREATE,
            description="Create a freeze window from its YAML (a 'freeze:' document with windows and entity rules).",
            body=BodyKind.YAML,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/freeze/{freezeIdentifier}",
            policy=UPDATE,
            description="Replace a freeze window's YAML (set status: Disabled there to lift it).",
            path_params=_FREEZE_PATH,
            body=BodyKind.YAML,
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/freeze/{freezeIdentifier}",
            policy=DELETE,
            description="Delete a freeze window.",
            path_params=_FREEZE_PATH,
        ),
    ),
    fields=(
        "identifier",
        "name",
        "status",
        "type",
        "freezeScope",
        "currentOrUpcomingWindow.startTime",
        "currentOrUpcomingWindow.endTime",
        "lastUpdatedAt",
    ),
    ui_path="settings/freeze-windows/studio/window/{freeze_id}/?sectionId=OVERVIEW",
    example={"org_id": "default", "project_id": "payments", "freeze_id": "year_end_freeze"},
    search_aliases=("freeze", "freezes", "freeze_windows", "change_freeze", "blackout"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (FREEZE_WINDOW,)
