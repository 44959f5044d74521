"""`parse_harness_url` against a corpus of real-shaped Harness UI URLs, and the inputs it must refuse."""

from __future__ import annotations

import pytest

from harness_connector.domain.refs import HarnessRef
from harness_connector.errors import InvalidHarnessURL, UsageError
from harness_connector.harness import urls
from harness_connector.harness.urls import parse_harness_url

A = "px7xd_BFRCi-pfWPYXVjvw"  # the shape of a real account id
APP = f"https://app.harness.io/ng/account/{A}"
PROJ = f"{APP}/all/orgs/default/projects/payments"
CODE = f"{APP}/module/code/orgs/default/projects/payments/repos"

CORPUS = [
    # --- pipelines and their pages ---
    pytest.param(
        f"{PROJ}/pipelines",
        HarnessRef(account_id=A, org_id="default", project_id="payments", resource_type="pipeline"),
        id="pipeline-list-page",
    ),
    pytest.param(
        f"{PROJ}/pipelines/Test_Approval/pipeline-studio/?storeType=INLINE&stageId=harness&stepId=ShellScript_1",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="pipeline",
            resource_id="Test_Approval",
            pipeline_id="Test_Approval",
            stage_id="harness",
            step_id="ShellScript_1",
            store_type="INLINE",
        ),
        id="pipeline-studio-with-stage-and-step-ids",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/pipeline-studio/?storeType=REMOTE&connectorRef=org.github&repoName=acme%2Fci&branch=main",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="pipeline",
            resource_id="build",
            pipeline_id="build",
            branch="main",
            store_type="REMOTE",
            connector_ref="org.github",
            repo_name="acme/ci",
        ),
        id="remote-pipeline-studio-with-git-query",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/executions/Ab12Cd/pipeline",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="execution",
            resource_id="Ab12Cd",
            pipeline_id="build",
            execution_id="Ab12Cd",
        ),
        id="execution-page",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/executions/exec_123/pipeline?step=s1&stage=t1&stageExecId=u1",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="execution",
            resource_id="exec_123",
            pipeline_id="build",
            execution_id="exec_123",
            stage_id="t1",
            step_id="s1",
            stage_execution_id="u1",
        ),
        id="execution-with-step-stage-and-stage-execution",
    ),
    pytest.param(
        f"{APP}/module/ci/orgs/default/projects/payments/pipelines/build/deployments/-JuPzW1xQ/pipeline"
        "?storeType=INLINE&step=mrwJ&stage=yx6K",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="ci",
            resource_type="execution",
            resource_id="-JuPzW1xQ",
            pipeline_id="build",
            execution_id="-JuPzW1xQ",
            stage_id="yx6K",
            step_id="mrwJ",
            store_type="INLINE",
        ),
        id="module-ci-deployments-page",
    ),
    pytest.param(
        f"{APP}/cd/orgs/default/projects/payments/pipelines/deploy/executions/Ab12Cd/pipeline",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="execution",
            resource_id="Ab12Cd",
            pipeline_id="deploy",
            execution_id="Ab12Cd",
        ),
        id="cd-module-segment-after-account",
    ),
    pytest.param(
        f"{APP}/all/cd/orgs/default/projects/payments/pipelines/deploy/deployments/Ab12Cd/pipeline",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="execution",
            resource_id="Ab12Cd",
            pipeline_id="deploy",
            execution_id="Ab12Cd",
        ),
        id="cd-module-segment-after-all",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/executions/Ab12Cd/logs",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="execution",
            resource_id="Ab12Cd",
            pipeline_id="build",
            execution_id="Ab12Cd",
        ),
        id="execution-console-view",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/executions",
        HarnessRef(
            account_id=A, org_id="default", project_id="payments", resource_type="execution", pipeline_id="build"
        ),
        id="execution-list-of-a-pipeline",
    ),
    pytest.param(
        f"{APP}/cd/orgs/default/projects/payments/deployments",
        HarnessRef(account_id=A, org_id="default", project_id="payments", module="cd", resource_type="execution"),
        id="cd-deployments-list",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/input-sets/smoke",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="input_set",
            resource_id="smoke",
            pipeline_id="build",
        ),
        id="input-set-page",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/input-sets",
        HarnessRef(
            account_id=A, org_id="default", project_id="payments", resource_type="input_set", pipeline_id="build"
        ),
        id="input-set-list",
    ),
    pytest.param(
        f"{PROJ}/pipelines/build/triggers/nightly/detail",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="trigger",
            resource_id="nightly",
            pipeline_id="build",
        ),
        id="trigger-detail-page",
    ),
    pytest.param(
        f"{APP}/ci/orgs/default/projects/payments/pipelines/build/triggers",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="ci",
            resource_type="trigger",
            pipeline_id="build",
        ),
        id="trigger-list-in-ci-module",
    ),
    pytest.param(
        f"{APP}/all/sto/orgs/default/projects/payments/pipelines/scan/executions/Zz9/pipeline",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="sto",
            resource_type="execution",
            resource_id="Zz9",
            pipeline_id="scan",
            execution_id="Zz9",
        ),
        id="sto-module-execution",
    ),
    pytest.param(
        f"{APP}/chaos/orgs/default/projects/payments/pipelines",
        HarnessRef(account_id=A, org_id="default", project_id="payments", module="chaos", resource_type="pipeline"),
        id="chaos-module-pipeline-list",
    ),
    pytest.param(
        f"{APP}/all/idp/orgs/default/projects/payments/pipelines/onboard/pipeline-studio/",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="idp",
            resource_type="pipeline",
            resource_id="onboard",
            pipeline_id="onboard",
        ),
        id="idp-module-pipeline-studio",
    ),
    # --- the old single-page form: the route lives after `#` ---
    pytest.param(
        f"https://app.harness.io/ng/#/account/{A}/ci/orgs/default/projects/payments/pipelines/build/executions/X1/pipeline"
        "?stage=unit&step=pytest",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="ci",
            resource_type="execution",
            resource_id="X1",
            pipeline_id="build",
            execution_id="X1",
            stage_id="unit",
            step_id="pytest",
        ),
        id="hash-form-execution-with-query-after-hash",
    ),
    pytest.param(
        f"https://app.harness.io/ng/#/account/{A}/cd/orgs/default/projects/payments/pipelines/deploy/pipeline-studio/",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="pipeline",
            resource_id="deploy",
            pipeline_id="deploy",
        ),
        id="hash-form-pipeline-studio",
    ),
    pytest.param(
        f"https://app.harness.io/ng/?utm=mail#/account/{A}/all/settings/connectors/github",
        HarnessRef(account_id=A, resource_type="connector", resource_id="github", resource_scope="account"),
        id="hash-form-with-query-before-hash",
    ),
    # --- hosts are ignored; percent-encoding is decoded ---
    pytest.param(
        f"{PROJ}/pipelines/My%20Pipeline/executions/Ab12Cd/pipeline".replace("payments", "My%20Project"),
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="My Project",
            resource_type="execution",
            resource_id="Ab12Cd",
            pipeline_id="My Pipeline",
            execution_id="Ab12Cd",
        ),
        id="percent-encoded-ids-are-decoded",
    ),
    pytest.param(
        f"https://acme.harness.io/ng/account/{A}/all/orgs/default/projects/payments/pipelines/build",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="pipeline",
            resource_id="build",
            pipeline_id="build",
        ),
        id="vanity-host",
    ),
    pytest.param(
        f"https://app.eu1.harness.io/ng/account/{A}/cd/orgs/default/projects/payments/services/checkout",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="service",
            resource_id="checkout",
            resource_scope="project",
        ),
        id="regional-host",
    ),
    pytest.param(
        "https://harness.internal.example.com:8443/ng/account/acct1/all/orgs/eng/projects/web/pipelines/release"
        "/executions/e1/pipeline",
        HarnessRef(
            account_id="acct1",
            org_id="eng",
            project_id="web",
            resource_type="execution",
            resource_id="e1",
            pipeline_id="release",
            execution_id="e1",
        ),
        id="self-managed-host-with-port",
    ),
    pytest.param(
        "http://localhost:8181/ng/#/account/kmpy/all/orgs/default/projects/sandbox/pipelines/build",
        HarnessRef(
            account_id="kmpy",
            org_id="default",
            project_id="sandbox",
            resource_type="pipeline",
            resource_id="build",
            pipeline_id="build",
        ),
        id="localhost-over-http-hash-form",
    ),
    pytest.param(
        f"/ng/account/{A}/all/orgs/default/projects/payments/pipelines/build/input-sets/nightly",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="input_set",
            resource_id="nightly",
            pipeline_id="build",
        ),
        id="path-only-input",
    ),
    pytest.param(
        f"  HTTPS://APP.HARNESS.IO/ng/account/{A}/all/orgs/default/projects/payments/overview\n",
        HarnessRef(
            account_id=A, org_id="default", project_id="payments", resource_type="project", resource_id="payments"
        ),
        id="pasted-with-surrounding-whitespace-and-upper-case-scheme",
    ),
    # --- account, organization and project pages ---
    pytest.param(
        f"{PROJ}/overview",
        HarnessRef(
            account_id=A, org_id="default", project_id="payments", resource_type="project", resource_id="payments"
        ),
        id="project-overview",
    ),
    pytest.param(
        f"{APP}/home/orgs/default/projects/payments/details",
        HarnessRef(
            account_id=A, org_id="default", project_id="payments", resource_type="project", resource_id="payments"
        ),
        id="project-details-under-home",
    ),
    pytest.param(
        f"{APP}/all/orgs/default/projects",
        HarnessRef(account_id=A, org_id="default", resource_type="project"),
        id="project-list-of-an-org",
    ),
    pytest.param(
        f"{APP}/settings/organizations/default/details",
        HarnessRef(account_id=A, org_id="default", resource_type="organization", resource_id="default"),
        id="organization-details",
    ),
    pytest.param(f"{APP}/all/settings", HarnessRef(account_id=A), id="account-settings-home"),
    pytest.param(f"{APP}/home/get-started", HarnessRef(account_id=A), id="account-home"),
    # --- settings pages at account, org and project scope ---
    pytest.param(
        f"{APP}/all/settings/connectors/test",
        HarnessRef(account_id=A, resource_type="connector", resource_id="test", resource_scope="account"),
        id="connector-at-account-scope",
    ),
    pytest.param(
        f"{APP}/all/orgs/default/settings/connectors/org_github",
        HarnessRef(
            account_id=A,
            org_id="default",
            resource_type="connector",
            resource_id="org_github",
            resource_scope="org",
        ),
        id="connector-at-org-scope",
    ),
    pytest.param(
        f"{PROJ}/setup/resources/connectors/c1",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="connector",
            resource_id="c1",
            resource_scope="project",
        ),
        id="connector-at-project-scope-setup",
    ),
    pytest.param(
        f"{PROJ}/settings/connectors/harnessSecretManager",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="connector",
            resource_id="harnessSecretManager",
            resource_scope="project",
        ),
        id="connector-at-project-scope-settings",
    ),
    pytest.param(
        f"{APP}/settings/resources/secrets/slack_token",
        HarnessRef(account_id=A, resource_type="secret", resource_id="slack_token", resource_scope="account"),
        id="secret-at-account-scope",
    ),
    pytest.param(
        f"{APP}/all/orgs/default/settings/secrets/s1",
        HarnessRef(account_id=A, org_id="default", resource_type="secret", resource_id="s1", resource_scope="org"),
        id="secret-at-org-scope",
    ),
    pytest.param(
        f"{PROJ}/setup/resources/secrets/db_password/overview",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="secret",
            resource_id="db_password",
            resource_scope="project",
        ),
        id="secret-at-project-scope",
    ),
    pytest.param(
        f"{APP}/settings/resources/delegates/d1",
        HarnessRef(account_id=A, resource_type="delegate", resource_id="d1", resource_scope="account"),
        id="delegate-at-account-scope",
    ),
    pytest.param(
        f"{APP}/all/orgs/default/settings/resources/delegates",
        HarnessRef(account_id=A, org_id="default", resource_type="delegate", resource_scope="org"),
        id="delegate-list-at-org-scope",
    ),
    pytest.param(
        f"{PROJ}/resources/delegates/k8s-delegate",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="delegate",
            resource_id="k8s-delegate",
            resource_scope="project",
        ),
        id="delegate-at-project-scope",
    ),
    pytest.param(
        f"{APP}/all/settings/resources/templates/tmpl/template-studio/Step/?versionLabel=v1",
        HarnessRef(account_id=A, resource_type="template", resource_id="tmpl", resource_scope="account"),
        id="template-studio-at-account-scope",
    ),
    pytest.param(
        f"{APP}/all/orgs/default/settings/templates",
        HarnessRef(account_id=A, org_id="default", resource_type="template", resource_scope="org"),
        id="template-list-at-org-scope",
    ),
    pytest.param(
        f"{PROJ}/setup/resources/templates/deploy_tmpl/template-studio/Pipeline/?versionLabel=1.2.0",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="template",
            resource_id="deploy_tmpl",
            resource_scope="project",
        ),
        id="template-studio-at-project-scope",
    ),
    # --- services, environments, infrastructures ---
    pytest.param(
        f"{APP}/cd/orgs/default/projects/payments/services/svc",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="service",
            resource_id="svc",
            resource_scope="project",
        ),
        id="service-at-project-scope",
    ),
    pytest.param(
        f"{APP}/settings/services/shared_svc",
        HarnessRef(account_id=A, resource_type="service", resource_id="shared_svc", resource_scope="account"),
        id="service-at-account-scope",
    ),
    pytest.param(
        f"{PROJ}/services",
        HarnessRef(
            account_id=A, org_id="default", project_id="payments", resource_type="service", resource_scope="project"
        ),
        id="service-list",
    ),
    pytest.param(
        f"{APP}/cd/orgs/default/projects/payments/environments/prod/details?sectionId=INFRASTRUCTURE",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="environment",
            resource_id="prod",
            resource_scope="project",
            environment_id="prod",
        ),
        id="environment-details",
    ),
    pytest.param(
        f"{APP}/all/cd/orgs/default/projects/payments/environments",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="environment",
            resource_scope="project",
        ),
        id="environment-list",
    ),
    pytest.param(
        f"{APP}/all/orgs/default/settings/environments/staging/details",
        HarnessRef(
            account_id=A,
            org_id="default",
            resource_type="environment",
            resource_id="staging",
            resource_scope="org",
            environment_id="staging",
        ),
        id="environment-at-org-scope",
    ),
    pytest.param(
        f"{APP}/cd/orgs/default/projects/payments/environments/prod/infrastructure-definitions/k8s",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cd",
            resource_type="infrastructure",
            resource_id="k8s",
            resource_scope="project",
            environment_id="prod",
        ),
        id="infrastructure-definition",
    ),
    pytest.param(
        f"{PROJ}/environments/qa/infrastructures/ecs_blue",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            resource_type="infrastructure",
            resource_id="ecs_blue",
            resource_scope="project",
            environment_id="qa",
        ),
        id="infrastructure-short-form",
    ),
    # --- feature flags ---
    pytest.param(
        f"{APP}/cf/orgs/default/projects/payments/feature-flags/my_flag",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="cf",
            resource_type="feature_flag",
            resource_id="my_flag",
        ),
        id="feature-flag",
    ),
    pytest.param(
        f"{APP}/module/cf/orgs/default/projects/payments/feature-flags",
        HarnessRef(account_id=A, org_id="default", project_id="payments", module="cf", resource_type="feature_flag"),
        id="feature-flag-list-in-module-cf",
    ),
    # --- Harness Code repositories and pull requests ---
    pytest.param(
        f"{CODE}/my-repo",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="repository",
            resource_id="my-repo",
            repo_id="my-repo",
        ),
        id="code-repository",
    ),
    pytest.param(
        f"{APP}/code/orgs/default/projects/payments/repos/web-app",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="repository",
            resource_id="web-app",
            repo_id="web-app",
        ),
        id="code-segment-after-account",
    ),
    pytest.param(
        f"{CODE}/query-service/pulls/166/conversation",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="pull_request",
            resource_id="166",
            repo_id="query-service",
            pr_number=166,
        ),
        id="pull-request-conversation",
    ),
    pytest.param(
        f"{CODE}/my-repo/pull-requests/42",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="pull_request",
            resource_id="42",
            repo_id="my-repo",
            pr_number=42,
        ),
        id="pull-request-long-form",
    ),
    pytest.param(
        f"{CODE}/my-repo/pulls",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="pull_request",
            repo_id="my-repo",
        ),
        id="pull-request-list",
    ),
    pytest.param(
        f"{CODE}/my-repo/files/main/~/src/app.py",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="repository",
            resource_id="my-repo",
            repo_id="my-repo",
            branch="main",
        ),
        id="code-file-on-a-branch",
    ),
    pytest.param(
        f"{CODE}/my-repo/files/release/2024.1/~/services/pipelines/api.py",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="repository",
            resource_id="my-repo",
            repo_id="my-repo",
            branch="release/2024.1",
        ),
        id="code-file-on-a-slashed-branch-whose-path-looks-like-routes",
    ),
    pytest.param(
        f"{CODE}/my-repo/commits/feature%2Fx",
        HarnessRef(
            account_id=A,
            org_id="default",
            project_id="payments",
            module="code",
            resource_type="repository",
            resource_id="my-repo",
            repo_id="my-repo",
            branch="feature/x",
        ),
        id="code-commits-of-an-encoded-branch",
    ),
]


