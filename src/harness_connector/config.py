"""Settings, read once at the entry points from the environment (and a `.env` file).

Variable names are those of the official Harness MCP server (`HARNESS_API_KEY`, `HARNESS_ORG`, ...) so the
same client configuration works for both. Library code never reads the environment; it receives values.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from harness_connector.harness.client import DEFAULT_BASE_URL
from harness_connector.harness.registry.model import Risk

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """Where the connector keeps its history store: `$XDG_DATA_HOME/harness-connector` or `~/.local/share/...`."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "harness-connector"


class Settings(BaseSettings):
    """Everything an operator can set. Unset `HARNESS_API_KEY` means: run on the embedded sandbox."""

    model_config = SettingsConfigDict(env_prefix="HARNESS_", env_file=".env", extra="ignore", populate_by_name=True)

    api_key: SecretStr | None = Field(default=None, description="PAT or SAT token; unset runs on the embedded sandbox.")
    account_id: str | None = Field(default=None, description="Account id; read from pat./sat. tokens when unset.")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="Harness base URL (SaaS, regional or self-managed).")
    org: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HARNESS_ORG", "HARNESS_DEFAULT_ORG_ID"),
        description="Default organization for calls that do not name one.",
    )
    project: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HARNESS_PROJECT", "HARNESS_DEFAULT_PROJECT_ID"),
        description="Default project for calls that do not name one.",
    )
    read_only: bool = Field(default=False, description="Refuse every write in the server itself.")
    toolsets: str = Field(default="", description="Comma list of toolsets to enable; +x/-y adjust the defaults.")
    api_timeout_ms: int = Field(default=30_000, ge=100, description="Per-attempt HTTP timeout in milliseconds.")
    max_retries: int = Field(default=3, ge=0, le=10, description="Extra attempts on 408/429/5xx where allowed.")
    rate_limit_rps: float = Field(default=10.0, gt=0, description="Client-side request rate limit (requests/s).")
    allow_http: bool = Field(default=False, description="Allow plain http to a non-loopback HARNESS_BASE_URL.")
    auto_approve_risk: str = Field(
        default="none", description="Highest risk approved without asking: none, low_write, ..., all."
    )
    db: Path | None = Field(default=None, description="History store file; defaults under the user's data dir.")
    mcp_auth_token: SecretStr | None = Field(
        default=None, description="Bearer token the HTTP transport requires; mandatory off loopback."
    )
    mcp_allowed_hosts: str = Field(default="", description="Extra Host header values the HTTP transport accepts.")
    sandbox_db: Path | None = Field(default=None, description="The embedded sandbox's state file.")
    sandbox_seed: int = Field(default=42, description="Seed of the embedded sandbox's scenario.")
    sandbox_days: int = Field(default=30, ge=1, le=365, description="Days of history in the embedded sandbox.")

    @field_validator("auto_approve_risk")
    @classmethod
    def _known_risk(cls, value: str) -> str:
        allowed = {"none", "all", *(r.value for r in Risk)}
        if value not in allowed:
            raise ValueError(f"HARNESS_AUTO_APPROVE_RISK must be one of {', '.join(sorted(allowed))}")
        return value

    @property
    def timeout_s(self) -> float:
        """The per-attempt timeout in seconds."""
        return self.api_timeout_ms / 1000.0

    @property
    def sandbox_mode(self) -> bool:
        """True when no API key is set: the connector runs on its embedded sandbox."""
        return self.api_key is None or not self.api_key.get_secret_value().strip()

    @property
    def sandbox_db_path(self) -> Path:
        """The embedded sandbox's state file."""
        return self.sandbox_db or default_data_dir() / f"sandbox-seed{self.sandbox_seed}-{self.sandbox_days}d.sqlite"

    @property
    def db_path(self) -> Path:
        """The history store file to open."""
        return self.db or default_data_dir() / "history.duckdb"
