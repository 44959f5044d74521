from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx2
import pytest

from harness_connector.errors import (
    ConfigError,
    HarnessAuthError,
    HarnessInvalidRequestError,
    HarnessNotFoundError,
    HarnessRateLimitedError,
    HarnessUnavailableError,
    UsageError,
)
from harness_connector.harness.client import HarnessClient, account_id_from_key
from harness_connector.harness.pagination import Page
from harness_connector.harness.registry.model import (
    READ_SAFE,
    BodyKind,
    Operation,
    OperationPolicy,
    PagingStyle,
    ResourceType,
    RetryPolicy,
    Risk,
    Scope,
)

pytestmark = pytest.mark.anyio

KEY = "pat.acct123.tok456.s3cr3tv4lue"
Handler = Callable[[httpx2.Request], httpx2.Response]


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_800_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(handler: Handler, fake: FakeTime | None = None, **kwargs: object) -> HarnessClient:
    fake = fake or FakeTime()
    return HarnessClient(
        "https://app.harness.io",
        api_key=KEY,
        transport=httpx2.MockTransport(handler),
        clock=fake.clock,
        wall_clock=fake.wall,
        sleep=fake.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


def ok(data: object) -> httpx2.Response:
    return httpx2.Response(200, json={"status": "SUCCESS", "data": data, "correlationId": "c-1"})


def failure(status: int, code: str, message: str, **extra: object) -> httpx2.Response:
    body = {"status": "ERROR", "code": code, "message": message, "correlationId": "corr-9", **extra}
    return httpx2.Response(status, json=body)


async def test_every_request_carries_key_header_account_header_and_account_query() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return ok({"identifier": "p1"})

    async with make_client(handler) as client:
        answer = await client.request("GET", "/pipeline/api/pipelines/p1", params=[("orgIdentifier", "default")])
    assert answer.json()["data"] == {"identifier": "p1"}
    request = seen[0]
    assert request.headers["x-api-key"] == KEY
    assert request.headers["harness-account"] == "acct123"
    assert request.url.path == "/pipeline/api/pipelines/p1"
    assert request.url.params.get_list("accountIdentifier") == ["acct123"]
    assert request.url.params.get_list("routingId") == ["acct123"]
    assert request.url.params["orgIdentifier"] == "default"


@pytest.mark.parametrize(
    ("path", "param"),
    [("/gateway/log-service/blob", "accountID"), ("/gateway/ti-service/reports/summary", "accountId")],
    ids=["log-service", "ti-service"],
)
async def test_services_with_their_own_account_parameter_get_it(path: str, param: str) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={})

    async with make_client(handler) as client:
        await client.request("GET", path)
    assert seen[0].url.params[param] == "acct123"
    assert "accountIdentifier" not in seen[0].url.params


def test_account_id_is_read_from_pat_and_sat_tokens_only() -> None:
    assert account_id_from_key("pat.A1.t.s") == "A1"
    assert account_id_from_key("SAT.B2.t.s") == "B2"
    assert account_id_from_key("some-opaque-key") is None
    assert account_id_from_key("pat.only.three") is None


def test_a_key_without_an_account_asks_for_harness_account_id_without_echoing_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        HarnessClient("https://app.harness.io", api_key="opaque-secret-value")
    assert "HARNESS_ACCOUNT_ID" in str(caught.value)
    assert "opaque-secret-value" not in str(caught.value)


def test_an_explicit_account_id_wins_over_the_key() -> None:
    client = HarnessClient("https://app.harness.io", api_key=KEY, account_id="other")
    assert client.account_id == "other"


@pytest.mark.parametrize(
    ("base_url", "allow_http", "accepted"),
    [
        ("https://app.harness.io", False, True),
        ("http://127.0.0.1:8181", False, True),
        ("http://localhost:8181/", False, True),
        ("http://[::1]:9000", False, True),
        ("http://harness.internal.example.com", False, False),
        ("http://harness.internal.example.com", True, True),
        ("ftp://app.harness.io", True, False),
        ("not a url", False, False),
    ],
    ids=["https", "loopback-ip", "localhost", "ipv6-loopback", "remote-http", "remote-http-allowed", "ftp", "garbage"],
)
def test_plain_http_is_refused_except_for_loopback_or_an_explicit_flag(
    base_url: str, allow_http: bool, accepted: bool
) -> None:
    if accepted:
        client = HarnessClient(base_url, api_key=KEY, allow_http=allow_http)
        assert client.base_url == base_url.strip().rstrip("/")
    else:
        with pytest.raises(ConfigError):
            HarnessClient(base_url, api_key=KEY, allow_http=allow_http)


def test_the_key_never_appears_in_repr() -> None:
    client = HarnessClient("https://app.harness.io", api_key=KEY)
    assert KEY not in repr(client)
    assert "s3cr3tv4lue" not in repr(client)


