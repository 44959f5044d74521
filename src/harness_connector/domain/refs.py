"""What a Harness UI URL points at, as identifiers the rest of the connector can use."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True, kw_only=True)
class HarnessRef:
    """The scope and identifiers extracted from a Harness UI URL; `None` where the URL does not say.

    `resource_type` names a registry resource type (`pipeline`, `execution`, `connector`, ...) and
    `resource_id` is that resource's own identifier; the other fields carry the context around it.
    `resource_scope` is set for resources that exist at several scopes (connectors, secrets, services, ...).
    """

    account_id: str | None = None
    org_id: str | None = None
    project_id: str | None = None
    module: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    resource_scope: str | None = None
    pipeline_id: str | None = None
    execution_id: str | None = None
    stage_id: str | None = None
    step_id: str | None = None
    stage_execution_id: str | None = None
    environment_id: str | None = None
    repo_id: str | None = None
    pr_number: int | None = None
    branch: str | None = None
    store_type: str | None = None
    connector_ref: str | None = None
    repo_name: str | None = None

    def present(self) -> dict[str, str | int]:
        """The fields the URL set, for merging into tool arguments as defaults."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}
