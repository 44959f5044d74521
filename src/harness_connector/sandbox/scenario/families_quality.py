"""Failure families of what a change does when it runs: failing and flaky tests, bad releases, rejected or expired
approvals, and the crash nobody can explain.
"""

from __future__ import annotations

from harness_connector.sandbox.scenario.failure import RUN_STEP_MESSAGE, FailureFamily

__all__ = ["QUALITY_FAMILIES"]

_APP = ("APPLICATION_ERROR",)
_MVN_ERR = "E|[<r>ERROR</>]"

_TEST_SUMMARY = {
    "maven": (
        "[<b>INFO</>] Results:",
        "[<b>INFO</>] ",
        f"{_MVN_ERR} Failures: ",
        f"*{_MVN_ERR}   {{short_class}}.{{method}}:{{line}} {{message}}",
        f"{_MVN_ERR} ",
        f"{_MVN_ERR} <r>Tests run: {{total}}, Failures: {{failed}}, Errors: 0, Skipped: {{skipped}}</>",
        "[<b>INFO</>] <r>BUILD FAILURE</>",
        f"{_MVN_ERR} Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) "
        f"on "
        "project {service}: There are test failures.",
        f"{_MVN_ERR} ",
        f"{_MVN_ERR} Please refer to /harness/target/surefire-reports for the individual test results.",
    ),
    "gradle": (
        "E|{total} tests completed, {failed} failed, {skipped} skipped",
        "E|",
        "E|> Task :app:test FAILED",
        "E|FAILURE: Build failed with an exception.",
        "E|* What went wrong:",
        "E|Execution failed for task ':app:test'.",
        "E|> There were failing tests. See the report at: file:///harness/app/build/reports/tests/test/index.html",
        "E|BUILD FAILED in {secs}s",
    ),
    "npm": (
        "<B>Summarizing 1 failure:</>",
        "*E|<r>●</> {class_name} › {name}",
        "<B>Test Suites:</> <r>{failed} failed</>, {groups} total",
        "<B>Tests:</>       <r>{failed} failed</>, <y>{skipped} skipped</>, <g>{passed} passed</>, {total} total",
        "Ran all test suites.",
    ),
    "test:playwright": (
        "",
        "  <r>{failed} failed</>",
        "*E|    [chromium] › {file_name}:{line}:5 › {class_name} › {name}",
        "  <y>{skipped} skipped</>",
        "  <g>{passed} passed</> ({secs}s)",
    ),
    "pip": (
        "<r>=================================== FAILURES ===================================</>",
        "*E|<r>____________________ {short_class}.{name} ____________________</>",
        "*E|<r>E       {message}</>",
        "<B>=========================== short test summary info ============================</>",
        "*E|<r>FAILED</> {file_name}::{short_class}::{name} - {message}",
        "<r>======== {failed} failed, {passed} passed, {skipped} skipped in {secs}s ========</>",
    ),
    "go": (
        "*E|FAIL\t{suite}\t{dur_s}s",
        "",
        "E|=== Failed",
        "*E|=== FAIL: {suite} {name} ({dur_s}s)",
        "E|DONE {total} tests, {skipped} skipped, {failed} failures in {secs}s",
    ),
}

