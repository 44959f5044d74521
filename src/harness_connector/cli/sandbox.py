"""`harness-connector sandbox`: serve the Harness API simulator on 127.0.0.1 for any Harness client."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from harness_connector.cli.embedded import open_embedded, prepare_sandbox
from harness_connector.cli.session import say
from harness_connector.config import Settings
from harness_connector.sandbox import Faults, SandboxContext, create_app
from harness_connector.sandbox.resources import create_resource, find_resource

DELEGATE_TOKEN_NAME = "sandbox-delegate"


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="sandbox")(sandbox)


def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8181,
    db: Annotated[Path | None, typer.Option(help="State file (default: under the data directory).")] = None,
    seed: Annotated[int, typer.Option(help="Scenario seed: the same seed gives the same account.")] = 42,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days of generated history.")] = 30,
    reset: Annotated[bool, typer.Option("--reset", help="Generate the scenario again from scratch.")] = False,
    latency_ms: Annotated[int, typer.Option(help="Fault knob: added latency per request.")] = 0,
    error_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Fault knob: share answered 429/5xx.")] = 0.0,
    rate_limit: Annotated[int | None, typer.Option(help="Fault knob: requests per minute per key.")] = None,
) -> None:
    """Run the sandbox as an HTTP server and print HARNESS_BASE_URL and a PAT to use with it, and a delegate token
    for `harness-connector delegate --manager URL --token TOKEN`."""
    settings = Settings()
    path = db or settings.model_copy(update={"sandbox_seed": seed, "sandbox_days": days}).sandbox_db_path
    prepare_sandbox(path, seed=seed, days=days, reset=reset)
    opened = open_embedded(path)
    base_url = f"http://127.0.0.1:{port}"
    faults = Faults(latency_ms=latency_ms, error_rate=error_rate, rate_limit_per_minute=rate_limit, seed=seed)
    ctx = SandboxContext(
        state=opened.state, account_id=opened.keys.account_id, clock=opened.clock, base_url=base_url, faults=faults
    )
    print(f"HARNESS_BASE_URL={base_url}")
    print(f"HARNESS_API_KEY={opened.keys.admin_pat}")
    print(f"HARNESS_ACCOUNT_ID={opened.keys.account_id}")
    print(f"DELEGATE_TOKEN={delegate_token(ctx)}")
    say(f"a key limited to {opened.keys.restricted_org}/{opened.keys.restricted_project}: {opened.keys.restricted_sat}")
    say("press Ctrl+C to stop")
    uvicorn.run(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")


def delegate_token(ctx: SandboxContext) -> str:
    """The account's delegate token for local delegates, created on first use."""
    found = find_resource(ctx, "delegate_token", DELEGATE_TOKEN_NAME)
    if found is None:
        found = create_resource(ctx, "delegate_token", body={"name": DELEGATE_TOKEN_NAME})
    return str(found.doc["value"])
