"""Process groups: signalling a whole group, and ending what a killed agent process left running.

Both agents start each script or test command in a new session, so it leads a process group of its own. When the
agent itself is killed (SIGKILL, an out-of-memory kill), that group keeps running with nobody to watch it. On its
next start the agent ends such leftovers, but a process group id alone is not enough to know them by: the id may
have been handed to an unrelated process since. So a process is ended only when it is in the group *and* carries
the run's marker variable in its environment (`/proc/<pid>/environ`, as it was at exec; children inherit it). An
agent also records its own start time beside its pid, so a pid that was recycled is not taken for the agent that
started the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

__all__ = ["end_marked_group", "process_start_time", "signal_group"]


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to every process in the group; a group that is gone, or not ours to signal, is left alone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def end_marked_group(pgid: int, marker_name: str, marker_value: str) -> int:
    """KILL the processes of group `pgid` whose environment holds `marker_name=marker_value`; how many there were.

    Without /proc (not Linux) nothing is found and nothing is killed.
    """
    marker = f"{marker_name}={marker_value}".encode()
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return 0
    killed = 0
    for entry in entries:
        pid = int(entry)
        try:
            if os.getpgid(pid) != pgid or marker not in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                continue
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except (OSError, ValueError):
            continue
    return killed


def process_start_time(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`); None when unknown.

    A pid with the same start time is the same process; the pair survives pid reuse where the pid alone does not.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are plain.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None
