"""Hostile, malformed and oversized files are refused with an error that names the file, the line and the fix."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from harness_connector.errors import UsageError
from harness_connector.junit import JUnitContext, JUnitError, JUnitLimits, parse_file
from harness_connector.junit.safety import FileTooLarge, LimitedReader, xml_events

DATA = Path(__file__).parent / "data"
CONTEXT = JUnitContext(execution_id="exec-1")


def refusal(path: Path, limits: JUnitLimits | None = None) -> JUnitError:
    with pytest.raises(JUnitError) as caught:
        parse_file(path, CONTEXT, limits=limits)
    assert str(path) in str(caught.value)
    return caught.value


class FifoWatch:
    """A named pipe that records whether anyone opened it for reading (opening it blocks until both ends meet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = threading.Event()
        self._thread = threading.Thread(target=self._wait_for_reader, daemon=True)
        self._thread.start()

    def _wait_for_reader(self) -> None:
        descriptor = os.open(self.path, os.O_WRONLY)
        self.opened.set()
        os.write(descriptor, b"root:x:0:0:root:/root:/bin/bash\n")
        os.close(descriptor)

    def close(self) -> None:
        # Meet the writer ourselves so its thread ends; `opened` was read before this.
        descriptor = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self._thread.join(timeout=10)
        os.close(descriptor)


@pytest.fixture
def secret(tmp_path: Path) -> Iterator[FifoWatch]:
    watch = FifoWatch(tmp_path / "secret")
    yield watch
    watch.close()


def test_a_billion_laughs_file_is_refused_before_parsing() -> None:
    error = refusal(DATA / "billion-laughs.xml")
    assert error.line == 2
    assert "declares entities" in error.problem
    assert error.hint is not None and "Leave it out" in error.hint


def test_an_external_entity_file_is_refused_and_its_target_never_opened(tmp_path: Path, secret: FifoWatch) -> None:
    report = tmp_path / "xxe.xml"
    original = (DATA / "xxe-local-file.xml").read_text(encoding="utf-8")
    report.write_text(original.replace("file:///etc/passwd", secret.path.as_uri()), encoding="utf-8")
    error = refusal(report)
    assert "declares entities" in error.problem
    assert "root:x" not in str(error)
    assert not secret.opened.is_set()


def test_an_external_dtd_is_refused_and_never_fetched(tmp_path: Path, secret: FifoWatch) -> None:
    assert "external DTD" in refusal(DATA / "external-dtd.xml").problem
    report = tmp_path / "dtd.xml"
    report.write_text(f'<!DOCTYPE testsuites SYSTEM "{secret.path.as_uri()}"><testsuites/>', encoding="utf-8")
    assert "external DTD" in refusal(report).problem
    assert not secret.opened.is_set()


def test_libxml2_alone_never_expands_or_fetches_entities_either(tmp_path: Path, secret: FifoWatch) -> None:
    # Defence in depth: the parser's own options hold even for a file that got past the prolog check.
    with pytest.raises(etree.XMLSyntaxError, match="amplification"):
        for _ in xml_events(str(DATA / "billion-laughs.xml")):
            pass
    report = tmp_path / "xxe-content.xml"
    report.write_text(
        f'<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "{secret.path.as_uri()}">]>'
        '<testsuites><testsuite name="s"><testcase name="t"><failure>&secret;</failure></testcase></testsuite>'
        "</testsuites>",
        encoding="utf-8",
    )
    texts = [element.text for event, element in xml_events(str(report)) if event == "end" and element.tag == "failure"]
    assert texts == [None]
    assert not secret.opened.is_set()


def test_a_plain_doctype_without_declarations_is_accepted(tmp_path: Path) -> None:
    report = tmp_path / "plain-doctype.xml"
    report.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE testsuite>\n<testsuite name="s"><testcase name="t"/></testsuite>'
    )
    assert parse_file(report, CONTEXT).summary.cases == 1


def test_comments_cannot_hide_a_doctype_from_the_prolog_check(tmp_path: Path) -> None:
    harmless = tmp_path / "harmless.xml"
    harmless.write_text('<!-- <!DOCTYPE x [<!ENTITY a "b">]> --><testsuite name="s"><testcase name="t"/></testsuite>')
    assert parse_file(harmless, CONTEXT).summary.cases == 1
    sneaky = tmp_path / "sneaky.xml"
    sneaky.write_text('<!-- <testsuites> --><!DOCTYPE x [<!ENTITY a "b">]><testsuites/>')
    assert "declares entities" in refusal(sneaky).problem


