"""Runtime inputs of a pipeline: the `<+input>` template, merging input sets, and applying inputs to the YAML.

Harness locates a runtime input by the identifiers on its way down (`stages[identifier=build].spec...`), not
by list position, so every function here matches list items by identity: the identifier of a wrapped node
(`- stage: {identifier: build}`), a plain `identifier`, or the `name` of a variable. Pure functions over
parsed YAML; the execution engine may call them too.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["apply_inputs", "input_paths", "merge_trees", "runtime_input_template", "template_tree"]

_INPUT = "<+input>"


def _identity(item: Any) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        return None
    if len(item) == 1:
        ((wrapper, inner),) = item.items()
        if isinstance(inner, dict) and isinstance(inner.get("identifier"), str):
            return wrapper, inner["identifier"]
    if isinstance(item.get("identifier"), str):
        return "identifier", item["identifier"]
    if isinstance(item.get("name"), str):
        return "name", item["name"]
    return None


def template_tree(node: Any) -> Any:
    """The part of a node that holds runtime inputs, with the identifiers that locate them; None if none."""
    if isinstance(node, str):
        return node if node.strip().startswith(_INPUT) else None
    if isinstance(node, list):
        kept = [pruned for pruned in (template_tree(item) for item in node) if pruned is not None]
        return kept or None
    if not isinstance(node, dict):
        return None
    inner = {key: pruned for key, value in node.items() if (pruned := template_tree(value)) is not None}
    if not inner:
        return None
    anchors = ("identifier", "type") if "identifier" in node else ("name", "type") if "name" in node else ()
    located = {key: node[key] for key in anchors if key in node and key not in inner}
    return {**located, **inner}


def runtime_input_template(pipeline_yaml: str, stage_identifiers: list[str] | None = None) -> str:
    """`inputSetTemplateYaml`: only the `<+input>` fields of the pipeline ('' when it has none)."""
    parsed = yaml.safe_load(pipeline_yaml) or {}
    pipeline = dict(parsed.get("pipeline") or {}) if isinstance(parsed, dict) else {}
    if stage_identifiers and isinstance(pipeline.get("stages"), list):
        pipeline["stages"] = [item for item in pipeline["stages"] if _keeps_stage(item, stage_identifiers)]
    tree = template_tree(pipeline)
    if tree is None:
        return ""
    located = {"identifier": pipeline.get("identifier"), **tree}
    return str(yaml.safe_dump({"pipeline": located}, sort_keys=False))


def _keeps_stage(item: Any, wanted: list[str]) -> bool:
    if isinstance(item, dict) and isinstance(item.get("parallel"), list):
        return any(_keeps_stage(inner, wanted) for inner in item["parallel"])
    identity = _identity(item)
    return identity is not None and identity[1] in wanted


def merge_trees(base: Any, overlay: Any) -> Any:
    """`overlay` laid over `base`: maps merge by key, lists by item identity, anything else is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = merge_trees(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(overlay, list):
        if not all(_identity(item) is not None for item in overlay):
            return overlay
        merged_list = list(base)
        for item in overlay:
            identity = _identity(item)
            index = next((i for i, old in enumerate(merged_list) if _identity(old) == identity), None)
            if index is None:
                merged_list.append(item)
            else:
                merged_list[index] = merge_trees(merged_list[index], item)
        return merged_list
    return overlay


def apply_inputs(pipeline_yaml: str, inputs_yaml: str) -> str:
    """The complete pipeline YAML with runtime-input values (a `pipeline:` tree) filled in."""
    pipeline = yaml.safe_load(pipeline_yaml) or {}
    inputs = yaml.safe_load(inputs_yaml) if inputs_yaml.strip() else {}
    if not isinstance(inputs, dict) or not isinstance(inputs.get("pipeline"), dict):
        return pipeline_yaml
    return str(yaml.safe_dump(merge_trees(pipeline, {"pipeline": inputs["pipeline"]}), sort_keys=False))


def input_paths(node: Any, prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    """The located paths of a tree's leaves (list items named by identity): what an input set sets."""
    if isinstance(node, dict):
        found: set[tuple[Any, ...]] = set()
        for key, value in node.items():
            if key in ("identifier", "type", "name") and not isinstance(value, dict | list):
                continue
            found |= input_paths(value, (*prefix, key))
        return found
    if isinstance(node, list):
        return set().union(*(input_paths(item, (*prefix, _identity(item))) for item in node)) if node else set()
    return {prefix}
