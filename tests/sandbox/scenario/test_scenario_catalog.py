from __future__ import annotations

from typing import Any

import yaml

from harness_connector.sandbox.scenario.failure import CATEGORIES
from harness_connector.sandbox.scenario.families import FAMILIES
from harness_connector.sandbox.scenario.pipelines import PIPELINES
from harness_connector.sandbox.scenario.templates import TEMPLATES
from harness_connector.sandbox.scenario.testcatalog import catalog
from harness_connector.sandbox.scenario.toolchains import TOOLCHAINS
from harness_connector.sandbox.scenario.world import SERVICES
from harness_connector.sandbox.scenario.yaml_bodies import pipeline_yaml

STEPS = [(pipeline, step) for pipeline in PIPELINES for stage in pipeline.stages for step in stage.steps]


def test_every_category_has_a_family_and_every_family_a_known_category() -> None:
    assert {family.category for family in FAMILIES.values()} == set(CATEGORIES)


def test_every_family_can_strike_a_step_of_some_pipeline() -> None:
    for family in FAMILIES.values():
        assert any(family.applies_to(step.role, step.toolchain) for _, step in STEPS), family.id


def test_every_ecosystem_has_a_package_registry_outage() -> None:
    covered = {
        toolchain
        for family in FAMILIES.values()
        if family.category == "dependency_registry_outage"
        for toolchain in family.toolchains
    }
    assert covered >= set(TOOLCHAINS)
    hosts = {family.host for family in FAMILIES.values() if family.category == "dependency_registry_outage"}
    assert hosts >= {"registry.npmjs.org", "files.pythonhosted.org", "repo.maven.apache.org", "proxy.golang.org"}


def test_run_step_failures_carry_harness_failure_types_and_messages() -> None:
    for family in FAMILIES.values():
        assert family.failure_types and family.message, family.id
        assert family.step_status in ("Failed", "Expired", "ApprovalRejected"), family.id


def test_every_step_names_a_log_template_that_exists() -> None:
    assert {step.template for _, step in STEPS} <= set(TEMPLATES)


def test_test_names_are_stable_unique_and_follow_each_runners_conventions() -> None:
    for svc in SERVICES:
        tests = catalog(svc.id)
        assert tests == catalog(svc.id)
        assert len({(t.class_name, t.name) for t in tests}) == len(tests) == svc.tests, svc.id
        for test in tests:
            if test.style == "junit5":
                assert test.name.endswith("()") and test.class_name.endswith("Test")
            elif test.style == "gotest":
                assert test.name.startswith("Test") and test.file_name.endswith("_test.go")
            elif test.style == "pytest":
                assert test.name.startswith("test_") and test.file_name.startswith("tests/test_")
            elif test.style in ("jest", "playwright"):
                assert test.file_name.endswith((".test.ts", ".test.tsx", ".spec.ts"))


def test_a_known_set_of_flaky_tests_covers_every_flake_rate() -> None:
    flaky = [t for svc in SERVICES for t in catalog(svc.id) if t.flaky_rate]
    assert len(flaky) >= 12
    assert {t.flaky_rate for t in flaky} >= {0.01, 0.02, 0.05, 0.1, 0.2, 0.4}
    assert not any(t.skipped for t in flaky)
    assert sum(t.slow for svc in SERVICES for t in catalog(svc.id)) >= len(SERVICES) - 1


def _stages(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for item in block["stages"]:
        found += [p["stage"] for p in item["parallel"]] if "parallel" in item else [item["stage"]]
    return found


def test_pipeline_yaml_declares_the_stages_and_steps_the_executions_run() -> None:
    for pipeline in PIPELINES:
        block = yaml.safe_load(pipeline_yaml(pipeline))["pipeline"]
        assert (block["identifier"], block["orgIdentifier"], block["projectIdentifier"]) == (
            pipeline.id,
            pipeline.org,
            pipeline.project,
        )
        stages = _stages(block)
        assert [s["identifier"] for s in stages] == [s.identifier for s in pipeline.stages]
        for declared, spec in zip(stages, pipeline.stages, strict=True):
            steps = [item["step"]["identifier"] for item in declared["spec"]["execution"]["steps"]]
            # Initialize and the clone step are implicit in Harness YAML.
            assert steps == [s.identifier for s in spec.steps if s.role not in ("init", "clone")]
