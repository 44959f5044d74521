"""Readable parts of a schema: a compact outline, or one definition or property with its `$ref`s inlined once.

Harness's v0 pipeline schema is 3.4 MB and nests definitions in namespaces ("pipeline/steps/custom/..."); nobody
can read it whole. A path may be a JSON pointer ("#/definitions/pipeline/stages/stages"), the same with dots
("pipeline.steps.custom.ShellScriptStepInfo" is tried under /definitions), a property path through the document
("pipeline.stages.stage.spec": arrays and alternatives are walked through), or a bare definition name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from harness_connector.errors import UsageError
from harness_connector.services.schemas_catalog import (
    Entry,
    definition_index,
    document,
    entry,
    is_namespace,
    pointer_node,
    resolve_ref,
)
from harness_connector.services.schemas_models import SchemaSection
from harness_connector.services.schemas_summary import described, shrink, size, summary

__all__ = ["DEFAULT_MAX_BYTES", "outline", "section"]

DEFAULT_MAX_BYTES = 24_000
_MAX_VARIANTS = 40
_GROUP_LIST_ALL = 25
_COMBINATORS = ("allOf", "oneOf", "anyOf")
_NOISE_DESC = re.compile(r"^This is the description for \w+$")

Located = tuple[str, str, Any]  # (file, pointer, node)
Kind = Literal["definition", "property"]


@dataclass
class _Inlining:
    home: str
    inlined: int = 0
    refs: dict[str, None] = field(default_factory=dict)  # an ordered set of the refs left in place


def _display(home: str, file: str, pointer: str) -> str:
    """A pointer as the reader can pass it back: '#/...' in the schema's own file, 'pipeline.json#/...' elsewhere."""
    return pointer if file == home else f"{file.rsplit('/', 1)[-1]}{pointer}"


def _deref(file: str, pointer: str, node: Any) -> Located:
    for _ in range(16):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str):
            break
        try:
            file, pointer, node = resolve_ref(file, ref)
        except KeyError:
            break
    return file, pointer, node


def _object_outline(file: str, pointer: str, node: Any) -> dict[str, Any]:
    file, pointer, node = _deref(file, pointer, node)
    out: dict[str, Any] = {"pointer": pointer}
    if not isinstance(node, dict):
        return out
    if node.get("required"):
        out["required"] = node["required"]
    props = node.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: described(v) for k, v in props.items()}
    for comb in _COMBINATORS:
        if isinstance(node.get(comb), list):
            out[comb] = [summary(b) for b in node[comb]][:_MAX_VARIANTS]
    return out


def _definition_groups(file: str) -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for name, pointers in definition_index(file).items():
        for pointer in pointers:
            groups.setdefault(pointer.rsplit("/", 1)[0].removeprefix("#/definitions/"), []).append(name)
    out: dict[str, Any] = {}
    for group, names in groups.items():
        if len(names) <= _GROUP_LIST_ALL:
            out[group] = names
            continue
        # Large namespaces: the stage and step nodes are what a YAML author writes; the rest are their parts.
        nodes = [n for n in names if n.endswith("Node")]
        out[group] = {"count": len(names), "nodes": nodes} if nodes else {"count": len(names), "some": names[:10]}
    return out


def outline(name: str) -> SchemaSection:
    """The schema's map: root properties, the object under each, and the names of its definitions."""
    found = entry(name)
    doc = document(found.file)
    content: dict[str, Any] = {
        "title": doc.get("title", found.title),
        "description": doc.get("description", found.description),
        "type": doc.get("type", "object"),
        "required": doc.get("required", []),
        "properties": {k: described(v) for k, v in doc.get("properties", {}).items()},
        "root_objects": {
            k: _object_outline(found.file, f"#/properties/{k}", v)
            for k, v in doc.get("properties", {}).items()
            if isinstance(v, dict) and ("$ref" in v or "properties" in v or "oneOf" in v)
        },
        "definitions": _definition_groups(found.file),
    }
    if found.needs:
        content["reuses"] = [
            f"{f} (Harness's published file; its definitions are searchable by name)" for f in found.needs
        ]
    return SchemaSection(
        name=found.name,
        requested_path=None,
        kind="outline",
        pointer="#",
        content=content,
        size_bytes=size(content),
        truncated=False,
        refs_inlined=0,
        refs=[],
        other_matches=[],
        hint="ask for one part by property path (e.g. pipeline.stages), definition name (e.g. ShellScriptStepInfo) "
        "or pointer (e.g. #/definitions/...); check YAML with validate_yaml",
    )


