"""Successful step logs as data: what a clone, an install, a build, a test run, an image push or a deploy prints.

Line syntax, shared with the failure families (`families_*.py`):

- `E|` or `W|` at the start sets the level to ERROR or WARN (INFO otherwise);
- `<g>`, `<r>`, `<y>`, `<b>`, `<c>`, `<B>` open green, red, yellow, blue, cyan and bold ANSI colour, `</>` resets
  (real CI output is coloured; the log service stores the escapes as they are);
- `{name}` is filled from the recipe's params, else from a per-line generator of `logs.GENERATORS` (`{ms}`,
  `{npm_dep}`, ...); `{{` and `}}` are literal braces.

A template has a header, body blocks repeated (in random order) until the recipe's line count is reached, and a
footer printed only when the step succeeds. Test templates also print each test of the service's catalogue,
grouped as their runner groups them (by class, package or file).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LogTemplate"]


@dataclass(frozen=True, slots=True)
class LogTemplate:
    """One kind of step log. Blocks are tuples of lines that share their generated values."""

    id: str
    header: tuple[str, ...] = ()
    body: tuple[tuple[str, ...], ...] = ()
    footer: tuple[str, ...] = ()
    group_start: tuple[str, ...] = ()
    per_test: tuple[str, ...] = ()
    per_test_failed: tuple[str, ...] = ()
    per_test_skipped: tuple[str, ...] = ()
    group_end: tuple[str, ...] = ()
    group_by: str = "class_name"  # class_name | suite | file_name
