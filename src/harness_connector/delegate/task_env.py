"""What a task's script sees: its environment, and the wrapper that hands its output variables back.

The delegate's own environment holds its token (`DELEGATE_TOKEN`) and whatever else the operator set for the
delegate itself; a step must not read those. So a step starts from a short list of harmless variables (where
programs are, the locale, the proxy), then the step's own `environment`, then the `HARNESS_*` variables that
Harness CI gives every step, which the delegate sets last so a step cannot be told a wrong id.

Output variables: the script runs behind a `trap ... EXIT` that writes each declared variable that is set, as
NUL-separated name/value pairs (a shell value cannot hold NUL, so any value survives, newlines included), to a
file outside the workspace. The trap runs on `exit 1` and on errors under `set -e` too; it does not run when the
process is killed (a timed-out or aborted step exports nothing), nor if the script replaces the EXIT trap.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from harness_connector.delegate.protocol import TaskPayload

__all__ = [
    "SAFE_ENV_NAMES",
    "base_environment",
    "read_outputs",
    "task_environment",
    "valid_env_name",
    "wrap_script",
]

SAFE_ENV_NAMES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An outputs file bigger than this was not written by the trap alone; it is read no further.
_MAX_OUTPUTS_BYTES = 4 * 1024 * 1024


def valid_env_name(name: str) -> bool:
    """A name a shell can assign and export."""
    return bool(_NAME.fullmatch(name))


def base_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The delegate's variables a step may inherit: `SAFE_ENV_NAMES` only."""
    return {name: environ[name] for name in SAFE_ENV_NAMES if name in environ}


def task_environment(
    payload: TaskPayload,
    base: Mapping[str, str],
    workspace: Path,
    *,
    warn: Callable[[str], None] = lambda text: None,
) -> dict[str, str]:
    """base + the step's environment + the HARNESS_* ids, later ones winning."""
    env = dict(base)
    for name, value in payload.environment.items():
        if not valid_env_name(name) or "\0" in value:
            warn(f"environment variable {name!r} is not a valid name or holds a NUL byte; it is not set")
            continue
        env[name] = value
    env.update(
        {
            "HARNESS_ACCOUNT_ID": payload.account_id,
            "HARNESS_ORG_ID": payload.org_identifier,
            "HARNESS_PROJECT_ID": payload.project_identifier,
            "HARNESS_PIPELINE_ID": payload.pipeline_identifier,
            "HARNESS_BUILD_ID": str(payload.run_sequence),
            "HARNESS_EXECUTION_ID": payload.plan_execution_id,
            "HARNESS_STAGE_ID": payload.stage_identifier,
            "HARNESS_STEP_ID": payload.step_identifier,
            "HARNESS_TASK_ID": payload.delegate_task_id,
            "HARNESS_WORKSPACE": str(workspace),
        }
    )
    return env


def wrap_script(script: str, output_variables: Iterable[str], outputs_file: Path) -> str:
    """The script to run: the step's own, behind the EXIT trap that saves its output variables."""
    names = [name for name in output_variables if valid_env_name(name)]
    if not names:
        return script
    writes = "\n".join(
        f"    if [ -n \"${{{name}+x}}\" ]; then printf '%s\\0%s\\0' '{name}' \"${name}\"; fi" for name in names
    )
    return (
        "__harness_save_outputs() {\n"
        "  {\n"
        f"{writes}\n"
        f"  }} > {shlex.quote(str(outputs_file))} 2>/dev/null || true\n"
        "}\n"
        "trap __harness_save_outputs EXIT\n"
        f"{script}\n"
    )


def read_outputs(outputs_file: Path, output_variables: Iterable[str]) -> dict[str, str]:
    """The declared variables the trap saved; empty when it never ran."""
    try:
        with outputs_file.open("rb") as raw:
            data = raw.read(_MAX_OUTPUTS_BYTES)
    except OSError:
        return {}
    fields = data.split(b"\0")
    wanted = set(output_variables)
    found: dict[str, str] = {}
    for index in range(0, len(fields) - 1, 2):
        name = fields[index].decode("utf-8", errors="replace")
        if name in wanted:
            found[name] = fields[index + 1].decode("utf-8", errors="replace")
    return found
