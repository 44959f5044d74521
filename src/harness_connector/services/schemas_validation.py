"""Check a YAML document against a schema and say, by line and column, what is wrong and how to fix it.

jsonschema reports a failed `oneOf` (Harness dispatches every stage and step on it) as one opaque error about the
whole node; here the alternatives are sorted out: the one whose discriminator (`type`) matches is followed, and a
discriminator no alternative accepts is reported as such, with the nearest valid values.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import yaml
from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import Draft7Validator, extend, validator_for

from harness_connector.services.schemas_catalog import deref, document, entry, registry
from harness_connector.services.schemas_models import ValidationIssue, ValidationReport
from harness_connector.services.schemas_yaml import Path, load_with_marks, locate, render_path

__all__ = ["validate_text", "validator"]


@dataclass(frozen=True)
class _Issue:
    path: Path
    rule: str
    message: str
    hint: str | None = None


_ALL_OF = Draft7Validator.VALIDATORS["allOf"]
_TABLES: dict[int, tuple[str, list[str]] | None] = {}


def _dispatch_table(all_of: list[Any]) -> tuple[str, list[str]] | None:
    """(key, values) when `allOf` is a table of `if key == const then ...` clauses (two or more, one key)."""
    key: str | None = None
    values: list[str] = []
    for clause in all_of:
        condition = clause.get("if") if isinstance(clause, dict) and "then" in clause else None
        props = condition.get("properties") if isinstance(condition, dict) else None
        if not isinstance(props, dict) or len(props) != 1:
            continue
        ((k, test),) = props.items()
        if not isinstance(test, dict) or not isinstance(test.get("const"), str) or key not in (None, k):
            return None
        key = k
        values.append(test["const"])
    return (key, values) if key is not None and len(values) >= 2 else None


def _all_of(
    validator: Validator, all_of: list[Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """allOf, plus: a value that no clause of an `if type == X` dispatch table names is an error.

    Harness's files often dispatch on `type` only through such tables, with no enum beside them, so JSON Schema
    lets `type: Abortt` through; Harness's own parser rejects it.
    """
    yield from _ALL_OF(validator, all_of, instance, schema)
    if id(all_of) not in _TABLES:
        _TABLES[id(all_of)] = _dispatch_table(all_of)
    table = _TABLES[id(all_of)]
    if table is None or not isinstance(instance, dict):
        return
    key, values = table
    value = instance.get(key)
    own = schema.get("properties", {}).get(key)
    if isinstance(own, dict) and ("enum" in own or "const" in own):
        return
    if isinstance(value, str) and not value.startswith(("<+", "${{")) and value not in values:
        yield ValidationError(
            f"{value!r} is not one of {values!r}",
            validator="enum",
            validator_value=values,
            instance=value,
            path=[key],
            schema=schema,
        )


@cache
def validator(name: str) -> Validator:
    """The schema's validator, built once per process."""
    schema = document(entry(name).file)
    # Harness's files declare draft-07 on their definitions but not always at the root.
    # types-jsonschema leaves `extend` untyped; it returns a validator class like the one it extends.
    cls: type[Validator] = extend(  # type: ignore[no-untyped-call]
        validator_for(schema, default=Draft7Validator), {"allOf": _all_of}
    )
    return cls(schema, registry=registry(name))


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


# A discriminator's values answer "what can I write here?", so they are listed whole; other lists are cut.
_WHOLE = 200


def _some(values: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values) - limit} more)" if len(values) > limit else "")


def _near(value: Any, choices: Sequence[str]) -> list[str]:
    text = str(value)
    same_case = [c for c in choices if c.lower() == text.lower()]
    return same_case or difflib.get_close_matches(text, list(choices), n=3, cutoff=0.6)


def _did_you_mean(value: Any, choices: Sequence[str]) -> str:
    near = _near(value, choices)
    return f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""


_PATTERN_HINTS = (
    (
        lambda p: p.startswith("^[a-zA-Z_][0-9a-zA-Z_"),
        "identifiers start with a letter or '_' and hold only "
        "letters, digits and '_' (at most 128), e.g. build_and_test",
    ),
    (lambda p: p.startswith("^[a-zA-Z_0-9-.]"), "names hold letters, digits, spaces, '-', '_' and '.'"),
    (
        lambda p: "secrets\\.getValue" in p,
        "a Secret-type value is the secret's identifier (e.g. account.slack_webhook), not <+secrets.getValue(...)>",
    ),
    (lambda p: "[smhwd]" in p, "durations look like 30s, 10m, 1h 30m or 2d (or an expression like <+input>)"),
    (lambda p: "<\\+input>" in p, "only a runtime input fits here, e.g. <+input>"),
    (lambda p: "<\\+.+>" in p or "\\$\\{\\{" in p, "only an expression fits here, e.g. <+pipeline.variables.x>"),
)


