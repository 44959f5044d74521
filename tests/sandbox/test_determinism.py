"""The same seed and anchor give byte-identical answers (correlation ids aside), request for request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

from harness_connector.sandbox import SandboxContext, SandboxState, create_app, open_account
from harness_connector.sandbox.scenario import generate_scenario

pytestmark = pytest.mark.anyio

ANCHOR_MS = 1_790_006_400_000
_CORRELATION = re.compile(rb'"correlationId":\s*"[0-9a-f-]{36}"')


def _generate(path: Path, seed: int) -> SandboxState:
    state = SandboxState(path)
    generate_scenario(state, seed=seed, days=2, anchor_ms=ANCHOR_MS)
    return state


async def _answers(state: SandboxState) -> list[bytes]:
    keys = open_account(state)
    assert keys is not None
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=lambda: ANCHOR_MS)
    scope = {"accountIdentifier": keys.account_id, "orgIdentifier": "default", "projectIdentifier": "payments"}
    headers = {"x-api-key": keys.admin_pat}
    transport = httpx2.ASGITransport(app=create_app(ctx))
    out: list[bytes] = []
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:

        async def fetch(method: str, path: str, **kwargs: Any) -> httpx2.Response:
            answer = await http.request(method, path, headers=headers, **kwargs)
            out.append(_CORRELATION.sub(b'"correlationId":""', answer.content))
            return answer

        listed = await fetch(
            "POST",
            "/pipeline/api/pipelines/execution/summary",
            params={**scope, "size": 50},
            json={"filterType": "PipelineExecution"},
        )
        first = listed.json()["data"]["content"][0]
        detail = await fetch(
            "GET",
            f"/pipeline/api/pipelines/execution/v2/{first['planExecutionId']}",
            params={**scope, "renderFullBottomGraph": "true"},
        )
        nodes = detail.json()["data"]["executionGraph"]["nodeMap"].values()
        key = next(n["logBaseKey"] for n in nodes if ".steps." in (n.get("baseFqn") or ""))
        await fetch("GET", "/gateway/log-service/blob", params={"accountID": keys.account_id, "key": key})
        await fetch("POST", "/pipeline/api/pipelines/list", params=scope, json={"filterType": "PipelineSetup"})
        await fetch("POST", "/ng/api/connectors/listV2", params=scope, json={"filterType": "Connector"})
        await fetch("POST", "/ng/api/delegate-setup/listDelegates", params=scope, json={"filterType": "Delegate"})
    return out


async def test_the_same_seed_answers_byte_for_byte_the_same(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a.sqlite", seed=9)
    second = _generate(tmp_path / "b.sqlite", seed=9)
    other = _generate(tmp_path / "c.sqlite", seed=10)
    try:
        answers_a, answers_b, answers_c = await _answers(first), await _answers(second), await _answers(other)
    finally:
        for state in (first, second, other):
            state.close()
    assert len(answers_a) == 6
    assert answers_a == answers_b
    assert answers_a != answers_c
    assert all(json.loads(body) is not None for body in answers_a[:2])
