"""YAML text with positions: the parsed document and, for every path in it, the line and column it starts on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import yaml

__all__ = ["Marks", "Path", "load_with_marks", "locate", "render_path"]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MAX_MARKS = 200_000


class _Loader(yaml.SafeLoader):
    """SafeLoader reading scalars as YAML 1.2 and Harness do: `on`, `yes`, `no` stay strings, dates stay text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

Path = tuple[str | int, ...]
Marks = dict[tuple[str, ...], tuple[int, int]]


def load_with_marks(text: str) -> tuple[Any, Marks]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    marks: Marks = {}
    if node is not None:
        _index(node, (), marks, None, set())
    return data, marks


def _index(node: yaml.Node, path: tuple[str, ...], marks: Marks, key: yaml.Node | None, seen: set[int]) -> None:
    # A key's own line is where a reader looks for the thing it names; aliases may recurse, so stop at a cycle.
    if id(node) in seen or len(marks) > _MAX_MARKS:
        return
    mark = (key or node).start_mark
    marks.setdefault(path, (mark.line + 1, mark.column + 1))
    seen = seen | {id(node)}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                _index(v, (*path, str(k.value)), marks, k, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, str(i)), marks, None, seen)


def locate(path: Path, marks: Marks) -> tuple[int | None, int | None]:
    key = tuple(str(p) for p in path)
    while key not in marks and key:
        key = key[:-1]
    return marks.get(key, (None, None))


def render_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][\w$-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out
