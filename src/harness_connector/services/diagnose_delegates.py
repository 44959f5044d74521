"""Diagnose delegates: health by the official server's rules, and selectors that no connected delegate serves.

Health: disconnected, heartbeat older than 5 minutes, a replica's image expiring within 7 days, legacy. On top,
the selectors the project's pipelines (YAML, a bounded number) and connectors ask for are matched against the
connected delegates usable from the project, since an unmatched selector is the usual reason behind
"No eligible delegate(s) in account to execute task".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import yaml

from harness_connector.errors import HarnessError, UsageError
from harness_connector.harness.registry import get_resource_type
from harness_connector.services.connection import Connection
from harness_connector.services.diagnose_connector import clean_selectors
from harness_connector.services.diagnose_models import DelegateDiagnosis, DelegateHealth, UnmatchedSelector
from harness_connector.services.shaping import dig, iso_time, ui_link

__all__ = ["diagnose_delegates", "selector_uses"]

HEARTBEAT_LIMIT_S = 5 * 60
EXPIRY_WARNING_MS = 7 * 86_400_000
_USES_LIMIT = 10
_FETCH_CONCURRENCY = 4


async def diagnose_delegates(
    conn: Connection,
    name_filter: str | None = None,
    *,
    now_ms: int,
    org_id: str | None = None,
    project_id: str | None = None,
    check_selectors: bool = True,
    max_pipelines: int = 30,
) -> DelegateDiagnosis:
    """Health of the delegates a project can use, and selectors its pipelines and connectors ask for in vain.

    `name_filter` (case-insensitive substring) narrows the health list, not the selector check, which always
    weighs every usable delegate.

    Raises:
        UsageError: the filter matches no delegate (the message lists the names), or max_pipelines is below 0.
        HarnessError: Harness refused the delegate list.
    """
    if max_pipelines < 0:
        raise UsageError("max_pipelines must be >= 0")
    org, project = org_id or conn.org, project_id or conn.project
    listed = await _list_delegates(conn, org, project)
    health = [_health(raw, scope, now_ms) for scope, raw in listed]
    shown = [h for h in health if not name_filter or name_filter.lower() in h.name.lower()]
    if name_filter and not shown:
        names = ", ".join(sorted(h.name for h in health)[:20]) or "none"
        raise UsageError(f"no delegate name contains {name_filter!r}; delegates: {names}")
    shown.sort(key=lambda h: (h.healthy, h.name.lower()))
    result = DelegateDiagnosis(
        total=len(shown),
        healthy_count=sum(h.healthy for h in shown),
        unhealthy_count=sum(not h.healthy for h in shown),
        delegates=shown,
        link=ui_link(conn.ui_base_url, conn.account_id, get_resource_type("delegate"), {}),
    )
    if check_selectors and org and project:
        await _check_selectors(conn, result, listed, health, org, project, max_pipelines)
    result.next_steps = _delegate_advice(result)
    return result


async def _list_delegates(conn: Connection, org: str | None, project: str | None) -> list[tuple[str, Any]]:
    """(scope, delegate) for every delegate usable from the project: its own, its org's and the account's."""
    resource = get_resource_type("delegate")
    if not (org and project):
        found = await conn.client.call(resource, "list", {"resource_scope": "account", "all": True})
        return [(_scope_of(raw), raw) for raw in _as_list(found)]
    scopes = [("account", {}), (f"org {org}", {"org_id": org}), (f"project {org}/{project}",
              {"org_id": org, "project_id": project})]  # fmt: skip
    out: list[tuple[str, Any]] = []
    for label, args in scopes:
        kind = "project" if "project_id" in args else "org" if args else "account"
        found = await conn.client.call(resource, "list", {**args, "resource_scope": kind, "all": False})
        out += [(label, raw) for raw in _as_list(found)]
    return out


def _as_list(found: Any) -> list[Mapping[str, Any]]:
    items = found.get("resource") if isinstance(found, Mapping) else found
    return [i for i in items or [] if isinstance(i, Mapping)] if isinstance(items, list) else []


def _scope_of(raw: Mapping[str, Any]) -> str:
    if raw.get("projectName"):
        return f"project {raw.get('orgName')}/{raw.get('projectName')}"
    return f"org {raw['orgName']}" if raw.get("orgName") else "account"


def _replicas(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in raw.get("delegateReplicas") or [] if isinstance(r, Mapping)]


def _health(raw: Mapping[str, Any], scope: str, now_ms: int) -> DelegateHealth:
    replicas = _replicas(raw)
    beats = [b for b in (raw.get("lastHeartBeat"), *(r.get("lastHeartbeat") for r in replicas)) if isinstance(b, int)]
    age = max(0, (now_ms - max(beats)) // 1000) if beats else None
    issues: list[str] = []
    connected = bool(raw.get("connected"))
    if not connected:
        issues.append("disconnected: Harness cannot send it tasks")
    if age is None:
        issues.append("no heartbeat recorded")
    elif age > HEARTBEAT_LIMIT_S:
        issues.append(f"last heartbeat {_age(age)} ago (healthy delegates beat about every minute)")
    for replica in replicas:
        expiring = replica.get("expiringAt")
        if isinstance(expiring, int) and expiring > 0 and expiring - now_ms <= EXPIRY_WARNING_MS:
            when = "expired" if expiring <= now_ms else f"expires in {_age((expiring - now_ms) // 1000)}"
            issues.append(
                f"replica {replica.get('hostName') or replica.get('uuid')}: image {when} ({iso_time(expiring)})"
            )
    if raw.get("legacy"):
        issues.append("legacy delegate: no longer supported, replace it with a current delegate")
    versions = list(dict.fromkeys(str(r["version"]) for r in replicas if r.get("version")))
    return DelegateHealth(
        name=str(raw.get("name") or "?"),
        type=raw.get("type"),
        scope=scope,
        connected=connected,
        healthy=not issues,
        heartbeat_age_s=age,
        versions=versions,
        replicas=len(replicas),
        tags=[str(t) for t in raw.get("tags") or []],
        issues=issues,
    )


def _age(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _served_by(raw: Mapping[str, Any]) -> set[str]:
    """What a task can select the delegate by: its name, tags, group identifier and replica host names."""
    names = {raw.get("name"), raw.get("delegateGroupIdentifier"), *(raw.get("tags") or [])}
    names.update(r.get("hostName") for r in _replicas(raw))
    return {str(n).lower() for n in names if n}


def selector_uses(document: Any, where: str) -> list[tuple[list[str], str]]:
    """(selectors, where) for every `delegateSelectors` in a pipeline document; `where` grows by stage and step."""
    out: list[tuple[list[str], str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            selectors = clean_selectors(value.get("delegateSelectors"))
            if selectors:
                out.append((selectors, path))
            for key, inner in value.items():
                named = key in ("stage", "step", "stepGroup") and isinstance(inner, Mapping) and inner.get("identifier")
                walk(inner, f"{path}/{inner['identifier']}" if named else path)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, path)

    walk(document, where)
    return out


async def _check_selectors(
    conn: Connection,
    result: DelegateDiagnosis,
    listed: list[tuple[str, Any]],
    health: list[DelegateHealth],
    org: str,
    project: str,
    max_pipelines: int,
) -> None:
    uses = await _pipeline_uses(conn, result, org, project, max_pipelines)
    uses += await _connector_uses(conn, result, org, project)
    connected = [_served_by(raw) for (_, raw), h in zip(listed, health, strict=True) if h.connected]
    disconnected = [(h.name, _served_by(raw)) for (_, raw), h in zip(listed, health, strict=True) if not h.connected]
    grouped: dict[frozenset[str], UnmatchedSelector] = {}
    for selectors, where in uses:
        wanted = {s.lower() for s in selectors}
        if any(wanted <= served for served in connected):
            continue
        key = frozenset(wanted)
        entry = grouped.get(key)
        if entry is None:
            entry = UnmatchedSelector(
                selectors=selectors,
                missing=[s for s in selectors if not any(s.lower() in served for served in connected)],
                disconnected_matches=[name for name, served in disconnected if wanted <= served],
                used_by=[],
            )
            grouped[key] = entry
        if len(entry.used_by) < _USES_LIMIT and where not in entry.used_by:
            entry.used_by.append(where)
    result.unmatched_selectors = list(grouped.values())


async def _pipeline_uses(
    conn: Connection, result: DelegateDiagnosis, org: str, project: str, limit: int
) -> list[tuple[list[str], str]]:
    if limit == 0:
        return []
    resource = get_resource_type("pipeline")
    scope = {"org_id": org, "project_id": project}
    page = await conn.client.list_page(resource, scope, page=0, size=min(limit, 100))
    ids = [str(dig(item, "identifier")) for item in page.items if dig(item, "identifier")][:limit]
    result.pipelines_total = page.total_items
    uses: dict[str, list[tuple[list[str], str]]] = {}
    limiter = anyio.CapacityLimiter(_FETCH_CONCURRENCY)

    async def scan(pipeline_id: str) -> None:
        async with limiter:
            try:
                item = await conn.client.call(resource, "get", {**scope, "pipeline_id": pipeline_id})
                document = yaml.safe_load(str(dig(item, "yamlPipeline") or ""))
            except (HarnessError, yaml.YAMLError):
                return  # a pipeline that cannot be read or parsed says nothing about selectors
            uses[pipeline_id] = selector_uses(document, pipeline_id)

    async with anyio.create_task_group() as group:
        for pipeline_id in ids:
            group.start_soon(scan, pipeline_id)
    result.pipelines_scanned = len(uses)
    return [use for pipeline_id in ids for use in uses.get(pipeline_id, [])]


async def _connector_uses(
    conn: Connection, result: DelegateDiagnosis, org: str, project: str
) -> list[tuple[list[str], str]]:
    resource = get_resource_type("connector")
    args = {"org_id": org, "project_id": project, "include_parent_scopes": True}
    try:
        page = await conn.client.list_page(resource, args, page=0, size=100)
    except HarnessError:
        return []  # the pipeline check stands on its own
    result.connectors_scanned = len(page.items)
    out = []
    for item in page.items:
        selectors = clean_selectors(dig(item, "connector.spec.delegateSelectors"))
        if selectors:
            out.append((selectors, f"connector:{dig(item, 'connector.identifier')}"))
    return out


def _delegate_advice(result: DelegateDiagnosis) -> list[str]:
    hints = []
    down = [d.name for d in result.delegates if not d.connected]
    if down:
        hints.append(f"disconnected: {', '.join(down[:5])}; check the delegate pods or containers and their tokens")
    if any("image" in issue for d in result.delegates for issue in d.issues):
        hints.append("upgrade delegates whose image expires soon (auto-upgrade, or a newer image tag)")
    if result.unmatched_selectors:
        hints.append(
            "steps and connectors listed in unmatched_selectors fail with 'No eligible delegate(s)': add the "
            "missing tags to a delegate (DELEGATE_TAGS) or change the selectors"
        )
    if not hints:
        hints.append("delegates look healthy; if a task still finds none, compare its selectors with their tags")
    return hints
