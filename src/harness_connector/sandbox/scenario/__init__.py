"""The sandbox's seeded history: a deterministic, data-driven generator of a realistic Harness account.

`generate_scenario` writes an account, its configuration and a month of executions (with log recipes and JUnit
results) into a `SandboxState`, and the ground truth and telemetry beside it; `render_log` turns a stored log
recipe into its lines. Realism lives in data modules (toolchains, templates, failure families, world,
pipelines) so it grows by editing data, not code.
"""

from harness_connector.sandbox.scenario.generate import ScenarioSummary, generate_scenario
from harness_connector.sandbox.scenario.logs import render_log

__all__ = ["ScenarioSummary", "generate_scenario", "render_log"]
