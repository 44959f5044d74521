"""A deterministic generator of CI log lines, each labelled with the event that printed it.

Grouping accuracy needs ground truth: which lines came from the same `print` in some tool. Real logs do not carry
that, so this module writes its own: 48 events of the tools a CI step runs (npm, pip, Maven, Gradle, Go,
Docker, git, kubectl, pytest, a runner), each a format string whose `{fields}` are filled with fresh ids, hosts,
durations, versions, paths and timestamps. Events are data; a field's name says what it holds (`{count}` and
`{count2}` are two independent counts). Frequencies are skewed like a real build log: a few chatty events and a long
tail of rare ones, errors included.

Every event keeps the same number of whitespace tokens after masking, whatever its fields hold: an event whose
token count varies (a list of packages, a free-text reason) is split by every Drain-style miner, so it would
measure the family, not an implementation.
"""

from __future__ import annotations

import random
import string
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["EVENTS", "Event", "LabelledLine", "generate", "grouping_accuracy", "iter_lines"]


@dataclass(frozen=True, slots=True)
class Event:
    """One kind of line: its label, how often it is printed relative to the others, and its format string."""

    name: str
    weight: float
    template: str


@dataclass(frozen=True, slots=True)
class LabelledLine:
    """A generated line and the name of the event that printed it."""

    text: str
    event: str


_ESC = "\x1b"
EVENTS: tuple[Event, ...] = (
    # npm
    Event("npm.deprecated", 3, "npm WARN deprecated {npm_pkg}@{semver}: this package is no longer supported"),
    Event("npm.err_code", 0.3, "npm ERR! code {npm_code}"),
    Event(
        "npm.network",
        0.2,
        "npm ERR! network request to {npm_url} failed, reason: connect ETIMEDOUT {ipport}",
    ),
    Event("npm.added", 0.5, "added {count} packages, and audited {count2} packages in {dur_s}"),
    Event("npm.funding", 0.5, "{count} packages are looking for funding"),
    Event("npm.timing", 4, "npm timing reify:loadTrees Completed in {dur_ms}"),
    # pip
    Event("pip.collecting", 4, "Collecting {py_pkg}=={semver}"),
    Event(
        "pip.downloading",
        3,
        "  Downloading {py_pkg}-{semver}-py3-none-any.whl ({size_kb} kB)",
    ),
    Event("pip.cached", 2, "  Using cached {py_pkg}-{semver}-py3-none-any.whl ({size_kb} kB)"),
    Event(
        "pip.no_version",
        0.1,
        "ERROR: Could not find a version that satisfies the requirement {py_pkg}=={semver} (from versions: none)",
    ),
    # Maven
    Event("mvn.downloading", 6, "[INFO] Downloading from central: {maven_url}"),
    Event("mvn.downloaded", 6, "[INFO] Downloaded from central: {maven_url} ({size_kb} kB at {rate} MB/s)"),
    Event(
        "mvn.tests_run",
        2,
        f"[{_ESC}[1;34mINFO{_ESC}[m] Tests run: {{count}}, Failures: {{small}}, Errors: {{small2}}, "
        "Skipped: {small3}, Time elapsed: {seconds} s - in {java_class}",
    ),
    Event(
        "mvn.goal_failed",
        0.1,
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:{semver}:test "
        "(default-test) on project {project}: There are test failures.",
    ),
    Event("mvn.total_time", 0.2, "[INFO] Total time:  {dur_s}"),
    # Gradle
    Event("gradle.task", 5, "> Task :{gradle_module}:{gradle_task}"),
    Event("gradle.task_up_to_date", 3, "> Task :{gradle_module}:{gradle_task} UP-TO-DATE"),
    Event("gradle.build_successful", 0.2, "BUILD SUCCESSFUL in {dur_go}"),
    Event("gradle.actionable", 0.2, "{count} actionable tasks: {count2} executed, {count3} up-to-date"),
    # Go
    Event("go.downloading", 3, "go: downloading {go_module} {vsemver}"),
    Event("go.pass", 8, "--- PASS: {go_test} ({go_secs}s)"),
    Event("go.fail", 0.3, f"{_ESC}[31m--- FAIL{_ESC}[0m: {{go_test}} ({{go_secs}}s)"),
    Event("go.ok", 2, "ok  \t{go_module}\t{go_secs}s"),
    Event(
        "go.dial",
        0.2,
        "{date_slash} {clock} dial tcp {ipport}: connect: connection refused",
    ),
    # Docker
    Event("docker.step", 2, "Step {small}/{count} : WORKDIR {abs_path}"),
    Event("docker.buildkit_run", 3, "#{count} {small}.{small2} {abs_path} {layer_hex} done"),
    Event("docker.pulling", 2, "{layer_hex}: Pulling fs layer"),
    Event("docker.pull_complete", 2, "{layer_hex}: Pull complete"),
    Event("docker.digest", 0.5, "Digest: sha256:{digest_hex}"),
    Event("docker.built", 0.4, "Successfully built {layer_hex}"),
    Event("docker.tagged", 0.4, "Successfully tagged {registry}/{image}:{vsemver}"),
    Event(
        "docker.daemon",
        1,
        'time="{iso_time}" level=info msg="pull complete" image="{registry}/{image}" id={uuid}',
    ),
    # git
    Event("git.cloning", 0.3, "Cloning into '{repo}'..."),
    Event("git.head", 0.3, "HEAD is now at {short_sha} {verb} {noun} for {noun2} handling"),
    Event("git.fetch_branch", 0.3, " * branch            {commit_sha} -> FETCH_HEAD"),
    Event("git.switched", 0.3, "Switched to a new branch '{branch}'"),
    # kubectl
    Event(
        "kubectl.waiting",
        1.5,
        'Waiting for deployment "{deployment}" rollout to finish: {small} of {count} updated replicas are available...',
    ),
    Event("kubectl.rolled_out", 0.3, 'deployment "{deployment}" successfully rolled out'),
    Event("kubectl.not_found", 0.1, 'Error from server (NotFound): pods "{pod}" not found'),
    Event(
        "kubectl.backoff",
        0.2,
        "Warning  BackOff  {age}  kubelet  Back-off restarting failed container {container} in pod {pod}",
    ),
    # pytest
    Event("pytest.passed", 6, "{rel_path}::test_{snake} PASSED [{pct}%]"),
    Event("pytest.failed", 0.2, "FAILED {rel_path}::test_{snake} - AssertionError: assert {count} == {count2}"),
    Event("pytest.summary", 0.2, "===== {count} passed, {small} failed, {small2} warnings in {seconds}s ====="),
    # the runner
    Event("runner.command", 1, "{iso_time} Executing command: {shell_cmd} in {abs_path}"),
    Event("runner.upload", 0.5, "Uploading artifact chunk {small} of {count} to {gs_url} after {dur_ms}"),
    Event("runner.exit", 0.2, "{iso_time} Command exited with code {exit_code} on host {host} ({ipport})"),
    Event("runner.request", 2, "GET {api_url} {status} in {dur_ms} request_id={uuid} client={v6_addr}"),
    Event("runner.segv", 0.05, "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x{pc}]"),
)

