"""The schema service: the catalogue, readable sections, examples, and line-numbered validation."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pydantic
import pytest

from harness_connector.errors import UsageError
from harness_connector.services.schemas import (
    ValidationIssue,
    list_schemas,
    schema_examples,
    schema_names,
    schema_section,
    validate_yaml,
)
from harness_connector.services.schemas_catalog import ENTRIES, document, entry, resolve_ref
from harness_connector.services.schemas_validation import validator

NAMES = [
    "pipeline",
    "template",
    "trigger",
    "pipeline_v1",
    "template_v1",
    "trigger_v1",
    "inputSet_v1",
    "overlayInputSet_v1",
    "service_v1",
    "infra_v1",
    "agent-pipeline",
]
PUBLISHED = {"pipeline", "trigger", "pipeline_v1", "template_v1", "inputSet_v1", "overlayInputSet_v1"}

BROKEN_PIPELINE = """\
pipeline:
  name: Nightly regression
  identifier: nightly_regression
  orgIdentifier: default
  projectIdentifier: qa
  stages:
    - stage:
        name: Run tests
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  type: ShellScrip
                  name: Trigger suite
                  identifier: trigger_suite
                  timeout: 2h
                  spec:
                    shell: Bash
                    onDelegate: true
                    source:
                      type: Inline
                      spec:
                        script: run-suite --junit out.xml
              - step:
                  type: ShellScript
                  name: Collect results
                  identifier: collect
                  spec:
                    shell: Zsh
                    onDelegate: true
                    source:
                      type: Inline
                      spec:
                        script: cat out.xml
        failureStrategies:
          - onFailure:
              errors: [AllErrors]
              action: {type: Abortt}
