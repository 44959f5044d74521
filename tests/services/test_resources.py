from __future__ import annotations

import pytest

from harness_connector.errors import HarnessNotFoundError, UsageError
from harness_connector.services.arguments import resolve_target
from harness_connector.services.resources import create_item, delete_item, get_item, list_items, update_item
from tests.services.sandbox_account import SandboxAccount

pytestmark = pytest.mark.anyio

PIPELINE_YAML = """pipeline:
  name: Build API
  identifier: build_api
  orgIdentifier: default
  projectIdentifier: payments
  stages:
    - stage:
        name: Build
        identifier: build
        type: CI
        spec:
          execution:
            steps:
              - step:
                  type: Run
                  name: Test
                  identifier: test
                  spec:
                    command: make test
"""


async def test_a_pipeline_round_trips_through_the_services_with_compact_rows_and_links(
    sandbox_account: SandboxAccount,
) -> None:
    conn = sandbox_account.conn
    created = await create_item(conn, resolve_target(conn, resource_type="pipeline"), PIPELINE_YAML)
    assert created.id == "build_api"
    listed = await list_items(conn, resolve_target(conn, resource_type="pipeline"))
    assert listed.total == 1
    row = listed.items[0]
    assert row["identifier"] == "build_api"
    assert row["name"] == "Build API"
    assert row["link"].endswith("/all/orgs/default/projects/payments/pipelines/build_api/pipeline-studio")
    assert all(value not in (None, "", [], {}) for value in row.values())
    detail = await get_item(conn, resolve_target(conn, resource_type="pipeline", resource_id="build_api"))
    assert "identifier: build_api" in detail.item["yamlPipeline"]
    updated = await update_item(
        conn,
        resolve_target(conn, resource_type="pipeline", resource_id="build_api"),
        PIPELINE_YAML.replace("Build API", "Build the API"),
    )
    assert updated.operation == "update"
    deleted = await delete_item(conn, resolve_target(conn, resource_type="pipeline", resource_id="build_api"))
    assert deleted.id == "build_api"
    with pytest.raises(HarnessNotFoundError):
        await get_item(conn, resolve_target(conn, resource_type="pipeline", resource_id="build_api"))


async def test_a_url_fills_scope_and_ids_and_wins_over_the_defaults(sandbox_account: SandboxAccount) -> None:
    conn = sandbox_account.conn
    url = (
        f"https://app.harness.io/ng/account/{conn.account_id}/all/orgs/default/projects/web"
        "/pipelines/deploy/executions/AbC123/pipeline"
    )
    target = resolve_target(conn, resource_type=None, url=url)
    assert target.resource.name == "execution"
    assert target.args["project_id"] == "web"
    assert target.args["execution_id"] == "AbC123"
    assert target.args["pipeline_id"] == "deploy"


async def test_a_url_from_another_account_is_refused(sandbox_account: SandboxAccount) -> None:
    url = "https://app.harness.io/ng/account/someoneElse/all/orgs/default/projects/web/pipelines"
    with pytest.raises(UsageError) as caught:
        resolve_target(sandbox_account.conn, resource_type=None, url=url)
    assert "someoneElse" in str(caught.value)


async def test_an_unknown_type_names_the_near_match(sandbox_account: SandboxAccount) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_target(sandbox_account.conn, resource_type="pipline")
    assert "pipeline" in str(caught.value)
