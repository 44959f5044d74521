"""What every use case needs to reach Harness: the client, the account, defaults, and the operator's limits.

A `Connection` is built once at an entry point (the MCP server's lifespan, a CLI command) and handed to the
services; they never read settings or the environment themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness_connector.config import Settings
from harness_connector.errors import ConfigError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.registry import Risk
from harness_connector.services.toolsets import enabled_types
from harness_connector.store import Store

__all__ = ["Connection", "connect"]

SAAS_UI = "https://app.harness.io"


@dataclass(kw_only=True)
class Connection:
    """A live link to one Harness account (real or sandbox) with the operator's policy."""

    client: HarnessClient
    account_id: str
    org: str | None = None
    project: str | None = None
    ui_base_url: str = SAAS_UI
    read_only: bool = False
    auto_approve: Risk | None = None  # the highest risk approved without asking; None asks for everything gated
    enabled_types: frozenset[str] = field(default_factory=frozenset)
    sandbox: bool = False
    store: Store | None = None  # the history store, when one is open

    async def aclose(self) -> None:
        """Release the client's connections and the store."""
        await self.client.aclose()
        if self.store is not None:
            self.store.close()


def _auto_approve(value: str) -> Risk | None:
    if value == "none":
        return None
    if value == "all":
        return Risk.DESTRUCTIVE
    return Risk(value)


def connect(
    settings: Settings,
    *,
    asgi_app: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
    org: str | None = None,
    project: str | None = None,
) -> Connection:
    """Open a connection from settings; the keyword arguments override them (the embedded sandbox uses them).

    Raises:
        ConfigError: no key is available, or the settings are inconsistent.
    """
    key = api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
    if not key:
        raise ConfigError("HARNESS_API_KEY is not set; set it, or run without it to use the embedded sandbox")
    client = HarnessClient(
        base_url or settings.base_url,
        api_key=key,
        account_id=settings.account_id,
        asgi_app=asgi_app,
        timeout_s=settings.timeout_s,
        max_retries=settings.max_retries,
        rate_limit_rps=settings.rate_limit_rps,
        allow_http=settings.allow_http,
    )
    ui = (base_url or settings.base_url).rstrip("/")
    return Connection(
        client=client,
        account_id=client.account_id,
        org=org or settings.org,
        project=project or settings.project,
        # The UI is served from the same host as the API (SaaS, regional and self-managed alike).
        ui_base_url=ui.removesuffix("/gateway"),
        read_only=settings.read_only,
        auto_approve=_auto_approve(settings.auto_approve_risk),
        enabled_types=enabled_types(settings.toolsets),
        sandbox=asgi_app is not None,
    )
