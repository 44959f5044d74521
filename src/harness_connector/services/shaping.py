"""Make Harness payloads small and useful for a model: whitelisted fields, no empty noise, readable times, links.

Every token in a tool result is paid for, and most of a Harness payload is nulls, empty maps and repeated
metadata. A resource type's `fields` whitelist picks what a person needs; `prune` drops what carries nothing;
epoch-millisecond times become ISO strings a model can read; every item gets a deep link into the Harness UI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from harness_connector.harness.registry import ResourceType

__all__ = ["compact_item", "detail_item", "dig", "iso_time", "prune", "ui_link"]

_TIME_KEY = re.compile(r"(At|Ts|Time|time|Heartbeat|HeartBeat|_at|_ts|started|ended|created|updated)$")
_EPOCH_MS_MIN, _EPOCH_MS_MAX = 10**11, 10**14
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def dig(item: Any, path: str) -> Any:
    """The value at a dotted path (`connector.identifier`), or None where any step is missing."""
    value = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def iso_time(epoch_ms: int) -> str:
    """An epoch-millisecond time as an ISO-8601 UTC string (second precision)."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | dict | tuple) and not value)


def prune(value: Any, key: str = "") -> Any:
    """Drop nulls, empty strings and empty collections recursively; turn epoch-ms times into ISO strings."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            pruned = prune(v, str(k))
            if not _is_empty(pruned):
                out[str(k)] = pruned
        return out
    if isinstance(value, list):
        return [p for v in value if not _is_empty(p := prune(v, key))]
    if (
        isinstance(value, int | str)
        and not isinstance(value, bool)
        and _TIME_KEY.search(key)
        and str(value).isdigit()
        and _EPOCH_MS_MIN <= int(value) < _EPOCH_MS_MAX
    ):
        return iso_time(int(value))
    return value


def _pick(item: Mapping[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in paths:
        # `a.b.c as name` renames a field whose last segment alone would mislead (triggeredBy.identifier).
        path, _, alias = spec.partition(" as ")
        value = prune(dig(item, path), path.rsplit(".", 1)[-1])
        if _is_empty(value):
            continue
        key = alias.strip() or path.rsplit(".", 1)[-1]
        if key in out:
            # Two paths end in the same name (status.status vs status): keep both, the second spelled in full.
            key = path.replace(".", "_")
        out[key] = value
    return out


def compact_item(resource: ResourceType, item: Any) -> dict[str, Any]:
    """A list row cut to the type's whitelist; the whole pruned row when the type has none or nothing matched."""
    if not isinstance(item, Mapping):
        return {"value": item}
    wanted = (resource.id_field, resource.name_field, *resource.fields)
    picked = _pick(item, tuple(dict.fromkeys(wanted)))
    if picked:
        return picked
    pruned = prune(item)
    return pruned if isinstance(pruned, dict) else {"value": pruned}


def detail_item(resource: ResourceType, item: Any) -> dict[str, Any]:
    """One item for a `get`: the whitelist plus the type's detail fields, or the whole pruned item."""
    if not isinstance(item, Mapping):
        return {"value": item}
    if resource.detail_fields or resource.fields:
        picked = _pick(item, tuple(dict.fromkeys((*resource.fields, *resource.detail_fields))))
        if len(picked) >= 2:
            return picked
    pruned = prune(item)
    return pruned if isinstance(pruned, dict) else {"value": pruned}


def ui_link(
    ui_base_url: str,
    account_id: str,
    resource: ResourceType,
    args: Mapping[str, Any],
    item: Mapping[str, Any] | None = None,
) -> str | None:
    """The Harness UI page of an item (or of the list, without one); None when the type has no page."""
    if resource.ui_path is None:
        return None
    values: dict[str, str] = {k: str(v) for k, v in args.items() if not _is_empty(v) and not isinstance(v, Mapping)}
    if item is not None:
        for arg, path in resource.link_fields.items():
            found = dig(item, path)
            if not _is_empty(found):
                values[arg] = str(found)
        own = dig(item, resource.id_field)
        if not _is_empty(own) and resource.identifier_fields:
            values[resource.identifier_fields[-1]] = str(own)
        for scope_arg, key in (("org_id", "orgIdentifier"), ("project_id", "projectIdentifier")):
            found = item.get(key)
            if isinstance(found, str) and found:
                values[scope_arg] = found
    missing = [name for name in _PLACEHOLDER.findall(resource.ui_path) if name not in values]
    if missing:
        return None
    tail = _PLACEHOLDER.sub(lambda m: values[m.group(1)], resource.ui_path)
    scope = ""
    if values.get("org_id"):
        scope += f"/orgs/{values['org_id']}"
        if values.get("project_id"):
            scope += f"/projects/{values['project_id']}"
    return f"{ui_base_url.rstrip('/')}/ng/account/{account_id}/all{scope}/{tail}"