def _tokens(path: str) -> list[str]:
    return ["[]" if t.startswith("[") else t for t in re.findall(r"[^.\[\]]+|\[\d*\]", path)]


def _walk(file: str, pointer: str, node: Any, segments: list[str], seen: set[tuple[str, str, int]]) -> list[Located]:
    """Follow a property path; arrays and alternatives are passed through, so one path may reach several nodes."""
    if not segments:
        return [(file, pointer, node)]
    file, pointer, node = _deref(file, pointer, node)
    if not isinstance(node, dict) or (file, pointer, len(segments)) in seen or len(seen) > 2_000:
        return []
    seen.add((file, pointer, len(segments)))
    seg, rest = segments[0], segments[1:]
    found: list[Located] = []
    props = node.get("properties")
    if seg in ("[]", "items") or seg.isdigit():
        if isinstance(node.get("items"), dict):
            found += _walk(file, f"{pointer}/items", node["items"], rest, seen)
    elif isinstance(props, dict) and seg in props:
        found += _walk(
            file, f"{pointer}/properties/{seg.replace('~', '~0').replace('/', '~1')}", props[seg], rest, seen
        )
    elif isinstance(node.get("items"), dict):
        found += _walk(file, f"{pointer}/items", node["items"], segments, seen)
    for comb in _COMBINATORS:
        for i, branch in enumerate(node.get(comb, []) if isinstance(node.get(comb), list) else []):
            found += _walk(file, f"{pointer}/{comb}/{i}", branch, segments, seen)
    for key in ("then", "else"):
        if isinstance(node.get(key), dict):
            found += _walk(file, f"{pointer}/{key}", node[key], segments, seen)
    if not found and isinstance(node.get("additionalProperties"), dict):
        found += _walk(file, f"{pointer}/additionalProperties", node["additionalProperties"], rest, seen)
    return found


def _by_name(found: Entry, name: str) -> list[Located]:
    files = (found.file, *found.needs)
    for fold in (False, True):
        wanted = name.lower() if fold else name
        hits = [
            (f, p, pointer_node(document(f), p[1:]))
            for f in files
            for key, pointers in definition_index(f).items()
            if (key.lower() if fold else key) == wanted
            for p in pointers
        ]
        if hits:
            return hits
    return []


def _locate(found: Entry, path: str) -> tuple[list[Located], Kind]:
    doc = document(found.file)
    text = path.strip()
    pointers: list[str] = []
    if "#" in text:
        try:
            return [resolve_ref(found.file, text)], "definition"
        except KeyError:
            pass
    elif "/" in text:
        pointers = [text, "/definitions/" + text.strip("/")]
    else:
        # A dotted path is first a walk through the document ("pipeline.stages"), then a definitions path.
        walked = _walk(found.file, "#", doc, _tokens(text), set())
        if walked:
            return list({(f, p): (f, p, n) for f, p, n in walked}.values()), "property"
        pointers = ["/definitions/" + "/".join(_tokens(text))]
    for candidate in pointers:
        try:
            node = pointer_node(doc, candidate)
        except KeyError:
            continue
        return [(found.file, "#/" + candidate.strip("/"), node)], "definition"
    return _by_name(found, re.split(r"[./#]", text.strip("/#"))[-1]), "definition"


