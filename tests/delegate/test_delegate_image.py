"""The delegate image's contents, checked without Docker: the Dockerfile is read instruction by instruction, the
connector's wheel is built the way the README says, installed into a fresh virtual environment the way the
image's `RUN` installs it, and the sample pipeline's step script is run with that installation against a real test
agent. What the image adds beyond this (Harness's base image, `microdnf`) cannot be checked on a machine without
Docker."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delegate.test_agent.agent_process import environment, running_agent, write_profiles

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "deploy" / "delegate"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


# The CI stage whose Run step publishes JUnit, and the Custom stage whose Shell Script step runs on the delegate.
SAMPLES = ("pipeline.yaml", "pipeline-on-delegate.yaml")


def _sample_step(sample: str) -> tuple[list[str], str, dict[str, Any]]:
    """The sample's selectors, its step's script, and its step's spec."""
    pipeline = yaml.safe_load((IMAGE / sample).read_text(encoding="utf-8"))["pipeline"]
    stage = pipeline["stages"][0]["stage"]
    step = stage["spec"]["execution"]["steps"][0]["step"]
    spec: dict[str, Any] = step["spec"]
    selectors = stage.get("delegateSelectors") or spec.get("delegateSelectors")
    script = spec["command"] if step["type"] == "Run" else spec["source"]["spec"]["script"]
    return list(selectors), str(script), spec


def test_the_dockerfile_extends_harness_s_delegate_installs_the_wheel_and_carries_the_samples_selector() -> None:
    instructions = _instructions(IMAGE / "Dockerfile")
    words = [word for word, _ in instructions]
    args = dict(instructions[: words.index("FROM")])

    assert words[words.index("FROM") - 1] == "ARG" and args["ARG"].startswith("DELEGATE_TAG=")
    assert dict(instructions)["FROM"] == "harness/delegate:${DELEGATE_TAG}"
    assert ("COPY", "dist/ /tmp/harness-connector/") in instructions
    installs = [i for i, (word, rest) in enumerate(instructions) if word == "RUN" and "pip install" in rest]
    assert len(installs) == 1 and "/tmp/harness-connector/harness_connector-*.whl" in instructions[installs[0]][1]
    # Tools are installed as root, and the delegate runs as its own user again afterwards.
    users = [(i, rest) for i, (word, rest) in enumerate(instructions) if word == "USER"]
    assert [user for _, user in users] == ["root", "1001"]
    assert users[0][0] < installs[0] < users[1][0]
    tags = dict(instructions)["ENV"]
    assert tags.startswith("DELEGATE_TAGS=")
    for sample in SAMPLES:
        assert set(_sample_step(sample)[0]) <= set(tags.split("=", 1)[1].strip('"').split(","))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment with the connector installed from its wheel, as the image's RUN installs it."""
    root = tmp_path_factory.mktemp("image")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheels = sorted(dist.glob("harness_connector-*.whl"))
    assert len(wheels) == 1, "the Dockerfile installs exactly one harness_connector-*.whl from dist/"
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheels[0])],
        check=True,
        timeout=600,
    )
    yield root / "venv" / "bin"


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("sample", SAMPLES)
def test_the_installed_wheel_runs_the_sample_pipeline_s_step_against_a_test_agent(
    installed: Path, tmp_path: Path, sample: str
) -> None:
    checked = subprocess.run([str(installed / "harness-connector"), "--help"], capture_output=True, timeout=60)
    assert checked.returncode == 0, checked.stderr  # the image's own build-time check

    _, script, spec = _sample_step(sample)
    with running_agent(write_profiles(tmp_path), tmp_path / "runs") as agent:
        script = script.replace("<+pipeline.variables.test_agent_url>", agent.url)
        script = script.replace("<+pipeline.variables.test_profile>", "mixed")
        workspace = tmp_path / "workspace"
        workspace.mkdir()
        # The step sees the installed connector first on PATH, as a step on the image's delegate does.
        env = environment(PATH=f"{installed}:/usr/bin:/bin")
        trap = "".join(f'echo "exported {name}=${{{name}}}"; ' for name in ("TEST_STATUS", "TEST_FAILED", "TEST_TOTAL"))
        ran = subprocess.run(
            ["bash", "-c", f"trap {shlex.quote(trap)} EXIT\n{script}"],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert ran.returncode == 1, ran.stdout + ran.stderr  # the mixed profile has a failing test
    exported = dict(
        line[len("exported ") :].split("=", 1) for line in ran.stdout.splitlines() if line.startswith("exported ")
    )
    assert exported == {"TEST_STATUS": "Fail", "TEST_FAILED": "1", "TEST_TOTAL": "2"}
    globs = spec["reports"]["spec"]["paths"] if "reports" in spec else ["reports/*.xml"]
    matched = [path for glob in globs for path in workspace.glob(glob)]
    assert len(matched) == 1 and "arithmetic is broken" in matched[0].read_text(encoding="utf-8")
