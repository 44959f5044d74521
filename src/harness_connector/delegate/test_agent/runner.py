"""One test run as a child process: started in its own process group, timed, killed whole, and accounted for.

The command runs in a new session, so it leads a process group of its own: a timeout, an abort or a leftover
background process is dealt with by signalling the whole group (the runner's browsers, servers and workers
included), never just the shell that started them. The child's stdout and stderr go to one log file, so nothing
blocks on a full pipe however much it prints.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness_connector.delegate.process_groups import end_marked_group, signal_group
from harness_connector.delegate.test_agent.profiles import Profile

__all__ = ["RunOutcome", "end_orphans", "log_tail", "run_command"]

_TERM_GRACE_S = 3.0
_WAIT_STEP_S = 0.2
_MARKER = "AVO_EXECUTION_ID"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """How the process ended. `exit_code` is None when it never started or a signal ended it."""

    exit_code: int | None = None
    signal_name: str | None = None
    timed_out: bool = False
    aborted: bool = False
    spawn_error: str | None = None


def run_command(
    profile: Profile,
    *,
    env: Mapping[str, str],
    log_path: Path,
    timeout_s: float,
    stop: threading.Event,
    on_started: Callable[[int], object],
    monotonic: Callable[[], float] = time.monotonic,
) -> RunOutcome:
    """Run the profile's command to its end, its timeout, or `stop` being set; `on_started` gets the pid."""
    argv = ["bash", "-c", profile.command] if isinstance(profile.command, str) else list(profile.command)
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(
                argv,
                cwd=profile.workdir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            return RunOutcome(spawn_error=f"command not found: {argv[0]}")
        except PermissionError:
            return RunOutcome(spawn_error=f"permission denied running {argv[0]} (is it executable?)")
        except OSError as exc:
            return RunOutcome(spawn_error=f"cannot start {argv[0]}: {exc.strerror or exc}")
    on_started(process.pid)
    deadline = monotonic() + timeout_s
    timed_out = aborted = False
    while True:
        try:
            process.wait(timeout=max(0.0, min(_WAIT_STEP_S, deadline - monotonic())))
            break
        except subprocess.TimeoutExpired:
            if stop.is_set() or monotonic() >= deadline:
                aborted = stop.is_set()
                timed_out = not aborted
                _end_group(process)
                break
    # A run may leave background processes behind (a server it started, a browser); they go with it.
    signal_group(process.pid, signal.SIGKILL)
    code = process.returncode
    if code is not None and code < 0:
        return RunOutcome(signal_name=_signal_name(-code), timed_out=timed_out, aborted=aborted)
    return RunOutcome(exit_code=code, timed_out=timed_out, aborted=aborted)


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, then SIGKILL if it is still there after the grace period."""
    signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=_TERM_GRACE_S)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def end_orphans(execution_id: str, pgid: int | None) -> int:
    """Kill what is left of a run an earlier agent process started; the number of processes signalled.

    Only the processes of the run's group that carry its `AVO_EXECUTION_ID` are ended (see `process_groups`).
    """
    if pgid is None:
        return 0
    return end_marked_group(pgid, _MARKER, execution_id)


def log_tail(log_path: Path, *, max_chars: int = 600) -> str:
    """The last lines of a run's log, for a message that says why it failed (quoted as data, never obeyed)."""
    try:
        with log_path.open("rb") as raw:
            raw.seek(max(0, log_path.stat().st_size - 4 * max_chars))
            text = raw.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    tail = "\n".join(lines[-5:])
    return tail[-max_chars:]
