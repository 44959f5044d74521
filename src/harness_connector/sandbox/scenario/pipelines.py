"""The account's pipelines, built from the services: CI per repository, CD per deployed service, nightly jobs.

The pipeline YAML served by the API (`entities.py`) and the executions the generator writes are
both built from these specs, so they always agree on stage and step identifiers.
"""

from __future__ import annotations

from harness_connector.sandbox.scenario.specs import PipelineSpec, StageSpec, StepSpec
from harness_connector.sandbox.scenario.toolchains import TOOLCHAINS
from harness_connector.sandbox.scenario.world import SERVICES, ServiceSpec

__all__ = ["PIPELINES", "PipelineSpec", "StageSpec", "StepSpec", "service"]


_BY_ID = {svc.id: svc for svc in SERVICES}


def service(service_id: str) -> ServiceSpec:
    """The service called `service_id`."""
    return _BY_ID[service_id]


def _init(image: str) -> StepSpec:
    return StepSpec(
        "liteEngineTask",
        "Initialize",
        "liteEngineTask",
        "init",
        "init",
        seconds=(12, 55),
        lines=(10, 18),
        delegate="ci-build-delegate",
        command=image,
    )


_CLONE = StepSpec("harness-git-clone", "Clone codebase", "GitClone", "clone", "clone", seconds=(3, 14), lines=(8, 14))


def _docker(push_only: bool = True, identifier: str = "build_and_push", name: str = "Build and push image") -> StepSpec:
    return StepSpec(
        identifier,
        name,
        "BuildAndPushDockerRegistry",
        "docker",
        "docker",
        "docker",
        seconds=(70, 260),
        lines=(60, 400),
        timeout="20m",
        push_only=push_only,
        command="Dockerfile",
    )


_INSTALL_SECONDS = {"npm": (25, 95), "pip": (30, 120), "maven": (60, 200), "gradle": (50, 170), "go": (15, 70)}
_INSTALL_LINES = {"npm": (40, 300), "pip": (60, 400), "maven": (900, 4200), "gradle": (300, 1600), "go": (60, 320)}
_COMPILE_SECONDS = {"npm": (30, 110), "pip": (15, 60), "maven": (45, 150), "gradle": (60, 200), "go": (20, 80)}


def _ci_steps(svc: ServiceSpec, *, test_retry: int = 0, tools: bool = False) -> tuple[StepSpec, ...]:
    tc = TOOLCHAINS[svc.toolchain]
    steps = [_init(tc.image), _CLONE]
    if tools:
        steps.append(
            StepSpec(
                "install_tools",
                "Install tools",
                "Run",
                "script",
                "script:install_tools",
                seconds=(4, 15),
                lines=(8, 16),
                command="./ci/install-tools.sh",
            )
        )
    steps += [
        StepSpec(
            "install_dependencies",
            "Install dependencies",
            "Run",
            "install",
            f"install:{tc.id}",
            tc.id,
            _INSTALL_SECONDS[tc.id],
            _INSTALL_LINES[tc.id],
            "15m",
            command=tc.install_cmd,
        ),
        StepSpec(
            "compile",
            "Compile" if tc.id != "pip" else "Lint and type-check",
            "Run",
            "compile",
            f"compile:{tc.id}",
            tc.id,
            _COMPILE_SECONDS[tc.id],
            (40, 260),
            "15m",
            command=tc.compile_cmd,
        ),
        StepSpec(
            "run_tests",
            "Run unit tests",
            "Run",
            "test",
            svc.test_template,
            tc.id,
            (0, 0),
            (0, 0),
            "30m",
            has_reports=True,
            retry=test_retry,
            command=tc.test_cmd,
        ),
    ]
    return tuple(steps)


