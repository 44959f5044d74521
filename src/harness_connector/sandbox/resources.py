"""The sandbox's resources as Python: what the Harness create/update/delete endpoints do, without HTTP.

The scenario generator seeds an account through these functions and the route modules answer the API through
them, so a seeded pipeline and one created with curl are validated and stored the same way.

`body` is exactly what the Harness create endpoint receives: pipeline, input set, trigger, template and freeze
window YAML as text; `{"organization": {...}}`, `{"project": {...}}`, `{"connector": {...}}` and
`{"secret": {...}}` wrappers; plain JSON for the rest. Each kind's parser (in its route module, listed in
`routes.KINDS`) validates it as the endpoint does and turns it into the stored document:

- YAML kinds store the text under `doc["yaml"]` plus fields derived from it (name, identifier, tags, ...);
- JSON kinds store the normalised body in the body's own shape (wrappers kept), plus sandbox-owned fields.

Errors are `ApiError`s carrying Harness's codes: INVALID_REQUEST for a bad identifier, a missing field or YAML
the parser rejects (with the parser's message); DUPLICATE_FIELD "... already exists"; RESOURCE_NOT_FOUND.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import yaml

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.state import Entity

__all__ = [
    "IDENTIFIER_PATTERN",
    "Actor",
    "Draft",
    "KindSpec",
    "Parsed",
    "check_identifier",
    "create_resource",
    "delete_resource",
    "find_resource",
    "get_resource",
    "list_resources",
    "parse_yaml",
    "record_audit",
    "save_doc",
    "spec_of",
    "update_resource",
    "where",
]

IDENTIFIER_PATTERN = re.compile(r"^[a-zA-Z_][0-9a-zA-Z_$]{0,127}$")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made an API call: the token's principal, and the project a restricted token is limited to."""

    name: str
    principal_type: str = "USER"  # USER for a PAT, SERVICE_ACCOUNT for a SAT
    org: str = ""
    project: str = ""

    def may_write(self, org: str, project: str) -> bool:
        """Whether this principal may change resources at the scope (restricted tokens only in their project)."""
        return not self.project or (org, project) == (self.org, self.project)


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """What a parser gets: the scope the caller named, the raw body, and the stored entity on update."""

    ctx: SandboxContext
    org: str
    project: str
    parent: str
    body: Any
    previous: Entity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """A validated body: its identity and the document to store."""

    identifier: str
    doc: dict[str, Any]
    parent: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class KindSpec:
    """How one kind is validated, named in messages, audited and cleaned up after.

    `parent_label` names what `parent` holds (the pipeline of an input set, the version of a template).
    `cascade` removes what Harness removes with the entity (a pipeline's input sets and triggers).
    """

    kind: str
    label: str
    parse: Callable[[Draft], Parsed]
    audit_type: str
    module: str = "CORE"
    parent_label: str = ""
    cascade: Callable[[SandboxContext, Entity], None] | None = None
    audited: bool = True
    not_found: Callable[[str, str, str, str], str] | None = None  # (identifier, org, project, parent) -> message
    duplicate_status: int | None = None  # Harness Code and CF answer 409 for a duplicate


_SPECS: dict[str, KindSpec] = {}


def spec_of(kind: str) -> KindSpec:
    """The spec of a kind.

    Raises:
        ValueError: no route module declares that kind.
    """
    if not _SPECS:
        # Imported here: the route modules import this module to declare their kinds.
        from harness_connector.sandbox.routes import KINDS

        _SPECS.update({spec.kind: spec for spec in KINDS})
    try:
        return _SPECS[kind]
    except KeyError:
        raise ValueError(f"unknown sandbox resource kind {kind!r}; known: {', '.join(sorted(_SPECS))}") from None


def where(org: str, project: str) -> str:
    """Harness's way of naming a scope in messages."""
    if project:
        return f"under Project[{project}], Organization [{org}]"
    if org:
        return f"under Organization [{org}]"
    return "in the account"


def _describe(spec: KindSpec, identifier: str, parent: str) -> str:
    text = f"{spec.label} [{identifier}]"
    return f"{text} of {spec.parent_label} [{parent}]" if parent and spec.parent_label else text


def _not_found(spec: KindSpec, identifier: str, org: str, project: str, parent: str) -> ApiError:
    if spec.not_found is not None:
        return ApiError("RESOURCE_NOT_FOUND", spec.not_found(identifier, org, project, parent))
    return ApiError(
        "RESOURCE_NOT_FOUND",
        f"{_describe(spec, identifier, parent)} {where(org, project)} doesn't exist or has been deleted.",
    )


