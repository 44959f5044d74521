"""Diagnose a connector: read it, run its connection test, and turn the answer into a verdict and advice.

Delegate-run tests fail with "No eligible delegate(s) in account to execute task" when no connected delegate
carries the connector's selectors; that is reported as `cannot_test`, since the connection itself was never tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness_connector.errors import HarnessError, UsageError
from harness_connector.services.arguments import Target
from harness_connector.services.connection import Connection
from harness_connector.services.diagnose_models import ConnectorDiagnosis
from harness_connector.services.shaping import dig, iso_time, ui_link

__all__ = ["clean_selectors", "diagnose_connector"]

_NO_DELEGATE = ("no eligible delegate", "no matching selector", "delegate(s) not available", "no delegate")
_AUTH_WORDS = ("401", "403", "unauthori", "authenticat", "credential", "access denied", "forbidden", "token",
               "permission", "password")  # fmt: skip
_NETWORK_WORDS = ("timeout", "timed out", "unknownhost", "unknown host", "refused", "unreachable", "no route",
                  "ssl", "certificate", "handshake", "dns", "resolve")  # fmt: skip


async def diagnose_connector(conn: Connection, target: Target) -> ConnectorDiagnosis:
    """A connector's verdict: healthy, failing (with Harness's deepest cause), or cannot be tested (no delegate).

    Raises:
        UsageError: the target is not a connector, or names none.
        HarnessError: the connector cannot be read (a missing one is HarnessNotFoundError).
    """
    if target.resource.name != "connector" or not target.own_id:
        raise UsageError("diagnosing a connector needs resource_type=connector and its identifier as resource_id")
    item = await conn.client.call(target.resource, "get", target.args)
    found = dig(item, "connector")
    connector: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    spec: Mapping[str, Any] = connector["spec"] if isinstance(connector.get("spec"), Mapping) else {}
    selectors = clean_selectors(spec.get("delegateSelectors"))
    result = ConnectorDiagnosis(
        id=str(connector.get("identifier") or target.own_id),
        name=connector.get("name"),
        type=connector.get("type"),
        url=_first(spec, ("url", "dockerRegistryUrl", "gitUrl", "masterUrl", "credential.spec.masterUrl")),
        auth_type=_first(spec, ("authentication.type", "auth.type", "authType", "credential.type")),
        delegate_selectors=selectors,
        verdict="cannot_test",
        reason="",
        previous_status=dig(item, "status.status"),
        last_connected_at=_iso(dig(item, "status.lastConnectedAt")),
        link=ui_link(conn.ui_base_url, conn.account_id, target.resource, target.args, item),
    )
    try:
        test = await conn.client.call(target.resource, "test_connection", {**target.args, "body": {}})
    except HarnessError as exc:
        _judge_error(result, exc, spec)
        return result
    _judge_test(result, test if isinstance(test, Mapping) else {}, spec)
    return result


def _judge_test(result: ConnectorDiagnosis, test: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
    status = str(test.get("status") or "UNKNOWN").upper()
    errors = [e for e in test.get("errors") or [] if isinstance(e, Mapping)]
    result.errors = [
        {k: str(e[k]) for k in ("reason", "message", "code") if e.get(k) not in (None, "")} for e in errors
    ][:5]
    messages = [str(e.get("message")) for e in errors if e.get("message")]
    result.cause = messages[-1] if messages else (test.get("errorSummary") or None)
    result.tested_at = _iso(test.get("testedAt"))
    if status == "SUCCESS":
        result.verdict, result.reason = "healthy", "the connection test passed"
        return
    if status == "UNKNOWN":
        result.verdict, result.reason = "cannot_test", "Harness could not tell whether the connection works"
        return
    result.verdict = "failing"
    result.reason = "the connection test failed" + (" for part of the checks" if status == "PARTIAL" else "")
    result.next_steps = _advice(result.cause or "", result, spec)


def _judge_error(result: ConnectorDiagnosis, exc: HarnessError, spec: Mapping[str, Any]) -> None:
    text = exc.cause or exc.message
    result.cause = text
    if any(word in text.lower() for word in _NO_DELEGATE):
        result.verdict = "cannot_test"
        wanted = f" with selectors {', '.join(result.delegate_selectors)}" if result.delegate_selectors else ""
        result.reason = f"no connected delegate{wanted} could run the test, so the connection was not tried"
    elif exc.status_code in (401, 403):
        result.verdict = "cannot_test"
        result.reason = "this API key may not test the connector (it needs edit or access permission on it)"
    else:
        result.verdict = "failing"
        result.reason = "Harness refused the connection test"
    result.next_steps = _advice(text, result, spec)


def _advice(text: str, result: ConnectorDiagnosis, spec: Mapping[str, Any]) -> list[str]:
    lowered = text.lower()
    if any(word in lowered for word in _NO_DELEGATE):
        return [
            "start or reconnect a delegate that carries every selector, or change the connector's delegateSelectors",
            "harness_diagnose resource_type=delegate lists delegate health and selectors that match nothing",
        ]
    if any(word in lowered for word in _AUTH_WORDS):
        secrets = _secret_refs(spec)
        which = f" (the connector uses {', '.join(secrets)})" if secrets else ""
        return [f"the credentials were refused: renew the token or password in the secret it references{which}"]
    if any(word in lowered for word in _NETWORK_WORDS):
        where = "the delegate" if result.delegate_selectors else "Harness"
        url = f" {result.url}" if result.url else ""
        return [f"the endpoint{url} could not be reached from {where}: check the URL, DNS, proxy and firewall"]
    return ["compare the cause with the connector's settings (harness_get resource_type=connector), then test again"]


def _secret_refs(spec: Any, found: list[str] | None = None) -> list[str]:
    found = [] if found is None else found
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            if str(key).endswith("Ref") and isinstance(value, str) and value and value not in found:
                found.append(value)
            else:
                _secret_refs(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _secret_refs(value, found)
    return found[:5]


def _first(spec: Mapping[str, Any], paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value = dig(spec, path)
        if isinstance(value, str) and value:
            return value
    return None


def _iso(value: Any) -> str | None:
    return iso_time(value) if isinstance(value, int) and value > 0 else None


def clean_selectors(value: Any) -> list[str]:
    """Selector values that can be checked: strings, without runtime inputs or expressions, de-duplicated."""
    values = value if isinstance(value, list) else []
    # Runtime inputs and expressions are resolved per run; they cannot be checked here.
    kept = [str(v).strip() for v in values if isinstance(v, str) and v.strip() and "<+" not in v]
    return list(dict.fromkeys(kept))
