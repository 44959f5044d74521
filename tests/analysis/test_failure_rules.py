"""The failure taxonomy against realistic step logs.

Every file in `failure_excerpts/` is a log excerpt the way a tool prints it, named `<rule_id>--<variant>.log`; the
rule it is named after must win it. A header of `# key: value` lines at the top carries what Harness reports for
the step (`failure_types`, comma-separated, and `message`; several `message` lines are joined with newlines).
Clean builds and harmless lines must match no rule, and a malformed taxonomy file is refused with the rule named.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness_connector.analysis.failures.classifier import FailureSignals, classify
from harness_connector.analysis.failures.taxonomy import Category, Rule, load_taxonomy
from harness_connector.domain.logs import LogLine
from harness_connector.errors import ConfigError
from harness_connector.harness.logs import parse_log_text

EXCERPTS = Path(__file__).parent / "failure_excerpts"
_NAME = re.compile(r"^(?P<rule>[a-z][a-z0-9_]*)--(?P<variant>[a-z0-9][a-z0-9-]*)\.log$")
_HEADER_KEYS = frozenset({"failure_types", "message"})
_GENERIC_TYPES = frozenset({"", "APPLICATION_ERROR", "UNKNOWN"})
_MAX_LINES = 30
_MIN_LINES = 3

# Excerpts that another rule wins on score. Priorities are tuned elsewhere; each entry says who wins and why, and
# the case is a strict xfail so that it starts failing (and must be removed from here) once the gap is closed.
KNOWN_CONFLICTS: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Excerpt:
    name: str
    rule_id: str
    failure_types: tuple[str, ...]
    message: str
    lines: tuple[LogLine, ...]

    def signals(self) -> FailureSignals:
        return FailureSignals(failure_types=self.failure_types, message=self.message, lines=self.lines)


def _read(path: Path) -> Excerpt:
    found = _NAME.match(path.name)
    if found is None:
        raise ValueError(f"{path.name}: excerpt files are named <rule_id>--<variant>.log")
    text = path.read_text(encoding="utf-8")
    rows = text.split("\n")
    failure_types: tuple[str, ...] = ()
    messages: list[str] = []
    start = 0
    while start < len(rows) and rows[start].startswith("# "):
        key, sep, value = rows[start][2:].partition(": ")
        if not sep or key not in _HEADER_KEYS:
            raise ValueError(f"{path.name}: header line {start + 1} is not '# failure_types: ...' or '# message: ...'")
        if key == "failure_types":
            failure_types = tuple(kind.strip() for kind in value.split(",") if kind.strip())
        else:
            messages.append(value)
        start += 1
    lines = tuple(parse_log_text("\n".join(rows[start:])))
    return Excerpt(path.stem, found["rule"], failure_types, "\n".join(messages), lines)


def _excerpt_files() -> list[Path]:
    return sorted(EXCERPTS.glob("*.log"))


def _cases() -> list[object]:
    cases: list[object] = []
    for path in _excerpt_files():
        reason = KNOWN_CONFLICTS.get(path.stem)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(path, id=path.stem, marks=marks))
    return cases


def _harness_side(excerpt: Excerpt, rule: Rule) -> bool:
    """Whether Harness's own report (a specific failure type, or a message the rule knows) points at the rule."""
    specific = {kind.upper() for kind in excerpt.failure_types} - _GENERIC_TYPES
    return bool(specific & {kind.upper() for kind in rule.failure_types}) or (
        bool(excerpt.message) and rule.matches_message(excerpt.message) is not None
    )


# --- Every excerpt is won by the rule it is named after ---------------------------------------------------------


@pytest.mark.parametrize("path", _cases())
def test_the_excerpt_is_classified_as_its_rule(path: Path) -> None:
    taxonomy = load_taxonomy()
    excerpt = _read(path)
    expected = taxonomy.by_id[excerpt.rule_id]

    result = classify(excerpt.signals(), taxonomy)

    winner = result.rule.id if result.rule is not None else None
    assert winner == expected.id, f"{excerpt.name}: {result.reasons}"
    assert result.category is expected.category
    assert result.transient is expected.transient
    assert result.action is expected.action
    if not _harness_side(excerpt, expected):
        assert result.hits, "a rule won on the log alone, so its matching lines are the evidence"
        assert all(hit.rule_id == expected.id for hit in result.hits)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in _excerpt_files()])
def test_the_excerpt_is_well_formed(path: Path) -> None:
    taxonomy = load_taxonomy()
    excerpt = _read(path)
    assert excerpt.rule_id in taxonomy.by_id, f"{path.name} names no rule of the taxonomy"
    assert len(excerpt.lines) <= _MAX_LINES
    if not _harness_side(excerpt, taxonomy.by_id[excerpt.rule_id]):
        assert len(excerpt.lines) >= _MIN_LINES, "a log excerpt shows the output around the error too"


