"""The bridge's decisions against a scripted server: progress lines, retries, outages, timeouts, and JUnit for a
server (like Avo Assure) that has no JUnit endpoint. The clock only moves when the bridge sleeps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lxml import etree

from harness_connector.delegate.bridge import Bridge, BridgeOptions, check_server_url
from harness_connector.delegate.wire import WireError, WireUnavailable

SERVER = "http://avo.example:8080"
STATUS_LINK = f"{SERVER}/runningStatus?executionListId=e-1"
REPORT_LINK = f"{SERVER}/reports/devOpsReport?configurekey=web&executionListId=e-1"
ACCEPTED = {
    "status": "pass",
    "message": "ok",
    "error": None,
    "reportLink": REPORT_LINK,
    "runningStatusLink": STATUS_LINK,
    "executionListId": "e-1",
}


def _refused() -> WireUnavailable:
    try:
        raise WireUnavailable("POST /execAutomation: cannot connect (ConnectError)") from httpx2.ConnectError("no")
    except WireUnavailable as exc:
        return exc


def _status(state: str, progress: str, overall: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"status": state, "Completed": progress, "overallstatus": overall, **extra}


class Server:
    """Answers per URL, in order (the last answer repeats; an exception is raised); records what was asked."""

    def __init__(self, answers: Mapping[str, Sequence[Any]]) -> None:
        self._answers = {url: list(queue) for url, queue in answers.items()}
        self.calls: list[tuple[str, str, dict[str, str | int]]] = []

    def _next(self, method: str, url: str, params: Mapping[str, str | int] | None) -> Any:
        self.calls.append((method, url, dict(params or {})))
        queue = self._answers.get(url)
        if not queue:
            raise WireError(404, "HTTP_ERROR", f"no route {url}")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def request(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None, json_body: Any = None
    ) -> Any:
        return self._next(method, path, params)

    def download(self, path: str, *, params: Mapping[str, str | int] | None = None) -> bytes:
        answer = self._next("GET", path, params)
        assert isinstance(answer, bytes)
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _bridge(server: Server, clock: Clock, said: list[str], warned: list[str], **options: Any) -> Callable[[], int]:
    settings = BridgeOptions(server=SERVER, key="web", **options)
    bridge = Bridge(server, settings, say=said.append, warn=warned.append, clock=clock, sleep=clock.sleep)
    return bridge.run


def _run(answers: Mapping[str, Sequence[Any]], **options: Any) -> tuple[int, list[str], list[str], Clock, Server]:
    server, clock = Server(answers), Clock()
    said: list[str] = []
    warned: list[str] = []
    code = _bridge(server, clock, said, warned, **options)()
    return code, said, warned, clock, server


def test_a_progress_line_is_printed_only_when_the_status_or_progress_changes() -> None:
    statuses = [
        _status("Queued", "0/3"),
        _status("Queued", "0/3"),
        _status("Inprogress", "1/3"),
        _status("Inprogress", "1/3"),
        _status("Inprogress", "2/3"),
        _status("Completed", "3/3", "Pass", summary={"tests": 3, "passed": 3, "failed": 0, "errors": 0}),
    ]

    code, said, _, clock, server = _run(
        {f"{SERVER}/execAutomation": [ACCEPTED], f"{SERVER}/runningStatus": statuses}, poll_interval_s=5
    )

    assert code == 0
    assert [line for line in said if line.startswith("[")] == [
        "[00:00] Queued 0/3",
        "[00:10] Inprogress 1/3",
        "[00:20] Inprogress 2/3",
        "[00:25] Completed 3/3",
    ]
    assert clock.sleeps == [5, 5, 5, 5, 5]
    assert server.calls[1] == ("GET", f"{SERVER}/runningStatus", {"executionListId": "e-1"})
    assert said[-6:] == [
        "TEST_STATUS=Pass",
        "TEST_EXECUTION_ID=e-1",
        f"TEST_REPORT_LINK={REPORT_LINK}",
        "TEST_PASSED=3",
        "TEST_FAILED=0",
        "TEST_TOTAL=3",
    ]


def test_a_server_without_a_junit_endpoint_gets_junit_from_its_report_rows(tmp_path: Path) -> None:
    report = {
        "overallstatus": "Fail",
        "modules": [
            {
                "moduleName": "checkout",
                "scenarios": [
                    {"scenarioName": "pay by card", "status": "Pass"},
                    {"scenarioName": "pay by voucher", "status": "Fail", "message": "voucher field missing"},
                    {"scenarioName": "gift wrap", "status": "Skipped"},
                ],
            }
        ],
    }
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [ACCEPTED],
        f"{SERVER}/runningStatus": [_status("Completed", "1/1", "Fail")],
        f"{SERVER}/reports/devOpsReport": [report],
    }

    code, said, _, _, _ = _run(answers, junit_path=tmp_path / "junit.xml", env_file=tmp_path / "vars.env")

    root = etree.parse(str(tmp_path / "junit.xml")).getroot()
    cases = [(case.get("name"), [child.tag for child in case]) for case in root.iter("testcase")]
    assert code == 1
    assert cases == [("pay by card", []), ("pay by voucher", ["failure"]), ("gift wrap", ["skipped"])]
    failure = root.find(".//failure")
    assert failure is not None and failure.get("message") == "voucher field missing"
    assert (tmp_path / "vars.env").read_text().splitlines()[3:] == ["TEST_PASSED=1", "TEST_FAILED=1", "TEST_TOTAL=3"]
    assert "the server has no JUnit for this run (HTTP 404); writing one from its report" in said


def test_a_run_without_per_test_data_becomes_one_test_case_with_the_overall_status(tmp_path: Path) -> None:
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [ACCEPTED],
        f"{SERVER}/runningStatus": [_status("Completed", "1/1", "Terminate", message="browser crashed")],
        f"{SERVER}/reports/junit": [b"<!DOCTYPE html><html><body>Avo Assure</body></html>"],
        f"{SERVER}/reports/devOpsReport": [{"overallstatus": "Terminate"}],
    }

    code, _, _, _, _ = _run(answers, junit_path=tmp_path / "junit.xml")

    root = etree.parse(str(tmp_path / "junit.xml")).getroot()
    case = root.find(".//testcase")
    assert code == 1
    assert root.get("tests") == "1"
    assert case is not None and case.get("classname") == "web" and case.get("name") == "whole run"
    assert [(child.tag, child.get("message")) for child in case] == [("error", "browser crashed (execution e-1)")]


def test_a_crashed_run_s_empty_summary_does_not_hide_the_case_that_stands_for_it(tmp_path: Path) -> None:
    empty = {"tests": 0, "passed": 0, "failed": 0, "errors": 0}
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [ACCEPTED],
        f"{SERVER}/runningStatus": [_status("Completed", "0/0", "Error", message="runner crashed", summary=empty)],
        f"{SERVER}/reports/junit": [b"<!DOCTYPE html><html><body>no report</body></html>"],
        f"{SERVER}/reports/devOpsReport": [{"overallstatus": "Error"}],
    }

    code, _, _, _, _ = _run(answers, junit_path=tmp_path / "junit.xml", env_file=tmp_path / "vars.env")

    assert code == 1
    assert etree.parse(str(tmp_path / "junit.xml")).getroot().get("tests") == "1"
    outputs = (tmp_path / "vars.env").read_text().splitlines()
    assert outputs[-3:] == ["TEST_PASSED=0", "TEST_FAILED=1", "TEST_TOTAL=1"]


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"status": "fail", "error": "Invalid key", "message": None}, "the server refused the execution request: "),
        (WireError(404, "UNKNOWN_KEY", "no execution profile has the key 'web'"), "no execution profile"),
        (WireError(401, "UNAUTHORIZED", "needs a bearer token"), "(pass --token?)"),
        ({"status": "pass"}, "gave no runningStatusLink"),
        (["not", "an", "object"], "did not answer with a JSON object"),
    ],
    ids=["avo-fail-200", "unknown-key", "no-token", "no-status-link", "not-an-object"],
)
def test_a_refused_trigger_exits_2_with_the_servers_reason(answer: Any, says: str) -> None:
    code, said, warned, _, server = _run({f"{SERVER}/execAutomation": [answer]})

    assert code == 2
    assert said == []
    assert len(warned) == 1 and says in warned[0]
    assert len(server.calls) == 1


def test_a_refused_connection_at_the_trigger_is_retried_with_backoff_until_the_budget_is_spent() -> None:
    code, said, warned, clock, _ = _run({f"{SERVER}/execAutomation": [_refused()]}, retry_budget_s=30)

    assert code == 4
    assert clock.sleeps == [0.5, 1, 2, 4, 8, 8]
    assert warned[-1].endswith("gave up after 24s of retries")
    assert said == []


def test_a_server_that_comes_up_during_the_retries_gets_the_request_once() -> None:
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [_refused(), WireError(503, "HTTP_ERROR", "starting"), ACCEPTED],
        f"{SERVER}/runningStatus": [_status("Completed", "1/1", "Pass")],
    }

    code, _, warned, clock, server = _run(answers)

    assert code == 0
    assert clock.sleeps == [0.5, 1]
    assert "answered HTTP 503" in warned[1]
    assert [call[1] for call in server.calls].count(f"{SERVER}/execAutomation") == 3


def test_a_trigger_that_got_no_answer_in_time_is_not_sent_again() -> None:
    try:
        raise WireUnavailable("POST /execAutomation: no answer in time") from httpx2.ReadTimeout("slow")
    except WireUnavailable as exc:
        timed_out = exc

    code, _, warned, clock, server = _run({f"{SERVER}/execAutomation": [timed_out]})

    assert code == 4
    assert clock.sleeps == []
    assert len(server.calls) == 1
    assert "may have started an execution anyway" in warned[0]


def test_a_server_down_while_polling_is_waited_out() -> None:
    down = WireUnavailable("GET /runningStatus: cannot connect (ConnectError)")
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [ACCEPTED],
        f"{SERVER}/runningStatus": [
            _status("Inprogress", "0/1"),
            down,
            down,
            WireError(502, "HTTP_ERROR", "bad gateway"),
            _status("Completed", "1/1", "Pass"),
        ],
    }

    code, said, warned, _, _ = _run(answers, poll_interval_s=2)

    assert code == 0
    assert [line for line in said if line.startswith("[")] == ["[00:00] Inprogress 0/1", "[00:08] Completed 1/1"]
    assert len([line for line in warned if "not answering" in line]) == 1


def test_a_server_down_for_longer_than_the_outage_limit_exits_4(tmp_path: Path) -> None:
    down = WireUnavailable("GET /runningStatus: cannot connect (ConnectError)")
    answers: dict[str, list[Any]] = {f"{SERVER}/execAutomation": [ACCEPTED], f"{SERVER}/runningStatus": [down]}

    code, _, warned, clock, _ = _run(answers, poll_interval_s=5, outage_limit_s=60, env_file=tmp_path / "v.env")

    assert code == 4
    assert 60 < clock.now - 1000 <= 70
    assert "stopped answering" in warned[-1]
    assert (tmp_path / "v.env").read_text().splitlines()[0] == "TEST_STATUS=Error"


def test_the_timeout_stops_polling_at_the_deadline_and_exits_3(tmp_path: Path) -> None:
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [ACCEPTED],
        f"{SERVER}/runningStatus": [_status("Inprogress", "1/4")],
    }

    code, _, warned, clock, _ = _run(answers, poll_interval_s=4, timeout_s=10, env_file=tmp_path / "v.env")

    assert code == 3
    assert clock.sleeps == [4, 4, 2]
    assert "--timeout of 10s reached: stopped waiting; execution e-1 goes on on the server" in warned[-1]
    assert (tmp_path / "v.env").read_text().splitlines()[:2] == ["TEST_STATUS=Inprogress", "TEST_EXECUTION_ID=e-1"]


def test_an_execution_the_server_forgot_ends_the_wait_with_exit_1() -> None:
    answers: dict[str, list[Any]] = {
        f"{SERVER}/execAutomation": [ACCEPTED],
        f"{SERVER}/runningStatus": [WireError(404, "UNKNOWN_EXECUTION", "no execution with executionListId 'e-1'")],
    }

    code, _, warned, _, _ = _run(answers)

    assert code == 1
    assert "polling execution e-1 failed: no execution with executionListId 'e-1'" in warned[-1]


def test_relative_links_are_resolved_against_the_server_and_the_id_read_from_them() -> None:
    accepted = {"status": "pass", "runningStatusLink": "/runningStatus?executionListId=e-9", "reportLink": "/r?x=1"}

    code, said, _, _, _ = _run(
        {f"{SERVER}/execAutomation": [accepted], f"{SERVER}/runningStatus": [_status("Completed", "1/1", "Pass")]}
    )

    assert code == 0
    assert said[:3] == [
        "execution e-9 started for key 'web'",
        f"report: {SERVER}/r?x=1",
        f"status: {SERVER}/runningStatus?executionListId=e-9",
    ]


def test_no_wait_publishes_what_is_known_without_polling(tmp_path: Path) -> None:
    code, said, _, _, server = _run({f"{SERVER}/execAutomation": [ACCEPTED]}, wait=False)

    assert code == 0
    assert len(server.calls) == 1
    assert "TEST_STATUS=Queued" in said


@pytest.mark.parametrize(
    ("url", "fine"),
    [
        ("http://agent:8790", True),
        ("https://avo.example/base/", True),
        ("agent:8790", False),
        ("ftp://agent", False),
        ("http://agent:8790/?key=x", False),
        ("http://", False),
    ],
)
def test_server_urls_must_be_http_base_urls(url: str, fine: bool) -> None:
    assert (check_server_url(url) is None) == fine
