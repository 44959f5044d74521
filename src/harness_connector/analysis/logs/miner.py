"""Online log template mining in the Drain family: one pass, bounded memory, lines in and templates out.

A template is a masked line whose differing tokens have become `<*>`: `--- PASS: <*> (<duration>)` stands for
every passing Go test. Drain (He et al., ICWS 2017) finds a line's template without comparing it to all of them:

* A fixed-depth prefix tree narrows the candidates. Its first level is keyed by the line's token count, the next
  `depth - 2` levels by the line's leading tokens. A token holding a digit or a placeholder is a value, not a
  keyword, so it goes to the `<*>` child; so does any new token once a node has `max_children` children.
* The leaf holds the templates of lines that took the same path. A line joins the template with the largest
  share of matching positions, if that share reaches `sim_threshold`, and otherwise starts a new template. A
  position matches when the tokens are equal or the template holds `<*>` or a placeholder there. Joining turns
  the positions where line and template differ into `<*>`.

For speed, a leaf first looks for a template whose every non-`<*>` token equals the line's (one tuple comparison
per template, the usual case once a log's templates have settled) and scores similarity only when none does; and
templates keep their text and id between changes, so reporting the joined template builds no strings.

Memory is bounded whatever the input. Lines are cut to `max_line_chars` characters and `max_tokens` tokens. At
most `max_templates` templates are kept: when a new one would exceed that, the least recently matched template
seen only once is forgotten (typically a line with an unmasked value), and when every template has recurred the
line is counted in one overflow template instead, so templates that recur are never lost. Tree nodes exist only
on the paths of kept templates, so they are bounded too.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import TypedDict, Unpack

from harness_connector.analysis.logs._clusters import OVERFLOW, WILDCARD, Cluster, Node, Template, fitting, is_value
from harness_connector.analysis.logs.masking import mask_tokens, strip_ansi
from harness_connector.domain.logs import LogLine

__all__ = ["OVERFLOW", "WILDCARD", "MinerOptions", "Template", "TemplateMiner", "mine", "mine_log_lines"]

_ESCAPED_WILDCARD = "<\\*>"


class MinerOptions(TypedDict, total=False):
    """The keyword options of `TemplateMiner`, for the functions that build one."""

    depth: int
    sim_threshold: float
    max_children: int
    max_templates: int
    max_tokens: int
    max_line_chars: int
    sample_chars: int


class TemplateMiner:
    """Mines templates from lines fed one at a time; see the module docstring for the algorithm and its bounds.

    Args:
        depth: The prefix tree has the token-count level and `depth - 2` token levels: 4 descends by the
            first two tokens (Drain3 counts the leaf as a level, so its depth 4 descends by one).
        sim_threshold: The share of matching positions a line needs to join a template.
        max_children: Children a tree node takes before new tokens share its wildcard branch.
        max_templates: Templates kept at most (see the module docstring for what happens beyond).
        max_tokens: Tokens of a line considered; the rest is ignored.
        max_line_chars: Characters of a line masked and tokenised; the rest is ignored.
        sample_chars: Length a template's sample line is cut to.
    """

    def __init__(
        self,
        *,
        depth: int = 4,
        sim_threshold: float = 0.5,
        max_children: int = 100,
        max_templates: int = 5_000,
        max_tokens: int = 64,
        max_line_chars: int = 8_192,
        sample_chars: int = 300,
    ) -> None:
        if depth < 3:
            raise ValueError("depth must be at least 3: the root, the token-count level and a token level")
        if not 0.0 <= sim_threshold <= 1.0:
            raise ValueError("sim_threshold must be between 0 and 1")
        if min(max_children, max_templates, max_tokens, max_line_chars) < 1:
            raise ValueError("max_children, max_templates, max_tokens and max_line_chars must be positive")
        self.sim_threshold = sim_threshold
        self.max_templates = max_templates
        self._token_levels = depth - 2
        self._max_children = max_children
        self._max_tokens = max_tokens
        self._max_line_chars = max_line_chars
        self._sample_chars = sample_chars
        self._by_length: dict[int, Node] = {}
        self._clusters: dict[int, Cluster] = {}  # by id(), in creation order
        self._once: OrderedDict[int, Cluster] = OrderedDict()  # seen once, least recently matched first
        self._overflow: Cluster | None = None

    def add(self, text: str, line_number: int) -> Template:
        """Mine one line and return a snapshot of the template it joined or started."""
        tokens = self._tokens(text)
        node = self._leaf(tokens, create=False)
        cluster = fitting(node, tokens)
        if cluster is None:
            cluster = self._most_similar(node, tokens)
            if cluster is None:
                return self._start(tokens, text, line_number).snapshot()
            cluster.absorb(tokens)
        cluster.count += 1
        cluster.last_line = line_number
        if cluster.count == 2:
            del self._once[id(cluster)]
        return cluster.snapshot()

    def match(self, text: str) -> Template | None:
        """The template `text` would join, or None, without changing anything.

        Where the tree has no branch for one of the line's leading tokens, or a template under that branch is
        not similar enough, `match` also looks under the wildcard branch: a template generalised on another
        path still matches.
        """
        tokens = self._tokens(text)
        root = self._by_length.get(len(tokens))
        for node in self._leaves_for_matching(root, tokens, 0):
            cluster = fitting(node, tokens) or self._most_similar(node, tokens)
            if cluster is not None:
                return cluster.snapshot()
        return None

    def templates(self) -> list[Template]:
        """Every template kept, in order of first appearance."""
        kept = [cluster.snapshot() for cluster in self._clusters.values()]
        if self._overflow is not None:
            kept.append(self._overflow.snapshot())
        return sorted(kept, key=operator.attrgetter("first_line"))

    @classmethod
    def from_templates(cls, templates: Iterable[Template], **options: Unpack[MinerOptions]) -> TemplateMiner:
        """A miner that knows `templates` (another run's, say), for `match` and further mining."""
        miner = cls(**options)
        for template in templates:
            if template.text == OVERFLOW:
                continue
            tokens = template.text.split()[: miner._max_tokens]
            cluster = miner._start(tokens, template.sample, template.first_line)
            cluster.count, cluster.last_line = template.count, template.last_line
            if cluster.count > 1:
                miner._once.pop(id(cluster), None)
        return miner

    def _tokens(self, text: str) -> list[str]:
        if WILDCARD in text:
            # A literal "<*>" in a log line must not pass for a wildcard.
            text = text.replace(WILDCARD, _ESCAPED_WILDCARD)
        return mask_tokens(text[: self._max_line_chars], self._max_tokens)

    def _leaf(self, tokens: Sequence[str], *, create: bool) -> Node | None:
        """The leaf a line descends to; None if that path does not exist yet and `create` is false."""
        node = self._by_length.get(len(tokens))
        if node is None:
            if not create:
                return None
            node = self._by_length[len(tokens)] = Node()
        for token in tokens[: self._token_levels]:
            child = node.children.get(token)
            if child is None:
                key = WILDCARD if is_value(token) or len(node.children) >= self._max_children else token
                child = node.children.get(key)
                if child is None:
                    if not create:
                        return None
                    child = node.children[key] = Node(node, key)
            node = child
        return node

    def _leaves_for_matching(self, node: Node | None, tokens: Sequence[str], level: int) -> Iterator[Node]:
        if node is None:
            return
        if level == min(self._token_levels, len(tokens)):
            yield node
            return
        yield from self._leaves_for_matching(node.children.get(tokens[level]), tokens, level + 1)
        yield from self._leaves_for_matching(node.children.get(WILDCARD), tokens, level + 1)

    def _most_similar(self, node: Node | None, tokens: Sequence[str]) -> Cluster | None:
        """The leaf's most similar template (the oldest on ties), if similar enough."""
        best: Cluster | None = None
        best_score = self.sim_threshold
        for cluster in node.clusters if node is not None else ():
            score = cluster.similarity(tokens)
            if score > best_score or (best is None and score == best_score):
                best, best_score = cluster, score
        return best

    def _start(self, tokens: Sequence[str], text: str, line_number: int) -> Cluster:
        if len(self._clusters) >= self.max_templates and not self._forget_one_off():
            return self._overflowed(text, line_number)
        node = self._leaf(tokens, create=True)
        sample = strip_ansi(text).strip()[: self._sample_chars]
        cluster = Cluster(tuple(tokens), line_number, sample, node)
        if node is not None:
            node.clusters.append(cluster)
        self._clusters[id(cluster)] = self._once[id(cluster)] = cluster
        return cluster

    def _forget_one_off(self) -> bool:
        if not self._once:
            return False
        key, cluster = self._once.popitem(last=False)
        del self._clusters[key]
        node = cluster.node
        if node is not None:
            node.clusters.remove(cluster)
            # Drop the branch if nothing else lives on it, so the tree stays as small as the templates kept.
            while node.parent is not None and not node.clusters and not node.children:
                del node.parent.children[node.key]
                node = node.parent
        return True

    def _overflowed(self, text: str, line_number: int) -> Cluster:
        if self._overflow is None:
            sample = strip_ansi(text).strip()[: self._sample_chars]
            self._overflow = Cluster((OVERFLOW,), line_number, sample, None)
        else:
            self._overflow.count += 1
            self._overflow.last_line = line_number
        return self._overflow


def mine(lines: Iterable[str], **options: Unpack[MinerOptions]) -> list[Template]:
    """The templates of `lines`, numbered from 1, in order of first appearance."""
    miner = TemplateMiner(**options)
    for number, text in enumerate(lines, start=1):
        miner.add(text, number)
    return miner.templates()


def mine_log_lines(lines: Iterable[LogLine], **options: Unpack[MinerOptions]) -> list[Template]:
    """The templates of parsed log lines, keyed by the lines' own numbers."""
    miner = TemplateMiner(**options)
    for line in lines:
        miner.add(line.text, line.number)
    return miner.templates()
