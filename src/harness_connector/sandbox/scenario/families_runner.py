"""Failure families of where builds run: memory and disk, pods and nodes, delegates, timeouts, expired credentials.

Harness names the cause itself where it detects it (pods, delegates, timeouts, connector credentials); for Run
steps it only reports the exit status, and the log tells the rest.
"""

from __future__ import annotations

from harness_connector.sandbox.scenario.failure import RUN_STEP_MESSAGE, FailureFamily

__all__ = ["RUNNER_FAMILIES"]

_APP = ("APPLICATION_ERROR",)
_MVN_ERR = "E|[<r>ERROR</>]"
_NPM_ERR = "E|npm <r>ERR!</>"

RUNNER_FAMILIES: tuple[FailureFamily, ...] = (
    FailureFamily(
        id="oom_killed",
        category="runner_environment",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile", "test"),
        mode="random",
        rate=0.003,
        exit_code=137,
        fail_at=(0.4, 0.9),
        lines={
            "maven": (
                f"{_MVN_ERR} The forked VM terminated without properly saying goodbye. VM crash or System.exit called?",
                f"{_MVN_ERR} Command was /bin/sh -c cd /harness && /opt/java/openjdk/bin/java -Xmx3g -jar "
                "/harness/target/surefire/surefirebooter-{hex12}.jar /harness/target/surefire",
                f"{_MVN_ERR} Error occurred in starting fork, check output in log",
                f"{_MVN_ERR} Process Exit Code: 137",
                f"{_MVN_ERR} Crashed tests:",
                "E|Killed",
            ),
            "gradle": (
                "E|> Task :app:test FAILED",
                "E|Gradle Test Executor 4 finished with non-zero exit value 137",
                "E|Killed",
            ),
            "npm": (
                "E|<--- Last few GCs --->",
                "E|[{n}:0x6a2f4b0]    {ms} ms: Mark-Compact 3981.2 (4130.4) -> 3979.8 (4131.1) MB",
                "E|FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                "E|Killed",
            ),
            "*": (
                "E|Killed",
                "E|command terminated with exit code 137 (OOMKilled: container memory limit 4Gi reached)",
            ),
        },
    ),
    FailureFamily(
        id="disk_full",
        category="runner_environment",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("install", "compile", "docker"),
        mode="random",
        rate=0.0012,
        lines={
            "npm": (
                f"{_NPM_ERR} code ENOSPC",
                f"{_NPM_ERR} syscall write",
                f"{_NPM_ERR} errno -28",
                f"{_NPM_ERR} nospc ENOSPC: no space left on device, write",
                f"{_NPM_ERR} nospc There appears to be insufficient space on your system to finish.",
            ),
            "docker": (
                "<c>INFO</>[{k_secs}] Taking snapshot of full filesystem...",
                "E|error building image: error building stage: failed to take snapshot: write "
                "/kaniko/{hex12}: no space left on device",
            ),
            "go": ("E|write /root/.cache/go-build/{hex7}/{hex12}-d: no space left on device",),
            "*": (
                "E|java.io.IOException: No space left on device",
                "E|\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)",
                "E|OSError: [Errno 28] No space left on device",
            ),
        },
    ),
    FailureFamily(
        id="pod_evicted",
        category="runner_environment",
        transient=True,
        failure_types=("INFRASTRUCTURE_FAILURE",),
        message="Pod harnessci-{pod} was evicted: The node was low on resource: ephemeral-storage. Container "
        "{container} "
        "was using 10487052Ki, which exceeds its request of 0.",
        roles=("init", "test"),
        mode="random",
        rate=0.0012,
        lines={"*": ("W|Pod harnessci-{pod} status changed: Failed (Evicted)",)},
    ),
    FailureFamily(
        id="node_lost",
        category="runner_environment",
        transient=True,
        failure_types=("INFRASTRUCTURE_FAILURE",),
        message="Pod harnessci-{pod} failed: node {node} is not ready (NodeLost); the step's container was terminated",
        roles=("compile", "test", "docker"),
        mode="random",
        rate=0.001,
        lines={"*": ("W|rpc error: code = Unavailable desc = error reading from server: EOF",)},
    ),
    FailureFamily(
        id="lite_engine_deadline",
        category="runner_environment",
        transient=True,
        failure_types=("INFRASTRUCTURE_FAILURE",),
        message="failed to call LE.RetryStartStep: context deadline exceeded",
        roles=("install", "compile", "test"),
        runs_step=False,
        mode="random",
        rate=0.0008,
        fail_at=(0.0, 0.05),
        lines={"*": ()},
    ),
    FailureFamily(
        id="delegate_unavailable",
        category="runner_environment",
        transient=True,
        failure_types=("DELEGATE_PROVISIONING",),
        message="No eligible delegate(s) in account to execute task. None of the delegates with selector(s) "
        "[{selector}] are connected",
        roles=("init", "deploy", "script", "ops", "smoke", "verify"),
        runs_step=False,
        mode="window",
        rate=1,
        window_minutes=(30, 75),
        fail_at=(0.0, 0.05),
        lines={"*": ("Task {task_id} queued for delegates with selector(s) [{selector}]",)},
    ),
    FailureFamily(
        id="step_timeout",
        category="timeout",
        transient=True,
        failure_types=("TIMEOUT_ERROR",),
        message="Timeout: step exceeded its timeout of {timeout}",
        roles=("install", "test", "deploy"),
        mode="random",
        rate=0.0012,
        step_status="Expired",
        fail_at=(1.0, 1.0),
        lines={
            "deploy": (
                'W|Waiting for deployment "{service}" rollout to finish: '
                "1 of {replicas} updated replicas are available...",
            ),
            "*": ("W|Received SIGTERM: step timed out", "E|Terminated"),
        },
    ),
    FailureFamily(
        id="registry_credentials_expired",
        category="authentication",
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("docker",),
        toolchains=("docker",),
        mode="window",
        rate=1,
        window_minutes=(120, 300),
        hit_rate=1.0,
        host="registry.acme.io",
        lines={
            "docker": (
                "<c>INFO</>[{k_secs}] Pushing image to {artifact}",
                "E|error pushing image: failed to push to destination {artifact}: POST "
                "https://registry.acme.io/v2/{artifact_path}/blobs/uploads/: UNAUTHORIZED: authentication required; "
                "[map[Action:pull Class: Name:{artifact_path} Type:repository] map[Action:push Class: "
                "Name:{artifact_path} Type:repository]]",
            )
        },
    ),
    FailureFamily(
        id="k8s_credentials_expired",
        category="authentication",
        transient=False,
        failure_types=("AUTHENTICATION",),
        message="Unable to connect to the Kubernetes cluster of connector [{connector}]: Unauthorized (401). The "
        "service account token may have expired; update the connector's credentials",
        roles=("deploy", "ops"),
        runs_step=False,
        mode="window",
        rate=0,
        hit_rate=1.0,
        fail_at=(0.0, 0.1),
        host="{cluster_host}",
        lines={"*": ("E|error: You must be logged in to the server (Unauthorized)",)},
    ),
)
