"""Successful logs of dependency installs, builds and test runs, per toolchain (line syntax in `template.py`)."""

from __future__ import annotations

from harness_connector.sandbox.scenario.template import LogTemplate

__all__ = ["BUILD_TEMPLATES"]

_MVN = "[<b>INFO</>]"
_MVN_WARN = "W|[<y>WARNING</>]"

BUILD_TEMPLATES: tuple[LogTemplate, ...] = (
    LogTemplate(
        id="install:npm",
        header=("+ {install_cmd}", "npm <c>info</> using npm@10.5.0", "npm <c>info</> using node@v20.12.2"),
        body=(
            ("npm <c>http</> fetch GET 200 https://registry.npmjs.org/{npm_dep} {ms}ms (cache miss)",),
            ("npm <c>http</> fetch GET 200 https://registry.npmjs.org/{npm_tarball} {ms}ms",),
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
                "     <g>━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━</> <g>{kb}.0/{kb}.0 kB</> <r>{mbs} MB/s</> eta "
                "<c>0:00:00</>",
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
                f"{_MVN} Downloaded from central: https://repo.maven.apache.org/maven2/{{maven_path}}.pom ({{kb}} kB "
                f"at {{kbs}} kB/s)",
            ),
            (
                f"{_MVN} Downloading from central: https://repo.maven.apache.org/maven2/{{maven_path}}.jar",
                f"{_MVN} Downloaded from central: https://repo.maven.apache.org/maven2/{{maven_path}}.jar ({{kb}} kB "
                f"at {{kbs}} kB/s)",
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
                "asset {ts_chunk}.{hex7}.js {kb} KiB <g>[emitted]</> <g>[immutable]</> <g>[minimized]</> (name: "
                "{ts_chunk})",
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
            f"{_MVN} <g>Tests run: {{group_count}}</>, Failures: {{group_failed}}, Errors: 0, Skipped: "
            f"{{group_skipped}}, Time elapsed: {{group_secs}} s - in <B>{{group}}</>",
        ),
        body=(
            (
                "{now_local} INFO 1 --- [{service}] [           main] c.a.{short_pkg}.{hex7}  : Started in {secs} "
                "seconds",
            ),
            (
                "{now_local} DEBUG 1 --- [{service}] [    Test worker] o.h.SQL : select p1_0.id from payment p1_0 "
                "where p1_0.id=?",
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
)