def test_the_literal_prefilter_finds_the_same_rules_as_searching_every_pattern() -> None:
    taxonomy = load_taxonomy()
    lines = [line.text for path in _excerpt_files() for line in _read(path).lines]
    lines += ["ENOSPC: no space left on device", "Stra\u00dfe ERROR Connection Refused", "\u212a8s error"]
    for text in lines:
        every = [rule for rule in taxonomy.log_rules if rule.matches_line(text) is not None]
        assert taxonomy.log_rules_matching(text) == every, text


def test_every_rule_has_an_excerpt_it_wins() -> None:
    won = {_read(path).rule_id for path in _excerpt_files() if path.stem not in KNOWN_CONFLICTS}
    missing = [rule.id for rule in load_taxonomy().rules if rule.id not in won]
    assert missing == []


def test_every_known_conflict_names_an_existing_excerpt() -> None:
    names = {path.stem for path in _excerpt_files()}
    assert set(KNOWN_CONFLICTS) <= names


def test_the_excerpt_directory_holds_only_excerpts() -> None:
    strays = [p.name for p in EXCERPTS.iterdir() if p.suffix != ".log" or _NAME.match(p.name) is None]
    assert strays == []


def test_an_excerpt_in_harness_json_lines_is_read_without_its_colour_codes() -> None:
    excerpt = _read(EXCERPTS / "test_failures--harness-json-lines.log")
    assert all("\x1b" not in line.text for line in excerpt.lines)
    assert any(line.text.startswith("FAILED tests/unit/test_pricing.py::test_bulk_discount") for line in excerpt.lines)


# --- Clean builds and harmless lines match nothing --------------------------------------------------------------

CLEAN_BUILDS: dict[str, str] = {
    "npm": """\
+ npm ci --no-audit
npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it.
npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported

added 1214 packages in 38s

187 packages are looking for funding
  run `npm fund` for details
+ npm run lint && npm run typecheck
> web@4.12.0 typecheck
> tsc --noEmit -p tsconfig.json
+ npx jest --ci
PASS src/utils/format.test.ts
PASS src/components/Checkout.test.tsx
Test Suites: 24 passed, 24 total
Tests:       188 passed, 188 total
Snapshots:   0 total
Time:        17.904 s
Ran all test suites.
""",
    "maven": """\
[INFO] Scanning for projects...
[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/springframework/boot/spring-boot-starter-web/3.2.4/spring-boot-starter-web-3.2.4.pom
[INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ orders ---
[INFO] Compiling 87 source files with javac [debug release 17] to target/classes
[INFO] -------------------------------------------------------
[INFO]  T E S T S
[INFO] -------------------------------------------------------
[INFO] Running com.acme.orders.OrderServiceTest
[INFO] Tests run: 14, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 1.832 s -- in com.acme.orders.OrderServiceTest
[INFO] Results:
[INFO] Tests run: 36, Failures: 0, Errors: 0, Skipped: 1
[INFO] BUILD SUCCESS
[INFO] Total time:  58.114 s
""",
    "gradle": """\
+ ./gradlew build
Starting a Gradle Daemon (subsequent builds will be faster)
> Task :app:compileKotlin
> Task :app:compileJava NO-SOURCE
> Task :app:test
> Task :app:check
> Task :app:build

BUILD SUCCESSFUL in 1m 4s
9 actionable tasks: 9 executed
""",
    "go": """\
+ go mod download
go: downloading github.com/stretchr/testify v1.9.0
+ go vet ./...
+ go test -race ./...
?   	github.com/acme/api/cmd/api	[no test files]
ok  	github.com/acme/api/internal/config	0.019s
ok  	github.com/acme/api/internal/orders	0.412s
--- PASS: TestOrderTotal (0.00s)
PASS
DONE 214 tests, 3 skipped in 38.112s
""",
    "python": """\
+ pip install -r requirements.txt
Collecting fastapi==0.110.2 (from -r requirements.txt (line 1))
  Downloading fastapi-0.110.2-py3-none-any.whl.metadata (24 kB)
Successfully installed fastapi-0.110.2 pydantic-2.7.1 starlette-0.37.2
+ ruff check . && ruff format --check .
All checks passed!
42 files already formatted
+ mypy src
Success: no issues found in 48 source files
+ pytest -q
........................................................                 [100%]
56 passed, 2 warnings in 4.87s
""",
    "docker": """\
+ docker buildx build -t registry.acme.io/orders:1.8.3 --push .
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [internal] load metadata for docker.io/library/python:3.12-slim
#2 DONE 1.2s
#7 [4/5] RUN apt-get update && apt-get install -y --no-install-recommends libpq5
#7 0.412 Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]
#7 0.611 Hit:2 http://deb.debian.org/debian bookworm-updates InRelease
#7 4.112 0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.
#7 DONE 6.3s
#9 exporting to image
#9 pushing layers 2.1s done
#9 DONE 3.4s
""",
    "kubernetes": """\
Deploying the manifests...
deployment.apps/orders configured
Status : orders   Waiting for deployment "orders" rollout to finish: 2 out of 3 new replicas have been updated...
Event  : orders   Pod    orders-7d9f8b6c5-x2k4p   Pulling image "registry.acme.io/orders:1.8.3"   Normal
Event  : orders   Pod    orders-7d9f8b6c5-x2k4p   Successfully pulled image "registry.acme.io/orders:1.8.3"   Normal
Status : orders   deployment "orders" successfully rolled out
Done.
""",
    "harness-json-lines": (
        '{"level":"info","pos":0,"out":"+ make build\\n","time":"2024-05-14T09:50:01.118Z","args":null}\n'
        '{"level":"info","pos":1,"out":"\\u001b[32mgo build -o bin/api ./cmd/api\\u001b[0m\\n",'
        '"time":"2024-05-14T09:50:01.902Z","args":null}\n'
        '{"level":"info","pos":2,"out":"Build finished with 0 errors\\n",'
        '"time":"2024-05-14T09:50:09.311Z","args":null}\n'
    ),
}