async def test_safe_operations_are_retried_on_5xx_with_growing_jittered_backoff() -> None:
    statuses = iter([503, 502, 200])
    fake = FakeTime()

    def handler(request: httpx2.Request) -> httpx2.Response:
        status = next(statuses)
        return ok("done") if status == 200 else httpx2.Response(status, text="")

    async with make_client(handler, fake) as client:
        answer = await client.request("GET", "/ng/api/projects")
        assert client.requests_made == 3
    assert answer.status == 200
    backoffs = [s for s in fake.sleeps if s >= 0.5]
    assert len(backoffs) == 2
    assert 0.5 <= backoffs[0] <= 1.0
    assert 1.0 <= backoffs[1] <= 2.0


async def test_do_not_retry_operations_are_sent_exactly_once() -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(503, text="")

    async with make_client(handler) as client:
        with pytest.raises(HarnessUnavailableError) as caught:
            await client.request(
                "POST", "/pipeline/api/pipeline/execute/p1", content="", retry=RetryPolicy.DO_NOT_RETRY
            )
    assert calls == 1
    assert caught.value.status_code == 503


async def test_retry_after_seconds_is_honoured() -> None:
    answers = iter([httpx2.Response(429, headers={"Retry-After": "7"}, text=""), ok([])])
    fake = FakeTime()
    async with make_client(lambda r: next(answers), fake) as client:
        await client.request("GET", "/ng/api/organizations")
    assert 7.0 in fake.sleeps


async def test_retry_after_as_an_http_date_is_honoured() -> None:
    fake = FakeTime()
    when = datetime.fromtimestamp(fake.wall() + 12, tz=UTC)
    answers = iter([httpx2.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}), ok([])])
    async with make_client(lambda r: next(answers), fake) as client:
        await client.request("GET", "/ng/api/organizations")
    assert any(11.0 <= s <= 12.0 for s in fake.sleeps)


async def test_rate_limiting_that_outlasts_the_retries_raises_rate_limited() -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(429, text="Too Many Requests")

    async with make_client(handler, max_retries=2) as client:
        with pytest.raises(HarnessRateLimitedError) as caught:
            await client.request("GET", "/ng/api/organizations")
    assert calls == 3
    assert caught.value.status_code == 429


async def test_connection_errors_are_retried_then_reported_as_unavailable() -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        raise httpx2.ConnectError("connection refused", request=request)

    async with make_client(handler, max_retries=3) as client:
        with pytest.raises(HarnessUnavailableError) as caught:
            await client.request("GET", "/ng/api/organizations")
    assert calls == 4
    assert "HARNESS_BASE_URL" in caught.value.message


async def test_timeouts_are_reported_as_unavailable_with_the_setting_to_raise() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(HarnessUnavailableError) as caught:
            await client.request("GET", "/ng/api/organizations")
    assert "HARNESS_API_TIMEOUT_MS" in caught.value.message


async def test_client_errors_are_not_retried() -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return failure(400, "INVALID_REQUEST", "Invalid yaml: mapping values are not allowed here")

    async with make_client(handler) as client:
        with pytest.raises(HarnessInvalidRequestError) as caught:
            await client.request("POST", "/pipeline/api/pipelines/v2", content="a: b: c")
    assert calls == 1
    assert caught.value.code == "INVALID_REQUEST"
    assert caught.value.correlation_id == "corr-9"


async def test_idempotency_key_operations_retry_with_one_stable_key() -> None:
    keys: list[str] = []
    statuses = iter([500, 200])

    def handler(request: httpx2.Request) -> httpx2.Response:
        keys.append(request.headers["idempotency-key"])
        return ok({}) if next(statuses) == 200 else httpx2.Response(500)

    async with make_client(handler) as client:
        await client.request("POST", "/ng/api/x", json={}, retry=RetryPolicy.IDEMPOTENCY_KEY_REQUIRED)
    assert len(keys) == 2
    assert keys[0] == keys[1]


async def test_the_key_is_redacted_from_errors_and_logs_even_when_harness_echoes_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return failure(401, "INVALID_TOKEN", f"Token {KEY} is invalid")

    caplog.set_level(logging.DEBUG)
    async with make_client(handler) as client:
        with pytest.raises(HarnessAuthError) as caught:
            await client.request("GET", "/ng/api/user/currentUser")
    assert KEY not in str(caught.value)
    assert "s3cr3tv4lue" not in str(caught.value)
    assert all("s3cr3tv4lue" not in record.getMessage() for record in caplog.records)


async def test_a_200_answer_with_an_error_envelope_raises() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return failure(200, "RESOURCE_NOT_FOUND_EXCEPTION", "Pipeline [p9] not found")

    resource = _pipeline_type()
    async with make_client(handler) as client:
        with pytest.raises(HarnessNotFoundError):
            await client.call(resource, "get", {"org_id": "o", "project_id": "p", "pipeline_id": "p9"})


