"""Defences that run before and around libxml2, and the words a person reads when a file is refused.

The parser itself never expands entities, never loads a DTD and never touches the network (`resolve_entities=False`,
`load_dtd=False`, `no_network=True`, `huge_tree=False`). On top of that, the prolog is read here first and a file
whose DOCTYPE declares anything (entities, an external DTD) is refused before libxml2 sees a byte of it: JUnit
reports never need a DTD, so such a file is either hostile or not a test report. Size, depth and name limits
(`JUnitLimits`) are enforced by the reader as it goes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from lxml import etree

from harness_connector.junit.model import JUnitError

__all__ = [
    "JUNIT_ROOTS",
    "PARSER_OPTIONS",
    "FileTooLarge",
    "LimitedReader",
    "check_prolog",
    "root_name",
    "syntax_error",
    "wrong_root",
    "xml_events",
]

JUNIT_ROOTS = frozenset({"testsuites", "testsuite"})
# libxml2 as the parser uses it: nothing is fetched, expanded or defaulted, and its own size and depth limits stay on.
PARSER_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

_REGENERATE = "Re-run the tests (or copy the report again) so the file is complete, or leave this file out"

# Roots that are test reports, just not JUnit ones: say how to get JUnit out of the tool.
_OTHER_FORMATS = {
    "test-run": "This is NUnit 3's own format; convert it with the nunit3-junit transform or use a JUnit logger",
    "test-results": "This is NUnit 2's own format; convert it with the nunit-to-junit transform",
    "assemblies": "This is xUnit.net's own format; run with `--logger junit` or convert it with JUnitXml.xslt",
    "TestRun": "This is a Visual Studio TRX file; run with a JUnit logger (JunitXml.TestLogger) instead",
    "failsafe-summary": "This is Failsafe's summary, not a report: ingest the TEST-*.xml files beside it",
    "html": "This is an HTML report; point at the JUnit XML the test runner wrote instead",
}

_NAME = re.compile(r"[A-Za-z_:][-\w.:]*")


class FileTooLarge(Exception):
    """Raised from inside libxml2's read loop when a file grows past the size limit while being read."""


class LimitedReader:
    """A binary file that refuses to yield more than `limit` bytes in total (a file may grow after `stat`)."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size if size > 0 else 1 << 16)
        self.count += len(data)
        if self.count > self._limit:
            raise FileTooLarge
        return data


def xml_events(source: Any, *, chunk_size: int = 64 * 1024) -> Iterator[tuple[str, etree._Element]]:
    """Start and end events over `source` (a path or a binary file) with the options above."""
    events: Iterator[tuple[str, etree._Element]] = etree.iterparse(
        source, events=("start", "end"), chunk_size=chunk_size, **PARSER_OPTIONS
    )
    return events


def _decode_head(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    # Latin-1 maps every byte to one character, so markup positions survive whatever the real encoding is.
    return head.decode("latin-1")


def _skip_quoted_or_to(text: str, start: int, stops: str) -> int:
    """Index of the first character in `stops` at or after `start`, skipping quoted strings; -1 if none."""
    i = start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            end = text.find(c, i + 1)
            if end < 0:
                return -1
            i = end + 1
            continue
        if c in stops:
            return i
        i += 1
    return -1


class _Prolog:
    """What the first bytes of a file say: the root element's name, and what is wrong with the prolog, if anything."""

    def __init__(self, head: bytes, limit: int) -> None:
        self.root: str | None = None
        self.problem: str | None = None
        self.line = 1
        self._text = _decode_head(head)
        self._full = len(head) >= limit
        self._walk()

    def _refuse(self, problem: str, at: int) -> None:
        self.problem = problem
        self.line = self._text.count("\n", 0, at) + 1

    def _walk(self) -> None:
        text = self._text
        i = 3 if text.startswith("\xef\xbb\xbf") else 1 if text.startswith("\ufeff") else 0
        while True:
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if i >= len(text):
                break
            if text.startswith("<?", i):
                end, close = text.find("?>", i + 2), 2
            elif text.startswith("<!--", i):
                end, close = text.find("-->", i + 4), 3
            elif text.startswith("<!DOCTYPE", i):
                end, close = self._doctype(i), 1
                if self.problem:
                    return
            elif text.startswith("<", i):
                match = _NAME.match(text, i + 1)
                self.root = match.group(0) if match else None
                return
            else:
                return  # not markup: libxml2 will say what it is
            if end < 0:
                break
            i = end + close
        if self._full:
            self._refuse("the prolog is longer than the limit", i)

    def _doctype(self, start: int) -> int:
        """Check a DOCTYPE; the index of its closing `>` (-1 if not in the head)."""
        text = self._text
        end = _skip_quoted_or_to(text, start + 9, "[>")
        if end < 0:
            return -1
        words = text[start + 9 : end].split()
        if len(words) > 1 and words[1] in ("SYSTEM", "PUBLIC"):
            self._refuse("the DOCTYPE references an external DTD", start)
            return -1
        if text[end] == ">":
            return end
        subset_end = _skip_quoted_or_to(text, end + 1, "]")
        subset = text[end + 1 : subset_end if subset_end >= 0 else len(text)]
        if "<!ENTITY" in subset:
            self._refuse("the DOCTYPE declares entities (as in a 'billion laughs' or external-entity attack)", start)
        elif "<!" in subset:
            self._refuse("the DOCTYPE has an internal subset with declarations", start)
        elif subset_end >= 0:
            return _skip_quoted_or_to(text, subset_end, ">")
        return -1


