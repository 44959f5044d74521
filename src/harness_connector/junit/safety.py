"""Defences that run before and around libxml2, and the words a person reads when a file is refused.

The parser itself never expands entities, never loads a DTD and never touches the network (`resolve_entities=False`,
`load_dtd=False`, `no_network=True`, `huge_tree=False`). On top of that, the prolog is read here first and a file
whose DOCTYPE declares anything (entities, an external DTD) is refused before libxml2 sees a byte of it: JUnit
reports never need a DTD, so such a file is either hostile or not a test report.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

from harness_connector.junit.model import JUnitError

__all__ = ["JUNIT_ROOTS", "FileTooLarge", "LimitedReader", "check_prolog", "root_name", "syntax_error", "wrong_root"]

JUNIT_ROOTS = frozenset({"testsuites", "testsuite"})

_REGENERATE = "Re-run the tests (or copy the report again) so the file is complete, or leave this file out"

# Roots that are test reports, just not JUnit ones: say how to get JUnit out of the tool.
_OTHER_FORMATS = {
    "test-run": "this is NUnit 3's own format; convert it with the nunit3-junit transform or use a JUnit logger",
    "test-results": "this is NUnit 2's own format; convert it with the nunit-to-junit transform",
    "assemblies": "this is xUnit.net's own format; run with `--logger junit` or convert it with JUnitXml.xslt",
    "TestRun": "this is a Visual Studio TRX file; run with a JUnit logger (JunitXml.TestLogger) instead",
    "failsafe-summary": "this is Failsafe's summary, not a report: ingest the TEST-*.xml files beside it",
    "html": "this is an HTML report; point at the JUnit XML the test runner wrote instead",
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


def _scan(path: str, head: bytes, limit: int) -> tuple[str | None, str | None]:
    """Walk the prolog: (root element name or None if not reached, the problem with the prolog or None)."""
    text = _decode_head(head)
    i = 1 if text.startswith("\ufeff") else 0
    if text.startswith("\xef\xbb\xbf"):
        i = 3
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return None, ("the prolog is longer than the limit" if len(head) >= limit else None)
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
        elif text.startswith("<!DOCTYPE", i):
            return None, _doctype_problem(text, i + 9, limit, len(head))
        elif text.startswith("<", i):
            match = _NAME.match(text, i + 1)
            return (match.group(0) if match else None), None
        else:
            return None, None
        if end < 0:
            return None, ("the prolog is longer than the limit" if len(head) >= limit else None)
        i = end + 2


def _doctype_problem(text: str, i: int, limit: int, size: int) -> str | None:
    end = _skip_quoted_or_to(text, i, "[>")
    if end < 0:
        return "the DOCTYPE is longer than the limit" if size >= limit else "the DOCTYPE is not closed"
    declaration = text[i:end]
    if text[end] == "[":
        subset = text[end:]
        if "<!ENTITY" in subset:
            return "the DOCTYPE declares entities (as in a 'billion laughs' or external-entity attack)"
        if "<!" in subset:
            return "the DOCTYPE has an internal subset with declarations"
    words = declaration.split()
    if len(words) > 1 and words[1] in ("SYSTEM", "PUBLIC"):
        return "the DOCTYPE references an external DTD"
    return None


def check_prolog(path: str, raw: BinaryIO, limit: int) -> None:
    """Refuse a file whose prolog declares entities or an external DTD, or is absurdly long. Rewinds `raw`."""
    head = raw.read(limit)
    raw.seek(0)
    _root, problem = _scan(path, head, limit)
    if problem:
        line = head.count(b"\n", 0, max(0, head.find(b"<!DOCTYPE"))) + 1
        hint = "JUnit reports never need a DTD; this file is hostile or not a test report. Leave it out"
        raise JUnitError(path, f"refused before parsing: {problem}", line=line, hint=hint)


def root_name(head: bytes) -> str | None:
    """The root element's name as the first bytes of a file show it (for telling JUnit files from other XML)."""
    root, problem = _scan("", head, len(head) + 1)
    return None if problem else root


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
