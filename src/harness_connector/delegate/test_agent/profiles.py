"""Test profiles: what a key runs, where, with which environment, for how long, and where its reports land.

A profiles file maps each execution-profile key (the `key` of an Avo Assure DevOps request) to one profile:

```yaml
unit:
  command: pytest -q --junitxml=$TEST_REPORTS_DIR/junit.xml   # run through `bash -c`; a list is an argv
  workdir: ../app          # relative to this file's directory (default: the directory itself)
  env: {APP_ENV: test}
  timeout: 10m             # seconds, or Harness units: 90, 45s, 10m, 1h30m (default 1h)
  reports: ["build/test-results/**/*.xml"]   # globs relative to workdir (default: **/*.xml)
```

The file is read once, when the agent starts; a bad file stops it with a message naming the profile and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness_connector.delegate.durations import parse_duration
from harness_connector.errors import ConfigError

__all__ = ["DEFAULT_REPORTS", "Profile", "ProfileError", "load_profiles"]

DEFAULT_REPORTS = ("**/*.xml",)
_DEFAULT_TIMEOUT_S = 3600.0


class ProfileError(ConfigError):
    """The profiles file cannot be used; the message names the file, the profile and the field."""


class Profile(BaseModel):
    """One execution profile, with `workdir` already resolved against the profiles file's directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str | tuple[str, ...] = Field(description="A bash command line, or an argv list run without a shell.")
    workdir: Path = Field(default=Path("."), description="Where the command runs.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    timeout: float = Field(default=_DEFAULT_TIMEOUT_S, description="Seconds before the run is killed.")
    reports: tuple[str, ...] = Field(default=DEFAULT_REPORTS, description="JUnit globs relative to workdir.")
    description: str = ""

    @field_validator("command")
    @classmethod
    def _command_is_not_empty(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("the command is empty")
        elif not value or not value[0].strip():
            raise ValueError("the argv list is empty or starts with an empty program name")
        return value

    @field_validator("env", mode="before")
    @classmethod
    def _env_values_are_text(cls, value: Any) -> Any:
        # YAML reads `PORT: 8080` as a number and `DEBUG: true` as a bool; the process gets text either way.
        if not isinstance(value, Mapping):
            return value
        converted: dict[str, Any] = {}
        for name, item in value.items():
            if isinstance(item, Mapping | list):
                raise ValueError(f"{name}: an environment value must be text, a number or a bool")
            converted[str(name)] = "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
        return converted

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout_is_a_duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("reports", mode="before")
    @classmethod
    def _reports_are_a_list(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("reports")
    @classmethod
    def _reports_are_not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or not all(pattern.strip() for pattern in value):
            raise ValueError("give at least one non-empty glob, or leave reports out for **/*.xml")
        return value


def load_profiles(path: Path) -> dict[str, Profile]:
    """Read and check a profiles file; workdirs come back absolute.

    Raises:
        ProfileError: unreadable file, broken YAML, a bad profile (named with its field), or a missing workdir.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profiles file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(document, dict) or not document:
        raise ProfileError(f"{path}: expected a mapping of profile key to profile, such as 'unit: {{command: ...}}'")
    base = path.resolve().parent
    profiles: dict[str, Profile] = {}
    for raw_key, raw in document.items():
        key = str(raw_key).strip()
        if not key or any(c.isspace() for c in key):
            raise ProfileError(f"{path}: profile key {raw_key!r} must be non-empty text without spaces")
        if isinstance(raw, str):
            raw = {"command": raw}
        if not isinstance(raw, dict):
            raise ProfileError(f"{path}: profile '{key}' must be a mapping with at least a command")
        profiles[key] = _profile(path, key, raw, base)
    return profiles


def _profile(path: Path, key: str, raw: dict[str, Any], base: Path) -> Profile:
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(profile)"
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ProfileError(f"{path}: profile '{key}', field '{field}': {message}{more}") from exc
    workdir = (base / profile.workdir.expanduser()).resolve()
    if not workdir.is_dir():
        raise ProfileError(f"{path}: profile '{key}', field 'workdir': {workdir} is not a directory")
    return profile.model_copy(update={"workdir": workdir})
