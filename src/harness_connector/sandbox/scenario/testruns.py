"""Running a service's test suite: which tests fail on an attempt (broken by a commit, or a flake), how long it
takes, and the JUnit rows ti-service stores for it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from harness_connector.sandbox.model import TestCaseRow
from harness_connector.sandbox.scenario.faults import Regression
from harness_connector.sandbox.scenario.plans import TestAttempt
from harness_connector.sandbox.scenario.testcatalog import FLAKY_MESSAGES, TestSpec, catalog

__all__ = ["attempt", "broken_indexes", "failed_test", "suite_duration", "test_rows"]

_FAILURE_TYPES = {
    "junit5": "org.opentest4j.AssertionFailedError",
    "pytest": "AssertionError",
    "gotest": "Failure",
    "jest": "Error",
    "playwright": "TimeoutError",
}


def broken_indexes(specs: tuple[TestSpec, ...], regressions: Iterable[Regression]) -> dict[int, tuple[str, str]]:
    """Catalogue index -> (assertion message, regression id) of the tests the regressions break."""
    index = {(spec.class_name, spec.name): i for i, spec in enumerate(specs)}
    broken: dict[int, tuple[str, str]] = {}
    for reg in regressions:
        for spec, message in zip(reg.tests, reg.messages, strict=True):
            broken[index[(spec.class_name, spec.name)]] = (message, reg.id)
    return broken


def attempt(
    service: str, stage: str, step: str, broken: dict[int, tuple[str, str]], rng: random.Random, steady: bool = False
) -> TestAttempt:
    """One run of the suite: broken tests fail, flaky tests fail at their rate (none when `steady`: the run must
    reach a later step), and a failing flake runs longer."""
    durations: list[int] = []
    failures: dict[int, tuple[str, bool]] = {}
    for i, spec in enumerate(catalog(service)):
        ms = int(spec.base_ms * (0.6 + rng.random() * 0.8))
        if spec.skipped:
            ms = 0
        elif i in broken:
            failures[i] = (broken[i][0], False)
        elif spec.flaky_rate and rng.random() < spec.flaky_rate and not steady:
            failures[i] = (rng.choice(FLAKY_MESSAGES[spec.style]), True)
            ms = int(ms * 1.8)
        durations.append(ms)
    return TestAttempt(service, stage, step, durations, failures)


def suite_duration(run: TestAttempt, rng: random.Random) -> int:
    """Wall time of an attempt: runners use a few workers, plus start-up and report upload."""
    specs = catalog(run.service)
    workers = 3 if specs and specs[0].style == "playwright" else 4
    return sum(run.durations) // workers + int(rng.uniform(8, 25) * 1000)


def failed_test(spec: TestSpec, duration: int, message: str) -> dict[str, Any]:
    """A failing test as the log renderer and the ground truth name it."""
    return {
        "suite": spec.suite,
        "class_name": spec.class_name,
        "name": spec.name,
        "file_name": spec.file_name,
        "method": spec.method,
        "duration_ms": duration,
        "message": message,
    }


def test_rows(run: TestAttempt) -> list[TestCaseRow]:
    """The JUnit rows of one attempt, in catalogue order."""
    rows = []
    for index, spec in enumerate(catalog(run.service)):
        failure = run.failures.get(index)
        status, message, kind, stderr = "passed", None, None, None
        if spec.skipped:
            status = "skipped"
        elif failure is not None:
            message = failure[0]
            status = "error" if "refused" in message or "Exception" in message else "failed"
            kind = _FAILURE_TYPES.get(spec.style, "Failure")
            stderr = f"{kind}: {message}\n\tat {spec.class_name}.{spec.method}({spec.file_name.rsplit('/', 1)[-1]})"
        # Trusted values built here: skip validation, which would dominate the generator's time.
        rows.append(
            TestCaseRow.model_construct(
                suite=spec.suite,
                class_name=spec.class_name,
                name=spec.name,
                status=status,
                duration_ms=run.durations[index],
                file_name=spec.file_name,
                message=message,
                failure_type=kind,
                stdout=None,
                stderr=stderr,
            )
        )
    return rows
