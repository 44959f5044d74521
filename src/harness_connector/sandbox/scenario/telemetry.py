"""Telemetry around the builds: outbound network errors during outages, alerts during incidents, deployments,
and the background noise any real event stream has.

Incidents are derived here from the simulated deploys (a release that passed every check and then paged
someone, the bad canaries that were caught, and one alert no deploy caused), because their times are the
events' times; the ground truth reports the same records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.scenario.faults import Window
from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS, MINUTE_MS, rfc3339, stream
from harness_connector.sandbox.scenario.pipelines import PIPELINES, service
from harness_connector.sandbox.scenario.plans import RunResult
from harness_connector.sandbox.scenario.pools import POOLS

__all__ = ["Incident", "build_events", "derive_incidents"]

_NOISE_HOSTS = (
    "api.stripe.com",
    "s3.eu-west-1.amazonaws.com",
    "github.com",
    "sentry.io",
    "hooks.slack.com",
    "api.segment.io",
    "registry.npmjs.org",
    "pypi.org",
)
_NETWORK = ("dependency_registry_outage", "network", "rate_limit")


@dataclass(slots=True)
class Incident:
    id: str
    service: str
    environment: str
    caused_by_deploy: bool
    started_at: int
    detected_at: int
    resolved_at: int | None
    execution_id: str = ""
    artifact: str = ""
    previous_artifact: str = ""
    rollback_execution_id: str = ""
    caught_by: str = ""  # canary_verification, or "" when production users were hit
    cause: str = ""
    alerts: list[str] = field(default_factory=list)

    def as_truth(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "environment": self.environment,
            "caused_by_deploy": self.caused_by_deploy,
            "started_at": rfc3339(self.started_at),
            "detected_at": rfc3339(self.detected_at),
            "resolved_at": rfc3339(self.resolved_at) if self.resolved_at is not None else None,
            "execution_id": self.execution_id or None,
            "artifact": self.artifact or None,
            "previous_artifact": self.previous_artifact or None,
            "rollback_execution_id": self.rollback_execution_id or None,
            "caught_by": self.caught_by or None,
            "production_impact": not self.caught_by,
            "cause": self.cause,
            "alerts": sorted(set(self.alerts)),
        }


def _stage_end(result: RunResult, prefix: str) -> int | None:
    stage = next((s for s in result.record.stages if s.identifier.endswith(prefix) and s.end_ts), None)
    return stage.end_ts if stage is not None else None


def derive_incidents(seed: int, results: list[RunResult], start: int, anchor: int) -> list[Incident]:
    rng = stream(seed, "incident-times")
    found: list[Incident] = []
    rollbacks = {r.plan.tags.get("rollback_of"): r for r in results if r.plan.tags.get("rollback_of")}
    for result in results:
        deploy = result.plan.deploy
        if deploy is None or not deploy.incident:
            continue
        svc = service(result.plan.pipeline.service).name
        failure = result.failure
        if deploy.bad_release and failure is not None and failure.family.id == "canary_verification_failed":
            verify = next(s for st in result.record.stages for s in st.steps if s.identifier == "verify_canary")
            found.append(
                Incident(
                    deploy.incident,
                    svc,
                    "production",
                    True,
                    verify.start_ts or 0,
                    verify.end_ts or 0,
                    verify.end_ts,
                    result.plan.id,
                    deploy.artifact,
                    deploy.previous,
                    caught_by="canary_verification",
                    cause="bad release caught by canary analysis",
                )
            )
        elif not deploy.bad_release and result.record.status == ExecutionStatus.SUCCESS:
            deployed = _stage_end(result, "production") or result.record.end_ts or result.plan.start
            rollback = rollbacks.get(result.plan.id)
            rolled = _stage_end(rollback, "production") if rollback is not None else None
            resolved = rolled + int(rng.uniform(3, 8) * MINUTE_MS) if rolled is not None else None
            found.append(
                Incident(
                    deploy.incident,
                    svc,
                    "production",
                    True,
                    deployed + int(rng.uniform(1, 3) * MINUTE_MS),
                    deployed + int(rng.uniform(4, 12) * MINUTE_MS),
                    resolved,
                    result.plan.id,
                    deploy.artifact,
                    deploy.previous,
                    rollback.plan.id if rollback else "",
                    cause="release raised the 5xx rate; rolled back",
                )
            )
    found.append(_decoy(rng, results, start, anchor))
    return found


def _decoy(rng: random.Random, results: list[RunResult], start: int, anchor: int) -> Incident:
    """An alert no deploy caused (a database failover), near enough to a deploy to tempt a correlator."""
    deploys = sorted(
        (r.record.end_ts or 0, r.plan.pipeline.service)
        for r in results
        if r.plan.deploy is not None and r.record.end_ts
    )
    at = start + int(rng.uniform(0.3, 0.8) * (anchor - start))
    for end, svc in deploys:
        if end > at and svc != "ledger":
            at = end + int(rng.uniform(25, 50) * MINUTE_MS)
            break
    at = min(at, anchor - 2 * HOUR_MS)
    resolved = at + int(rng.uniform(20, 45) * MINUTE_MS)
    return Incident(
        "INC-4301",
        "ledger-service",
        "production",
        False,
        at,
        at + int(rng.uniform(2, 5) * MINUTE_MS),
        resolved,
        cause="database primary failover (no deployment involved)",
    )


def _event(at: int, source: str, svc: str, kind: str, host: str, message: str) -> dict[str, Any]:
    return {"time": rfc3339(at), "source": source, "service": svc, "kind": kind, "host": host, "message": message}


def _window_events(rng: random.Random, window: Window, hit: list[str]) -> list[dict[str, Any]]:
    family = window.family
    pipelines = hit or [p.id for p in PIPELINES if p.kind in ("ci", "images")]
    host = family.host.format_map({"cluster_host": window.params.get("cluster_host", "kubernetes.default")})
    minutes = max(1, (window.end - window.start) // MINUTE_MS)
    events: list[dict[str, Any]] = []
    if family.id == "delegate_unavailable":
        for n in range(0, int(minutes), 5):
            at = window.start + n * MINUTE_MS + int(rng.random() * 30_000)
            events.append(
                _event(
                    at,
                    "harness-manager",
                    "delegate",
                    "delegate_disconnected",
                    window.delegate or "delegate",
                    f"delegate {window.delegate} missed heartbeat (last seen {rfc3339(window.start)})",
                )
            )
        return events
    kind = "network_error" if family.category in _NETWORK else "auth_error"
    for _ in range(int(minutes * rng.uniform(2, 6))):
        at = window.start + int(rng.random() * (window.end - window.start))
        svc = rng.choice(pipelines).removesuffix("_ci").replace("_", "-")
        message = _message(rng, family.category, family.id, host)
        source = rng.choice(("ci-runner", "ci-runner", "egress-proxy"))
        events.append(_event(at, source, svc, kind, host, message))
    return events


def _message(rng: random.Random, category: str, family_id: str, host: str) -> str:
    ip = f"{rng.randrange(3, 200)}.{rng.randrange(0, 255)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}"
    if category == "rate_limit":
        return rng.choice(
            (
                f"GET https://{host}/v2/library/node/manifests/20: 429 Too Many Requests",
                f"GET https://{host}/repos/acme/tools/releases/latest: 403 rate limit exceeded",
            )
        )
    if category == "authentication":
        return f"POST https://{host}/v2/: 401 Unauthorized (token expired)"
    if family_id == "apt_mirror_outage":
        return f"DNS lookup failed for {host}: SERVFAIL from 10.96.0.10:53"
    return rng.choice(
        (
            f"GET https://{host}/: connect ETIMEDOUT {ip}:443",
            f"GET https://{host}/: 502 Bad Gateway",
            f"GET https://{host}/: 503 Service Unavailable",
            f"read tcp 10.8.{rng.randrange(255)}.12:{rng.randrange(30000, 60000)}->{ip}:443: i/o timeout",
        )
    )


def _incident_events(rng: random.Random, incident: Incident) -> list[dict[str, Any]]:
    if incident.caught_by:
        return []
    end = incident.resolved_at or incident.detected_at + 90 * MINUTE_MS
    host = f"{incident.service}.{incident.environment}"
    rule = "HighErrorRate" if incident.caused_by_deploy else "PostgresPrimaryDown"
    events = []
    at = incident.detected_at
    while at < end:
        ratio = rng.uniform(4, 11)
        events.append(
            _event(
                at,
                "alertmanager",
                incident.service,
                "alert",
                host,
                f"[FIRING] {rule} service={incident.service} env={incident.environment} "
                f"5xx_ratio={ratio:.1f}% threshold=2%",
            )
        )
        incident.alerts.append(rule)
        at += 5 * MINUTE_MS
    if incident.resolved_at is not None:
        events.append(
            _event(
                incident.resolved_at,
                "alertmanager",
                incident.service,
                "alert",
                host,
                f"[RESOLVED] {rule} service={incident.service} env={incident.environment}",
            )
        )
    return events


def build_events(
    seed: int, start: int, anchor: int, windows: list[Window], incidents: list[Incident], results: list[RunResult]
) -> list[dict[str, Any]]:
    """Every telemetry event of the scenario, in time order."""
    rng = stream(seed, "telemetry")
    events: list[dict[str, Any]] = []
    pipeline_of = {r.plan.id: r.plan.pipeline.id for r in results}
    for window in windows:
        events += _window_events(rng, window, sorted({pipeline_of[h] for h in window.hits if h in pipeline_of}))
    for incident in incidents:
        events += _incident_events(rng, incident)
    for result in results:
        end = _stage_end(result, "production")
        if result.plan.deploy is not None and end is not None and result.record.status == ExecutionStatus.SUCCESS:
            svc = service(result.plan.pipeline.service).name
            events.append(
                _event(
                    end,
                    "harness",
                    svc,
                    "deployment",
                    f"{svc}.production",
                    f"deployed {result.plan.deploy.artifact} to production (execution {result.plan.id})",
                )
            )
    at = start + int(rng.uniform(5, 40) * MINUTE_MS)
    while at < anchor:
        if rng.random() < 0.8:
            host = rng.choice(_NOISE_HOSTS)
            events.append(
                _event(
                    at,
                    rng.choice(("egress-proxy", "app")),
                    rng.choice(("payments-api", "storefront", "search-api", "ledger-service")),
                    "network_error",
                    host,
                    _message(rng, "network", "", host),
                )
            )
        else:
            node = rng.choice(POOLS["node"])
            events.append(
                _event(
                    at,
                    "alertmanager",
                    "ci",
                    "alert",
                    node,
                    f"[FIRING] NodeDiskPressure node={node} usage={rng.randrange(85, 93)}%",
                )
            )
        at += int(rng.uniform(10, 50) * MINUTE_MS)
    events.sort(key=lambda e: (e["time"], e["kind"], e["host"], e["message"]))
    return [e for e in events if e["time"] <= rfc3339(anchor) and e["time"] >= rfc3339(start - DAY_MS)]