def test_nesting_deeper_than_the_limit_is_refused_at_the_line_that_crosses_it() -> None:
    error = refusal(DATA / "deep-nesting.xml")
    assert error.line == 66  # line 2 is depth 1, so depth 65 is line 66
    assert "nested more than 64 deep" in error.problem
    assert refusal(DATA / "pytest.xml", JUnitLimits(max_depth=3)).line == 7  # the first <failure>, at depth 4


def test_a_truncated_report_names_the_line_where_it_stops() -> None:
    error = refusal(DATA / "truncated.xml")
    assert error.line == 25
    assert "truncated" in error.problem
    assert error.hint is not None and "Re-run the tests" in error.hint


def test_a_file_that_is_not_xml_says_so() -> None:
    error = refusal(DATA / "not-xml.xml")
    assert (error.line, error.problem) == (1, "this is not XML (no root element)")


def test_a_report_in_another_format_says_how_to_get_junit_out_of_the_tool() -> None:
    error = refusal(DATA / "wrong-root.xml")
    assert error.line == 2
    assert "<test-run>" in error.problem
    assert error.hint is not None and "nunit3-junit" in error.hint


def test_mismatched_tags_are_malformed_not_truncated(tmp_path: Path) -> None:
    report = tmp_path / "mismatch.xml"
    report.write_text('<testsuites>\n<testsuite name="s">\n<testcase name="t">\n</testsuite>\n</testsuites>\n')
    error = refusal(report)
    assert error.line == 4
    assert error.problem.startswith("the XML is malformed")


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    report = tmp_path / "latin1.xml"
    report.write_bytes(b'<testsuites>\n<testsuite name="caf\xe9"/>\n</testsuites>\n')
    error = refusal(report)
    assert error.line == 2
    assert "encoding" in error.problem


def test_an_empty_file_is_refused_with_a_likely_cause(tmp_path: Path) -> None:
    report = tmp_path / "TEST-empty.xml"
    report.write_bytes(b"")
    error = refusal(report)
    assert error.problem == "the file is empty"
    assert error.hint is not None and "stopped before writing its report" in error.hint


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    error = refusal(DATA / "surefire.xml", JUnitLimits(max_file_bytes=1024))
    assert error.problem == "the file is 3,806 bytes or more, over the limit of 1,024 bytes"
    assert error.hint is not None and "max_file_bytes" in error.hint


def test_a_file_that_grows_past_the_limit_while_read_is_stopped() -> None:
    reader = LimitedReader(io.BytesIO(b"x" * 100), limit=64)
    assert reader.read(50) == b"x" * 50
    with pytest.raises(FileTooLarge):
        reader.read(50)


def test_a_name_longer_than_the_limit_is_refused_at_its_line() -> None:
    error = refusal(DATA / "pytest.xml", JUnitLimits(max_name_chars=10))
    assert error.line == 4  # the suite "pytest" fits; the first class name does not
    assert "longer than 10 characters" in error.problem


def test_missing_files_and_directories_are_refused_with_what_to_do(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.xml").problem == "no such file"
    assert refusal(tmp_path).problem == "this is a directory"


def test_junit_errors_are_usage_errors_that_read_as_one_sentence_with_a_fix() -> None:
    error = refusal(DATA / "truncated.xml")
    assert isinstance(error, UsageError)
    assert str(error).startswith(f"{DATA / 'truncated.xml'}:25: the XML stops before its end")


@pytest.mark.parametrize("name", ["surefire.xml", "playwright.xml", "phpunit.xml"])
def test_a_report_cut_anywhere_is_either_complete_or_refused_with_a_junit_error(tmp_path: Path, name: str) -> None:
    data = (DATA / name).read_bytes()
    report = tmp_path / name
    outcomes: set[str] = set()
    for cut in range(0, len(data), 41):
        report.write_bytes(data[:cut])
        try:
            parse_file(report, CONTEXT)
        except JUnitError as error:
            outcomes.add(error.problem.split(" ")[1])
        else:
            outcomes.add("parsed")
    assert "parsed" not in outcomes  # a cut report never passes for a whole one
    assert outcomes <= {"file", "XML", "is", "before"}, outcomes
