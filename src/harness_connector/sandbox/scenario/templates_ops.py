"""Successful logs of everything around the build: pod setup, clone, image build and push, Kubernetes deploys,
canary verification, health checks, approvals and the shell scripts of scheduled jobs.
"""

from __future__ import annotations

from harness_connector.sandbox.scenario.template import LogTemplate

__all__ = ["OPS_TEMPLATES"]

OPS_TEMPLATES: tuple[LogTemplate, ...] = (
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
        id="script:install_tools",
        header=(
            "+ curl -sSfL -H 'Authorization: token ****' "
            "https://api.github.com/repos/golangci/golangci-lint/releases/latest",
            '  "tag_name": "v1.58.1",',
            "+ curl -sSfL "
            "https://github.com/golangci/golangci-lint/releases/download/v1.58.1/golangci-lint-1.58.1-linux-amd64.tar.gz",
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
                "<c>INFO</>[{k_secs}] RUN apt-get update && apt-get install -y --no-install-recommends "
                "ca-certificates curl",
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
                'Waiting for deployment "{service}" rollout to finish: '
                "{ready} of {replicas} updated replicas are available...",
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
            "Found workload Deployment/{service}; canary workload Deployment/{service}-canary with {canary_pods} "
            "pod(s)",
            "Apply",
            "kubectl --kubeconfig=config apply --filename=manifests.yaml --record",
            "deployment.apps/{service}-canary created",
            "Wait for Steady State",
        ),
        body=(
            (
                'Waiting for deployment "{service}-canary" rollout to finish: '
                "0 of {canary_pods} updated replicas are available...",
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
            "Verification started: canary analysis for {service} in {environment} ({duration_min} min, sensitivity "
            "MEDIUM)",
            "Health sources: prometheus-{environment} (metrics), elk-{environment} (logs)",
        ),
        body=(
            (
                "Analysis minute {minute}: error rate canary {pct_small}% baseline {pct_small}%; p95 latency canary "
                "{ms}ms baseline {ms}ms: PASS",
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