def _ci(svc_id: str, *, test_retry: int = 0, tools: bool = False) -> PipelineSpec:
    svc = service(svc_id)
    steps = (*_ci_steps(svc, test_retry=test_retry, tools=tools), _docker())
    stage = StageSpec("build_and_test", "Build and test", "CI", "ci", steps)
    return PipelineSpec(
        f"{svc_id}_ci",
        f"{svc.name} CI",
        svc.org,
        svc.project,
        "ci",
        "ci",
        (stage,),
        svc_id,
        svc.name,
        description=f"Builds, tests and publishes {svc.name} on pushes to main and on pull requests",
    )


def _deploy_stage(svc: ServiceSpec, env: str, strategy: str) -> StageSpec:
    delegate = "k8s-prod-delegate" if env == "production" else "k8s-staging-delegate"
    selectors = ("prod",) if env == "production" else ("staging",)

    def cd_step(
        ident: str,
        name: str,
        step_type: str,
        role: str,
        template: str,
        seconds: tuple[float, float],
        lines: tuple[int, int],
        timeout: str = "10m",
    ) -> StepSpec:
        return StepSpec(
            ident, name, step_type, role, template, "", seconds, lines, timeout, delegate=delegate, selectors=selectors
        )

    rolling = cd_step(
        "rolloutDeployment", "Rollout Deployment", "K8sRollingDeploy", "deploy", "deploy:rolling", (60, 300), (40, 160)
    )
    smoke = cd_step("smoke_test", "Smoke test", "Http", "smoke", "smoke", (2, 12), (3, 8), "2m")
    if strategy == "Canary":
        steps: tuple[StepSpec, ...] = (
            cd_step(
                "canaryDeployment",
                "Canary Deployment",
                "K8sCanaryDeploy",
                "deploy",
                "deploy:canary",
                (50, 200),
                (20, 80),
            ),
            cd_step("verify_canary", "Verify canary", "Verify", "verify", "verify", (600, 900), (20, 40), "30m"),
            cd_step(
                "canaryDelete", "Canary Delete", "K8sCanaryDelete", "canary_delete", "canary_delete", (5, 20), (3, 5)
            ),
            rolling,
        )
    else:
        steps = (rolling, smoke)
    ident = f"deploy_{env}" if strategy == "Rolling" else f"canary_{env}"
    name = f"Deploy to {env}" if strategy == "Rolling" else f"Canary to {env}"
    return StageSpec(ident, name, "Deployment", "cd", steps, environment=env, strategy=strategy)


def _cd(svc_id: str, prod_strategy: str) -> PipelineSpec:
    svc = service(svc_id)
    approval = StepSpec(
        "approve",
        "Approve production",
        "HarnessApproval",
        "approval",
        "approval",
        seconds=(0, 0),
        lines=(2, 3),
        timeout="4h",
    )
    stages = (
        _deploy_stage(svc, "staging", "Rolling"),
        StageSpec("approve_production", "Approve production", "Approval", "pms", (approval,)),
        _deploy_stage(svc, "production", prod_strategy),
    )
    return PipelineSpec(
        f"{svc_id}_deploy",
        f"{svc.name} deploy",
        svc.org,
        svc.project,
        "cd",
        "cd",
        stages,
        svc_id,
        description=f"{prod_strategy} deployment of {svc.name} to staging, then production",
    )


def _storefront_ci() -> PipelineSpec:
    svc = service("storefront")
    tc = TOOLCHAINS["npm"]
    sast = StepSpec(
        "sast",
        "Static analysis",
        "Run",
        "scan",
        "script:sast",
        "npm",
        (40, 120),
        (30, 90),
        command="semgrep ci --config p/typescript",
    )
    stages = (
        StageSpec("build_and_test", "Build and test", "CI", "ci", _ci_steps(svc, test_retry=1), parallel_group=1),
        StageSpec("security_scan", "Security scan", "CI", "ci", (_init(tc.image), _CLONE, sast), parallel_group=1),
        StageSpec("publish", "Publish image", "CI", "ci", (_init(tc.image), _CLONE, _docker())),
    )
    return PipelineSpec(
        "storefront_ci",
        "storefront CI",
        svc.org,
        svc.project,
        "ci",
        "ci",
        stages,
        "storefront",
        "storefront",
        description="Builds, tests, scans and publishes the storefront",
    )


