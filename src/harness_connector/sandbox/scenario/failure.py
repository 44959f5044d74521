"""The shape of a failure family: how a kind of failure looks in Harness and in the step log, and how it occurs.

Families are data (`families_network.py`, `families_runner.py`, `families_change.py`, `families_quality.py`);
the generator reads `mode` and `rate` to decide where they strike, and the log renderer reads `lines` to print
them. Adding a family is adding an entry.

`lines` maps a lookup key to the lines printed before the step fails. The renderer tries the step's template id
(`install:npm`), then its toolchain (`npm`), then its role (`install`), then `*`. A line `---` separates
variants (an npm outage may time out or answer 503); a line starting with `*` is printed once per failing test.
The line syntax is the one of `template.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["CATEGORIES", "MODES", "RUN_STEP_MESSAGE", "FailureFamily"]

CATEGORIES = (
    "dependency_registry_outage",
    "network",
    "rate_limit",
    "runner_environment",
    "timeout",
    "authentication",
    "configuration",
    "compile_error",
    "test_failure",
    "deployment",
    "approval_rejected",
    "unknown",
)

# random: each eligible step fails with probability `rate`.
# window: `rate` windows per 30 days, during which eligible steps fail with probability `hit_rate`.
# main_regression: `rate` breaking commits per 30 days on a repository's main branch, each fixed by a later commit.
# pr_regression: each pull-request commit breaks with probability `rate`; the next commit of the PR fixes it.
# test: decided by the test catalogue (flaky tests, tests broken by a commit).
# approval: decided by the approver (`rate` is the share of approvals that end this way).
# incident: a bad release, caught by canary verification.
MODES = ("random", "window", "main_regression", "pr_regression", "test", "approval", "incident")

# What Harness shows for a Run or plugin step whose command exited non-zero (lite-engine's multierror text).
RUN_STEP_MESSAGE = "1 error occurred:\n\t* exit status {exit_code}"


def _frozen(mapping: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class FailureFamily:
    """One recognisable kind of failure."""

    id: str
    category: str
    transient: bool
    failure_types: tuple[str, ...]
    message: str
    lines: Mapping[str, tuple[str, ...]]
    roles: tuple[str, ...]
    toolchains: tuple[str, ...] = ()  # empty: any toolchain
    mode: str = "random"
    rate: float = 0.0
    pr_rate: float = 0.0  # share of pull-request commits that break this way (families a change can cause)
    window_minutes: tuple[int, int] = (30, 90)
    hit_rate: float = 0.9
    step_status: str = "Failed"
    fail_at: tuple[float, float] = (0.2, 0.9)  # share of the step's usual duration after which it fails
    exit_code: int = 1
    runs_step: bool = True  # False: Harness fails the step before its command starts, so its log has no output
    host: str = ""  # the remote host involved, for telemetry around windows
    commits: tuple[str, str] = ("", "")  # breaking and fixing commit messages of regressions
    fix_hours: tuple[float, float] = (2.0, 20.0)  # how long a regression on main stays broken
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    parsed: Mapping[str, tuple[tuple[str, ...], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"family {self.id}: unknown category {self.category!r}")
        if self.mode not in MODES:
            raise ValueError(f"family {self.id}: unknown mode {self.mode!r}")
        object.__setattr__(self, "lines", _frozen(self.lines))
        object.__setattr__(self, "choices", _frozen(self.choices))
        parsed = {key: _split_variants(lines) for key, lines in self.lines.items()}
        object.__setattr__(self, "parsed", MappingProxyType(parsed))

    def variants(self, *keys: str) -> tuple[tuple[str, ...], ...]:
        """The line variants for the first key that has lines (then `*`); empty when none applies."""
        for key in (*keys, "*"):
            found = self.parsed.get(key)
            if found is not None:
                return found
        return ()

    def applies_to(self, role: str, toolchain: str) -> bool:
        """True when a step of `role` built with `toolchain` can fail this way."""
        return role in self.roles and (not self.toolchains or toolchain in self.toolchains)


def _split_variants(lines: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    variants: list[tuple[str, ...]] = []
    current: list[str] = []
    for line in lines:
        if line == "---":
            variants.append(tuple(current))
            current = []
        else:
            current.append(line)
    variants.append(tuple(current))
    return tuple(variants)