@pytest.mark.parametrize("text", [pytest.param(text, id=name) for name, text in CLEAN_BUILDS.items()])
def test_a_clean_build_log_matches_no_rule(text: str) -> None:
    taxonomy = load_taxonomy()
    lines = list(parse_log_text(text))
    assert len(lines) >= _MIN_LINES

    result = classify(FailureSignals(lines=lines), taxonomy)

    assert result.rule is None
    assert result.category is Category.UNKNOWN
    assert result.hits == []


HARMLESS_LINES = [
    "0 errors",
    "Build finished with 0 errors",
    "Found 0 errors. Watching for file changes.",
    "Tests run: 12, Failures: 0, Errors: 0",
    "[INFO] Tests run: 12, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.412 s -- in com.acme.FooTest",
    "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it.",
    "npm warn deprecated rimraf@3.0.2: Rimraf versions prior to v4 are no longer supported",
    "found 0 vulnerabilities",
    "Tests:       42 passed, 42 total",
    "Test Suites: 6 passed, 6 total",
    "=================== 57 passed, 2 warnings in 3.21s ===================",
    "  33 passed (48.3s)",
    "ok  \tgithub.com/acme/api/internal/orders\t0.412s",
    "--- PASS: TestOrderTotal (0.00s)",
    "BUILD SUCCESSFUL in 42s",
    "[INFO] BUILD SUCCESS",
    "Success: no issues found in 48 source files",
    "All checks passed!",
    "info There appears to be trouble with your network connection. Retrying...",
    "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]",
    "Downloading from central: https://repo.maven.apache.org/maven2/com/google/guava/guava/33.1.0-jre/guava.pom",
    'deployment "orders" successfully rolled out',
]


@pytest.mark.parametrize("text", HARMLESS_LINES)
def test_a_harmless_line_triggers_no_rule(text: str) -> None:
    taxonomy = load_taxonomy()
    assert [rule.id for rule in taxonomy.log_rules if rule.matches_line(text)] == []
    result = classify(FailureSignals(lines=[LogLine(number=1, text=text)]), taxonomy)
    assert result.rule is None
    assert result.category is Category.UNKNOWN


# --- Loading a taxonomy file ------------------------------------------------------------------------------------


def _rule(rule_id: str, *, category: str = "network", log: str = "'connection refused'") -> str:
    return textwrap.dedent(
        f"""\
          - id: {rule_id}
            category: {category}
            transient: true
            action: rerun_now
            priority: 50
            log:
              - {log}
            remediation: Re-run.
        """
    )


def _write(tmp_path: Path, *rules: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n" + "".join(rules), encoding="utf-8")
    return path


def test_a_valid_taxonomy_file_loads_and_classifies(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_write(tmp_path, _rule("refused"), _rule("reset", log="'connection reset'")))

    assert [rule.id for rule in taxonomy.rules] == ["refused", "reset"]
    result = classify(FailureSignals(lines=[LogLine(number=1, text="dial tcp: connection refused")]), taxonomy)
    assert result.rule is not None
    assert result.rule.id == "refused"


def test_an_unknown_category_is_refused_naming_the_rule(tmp_path: Path) -> None:
    path = _write(tmp_path, _rule("fine"), _rule("cosmic_rays", category="solar_flare"))
    with pytest.raises(ConfigError, match=r"(?s)rule cosmic_rays is invalid.*category"):
        load_taxonomy(path)


def test_a_duplicate_rule_id_is_refused_naming_the_rule(tmp_path: Path) -> None:
    path = _write(tmp_path, _rule("flaky_network"), _rule("flaky_network", log="'ECONNRESET'"))
    with pytest.raises(ConfigError, match="two rules called flaky_network"):
        load_taxonomy(path)


def test_a_pattern_that_does_not_compile_is_refused_naming_the_rule(tmp_path: Path) -> None:
    path = _write(tmp_path, _rule("fine"), _rule("broken_pattern", log="'unbalanced (group'"))
    with pytest.raises(ConfigError, match=r"(?s)rule broken_pattern is invalid.*does not compile"):
        load_taxonomy(path)


def test_a_file_without_a_rules_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- id: not_under_rules\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="top-level 'rules:' list"):
        load_taxonomy(path)


def test_a_missing_taxonomy_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the failure taxonomy"):
        load_taxonomy(tmp_path / "absent.yaml")
