"""The test-execution bridge: what a pipeline step runs to start tests on a test agent and wait for the verdict.

It speaks Avo Assure's DevOps protocol, so it drives our `test-agent` and a real Avo Assure server alike:
`POST {server}/execAutomation {"key", "executionType": "asynchronous"}`, then `GET runningStatusLink` every few
seconds until `status` is `Completed`, then gate on `overallstatus`.

Exit codes, for the step to act on:

| code | meaning |
|---|---|
| 0 | the run passed (or `--no-wait`: it was started) |
| 1 | the run ended Fail, Error, Timeout or Aborted, or the server lost it |
| 2 | the request was wrong: bad URL, unknown key, a token missing; the server's message is printed |
| 3 | `--timeout` passed before the run completed (it goes on on the server) |
| 4 | the server could not be reached: at the trigger after the retry budget, while polling for too long |

A refused connection at the trigger is retried with backoff for the retry budget: nothing reached the server, so
nothing can start twice. A trigger that got no answer in time is *not* retried, since the server may have started
the run; the bridge says so and exits 4. While polling, an unreachable server is waited out until `--timeout`
(or ten minutes without one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, parse_qsl, urljoin, urlsplit, urlunsplit

from harness_connector.delegate.bridge_junit import (
    Case,
    extract_cases,
    junit_document,
    looks_like_junit,
    run_case,
)
from harness_connector.delegate.wire import WireError, WireUnavailable
from harness_connector.junit import JUnitContext, JUnitError, parse_file

__all__ = [
    "EXIT_FAILED",
    "EXIT_PASSED",
    "EXIT_TIMEOUT",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "Bridge",
    "BridgeOptions",
    "Transport",
    "check_server_url",
]

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT, EXIT_UNREACHABLE = 0, 1, 2, 3, 4
_FIRST_RETRY_S = 0.5
_MAX_RETRY_S = 8.0
# The exception types under WireUnavailable for which the request never left this machine.
_NOT_SENT = frozenset({"ConnectError", "ConnectTimeout"})


class Transport(Protocol):
    """What the bridge needs of an HTTP client (`delegate.wire.WireClient` is one)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
    ) -> Any: ...

    def download(self, path: str, *, params: Mapping[str, str | int] | None = None) -> bytes: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeOptions:
    """What `tests run` was asked to do."""

    server: str
    key: str
    wait: bool = True
    junit_path: Path | None = None
    env_file: Path | None = None
    poll_interval_s: float = 5.0
    timeout_s: float | None = None
    retry_budget_s: float = 30.0
    outage_limit_s: float = 600.0


class _Stop(Exception):
    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


@dataclass(slots=True)
class _Run:
    execution_id: str
    report_link: str
    status_link: str
    last: dict[str, Any] = field(default_factory=dict)


