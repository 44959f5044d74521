"""JUnit for the bridge when the test server does not hand out its own.

Our test agent serves the run's merged JUnit at `/reports/junit`. A real Avo Assure server has no such endpoint;
its report JSON may carry per-test rows, in a shape Avo does not publish. So the bridge looks, in this order:

1. a `testcases` list (our agent's report), or the first list of objects, up to a few levels deep, whose items
   carry a name (`name`, `testcaseName`, `testCaseName`, `scenarioName`, `title`) and a status (`status`,
   `result`, `overallstatus`, `testStatus`): one `<testcase>` per item, its class from `classname`,
   `className`, `moduleName`, `module` or `suite`;
2. failing that, a single `<testcase>` for the whole run, named after the profile key, whose outcome is the run's
   overall status and whose failure message is the server's message.

Either way Harness's Tests tab shows something true: the tests, or at least the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

__all__ = ["WHOLE_RUN_CASE", "Case", "extract_cases", "junit_document", "looks_like_junit", "outcome_of", "run_case"]

# The name of the test case that stands for a run without per-test data.
WHOLE_RUN_CASE = "whole run"

_NAME_KEYS = ("name", "testcaseName", "testCaseName", "scenarioName", "testscenarioname", "title")
_STATUS_KEYS = ("status", "result", "overallstatus", "testStatus")
_CLASS_KEYS = ("classname", "className", "moduleName", "module", "suite", "testsuite")
_PASSED = frozenset({"pass", "passed", "success", "succeeded", "ok", "flaky"})
_FAILED = frozenset({"fail", "failed", "failure"})
_SKIPPED = frozenset({"skip", "skipped", "ignored", "disabled", "notexecuted", "not executed"})
_MAX_DEPTH = 5
_MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Case:
    """One test as the report shows it; `outcome` is passed, failed, error or skipped."""

    classname: str
    name: str
    outcome: str
    seconds: float = 0.0
    message: str | None = None


def outcome_of(status: object) -> str:
    """passed / failed / skipped / error for a status word from any tool; anything unknown is an error."""
    word = str(status or "").strip().lower()
    if word in _PASSED:
        return "passed"
    if word in _FAILED:
        return "failed"
    if word in _SKIPPED:
        return "skipped"
    return "error"


def _first(item: Mapping[str, Any], keys: Sequence[str]) -> Any:
    return next((item[key] for key in keys if item.get(key) not in (None, "")), None)


def _rows(document: Any, depth: int = 0) -> Iterator[list[Mapping[str, Any]]]:
    """Lists of objects that look like per-test rows, outermost first."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(document, list):
        objects = [item for item in document if isinstance(item, Mapping)]
        if objects and all(_first(o, _NAME_KEYS) is not None and _first(o, _STATUS_KEYS) is not None for o in objects):
            yield objects
            return
        for item in document[:100]:
            yield from _rows(item, depth + 1)
    elif isinstance(document, Mapping):
        for value in document.values():
            yield from _rows(value, depth + 1)


def extract_cases(report: Any) -> list[Case]:
    """Per-test rows of a report JSON, or [] when it has none."""
    if isinstance(report, Mapping) and isinstance(report.get("testcases"), list) and not report["testcases"]:
        return []
    preferred = report.get("testcases") if isinstance(report, Mapping) else None
    rows = next(_rows(preferred if isinstance(preferred, list) else report), [])
    cases: list[Case] = []
    for row in rows:
        duration = row.get("durationMs")
        seconds = float(duration) / 1000 if isinstance(duration, int | float) else _seconds(row.get("time"))
        message = row.get("message")
        cases.append(
            Case(
                classname=str(_first(row, _CLASS_KEYS) or ""),
                name=str(_first(row, _NAME_KEYS)),
                outcome=outcome_of(_first(row, _STATUS_KEYS)),
                seconds=seconds,
                message=str(message)[:_MAX_MESSAGE_CHARS] if message else None,
            )
        )
    return cases


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


def run_case(*, key: str, execution_id: str, overall: str | None, message: str | None) -> Case:
    """The one test case that stands for a whole run whose report has no per-test data.

    Its name is the same for every run of the key, so a suite that keeps crashing builds up one test's history
    (in ti-service and the history store) instead of a new test each time; the message names the execution.
    """
    outcome = outcome_of(overall)
    if outcome == "skipped":
        outcome = "error"
    text = message or f"overall status {overall or 'unknown'}"
    return Case(classname=key, name=WHOLE_RUN_CASE, outcome=outcome, message=f"{text} (execution {execution_id})")


def junit_document(cases: Sequence[Case], *, suite_name: str) -> bytes:
    """A `<testsuites>` with one `<testsuite>` holding `cases`."""
    counts = {kind: sum(1 for case in cases if case.outcome == kind) for kind in ("failed", "error", "skipped")}
    total_time = f"{sum(case.seconds for case in cases):.3f}"
    root = etree.Element("testsuites", name=suite_name, tests=str(len(cases)), time=total_time)
    suite = etree.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(cases)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=total_time,
    )
    for case in cases:
        element = etree.SubElement(
            suite, "testcase", classname=case.classname, name=case.name, time=f"{case.seconds:.3f}"
        )
        if case.outcome == "failed":
            etree.SubElement(element, "failure", message=case.message or "failed").text = case.message
        elif case.outcome == "error":
            etree.SubElement(element, "error", message=case.message or "error").text = case.message
        elif case.outcome == "skipped":
            etree.SubElement(element, "skipped")
    root.set("failures", str(counts["failed"]))
    root.set("errors", str(counts["error"]))
    root.set("skipped", str(counts["skipped"]))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def looks_like_junit(data: bytes) -> bool:
    """Whether a download is a JUnit document (a server may answer an unknown path with an HTML page)."""
    if b"<!DOCTYPE" in data[:4096].upper():
        return False  # JUnit never needs a DTD; one here is a page or an attack, not a report
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return False
    return etree.QName(root).localname in ("testsuites", "testsuite")
