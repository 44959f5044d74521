"""The seeds of pipelines and what hangs off them (input sets, triggers, audit trail of their changes), and of
templates, feature flags and freeze windows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from harness_connector.sandbox.scenario import entities as bodies
from harness_connector.sandbox.scenario import yaml_bodies as yamls
from harness_connector.sandbox.scenario.entities import Seed, audit_seed
from harness_connector.sandbox.scenario.faults import Regression
from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS
from harness_connector.sandbox.scenario.pipelines import PIPELINES, PipelineSpec
from harness_connector.sandbox.scenario.timeline import users_by_id
from harness_connector.sandbox.scenario.world import SERVICES, User

__all__ = ["extra_seeds", "pipeline_seeds"]


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %I:%M %p", time.gmtime(ms // 1000))


def pipeline_seeds(seed: int, account: str, start: int, regressions: list[Regression]) -> Iterator[Seed]:
    users = users_by_id()
    for n, pipeline in enumerate(PIPELINES):
        at = start - (90 - n) * DAY_MS
        scope = (pipeline.org, pipeline.project)
        owner = _owner(pipeline, users)
        yield Seed("pipeline", yamls.pipeline_yaml(pipeline), at, *scope)
        yield audit_seed(
            seed, account, owner, "CREATE", pipeline.module.upper(), "PIPELINE", pipeline.id, pipeline.name, *scope, at
        )
        for ident, name, inputs in _input_sets(pipeline):
            yield Seed(
                "input_set", yamls.input_set_yaml(pipeline, ident, name, inputs), at + HOUR_MS, *scope, pipeline.id
            )
        for ident, name, source, inputs in _triggers(pipeline):
            body = yamls.trigger_yaml(pipeline, ident, name, source, inputs)
            yield Seed("trigger", body, at + 2 * HOUR_MS, *scope, pipeline.id)
    for reg in regressions:
        if reg.family.mode != "main_regression":
            continue
        pipeline = next(p for p in PIPELINES if p.id == reg.pipeline)
        scope = (pipeline.org, pipeline.project)
        for commit in (reg.broken_by, reg.fixed_by):
            if commit is not None:
                yield audit_seed(
                    seed,
                    account,
                    users[commit.author],
                    "UPDATE",
                    pipeline.module.upper(),
                    "PIPELINE",
                    pipeline.id,
                    pipeline.name,
                    *scope,
                    commit.ts + 30_000,
                    commitId=commit.sha,
                )
        if reg.family.id == "missing_secret" and reg.fixed_by is not None:
            secret = str(reg.params["secret"])
            yield Seed(
                "secret",
                bodies.secret_body(*scope, secret, secret, "added with the fix"),
                reg.fixed_by.ts - 60_000,
                *scope,
            )


def _owner(pipeline: PipelineSpec, users: dict[str, User]) -> User:
    svc = next((s for s in SERVICES if s.id == pipeline.service), None)
    return users[svc.authors[0]] if svc is not None else users["kofi_mensah"]


def _input_sets(pipeline: PipelineSpec) -> list[tuple[str, str, dict[str, Any]]]:
    if pipeline.kind == "cd":
        return [
            (
                "pin_stable",
                "Pin stable image",
                {"variables": [{"name": "imageTag", "type": "String", "value": "stable"}]},
            )
        ]
    if pipeline.module == "ci" and pipeline.repo:
        return [("main_branch", "Main branch", yamls.codebase_inputs("branch", "main"))]
    return []


def _triggers(pipeline: PipelineSpec) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    if pipeline.module == "ci" and pipeline.repo and pipeline.kind in ("ci", "images"):
        for ident, name, event, build, value, actions in (
            ("on_push_main", "On push to main", "Push", "branch", "<+trigger.branch>", []),
            (
                "on_pull_request",
                "On pull request",
                "PullRequest",
                "PR",
                "<+trigger.prNumber>",
                ["Open", "Reopen", "Edit", "Synchronize"],
            ),
        ):
            spec = {
                "repoName": pipeline.repo,
                "autoAbortPreviousExecutions": event == "PullRequest",
                "actions": actions,
                "payloadConditions": [{"key": "targetBranch", "operator": "Equals", "value": "main"}],
                "headerConditions": [],
            }
            source = {"type": "Webhook", "spec": {"type": "Harness", "spec": {"type": event, "spec": spec}}}
            found.append((ident, name, source, yamls.codebase_inputs(build, value)))
    if pipeline.cron:
        ident = "weekly_rebuild" if pipeline.kind == "images" else "nightly"
        source = {"type": "Scheduled", "spec": {"type": "Cron", "spec": {"type": "UNIX", "expression": pipeline.cron}}}
        inputs = yamls.codebase_inputs("branch", "main") if pipeline.repo else {}
        found.append((ident, ident.replace("_", " ").capitalize(), source, inputs))
    if pipeline.kind == "cd":
        source = {
            "type": "Webhook",
            "spec": {"type": "Custom", "spec": {"payloadConditions": [], "headerConditions": []}},
        }
        inputs = {"variables": [{"name": "imageTag", "type": "String", "value": "<+trigger.payload.tag>"}]}
        found.append(("on_new_image", "On new image", source, inputs))
    return found


def extra_seeds(start: int, anchor: int) -> Iterator[Seed]:
    at = start - 40 * DAY_MS
    notify = {
        "type": "ShellScript",
        "timeout": "2m",
        "spec": {
            "shell": "Bash",
            "onDelegate": True,
            "environmentVariables": [
                {"name": "WEBHOOK", "type": "Secret", "value": '<+secrets.getValue("account.slack_webhook")>'}
            ],
            "source": {
                "type": "Inline",
                "spec": {"script": 'curl -sf -X POST "$WEBHOOK" -d "{\\"text\\": \\"$MESSAGE\\"}"'},
            },
        },
    }
    maven = {
        "type": "Run",
        "timeout": "30m",
        "spec": {
            "connectorRef": "account.dockerhub",
            "image": "maven:3.9.6-eclipse-temurin-17",
            "shell": "Sh",
            "command": "mvn -B -ntp verify",
            "reports": {"type": "JUnit", "spec": {"paths": ["target/surefire-reports/*.xml"]}},
        },
    }
    gotest = {
        "type": "Run",
        "timeout": "20m",
        "spec": {
            "connectorRef": "account.dockerhub",
            "image": "golang:1.22.3-bookworm",
            "shell": "Sh",
            "command": "gotestsum --junitfile reports/junit.xml -- ./...",
        },
    }
    rolling = {
        "type": "Deployment",
        "spec": {
            "deploymentType": "Kubernetes",
            "execution": {
                "steps": [
                    {
                        "step": {
                            "type": "K8sRollingDeploy",
                            "name": "Rollout",
                            "identifier": "rollout",
                            "timeout": "10m",
                            "spec": {"skipDryRun": False},
                        }
                    }
                ]
            },
        },
    }
    for scope, ident, name, kind, spec in (
        (("", ""), "slack_notify", "Slack notify", "Step", notify),
        (("default", "payments"), "maven_verify", "Maven verify", "Step", maven),
        (("platform", ""), "go_test", "Go test", "Step", gotest),
        (("default", ""), "k8s_rolling_stage", "K8s rolling stage", "Stage", rolling),
    ):
        yield Seed("template", yamls.template_yaml(*scope, ident, name, kind, spec), at, *scope)
    for ident, name, owner, states, description in (
        (
            "new_checkout_flow",
            "New checkout flow",
            "gustavo_lima",
            {"staging": "on", "production": "off"},
            "One-page checkout",
        ),
        (
            "search_v2_ranking",
            "Search v2 ranking",
            "julia_berg",
            {"staging": "on", "production": "on"},
            "Learning-to-rank model",
        ),
        ("promo_banner", "Promo banner", "hana_sato", {"staging": "off", "production": "off"}, "Seasonal promo banner"),
        ("dark_mode", "Dark mode", "hana_sato", {"staging": "on", "production": "off"}, ""),
    ):
        yield Seed(
            "feature_flag",
            bodies.feature_flag_body("web", ident, name, owner, states, description),
            at,
            "default",
            "web",
        )
    prod_only = [
        {
            "name": "production",
            "entities": [
                {"type": "Service", "filterType": "All"},
                {"type": "EnvType", "filterType": "Equals", "entityRefs": ["Production"]},
            ],
        }
    ]
    day = anchor - anchor % DAY_MS
    for scope, ident, name, status, window in (
        (
            ("default", "web"),
            "black_friday",
            "Black Friday",
            "Enabled",
            {"timeZone": "UTC", "startTime": _utc(day + 12 * DAY_MS), "duration": "4d"},
        ),
        (
            ("default", "payments"),
            "month_end_close",
            "Month-end close",
            "Enabled",
            {
                "timeZone": "UTC",
                "startTime": _utc(day - 3 * DAY_MS),
                "duration": "1d",
                "recurrence": {"type": "Monthly"},
            },
        ),
        (
            ("default", ""),
            "holiday_freeze",
            "Holiday freeze",
            "Disabled",
            {
                "timeZone": "UTC",
                "startTime": _utc(day + 40 * DAY_MS),
                "duration": "2w",
                "recurrence": {"type": "Yearly"},
            },
        ),
    ):
        yield Seed("freeze_window", yamls.freeze_yaml(*scope, ident, name, status, window, prod_only), at, *scope)