def check_prolog(path: str, raw: BinaryIO, limit: int) -> None:
    """Refuse a file whose prolog declares entities or an external DTD, or is absurdly long. Rewinds `raw`."""
    head = raw.read(limit)
    raw.seek(0)
    prolog = _Prolog(head, limit)
    if prolog.problem:
        hint = "JUnit reports never need a DTD; this file is hostile or not a test report. Leave it out"
        raise JUnitError(path, f"refused before parsing: {prolog.problem}", line=prolog.line, hint=hint)


def root_name(head: bytes) -> str | None:
    """The root element's name as the first bytes of a file show it (for telling JUnit files from other XML)."""
    prolog = _Prolog(head, len(head) + 1)
    return None if prolog.problem else prolog.root


def wrong_root(path: str, tag: str, line: int | None) -> JUnitError:
    local = tag.rpartition("}")[2]
    known = _OTHER_FORMATS.get(local)
    hint = known or "Point at the XML file your test runner's JUnit reporter wrote"
    return JUnitError(
        path,
        f"the root element is <{local}>, not <testsuites> or <testsuite>: not a JUnit report",
        line=line,
        hint=hint,
    )


def syntax_error(path: str, message: str, line: int | None, *, truncated: bool) -> JUnitError:
    """Turn libxml2's complaint into what happened and what to do."""
    lowered = message.lower()
    if "document is empty" in lowered or "start tag expected" in lowered or "no element found" in lowered:
        return JUnitError(path, "this is not XML (no root element)", line=line, hint="Point at a JUnit XML report")
    if "premature end" in lowered or "not finished" in lowered or (truncated and "extra content" not in lowered):
        problem = f"the XML stops before its end: the file looks truncated ({message})"
        return JUnitError(path, problem, line=line, hint=_REGENERATE)
    if "entity" in lowered or "amplification" in lowered:
        problem = f"refused: the XML uses entities ({message})"
        return JUnitError(path, problem, line=line, hint="JUnit reports never use entities; leave this file out")
    if "huge" in lowered or "too long" in lowered or "excessive" in lowered or "depth" in lowered:
        problem = f"refused: the XML exceeds a parser limit ({message})"
        return JUnitError(path, problem, line=line, hint="The file is broken or hostile; leave it out")
    if "encoding" in lowered or "utf-8" in lowered or "invalid char" in lowered:
        problem = f"the file has bytes that are not valid in its encoding ({message})"
        return JUnitError(path, problem, line=line, hint="Regenerate the report, or fix its encoding declaration")
    return JUnitError(path, f"the XML is malformed ({message})", line=line, hint=_REGENERATE)
