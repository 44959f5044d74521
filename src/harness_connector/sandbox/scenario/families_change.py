"""Failure families a change causes before anything runs: configuration and secret regressions, compile errors."""

from __future__ import annotations

from harness_connector.sandbox.scenario.failure import RUN_STEP_MESSAGE, FailureFamily

__all__ = ["CHANGE_FAMILIES"]

_APP = ("APPLICATION_ERROR",)
_CONFIG = ("CONFIGURATION_FAILURE",)
_MVN_ERR = "E|[<r>ERROR</>]"

CHANGE_FAMILIES: tuple[FailureFamily, ...] = (
    FailureFamily(
        id="unresolved_expression",
        category="configuration",
        transient=False,
        failure_types=_CONFIG,
        message="Invalid request: Unresolved expressions found in step [{step}]: <+pipeline.variables.{variable}>. "
        "Check that the variable is defined in the pipeline and spelled correctly",
        roles=("docker",),
        fix_hours=(2.0, 10.0),
        runs_step=False,
        mode="main_regression",
        rate=1,
        fail_at=(0.0, 0.02),
        commits=(
            "ci: tag images with <+pipeline.variables.{variable}>",
            "ci: declare the {variable} pipeline variable",
        ),
        choices={"variable": ("imageTag", "releaseChannel", "buildVersion", "registryPath")},
        lines={"*": ()},
    ),
    FailureFamily(
        id="missing_runtime_input",
        category="configuration",
        transient=False,
        failure_types=_CONFIG,
        message="Value not provided for required variable: {variable}",
        roles=("init",),
        fix_hours=(0.5, 3.0),
        runs_step=False,
        mode="main_regression",
        rate=1,
        fail_at=(0.0, 0.01),
        commits=("ci: make {variable} a runtime input", "ci: default {variable} so triggers can run the pipeline"),
        choices={"variable": ("targetCluster", "nodeVersion", "testShards", "jdkVersion")},
        lines={"*": ()},
    ),
    FailureFamily(
        id="bad_connector_ref",
        category="configuration",
        transient=False,
        failure_types=_CONFIG,
        message="Connector not found for identifier : [{connector}] with scope: [PROJECT]",
        roles=("docker",),
        fix_hours=(1.0, 6.0),
        runs_step=False,
        mode="main_regression",
        rate=1,
        fail_at=(0.0, 0.02),
        commits=(
            "ci: push images through the new {connector} registry",
            "ci: point connectorRef back to the registry connector",
        ),
        choices={"connector": ("harbor_push", "ecr_prod", "gar_artifacts", "acme_registry_v2")},
        lines={"*": ()},
    ),
    FailureFamily(
        id="missing_secret",
        category="authentication",
        transient=False,
        failure_types=_APP,
        message="Invalid request: Could not find secret [{secret}] in the scope of project [{project}]",
        roles=("test",),
        fix_hours=(3.0, 20.0),
        runs_step=False,
        mode="main_regression",
        rate=1,
        fail_at=(0.0, 0.02),
        commits=(
            'test: read the sandbox API key from <+secrets.getValue("{secret}")>',
            "ci: create {secret} and fix its reference",
        ),
        choices={"secret": ("stripe_sandbox_key", "snyk_token", "slack_webhook_url", "pact_broker_token")},
        lines={"*": ()},
    ),
    FailureFamily(
        id="compile_error_java",
        category="compile_error",
        fail_at=(0.05, 0.35),
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile",),
        toolchains=("maven",),
        mode="pr_regression",
        rate=0.03,
        commits=("refactor: inline {symbol}", "fix: restore {symbol} overload"),
        choices={"symbol": ("toMinorUnits", "settlementWindow", "ledgerAccountFor", "withIdempotencyKey")},
        lines={
            "*": (
                "[<b>INFO</>] Compiling {n} source files with javac [debug release 17] to target/classes",
                "[<b>INFO</>] -------------------------------------------------------------",
                f"{_MVN_ERR} COMPILATION ERROR : ",
                "[<b>INFO</>] -------------------------------------------------------------",
                f"{_MVN_ERR} /harness/{{src_file}}:[{{line}},{{col}}] cannot find symbol",
                "E|  symbol:   method {symbol}(java.lang.String)",
                "E|  location: class {src_class}",
                "[<b>INFO</>] 1 error",
                "[<b>INFO</>] <r>BUILD FAILURE</>",
                f"{_MVN_ERR} Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile "
                "(default-compile) on project {service}: Compilation failure",
                f"{_MVN_ERR} /harness/{{src_file}}:[{{line}},{{col}}] cannot find symbol",
            )
        },
    ),
    FailureFamily(
        id="compile_error_kotlin",
        category="compile_error",
        fail_at=(0.05, 0.35),
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile",),
        toolchains=("gradle",),
        mode="pr_regression",
        rate=0.03,
        commits=("refactor: rename {symbol}", "fix: update callers of {symbol}"),
        choices={"symbol": ("cartSummaryFor", "resolveLocale", "mapToDto", "sessionToken")},
        lines={
            "*": (
                "> Task :app:compileKotlin FAILED",
                "E|e: file:///harness/{src_file}:{line}:{col} Unresolved reference: {symbol}",
                "E|",
                "E|FAILURE: Build failed with an exception.",
                "E|* What went wrong:",
                "E|Execution failed for task ':app:compileKotlin'.",
                "E|> Compilation error. See log for more details",
                "E|BUILD FAILED in {secs}s",
            )
        },
    ),
    FailureFamily(
        id="compile_error_typescript",
        category="compile_error",
        fail_at=(0.05, 0.35),
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile",),
        toolchains=("npm",),
        mode="pr_regression",
        rate=0.035,
        commits=("feat: show {symbol} in the summary", "fix: add {symbol} to the type"),
        choices={"symbol": ("totalCents", "discountCode", "shippingEta", "retryAfter")},
        lines={
            "*": (
                "E|{src_file}({line},{col}): error TS2339: Property '{symbol}' does not exist on type '{src_class}'.",
                "E|",
                "E|Found 1 error in {src_file}:{line}",
                "E|",
            )
        },
    ),
    FailureFamily(
        id="compile_error_go",
        category="compile_error",
        fail_at=(0.05, 0.35),
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile",),
        toolchains=("go",),
        mode="pr_regression",
        rate=0.03,
        exit_code=1,
        commits=("refactor: move {symbol} into its own package", "fix: import {symbol} from its new package"),
        choices={"symbol": ("PostEntry", "NewBatcher", "ParseWindow", "ErrStaleCursor")},
        lines={
            "*": (
                "E|# {go_pkg_full}",
                "E|{src_file}:{line}:{col}: undefined: {symbol}",
                "E|{src_file}:{line2}:{col}: undefined: {symbol}",
            )
        },
    ),
    FailureFamily(
        id="compile_error_python",
        category="compile_error",
        fail_at=(0.05, 0.35),
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile",),
        toolchains=("pip",),
        mode="pr_regression",
        rate=0.03,
        commits=("feat: score {symbol} in the model", "fix: pass {symbol} as float"),
        choices={"symbol": ("velocity_score", "merchant_risk", "chargeback_ratio", "device_age")},
        lines={
            "*": (
                "All checks passed!",
                'E|{src_file}:{line}: <r>error:</> Argument 1 to "{symbol}" has incompatible type "str"; expected '
                '"float"  <y>[arg-type]</>',
                "E|<r>Found 1 error in 1 file (checked {n} source files)</>",
            )
        },
    ),
)
