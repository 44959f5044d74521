"""The slow path: a `<testcase>` with children, turned into its attempts.

Most test cases have no children (they passed) and never come here. The rest carry a verdict and, in the Maven
Surefire dialect (also written by Gradle with `mergeReruns` and by Playwright with `includeRetries`), the runs
that came before the verdict:

- `<failure>` → FAILED, `<error>` → ERROR, `<skipped>` → SKIPPED; with several, failure beats error beats
  skipped (pytest adds an `<error>` for a teardown crash after a `<failure>`; the test's own verdict is the failure).
- A `<skipped type="pytest.xfail">` whose message starts with `QUARANTINE_XFAIL_PREFIX` and a proposal id is
  FAILED: that is how pytest reports a failure of a test that the plugin of `harness-connector quarantine export
  --format pytest` marked xfail. Read as a skip, a quarantined test's failures would vanish from flaky detection
  and its passes alone would lift the quarantine. Other xfails stay SKIPPED: a declared expected failure is not
  flakiness.
- `<flakyFailure>`/`<flakyError>` (no verdict element): each is a failed attempt, in order, and a final attempt
  that passed, which becomes FLAKY.
- `<rerunFailure>`/`<rerunError>` after a verdict: the verdict is attempt 1, each rerun one more failed attempt.
- The attempt that decided the case (the verdict, or the final pass) gives the test its outcome in the summary,
  as the report's own counts have it: a failure whose reruns ended in an error is still a failure.
- The test case's `time` belongs to the attempt that decided it (the final pass of a flaky test, the first
  failure of one that kept failing, as Playwright and Surefire write it); other attempts use their own `time`
  attribute when the dialect gives one, else 0.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from lxml import etree

from harness_connector.domain.history import TestOutcome

__all__ = ["QUARANTINE_XFAIL_PREFIX", "Attempt", "case_attempts", "duration_ms", "message_from", "trim"]

# The start of the xfail reason the exported pytest quarantine plugin gives; the proposal id and a colon follow,
# which is what tells it from an xfail reason that merely begins with the same words.
QUARANTINE_XFAIL_PREFIX = "harness-connector quarantine "
_QUARANTINED = re.compile(re.escape(QUARANTINE_XFAIL_PREFIX) + r"q-[0-9a-f]+:")
_XFAIL_TYPE = "pytest.xfail"

_VERDICTS = {"failure": TestOutcome.FAILED, "error": TestOutcome.ERROR, "skipped": TestOutcome.SKIPPED}
_RANK = {TestOutcome.FAILED: 3, TestOutcome.ERROR: 2, TestOutcome.SKIPPED: 1}
_FLAKY = {"flakyFailure": TestOutcome.FAILED, "flakyError": TestOutcome.ERROR}
_RERUN = {"rerunFailure": TestOutcome.FAILED, "rerunError": TestOutcome.ERROR}
# NUnit-to-JUnit transforms sometimes leave a runtime skip only in a `status` attribute.
SKIP_STATUSES = frozenset({"skipped", "ignored", "notrun", "notexecuted", "disabled", "inconclusive"})
# Messages that say nothing: Go's reporters write "Failed"; then the first line of the body says more.
_GENERIC = frozenset({"", "failed", "failure", "error", "skipped", "skip", "assertionerror"})
_NOISE = ("=== RUN", "=== PAUSE", "=== CONT", "--- FAIL", "--- SKIP", "--- PASS")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


class Attempt(NamedTuple):
    """One run of a test case, before it gets its number and its place in the store."""

    outcome: TestOutcome
    duration_ms: int
    message: str | None
    failure_type: str | None
    text: str | None
    stdout: str | None
    stderr: str | None


def duration_ms(value: str | None) -> int:
    """Seconds as JUnit writes them (`0.123`, `1,234.5` from some Surefire locales) → whole milliseconds."""
    if not value:
        return 0
    try:
        milliseconds = int(float(value) * 1000.0 + 0.5)
    except (ValueError, OverflowError):  # NaN, infinity, or a comma as thousands separator
        try:
            milliseconds = int(float(value.replace(",", "")) * 1000.0 + 0.5)
        except (ValueError, OverflowError):
            return 0
    # Negative or absurd times are junk in the file; a duration must stay a sane integer.
    return milliseconds if 0 <= milliseconds < 10**12 else 0


def trim(text: str | None, cap: int) -> str | None:
    """Text cut to `cap` characters, keeping the head (where exceptions start) and the tail (where logs end)."""
    if text is None:
        return None
    if len(text) <= cap:
        return text
    head = cap * 2 // 3
    tail = cap - head
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def message_from(attribute: str | None, body: str | None, cap: int, case_name: str = "") -> str | None:
    """The reason in short: the `message` attribute, or the first telling line of the body when it says nothing.

    Lines that only repeat the test's identity (PHPUnit starts its bodies with `Class::method`) and `go test`
    transcript markers are not telling.
    """
    message = (attribute or "").strip()
    noise = (*_NOISE, f"::{case_name}") if case_name else _NOISE
    if message.lower() in _GENERIC:
        message = _telling_line(body, noise) or message
    elif message.startswith(_NOISE):
        # gotestsum puts the whole `go test` transcript of a skip in the attribute.
        message = _telling_line(message, noise) or message
    if not message:
        return None
    if "\x1b" in message:
        message = _ANSI.sub("", message)
    return message[:cap] if len(message) > cap else message


def _telling_line(text: str | None, noise: tuple[str, ...]) -> str | None:
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(_NOISE) and not stripped.endswith(noise):
            return stripped
    return None


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _text(element: etree._Element) -> str | None:
    text = "".join(piece for piece in element.itertext(with_tail=False) if isinstance(piece, str))
    return text if text.strip() else None


def _rerun_attempt(element: etree._Element, outcome: TestOutcome, caps: tuple[int, int]) -> Attempt:
    """A Surefire rerun child: attributes on the element, the trace in `<stackTrace>`, its own output."""
    text = stdout = stderr = None
    for child in element:
        name = _local(child.tag)
        if name == "stackTrace":
            text = _text(child)
        elif name == "system-out":
            stdout = _text(child)
        elif name == "system-err":
            stderr = _text(child)
    if text is None and element.text and element.text.strip():
        text = element.text
    message_cap, output_cap = caps
    return Attempt(
        outcome,
        duration_ms(element.get("time")),
        message_from(element.get("message"), text, message_cap),
        element.get("type") or None,
        trim(text, output_cap),
        trim(stdout, output_cap),
        trim(stderr, output_cap),
    )


def _quarantined_failure(element: etree._Element) -> bool:
    """Whether a `<skipped>` is pytest's report of a quarantined test that failed (see the module docstring)."""
    return element.get("type") == _XFAIL_TYPE and _QUARANTINED.match(element.get("message") or "") is not None