def _inline(file: str, node: Any, levels: int, stats: _Inlining) -> Any:
    if isinstance(node, list):
        return [_inline(file, item, levels, stats) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        siblings = {k: _inline(file, v, levels, stats) for k, v in node.items() if k != "$ref"}
        try:
            target_file, pointer, target = resolve_ref(file, ref)
        except KeyError:
            return node
        shown = _display(stats.home, target_file, pointer)
        if levels <= 0:
            stats.refs.setdefault(shown, None)
            return {"$ref": shown, **siblings}
        stats.inlined += 1
        body = _inline(target_file, target, levels - 1, stats)
        return {"x-ref": shown, **siblings, **body} if isinstance(body, dict) else body
    return {k: _inline(file, v, levels, stats) for k, v in node.items() if not _noise(k, v)}


def _noise(key: str, value: Any) -> bool:
    """Harness's generator adds `desc: This is the description for X` (and `{desc: ...}` properties) everywhere."""
    if isinstance(value, dict) and value.keys() == {"desc"}:
        value = value["desc"]
    elif key not in ("desc", "description"):
        return False
    return isinstance(value, str) and bool(_NOISE_DESC.match(value))


def _namespace(found: Entry, path: str, hit: Located) -> SchemaSection:
    file, pointer, node = hit
    shown = _display(found.file, file, pointer)
    content: dict[str, Any] = {
        "namespace": shown,
        "definitions": {k: summary(v) for k, v in node.items()}
        if all(not is_namespace(v) for v in node.values())
        else {k: f"namespace of {len(v)}" if is_namespace(v) else summary(v) for k, v in node.items()},
    }
    return SchemaSection(
        name=found.name,
        requested_path=path,
        kind="definition",
        pointer=shown,
        content=content,
        size_bytes=size(content),
        truncated=False,
        refs_inlined=0,
        refs=[],
        other_matches=[],
        hint="a namespace of definitions: append a name to the path to read one",
    )


def section(name: str, path: str | None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SchemaSection:
    """The part of schema `name` at `path` (the outline when `path` is empty), capped at `max_bytes`."""
    if not path or not path.strip():
        return outline(name)
    found = entry(name)
    hits, kind = _locate(found, path)
    if not hits:
        names = [n for f in (found.file, *found.needs) for n in definition_index(f)]
        near = difflib.get_close_matches(path.strip().rsplit(".", 1)[-1], names, n=5, cutoff=0.6)
        roots = list(document(found.file).get("properties", {}))
        lead = f"near matches: {', '.join(near)}; " if near else ""
        raise UsageError(
            f"no part {path!r} in schema {found.name}: {lead}try a property path starting at "
            f"{', '.join(roots) or 'the root'}, a definition name, or a pointer like #/definitions/..."
        )
    # A property path often ends on a bare `$ref`; name the definition it points at, which the reader can reuse.
    chosen = list(
        {(f, p): (f, p, n) for f, p, n in (_deref(*h) for h in (hits if kind == "property" else hits[:1]))}.values()
    )
    if kind == "definition" and isinstance(chosen[0][2], dict) and is_namespace(chosen[0][2]):
        return _namespace(found, path, chosen[0])
    others = [_display(found.file, f, p) for f, p, _ in hits[1:]] if kind == "definition" else []
    content: dict[str, Any] = {}
    stats = _Inlining(found.file)
    for levels in (1, 0):
        # Refs inlined one level is the answer; when that is too big, the refs stay refs before anything is cut.
        stats = _Inlining(found.file)
        parts = [(f, p, _inline(f, n, levels, stats)) for f, p, n in chosen[:_MAX_VARIANTS]]
        if len(parts) == 1:
            body = parts[0][2]
            content = body if isinstance(body, dict) else {"value": body}
        else:
            content = {
                "description": f"{len(chosen)} alternatives reach this path; each is shown with its pointer",
                "variants": [{"pointer": _display(found.file, f, p), "schema": body} for f, p, body in parts],
            }
        if size(content) <= max_bytes:
            break
    truncated = size(content) > max_bytes
    if truncated:
        shrunk = shrink(content, max_bytes)
        content = shrunk if isinstance(shrunk, dict) else {"summary": shrunk}
    pointer = _display(found.file, chosen[0][0], chosen[0][1]) if len(chosen) == 1 else "(several)"
    notes: list[str] = []
    if kind == "definition" and path.strip().strip("#/").replace(".", "/") not in pointer:
        notes.append(f"found by name at {pointer}")
    if truncated:
        notes.append(f"deep parts were summarised to fit {max_bytes} bytes: ask for a narrower path")
    if stats.refs:
        notes.append(f"{len(stats.refs)} referenced definitions are left as $ref: pass one as the path to read it")
    return SchemaSection(
        name=found.name,
        requested_path=path,
        kind=kind,
        pointer=pointer,
        content=content,
        size_bytes=size(content),
        truncated=truncated,
        refs_inlined=stats.inlined,
        refs=list(stats.refs)[:50],
        other_matches=others[:20],
        hint="; ".join(notes) or "complete: nothing is left as $ref",
    )