QUALITY_FAMILIES: tuple[FailureFamily, ...] = (
    FailureFamily(
        id="test_regression",
        category="test_failure",
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("test",),
        fix_hours=(2.0, 16.0),
        mode="test",
        rate=3,
        pr_rate=0.03,
        commits=("refactor: {change}", "fix: {fix}"),
        choices={
            "change": (
                "round settlement amounts half-even",
                "stop retrying declined authorisations",
                "cache exchange rates per request",
                "move currency formatting to the shared module",
            ),
            "fix": (
                "restore half-up rounding for settlements",
                "retry soft declines again",
                "invalidate the exchange-rate cache",
                "keep locale-aware currency formatting",
            ),
        },
        lines=_TEST_SUMMARY,
    ),
    FailureFamily(
        id="flaky_test",
        category="test_failure",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("test",),
        mode="test",
        lines=_TEST_SUMMARY,
    ),
    FailureFamily(
        id="rollout_progress_deadline",
        category="deployment",
        transient=False,
        failure_types=_APP,
        message="Steady state check failed for Deployment/{service}: "
        'deployment "{service}" exceeded its progress deadline',
        roles=("deploy",),
        mode="random",
        rate=0.012,
        fail_at=(0.7, 1.0),
        lines={
            "*": (
                'W|Waiting for deployment "{service}" rollout to finish: 1 old replicas are pending termination...',
                "W|Event  : Pod   {service}-{hex7}-{pod5}   Back-off restarting failed container {service} in pod "
                "{service}-{hex7}-{pod5}   Warning   BackOff",
                "W|Event  : Pod   {service}-{hex7}-{pod5}   Readiness probe failed: HTTP probe failed with "
                "statuscode: 503   "
                "Warning   Unhealthy",
                'E|error: deployment "{service}" exceeded its progress deadline',
                "E|Status check for resources in namespace [{namespace}] failed.",
                "Wrap Up",
                "E|Failed.",
            )
        },
    ),
    FailureFamily(
        id="image_pull_backoff",
        category="deployment",
        transient=False,
        failure_types=_APP,
        message="Steady state check failed for Deployment/{service}: "
        'ImagePullBackOff: Back-off pulling image "{artifact}"',
        roles=("deploy",),
        mode="random",
        rate=0.008,
        fail_at=(0.5, 1.0),
        lines={
            "*": (
                'Event  : Pod   {service}-{hex7}-{pod5}   Pulling image "{artifact}"   Normal   Pulling',
                'W|Event  : Pod   {service}-{hex7}-{pod5}   Failed to pull image "{artifact}": '
                "rpc error: code = NotFound "
                'desc = failed to pull and unpack image "{artifact}": failed to resolve reference "{artifact}": '
                "{artifact}: not found   Warning   Failed",
                "W|Event  : Pod   {service}-{hex7}-{pod5}   Error: ErrImagePull   Warning   Failed",
                'W|Event  : Pod   {service}-{hex7}-{pod5}   Back-off pulling image "{artifact}"   Normal   BackOff',
                "E|Event  : Pod   {service}-{hex7}-{pod5}   Error: ImagePullBackOff   Warning   Failed",
                "E|Status check for resources in namespace [{namespace}] failed.",
            )
        },
    ),
    FailureFamily(
        id="health_check_failed",
        category="deployment",
        transient=False,
        failure_types=_APP,
        message="Http step failed: assertion <+httpResponseCode> == 200 is false for GET {health_url} (response code "
        "503)",
        roles=("smoke",),
        mode="random",
        rate=0.012,
        lines={
            "*": (
                "W|Attempt 1: HTTP 503 in {ms}ms: upstream connect error or disconnect/reset before headers",
                "W|Attempt 2: HTTP 503 in {ms}ms: upstream connect error or disconnect/reset before headers",
                'E|Attempt 3: HTTP 503 in {ms}ms: {{"status":"DOWN","components":{{"db":{{"status":"DOWN"}}}}}}',
            )
        },
    ),
    FailureFamily(
        id="canary_verification_failed",
        category="deployment",
        transient=False,
        failure_types=("VERIFICATION_FAILURE",),
        message="Verification failed for {service} in {environment}: canary error rate {canary_error_pct}% vs baseline "
        "{baseline_error_pct}% (risk HIGH)",
        roles=("verify",),
        mode="incident",
        rate=2,
        fail_at=(0.5, 0.8),
        lines={
            "*": (
                "W|Analysis minute {minute}: error rate canary {canary_error_pct}% "
                "baseline {baseline_error_pct}%: FAIL",
                'W|Log clusters: 2 unknown: "ERROR c.a.p.SettlementClient : settlement call failed: '
                'java.lang.IllegalStateException: ledger cursor is stale"',
                "E|Verification failed: risk HIGH (2 metrics failed, 2 unknown log clusters)",
            )
        },
    ),
    FailureFamily(
        id="approval_rejected",
        category="approval_rejected",
        transient=False,
        failure_types=("APPROVAL_REJECTION",),
        message="Approval Step has been Rejected",
        roles=("approval",),
        step_status="ApprovalRejected",
        mode="approval",
        rate=0.06,
        lines={"*": ("Rejected by {approver}: {rejection_comment}",)},
        choices={
            "rejection_comment": (
                "not during the peak sales window",
                "waiting for the DB migration sign-off",
                "release notes missing the breaking change",
                "staging error rate still elevated",
            )
        },
    ),
    FailureFamily(
        id="approval_expired",
        category="timeout",
        transient=True,
        failure_types=("EXPIRED",),
        message="Approval Step has expired: no approval activity within {timeout}",
        roles=("approval",),
        mode="approval",
        rate=0.03,
        step_status="Expired",
        lines={"*": ("W|No approval activity from [{approver_group}] before the step timeout of {timeout}",)},
    ),
    FailureFamily(
        id="unknown_crash",
        category="unknown",
        transient=False,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("compile", "test"),
        mode="random",
        rate=0.0008,
        exit_code=139,
        lines={
            "*": (
                "E|panic: runtime error: invalid memory address or nil pointer dereference",
                "E|[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x{hex7}]",
                "E|",
                "E|goroutine 1 [running]:",
                "E|main.(*reporter).flush(0x0)",
                "E|\t/src/tools/report/main.go:211 +0x1c",
                "E|Segmentation fault (core dumped)",
            )
        },
    ),
)
