"""Templates while they are mined: the snapshot callers get, the cluster behind it and the tree that holds both.

A `Cluster` is mutable and keeps what makes matching cheap: pickers that read the line's tokens at its fixed
positions into a tuple, compared with one `==`, and its text and id, rebuilt only when the template changes. A
`Node` is one level of the prefix tree; it knows its parent so that an emptied branch can be removed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import NamedTuple

from harness_connector.analysis.logs.masking import PLACEHOLDERS, template_id

__all__ = ["OVERFLOW", "WILDCARD", "Cluster", "Node", "Template", "fitting", "is_value"]

WILDCARD = "<*>"
OVERFLOW = "<overflow>"
_Picker = Callable[[Sequence[str]], tuple[str, ...]]


class Template(NamedTuple):
    """A snapshot of one template: its id (a hash of `text`), how often and where it occurred, one real line.

    A NamedTuple rather than a frozen dataclass because `TemplateMiner.add` returns one per line, and a
    NamedTuple is built about three times faster.
    """

    template_id: str
    text: str
    count: int  # type: ignore[assignment]  # shadows tuple.count, a method no caller needs
    first_line: int
    last_line: int
    sample: str


def _picker(positions: Sequence[int]) -> _Picker:
    """A function that reads `positions` of a token list into a tuple (itemgetter unwraps single positions)."""
    if len(positions) > 1:
        getter: _Picker = operator.itemgetter(*positions)
        return getter
    if positions:
        (only,) = positions
        return lambda tokens: (tokens[only],)
    return lambda tokens: ()


class Node:
    """One level of the prefix tree: children by token and, at a leaf, the clusters of lines that took the path."""

    __slots__ = ("children", "clusters", "key", "parent")

    def __init__(self, parent: Node | None = None, key: str = "") -> None:
        self.children: dict[str, Node] = {}
        self.clusters: list[Cluster] = []
        self.parent = parent
        self.key = key


class Cluster:
    """A template while it is mined, with pickers that compare it to a line without building anything."""

    __slots__ = (
        "constants",
        "count",
        "first_line",
        "fixed",
        "free",
        "id",
        "keywords",
        "last_line",
        "node",
        "sample",
        "strict",
        "text",
        "tokens",
    )

    def __init__(self, tokens: tuple[str, ...], line_number: int, sample: str, node: Node | None) -> None:
        self.count = 1
        self.first_line = self.last_line = line_number
        self.sample = sample
        self.node = node
        self._set_tokens(tokens)

    def _set_tokens(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tokens
        # `fixed`/`constants`: every position but wildcards, for the exact fit. `strict`/`keywords`: positions
        # that are neither wildcards nor placeholders, the ones similarity compares; the others (`free`) match.
        self.fixed = _picker([i for i, token in enumerate(tokens) if token != WILDCARD])
        self.constants = self.fixed(tokens)
        strict = [i for i, token in enumerate(tokens) if token != WILDCARD and token not in PLACEHOLDERS]
        self.strict = _picker(strict)
        self.keywords = self.strict(tokens)
        self.free = len(tokens) - len(strict)
        self.text = " ".join(tokens)
        self.id = template_id(self.text)

    def similarity(self, tokens: Sequence[str]) -> float:
        """The share of positions where the line equals the template or the template holds a wildcard/placeholder."""
        same = self.free + sum(map(operator.eq, self.keywords, self.strict(tokens)))
        return same / len(tokens) if tokens else 1.0

    def absorb(self, tokens: Sequence[str]) -> None:
        """Generalise the template to cover `tokens`: positions that differ become wildcards."""
        merged = tuple(mine if mine == theirs else WILDCARD for mine, theirs in zip(self.tokens, tokens, strict=True))
        if merged != self.tokens:
            self._set_tokens(merged)

    def snapshot(self) -> Template:
        return Template(self.id, self.text, self.count, self.first_line, self.last_line, self.sample)


def fitting(node: Node | None, tokens: Sequence[str]) -> Cluster | None:
    """The first template of the leaf whose non-wildcard tokens all equal the line's."""
    if node is not None:
        for cluster in node.clusters:
            if cluster.fixed(tokens) == cluster.constants:
                return cluster
    return None


def is_value(token: str) -> bool:
    """Whether a token is a value rather than a keyword, for the tree: it goes to the wildcard branch."""
    # Placeholders all start with "<"; an unmasked token with a digit ("lib123.jar") is a value too.
    return "<" in token or any(char in "0123456789" for char in token)
