"""Each service's test suite: stable names in its language's conventions, with the flaky and slow tests marked.

The catalogue depends only on the service (not on the scenario seed), so test names, the flaky set and their
flake rates are the same in every scenario; the seed decides when they fail. Names follow what each runner writes
to JUnit XML: Java classes and `method()` names, Go packages and `TestX/sub_case`, pytest node ids, Jest
`describe › it` titles, Playwright spec titles.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import cache

from harness_connector.sandbox.scenario.ids import derive_seed
from harness_connector.sandbox.scenario.world import SERVICES, ServiceSpec

__all__ = ["BROKEN_MESSAGES", "FLAKY_MESSAGES", "TestSpec", "catalog", "source_files"]

_VERBS = (
    "rejects",
    "accepts",
    "computes",
    "retries",
    "rounds",
    "persists",
    "publishes",
    "parses",
    "validates",
    "expires",
    "caches",
    "merges",
    "splits",
    "reverses",
    "serialises",
    "deduplicates",
    "orders",
    "limits",
    "paginates",
    "emits",
    "reconciles",
    "normalises",
)
_ADJECTIVES = (
    "empty",
    "duplicate",
    "expired",
    "partial",
    "negative",
    "large",
    "unicode",
    "concurrent",
    "stale",
    "missing",
    "zero",
    "future",
    "malformed",
    "cached",
    "pending",
    "locked",
)
_NOUNS = ("request", "entry", "batch", "event", "amount", "token", "cursor", "record", "window", "payload", "limit")
_KINDS = ("Service", "Repository", "Controller", "Client", "Mapper", "Validator", "Handler", "Policy")
_E2E = (
    "guest pays with saved card",
    "applies promo code at checkout",
    "keeps cart after login",
    "filters by facet",
    "shows delivery estimate",
    "edits shipping address",
    "recovers from declined card",
    "searches with typo",
    "reorders from history",
    "switches locale",
    "removes last item",
    "paginates results",
)

FLAKY_MESSAGES: dict[str, tuple[str, ...]] = {
    "junit5": (
        "expected: <SETTLED> but was: <PENDING>",
        "Condition not satisfied within 5 seconds: event was not published",
        "java.net.ConnectException: Connection refused (localhost:54321)",
    ),
    "gotest": (
        "context deadline exceeded",
        "expected 3 messages, received 2",
        "dial tcp 127.0.0.1:6379: connect: connection refused",
    ),
    "pytest": (
        "AssertionError: assert 'queued' == 'done'",
        "TimeoutError: broker did not ack within 2.0s",
        "ConnectionRefusedError: [Errno 111] Connection refused",
    ),
    "jest": (
        'thrown: "Exceeded timeout of 5000 ms for a test."',
        "expect(received).toHaveBeenCalledTimes(expected): Expected 1, Received 0",
    ),
    "playwright": (
        "Timeout 30000ms exceeded while waiting for locator('[data-test=\"order-confirmation\"]')",
        "expect(locator).toBeVisible() failed: element is detached from the DOM",
    ),
}
BROKEN_MESSAGES: dict[str, tuple[str, ...]] = {
    "junit5": (
        "expected: <1050> but was: <1049>",
        "expected: <true> but was: <false>",
        "Unexpected exception type thrown, expected: <IllegalArgumentException> but was: <NullPointerException>",
    ),
    "gotest": (
        "got 1049, want 1050",
        "unexpected error: ledger: cursor out of range",
        'mismatch (-want +got): -"EUR" +"eur"',
    ),
    "pytest": ("AssertionError: assert 1049 == 1050", "KeyError: 'merchant_risk'", "AssertionError: assert 0.71 < 0.5"),
    "jest": (
        'expect(received).toEqual(expected) // deep equality: Expected "€10.50", Received "10.5 EUR"',
        "TypeError: Cannot read properties of undefined (reading 'totalCents')",
    ),
    "playwright": (
        'expect(locator).toHaveText(expected) failed: Expected "Order confirmed", Received "Payment failed"',
    ),
}

_SERVICES = {svc.id: svc for svc in SERVICES}
_STYLE = {
    "test:maven": "junit5",
    "test:gradle": "junit5",
    "test:go": "gotest",
    "test:pip": "pytest",
    "test:npm": "jest",
    "test:playwright": "playwright",
}


@dataclass(frozen=True, slots=True)
class TestSpec:
    """One test case of a service's suite, and how it behaves."""

    __test__ = False

    suite: str
    class_name: str
    name: str
    file_name: str
    method: str
    base_ms: int
    style: str
    flaky_rate: float = 0.0
    skipped: bool = False
    slow: bool = False