def case_attempts(case: etree._Element, case_ms: int, message_cap: int, output_cap: int) -> tuple[list[Attempt], int]:
    """All attempts of one `<testcase>` that has children, in the order they ran, and which one decided it."""
    caps = (message_cap, output_cap)
    verdict: tuple[TestOutcome, etree._Element] | None = None
    flaky: list[Attempt] = []
    reruns: list[Attempt] = []
    stdout = stderr = None
    for child in case:
        name = _local(child.tag)
        outcome = _VERDICTS.get(name)
        if outcome is not None:
            if verdict is None or _RANK[outcome] > _RANK[verdict[0]]:
                verdict = (outcome, child)
        elif name == "system-out":
            stdout = _text(child)
        elif name == "system-err":
            stderr = _text(child)
        elif name in _FLAKY:
            flaky.append(_rerun_attempt(child, _FLAKY[name], caps))
        elif name in _RERUN:
            reruns.append(_rerun_attempt(child, _RERUN[name], caps))
    stdout, stderr = trim(stdout, output_cap), trim(stderr, output_cap)
    if verdict is None:
        status = (case.get("status") or "").lower()
        final_outcome = TestOutcome.SKIPPED if status in SKIP_STATUSES else TestOutcome.PASSED
        final = Attempt(final_outcome, case_ms, None, None, None, stdout, stderr)
        return [*flaky, final], len(flaky)
    outcome, element = verdict
    if outcome is TestOutcome.SKIPPED and _quarantined_failure(element):
        outcome = TestOutcome.FAILED
    body = _text(element)
    message = message_from(element.get("message"), body, message_cap, case.get("name") or "")
    failure_type = element.get("type") or None
    decided = Attempt(outcome, case_ms, message, failure_type, trim(body, output_cap), stdout, stderr)
    return [*flaky, decided, *reruns], len(flaky)
