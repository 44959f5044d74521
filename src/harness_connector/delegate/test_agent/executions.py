"""The execution queue: requests become records, records wait for a free slot, slots run profiles as processes.

At most `concurrency` runs go at once; the rest wait in arrival order as `Queued`. Every change of state is saved
before anyone can see it, so the status an agent serves is the status on disk, and an agent that restarts after a
crash finds every run it had. Runs the previous agent process left unfinished cannot be resumed (their process
was its child), so `start()` ends what is left of them and marks them Completed/Error with the reason: a caller
polling such a run gets an answer instead of `Inprogress` forever.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from harness_connector.delegate.test_agent.profiles import Profile
from harness_connector.delegate.test_agent.reports import (
    RunReport,
    find_run_reports,
    read_reports,
    write_merged_junit,
    write_report_json,
)
from harness_connector.delegate.test_agent.runner import RunOutcome, end_orphans, log_tail, run_command
from harness_connector.delegate.test_agent.store import (
    ExecutionRecord,
    ExecutionStore,
    OverallStatus,
    Summary,
    new_execution_id,
)

__all__ = ["Executions", "UnknownProfile", "judge", "timestamp"]

logger = logging.getLogger(__name__)

_PROGRESS = re.compile(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*")
_RESTARTED = "the test agent restarted while this ran; trigger it again"
_RESTARTED_QUEUED = "the test agent restarted before this started; trigger it again"


class UnknownProfile(LookupError):
    """No profile has the requested key."""


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the status document carries times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Executions:
    """The agent's runs: submitted, queued, running and finished, backed by an `ExecutionStore`."""

    def __init__(
        self,
        *,
        profiles: Mapping[str, Profile],
        store: ExecutionStore,
        base_env: Mapping[str, str],
        concurrency: int = 1,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.profiles = dict(profiles)
        self._store = store
        self._base_env = dict(base_env)
        self._concurrency = concurrency
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, ExecutionRecord] = {}
        self._finished: dict[str, threading.Event] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self) -> list[str]:
        """Load the stored runs, close those an earlier agent left unfinished, start the workers.

        Returns the ids of the runs that were closed as interrupted.
        """
        closed: list[str] = []
        for record in self._store.records():
            if record.status != "Completed":
                end_orphans(record.execution_list_id, record.pid)
                message = _RESTARTED if record.status == "Inprogress" else _RESTARTED_QUEUED
                record = self._closed(record, "Error", message)
                self._store.save(record)
                closed.append(record.execution_list_id)
                logger.warning("execution %s of '%s': %s", record.execution_list_id, record.key, message)
            self._records[record.execution_list_id] = record
        for number in range(self._concurrency):
            worker = threading.Thread(target=self._work, name=f"test-run-{number + 1}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return closed

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Abort running runs (their process groups are killed) and close queued ones as Aborted."""
        self._stop.set()
        for _ in self._workers:
            self._queue.put(None)
        deadline = time.monotonic() + timeout_s
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:
            waiting = [r for r in self._records.values() if r.status == "Queued"]
        for record in waiting:
            self._finish(self._closed(record, "Aborted", "the test agent stopped before this started"))

    def submit(self, key: str) -> ExecutionRecord:
        """Queue a run of the profile `key`.

        Raises:
            UnknownProfile: no profile has that key.
        """
        if key not in self.profiles:
            raise UnknownProfile(key)
        record = ExecutionRecord(
            executionListId=new_execution_id(), key=key, queuedAt=timestamp(self._clock()), Completed="0/1"
        )
        with self._lock:
            self._store.save(record)
            self._records[record.execution_list_id] = record
            self._finished[record.execution_list_id] = threading.Event()
        self._queue.put(record.execution_list_id)
        return record

    def get(self, execution_id: str) -> ExecutionRecord | None:
        """The run's record, with the progress the runner reported while it runs."""
        with self._lock:
            record = self._records.get(execution_id)
        if record is None or record.status != "Inprogress":
            return record
        progress = self._read_progress(execution_id)
        return record.model_copy(update={"completed": progress}) if progress else record

    def wait(self, execution_id: str, timeout_s: float) -> bool:
        """Block until the run completes or `timeout_s` passes; whether it completed."""
        with self._lock:
            record = self._records.get(execution_id)
            event = self._finished.get(execution_id)
        if record is None or record.status == "Completed" or event is None:
            return record is not None and record.status == "Completed"
        return event.wait(timeout_s)

    def counts(self) -> dict[str, int]:
        """How many runs are queued and running now."""
        with self._lock:
            states = [record.status for record in self._records.values()]
        return {"queued": states.count("Queued"), "running": states.count("Inprogress")}

    def run_dir(self, execution_id: str) -> Path:
        """Where the run's files are."""
        return self._store.run_dir(execution_id)

    def _read_progress(self, execution_id: str) -> str | None:
        try:
            text = (self._store.run_dir(execution_id) / "progress").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        match = _PROGRESS.fullmatch(text[:64])
        return f"{match.group(1)}/{match.group(2)}" if match else None

    def _work(self) -> None:
        while not self._stop.is_set():
            execution_id = self._queue.get()
            if execution_id is None or self._stop.is_set():
                return
            with self._lock:
                record = self._records[execution_id]
            try:
                self._run(record)
            except Exception as exc:  # a run must end in a status, whatever went wrong around it
                with self._lock:
                    current = self._records[execution_id]
                self._finish(self._closed(current, "Error", f"the test agent failed while handling this run: {exc}"))

    def _update(self, record: ExecutionRecord, **changes: object) -> ExecutionRecord:
        with self._lock:
            current = self._records[record.execution_list_id].model_copy(update=changes)
            self._store.save(current)
            self._records[current.execution_list_id] = current
        return current

    def _finish(self, record: ExecutionRecord) -> None:
        with self._lock:
            self._store.save(record)
            self._records[record.execution_list_id] = record
            event = self._finished.pop(record.execution_list_id, None)
        if event is not None:
            event.set()

    def _closed(self, record: ExecutionRecord, overall: OverallStatus, message: str) -> ExecutionRecord:
        return record.model_copy(
            update={
                "status": "Completed",
                "overall_status": overall,
                "ended_at": timestamp(self._clock()),
                "completed": "1/1",
                "message": message,
            }
        )

    def _run(self, record: ExecutionRecord) -> None:
        profile = self.profiles[record.key]
        folder = self._store.run_dir(record.execution_list_id)
        reports_dir = folder / "reports"
        reports_dir.mkdir(parents=True, exist_ok=True)
        log_path = folder / "output.log"
        started = self._clock()
        record = self._update(record, status="Inprogress", started_at=timestamp(started))
        logger.info("execution %s of '%s' started", record.execution_list_id, record.key)
        env = {
            **self._base_env,
            **profile.env,
            "TEST_REPORTS_DIR": str(reports_dir),
            "TEST_PROGRESS_FILE": str(folder / "progress"),
            "AVO_EXECUTION_ID": record.execution_list_id,
            "AVO_PROFILE_KEY": record.key,
        }
        outcome = run_command(
            profile,
            env=env,
            log_path=log_path,
            timeout_s=profile.timeout,
            stop=self._stop,
            on_started=lambda pid: self._update(record, pid=pid),
        )
        files = find_run_reports(
            reports_dir=reports_dir,
            workdir=profile.workdir,
            patterns=profile.reports,
            since=started.timestamp(),
            executions_root=self._store.root,
        )
        report = read_reports(files, execution_id=record.execution_list_id, relative_to=[folder, profile.workdir])
        if report.files:
            write_merged_junit(report, folder / "junit.xml", name=record.key)
        write_report_json(report, folder / "report.json")
        overall, message = judge(outcome, report, tail=log_tail(log_path), timeout_s=profile.timeout)
        tests = report.summary.tests
        final = self._records[record.execution_list_id].model_copy(
            update={
                "status": "Completed",
                "overall_status": overall,
                "ended_at": timestamp(self._clock()),
                "exit_code": outcome.exit_code,
                "summary": report.summary,
                "completed": f"{tests}/{tests}" if tests else "1/1",
                "message": message,
            }
        )
        self._finish(final)
        logger.info("execution %s of '%s' ended %s: %s", record.execution_list_id, record.key, overall, message)


def judge(outcome: RunOutcome, report: RunReport, *, tail: str, timeout_s: float) -> tuple[OverallStatus, str]:
    """The run's overall status and a message that says why, from how the process ended and what it reported."""
    summary = report.summary
    counts = _counts(summary)
    refused = f"; {len(report.refused)} report(s) refused: " + "; ".join(report.refused[:3]) if report.refused else ""
    said = f"; last output: {tail}" if tail else ""
    if outcome.spawn_error:
        return "Error", outcome.spawn_error
    if outcome.aborted:
        return "Aborted", f"the test agent stopped while this ran; {counts}"
    if outcome.timed_out:
        return "Timeout", f"killed after the profile's timeout of {timeout_s:g}s; {counts}{refused}"
    if outcome.signal_name:
        return "Error", f"the runner was killed by {outcome.signal_name}; {counts}{said}"
    code = outcome.exit_code
    if summary.failed or summary.errors:
        return "Fail", f"{counts}; exit code {code}{refused}"
    if code != 0:
        if summary.tests == 0:
            why = " (command not found)" if code == 127 else ""
            return "Error", f"the runner exited with code {code}{why} and reported no tests{refused}{said}"
        return "Fail", f"{counts}, but the runner exited with code {code}{refused}"
    if report.refused:
        return "Error", f"{counts}, but not every report could be read{refused}"
    if summary.tests == 0:
        return "Pass", "the runner exited with code 0 and reported no tests"
    return "Pass", counts


def _counts(summary: Summary) -> str:
    if summary.tests == 0:
        return "no tests reported"
    return (
        f"{summary.tests} tests: {summary.passed} passed, {summary.failed} failed, "
        f"{summary.errors} errors, {summary.skipped} skipped"
    )