_NPM_PKGS = ("left-pad", "request", "uuid", "glob", "rimraf", "inflight", "querystring", "har-validator", "core-js")
_NPM_CODES = ("E404", "ETIMEDOUT", "ECONNRESET", "EINTEGRITY", "ERESOLVE", "ENOTFOUND")
_PY_PKGS = ("requests", "urllib3", "idna", "certifi", "charset_normalizer", "pydantic", "anyio", "sniffio", "pytest")
_GROUPS = ("org/apache/maven/plugins", "com/google/guava", "org/slf4j", "io/netty", "org/junit/jupiter")
_ARTIFACTS = ("maven-compiler-plugin", "guava", "slf4j-api", "netty-handler", "junit-jupiter-api", "jackson-core")
_JAVA = ("com.example.billing.InvoiceServiceTest", "com.example.auth.TokenStoreTest", "org.acme.api.RoutesIT")
_PROJECTS = ("billing-service", "auth-api", "gateway", "ledger")
_GRADLE_MODULES = ("app", "core", "api", "data", "ui", "common")
_GRADLE_TASKS = ("compileJava", "processResources", "classes", "jar", "test", "lint", "compileKotlin", "check")
_GO_MODULES = ("github.com/acme/api/internal/store", "github.com/acme/api/pkg/auth", "golang.org/x/sync/errgroup")
_WORDS = ("Fix", "Add", "Bump", "Refactor", "Drop", "Update", "Revert")
_NOUNS = ("cache", "retry", "timeout", "parser", "config", "billing", "login", "metrics", "queue", "schema")
_REGISTRY = ("ghcr.io/acme", "docker.io/library", "123456789012.dkr.ecr.us-east-1.amazonaws.com")
_IMAGES = ("api", "worker", "web", "postgres", "redis", "nginx")
_DEPLOYMENTS = ("api", "worker", "web-frontend", "payments", "search-indexer")
_STATUS = ("200", "201", "204", "301", "404", "500", "503")
_CMDS = ("make", "npm", "mvn", "go", "pytest", "docker", "kubectl")
_PATH_DIRS = ("src", "lib", "internal", "pkg", "app", "tests", "cmd", "services")