def check_identifier(value: Any, *, what: str = "identifier", pattern: re.Pattern[str] = IDENTIFIER_PATTERN) -> str:
    """A valid Harness identifier, or the 400 Harness answers for it."""
    if not isinstance(value, str) or not value:
        raise ApiError("INVALID_REQUEST", f"{what}: must not be empty")
    if not pattern.match(value):
        raise ApiError(
            "INVALID_REQUEST",
            f"{what}: {value!r} is not a valid identifier; it must start with a letter or _ and may hold only "
            f"letters, digits, _ and $ (at most 128 characters)"
            if pattern is IDENTIFIER_PATTERN
            else f"{what}: {value!r} is not valid; it must match {pattern.pattern}",
        )
    return value


def parse_yaml(text: Any, *, root: str | tuple[str, ...]) -> tuple[str, dict[str, Any], str]:
    """(text, the mapping under the root key, which root it was); a parse error is a 400 with the parser's words."""
    if not isinstance(text, str) or not text.strip():
        raise ApiError("INVALID_REQUEST", "Request body is required: send the YAML as the body")
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ApiError("INVALID_REQUEST", f"Invalid yaml: {exc}".replace("\n", " ")) from None
    roots = (root,) if isinstance(root, str) else root
    if isinstance(parsed, dict):
        for name in roots:
            if isinstance(parsed.get(name), dict):
                return text, parsed[name], name
    wanted = " or ".join(f"'{name}:'" for name in roots)
    raise ApiError("INVALID_REQUEST", f"Invalid yaml: the document must have a top-level {wanted} mapping")


# ---- reads ---------------------------------------------------------------------------------------------------


def find_resource(
    ctx: SandboxContext, kind: str, identifier: str, *, org: str = "", project: str = "", parent: str = ""
) -> Entity | None:
    """The stored entity, or None."""
    return ctx.state.get_entity(kind, identifier, org=org, project=project, parent=parent)


def get_resource(
    ctx: SandboxContext, kind: str, identifier: str, *, org: str = "", project: str = "", parent: str = ""
) -> Entity:
    """The stored entity.

    Raises:
        ApiError: RESOURCE_NOT_FOUND (404) with a Harness-like message.
    """
    found = find_resource(ctx, kind, identifier, org=org, project=project, parent=parent)
    if found is None:
        raise _not_found(spec_of(kind), identifier, org, project, parent)
    return found


def list_resources(
    ctx: SandboxContext, kind: str, *, org: str = "", project: str = "", parent: str | None = None
) -> list[Entity]:
    """The entities of a kind at exactly one scope (and parent, when given), oldest first."""
    return ctx.state.list_entities(kind, org=org, project=project, parent=parent)


# ---- writes --------------------------------------------------------------------------------------------------


def create_resource(
    ctx: SandboxContext,
    kind: str,
    *,
    org: str = "",
    project: str = "",
    parent: str = "",
    body: Any,
    actor: Actor | None = None,
) -> Entity:
    """Validate `body` as the create endpoint does and store it, stamped with `ctx.clock()`.

    `actor` is given by the API routes: it is checked against the scope and recorded in the audit trail.

    Raises:
        ApiError: INVALID_REQUEST, DUPLICATE_FIELD, RESOURCE_NOT_FOUND (a missing parent), NG_ACCESS_DENIED.
    """
    spec = spec_of(kind)
    _authorize(actor, org, project)
    parsed = spec.parse(Draft(ctx=ctx, org=org, project=project, parent=parent, body=body))
    now = ctx.clock()
    entity = Entity(kind, org, project, parsed.parent, parsed.identifier, parsed.doc, now, now)
    with ctx.state.transaction():
        if find_resource(ctx, kind, parsed.identifier, org=org, project=project, parent=parsed.parent) is not None:
            raise ApiError(
                "DUPLICATE_FIELD",
                f"{_describe(spec, parsed.identifier, parsed.parent)} {where(org, project)} already exists",
                status=spec.duplicate_status,
            )
        ctx.state.put_entity(entity)
        if actor is not None and spec.audited:
            record_audit(ctx, actor, "CREATE", entity, old_yaml=None, new_yaml=_yaml_of(entity))
    return entity