def check_server_url(url: str) -> str | None:
    """What is wrong with a server URL, or None when it is usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--server must be an http(s) URL such as http://test-agent:8790, not {url!r}"
    if parts.query or parts.fragment:
        return f"--server is the server's base URL, without a query or fragment: {url!r}"
    return None


class Bridge:
    """One trigger-and-wait; `run()` returns the exit code. Clock, sleep and output are injected for tests."""

    def __init__(
        self,
        transport: Transport,
        options: BridgeOptions,
        *,
        say: Callable[[str], None],
        warn: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = transport
        self._options = options
        self._say = say
        self._warn = warn
        self._clock = clock
        self._sleep = sleep
        self._base = options.server.rstrip("/")
        self._started = clock()

    def run(self) -> int:
        """Trigger, wait, fetch the results, write them; the exit code."""
        try:
            run = self._trigger()
        except _Stop as stop:
            self._warn(f"error: {stop.message}")
            return stop.exit_code
        self._say(f"execution {run.execution_id} started for key '{self._options.key}'")
        self._say(f"report: {run.report_link}")
        self._say(f"status: {run.status_link}")
        if not self._options.wait:
            self._publish(self._variables(run, status="Queued", counts=None))
            return EXIT_PASSED
        try:
            final = self._poll(run)
        except _Stop as stop:
            self._warn(f"error: {stop.message}")
            status = str(run.last.get("status") or "Unknown") if stop.exit_code == EXIT_TIMEOUT else "Error"
            self._publish(self._variables(run, status=status, counts=None))
            return stop.exit_code
        overall = str(final.get("overallstatus") or "Unknown")
        message = final.get("message")
        if message:
            self._say(f"{overall}: {message}")
        try:
            counts = self._results(run, final, overall)
            self._publish(self._variables(run, status=overall, counts=counts))
        except OSError as exc:
            self._warn(f"error: cannot write the results: {exc}")
            return EXIT_USAGE
        return EXIT_PASSED if overall.lower() == "pass" else EXIT_FAILED

    def _trigger(self) -> _Run:
        body = {"key": self._options.key, "executionType": "asynchronous"}
        delay = _FIRST_RETRY_S
        while True:
            try:
                answer = self._http.request("POST", f"{self._base}/execAutomation", json_body=body)
                break
            except WireUnavailable as exc:
                if type(exc.__cause__).__name__ not in _NOT_SENT:
                    raise _Stop(
                        EXIT_UNREACHABLE,
                        f"{exc}; the server may have started an execution anyway, so it was not sent again",
                    ) from exc
                problem = str(exc)
            except WireError as exc:
                if exc.status in (401, 403):
                    raise _Stop(EXIT_USAGE, f"the server refused the request: {exc.message} (pass --token?)") from exc
                if exc.status not in (502, 503, 504):
                    stop_code = EXIT_UNREACHABLE if exc.status >= 500 else EXIT_USAGE
                    raise _Stop(stop_code, f"the server refused the execution request: {exc.message}") from exc
                problem = f"{self._base} answered HTTP {exc.status}"
            except ValueError as exc:
                raise _Stop(
                    EXIT_USAGE, f"{self._base}/execAutomation did not answer with JSON: is it a test agent?"
                ) from exc
            spent = self._clock() - self._started
            if spent + delay > self._options.retry_budget_s:
                raise _Stop(EXIT_UNREACHABLE, f"{problem}; gave up after {spent:.0f}s of retries")
            self._warn(f"{problem}; retrying in {delay:g}s")
            self._sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_S)
        return self._accepted(answer)

    def _accepted(self, answer: Any) -> _Run:
        if not isinstance(answer, dict):
            raise _Stop(
                EXIT_USAGE, f"{self._base}/execAutomation did not answer with a JSON object: is it a test agent?"
            )
        if str(answer.get("status", "")).lower() != "pass":
            error = answer.get("error") or answer.get("message") or "no reason given"
            raise _Stop(EXIT_USAGE, f"the server refused the execution request: {error}")
        status_link = answer.get("runningStatusLink")
        if not isinstance(status_link, str) or not status_link:
            raise _Stop(EXIT_USAGE, "the server accepted the request but gave no runningStatusLink to poll")
        status_link = urljoin(self._base + "/", status_link)
        execution_id = (
            answer.get("executionListId")
            or parse_qs(urlsplit(status_link).query).get("executionListId", ["unknown"])[0]
        )
        report = answer.get("reportLink")
        report_link = urljoin(self._base + "/", str(report)) if report else ""
        return _Run(execution_id=str(execution_id), report_link=report_link, status_link=status_link)

    def _poll(self, run: _Run) -> dict[str, Any]:
        timeout = self._options.timeout_s
        deadline = None if timeout is None else self._started + timeout
        shown: tuple[str, str] | None = None
        down_since: float | None = None
        while True:
            try:
                url, params = _split(run.status_link)
                document = self._http.request("GET", url, params=params)
                down_since = None
            except (WireUnavailable, WireError) as exc:
                if isinstance(exc, WireError) and not exc.retryable:
                    code = EXIT_USAGE if exc.status in (401, 403) else EXIT_FAILED
                    raise _Stop(code, f"polling execution {run.execution_id} failed: {exc.message}") from exc
                now = self._clock()
                if down_since is None:
                    down_since = now
                    self._warn(f"the server is not answering ({exc}); still waiting")
                if deadline is None and now - down_since > self._options.outage_limit_s:
                    raise _Stop(EXIT_UNREACHABLE, f"the server stopped answering {now - down_since:.0f}s ago") from exc
                document = None
            except ValueError as exc:
                raise _Stop(EXIT_FAILED, f"{run.status_link} did not answer with JSON") from exc
            if isinstance(document, dict):
                run.last = document
                status = str(document.get("status") or "Unknown")
                progress = str(document.get("Completed") or "")
                if (status, progress) != shown:
                    shown = (status, progress)
                    self._say(f"[{self._elapsed()}] {status} {progress}".rstrip())
                if status.lower() == "completed":
                    return document
            now = self._clock()
            if deadline is not None and now >= deadline:
                raise _Stop(
                    EXIT_TIMEOUT,
                    f"--timeout of {timeout:g}s reached: stopped waiting; execution {run.execution_id} goes on "
                    f"on the server (last status {run.last.get('status', 'unknown')})",
                )
            wait = self._options.poll_interval_s
            self._sleep(wait if deadline is None else max(0.0, min(wait, deadline - now)))

    def _elapsed(self) -> str:
        seconds = int(self._clock() - self._started)
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"

    def _results(self, run: _Run, final: dict[str, Any], overall: str) -> dict[str, int]:
        """Write the JUnit when asked; the counts for the output variables."""
        summary = final.get("summary")
        counts = _summary_counts(summary) if isinstance(summary, dict) else None
        path = self._options.junit_path
        if path is None and counts is not None:
            return counts
        document = self._server_junit(run) if path is not None else None
        cases: list[Case] = []
        if document is None:
            cases = self._report_cases(run)
            if not cases:
                message = final.get("message")
                cases = [
                    run_case(key=self._options.key, execution_id=run.execution_id, overall=overall, message=message)
                ]
            document = junit_document(cases, suite_name=self._options.key)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(document)
            written = _junit_counts(path, run.execution_id)
            self._say(f"JUnit written to {path}")
            return counts or written or _case_counts(cases)
        return _case_counts(cases)

    def _server_junit(self, run: _Run) -> bytes | None:
        try:
            data = self._http.download(f"{self._base}/reports/junit", params={"executionListId": run.execution_id})
        except WireError as exc:
            reason = f"HTTP {exc.status}" if exc.status == 404 else str(exc)
            self._say(f"the server has no JUnit for this run ({reason}); writing one from its report")
            return None
        except WireUnavailable as exc:
            self._warn(f"could not download the JUnit ({exc}); writing one from the report")
            return None
        if looks_like_junit(data):
            return data
        self._say("the server's JUnit answer is not a JUnit document; writing one from its report")
        return None

    def _report_cases(self, run: _Run) -> list[Case]:
        if not run.report_link:
            return []
        try:
            url, params = _split(run.report_link)
            return extract_cases(self._http.request("GET", url, params=params))
        except (WireError, WireUnavailable, ValueError) as exc:
            self._warn(f"could not read the report ({exc})")
            return []

    def _variables(self, run: _Run, *, status: str, counts: dict[str, int] | None) -> dict[str, str]:
        values = counts or {"passed": 0, "failed": 0, "total": 0}
        return {
            "TEST_STATUS": status,
            "TEST_EXECUTION_ID": run.execution_id,
            "TEST_REPORT_LINK": run.report_link,
            "TEST_PASSED": str(values["passed"]),
            "TEST_FAILED": str(values["failed"]),
            "TEST_TOTAL": str(values["total"]),
        }

    def _publish(self, variables: dict[str, str]) -> None:
        lines = [f"{name}={' '.join(value.split())}" for name, value in variables.items()]
        for line in lines:
            self._say(line)
        if self._options.env_file is not None:
            self._options.env_file.parent.mkdir(parents=True, exist_ok=True)
            self._options.env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _split(link: str) -> tuple[str, dict[str, str | int]]:
    """A link as URL and query parameters: the HTTP client replaces a URL's query with the params it is given."""
    parts = urlsplit(link)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), dict(parse_qsl(parts.query))


def _summary_counts(summary: dict[str, Any]) -> dict[str, int] | None:
    try:
        tests, passed = int(summary["tests"]), int(summary["passed"])
        failed = int(summary.get("failed", 0)) + int(summary.get("errors", 0))
    except (KeyError, TypeError, ValueError):
        return None
    # A run that crashed, timed out or never found its reports counts no tests; its JUnit (one case standing for
    # the run) is then what the step's outputs must agree with.
    return {"passed": passed, "failed": failed, "total": tests} if tests else None


def _junit_counts(path: Path, execution_id: str) -> dict[str, int] | None:
    try:
        summary = parse_file(path, JUnitContext(execution_id=execution_id)).summary
    except JUnitError:
        return None
    return {"passed": summary.passed + summary.flaky, "failed": summary.failed + summary.errors, "total": summary.cases}


def _case_counts(cases: list[Case]) -> dict[str, int]:
    failed = sum(1 for case in cases if case.outcome in ("failed", "error"))
    passed = sum(1 for case in cases if case.outcome == "passed")
    return {"passed": passed, "failed": failed, "total": len(cases)}