def _pattern_hint(pattern: str) -> str:
    hint = next((h for test, h in _PATTERN_HINTS if test(pattern)), None)
    return hint or f"the value must match {pattern if len(pattern) <= 80 else pattern[:77] + '...'}"


def _value(error: ValidationError) -> Any:
    """The keyword's value; jsonschema types it `Any | Unset` until the error is complete, which it is here."""
    return cast(Any, error.validator_value)


def _type_issue(path: Path, wanted: list[str], instance: Any) -> _Issue:
    hint = None
    if "string" in wanted and isinstance(instance, int | float | bool):
        hint = f"quote the value: '{json.dumps(instance)}'"
    elif instance is None:
        hint = "the value is empty: give one, or remove the key"
    return _Issue(path, "type", f"expected {' or '.join(wanted)}, got {_json_type(instance)}", hint)


def _issue(error: ValidationError) -> list[_Issue]:
    path: Path = tuple(error.absolute_path)
    rule, value, instance = str(error.validator), _value(error), error.instance
    where = render_path(path) or "the document root"
    if rule == "required" and isinstance(instance, dict):
        missing = [p for p in value if p not in instance]
        names = ", ".join(repr(p) for p in missing)
        plural = "properties" if len(missing) > 1 else "property"
        lines = " and ".join(f"`{p}:`" for p in missing)
        return [_Issue(path, rule, f"missing required {plural} {names}", f"add {lines} under {where}")]
    if rule == "additionalProperties" and isinstance(instance, dict) and isinstance(error.schema, dict):
        known = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        extras = [k for k in instance if k not in known and not any(re.search(p, str(k)) for p in patterns)]
        allowed = f"allowed here: {_some(sorted(known))}" if known else "no other properties are allowed here"
        return [_Issue((*path, k), rule, f"unknown property {k!r}", _did_you_mean(k, known) + allowed) for k in extras]
    if rule == "enum":
        choices = [str(v) for v in value]
        hint = _did_you_mean(instance, choices) + f"allowed: {_some(choices)}"
        return [_Issue(path, rule, f"{_show(instance)} is not an allowed value", hint)]
    if rule == "const":
        return [_Issue(path, rule, f"{_show(instance)} should be {json.dumps(value)}")]
    if rule == "type":
        return [_type_issue(path, value if isinstance(value, list) else [str(value)], instance)]
    if rule == "pattern":
        return [_Issue(path, rule, f"{_show(instance)} is not in the expected format", _pattern_hint(str(value)))]
    if rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        return [_Issue(path, rule, f"needs {bound} {value} item{'s' if value != 1 else ''}")]
    if rule == "minLength" and value == 1:
        return [_Issue(path, rule, "must not be empty")]
    return [_Issue(path, rule, error.message if len(error.message) <= 200 else error.message[:197] + "...")]


def _issues(name: str, error: ValidationError) -> list[_Issue]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _from_alternatives(name, error)
    if error.validator == "oneOf":
        return [_ambiguous(name, error)]
    return _issue(error)


def _ambiguous(name: str, error: ValidationError) -> _Issue:
    """A `oneOf` the node matches more than once: almost always its discriminator (`type`) is missing."""
    base: Path = tuple(error.absolute_path)
    instance = error.instance
    options = _value(error) if isinstance(_value(error), list) else []
    for key in ("type", "kind"):
        values = sorted({v for option in options for v in (_accepted(name, option, key) or [])})
        if isinstance(instance, dict) and key not in instance and values:
            where = render_path(base) or "the document root"
            return _Issue(
                base,
                "required",
                f"missing required property {key!r}",
                f"add `{key}:` under {where}; allowed: {_some(values, _WHOLE)}",
            )
    return _Issue(base, "oneOf", "matches more than one of the allowed forms", "add the keys of exactly one form")


def _accepted(name: str, schema: Any, key: str) -> list[str] | None:
    """The values an alternative allows for its discriminator `key`, or None when it does not constrain it."""
    schema = deref(name, schema)
    parts = [schema, *(deref(name, s) for s in schema.get("allOf", []))] if isinstance(schema, dict) else []
    for part in parts:
        prop = deref(name, part.get("properties", {}).get(key)) if isinstance(part, dict) else None
        if isinstance(prop, dict) and ("enum" in prop or "const" in prop):
            return [str(v) for v in prop.get("enum", [prop.get("const")])]
    return None


