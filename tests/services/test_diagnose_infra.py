from __future__ import annotations

import json
from typing import Any

import pytest

from harness_connector.config import Settings
from harness_connector.errors import UsageError
from harness_connector.sandbox import create_app
from harness_connector.sandbox.resources import create_resource
from harness_connector.services.arguments import resolve_target
from harness_connector.services.connection import connect
from harness_connector.services.diagnose import diagnose_connector, diagnose_delegates
from tests.services.sandbox_account import SandboxAccount

pytestmark = pytest.mark.anyio

MINUTE = 60_000
DAY = 86_400_000
Json = dict[str, Any]

GITHUB_SPEC: Json = {
    "url": "https://github.com/acme",
    "type": "Account",
    "authentication": {"type": "Http", "spec": {"type": "UsernameToken", "spec": {"tokenRef": "gh_token"}}},
}

PIPELINE_YAML = """pipeline:
  name: Deploy API
  identifier: deploy_api
  orgIdentifier: default
  projectIdentifier: payments
  stages:
    - stage:
        name: Deploy
        identifier: deploy
        type: Custom
        delegateSelectors: [k8s]
        spec:
          execution:
            steps:
              - step:
                  type: ShellScript
                  name: Train
                  identifier: train
                  spec:
                    shell: Bash
                    delegateSelectors: [gpu, k8s]
                    source: {type: Inline, spec: {script: make train}}
              - step:
                  type: ShellScript
                  name: Legacy
                  identifier: legacy
                  spec:
                    shell: Bash
                    delegateSelectors: [old-dc]
                    source: {type: Inline, spec: {script: ./legacy.sh}}
              - step:
                  type: ShellScript
                  name: Chosen
                  identifier: chosen
                  spec:
                    shell: Bash
                    delegateSelectors: <+input>
                    source: {type: Inline, spec: {script: echo}}
"""


def _connector(acc: SandboxAccount, identifier: str, spec: Json, kind: str = "Github") -> None:
    body = {"connector": {"name": identifier, "identifier": identifier, "type": kind, "spec": spec,
                          "orgIdentifier": "default", "projectIdentifier": "payments"}}  # fmt: skip
    create_resource(acc.ctx, "connector", org="default", project="payments", body=body)


def _delegate(acc: SandboxAccount, name: str, *, project: str = "", **fields: Any) -> None:
    body = {"name": name, "lastHeartBeat": acc.clock[0] - 30_000, **fields}
    create_resource(acc.ctx, "delegate", org="default" if project else "", project=project, body=body)


async def test_a_connector_whose_test_passes_is_healthy(sandbox_account: SandboxAccount) -> None:
    conn = sandbox_account.conn
    _connector(sandbox_account, "github", GITHUB_SPEC)
    result = await diagnose_connector(conn, resolve_target(conn, resource_type="connector", resource_id="github"))
    assert (result.verdict, result.reason) == ("healthy", "the connection test passed")
    assert (result.url, result.auth_type) == ("https://github.com/acme", "Http")
    assert result.cause is None
    assert result.link is not None and result.link.endswith("/settings/connectors/github")


async def test_a_connector_no_delegate_can_test_is_reported_as_untestable_with_its_selectors(
    sandbox_account: SandboxAccount,
) -> None:
    conn = sandbox_account.conn
    _connector(sandbox_account, "vault", {"url": "https://vault.internal", "delegateSelectors": ["vault-net"]}, "Vault")
    result = await diagnose_connector(conn, resolve_target(conn, resource_type="connector", resource_id="vault"))
    assert result.verdict == "cannot_test"
    assert "vault-net" in result.reason
    assert result.cause is not None and "No eligible delegate" in result.cause
    assert any("resource_type=delegate" in hint for hint in result.next_steps)


