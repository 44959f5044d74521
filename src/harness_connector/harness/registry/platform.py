"""Platform toolset: organizations, projects and the audit trail."""

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

TOOLSET = "platform"

_SEARCH = {"searchTerm": "search_term"}

ORGANIZATION = ResourceType(
    name="organization",
    display_name="Organization",
    toolset=TOOLSET,
    description="An organization in the Harness account; projects live inside one (most accounts have 'default').",
    scope=Scope.ACCOUNT,
    identifier_fields=("org_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/organizations",
            policy=READ,
            description="List organizations, optionally filtered by a search term.",
            query_params=_SEARCH,
            paging=PagingStyle.NG_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/organizations/{org}",
            policy=READ,
            description="Get one organization.",
            path_params={"org": "org_id"},
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/organizations",
            policy=CREATE,
            description="Create an organization from {identifier, name, description?, tags?}.",
            body=BodyKind.JSON,
            body_wrapper="organization",
            required=("body",),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/organizations/{org}",
            policy=UPDATE,
            description="Replace an organization's name, description and tags.",
            path_params={"org": "org_id"},
            body=BodyKind.JSON,
            body_wrapper="organization",
            required=("body",),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/organizations/{org}",
            policy=DELETE,
            description="Delete an organization and everything in it.",
            path_params={"org": "org_id"},
        ),
    ),
    fields=(
        "organization.identifier",
        "organization.name",
        "organization.description",
        "harnessManaged",
        "createdAt",
        "lastModifiedAt",
    ),
    filters=(FieldSpec(name="search_term", description="Matches organization name or identifier."),),
    id_field="organization.identifier",
    name_field="organization.name",
    example={"search_term": "default"},
    search_aliases=("org", "orgs", "organisation"),
)

PROJECT = ResourceType(
    name="project",
    display_name="Project",
    toolset=TOOLSET,
    description="A project inside an organization; pipelines, services and most other resources belong to one.",
    scope=Scope.ORG,  # orgIdentifier travels as a query parameter on every project call
    identifier_fields=("project_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/ng/api/projects",
            policy=READ,
            description="List projects, in one organization when org_id is given, else across the account.",
            query_params={"searchTerm": "search_term", "hasModule": "has_module", "moduleType": "module"},
            paging=PagingStyle.NG_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/ng/api/projects/{project}",
            policy=READ,
            description="Get one project.",
            path_params={"project": "project_id"},
            required=("org_id",),
        ),
        Operation(
            name="create",
            method="POST",
            path="/ng/api/projects",
            policy=CREATE,
            description="Create a project from {identifier, name, color?, modules?, description?, tags?}.",
            body=BodyKind.JSON,
            body_wrapper="project",
            required=("org_id", "body"),
        ),
        Operation(
            name="update",
            method="PUT",
            path="/ng/api/projects/{project}",
            policy=UPDATE,
            description="Replace a project's name, color, modules, description and tags.",
            path_params={"project": "project_id"},
            body=BodyKind.JSON,
            body_wrapper="project",
            required=("org_id", "body"),
        ),
        Operation(
            name="delete",
            method="DELETE",
            path="/ng/api/projects/{project}",
            policy=DELETE,
            description="Delete a project and everything in it.",
            path_params={"project": "project_id"},
            required=("org_id",),
        ),
    ),
    fields=(
        "project.identifier",
        "project.name",
        "project.orgIdentifier",
        "project.modules",
        "project.description",
        "lastModifiedAt",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches project name or identifier."),
        FieldSpec(
            name="has_module", description="Only projects with (true) or without (false) module.", type="boolean"
        ),
        FieldSpec(name="module", description="The module has_module refers to.", enum=("CD", "CI", "CF", "CE", "CV")),
    ),
    id_field="project.identifier",
    name_field="project.name",
    example={"org_id": "default"},
    search_aliases=("projects", "workspace"),
)

AUDIT_EVENT = ResourceType(
    name="audit_event",
    display_name="Audit Event",
    toolset=TOOLSET,
    description="One entry of the account's audit trail: who did what to which resource, and when.",
    scope=Scope.ACCOUNT,
    identifier_fields=("audit_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/audit/api/audits/list",
            policy=READ,
            description=(
                "List audit events; the body may add startTime/endTime (epoch ms), modules[], actions[], "
                "resources[{type}] and scopes[{accountIdentifier, orgIdentifier?, projectIdentifier?}]."
            ),
            body=BodyKind.JSON,
            static_body={"filterType": "Audit"},
            paging=PagingStyle.NG_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/audit/api/auditYaml",
            policy=READ,
            description="Get the YAML before and after the change an audit event records.",
            query_params={"auditId": "audit_id"},
            required=("audit_id",),
        ),
    ),
    fields=(
        "auditId",
        "action",
        "module",
        "resource.type",
        "resource.identifier",
        "authenticationInfo.principal.identifier",
        "resourceScope.orgIdentifier",
        "resourceScope.projectIdentifier",
        "timestamp",
    ),
    id_field="auditId",
    name_field="resource.identifier",
    # Account-level page: the link composer drops the empty org/project segments, as the Harness UI does.
    ui_path="settings/audit-trail",
    example={"audit_id": "Y2VhMWQ0NjMtOWE1Mi00"},
    search_aliases=("audit", "audit_log", "audit_trail", "activity"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (ORGANIZATION, PROJECT, AUDIT_EVENT)
