"""The schemas the connector serves: names, files, loading (once per process) and `$ref` resolution.

The files live in the package-data folder `harness_connector/schemas/` (see its README for the source of each).
Harness's published files are bundled unchanged; the project's own files name `$id`s under `BASE` so that their
relative `$ref`s ("pipeline.json#/definitions/...") reach the published file next to them.
"""

from __future__ import annotations

import difflib
import json
import posixpath
import threading
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Literal

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from harness_connector.errors import UsageError

__all__ = [
    "BASE",
    "ENTRIES",
    "Entry",
    "definition_index",
    "deref",
    "document",
    "entry",
    "example_texts",
    "file_size",
    "is_namespace",
    "pointer_node",
    "registry",
    "resolve_ref",
]

# Never fetched: every file is registered locally, and `.invalid` cannot resolve (RFC 2606).
BASE = "https://schemas.harness-connector.invalid/"
_PUBLISHED = "Harness's published YAML JSON schemas (github.com/harness/harness-schema, {file}), bundled unchanged"
_AUTHORED = (
    "Authored by harness-connector from Harness's documentation (see schemas/README.md); not published by Harness"
)


@dataclass(frozen=True)
class Entry:
    name: str
    file: str
    title: str
    description: str
    origin: Literal["harness", "project"]
    needs: tuple[str, ...] = ()
    # Every file declares (or, at the root, implies) draft-07; a test checks the validator agrees.
    draft: str = "draft-07"

    @property
    def yaml_version(self) -> Literal["v0", "v1"]:
        return "v0" if self.file.startswith("v0/") else "v1"

    @property
    def source(self) -> str:
        return _PUBLISHED.format(file=self.file) if self.origin == "harness" else _AUTHORED


ENTRIES: tuple[Entry, ...] = (
    Entry(
        "pipeline",
        "v0/pipeline.json",
        "Pipeline (v0)",
        "Harness NG pipeline YAML: `pipeline:` with stages, steps, step groups, failure strategies and "
        "variables; the format the /pipeline/api endpoints store.",
        "harness",
    ),
    Entry(
        "template",
        "v0/template.json",
        "Template (v0)",
        "Harness NG template YAML: `template:` with name, identifier, versionLabel, type (Step, Stage, "
        "Pipeline, StepGroup, ...) and the spec of that type.",
        "project",
        ("v0/pipeline.json",),
    ),
    Entry(
        "trigger",
        "v0/trigger.json",
        "Trigger (v0)",
        "Harness NG trigger YAML: `trigger:` with the pipeline it runs, its source (webhook, cron, artifact, "
        "manifest) and the inputs it passes.",
        "harness",
    ),
    Entry(
        "pipeline_v1",
        "v1/pipeline.json",
        "Pipeline (v1)",
        "Harness 3.0 simplified pipeline YAML: `pipeline:` with id, inputs, clone and stages of run, "
        "action, template and approval steps.",
        "harness",
    ),
    Entry(
        "template_v1",
        "v1/template.json",
        "Template (v1)",
        "Harness 3.0 template YAML: `template:` with inputs and one pipeline, stage, step or group.",
        "harness",
    ),
    Entry(
        "trigger_v1",
        "v1/trigger.json",
        "Trigger (v1)",
        "Trigger in the Harness 3.0 style (version, kind: trigger, spec): webhook, scheduled, artifact or manifest.",
        "project",
        ("v1/pipeline.json",),
    ),
    Entry(
        "inputSet_v1",
        "v1/inputSet.json",
        "Input set (v1)",
        "Harness 3.0 input set: version, kind: input-set, and spec mapping input names to values.",
        "harness",
    ),
    Entry(
        "overlayInputSet_v1",
        "v1/overlayInputSet.json",
        "Overlay input set (v1)",
        "Harness 3.0 overlay input set: version, kind: overlay-input-set, and the input sets it merges.",
        "harness",
    ),
    Entry(
        "service_v1",
        "v1/service.json",
        "Service (v1)",
        "Service in the Harness 3.0 style (version, kind: service, spec): deployment type, manifests, "
        "artifacts, config files and variables.",
        "project",
        ("v1/pipeline.json",),
    ),
    Entry(
        "infra_v1",
        "v1/infra.json",
        "Infrastructure definition (v1)",
        "Infrastructure definition in the Harness 3.0 style (version, kind: infra-def, spec): infrastructure "
        "type, deployment type and the settings of that type.",
        "project",
        ("v1/pipeline.json",),
    ),
    Entry(
        "agent-pipeline",
        "v1/agent-pipeline.json",
        "AI agent pipeline",
        "Harness AI agent pipeline: `agent:` with stages whose agent steps give a task, model, tools, MCP "
        "servers, rules and skills; other steps are v1 steps.",
        "project",
        ("v1/pipeline.json",),
    ),
)
_BY_NAME = {e.name: e for e in ENTRIES}
_FILES = frozenset(f for e in ENTRIES for f in (e.file, *e.needs))

# The published v1 input set lists JSON type names as bare strings inside `anyOf`, which no JSON Schema draft
# accepts; read them as the `{"type": ...}` they mean ("list" is not a JSON type: it means array).
_REPAIRED_FILES = frozenset({"v1/inputSet.json"})
_TYPE_NAMES = {
    "string": "string",
    "array": "array",
    "list": "array",
    "object": "object",
    "boolean": "boolean",
    "number": "number",
    "integer": "integer",
    "null": "null",
}