def _from_alternatives(name: str, error: ValidationError) -> list[_Issue]:  # noqa: C901 - the selection rules
    base: Path = tuple(error.absolute_path)
    instance = error.instance
    options = error.schema.get(str(error.validator), []) if isinstance(error.schema, dict) else []
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    # An alternative whose discriminator (a direct child's enum or const, such as `type`) or whose JSON type
    # failed is not the one the author meant.
    discriminators: dict[str, list[str]] = {}
    shapes: list[str] = []
    kept: dict[int, list[ValidationError]] = {}
    for index, errors in branches.items():
        dropped = False
        for sub in errors:
            rel = list(sub.relative_path)
            if sub.validator in ("enum", "const") and len(rel) == 1 and isinstance(rel[0], str):
                values = _value(sub) if sub.validator == "enum" else [_value(sub)]
                discriminators.setdefault(rel[0], []).extend(str(v) for v in values)
                dropped = True
            elif sub.validator == "type" and not rel:
                wanted = _value(sub)
                shapes.extend(wanted if isinstance(wanted, list) else [str(wanted)])
                dropped = True
        if not dropped:
            kept[index] = errors
    if isinstance(instance, dict):
        for key, allowed in discriminators.items():
            if key not in instance:
                continue
            value = str(instance[key])
            matched = {
                i: e for i, e in kept.items() if i < len(options) and value in (_accepted(name, options[i], key) or [])
            }
            if matched:
                kept = matched
            elif value not in allowed:
                choices = sorted(set(allowed))
                hint = _did_you_mean(value, choices) + f"allowed: {_some(choices, _WHOLE)}"
                return [_Issue((*base, key), "enum", f"{_show(instance[key])} is not an allowed {key}", hint)]
    if not kept:
        if shapes:
            return [_type_issue(base, list(dict.fromkeys(shapes)), instance)]
        return _issue(error)
    every = [e for errors in kept.values() for e in errors]
    if isinstance(instance, dict) and all(e.validator == "required" and not list(e.relative_path) for e in every):
        names = list(dict.fromkeys(p for e in every for p in _value(e) if p not in instance))
        near = [f"{k!r} looks like {m!r}" for k in instance for m in _near(k, names)[:1]]
        hint = "; ".join(near) or f"add one of: {', '.join(names)}"
        return [_Issue(base, "required", f"needs one of: {', '.join(names)}", hint)]
    # Of the rest, the alternative that got deepest into the document is the one meant; then the fewest errors.
    best = min(kept.values(), key=lambda errors: (-max(len(e.relative_path) for e in errors), len(errors)))
    found = [issue for sub in best for issue in _issues(name, sub)]
    if shapes:
        others = f"other accepted forms: {' or '.join(dict.fromkeys(shapes))}"
        found = [i if i.path != base or i.hint else _Issue(i.path, i.rule, i.message, others) for i in found]
    return found


def validate_text(name: str, text: str, *, max_errors: int = 50) -> ValidationReport:
    """Check `text` against the schema `name`; every problem carries the line and column it is on."""
    found = entry(name)
    lines = len(text.splitlines())
    caveat = (
        None
        if found.origin == "harness"
        else "this schema is authored by harness-connector, not published by Harness: Harness may differ"
    )
    try:
        data, marks = load_with_marks(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        syntax = ValidationIssue(
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            path="",
            message=f"YAML syntax error: {message}",
            hint="fix the syntax first: schema checks start once the YAML parses",
            rule="yaml-syntax",
        )
        return ValidationReport(
            name=found.name,
            valid=False,
            error_count=1,
            errors=[syntax],
            truncated=False,
            lines=lines,
            draft=found.draft,
            hint=caveat,
        )
    if data is None:
        empty = ValidationIssue(line=1, column=1, path="", message="the document is empty", rule="type")
        return ValidationReport(
            name=found.name,
            valid=False,
            error_count=1,
            errors=[empty],
            truncated=False,
            lines=lines,
            draft=found.draft,
            hint=f"start from an example: schema_examples({found.name!r})",
        )
    raw = [issue for error in validator(found.name).iter_errors(data) for issue in _issues(found.name, error)]
    # Alternatives can report the same problem twice (with different allowed lists): keep the first.
    first: dict[tuple[Path, str, str], _Issue] = {}
    for issue in raw:
        first.setdefault((issue.path, issue.rule, issue.message), issue)
    unique = list(first.values())
    located = [(locate(i.path, marks), i) for i in unique]
    located.sort(key=lambda item: (item[0][0] or 0, item[0][1] or 0, render_path(item[1].path)))
    errors = [
        ValidationIssue(line=line, column=column, path=render_path(i.path), message=i.message, hint=i.hint, rule=i.rule)
        for (line, column), i in located[:max_errors]
    ]
    hint = caveat
    if errors:
        hint = "; ".join(h for h in ("fix the first problem first: later ones may follow from it", caveat) if h)
    return ValidationReport(
        name=found.name,
        valid=not unique,
        error_count=len(unique),
        errors=errors,
        truncated=len(unique) > len(errors),
        lines=lines,
        draft=found.draft,
        hint=hint,
    )