async def test_a_connector_whose_test_fails_is_failing_with_the_deepest_error_and_the_secret_to_fix(
    sandbox_account: SandboxAccount,
) -> None:
    acc = sandbox_account
    _connector(acc, "github", GITHUB_SPEC)
    failed = {"status": "FAILURE", "errorSummary": "Invalid credentials", "testedAt": acc.clock[0], "errors": [
        {"reason": "Unexpected error", "message": "Please check your credentials", "code": 450},
        {"reason": "Authentication failed", "message": "HTTP 401: Bad credentials", "code": 450},
    ]}  # fmt: skip
    app = create_app(acc.ctx)

    async def failing_test(scope: Json, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/testConnection/" in scope["path"]:
            body = json.dumps({"status": "SUCCESS", "data": failed}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    conn = connect(settings, asgi_app=failing_test, base_url="http://127.0.0.1", api_key=acc.keys.admin_pat,
                   org="default", project="payments")  # fmt: skip
    try:
        result = await diagnose_connector(conn, resolve_target(conn, resource_type="connector", resource_id="github"))
    finally:
        await conn.aclose()
    assert result.verdict == "failing"
    assert result.cause == "HTTP 401: Bad credentials"
    assert len(result.errors) == 2
    assert result.next_steps == [
        "the credentials were refused: renew the token or password in the secret it references (the connector "
        "uses gh_token)"
    ]


async def test_delegate_issues_and_selectors_no_connected_delegate_serves_are_reported(
    sandbox_account: SandboxAccount,
) -> None:
    acc = sandbox_account
    now = acc.clock[0]
    _delegate(acc, "k8s-main", tags=["k8s", "prod"])
    _delegate(acc, "old-dc-runner", tags=["old-dc"], lastHeartBeat=now - 12 * MINUTE)
    _delegate(acc, "expiring", tags=["batch"], expiringAt=now + 2 * DAY)
    _delegate(acc, "legacy-box", legacy=True, project="payments")
    create_resource(acc.ctx, "pipeline", org="default", project="payments", body=PIPELINE_YAML)
    _connector(acc, "vault", {"url": "https://vault.internal", "delegateSelectors": ["vault-net"]}, "Vault")
    result = await diagnose_delegates(acc.conn, now_ms=now)
    by_name = {d.name: d for d in result.delegates}
    assert (result.total, result.healthy_count, result.unhealthy_count) == (4, 1, 3)
    assert result.delegates[-1].name == "k8s-main"  # unhealthy first
    assert by_name["k8s-main"].issues == []
    assert by_name["k8s-main"].heartbeat_age_s == 30
    old = by_name["old-dc-runner"]
    assert not old.connected
    assert old.issues[0].startswith("disconnected")
    assert "12m ago" in old.issues[1]
    assert "expires in 2d" in by_name["expiring"].issues[0]
    assert by_name["legacy-box"].scope == "project default/payments"
    assert by_name["legacy-box"].issues[0].startswith("legacy delegate")
    unmatched = {tuple(u.selectors): u for u in result.unmatched_selectors}
    assert set(unmatched) == {("gpu", "k8s"), ("old-dc",), ("vault-net",)}
    assert unmatched[("gpu", "k8s")].missing == ["gpu"]
    assert unmatched[("gpu", "k8s")].used_by == ["deploy_api/deploy/train"]
    assert unmatched[("old-dc",)].disconnected_matches == ["old-dc-runner"]
    assert unmatched[("vault-net",)].used_by == ["connector:vault"]
    assert (result.pipelines_scanned, result.pipelines_total) == (1, 1)
    assert any("unmatched_selectors" in hint for hint in result.next_steps)


async def test_a_delegate_name_filter_narrows_the_list_and_an_unknown_name_lists_the_known_ones(
    sandbox_account: SandboxAccount,
) -> None:
    acc = sandbox_account
    _delegate(acc, "k8s-main", tags=["k8s"])
    _delegate(acc, "docker-build")
    result = await diagnose_delegates(acc.conn, "K8S", now_ms=acc.clock[0], check_selectors=False)
    assert [d.name for d in result.delegates] == ["k8s-main"]
    with pytest.raises(UsageError) as caught:
        await diagnose_delegates(acc.conn, "gpu", now_ms=acc.clock[0])
    assert "docker-build, k8s-main" in str(caught.value)