def update_resource(
    ctx: SandboxContext,
    kind: str,
    identifier: str,
    *,
    org: str = "",
    project: str = "",
    parent: str = "",
    body: Any,
    actor: Actor | None = None,
) -> Entity:
    """Validate `body` as the update endpoint does and replace the stored document; `createdAt` is kept.

    Raises:
        ApiError: RESOURCE_NOT_FOUND, INVALID_REQUEST (including a body naming another identifier).
    """
    spec = spec_of(kind)
    _authorize(actor, org, project)
    previous = get_resource(ctx, kind, identifier, org=org, project=project, parent=parent)
    parsed = spec.parse(Draft(ctx=ctx, org=org, project=project, parent=parent, body=body, previous=previous))
    if (parsed.identifier, parsed.parent) != (identifier, parent):
        named = parsed.identifier if parsed.identifier != identifier else parsed.parent
        raise ApiError(
            "INVALID_REQUEST",
            f"{spec.label} identifier in the request [{identifier}] does not match the body [{named}]",
        )
    return save_doc(ctx, previous, parsed.doc, actor=actor)


def save_doc(
    ctx: SandboxContext,
    entity: Entity,
    doc: dict[str, Any],
    *,
    actor: Actor | None = None,
    action: str = "UPDATE",
    touch: bool = True,
) -> Entity:
    """Store a new document for an existing entity (an update, or an action such as a flag toggle).

    `touch=False` keeps `lastModifiedAt`, for bookkeeping Harness does not count as a change (a test result).
    """
    stamp = max(ctx.clock(), entity.created_at) if touch else entity.updated_at
    updated = replace(entity, doc=doc, updated_at=stamp)
    with ctx.state.transaction():
        ctx.state.put_entity(updated)
        if actor is not None and spec_of(entity.kind).audited:
            record_audit(ctx, actor, action, updated, old_yaml=_yaml_of(entity), new_yaml=_yaml_of(updated))
    return updated


def delete_resource(
    ctx: SandboxContext,
    kind: str,
    identifier: str,
    *,
    org: str = "",
    project: str = "",
    parent: str = "",
    actor: Actor | None = None,
) -> Entity:
    """Delete the entity and what Harness deletes with it; returns what was deleted.

    Raises:
        ApiError: RESOURCE_NOT_FOUND.
    """
    spec = spec_of(kind)
    _authorize(actor, org, project)
    entity = get_resource(ctx, kind, identifier, org=org, project=project, parent=parent)
    with ctx.state.transaction():
        ctx.state.delete_entity(kind, identifier, org=org, project=project, parent=parent)
        if spec.cascade is not None:
            spec.cascade(ctx, entity)
        if actor is not None and spec.audited:
            record_audit(ctx, actor, "DELETE", entity, old_yaml=_yaml_of(entity), new_yaml=None)
    return entity


def _authorize(actor: Actor | None, org: str, project: str) -> None:
    if actor is not None and not actor.may_write(org, project):
        raise ApiError(
            "NG_ACCESS_DENIED",
            f"Missing permission to edit resources {where(org, project)} for principal {actor.name}",
        )


# ---- audit trail ---------------------------------------------------------------------------------------------


def record_audit(
    ctx: SandboxContext,
    actor: Actor,
    action: str,
    entity: Entity,
    *,
    old_yaml: str | None,
    new_yaml: str | None,
) -> Entity:
    """Append the audit event Harness writes for a change made through the API."""
    spec = spec_of(entity.kind)
    name = _display_name(entity.doc) or entity.identifier
    scope: dict[str, str] = {"accountIdentifier": ctx.account_id}
    if entity.org:
        scope["orgIdentifier"] = entity.org
    if entity.project:
        scope["projectIdentifier"] = entity.project
    body = {
        "action": action,
        "module": spec.module,
        "resource": {"type": spec.audit_type, "identifier": entity.identifier, "labels": {"resourceName": name}},
        "resourceScope": scope,
        "authenticationInfo": {
            "principal": {"type": actor.principal_type, "identifier": actor.name},
            "labels": {"username": actor.name},
        },
        "oldYaml": old_yaml,
        "newYaml": new_yaml,
    }
    # Written directly, not through create_resource: callers already hold the state's transaction.
    parsed = spec_of("audit_event").parse(Draft(ctx=ctx, org="", project="", parent="", body=body))
    now = ctx.clock()
    event = Entity("audit_event", "", "", "", parsed.identifier, parsed.doc, now, now)
    ctx.state.put_entity(event)
    return event


def _display_name(doc: Mapping[str, Any]) -> str:
    for holder in (doc, *(v for v in doc.values() if isinstance(v, Mapping))):
        for key in ("name", "title", "identifier"):
            value = holder.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def _yaml_of(entity: Entity) -> str:
    text = entity.doc.get("yaml")
    if isinstance(text, str) and text.strip():
        return text
    return str(yaml.safe_dump(entity.doc, sort_keys=False))
