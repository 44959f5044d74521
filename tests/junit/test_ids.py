"""The test id is stable: the same suite, class and name give the same id in every run, file and dialect."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness_connector.junit import JUnitContext, parse_file, test_id
from harness_connector.junit.ids import id_hasher, normalise_name

DATA = Path(__file__).parent / "data"
CONTEXT = JUnitContext(execution_id="exec-1")


def ids_by_name(name: str) -> dict[str, str]:
    return {record.name: record.test_id for record in parse_file(DATA / name, CONTEXT).results}


def test_the_id_is_sixteen_hex_digits_of_blake2b_over_the_unit_separated_parts() -> None:
    expected = hashlib.blake2b(b"suite\x1fclass\x1fname", digest_size=8).hexdigest()
    assert test_id("suite", "class", "name") == expected
    assert len(expected) == 16


def test_whitespace_runs_and_surrounding_blanks_do_not_change_the_id() -> None:
    assert test_id(" pytest ", "tests.test_calc\n", "test   adds\ttwo") == test_id(
        "pytest", "tests.test_calc", "test adds two"
    )


def test_unicode_is_compared_in_nfc() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert test_id("s", "c", composed) == test_id("s", "c", decomposed)


def test_a_trailing_empty_argument_list_is_ignored_but_real_arguments_are_kept() -> None:
    assert test_id("s", "c", "adds()") == test_id("s", "c", "adds")
    assert test_id("s", "c", "adds(int, int)[1]") != test_id("s", "c", "adds")


def test_case_and_part_boundaries_matter() -> None:
    assert test_id("s", "c", "Adds") != test_id("s", "c", "adds")
    # Joined with "::" these two would collide; the unit separator cannot appear in XML.
    assert test_id("a::b", "c", "d") != test_id("a", "b::c", "d")


@pytest.mark.parametrize(
    "name", ["plain", "with space", "trail()", "tab\there", "  padded  ", "ünïcödé", "e\u0301", "x" * 300, ""]
)
def test_the_parsers_incremental_hash_agrees_with_test_id(name: str) -> None:
    hasher = id_hasher("suite name", "class")
    hasher.update(normalise_name(name).encode())
    assert hasher.hexdigest() == test_id("suite name", "class", name)


def test_surefire_and_gradle_reports_of_the_same_tests_give_the_same_ids() -> None:
    surefire, gradle = ids_by_name("surefire.xml"), ids_by_name("gradle.xml")
    assert surefire["placesOrderWhenInStock"] == gradle["placesOrderWhenInStock()"]
    assert surefire["rejectsOrderWhenOutOfStock"] == gradle["rejectsOrderWhenOutOfStock()"]
    assert surefire["computesTax(String, BigDecimal)[2]"] == gradle["computesTax(String, BigDecimal)[2]"]


def test_go_junit_report_and_gotestsum_give_the_same_ids_for_the_same_go_tests() -> None:
    go, gotestsum = ids_by_name("go-junit-report.xml"), ids_by_name("gotestsum.xml")
    for name in ("TestAddItem", "TestTotal/with_tax", "TestTotal/with_coupon", "TestCheckoutIntegration"):
        assert go[name] == gotestsum[name], name


def test_pytest_xunit1_and_xunit2_files_give_the_same_ids(tmp_path: Path) -> None:
    xunit1 = tmp_path / "xunit1.xml"
    xunit1.write_text(
        '<testsuites><testsuite name="pytest" tests="1">'
        '<testcase classname="tests.test_calc.TestCalc" name="test_add" file="tests/test_calc.py" line="7" time="0.1"/>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    [record] = parse_file(xunit1, CONTEXT).results
    assert record.test_id == ids_by_name("pytest.xml")["test_add"]
    assert record.file == "tests/test_calc.py"


def test_the_same_file_parsed_twice_gives_the_same_ids() -> None:
    first = [r.test_id for r in parse_file(DATA / "playwright.xml", CONTEXT).results]
    second = [r.test_id for r in parse_file(DATA / "playwright.xml", JUnitContext(execution_id="other")).results]
    assert first == second


def test_ids_from_a_file_agree_with_test_id_for_awkward_names(tmp_path: Path) -> None:
    names = ["adds()", "two  spaces", "ünïcödé", "&#9;tab&#10;newline", "  padded  ", "plain"]
    cases = "".join(f'<testcase classname="c" name="{name}"/>' for name in names)
    report = tmp_path / "awkward.xml"
    report.write_text(f'<testsuite name="s">{cases}</testsuite>', encoding="utf-8")
    records = parse_file(report, CONTEXT).results
    assert [r.test_id for r in records] == [test_id("s", "c", r.name) for r in records]
    assert records[3].name == "\ttab\nnewline"
    assert records[0].test_id == test_id("s", "c", "adds")