def style_of(svc: ServiceSpec) -> str:
    """The JUnit dialect of the service's runner (junit5, gotest, pytest, jest, playwright)."""
    return _STYLE.get(svc.test_template, "")


def _camel(words: list[str]) -> str:
    return words[0] + "".join(w.capitalize() for w in words[1:])


def _title(word: str) -> str:
    return "".join(part.capitalize() for part in word.replace("-", "_").split("_"))


def _case(svc: ServiceSpec, style: str, rng: random.Random) -> tuple[str, str, str, str, str]:
    """(suite, class_name, name, file_name, method) of one generated test."""
    area = rng.choice(svc.areas)
    noun, verb, adj = rng.choice(_NOUNS), rng.choice(_VERBS), rng.choice(_ADJECTIVES)
    kind = rng.choice(_KINDS)
    if style == "junit5":
        cls = f"{svc.package}.{area}.{_title(area)}{kind}Test"
        method = _camel([verb, adj, noun])
        root = "app/src/test/kotlin" if svc.toolchain == "gradle" else "src/test/java"
        ext = "kt" if svc.toolchain == "gradle" else "java"
        return cls, cls, f"{method}()", f"{root}/{cls.replace('.', '/')}.{ext}", method
    if style == "gotest":
        pkg = f"{svc.package}/internal/{area}"
        top = f"Test{_title(noun)}{kind}"
        return pkg, pkg, f"{top}/{verb}_{adj}_{noun}", f"internal/{area}/{noun}_test.go", top
    if style == "pytest":
        cls = f"tests.test_{area}.Test{_title(area)}{_title(noun)}"
        name = f"test_{verb}_{adj}_{noun}"
        return "pytest", cls, name, f"tests/test_{area}.py", name
    if style == "playwright":
        title = rng.choice(_E2E)
        return "chromium", area, f"{title} ({adj} {noun})", f"tests/{area}.spec.ts", title
    describe = f"{_title(area)}{kind}"
    ext = "tsx" if kind in ("Controller", "Handler") else "ts"
    return describe, describe, f"{verb} {adj} {noun}", f"src/{area}/{describe}.test.{ext}", verb


@cache
def catalog(service_id: str) -> tuple[TestSpec, ...]:
    """The service's tests, grouped by file/class in run order."""
    svc = _SERVICES.get(service_id)
    style = style_of(svc) if svc is not None else ""
    if svc is None or not style or not svc.tests:
        return ()
    rng = random.Random(derive_seed(0, "tests", service_id))
    seen: set[tuple[str, str]] = set()
    cases: list[tuple[str, str, str, str, str]] = []
    while len(cases) < svc.tests:
        case = _case(svc, style, rng)
        if (case[1], case[2]) not in seen:
            seen.add((case[1], case[2]))
            cases.append(case)
    cases.sort(key=lambda c: (c[3], c[1], c[2]))
    unit = style != "playwright"
    specs = [
        TestSpec(
            *case,
            base_ms=int(rng.lognormvariate(3.2, 1.0)) + 1 if unit else int(rng.uniform(1500, 9000)),
            style=style,
            skipped=rng.random() < 0.02,
        )
        for case in cases
    ]
    candidates = [i for i, spec in enumerate(specs) if not spec.skipped]
    rng.shuffle(candidates)
    for rate in svc.flaky_rates:
        index = candidates.pop()
        specs[index] = replace(specs[index], flaky_rate=rate)
    for _ in range(svc.slow_tests):
        index = candidates.pop()
        specs[index] = replace(specs[index], slow=True, base_ms=int(rng.uniform(15_000, 60_000)))
    return tuple(specs)


@cache
def source_files(service_id: str) -> tuple[tuple[str, str], ...]:
    """(path, class or type name) of main source files, for compile errors that name a real-looking file."""
    svc = _SERVICES.get(service_id)
    if svc is None:
        return ()
    files: list[tuple[str, str]] = []
    for area in svc.areas:
        title = _title(area)
        if svc.toolchain == "maven":
            files.append(
                (
                    f"src/main/java/{svc.package.replace('.', '/')}/{area}/{title}Service.java",
                    f"{svc.package}.{area}.{title}Service",
                )
            )
        elif svc.toolchain == "gradle":
            files.append(
                (f"app/src/main/kotlin/{svc.package.replace('.', '/')}/{area}/{title}Service.kt", f"{title}Service")
            )
        elif svc.toolchain == "go":
            files.append((f"internal/{area}/{area}.go", f"{svc.package}/internal/{area}"))
        elif svc.toolchain == "pip":
            files.append((f"src/{svc.package}/{area}.py", area))
        else:
            files.append((f"src/{area}/{title}Summary.tsx", title))
    return tuple(files)
