from __future__ import annotations

from typing import Any

import pytest

from harness_connector.errors import UsageError
from harness_connector.harness.registry import get_resource_type, resource_types
from harness_connector.sandbox.resources import create_resource
from harness_connector.services.search import MAX_REQUESTS, SearchResult, read_query, score_item, search
from tests.services.sandbox_account import SandboxAccount

PIPELINE_YAML = """pipeline:
  name: {name}
  identifier: {identifier}
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


def _pipeline(account: SandboxAccount, identifier: str, name: str) -> None:
    create_resource(
        account.ctx,
        "pipeline",
        org="default",
        project="payments",
        body=PIPELINE_YAML.format(identifier=identifier, name=name),
    )


def _checkout_everywhere(account: SandboxAccount) -> None:
    ctx = account.ctx
    _pipeline(account, "checkout_build", "Checkout Build")
    entity: dict[str, Any] = {"orgIdentifier": "default", "projectIdentifier": "payments"}
    create_resource(
        ctx, "service", org="default", project="payments", body={**entity, "identifier": "checkout", "name": "Checkout"}
    )
    create_resource(
        ctx,
        "environment",
        org="default",
        project="payments",
        body={**entity, "identifier": "checkout_qa", "name": "Checkout QA", "type": "PreProduction"},
    )
    connector = {"identifier": "checkout_repo", "name": "Checkout repo", "type": "Github", "spec": {"url": "x"}}
    create_resource(ctx, "connector", org="default", project="payments", body={"connector": {**entity, **connector}})
    secret = {
        "identifier": "checkout_token",
        "name": "Checkout token",
        "type": "SecretText",
        "spec": {"secretManagerIdentifier": "harnessSecretManager", "valueType": "Inline", "value": "s3cr3t"},
    }
    create_resource(ctx, "secret", org="default", project="payments", body={"secret": {**entity, **secret}})


# ---- reading the query and scoring (pure) ---------------------------------------------------------------------


def test_a_type_name_in_the_query_picks_the_type_and_leaves_weaker_type_words_as_terms() -> None:
    reading = read_query("payments deploy pipeline")
    assert reading.named_types == ["pipeline"]
    assert reading.terms == ["payments", "deploy"]


def test_aliases_and_two_word_type_names_pick_types() -> None:
    assert read_query("checkout flag").named_types == ["feature_flag"]
    assert read_query("feature flags for checkout").terms == ["checkout"]
    assert read_query("env prod").named_types == ["environment"]
    assert read_query("github connector").named_types == ["connector"]


def test_deploy_alone_hints_at_pipelines_and_executions() -> None:
    reading = read_query("deploy checkout")
    assert reading.named_types == ["pipeline", "execution"]
    assert reading.terms == ["checkout"]


def test_scores_rank_exact_identifier_over_name_over_prefix_over_overlap_over_description() -> None:
    terms = ["payments", "deploy"]
    exact_id, _ = score_item(terms, "payments_deploy", "Ship it", "", "")
    exact_name, _ = score_item(terms, "pd1", "Payments Deploy", "", "")
    prefix, _ = score_item(terms, "payments_deploy_canary", "Canary", "", "")
    overlap, _ = score_item(terms, "deploy_eu_payments", "EU", "", "")
    described, matched = score_item(terms, "ship", "Ship", "deploys the payments api", "")
    assert 1.0 == exact_id > exact_name > prefix > overlap > described > 0
    assert matched == ["description"]
    assert score_item(terms, "other", "Other", "", "")[0] == 0.0


def test_tags_match_as_keys_and_values() -> None:
    score, matched = score_item(["pci"], "api", "API", "", "compliance pci")
    assert score > 0
    assert matched == ["tags"]


# ---- against the sandbox ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_exact_identifier_match_ranks_above_partial_matches(sandbox_account: SandboxAccount) -> None:
    _pipeline(sandbox_account, "payments_deploy_canary", "Payments Deploy Canary")
    _pipeline(sandbox_account, "eu_payments_deploy", "EU Payments Deploy")
    _pipeline(sandbox_account, "payments_deploy", "Payments Deploy")
    result = await search(sandbox_account.conn, "payments_deploy", resource_types=["pipeline"])
    ids = [hit.id for hit in result.hits]
    assert ids[0] == "payments_deploy"
    assert result.hits[0].score == 1.0
    assert set(ids) == {"payments_deploy", "payments_deploy_canary", "eu_payments_deploy"}
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert scores[1] < 1.0
    assert result.hits[0].matched[:2] == ["identifier", "name"]


@pytest.mark.anyio
async def test_the_query_infers_the_types_to_search(sandbox_account: SandboxAccount) -> None:
    _pipeline(sandbox_account, "payments_deploy", "Payments Deploy")
    _pipeline(sandbox_account, "unrelated", "Unrelated")
    result = await search(sandbox_account.conn, "payments deploy pipeline")
    assert result.searched_types == ["pipeline"]
    assert result.terms == ["payments", "deploy"]
    assert [hit.id for hit in result.hits] == ["payments_deploy"]
    assert result.hits[0].score == 1.0
    # One request per term, since only one type is searched.
    assert result.requests_made == 2


@pytest.mark.anyio
async def test_every_type_requested_still_costs_at_most_five_requests(sandbox_account: SandboxAccount) -> None:
    _checkout_everywhere(sandbox_account)
    every = [t.name for t in resource_types() if "list" in t.operations]
    client = sandbox_account.conn.client
    before = client.requests_made
    result = await search(sandbox_account.conn, "checkout deploy release notes", resource_types=every)
    assert client.requests_made - before == result.requests_made
    assert result.requests_made <= MAX_REQUESTS
    assert len(result.searched_types) <= MAX_REQUESTS
    skipped = {s.resource_type for s in result.skipped_types or []}
    assert skipped | set(result.searched_types) == set(every)
    assert result.searched_types[0] == "pipeline"


@pytest.mark.anyio
async def test_every_hit_has_a_score_in_range_and_a_link_where_the_type_has_a_page(
    sandbox_account: SandboxAccount,
) -> None:
    _checkout_everywhere(sandbox_account)
    result = await search(sandbox_account.conn, "checkout")
    assert result.requests_made <= MAX_REQUESTS
    assert {hit.resource_type for hit in result.hits} == {"pipeline", "service", "environment", "connector", "secret"}
    for hit in result.hits:
        assert 0 <= hit.score <= 1
        if get_resource_type(hit.resource_type).ui_path is not None:
            assert hit.link is not None and "/orgs/default/projects/payments/" in hit.link
    assert result.hits[0].id == "checkout"  # the only exact match
    assert result.total_hits == len(result.hits)
    SearchResult.model_validate(result.model_dump())  # the schema holds for what the service returns


@pytest.mark.anyio
async def test_max_per_type_caps_hits_of_each_type_but_total_hits_counts_them_all(
    sandbox_account: SandboxAccount,
) -> None:
    for n in range(4):
        _pipeline(sandbox_account, f"checkout_{n}", f"Checkout {n}")
    result = await search(sandbox_account.conn, "checkout pipelines", max_per_type=2)
    assert len(result.hits) == 2
    assert result.total_hits == 4


@pytest.mark.anyio
async def test_a_query_of_only_type_words_lists_the_type_with_a_hint(sandbox_account: SandboxAccount) -> None:
    _pipeline(sandbox_account, "checkout_build", "Checkout Build")
    result = await search(sandbox_account.conn, "pipelines")
    assert result.terms == []
    assert [hit.id for hit in result.hits] == ["checkout_build"]
    assert result.hint is not None and "harness_list" in result.hint


@pytest.mark.anyio
async def test_types_needing_a_parent_are_skipped_with_the_reason(sandbox_account: SandboxAccount) -> None:
    result = await search(sandbox_account.conn, "nightly", resource_types=["trigger", "pipeline"])
    assert result.searched_types == ["pipeline"]
    assert result.skipped_types is not None
    reason = {s.resource_type: s.reason for s in result.skipped_types}["trigger"]
    assert "pipeline_id" in reason


@pytest.mark.anyio
async def test_bad_arguments_get_a_clear_error(sandbox_account: SandboxAccount) -> None:
    with pytest.raises(UsageError, match="query"):
        await search(sandbox_account.conn, "   ")
    with pytest.raises(UsageError, match="max_per_type"):
        await search(sandbox_account.conn, "x", max_per_type=0)


@pytest.mark.anyio
async def test_account_level_connectors_are_found_from_a_project_with_an_account_link(
    sandbox_account: SandboxAccount,
) -> None:
    connector = {"identifier": "dockerhub", "name": "Docker Hub", "type": "DockerRegistry", "spec": {"url": "x"}}
    create_resource(sandbox_account.ctx, "connector", body={"connector": connector})
    result = await search(sandbox_account.conn, "docker connector")
    assert [hit.id for hit in result.hits] == ["dockerhub"]
    link = result.hits[0].link
    assert link is not None and link.endswith(
        f"/ng/account/{sandbox_account.conn.account_id}/all/settings/connectors/dockerhub"
    )