@pytest.mark.parametrize(("url", "expected"), CORPUS)
def test_each_harness_ui_url_shape_parses_to_its_whole_reference(url: str, expected: HarnessRef) -> None:
    assert parse_harness_url(url) == expected


MALFORMED = [
    pytest.param("", id="empty"),
    pytest.param("  \n\t ", id="only-whitespace"),
    pytest.param("not a url at all", id="prose"),
    pytest.param("pipeline-build", id="bare-word"),
    pytest.param(f"ftp://app.harness.io/ng/account/{A}/all/orgs/default", id="ftp-scheme"),
    pytest.param("mailto:ops@harness.io", id="mailto-scheme"),
    pytest.param(f"app.harness.io/ng/account/{A}/all", id="no-scheme"),
    pytest.param(f"https:///ng/account/{A}/all", id="no-host"),
    pytest.param(f"http://[::1/ng/account/{A}", id="unparseable-host"),
    pytest.param("https://app.harness.io/", id="site-root"),
    pytest.param("https://developer.harness.io/docs/platform/pipelines/executions", id="nothing-harness-shaped"),
    pytest.param("/pipelines/build/executions/Ab12Cd", id="path-without-account"),
    pytest.param("https://app.harness.io/ng/account/", id="account-without-id"),
    pytest.param("https://app.harness.io/ng/account/all/orgs/default/projects/p", id="account-followed-by-route"),
    pytest.param(f"{PROJ}/pipelines/build pipeline/executions", id="whitespace-inside"),
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_or_non_harness_input_is_refused_with_what_was_expected(url: str) -> None:
    with pytest.raises(InvalidHarnessURL) as caught:
        parse_harness_url(url)
    message = str(caught.value)
    assert "expected a Harness UI URL such as https://app.harness.io/ng/account/<account>" in message
    assert "account" in message


def test_the_refusal_says_why_the_input_was_refused() -> None:
    with pytest.raises(InvalidHarnessURL, match="scheme 'ftp' is not http or https"):
        parse_harness_url("ftp://app.harness.io/ng/account/A")
    with pytest.raises(InvalidHarnessURL, match="no account id after it"):
        parse_harness_url("https://app.harness.io/ng/account/")


def test_a_very_long_input_is_quoted_only_in_part() -> None:
    garbage = "x" * 10_000
    with pytest.raises(InvalidHarnessURL) as caught:
        parse_harness_url(garbage)
    assert len(str(caught.value)) < 400


def test_an_invalid_url_is_a_usage_error() -> None:
    assert issubclass(InvalidHarnessURL, UsageError)


def test_the_host_does_not_change_the_reference() -> None:
    route = f"/ng/account/{A}/all/orgs/default/projects/payments/pipelines/build/executions/Ab12Cd/pipeline"
    hosts = ["https://app.harness.io", "https://acme.harness.io", "https://app.eu1.harness.io", "http://localhost:8181"]
    refs = {parse_harness_url(host + route) for host in hosts}
    assert refs == {parse_harness_url(route)}


def test_the_module_exports_the_parser_with_its_record_and_error() -> None:
    assert urls.__all__ == ["HarnessRef", "InvalidHarnessURL", "parse_harness_url"]
    assert urls.HarnessRef is HarnessRef
    assert urls.InvalidHarnessURL is InvalidHarnessURL
