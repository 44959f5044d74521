"""Who owns a test: CODEOWNERS rules, or a plain mapping from path or class-name prefixes to owners.

CODEOWNERS follows GitHub's reading of it: one `pattern owner...` rule per line, `#` comments, the last matching
rule wins, and a rule with no owners leaves the paths it matches unowned. Patterns are gitignore-like without
negation or character classes: `*` and `?` stay within one path segment, `**` crosses segments, a leading `/` or
a `/` inside the pattern anchors it at the repository root (otherwise it matches at any depth), and a pattern
that names a directory covers everything beneath it.

Tests are named by suite and class rather than by file, so `owners_of_test` tries, in order, the test's file path
when the caller knows it, the suite when it looks like a path, and the class name read as a path
(`com.acme.billing.InvoiceTest` → `com/acme/billing/InvoiceTest`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["CodeOwners", "OwnerRule"]

_PATH_LIKE = re.compile(r"[/\\]|\.(?:py|js|jsx|ts|tsx|go|rb|java|kt|scala|cs|php|rs|swift|c|cc|cpp)$")


@dataclass(frozen=True, slots=True)
class OwnerRule:
    """One rule: the pattern as written, the regular expression it means, and its owners (possibly none)."""

    pattern: str
    regex: re.Pattern[str]
    owners: tuple[str, ...]


def _translate(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return "".join(out)


def _glob(pattern: str) -> re.Pattern[str]:
    """The regular expression a CODEOWNERS pattern stands for, matched against a path without a leading `/`."""
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    head = "" if anchored or body.startswith("**") else "(?:.*/)?"
    # A match may be a directory above the path; a pattern ending in `/` matches only directories, and one ending
    # in `/*` only the files directly inside its directory.
    if pattern.endswith("/"):
        tail = "/.*"
    elif body.endswith("/*"):
        tail = ""
    else:
        tail = "(?:/.*)?"
    return re.compile(f"{head}{_translate(body)}{tail}\\Z", re.DOTALL)


def _prefix(prefix: str) -> re.Pattern[str]:
    """A prefix rule matches the start of a path; a dotted class-name prefix is read as a path."""
    path = prefix if "/" in prefix else prefix.replace(".", "/")
    return re.compile(re.escape(_path_key(path)))


def _path_key(text: str) -> str:
    path = text.replace("\\", "/")
    while path.startswith(("./", "/")):
        path = path[2:] if path.startswith("./") else path[1:]
    return path


@dataclass(frozen=True, slots=True)
class CodeOwners:
    """Ownership rules; the last rule that matches a path decides its owners."""

    rules: tuple[OwnerRule, ...]

    @classmethod
    def parse(cls, text: str) -> CodeOwners:
        """Read a CODEOWNERS file. Lines that are blank or comments are skipped; `\\#` starts a pattern with `#`."""
        rules: list[OwnerRule] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            pattern, *rest = line.split()
            owners: list[str] = []
            for word in rest:
                if word.startswith("#"):
                    break
                owners.append(word)
            pattern = pattern.replace("\\#", "#")
            rules.append(OwnerRule(pattern, _glob(pattern), tuple(owners)))
        return cls(tuple(rules))

    @classmethod
    def from_prefixes(cls, prefixes: Mapping[str, Iterable[str]]) -> CodeOwners:
        """Rules from `{prefix: owners}`, where a prefix is the start of a test file path or of a dotted class
        name (`tests/billing/`, `com.acme.billing`); the longest matching prefix wins."""
        ordered = sorted(prefixes.items(), key=lambda item: len(item[0]))
        return cls(tuple(OwnerRule(prefix, _prefix(prefix), tuple(owners)) for prefix, owners in ordered))

    def owners_of(self, path: str) -> tuple[str, ...]:
        """The owners of a repository path (`src/app.py` and `/src/app.py` are the same), or `()`."""
        key = _path_key(path)
        for rule in reversed(self.rules):
            if rule.regex.match(key):
                return rule.owners
        return ()

    def owners_of_test(self, suite: str, class_name: str, *, path: str | None = None) -> tuple[str, ...]:
        """The owners of a test: by its file `path` when known, else by its suite when that looks like a path,
        else by its class name read as a path."""
        candidates = [path] if path else []
        if _PATH_LIKE.search(suite):
            candidates.append(suite)
        if class_name:
            candidates.append(class_name.replace(".", "/"))
        for candidate in candidates:
            owners = self.owners_of(candidate)
            if owners:
                return owners
        return ()
