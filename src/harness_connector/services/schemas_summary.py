"""One-line summaries of schema nodes, and the size cap that replaces the biggest parts of a section by them."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["described", "shrink", "size", "summary"]


def size(content: Any) -> int:
    """Bytes of `content` as compact JSON: the measure every cap uses."""
    return len(json.dumps(content, separators=(",", ":")))


def summary(node: Any, depth: int = 0) -> str:
    """One line saying what a schema accepts, for outlines and for parts cut by the size cap."""
    if not isinstance(node, dict):
        return json.dumps(node) if isinstance(node, bool) else "?"
    ref = node.get("$ref")
    if isinstance(ref, str):
        return "→ " + ref.rsplit("/", 1)[-1]
    if "enum" in node:
        values = [v if isinstance(v, str) and not v.isdigit() else json.dumps(v) for v in node["enum"]]
        return "enum: " + "|".join(values[:8]) + (f"|… (+{len(values) - 8})" if len(values) > 8 else "")
    if "const" in node:
        return f"const: {node['const']}"
    for comb in ("oneOf", "anyOf"):
        if isinstance(node.get(comb), list) and depth < 2:
            text = " | ".join(summary(b, depth + 1) for b in node[comb])
            return text if len(text) <= 160 else text[:157] + "..."
    condition = node.get("if")
    if isinstance(condition, dict) and depth < 2:
        tests = condition.get("properties", {})
        named = [f"{k}={t['const']}" for k, t in tests.items() if isinstance(t, dict) and "const" in t]
        return f"if {', '.join(named) or 'it matches'} → {summary(node.get('then'), depth + 1)}"
    return _shape(node, depth)


def _shape(node: dict[str, Any], depth: int) -> str:
    """The structural part of `summary`: small objects spelled out, arrays, larger objects by their keys."""
    kind = node.get("type")
    props = node.get("properties")
    if isinstance(props, dict) and 0 < len(props) <= 2 and kind is None and depth < 3:
        return "{" + ", ".join(f"{k}: {summary(v, depth + 1)}" for k, v in props.items()) + "}"
    if kind == "array" or "items" in node:
        return f"array<{summary(node.get('items'), depth + 1)}>" if depth < 3 else "array"
    if isinstance(props, dict) and props:
        names = list(props)
        return "object{" + ", ".join(names[:8]) + (", …" if len(names) > 8 else "") + "}"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if isinstance(node.get("allOf"), list) and depth < 2:
        return " & ".join(summary(b, depth + 1) for b in node["allOf"][:3])
    return str(kind) if kind else "any"


def described(node: Any) -> str:
    text = summary(node)
    description = node.get("description") if isinstance(node, dict) else None
    if isinstance(description, str) and description:
        text += " — " + (description if len(description) <= 100 else description[:97] + "...")
    return text


def _cut(node: Any, key: Any) -> str:
    """What stands in for a part cut by the size cap: enough to ask for it next."""
    if isinstance(node, list):
        return f"… {len(node)} items"
    for marker in ("pointer", "x-ref"):
        if isinstance(node.get(marker), str):
            return f"… ask for {node[marker]}"
    if key in ("properties", "definitions"):
        names = list(node)
        return f"… {len(names)} properties: " + ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return "… " + summary(node)


def shrink(node: Any, budget: int) -> Any:
    """`node` within about `budget` bytes: the biggest parts are shrunk first, so small fields stay readable."""
    if size(node) <= budget or not isinstance(node, dict | list):
        return node
    keys: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
    out: Any = dict(node) if isinstance(node, dict) else list(node)
    done: set[Any] = set()
    while (excess := size(out) - budget) > 0:
        open_keys = [k for k in keys if k not in done and isinstance(out[k], dict | list)]
        if not open_keys:
            return _cut(node, None)
        biggest = max(open_keys, key=lambda k: size(out[k]))
        done.add(biggest)
        room = size(out[biggest]) - excess
        out[biggest] = shrink(out[biggest], room) if room >= 200 else _cut(out[biggest], biggest)
    return out