class _Fields(dict[str, str]):
    """Fresh values for one line's fields, made on first use; `{name2}` is a second, independent `{name}`."""

    def __init__(self, rng: random.Random, clock: int) -> None:
        super().__init__()
        self._rng = rng
        self._clock = clock

    def __missing__(self, key: str) -> str:
        kind = key.rstrip("0123456789")
        value = _MAKERS[kind](self._rng, self._clock)
        self[key] = value
        return value


def _hex(rng: random.Random, length: int) -> str:
    # Mostly realistic ids; the digit is forced so an all-letter id ("deadbeef") cannot pass for a word.
    return "".join(rng.choice("0123456789abcdef") for _ in range(length - 1)) + rng.choice("0123456789")


def _ident(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high)))


def _abs_path(rng: random.Random) -> str:
    parts = [rng.choice(_PATH_DIRS) for _ in range(rng.randint(1, 4))]
    return f"/home/runner/work/{_ident(rng, 3, 8)}/{'/'.join(parts)}/{_ident(rng, 3, 9)}.{rng.choice(('py', 'go'))}"


def _iso_time(clock: int) -> str:
    seconds, millis = divmod(clock, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"2026-03-{1 + hours // 24 % 28:02d}T{hours % 24:02d}:{minute:02d}:{sec:02d}.{millis:03d}Z"


def _clock_time(clock: int) -> str:
    return _iso_time(clock)[11:19]


def _semver(rng: random.Random) -> str:
    return f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def _vsemver(rng: random.Random) -> str:
    suffix = rng.choice(("", "", "", f"-rc{rng.randint(1, 4)}", f"-beta.{rng.randint(1, 9)}"))
    return f"v{_semver(rng)}{suffix}"


def _duration_go(rng: random.Random) -> str:
    return rng.choice((f"{rng.randint(1, 59)}s", f"{rng.randint(1, 9)}m{rng.randint(0, 59)}s"))


_Maker = Callable[[random.Random, int], str]
_MAKERS: dict[str, _Maker] = {
    "npm_pkg": lambda rng, _: rng.choice(_NPM_PKGS),
    "npm_code": lambda rng, _: rng.choice(_NPM_CODES),
    "npm_url": lambda rng, _: f"https://registry.npmjs.org/{rng.choice(_NPM_PKGS)}",
    "py_pkg": lambda rng, _: rng.choice(_PY_PKGS),
    "semver": lambda rng, _: _semver(rng),
    "vsemver": lambda rng, _: _vsemver(rng),
    "count": lambda rng, _: str(rng.randint(1, 2000)),
    "small": lambda rng, _: str(rng.randint(0, 9)),
    "pct": lambda rng, _: str(rng.randint(0, 100)),
    "size_kb": lambda rng, _: f"{rng.randint(1, 900)}.{rng.randint(0, 9)}",
    "rate": lambda rng, _: f"{rng.randint(0, 40)}.{rng.randint(0, 9)}",
    "seconds": lambda rng, _: f"{rng.randint(0, 120)}.{rng.randint(0, 999):03d}",
    "go_secs": lambda rng, _: f"{rng.randint(0, 9)}.{rng.randint(0, 99):02d}",
    "dur_ms": lambda rng, _: f"{rng.randint(1, 30000)}ms",
    "dur_s": lambda rng, _: f"{rng.randint(1, 300)}s",
    "dur_go": lambda rng, _: _duration_go(rng),
    "age": lambda rng, _: f"{rng.randint(1, 59)}{rng.choice('smh')}",
    "ipport": lambda rng, _: (
        f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}:{rng.randint(80, 9000)}"
    ),
    "v6_addr": lambda rng, _: f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}",
    "uuid": lambda rng, _: "-".join(_hex(rng, n) for n in (8, 4, 4, 4, 12)),
    "short_sha": lambda rng, _: _hex(rng, 7),
    "commit_sha": lambda rng, _: _hex(rng, 40),
    "digest_hex": lambda rng, _: _hex(rng, 64),
    "layer_hex": lambda rng, _: _hex(rng, 12),
    "pc": lambda rng, _: _hex(rng, 6),
    "maven_url": lambda rng, _: (
        f"https://repo.maven.apache.org/maven2/{rng.choice(_GROUPS)}/{rng.choice(_ARTIFACTS)}/{_semver(rng)}/x.pom"
    ),
    "gs_url": lambda rng, _: f"gs://harness-artifacts/{_ident(rng, 4, 10)}/output.tar.gz",
    "api_url": lambda rng, _: f"https://api.internal.acme.io/v1/{rng.choice(_NOUNS)}/{rng.randint(1, 99999)}",
    "java_class": lambda rng, _: rng.choice(_JAVA),
    "project": lambda rng, _: rng.choice(_PROJECTS),
    "gradle_module": lambda rng, _: rng.choice(_GRADLE_MODULES),
    "gradle_task": lambda rng, _: rng.choice(_GRADLE_TASKS),
    "go_module": lambda rng, _: rng.choice(_GO_MODULES),
    "go_test": lambda rng, _: f"Test{rng.choice(_NOUNS).title()}{rng.choice(_WORDS)}",
    "date_slash": lambda _, clock: _iso_time(clock)[:10].replace("-", "/"),
    "clock": lambda _, clock: _clock_time(clock),
    "iso_time": lambda _, clock: _iso_time(clock),
    "abs_path": lambda rng, _: _abs_path(rng),
    "rel_path": lambda rng, _: f"tests/{rng.choice(_PATH_DIRS)}/{rng.choice(_NOUNS)}/test_{_ident(rng, 3, 8)}.py",
    "snake": lambda rng, _: f"{rng.choice(_NOUNS)}_{_ident(rng, 3, 8)}",
    "registry": lambda rng, _: rng.choice(_REGISTRY),
    "image": lambda rng, _: rng.choice(_IMAGES),
    "repo": lambda rng, _: rng.choice(_PROJECTS),
    "verb": lambda rng, _: rng.choice(_WORDS),
    "noun": lambda rng, _: rng.choice(_NOUNS),
    "branch": lambda rng, _: f"feature/{rng.choice(_NOUNS)}-{rng.randint(100, 9999)}",
    "deployment": lambda rng, _: rng.choice(_DEPLOYMENTS),
    "pod": lambda rng, _: f"{rng.choice(_DEPLOYMENTS)}-{_hex(rng, 9)}-{_ident(rng, 5, 5)}",
    "container": lambda rng, _: rng.choice(_DEPLOYMENTS),
    "status": lambda rng, _: rng.choice(_STATUS),
    "shell_cmd": lambda rng, _: rng.choice(_CMDS),
    "exit_code": lambda rng, _: str(rng.choice((1, 2, 127, 137, 143))),
    "host": lambda rng, _: f"runner-{rng.randint(1, 64)}.ci.internal",
}


