"""Successful step logs as data: what a clone, an install, a build, a test run, an image push or a deploy prints.

Line syntax, shared with the failure families (`families_*.py`):

- `E|` or `W|` at the start sets the level to ERROR or WARN (INFO otherwise);
- `<g>`, `<r>`, `<y>`, `<b>`, `<c>`, `<B>` open green, red, yellow, blue, cyan and bold ANSI colour, `</>` resets
  (real CI output is coloured; the log service stores the escapes as they are);
- `{name}` is filled from the recipe's params, else from a per-line generator of `logs.GENERATORS` (`{ms}`,
  `{npm_dep}`, ...); `{{` and `}}` are literal braces.

A template has a header, body blocks repeated (in random order) until the recipe's line count is reached, and a
footer printed only when the step succeeds. Test templates also print each test of the service's catalogue,
grouped as their runner groups them (by class, package or file).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TEMPLATES", "LogTemplate"]


@dataclass(frozen=True, slots=True)
class LogTemplate:
    """One kind of step log. Blocks are tuples of lines that share their generated values."""

    id: str
    header: tuple[str, ...] = ()
    body: tuple[tuple[str, ...], ...] = ()
    footer: tuple[str, ...] = ()
    group_start: tuple[str, ...] = ()
    per_test: tuple[str, ...] = ()
    per_test_failed: tuple[str, ...] = ()
    per_test_skipped: tuple[str, ...] = ()
    group_end: tuple[str, ...] = ()
    group_by: str = "class_name"  # class_name | suite | file_name


_MVN = "[<b>INFO</>]"
_MVN_WARN = "W|[<y>WARNING</>]"

_TEMPLATES: tuple[LogTemplate, ...] = (
    LogTemplate(
        id="init",
        header=(
            "Initializing build infrastructure (KubernetesDirect, namespace {namespace})",
            "Pod harnessci-{pod} created on node {node}",
            'Pulling image "harness/ci-addon:1.16.48"',
            'Successfully pulled image "harness/ci-addon:1.16.48" in {ms}ms',
            'Pulling image "harness/ci-lite-engine:1.16.48"',
            'Successfully pulled image "harness/ci-lite-engine:1.16.48" in {ms}ms',
            'Pulling image "{image}"',
        ),
        body=(('Container step-{n} created with image "{image}"', "Container step-{n} started"),),
        footer=(
            'Successfully pulled image "{image}" in {secs}s',
            "Pod harnessci-{pod} is running; lite-engine ready on {ip4}:20001",
            "Stage setup completed in {secs}s",
        ),
    ),
    LogTemplate(
        id="clone",
        header=(
            "+ git init",
            "Initialized empty Git repository in /harness/.git/",
            "+ git remote add origin {clone_url}",
            "+ git fetch --depth=50 origin +{ref}:",
            "From {clone_url}",
            " * {ref_kind}            {ref_short}     -> FETCH_HEAD",
        ),
        body=(("remote: Counting objects: {pct}% ({n}/{n}), done.",), ("Receiving objects: {pct}% ({n}/{n})",)),
        footer=(
            "+ git checkout -b {branch_local} {sha}",
            "Switched to a new branch '{branch_local}'",
            "Cloned {repo} at {sha7} ({commit_subject})",
        ),
    ),
    LogTemplate(
        id="install:npm",
        header=("+ {install_cmd}", "npm <c>info</> using npm@10.5.0", "npm <c>info</> using node@v20.12.2"),
        body=(
            ("npm <c>http</> fetch GET 200 https://registry.npmjs.org/{npm_dep} {ms}ms (cache miss)",),
            ("npm <c>http</> fetch GET 200 https://registry.npmjs.org/{npm_dep}/-/{npm_dep_base}-{semver}.tgz {ms}ms",),
            ("npm <c>timing</> reifyNode:node_modules/{npm_dep} Completed in {ms}ms",),
            ("W|npm <y>WARN</> deprecated {npm_dep}@{semver}: This package is no longer supported.",),
        ),
        footer=(
            "added {n} packages, and audited {n} packages in {secs}s",
            "{n} packages are looking for funding",
            "  run `npm fund` for details",
        ),
    ),
    LogTemplate(
        id="install:pip",
        header=("+ {install_cmd}",),
        body=(
            (
                "Collecting {pypi_dep}=={semver} (from -r requirements.txt (line {line}))",
                "  Downloading {pypi_dep}-{semver}-py3-none-any.whl.metadata ({kb} kB)",
                "  Downloading {pypi_dep}-{semver}-py3-none-any.whl ({kb} kB)",
                "     <g>━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━</> <g>{kb}.0/{kb}.0 kB</> <r>{mbs} MB/s</> eta <c>0:00:00</>",
            ),
            ("Requirement already satisfied: {pypi_dep}>={semver} in /usr/local/lib/python3.11/site-packages",),
        ),
        footer=(
            "Installing collected packages: {package_list}",
            "Successfully installed {package_list_versions}",
            "W|WARNING: Running pip as the 'root' user can result in broken permissions.",
        ),
    ),
    LogTemplate(
        id="install:maven",
        header=(
            "+ {install_cmd}",
            f"{_MVN} Scanning for projects...",
            f"{_MVN} ",
            f"{_MVN} <B>--< com.acme:{{service}} >--</>",
        ),
        body=(
            (
                f"{_MVN} Downloading from central: https://repo.maven.apache.org/maven2/{{maven_path}}.pom",
                f"{_MVN} Downloaded from central: https://repo.maven.apache.org/maven2/{{maven_path}}.pom ({{kb}} kB at {{kbs}} kB/s)",
            ),
            (
                f"{_MVN} Downloading from central: https://repo.maven.apache.org/maven2/{{maven_path}}.jar",
                f"{_MVN} Downloaded from central: https://repo.maven.apache.org/maven2/{{maven_path}}.jar ({{kb}} kB at {{kbs}} kB/s)",
            ),
        ),
        footer=(f"{_MVN} <B>BUILD SUCCESS</>", f"{_MVN} Total time:  {{secs}} s", f"{_MVN} Finished at: {{now}}"),
    ),
    LogTemplate(
        id="install:gradle",
        header=(
            "+ {install_cmd}",
            "Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip",
            "Welcome to Gradle 8.7!",
            "Starting a Gradle Daemon (subsequent builds will be faster)",
        ),
        body=(
            ("Download https://repo.maven.apache.org/maven2/{maven_path}.pom, took {ms} ms",),
            ("Download https://repo.maven.apache.org/maven2/{maven_path}.jar, took {ms} ms ({kb} kB)",),
            ("> Task :{gradle_task}",),
        ),
        footer=("BUILD SUCCESSFUL in {secs}s", "{n} actionable tasks: {n} executed"),
    ),
    LogTemplate(
        id="install:go",
        header=("+ {install_cmd}",),
        body=(
            ("go: downloading {go_mod} {semver_v}",),
            (
                "# get https://proxy.golang.org/{go_mod}/@v/{semver_v}.mod",
                "# get https://proxy.golang.org/{go_mod}/@v/{semver_v}.mod: 200 OK ({secs}s)",
            ),
            ("# get https://proxy.golang.org/{go_mod}/@v/{semver_v}.zip: 200 OK ({secs}s)",),
        ),
        footer=("all modules verified",),
    ),
    LogTemplate(
        id="compile:npm",
        header=(
            "+ {compile_cmd}",
            "",
            "> {service}@{app_version} build",
            "> tsc -p tsconfig.build.json && webpack --mode production",
            "",
        ),
        body=(
            (
                "asset {ts_chunk}.{hex7}.js {kb} KiB <g>[emitted]</> <g>[immutable]</> <g>[minimized]</> (name: {ts_chunk})",
            ),
            ("orphan modules {kb} KiB <y>[orphan]</> {n} modules",),
            ("./src/{ts_file} {kb} KiB <g>[built]</> <g>[code generated]</>",),
        ),
        footer=("webpack 5.91.0 compiled <g>successfully</> in {ms} ms",),
    ),
    LogTemplate(
        id="compile:pip",
        header=("+ {compile_cmd}",),
        body=(("src/{py_module}.py: ok",),),
        footer=("All checks passed!", "<g>Success: no issues found in {n} source files</>"),
    ),
    LogTemplate(
        id="compile:maven",
        header=("+ {compile_cmd}", f"{_MVN} Scanning for projects...", f"{_MVN} <B>--< com.acme:{{service}} >--</>"),
        body=(
            (f"{_MVN} --- <g>resources:3.3.1:resources</> <B>(default-resources)</> @ <c>{{service}}</> ---",),
            (f"{_MVN} Copying {{n}} resources from src/main/resources to target/classes",),
            (f"{_MVN} --- <g>compiler:3.11.0:compile</> <B>(default-compile)</> @ <c>{{service}}</> ---",),
            (f"{_MVN} Compiling {{n}} source files with javac [debug release 17] to target/classes",),
            (f"{_MVN_WARN} {{java_file}}: Some input files use unchecked or unsafe operations.",),
        ),
        footer=(f"{_MVN} <B>BUILD SUCCESS</>", f"{_MVN} Total time:  {{secs}} s"),
    ),
    LogTemplate(
        id="compile:gradle",
        header=("+ {compile_cmd}",),
        body=(
            ("> Task :{gradle_task}",),
            ("> Task :{gradle_task} UP-TO-DATE",),
            ("w: file:///harness/{kt_file}: Parameter 'it' is never used",),
        ),
        footer=("BUILD SUCCESSFUL in {secs}s", "{n} actionable tasks: {n} executed"),
    ),
    LogTemplate(
        id="compile:go",
        header=("+ {compile_cmd}",),
        body=(("{go_mod_self}/{go_pkg}",),),
        footer=("+ go vet ./...", "build ok ({secs}s)"),
    ),
    LogTemplate(
        id="test:npm",
        header=("+ {test_cmd}", ""),
        group_start=("<B><g> PASS </></> {group}",),
        per_test=("    <g>✓</> {name} <c>({dur_ms} ms)</>",),
        per_test_failed=(
            "    <r>✕</> {name} <c>({dur_ms} ms)</>",
            "E|  <B><r>● {class_name} › {name}</></>",
            "E|    {message}",
            "E|      at Object.<anonymous> ({file_name}:{line}:{col})",
        ),
        per_test_skipped=("    <y>○</> skipped {name}",),
        body=(("    console.log", "      [{service}] request id={hex12} completed in {ms}ms"),),
        footer=(
            "<B>Test Suites:</> <g>{groups} passed</>, {groups} total",
            "<B>Tests:</>       <y>{skipped} skipped</>, <g>{passed} passed</>, {total} total",
            "<B>Time:</>        {secs} s",
            "Ran all test suites.",
        ),
        group_by="file_name",
    ),
    LogTemplate(
        id="test:playwright",
        header=("+ npx playwright test --reporter=list,junit", "", "Running {total} tests using 4 workers", ""),
        per_test=("  <g>✓</>  {n} [chromium] › {file_name}:{line}:5 › {class_name} › {name} <c>({secs}s)</>",),
        per_test_failed=(
            "  <r>✘</>  {n} [chromium] › {file_name}:{line}:5 › {class_name} › {name} <c>({secs}s)</>",
            "E|    {message}",
            "E|    Call log:",
            "E|      - waiting for locator('[data-test=\"{hex7}\"]')",
        ),
        per_test_skipped=("  <y>-</>  {n} [chromium] › {file_name}:{line}:5 › {class_name} › {name}",),
        footer=("", "  <g>{passed} passed</> ({secs}s)", "  <y>{skipped} skipped</>"),
        group_by="file_name",
    ),
    LogTemplate(
        id="test:pip",
        header=(
            "+ {test_cmd}",
            "<B>============================= test session starts ==============================</>",
            "platform linux -- Python 3.11.9, pytest-8.2.0, pluggy-1.5.0",
            "rootdir: /harness",
            "configfile: pyproject.toml",
            "plugins: cov-5.0.0, xdist-3.6.1, anyio-4.3.0",
            "collected {total} items",
            "",
        ),
        per_test=("{file_name}::{short_class}::{name} <g>PASSED</>",),
        per_test_failed=("E|{file_name}::{short_class}::{name} <r>FAILED</>",),
        per_test_skipped=("{file_name}::{short_class}::{name} <y>SKIPPED</> (requires live broker)",),
        footer=(
            "- generated xml file: /harness/reports/junit.xml -",
            "<g>{passed} passed, {skipped} skipped in {secs}s</>",
        ),
        group_by="file_name",
    ),
    LogTemplate(
        id="test:maven",
        header=(
            "+ {test_cmd}",
            f"{_MVN} --- <g>surefire:3.2.5:test</> <B>(default-test)</> @ <c>{{service}}</> ---",
            f"{_MVN} ",
        ),
        group_start=(f"{_MVN} Running <B>{{group}}</>",),
        per_test_failed=(
            "E|[<r>ERROR</>] {class_name}.{name} -- Time elapsed: {secs} s <<< <r>FAILURE!</>",
            "E|org.opentest4j.AssertionFailedError: {message}",
            "E|\tat org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:151)",
            "E|\tat org.junit.jupiter.api.AssertEquals.failNotEqual(AssertEquals.java:197)",
            "E|\tat {class_name}.{method}({short_class}.java:{line})",
        ),
        group_end=(
            f"{_MVN} <g>Tests run: {{group_count}}</>, Failures: {{group_failed}}, Errors: 0, Skipped: {{group_skipped}}, Time elapsed: {{group_secs}} s - in <B>{{group}}</>",
        ),
        body=(
            (
                "{now_local} INFO 1 --- [{service}] [           main] c.a.{short_pkg}.{hex7}  : Started in {secs} seconds",
            ),
            (
                "{now_local} DEBUG 1 --- [{service}] [    Test worker] o.h.SQL : select p1_0.id from payment p1_0 where p1_0.id=?",
            ),
        ),
        footer=(
            f"{_MVN} ",
            f"{_MVN} Results:",
            f"{_MVN} ",
            f"{_MVN} <g>Tests run: {{total}}, Failures: 0, Errors: 0, Skipped: {{skipped}}</>",
            f"{_MVN} <B>BUILD SUCCESS</>",
        ),
    ),
    LogTemplate(
        id="test:gradle",
        header=("+ {test_cmd}", "> Task :app:compileTestKotlin", "> Task :app:test"),
        per_test=("{short_class} > {name} <g>PASSED</>",),
        per_test_failed=(
            "E|{short_class} > {name} <r>FAILED</>",
            "E|    java.lang.AssertionError: {message}",
            "E|        at {class_name}.{method}({short_class}.kt:{line})",
        ),
        per_test_skipped=("{short_class} > {name} <y>SKIPPED</>",),
        footer=("", "{total} tests completed, 0 failed, {skipped} skipped", "BUILD SUCCESSFUL in {secs}s"),
    ),
    LogTemplate(
        id="test:go",
        header=("+ {test_cmd}",),
        per_test=("=== RUN   {name}", "--- PASS: {name} ({dur_s}s)"),
        per_test_failed=("=== RUN   {name}", "E|    {file_base}:{line}: {message}", "E|--- FAIL: {name} ({dur_s}s)"),
        per_test_skipped=(
            "=== RUN   {name}",
            "    {file_base}:{line}: skipping: requires INTEGRATION=1",
            "--- SKIP: {name} (0.00s)",
        ),
        group_end=("ok  \t{group}\t{group_secs}s",),
        footer=("", "DONE {total} tests, {skipped} skipped in {secs}s"),
        group_by="suite",
    ),
    LogTemplate(
        id="script:install_tools",
        header=(
            "+ curl -sSfL -H 'Authorization: token ****' https://api.github.com/repos/golangci/golangci-lint/releases/latest",
            '  "tag_name": "v1.58.1",',
            "+ curl -sSfL https://github.com/golangci/golangci-lint/releases/download/v1.58.1/golangci-lint-1.58.1-linux-amd64.tar.gz",
        ),
        body=(
            (
                "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current",
                "100 {kb}k  100 {kb}k    0     0  {kb}k      0 --:--:-- --:--:-- --:--:-- {kb}k",
            ),
        ),
        footer=(
            "golangci-lint has version 1.58.1 built with go1.22.2",
            "installed tools: golangci-lint, gotestsum, buf",
        ),
    ),
    LogTemplate(
        id="docker",
        header=(
            "<c>INFO</>[0000] Retrieving image manifest {base_image}",
            "<c>INFO</>[0000] Retrieving image {base_image} from registry index.docker.io",
            "<c>INFO</>[0001] Built cross stage deps: map[]",
            "<c>INFO</>[0001] Executing 0 build triggers",
            "<c>INFO</>[0001] Building stage '{base_image}' [idx: '0', base-idx: '-1']",
        ),
        body=(
            (
                "<c>INFO</>[{k_secs}] RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl",
            ),
            ("Get:{n} http://deb.debian.org/debian bookworm/main amd64 {deb_pkg} amd64 {semver} [{kb} kB]",),
            ("<c>INFO</>[{k_secs}] COPY {ts_chunk} /app/{ts_chunk}",),
            ("<c>INFO</>[{k_secs}] Taking snapshot of files...",),
            ("<c>INFO</>[{k_secs}] Taking snapshot of full filesystem...",),
        ),
        footer=(
            "<c>INFO</>[{k_secs}] Pushing image to {artifact}",
            "<c>INFO</>[{k_secs}] Pushed {artifact_repo}@sha256:{sha256}",
        ),
    ),
    LogTemplate(
        id="deploy:rolling",
        header=(
            "Fetch Files",
            "Fetching manifest files from Harness File Store for service {service}",
            "Successfully fetched following files:",
            "- /{service}/templates/deployment.yaml",
            "- /{service}/templates/service.yaml",
            "- /{service}/values.yaml",
            "Initialize",
            "Rendering manifest files using go template",
            "Dry run manifests: kubectl --kubeconfig=config apply --filename=manifests-dry-run.yaml --dry-run=client",
            "Prepare",
            "Manifests processed. Found following resources:",
            "Kind                Name                                    Versioned",
            "Deployment          {service}                               false",
            "Apply",
            "kubectl --kubeconfig=config apply --filename=manifests.yaml --record",
            "deployment.apps/{service} configured",
            "Wait for Steady State",
            "kubectl --kubeconfig=config rollout status Deployment/{service} --namespace={namespace} --watch=true",
        ),
        body=(
            (
                'Waiting for deployment "{service}" rollout to finish: {n} of {replicas} updated replicas are available...',
            ),
            ('Event  : Pod   {service}-{hex7}-{pod5}   Pulling image "{artifact}"   Normal   Pulling',),
            ("Event  : Pod   {service}-{hex7}-{pod5}   Started container {service}   Normal   Started",),
        ),
        footer=(
            'deployment "{service}" successfully rolled out',
            "Status check done with success",
            "Wrap Up",
            "Done.",
        ),
    ),
    LogTemplate(
        id="deploy:canary",
        header=(
            "Fetch Files",
            "Successfully fetched manifest files for service {service}",
            "Initialize",
            "Prepare",
            "Found workload Deployment/{service}; canary workload Deployment/{service}-canary with {canary_pods} pod(s)",
            "Apply",
            "kubectl --kubeconfig=config apply --filename=manifests.yaml --record",
            "deployment.apps/{service}-canary created",
            "Wait for Steady State",
        ),
        body=(
            (
                'Waiting for deployment "{service}-canary" rollout to finish: 0 of {canary_pods} updated replicas are available...',
            ),
        ),
        footer=('deployment "{service}-canary" successfully rolled out', "Wrap Up", "Canary workload is ready"),
    ),
    LogTemplate(
        id="canary_delete",
        header=("Delete", "kubectl --kubeconfig=config delete Deployment/{service}-canary --namespace={namespace}"),
        footer=('deployment.apps "{service}-canary" deleted', "Done."),
    ),
    LogTemplate(
        id="verify",
        header=(
            "Verification started: canary analysis for {service} in {environment} ({duration_min} min, sensitivity MEDIUM)",
            "Health sources: prometheus-{environment} (metrics), elk-{environment} (logs)",
        ),
        body=(
            (
                "Analysis minute {n}: error rate canary {pct_small}% baseline {pct_small}%; p95 latency canary {ms}ms baseline {ms}ms: PASS",
            ),
            ("Log clusters: 0 unknown, 0 unexpected frequency",),
        ),
        footer=("Verification passed: risk NO_RISK", "Done."),
    ),
    LogTemplate(
        id="smoke",
        header=("Http step: GET {health_url}",),
        body=(("Attempt {n}: HTTP 200 in {ms}ms",),),
        footer=("Response code 200 matches assertion <+httpResponseCode> == 200",),
    ),
    LogTemplate(
        id="approval",
        header=("Approval required from user group(s) [{approver_group}]: promote {artifact} to {environment}",),
        footer=("Approved by {approver}: {approval_comment}",),
    ),
    LogTemplate(
        id="script:audit",
        header=("+ ./scripts/dependency-audit.sh --all-repos", "Auditing {n} repositories for vulnerable dependencies"),
        body=(
            ("[{repo_any}] npm audit: found 0 vulnerabilities in {n} scanned packages",),
            ("[{repo_any}] pip-audit: No known vulnerabilities found",),
            ("[{repo_any}] govulncheck: No vulnerabilities found.",),
            ("W|[{repo_any}] mvn dependency-check: {n} dependencies checked, 1 LOW severity finding (suppressed)",),
        ),
        footer=(
            "Audit report uploaded to s3://acme-security-reports/{date}/audit.json",
            "Audit finished: 0 blocking findings",
        ),
    ),
    LogTemplate(
        id="script:maintenance",
        header=(
            "+ ./ops/node-pool-maintenance.sh --cluster {cluster}",
            "Checking node pool health for cluster {cluster}",
        ),
        body=(
            ("node/{node} Ready  age={n}d  cpu={pct}%  memory={pct}%",),
            ("pod/{service_any}-{hex7}-{pod5} rescheduled to node/{node}",),
        ),
        footer=("Maintenance complete: {n} nodes checked, 0 cordoned",),
    ),
    LogTemplate(
        id="script:sast",
        header=(
            "+ semgrep ci --config p/typescript --junit-xml-output=reports/semgrep.xml",
            "Scanning {n} files with 412 rules",
        ),
        body=(("  Scanning src/{ts_file}",), ("  {n} rules ran on {n} files; {n} findings ignored by .semgrepignore",)),
        footer=("Ran 412 rules on {n} files: 0 findings.", "No blocking findings."),
    ),
    LogTemplate(
        id="script:versions",
        header=("+ ./scripts/latest-versions.sh", "Querying upstream release versions from api.github.com"),
        body=(("{go_mod}: latest {semver_v} (current {semver_v})",),),
        footer=("versions.env written with {n} entries",),
    ),
)

TEMPLATES: dict[str, LogTemplate] = {template.id: template for template in _TEMPLATES}