"""


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _by_path(issues: list[ValidationIssue]) -> dict[str, ValidationIssue]:
    return {e.path: e for e in issues}


def test_the_catalogue_lists_the_eleven_schemas_with_size_and_source() -> None:
    infos = {i.name: i for i in list_schemas()}
    assert list(infos) == NAMES == schema_names()
    for name, info in infos.items():
        assert info.size_bytes > 0
        assert info.examples >= 1
        assert info.draft == "draft-07"
        assert info.origin == ("harness" if name in PUBLISHED else "project")
        assert info.source.startswith("Harness's published YAML JSON schemas") is (name in PUBLISHED)
    assert infos["pipeline"].size_bytes > 3_000_000
    assert infos["pipeline_v1"].yaml_version == "v1"
    assert infos["trigger"].yaml_version == "v0"


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_loads_as_a_valid_draft_07_schema_whose_refs_all_resolve(name: str) -> None:
    found = entry(name)
    schema = document(found.file)
    jsonschema.Draft7Validator.check_schema(schema)
    assert found.draft == "draft-07"
    assert validator(name).META_SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    dangling = []
    for ref in set(_refs(schema)):
        try:
            resolve_ref(found.file, ref)
        except KeyError:
            dangling.append(ref)
    assert dangling == []


def test_a_schema_file_is_parsed_once_per_process() -> None:
    assert document("v0/pipeline.json") is document("v0/pipeline.json")


@pytest.mark.parametrize("name", NAMES)
def test_every_outline_is_compact_even_for_the_megabyte_pipeline_schema(name: str) -> None:
    outline = schema_section(name)
    assert outline.kind == "outline"
    assert outline.pointer == "#"
    assert len(json.dumps(outline.content)) < 20_000
    assert outline.size_bytes < 20_000


def test_the_pipeline_outline_names_the_root_properties_and_the_main_definitions() -> None:
    outline = schema_section("pipeline", None).content
    assert outline["required"] == ["pipeline"]
    root = outline["root_objects"]["pipeline"]
    assert root["pointer"] == "#/definitions/pipeline/pipeline"
    assert {"identifier", "name", "stages", "variables"} <= set(root["properties"])
    assert "ShellScriptStepNode" in outline["definitions"]["pipeline/steps/custom"]["nodes"]
    assert "CustomStageNode" in json.dumps(outline["definitions"])


def test_a_dotted_path_walks_the_document_and_inlines_refs_one_level() -> None:
    part = schema_section("pipeline", "pipeline.stages")
    assert part.kind == "property"
    assert part.pointer == "#/definitions/pipeline/pipeline/properties/stages"
    assert part.content["type"] == "array"
    stages = part.content["items"]
    assert stages["x-ref"] == "#/definitions/pipeline/stages/stages"
    assert "stage" in stages["properties"]
    # One level only: the stage nodes behind `stage` stay as refs the reader can ask for next.
    assert "#/definitions/pipeline/stages/custom/CustomStageNode" in part.refs
    assert part.refs_inlined >= 1


def test_a_definition_is_found_by_name_by_pointer_and_by_a_mistaken_namespace() -> None:
    by_name = schema_section("pipeline", "ShellScriptStepInfo")
    by_pointer = schema_section("pipeline", "#/definitions/pipeline/steps/custom/ShellScriptStepInfo")
    by_wrong_namespace = schema_section("pipeline", "definitions/pipeline/steps/common/ShellScriptStepInfo")
    for part in (by_name, by_pointer, by_wrong_namespace):
        assert part.kind == "definition"
        assert part.pointer == "#/definitions/pipeline/steps/custom/ShellScriptStepInfo"
        assert '"shell"' in json.dumps(part.content)
    assert schema_section("pipeline", "shellscriptstepinfo").pointer == by_name.pointer


def test_a_name_defined_in_several_namespaces_returns_one_and_lists_the_others() -> None:
    part = schema_section("pipeline", "ExecutionWrapperConfig")
    assert part.pointer.endswith("/ExecutionWrapperConfig")
    assert len(part.other_matches) >= 3
    assert part.pointer not in part.other_matches


def test_an_authored_schema_reaches_definitions_of_the_published_file_it_reuses() -> None:
    part = schema_section("template", "ShellScriptStepInfo")
    assert part.pointer == "pipeline.json#/definitions/pipeline/steps/custom/ShellScriptStepInfo"
    step = schema_section("template", "StepTemplateSpec")
    assert step.pointer == "#/definitions/template/StepTemplateSpec"
    assert "ShellScript" in step.content["properties"]["type"]["enum"]


def test_a_large_section_is_summarised_to_fit_the_size_cap() -> None:
    part = schema_section("pipeline", "pipeline.stages.stage.spec", max_bytes=3_000)
    assert part.truncated
    assert part.size_bytes <= 3_000
    assert "narrower path" in part.hint


def test_an_unknown_section_names_the_near_definitions() -> None:
    with pytest.raises(UsageError, match="ShellScriptStepInfo"):
        schema_section("pipeline", "ShellScriptStepInf0")


@pytest.mark.parametrize("name", NAMES)
def test_every_example_validates_against_its_own_schema(name: str) -> None:
    examples = schema_examples(name)
    assert examples
    for text in examples:
        report = validate_yaml(name, text)
        assert report.valid, [e.model_dump() for e in report.errors]
        assert report.error_count == 0


def test_a_broken_pipeline_reports_each_problem_on_its_line() -> None:
    report = validate_yaml("pipeline", BROKEN_PIPELINE)
    assert not report.valid
    assert report.lines == BROKEN_PIPELINE.count("\n")
    errors = _by_path(report.errors)
    missing = errors["pipeline.stages[0].stage"]
    assert (missing.line, missing.rule) == (7, "required")
    assert "'identifier'" in missing.message
    wrong_step = errors["pipeline.stages[0].stage.spec.execution.steps[0].step.type"]
    assert (wrong_step.line, wrong_step.column) == (14, 19)
    assert "'ShellScrip'" in wrong_step.message
    assert wrong_step.hint is not None and "did you mean 'ShellScript'" in wrong_step.hint
    bad_enum = errors["pipeline.stages[0].stage.spec.execution.steps[1].step.spec.shell"]
    assert (bad_enum.line, bad_enum.rule) == (30, "enum")
    assert bad_enum.hint is not None and "Bash, PowerShell" in bad_enum.hint
    # Harness dispatches failure actions through if/then only; an unknown action type is still an error.
    action = errors["pipeline.stages[0].stage.failureStrategies[0].onFailure.action.type"]
    assert (action.line, action.column) == (39, 24)
    assert action.hint is not None and "'Abort'" in action.hint
    assert [e.line for e in report.errors] == sorted(e.line or 0 for e in report.errors)
    assert report.error_count == len(report.errors) == 4


def test_a_step_without_a_type_is_told_which_types_exist() -> None:
    text = schema_examples("pipeline")[0].replace("                  type: Run\n", "", 1)
    (issue,) = validate_yaml("pipeline", text).errors
    assert issue.path == "pipeline.stages[0].stage.spec.execution.steps[0].step"
    assert issue.message == "missing required property 'type'"
    assert issue.line == text.splitlines().index("              - step:") + 1
    assert issue.hint is not None and "Run" in issue.hint


def test_errors_past_the_limit_are_counted_but_not_listed() -> None:
    report = validate_yaml("pipeline", BROKEN_PIPELINE, max_errors=1)
    assert (report.error_count, len(report.errors), report.truncated) == (4, 1, True)
    assert report.errors[0].line == 7


def test_an_unknown_key_in_a_closed_object_is_reported_on_its_own_line_with_the_near_key() -> None:
    text = schema_examples("agent-pipeline")[0].replace("    read: true", "    reed: true")
    report = validate_yaml("agent-pipeline", text)
    (issue,) = report.errors
    assert issue.path == "agent.tools.reed"
    assert issue.line == text.splitlines().index("    reed: true") + 1
    assert issue.hint is not None and "did you mean 'read'" in issue.hint


def test_a_yaml_syntax_error_is_reported_with_its_line() -> None:
    text = "pipeline:\n  name: x\n  stages:\n    - stage: {name: a\n    identifier: b\n"
    report = validate_yaml("pipeline", text)
    (issue,) = report.errors
    assert (issue.rule, issue.line) == ("yaml-syntax", 5)
    assert issue.message.startswith("YAML syntax error")
    assert not report.valid


def test_an_empty_document_is_reported_as_such() -> None:
    report = validate_yaml("pipeline_v1", "# nothing yet\n")
    assert not report.valid
    assert report.errors[0].message == "the document is empty"


def test_on_and_yes_stay_strings_as_harness_reads_them() -> None:
    text = "pipeline:\n  id: p\n  on: pushh\n  stages:\n    - steps:\n        - run: make test\n"
    issue = validate_yaml("pipeline_v1", text).errors[0]
    assert issue.path == "pipeline.on"
    assert issue.line == 3
    assert validate_yaml("pipeline_v1", text.replace("pushh", "push")).valid


def test_a_number_where_text_is_expected_gets_a_hint_to_quote_it() -> None:
    report = validate_yaml("inputSet_v1", "version: 1\nkind: input-set\nspec:\n  replicas: 3\n")
    (issue,) = report.errors
    assert (issue.path, issue.line, issue.rule) == ("spec.replicas", 4, "type")
    assert issue.hint == "quote the value: '3'"


def test_reports_against_an_authored_schema_say_harness_may_differ() -> None:
    authored = validate_yaml("service_v1", schema_examples("service_v1")[0])
    published = validate_yaml("pipeline_v1", schema_examples("pipeline_v1")[0])
    assert authored.hint is not None and "not published by Harness" in authored.hint
    assert published.hint is None


def test_results_are_frozen() -> None:
    report = validate_yaml("overlayInputSet_v1", schema_examples("overlayInputSet_v1")[0])
    with pytest.raises(pydantic.ValidationError):
        report.valid = False


def test_an_unknown_schema_name_raises_usage_error_naming_the_near_match_first() -> None:
    with pytest.raises(UsageError, match=r"unknown schema 'pipline_v1': did you mean pipeline_v1") as caught:
        validate_yaml("pipline_v1", "pipeline: {}\n")
    assert "agent-pipeline" in str(caught.value)
    with pytest.raises(UsageError, match="did you mean"):
        schema_section("tempalte")
    with pytest.raises(UsageError):
        schema_examples("nope")


def test_schema_names_forgive_case_and_dashes() -> None:
    assert schema_section("PIPELINE-V1").name == "pipeline_v1"
    assert validate_yaml("agent_pipeline", schema_examples("agent-pipeline")[0]).name == "agent-pipeline"
    assert {e.name for e in ENTRIES} == set(NAMES)
