"""The failure taxonomy, loaded from `rules.yaml` beside this module: rules as data, checked once at load.

A rule says what a kind of failure looks like (Harness failure types, patterns on Harness's failure message and on
the step's log lines), what it is (category, transient or not), and what to do (action, remediation, references).
Adding a kind of failure is adding an entry to the YAML; `load_taxonomy` refuses a file with an unknown category or
action, a duplicate id, or a pattern that does not compile, naming the rule.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness_connector.errors import ConfigError

__all__ = ["Action", "Category", "Rule", "Taxonomy", "load_taxonomy"]


class Category(StrEnum):
    """What kind of failure it is; the values are the ones the sandbox's ground truth uses too."""

    DEPENDENCY_REGISTRY_OUTAGE = "dependency_registry_outage"
    NETWORK = "network"
    RATE_LIMIT = "rate_limit"
    RUNNER_ENVIRONMENT = "runner_environment"
    TIMEOUT = "timeout"
    AUTHENTICATION = "authentication"
    CONFIGURATION = "configuration"
    COMPILE_ERROR = "compile_error"
    TEST_FAILURE = "test_failure"
    DEPLOYMENT = "deployment"
    APPROVAL_REJECTED = "approval_rejected"
    UNKNOWN = "unknown"


class Action(StrEnum):
    """What to do next."""

    RERUN_NOW = "rerun_now"
    RERUN_AFTER_OUTAGE = "rerun_after_outage"
    FIX = "fix"


class Rule(BaseModel):
    """One kind of failure. Patterns are compiled case-insensitive; `priority` breaks ties (specific wins)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Category
    transient: bool
    action: Action
    priority: int = Field(ge=0, le=100)
    failure_types: tuple[str, ...] = ()
    message: tuple[re.Pattern[str], ...] = ()
    log: tuple[re.Pattern[str], ...] = ()
    hosts: tuple[str, ...] = ()
    remediation: str
    references: tuple[str, ...] = ()

    @field_validator("message", "log", mode="before")
    @classmethod
    def _compile(cls, value: Any) -> tuple[re.Pattern[str], ...]:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of regular expressions")
        compiled = []
        for pattern in value:
            try:
                compiled.append(re.compile(str(pattern), re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"the pattern {pattern!r} does not compile: {exc}") from exc
        return tuple(compiled)

    def matches_message(self, message: str) -> re.Match[str] | None:
        for pattern in self.message:
            found = pattern.search(message)
            if found:
                return found
        return None

    def matches_line(self, text: str) -> re.Match[str] | None:
        for pattern in self.log:
            found = pattern.search(text)
            if found:
                return found
        return None


class Taxonomy:
    """The rules, with the indexes the classifier needs."""

    def __init__(self, rules: list[Rule]) -> None:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ConfigError(f"the failure taxonomy has two rules called {rule.id}")
            seen.add(rule.id)
        self.rules = tuple(sorted(rules, key=lambda r: -r.priority))
        self.by_id = {rule.id: rule for rule in self.rules}
        self.log_rules = tuple(rule for rule in self.rules if rule.log)
        self.by_failure_type: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for kind in rule.failure_types:
                self.by_failure_type.setdefault(kind.upper(), []).append(rule)
        # Each log pattern with a run of plain characters every match contains: most kept lines match no rule,
        # and a substring test rejects a pattern in a tenth of the time of a case-insensitive search.
        self._log_checks = tuple(
            (rule, tuple((_required_literal(pattern.pattern), pattern) for pattern in rule.log))
            for rule in self.log_rules
        )
        self.registry_hosts = frozenset(
            host for rule in self.rules if rule.category is Category.DEPENDENCY_REGISTRY_OUTAGE for host in rule.hosts
        )

    def __len__(self) -> int:
        return len(self.rules)

    def log_rules_matching(self, text: str) -> list[Rule]:
        """The log rules (highest priority first) with a pattern that matches this log line."""
        # The literal test holds only where lower-casing agrees with case-insensitive matching: on ASCII text.
        lower = text.lower() if text.isascii() else None
        matched = []
        for rule, checks in self._log_checks:
            for literal, pattern in checks:
                if lower is not None and literal is not None and literal not in lower:
                    continue
                if pattern.search(text):
                    matched.append(rule)
                    break
        return matched


def _required_literal(pattern: str) -> str | None:
    """The longest run (of 3 or more) of plain characters that every match of `pattern` holds, lower-cased.

    Only the pattern's top-level sequence is read: each of its items is required, so a run of literal characters
    there is in every match. A pattern whose top level is an alternation gives None (always searched).
    """
    try:
        parsed = re._parser.parse(pattern, re.IGNORECASE)  # type: ignore[attr-defined]
        literal_op = re._parser.LITERAL  # type: ignore[attr-defined]
    except Exception:
        return None
    best, run = "", []
    for op, argument in parsed:
        if op == literal_op:
            run.append(chr(argument))
            continue
        best, run = max(best, "".join(run), key=len), []
    best = max(best, "".join(run), key=len)
    return best.lower() if len(best) >= 3 else None


def _parse(text: str, where: str) -> Taxonomy:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from exc
    entries = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{where} must hold a top-level 'rules:' list")
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        try:
            rules.append(Rule.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("id") if isinstance(entry, dict) else None
            raise ConfigError(f"{where}: rule {name or f'#{index + 1}'} is invalid: {exc}") from exc
    return Taxonomy(rules)


@functools.cache
def _bundled() -> Taxonomy:
    text = resources.files(__package__).joinpath("rules.yaml").read_text(encoding="utf-8")
    return _parse(text, "the bundled failure taxonomy")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The bundled taxonomy, or the one in `path` (same format), validated.

    Raises:
        ConfigError: the file is not valid YAML or a rule is invalid (the message names the rule).
    """
    if path is None:
        return _bundled()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the failure taxonomy {path}: {exc.strerror}") from exc
    return _parse(text, str(path))