def _e2e_nightly() -> PipelineSpec:
    tc = TOOLCHAINS["npm"]
    steps = (
        _init("mcr.microsoft.com/playwright:v1.44.0-jammy"),
        _CLONE,
        StepSpec(
            "install_dependencies",
            "Install dependencies",
            "Run",
            "install",
            "install:npm",
            "npm",
            (25, 95),
            (40, 300),
            "15m",
            command=tc.install_cmd,
        ),
        StepSpec(
            "e2e_tests",
            "End-to-end tests",
            "Run",
            "test",
            "test:playwright",
            "npm",
            (0, 0),
            (0, 0),
            "60m",
            has_reports=True,
            command="npx playwright test",
        ),
    )
    stage = StageSpec("e2e", "End-to-end tests", "CI", "ci", steps)
    return PipelineSpec(
        "storefront_e2e_nightly",
        "storefront e2e nightly",
        "default",
        "web",
        "nightly",
        "ci",
        (stage,),
        "storefront_e2e",
        "storefront",
        cron="0 2 * * *",
        description="Runs the Playwright suite against staging every night",
    )


def _base_images() -> PipelineSpec:
    stages = []
    for flavour, image in (("node", "node"), ("python", "python"), ("jvm", "eclipse-temurin")):
        versions = StepSpec(
            "fetch_versions",
            "Fetch upstream versions",
            "Run",
            "script",
            "script:versions",
            seconds=(3, 12),
            lines=(8, 20),
            command="./scripts/latest-versions.sh",
        )
        steps = (
            _init(TOOLCHAINS["docker"].image),
            _CLONE,
            versions,
            _docker(False, f"build_{flavour}", f"Build {flavour} base image"),
        )
        stages.append(StageSpec(f"{flavour}_image", f"{image} base image", "CI", "ci", steps, parallel_group=0))
    return PipelineSpec(
        "base_images_build",
        "base images",
        "platform",
        "infra",
        "images",
        "ci",
        tuple(stages),
        "base_images",
        "base-images",
        cron="0 5 * * 1",
        description="Rebuilds the base images on changes and every Monday",
    )


def _shell_pipeline(
    ident: str, name: str, kind: str, role: str, delegate: str, selectors: tuple[str, ...], cron: str, description: str
) -> PipelineSpec:
    step = StepSpec(
        kind,
        name,
        "ShellScript",
        role,
        f"script:{kind}",
        seconds=(60, 420),
        lines=(30, 260),
        timeout="30m",
        delegate=delegate,
        selectors=selectors,
        command=f"./ops/{kind}.sh",
    )
    stage = StageSpec(kind, name, "Custom", "pms", (step,))
    return PipelineSpec(ident, name, "platform", "infra", kind, "pms", (stage,), cron=cron, description=description)


PIPELINES: tuple[PipelineSpec, ...] = (
    _ci("payments_api"),
    _ci("ledger", test_retry=1, tools=True),
    _ci("fraud_scorer"),
    _ci("payments_webhooks", test_retry=1),
    _cd("payments_api", "Canary"),
    _cd("ledger", "Rolling"),
    _storefront_ci(),
    _ci("mobile_bff"),
    _ci("search_api"),
    _cd("storefront", "Rolling"),
    _e2e_nightly(),
    _ci("infra_tools", tools=True),
    _base_images(),
    _shell_pipeline(
        "nightly_dependency_audit",
        "Dependency audit",
        "audit",
        "script",
        "legacy-shell-delegate",
        ("legacy",),
        "30 3 * * *",
        "Audits every repository's dependencies each night",
    ),
    _shell_pipeline(
        "cluster_maintenance",
        "Cluster maintenance",
        "maintenance",
        "ops",
        "platform-ops-delegate",
        ("ops",),
        "",
        "Checks and rebalances the infra cluster's node pools",
    ),
)
