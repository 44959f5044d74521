"""From what a person types (files, directories, globs) to the JUnit files to read.

- A path to an existing file is taken as is, whatever its name or content: it was asked for by name, so if it is
  not JUnit the parser says why.
- A directory is searched recursively for `*.xml` (any case), without following symbolic links to directories
  and without entering `.git`, `.hg` or `.svn`.
- Anything else is a glob (`reports/**/*.xml`, `TEST-*.xml`), relative to `base` (default: the working
  directory) unless absolute; a matched directory is searched as above, matched files must end in `.xml`.
- Files found by a directory or a glob are sniffed: a file whose root element is plainly something else
  (a `pom.xml`, Failsafe's `failsafe-summary.xml`, an NUnit `test-run`) is skipped and listed in `skipped`.
  Files that are empty, broken or hostile are kept, so the parser reports them instead of them vanishing.

The result is sorted and free of duplicates (by resolved path).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness_connector.junit.safety import JUNIT_ROOTS, root_name

__all__ = ["ReportPaths", "find_report_files", "is_junit_file"]

_SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
_SNIFF_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPaths:
    """Files to parse, XML files passed over because they are not JUnit, and patterns that matched nothing."""

    files: tuple[Path, ...]
    skipped: tuple[Path, ...] = ()
    unmatched: tuple[str, ...] = ()


def is_junit_file(path: Path) -> bool:
    """False only when the file's first bytes show a root element other than `<testsuites>`/`<testsuite>`."""
    try:
        with path.open("rb") as raw:
            head = raw.read(_SNIFF_BYTES)
    except OSError:
        return True  # unreadable: let the parser say so
    root = root_name(head)
    return root is None or root.rpartition(":")[2] in JUNIT_ROOTS


def _xml_files_under(directory: Path) -> Iterable[Path]:
    for folder, dirnames, filenames in os.walk(directory):
        dirnames[:] = [name for name in dirnames if name not in _SKIP_DIRS]
        for name in filenames:
            if name.lower().endswith(".xml"):
                yield Path(folder) / name


def _expand(path: Path) -> list[Path]:
    """The XML files a directory or glob names (a glob's files must end in `.xml`)."""
    matches = [path] if path.is_dir() else sorted(Path(found) for found in glob.glob(str(path), recursive=True))
    files: list[Path] = []
    for match in matches:
        if match.is_dir():
            files.extend(_xml_files_under(match))
        elif match.is_file() and match.name.lower().endswith(".xml"):
            files.append(match)
    return files


def find_report_files(patterns: Iterable[str | os.PathLike[str]], *, base: Path | None = None) -> ReportPaths:
    """Expand files, directories and globs into the sorted, de-duplicated JUnit files they name."""
    root = base or Path.cwd()
    chosen: set[Path] = set()
    skipped: set[Path] = set()
    unmatched: list[str] = []
    for pattern in patterns:
        text = os.fspath(pattern)
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = root / path
        if path.is_file():
            chosen.add(path.resolve())
            continue
        found = _expand(path)
        if not found:
            unmatched.append(text)
        for file in found:
            key = file.resolve()
            if key not in chosen and key not in skipped:
                (chosen if is_junit_file(key) else skipped).add(key)
    return ReportPaths(
        files=tuple(sorted(chosen)),
        skipped=tuple(sorted(skipped - chosen)),
        unmatched=tuple(unmatched),
    )
