"""Harness's dialect, proved without the project's client: raw HTTP calls as a script written from the docs makes.

Envelopes, page shapes per service, error codes and statuses, write-only secrets, and the edge's fault knobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from harness_connector.errors import HarnessInvalidRequestError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.registry import get_resource_type
from harness_connector.sandbox import Faults, SandboxContext, SandboxState, bootstrap_account
from tests.sandbox.conftest import serve_sandbox

SCOPE = {"orgIdentifier": "default", "projectIdentifier": "payments"}
PIPELINE = """pipeline:
  name: Build
  identifier: build
  stages:
    - stage:
        name: Unit
        identifier: unit
        type: CI
        spec:
          execution:
            steps: []
"""
BROKEN_YAML = "pipeline:\n  name: Build\n  identifier: build\n stages: [\n"


def _client(server: Any, key: str | None = None) -> httpx2.AsyncClient:
    headers = {"x-api-key": key if key is not None else server.keys.admin_pat}
    return httpx2.AsyncClient(base_url=server.base_url, headers={k: v for k, v in headers.items() if v})


def _query(server: Any, **extra: str) -> dict[str, str]:
    return {"accountIdentifier": server.keys.account_id, **SCOPE, **extra}


async def _create_pipeline(http: httpx2.AsyncClient, server: Any) -> None:
    answer = await http.post(
        "/pipeline/api/pipelines/v2",
        params=_query(server),
        content=PIPELINE,
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.anyio
async def test_ng_answers_carry_status_data_metadata_and_the_correlation_id_of_their_header(
    sandbox_server: Any,
) -> None:
    async with _client(sandbox_server) as http:
        answer = await http.get("/ng/api/organizations", params={"accountIdentifier": sandbox_server.keys.account_id})
    body = answer.json()
    assert set(body) == {"status", "data", "metaData", "correlationId"}
    assert (body["status"], body["metaData"]) == ("SUCCESS", None)
    assert body["correlationId"] == answer.headers["x-correlation-id"]


@pytest.mark.anyio
async def test_pipeline_lists_are_spring_pages_and_connector_lists_are_ng_pages(sandbox_server: Any) -> None:
    async with _client(sandbox_server) as http:
        await _create_pipeline(http, sandbox_server)
        pipelines = await http.post(
            "/pipeline/api/pipelines/list", params=_query(sandbox_server, page="0", size="5"),
            json={"filterType": "PipelineSetup"},
        )  # fmt: skip
        connectors = await http.post(
            "/ng/api/connectors/listV2", params=_query(sandbox_server, pageIndex="0", pageSize="5"),
            json={"filterType": "Connector"},
        )  # fmt: skip
    spring = pipelines.json()["data"]
    assert {"totalElements", "totalPages", "size", "number", "numberOfElements", "pageable", "first", "last"} <= set(
        spring
    )
    assert (spring["totalElements"], spring["size"], spring["content"][0]["identifier"]) == (1, 5, "build")
    assert spring["content"][0]["executionSummaryInfo"]["deployments"] == [0] * 7
    ng = connectors.json()["data"]
    assert set(ng) == {"totalPages", "totalItems", "pageItemCount", "pageSize", "content", "pageIndex", "empty"}


@pytest.mark.anyio
async def test_services_take_page_and_size_but_answer_an_ng_page_response(sandbox_server: Any) -> None:
    body = {"identifier": "checkout", "name": "Checkout", **SCOPE}
    async with _client(sandbox_server) as http:
        created = await http.post("/ng/api/servicesV2", params=_query(sandbox_server), json=body)
        assert created.json()["data"]["service"]["yaml"].startswith("service:")
        listed = await http.get("/ng/api/servicesV2", params=_query(sandbox_server, page="0", size="10"))
    page = listed.json()["data"]
    assert (page["totalItems"], page["pageIndex"], page["pageSize"]) == (1, 0, 10)
    assert page["content"][0]["service"]["identifier"] == "checkout"


@pytest.mark.anyio
async def test_delegate_lists_answer_a_rest_response_without_status_or_data(sandbox_server: Any) -> None:
    async with _client(sandbox_server) as http:
        answer = await http.post(
            "/ng/api/delegate-setup/listDelegates",
            params={"accountIdentifier": sandbox_server.keys.account_id},
            json={"filterType": "Delegate"},
        )
    assert answer.json() == {"metaData": {}, "resource": [], "responseMessages": []}


@pytest.mark.anyio
async def test_feature_flags_answer_cf_pages_without_an_envelope(sandbox_server: Any) -> None:
    flag = {"identifier": "dark_mode", "name": "Dark mode", "kind": "boolean", "project": "payments"}
    async with _client(sandbox_server) as http:
        created = await http.post("/cf/admin/features", params=_query(sandbox_server), json=flag)
        assert (created.status_code, created.content) == (201, b"")
        listed = await http.get("/cf/admin/features", params=_query(sandbox_server, environmentIdentifier="prod"))
    body = listed.json()
    assert {k: body[k] for k in ("itemCount", "pageCount", "pageIndex", "pageSize")} == {
        "itemCount": 1,
        "pageCount": 1,
        "pageIndex": 0,
        "pageSize": 50,
    }
    state = body["features"][0]["envProperties"]
    assert (state["environment"], state["state"], state["defaultServe"]) == ("prod", "off", {"variation": "true"})


@pytest.mark.anyio
async def test_v1_pipeline_lists_are_bare_arrays_with_totals_in_headers(sandbox_server: Any) -> None:
    async with _client(sandbox_server) as http:
        await _create_pipeline(http, sandbox_server)
        answer = await http.get("/v1/orgs/default/projects/payments/pipelines", params={"page": "0", "limit": "1"})
    assert isinstance(answer.json(), list) and answer.json()[0]["identifier"] == "build"
    assert (answer.headers["x-total-elements"], answer.headers["x-page-number"], answer.headers["x-page-size"]) == (
        "1",
        "0",
        "1",
    )


@pytest.mark.anyio
async def test_harness_code_lists_page_from_one_with_totals_in_headers(sandbox_server: Any) -> None:
    ref = f"{sandbox_server.keys.account_id}%2Fdefault%2Fpayments%2Fcheckout"
    async with _client(sandbox_server) as http:
        created = await http.post("/code/api/v1/repos", params=_query(sandbox_server), json={"identifier": "checkout"})
        assert created.status_code == 201
        assert created.json()["path"] == f"{sandbox_server.keys.account_id}/default/payments/checkout"
        for branch in ("one", "two", "three"):
            pull = {"title": f"Add {branch}", "source_branch": branch, "target_branch": "main"}
            assert (await http.post(f"/code/api/v1/repos/{ref}/pullreq", json=pull)).status_code == 201
        second = await http.get(f"/code/api/v1/repos/{ref}/pullreq", params={"page": "2", "limit": "2"})
        missing = await http.get(f"/code/api/v1/repos/{ref}/pullreq/99")
    assert [p["number"] for p in second.json()] == [1]  # newest first: page 1 holds 3 and 2
    assert (second.headers["x-total"], second.headers["x-total-pages"], second.headers["x-page"]) == ("3", "2", "2")
    assert (missing.status_code, missing.json()) == (404, {"message": "Pull request not found"})


@pytest.mark.anyio
async def test_lists_honour_a_spring_sort_and_fall_back_to_their_default_order(sandbox_server: Any) -> None:
    account = {"accountIdentifier": sandbox_server.keys.account_id}
    async with _client(sandbox_server) as http:
        for ident in ("b_org", "a_org", "c_org"):
            org = {"organization": {"identifier": ident, "name": ident}}
            assert (await http.post("/ng/api/organizations", params=account, json=org)).status_code == 200
        orders = []
        for sort in ("name,DESC", "bogus,DESC"):
            answer = await http.get("/ng/api/organizations", params={**account, "sort": sort, "searchTerm": "_org"})
            orders.append([o["organization"]["identifier"] for o in answer.json()["data"]["content"]])
    assert orders == [["c_org", "b_org", "a_org"], ["a_org", "b_org", "c_org"]]


@pytest.mark.anyio
async def test_feature_flag_and_code_errors_come_in_their_own_services_dialects(sandbox_server: Any) -> None:
    async with _client(sandbox_server) as http:
        flag = await http.get("/cf/admin/features/nope", params=_query(sandbox_server))
        repo = await http.get("/code/api/v1/repos/nope", params=_query(sandbox_server))
        flags = await http.get("/cf/admin/features", params={"orgIdentifier": "default"})
    message = "Feature flag 'nope' not found in project 'payments'"
    assert (flag.status_code, flag.json()) == (404, {"code": 404, "message": message, "details": {}})
    assert (repo.status_code, repo.json()) == (404, {"message": "Repository not found"})
    assert (flags.status_code, flags.json()["code"]) == (400, 400)


@dataclass(frozen=True)
class Refusal:
    """A request Harness refuses, and how: HTTP status, error code, and words the message must hold."""

    method: str
    path: str
    status: int
    code: str
    words: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: str | None = None
    key: str = "admin"  # admin | restricted | bad | none
    before: tuple[tuple[str, str, Any], ...] = ()


REFUSALS = {
    "no key": Refusal("GET", "/ng/api/organizations", 401, "INVALID_TOKEN", "no x-api-key", key="none"),
    "bad key": Refusal("GET", "/ng/api/organizations", 401, "INVALID_TOKEN", "not valid", key="bad"),
    "restricted token outside its project": Refusal(
        "GET", "/ng/api/connectors/github", 403, "NG_ACCESS_DENIED", "other",
        params={"orgIdentifier": "default", "projectIdentifier": "other"}, key="restricted",
    ),
    "unknown pipeline": Refusal(
        "GET", "/pipeline/api/pipelines/nope", 404, "RESOURCE_NOT_FOUND",
        "Pipeline [nope] under Project[payments], Organization [default] doesn't exist or has been deleted.",
        params=SCOPE,
    ),
    "duplicate organization": Refusal(
        "POST", "/ng/api/organizations", 400, "DUPLICATE_FIELD", "already exists",
        json={"organization": {"identifier": "eng", "name": "Eng"}},
        before=(("POST", "/ng/api/organizations", {"organization": {"identifier": "eng", "name": "Eng"}}),),
    ),
    "unparsable pipeline yaml": Refusal(
        "POST", "/pipeline/api/pipelines/v2", 400, "INVALID_REQUEST", "expected <block end>, but found '<block",
        params=SCOPE, content=BROKEN_YAML,
    ),
    "invalid identifier": Refusal(
        "POST", "/ng/api/organizations", 400, "INVALID_REQUEST", "not a valid identifier",
        json={"organization": {"identifier": "9-lives", "name": "Cats"}},
    ),
    "list body without filterType": Refusal(
        "POST", "/pipeline/api/pipelines/list", 400, "INVALID_REQUEST", "filterType", params=SCOPE, json={},
    ),
    "list without a body": Refusal(
        "POST", "/ng/api/connectors/listV2", 400, "INVALID_REQUEST", "body is required", params=SCOPE,
    ),
    "pipeline list without its project": Refusal(
        "POST", "/pipeline/api/pipelines/list", 400, "INVALID_REQUEST", "projectIdentifier",
        params={"orgIdentifier": "default"}, json={"filterType": "PipelineSetup"},
    ),
    "project without its org": Refusal(
        "GET", "/ng/api/connectors/github", 400, "INVALID_REQUEST", "orgIdentifier",
        params={"projectIdentifier": "payments"},
    ),
}  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
async def test_refused_requests_answer_harness_error_bodies_with_the_code_and_its_status(
    refusal: Refusal, sandbox_server: Any
) -> None:
    keys = sandbox_server.keys
    key = {"admin": keys.admin_pat, "restricted": keys.restricted_sat, "bad": "pat.x.y.z", "none": ""}[refusal.key]
    params = {"accountIdentifier": keys.account_id, **refusal.params}
    async with _client(sandbox_server) as admin:
        for method, path, json in refusal.before:
            assert (await admin.request(method, path, params=params, json=json)).status_code == 200
    async with _client(sandbox_server, key) as http:
        answer = await http.request(
            refusal.method, refusal.path, params=params, json=refusal.json, content=refusal.content,
            headers={"Content-Type": "application/yaml"} if refusal.content else {},
        )  # fmt: skip
    body = answer.json()
    assert (answer.status_code, body["status"], body["code"]) == (refusal.status, "ERROR", refusal.code)
    assert refusal.words in body["message"]
    assert body["correlationId"] == answer.headers["x-correlation-id"]
    assert body["responseMessages"][0]["code"] == refusal.code


@pytest.mark.anyio
async def test_the_client_reports_the_yaml_parsers_own_words(sandbox_server: Any) -> None:
    async with HarnessClient(sandbox_server.base_url, api_key=sandbox_server.keys.admin_pat, max_retries=0) as client:
        with pytest.raises(HarnessInvalidRequestError) as refused:
            await client.call(
                get_resource_type("pipeline"), "create", {"org_id": "default", "project_id": "p", "body": BROKEN_YAML}
            )
    assert refused.value.code == "INVALID_REQUEST"
    assert "while parsing a block mapping" in str(refused.value)


@pytest.mark.anyio
async def test_a_secret_value_is_never_returned_by_any_endpoint(sandbox_server: Any) -> None:
    value = "hunter2-sandbox-7f3a"
    secret = {"secret": {"type": "SecretText", "name": "Token", "identifier": "token", **SCOPE,
                         "spec": {"secretManagerIdentifier": "harnessSecretManager", "valueType": "Inline",
                                  "value": value}}}  # fmt: skip
    query = _query(sandbox_server)
    async with _client(sandbox_server) as http:
        answers = [await http.post("/ng/api/v2/secrets", params=query, json=secret)]
        secret["secret"]["name"] = "Token 2"
        answers.append(await http.put("/ng/api/v2/secrets/token", params=query, json=secret))
        answers.append(await http.get("/ng/api/v2/secrets/token", params=query))
        answers.append(await http.get("/ng/api/v2/secrets", params=query))
        answers.append(await http.post("/ng/api/v2/secrets/list/secrets", params=query, json={"filterType": "Secret"}))
        audits = await http.post("/audit/api/audits/list", params=query, json={"filterType": "Audit"})
        events = audits.json()["data"]["content"]
        answers += [await http.get("/audit/api/auditYaml", params={**query, "auditId": e["auditId"]}) for e in events]
    assert all(a.status_code == 200 for a in answers)
    assert [a for a in answers if value.encode() in a.content] == []
    assert answers[2].json()["data"]["secret"]["spec"] == {
        "secretManagerIdentifier": "harnessSecretManager",
        "valueType": "Inline",
        "value": None,
    }
    stored = sandbox_server.ctx.state.query("SELECT doc FROM entities")
    assert [row for row in stored if value in row[0]] == []


@pytest.fixture
def fault_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A second sandbox with the fault knobs of the test's `faults` parameter."""
    faults: Faults = request.param
    state = SandboxState(":memory:")
    keys = bootstrap_account(state, seed=11)
    ctx = SandboxContext(state=state, account_id=keys.account_id, faults=faults)
    for base_url in serve_sandbox(ctx):
        yield base_url, keys
    state.close()


@pytest.mark.anyio
@pytest.mark.parametrize("fault_server", [Faults(error_rate=1.0, error_statuses=(503,))], indirect=True, ids=["503"])
async def test_an_app_failing_every_request_answers_503(fault_server: Any) -> None:
    base_url, keys = fault_server
    async with httpx2.AsyncClient(base_url=base_url, headers={"x-api-key": keys.admin_pat}) as http:
        answer = await http.get("/ng/api/organizations", params={"accountIdentifier": keys.account_id})
    assert answer.status_code == 503
    assert answer.headers["x-correlation-id"]


@pytest.mark.anyio
@pytest.mark.parametrize("fault_server", [Faults(rate_limit_per_minute=2)], indirect=True, ids=["2-per-minute"])
async def test_the_third_call_within_a_minute_is_rate_limited_without_retry_after(fault_server: Any) -> None:
    base_url, keys = fault_server
    async with httpx2.AsyncClient(base_url=base_url, headers={"x-api-key": keys.admin_pat}) as http:
        params = {"accountIdentifier": keys.account_id}
        statuses = [(await http.get("/ng/api/organizations", params=params)) for _ in range(3)]
    assert [a.status_code for a in statuses] == [200, 200, 429]
    assert "retry-after" not in statuses[2].headers