_lock = threading.Lock()
_documents: dict[str, dict[str, Any]] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def entry(name: str) -> Entry:
    """The catalogue entry for `name` (case and -/_ are forgiven); `UsageError` naming near matches otherwise."""
    found = _BY_NAME.get(name) or next((e for e in ENTRIES if _key(e.name) == _key(name)), None)
    if found is not None:
        return found
    keys = {_key(e.name): e.name for e in ENTRIES}
    near = [keys[k] for k in difflib.get_close_matches(_key(name), list(keys), n=3, cutoff=0.5)]
    rest = [e.name for e in ENTRIES if e.name not in near]
    lead = f"did you mean {', '.join(near)}? " if near else ""
    raise UsageError(f"unknown schema {name!r}: {lead}valid schemas: {', '.join([*near, *rest])}")


def _resource(file: str) -> Traversable:
    return files("harness_connector").joinpath("schemas", *file.split("/"))


def read_text(file: str) -> str:
    """A bundled schema file's text, unchanged."""
    return _resource(file).read_text(encoding="utf-8")


def _repair(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("anyOf", "oneOf") and isinstance(value, list):
                node[key] = [{"type": _TYPE_NAMES.get(v, v)} if isinstance(v, str) else v for v in value]
            _repair(node[key])
    elif isinstance(node, list):
        for item in node:
            _repair(item)


def _drop_nested_dialects(doc: dict[str, Any]) -> None:
    # Draft-07 reads `$schema` only at a document's root, but Harness repeats it on every definition, and
    # jsonschema switches to the stock validator class wherever it meets one, dropping this project's checks.
    stack: list[Any] = [v for k, v in doc.items() if k != "$schema"]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            node.pop("$schema", None)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def document(file: str) -> dict[str, Any]:
    """The parsed schema file, read once per process (the v0 pipeline file is 3.4 MB)."""
    doc = _documents.get(file)
    if doc is None:
        with _lock:
            doc = _documents.get(file)
            if doc is None:
                doc = json.loads(_resource(file).read_bytes())
                if file in _REPAIRED_FILES:
                    _repair(doc)
                _drop_nested_dialects(doc)
                _documents[file] = doc
    return doc


@cache
def file_size(file: str) -> int:
    return len(_resource(file).read_bytes())


@cache
def registry(name: str) -> Registry[Any]:
    """The files the schema's cross-file `$ref`s reach, registered under their `BASE` URIs (nothing is fetched)."""
    return Registry().with_resources(
        (BASE + f, Resource.from_contents(document(f), default_specification=DRAFT7)) for f in entry(name).needs
    )


def resolve_ref(file: str, ref: str) -> tuple[str, str, Any]:
    """(file, pointer, node) that `ref`, written in `file`, points at; KeyError when it points nowhere."""
    target, _, fragment = ref.removeprefix(BASE).partition("#")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(file), target)) if target else file
    if target not in _FILES:
        raise KeyError(ref)
    return target, "#" + fragment, pointer_node(document(target), fragment)


def deref(name: str, node: Any) -> Any:
    """`node` with its `$ref` chain followed, for a node taken from any file the schema `name` reaches.

    A node handed over by jsonschema does not say which file it came from; each file keeps its definitions under
    its own namespaces, so the first file of the schema's set that resolves the pointer is the right one.
    """
    found = entry(name)
    candidates: tuple[str, ...] = (found.file, *found.needs)
    for _ in range(16):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str):
            return node
        for file in candidates:
            try:
                target, _, node = resolve_ref(file, ref)
            except KeyError:
                continue
            candidates = (target,)
            break
        else:
            return node
    return node


def pointer_node(doc: Any, pointer: str) -> Any:
    node = doc
    for raw in pointer.strip("/").split("/"):
        if not raw:
            continue
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(pointer)
    return node


_STRUCTURAL = frozenset({"type", "$ref", "properties", "oneOf", "anyOf", "allOf", "items", "if", "enum", "const"})


def is_namespace(node: dict[str, Any]) -> bool:
    # Harness nests definitions in namespaces ("pipeline/steps/custom"); a namespace holds only schemas.
    return all(isinstance(v, dict) for v in node.values()) and not (node.keys() & _STRUCTURAL)


@cache
def definition_index(file: str) -> dict[str, tuple[str, ...]]:
    """Definition name -> the pointers that define it (a name may repeat across namespaces)."""
    found: dict[str, list[str]] = {}

    def walk(node: dict[str, Any], pointer: str) -> None:
        for name, child in node.items():
            if not isinstance(child, dict):
                continue
            here = f"{pointer}/{name}"
            if is_namespace(child) and child:
                walk(child, here)
            else:
                found.setdefault(name, []).append(here)

    definitions = document(file).get("definitions")
    if isinstance(definitions, dict):
        walk(definitions, "#/definitions")
    return {name: tuple(pointers) for name, pointers in found.items()}


def example_texts(name: str) -> list[str]:
    """The YAML examples written for the schema, in file-name order."""
    folder = files("harness_connector").joinpath("schemas", "examples", entry(name).name)
    if not folder.is_dir():
        return []
    chosen = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [f.read_text(encoding="utf-8") for f in chosen]
