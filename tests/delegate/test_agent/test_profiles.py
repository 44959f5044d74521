"""Profiles files: what is accepted, how paths and durations are read, and the message a bad file gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_connector.delegate.test_agent.profiles import Profile, ProfileError, load_profiles


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "suite").mkdir(exist_ok=True)
    path = tmp_path / "profiles.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profiles_file_resolves_workdirs_against_its_own_directory_and_reads_durations(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
unit:
  command: pytest -q --junitxml=$TEST_REPORTS_DIR/junit.xml
  workdir: suite
  env: {PORT: 8080, DEBUG: true, EMPTY: null, NAME: web}
  timeout: 1h30m
  reports: build/*.xml
smoke: ./smoke.sh
argv:
  command: [python, -m, pytest]
""",
    )

    profiles = load_profiles(path)

    assert profiles["unit"] == Profile(
        command="pytest -q --junitxml=$TEST_REPORTS_DIR/junit.xml",
        workdir=(tmp_path / "suite").resolve(),
        env={"PORT": "8080", "DEBUG": "true", "EMPTY": "", "NAME": "web"},
        timeout=5400.0,
        reports=("build/*.xml",),
    )
    assert profiles["smoke"] == Profile(command="./smoke.sh", workdir=tmp_path.resolve())
    assert profiles["smoke"].reports == ("**/*.xml",)
    assert profiles["smoke"].timeout == 3600.0
    assert profiles["argv"].command == ("python", "-m", "pytest")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("unit: {command: pytest, timeout: 10x}", "profile 'unit', field 'timeout': '10x' is not a duration"),
        ("unit: {command: '  '}", "profile 'unit', field 'command': the command is empty"),
        ("unit: {command: pytest, env: {A: {b: 1}}}", "profile 'unit', field 'env': A: an environment value"),
        ("unit: {command: pytest, retries: 3}", "profile 'unit', field 'retries': Extra inputs are not permitted"),
        ("unit: {timeout: 5}", "profile 'unit', field 'command': Field required"),
        ("unit: {command: pytest, workdir: nowhere}", "profile 'unit', field 'workdir':"),
        ("unit: {command: pytest, reports: []}", "profile 'unit', field 'reports': give at least one"),
        ("unit: [pytest]", "profile 'unit' must be a mapping with at least a command"),
        ("'two words': pytest", "profile key 'two words' must be non-empty text without spaces"),
        ("[unit]", "expected a mapping of profile key to profile"),
        ("", "expected a mapping of profile key to profile"),
        ("unit: {command: [pytest", "not valid YAML"),
    ],
    ids=["duration", "empty-command", "nested-env", "unknown-field", "no-command", "no-workdir", "no-reports",
         "not-a-mapping", "spaced-key", "a-list", "empty-file", "broken-yaml"],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_profile_and_field(tmp_path: Path, text: str, says: str) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ProfileError) as refused:
        load_profiles(path)

    assert str(refused.value).startswith(f"{path}: ")
    assert says in str(refused.value)


def test_a_missing_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read the profiles file"):
        load_profiles(tmp_path / "absent.yaml")