async def test_client_side_rate_limit_spaces_out_bursts() -> None:
    fake = FakeTime()
    async with make_client(lambda r: ok(None), fake, rate_limit_rps=10.0) as client:
        for _ in range(25):
            await client.request("GET", "/ng/api/organizations")
    # Ten go at once (the bucket's capacity), the other fifteen at 10/s.
    assert sum(fake.sleeps) == pytest.approx(1.5, abs=1e-6)


def _pipeline_type() -> ResourceType:
    return ResourceType(
        name="pipeline",
        display_name="Pipeline",
        toolset="pipelines",
        description="A pipeline.",
        scope=Scope.PROJECT,
        identifier_fields=("pipeline_id",),
        operations={
            "list": Operation(
                name="list",
                method="POST",
                path="/pipeline/api/pipelines/list",
                policy=READ_SAFE,
                description="List pipelines.",
                query_params={"searchTerm": "search_term"},
                body=BodyKind.JSON,
                static_body={"filterType": "PipelineSetup"},
                paging=PagingStyle.SPRING_PAGE,
            ),
            "get": Operation(
                name="get",
                method="GET",
                path="/pipeline/api/pipelines/{pipelineIdentifier}",
                policy=READ_SAFE,
                description="Get a pipeline.",
                path_params={"pipelineIdentifier": "pipeline_id"},
            ),
            "run": Operation(
                name="run",
                method="POST",
                path="/pipeline/api/pipeline/execute/{identifier}",
                policy=OperationPolicy(Risk.HIGH_WRITE, RetryPolicy.DO_NOT_RETRY),
                description="Run it.",
                path_params={"identifier": "pipeline_id"},
                body=BodyKind.YAML,
            ),
        },
    )


async def test_registry_list_calls_send_scope_filter_body_and_paging_and_return_a_page() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return ok({"content": [{"identifier": "a"}], "totalElements": 41, "totalPages": 3, "number": 1, "size": 20})

    async with make_client(handler) as client:
        page = await client.call(
            _pipeline_type(), "list", {"org_id": "o", "project_id": "p", "search_term": "build"}, page=1, size=20
        )
    assert page == Page(items=[{"identifier": "a"}], page=1, size=20, total_items=41, total_pages=3)
    request = seen[0]
    assert request.method == "POST"
    assert json.loads(request.content) == {"filterType": "PipelineSetup"}
    params = dict(request.url.params.multi_items())
    assert params["orgIdentifier"] == "o"
    assert params["projectIdentifier"] == "p"
    assert params["searchTerm"] == "build"
    assert params["page"] == "1"
    assert params["size"] == "20"


async def test_a_run_sends_an_empty_yaml_body_rather_than_none_and_is_never_retried() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(502)

    async with make_client(handler) as client:
        with pytest.raises(HarnessUnavailableError):
            await client.call(_pipeline_type(), "run", {"org_id": "o", "project_id": "p", "pipeline_id": "build"})
    assert len(seen) == 1
    assert seen[0].headers["content-type"] == "application/yaml"
    assert seen[0].url.path == "/pipeline/api/pipeline/execute/build"


async def test_a_missing_identifier_is_a_usage_error_naming_it() -> None:
    async with make_client(lambda r: ok(None)) as client:
        with pytest.raises(UsageError) as caught:
            await client.call(_pipeline_type(), "get", {"org_id": "o", "project_id": "p"})
    assert "pipeline_id" in str(caught.value)


async def test_an_unsupported_scope_is_a_usage_error_listing_the_supported_ones() -> None:
    async with make_client(lambda r: ok(None)) as client:
        with pytest.raises(UsageError) as caught:
            await client.call(_pipeline_type(), "get", {"pipeline_id": "x", "resource_scope": "account"})
    assert "project" in str(caught.value)


async def test_a_base_url_ending_in_gateway_does_not_double_the_gateway_prefix() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return httpx2.Response(200, json={})

    client = HarnessClient("https://app.harness.io/gateway", api_key=KEY, transport=httpx2.MockTransport(handler))
    async with client:
        await client.request("GET", "/gateway/log-service/blob")
    assert seen == ["/gateway/log-service/blob"]


async def test_streamed_error_answers_are_mapped_like_buffered_ones() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(404, text="parameter prefix is required.")

    async with make_client(handler) as client:
        with pytest.raises(HarnessNotFoundError) as caught:
            async with client.stream("GET", "/gateway/log-service/blob") as chunks:
                async for _ in chunks:
                    pass
    assert "prefix is required" in caught.value.message


async def test_unauthenticated_streams_send_no_harness_headers() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, content=b"abc")

    link = "https://storage.example.com/logs.zip?sig=1"
    async with make_client(handler) as client, client.stream("GET", link, authenticated=False) as chunks:
        body = b"".join([chunk async for chunk in chunks])
    assert body == b"abc"
    assert str(seen[0].url) == link
    assert "x-api-key" not in seen[0].headers
    assert "harness-account" not in seen[0].headers