def iter_lines(count: int, *, seed: int = 2026) -> Iterator[LabelledLine]:
    """`count` labelled lines, the same ones for the same seed."""
    rng = random.Random(seed)
    weights = [event.weight for event in EVENTS]
    clock = 0
    batch = 4096
    for start in range(0, count, batch):
        for event in rng.choices(EVENTS, weights=weights, k=min(batch, count - start)):
            clock += rng.randint(1, 400)
            yield LabelledLine(text=event.template.format_map(_Fields(rng, clock)), event=event.name)


def generate(count: int, *, seed: int = 2026) -> list[LabelledLine]:
    """`count` labelled lines as a list (see `iter_lines`)."""
    return list(iter_lines(count, seed=seed))


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Loghub's grouping accuracy: the share of lines whose predicted group holds exactly the lines of their event.

    A predicted group counts, with all its lines, when every line in it has the same true event and it holds
    every line of that event; a group that mixes events or holds only part of one counts for nothing.
    """
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth must label the same lines")
    if not truth:
        return 1.0
    event_sizes = Counter(truth)
    events_by_group: defaultdict[Hashable, Counter[Hashable]] = defaultdict(Counter)
    for group, event in zip(predicted, truth, strict=True):
        events_by_group[group][event] += 1
    correct = 0
    for events in events_by_group.values():
        if len(events) == 1:
            ((event, size),) = events.items()
            if size == event_sizes[event]:
                correct += size
    return correct / len(truth)
