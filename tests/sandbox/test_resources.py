"""Every registry resource type round-trips through the project's client against the sandbox over real HTTP.

Execution, log, test-report and approval types belong to the execution engine's tests; every other operation of
the registry is exercised here (CRUD) or in test_resources_actions.py (actions and read-only types).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from harness_connector.errors import HarnessNotFoundError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.pagination import Page
from harness_connector.harness.registry import all_operations, get_resource_type

EXECUTION_TYPES = {"execution", "execution_log", "execution_inputs", "approval_instance"}
SCOPE = {"org_id": "default", "project_id": "payments"}
MINUTE_MS = 60_000

# (type, operation) pairs exercised by test_resources_actions.py, beyond the CRUD round trip below.
ACTIONS = {
    ("connector", "test_connection"),
    ("feature_flag", "toggle"),
    ("feature_flag", "kill"),
    ("feature_flag", "restore"),
    ("delegate", "list"),
    ("delegate_token", "list"),
    ("delegate_token", "create"),
    ("delegate_token", "revoke"),
    ("audit_event", "list"),
    ("audit_event", "get"),
    ("pipeline_summary", "get"),
}

View = tuple[str | None, int | None, int | None]  # name, created, modified


@asynccontextmanager
async def harness_client(base_url: str, api_key: str) -> AsyncIterator[HarnessClient]:
    async with HarnessClient(base_url, api_key=api_key, max_retries=0, rate_limit_rps=1000) as client:
        yield client


def pipeline_yaml(ident: str, name: str) -> str:
    return yaml.safe_dump(
        {
            "pipeline": {
                "name": name,
                "identifier": ident,
                "orgIdentifier": "default",
                "projectIdentifier": "payments",
                "variables": [{"name": "env", "type": "String", "value": "<+input>"}],
                "stages": [
                    {
                        "stage": {
                            "name": "Build",
                            "identifier": "build",
                            "type": "CI",
                            "spec": {
                                "execution": {
                                    "steps": [
                                        {
                                            "step": {
                                                "type": "Run",
                                                "name": "Test",
                                                "identifier": "test",
                                                "spec": {"command": "make test"},
                                            }
                                        }
                                    ]
                                }
                            },
                        }
                    }
                ],
            }
        },
        sort_keys=False,
    )


def _scoped(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "orgIdentifier": "default", "projectIdentifier": "payments"}


def _ng(kind: str) -> Callable[[Any], View]:
    return lambda p: (p[kind]["name"], p["createdAt"], p["lastModifiedAt"])


def _ng_item(kind: str) -> Callable[[Any], tuple[str, str | None, int | None, int | None]]:
    return lambda i: (i[kind]["identifier"], i[kind]["name"], i["createdAt"], i["lastModifiedAt"])


async def _nothing(client: HarnessClient) -> None:
    return None


@dataclass(frozen=True)
class Case:
    """How one resource type is created, named, read back and listed in the round trip."""

    type_name: str
    scope: dict[str, Any]
    make: Callable[[str, str, str], dict[str, Any]]  # (identifier, name, account) -> create args
    ident: Callable[[str, str], dict[str, Any]]  # (key, account) -> args naming one item
    update: Callable[[str, str], dict[str, Any]]  # (key, new name) -> update args beyond ident
    view: Callable[[Any], View]  # get payload -> (name, created, modified)
    item: Callable[[Any], tuple[str, str | None, int | None, int | None]]  # list item -> (key, name, created, mod)
    list_args: Callable[[str], dict[str, Any]] = lambda account: {"search_term": "rt"}
    setup: Callable[[HarnessClient], Awaitable[None]] = _nothing
    key_of: Callable[[Any, str], str] = lambda created, ident: ident
    pages_through_client: bool = True


async def _make_pipeline(client: HarnessClient) -> None:
    await client.call(get_resource_type("pipeline"), "create", {**SCOPE, "body": pipeline_yaml("rt_pipe", "Pipe")})


async def _make_environment(client: HarnessClient) -> None:
    body = _scoped({"identifier": "rt_env", "name": "Env", "type": "Production"})
    await client.call(get_resource_type("environment"), "create", {**SCOPE, "body": body})


async def _make_environment_and_services(client: HarnessClient) -> None:
    await _make_environment(client)
    for ident in ("rt_alpha_svc", "rt_beta_svc"):
        body = _scoped({"identifier": ident, "name": ident})
        await client.call(get_resource_type("service"), "create", {**SCOPE, "body": body})


async def _make_repo(client: HarnessClient) -> None:
    await client.call(get_resource_type("repository"), "create", {**SCOPE, "body": {"identifier": "rt_repo"}})


def _input_set(ident: str, name: str) -> str:
    doc = {
        "inputSet": {
            "identifier": ident,
            "name": name,
            "orgIdentifier": "default",
            "projectIdentifier": "payments",
            "pipeline": {"identifier": "rt_pipe", "variables": [{"name": "env", "type": "String", "value": "prod"}]},
        }
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _trigger(ident: str, name: str) -> str:
    source = {"type": "Scheduled", "spec": {"type": "Cron", "spec": {"expression": "0 2 * * *"}}}
    doc = {
        "trigger": {
            "identifier": ident,
            "name": name,
            "enabled": True,
            "orgIdentifier": "default",
            "projectIdentifier": "payments",
            "pipelineIdentifier": "rt_pipe",
            "source": source,
        }
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _template(ident: str, name: str) -> str:
    spec = {"type": "ShellScript", "spec": {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": "echo"}}}}
    doc = {
        "template": {
            "identifier": ident,
            "name": name,
            "versionLabel": "v1",
            "type": "Step",
            "projectIdentifier": "payments",
            "orgIdentifier": "default",
            "spec": spec,
        }
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _infra(ident: str, name: str) -> dict[str, Any]:
    block = {
        "name": name,
        "identifier": ident,
        "environmentRef": "rt_env",
        "deploymentType": "Kubernetes",
        "type": "KubernetesDirect",
        "spec": {"connectorRef": "k8s", "namespace": "payments"},
    }
    return _scoped(
        {
            "identifier": ident,
            "name": name,
            "environmentRef": "rt_env",
            "type": "KubernetesDirect",
            "deploymentType": "Kubernetes",
            "yaml": yaml.safe_dump({"infrastructureDefinition": block}),
        }
    )


def _override(ident: str, name: str) -> dict[str, Any]:
    spec = {"variables": [{"name": "replicas", "type": "String", "value": name}]}
    return _scoped(
        {
            "identifier": ident,
            "type": "ENV_SERVICE_OVERRIDE",
            "environmentRef": "rt_env",
            "serviceRef": f"{ident}_svc",
            "spec": spec,
        }
    )


def _connector(ident: str, name: str) -> dict[str, Any]:
    spec = {
        "dockerRegistryUrl": "https://index.docker.io/v2/",
        "providerType": "DockerHub",
        "auth": {"type": "Anonymous"},
    }
    return _scoped({"identifier": ident, "name": name, "type": "DockerRegistry", "spec": spec})


def _secret(ident: str, name: str) -> dict[str, Any]:
    spec = {"secretManagerIdentifier": "harnessSecretManager", "valueType": "Inline", "value": f"{ident}-value"}
    return _scoped({"identifier": ident, "name": name, "type": "SecretText", "spec": spec})


def _flag(ident: str, name: str) -> dict[str, Any]:
    variations = [{"identifier": "on", "value": "true"}, {"identifier": "off", "value": "false"}]
    return {
        "identifier": ident,
        "name": name,
        "kind": "boolean",
        "permanent": False,
        "project": "payments",
        "variations": variations,
        "defaultOnVariation": "on",
        "defaultOffVariation": "off",
    }


def _freeze(ident: str, name: str) -> str:
    window = {"timeZone": "UTC", "startTime": "2027-12-20 10:00 AM", "duration": "2w"}
    doc = {
        "freeze": {
            "identifier": ident,
            "name": name,
            "status": "Disabled",
            "orgIdentifier": "default",
            "projectIdentifier": "payments",
            "windows": [window],
            "entityConfigs": [{"name": "all", "entities": [{"type": "Service", "filterType": "All"}]}],
        }
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _repo_ref(key: str, account: str) -> dict[str, Any]:
    return {"repo_id": f"{account}/default/payments/{key}"}


def _yaml_name(text: str, root: str) -> str:
    return str(yaml.safe_load(text)[root]["name"])


CASES = [
    Case("organization", {}, lambda i, n, a: {"body": {"identifier": i, "name": n}}, lambda k, a: {"org_id": k},
         lambda k, n: {"body": {"identifier": k, "name": n}}, _ng("organization"), _ng_item("organization")),
    Case("project", {"org_id": "default"}, lambda i, n, a: {"body": {"identifier": i, "name": n}},
         lambda k, a: {"project_id": k}, lambda k, n: {"body": {"identifier": k, "name": n}}, _ng("project"),
         _ng_item("project")),
    Case("pipeline", SCOPE, lambda i, n, a: {"body": pipeline_yaml(i, n)}, lambda k, a: {"pipeline_id": k},
         lambda k, n: {"body": pipeline_yaml(k, n)}, lambda p: (_yaml_name(p["yamlPipeline"], "pipeline"), None, None),
         lambda i: (i["identifier"], i["name"], i["createdAt"], i["lastUpdatedAt"])),
    Case("pipeline_v1", SCOPE,
         lambda i, n, a: {"body": {"identifier": i, "name": n, "pipeline_yaml": pipeline_yaml(i, n)}},
         lambda k, a: {"pipeline_id": k},
         lambda k, n: {"body": {"identifier": k, "name": n, "pipeline_yaml": pipeline_yaml(k, n)}},
         lambda p: (p["name"], p["created"], p["updated"]),
         lambda i: (i["identifier"], i["name"], i["created"], i["updated"])),
    Case("input_set", SCOPE, lambda i, n, a: {"pipeline_id": "rt_pipe", "body": _input_set(i, n)},
         lambda k, a: {"pipeline_id": "rt_pipe", "input_set_id": k}, lambda k, n: {"body": _input_set(k, n)},
         lambda p: (p["name"], p["createdAt"], p["lastUpdatedAt"]),
         lambda i: (i["identifier"], i["name"], i["createdAt"], i["lastUpdatedAt"]),
         list_args=lambda a: {"pipeline_id": "rt_pipe", "search_term": "rt"}, setup=_make_pipeline),
    Case("trigger", SCOPE, lambda i, n, a: {"pipeline_id": "rt_pipe", "body": _trigger(i, n)},
         lambda k, a: {"pipeline_id": "rt_pipe", "trigger_id": k}, lambda k, n: {"body": _trigger(k, n)},
         lambda p: (p["name"], None, None),
         lambda i: (i["identifier"], i["name"], i["createdAt"], i["lastModifiedAt"]),
         list_args=lambda a: {"pipeline_id": "rt_pipe", "search_term": "rt"}, setup=_make_pipeline),
    Case("template", SCOPE, lambda i, n, a: {"body": _template(i, n)},
         lambda k, a: {"template_id": k, "version_label": "v1"}, lambda k, n: {"body": _template(k, n)},
         lambda p: (p["name"], p["createdAt"], p["lastUpdatedAt"]),
         lambda i: (i["identifier"], i["name"], i["createdAt"], i["lastUpdatedAt"])),
    Case("service", SCOPE, lambda i, n, a: {"body": _scoped({"identifier": i, "name": n})},
         lambda k, a: {"service_id": k}, lambda k, n: {"body": _scoped({"identifier": k, "name": n})},
         _ng("service"), _ng_item("service")),
    Case("service_override", SCOPE, lambda i, n, a: {"body": _override(i, n)}, lambda k, a: {"override_id": k},
         lambda k, n: {"body": _override(k, n)},
         lambda p: (p["spec"]["variables"][0]["value"], p["createdAt"], p["lastModifiedAt"]),
         lambda i: (i["identifier"], None, None, None), list_args=lambda a: {"environment_id": "rt_env"},
         setup=_make_environment_and_services),
    Case("environment", SCOPE, lambda i, n, a: {"body": _scoped({"identifier": i, "name": n, "type": "PreProduction"})},
         lambda k, a: {"environment_id": k},
         lambda k, n: {"body": _scoped({"identifier": k, "name": n, "type": "PreProduction"})},
         _ng("environment"), _ng_item("environment")),
    Case("infrastructure", SCOPE, lambda i, n, a: {"body": _infra(i, n)},
         lambda k, a: {"environment_id": "rt_env", "infrastructure_id": k}, lambda k, n: {"body": _infra(k, n)},
         _ng("infrastructure"), _ng_item("infrastructure"),
         list_args=lambda a: {"environment_id": "rt_env", "search_term": "rt"}, setup=_make_environment),
    Case("connector", SCOPE, lambda i, n, a: {"body": _connector(i, n)}, lambda k, a: {"connector_id": k},
         lambda k, n: {"body": _connector(k, n)}, _ng("connector"), _ng_item("connector")),
    Case("secret", SCOPE, lambda i, n, a: {"body": _secret(i, n)}, lambda k, a: {"secret_id": k},
         lambda k, n: {"body": _secret(k, n)}, lambda p: (p["secret"]["name"], p["createdAt"], p["updatedAt"]),
         lambda i: (i["secret"]["identifier"], i["secret"]["name"], i["createdAt"], i["updatedAt"])),
    Case("feature_flag", SCOPE, lambda i, n, a: {"body": _flag(i, n)}, lambda k, a: {"flag_id": k},
         lambda k, n: {"body": _flag(k, n)}, lambda p: (p["name"], p["createdAt"], p["modifiedAt"]),
         lambda i: (i["identifier"], i["name"], i["createdAt"], i["modifiedAt"])),
    Case("freeze_window", SCOPE, lambda i, n, a: {"body": _freeze(i, n)}, lambda k, a: {"freeze_id": k},
         lambda k, n: {"body": _freeze(k, n)}, lambda p: (p["name"], p["createdAt"], p["lastUpdatedAt"]),
         lambda i: (i["identifier"], i["name"], i["createdAt"], i["lastUpdatedAt"]), list_args=lambda a: {}),
    Case("repository", SCOPE, lambda i, n, a: {"body": {"identifier": i, "description": n}}, _repo_ref,
         lambda k, n: {"body": {"description": n}}, lambda p: (p["description"], p["created"], p["updated"]),
         lambda i: (i["identifier"], i["description"], i["created"], i["updated"]), pages_through_client=False),
    Case("pull_request", SCOPE,
         lambda i, n, a: {**_repo_ref("rt_repo", a), "body": {"title": n, "source_branch": i, "target_branch": "main"}},
         lambda k, a: {**_repo_ref("rt_repo", a), "pr_number": k}, lambda k, n: {"body": {"title": n}},
         lambda p: (p["title"], p["created"], p["edited"]),
         lambda i: (str(i["number"]), i["title"], i["created"], i["edited"]), setup=_make_repo,
         key_of=lambda created, ident: str(created["number"]),
         list_args=lambda a: {**_repo_ref("rt_repo", a), "search_term": "rt"}, pages_through_client=False),
]  # fmt: skip


def _stamps_of(case: Case, items: list[Any], key: str) -> tuple[int | None, int | None]:
    for item in items:
        found, _, created, modified = case.item(item)
        if found == key:
            return created, modified
    raise AssertionError(f"{key} is not in the list")


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type_name)
async def test_every_resource_type_round_trips_create_get_list_update_delete(
    case: Case, sandbox_server: Any, sandbox_clock: Any
) -> None:
    rtype = get_resource_type(case.type_name)
    account = sandbox_server.keys.account_id
    start = sandbox_clock.now_ms
    async with harness_client(sandbox_server.base_url, sandbox_server.keys.admin_pat) as client:
        await case.setup(client)
        keys: dict[str, str] = {}
        for ident, label in (("rt_alpha", "rt Alpha"), ("rt_beta", "rt Beta")):
            args = case.make(ident, label, account)
            keys[ident] = case.key_of(await client.call(rtype, "create", {**case.scope, **args}), ident)
        alpha = {**case.scope, **case.ident(keys["rt_alpha"], account)}

        name, created, modified = case.view(await client.call(rtype, "get", alpha))
        assert name == "rt Alpha"
        assert (created, modified) in ((start, start), (None, None))

        listed = await _list_both(client, case, account)
        assert {case.item(i)[0] for i in listed} == set(keys.values())

        sandbox_clock.now_ms += MINUTE_MS
        await client.call(rtype, "update", {**alpha, **case.update(keys["rt_alpha"], "rt Renamed")})
        name, created, modified = case.view(await client.call(rtype, "get", alpha))
        assert name == "rt Renamed"
        if created is None:
            created, modified = _stamps_of(case, await _list_both(client, case, account), keys["rt_alpha"])
        assert (created, modified) == (start, start + MINUTE_MS)

        if "delete" in rtype.operations:
            await client.call(rtype, "delete", alpha)
            with pytest.raises(HarnessNotFoundError):
                await client.call(rtype, "get", alpha)
            page = await client.call(rtype, "list", {**case.scope, **case.list_args(account)}, page=0, size=10)
            assert [case.item(i)[0] for i in page.items] == [keys["rt_beta"]]


async def _list_both(client: HarnessClient, case: Case, account: str) -> list[Any]:
    """Both created items, read as two pages of one when the client can page the type, else as one page."""
    rtype = get_resource_type(case.type_name)
    args = {**case.scope, **case.list_args(account)}
    if not case.pages_through_client:
        page: Page = await client.call(rtype, "list", args, page=0, size=10)
        return page.items
    first: Page = await client.call(rtype, "list", args, page=0, size=1)
    second: Page = await client.call(rtype, "list", args, page=1, size=1)
    assert len(first.items) == len(second.items) == 1
    assert first.has_more and not second.has_more
    assert first.total_items == 2 or (first.total_items is None and first.total_pages == 2)
    return [*first.items, *second.items]


def test_the_round_trip_and_action_tests_cover_every_non_execution_operation_of_the_registry() -> None:
    declared = {(t.name, op.name) for t, op in all_operations() if t.name not in EXECUTION_TYPES}
    crud = {(c.type_name, op) for c in CASES for op in get_resource_type(c.type_name).operations}
    assert declared - crud - ACTIONS == set()
    assert (crud | ACTIONS) - declared == set()


@pytest.mark.anyio
async def test_the_client_pages_harness_code_lists_without_repeating_the_first_page(sandbox_server: Any) -> None:
    repository = get_resource_type("repository")
    async with harness_client(sandbox_server.base_url, sandbox_server.keys.admin_pat) as client:
        for ident in ("rt_alpha", "rt_beta"):
            await client.call(repository, "create", {**SCOPE, "body": {"identifier": ident}})
        first = await client.call(repository, "list", SCOPE, page=0, size=1)
        second = await client.call(repository, "list", SCOPE, page=1, size=1)
    assert [r["identifier"] for r in [*first.items, *second.items]] == ["rt_alpha", "rt_beta"]
    assert first.total_items == 2
    assert first.has_more
    assert not second.has_more
