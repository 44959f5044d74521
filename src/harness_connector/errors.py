"""The connector's exception tree, in one place.

```
HarnessConnectorError                 base of everything raised on purpose
├── ConfigError                       settings that cannot work (names the variable to fix)
├── UsageError                        a caller's mistake: unknown resource type, missing identifier, bad argument
│   └── InvalidHarnessURL             a URL that is not a Harness UI URL (says what was expected)
└── HarnessError                      Harness answered with an error, or could not be reached
    ├── HarnessAuthError              401: key missing, invalid, expired or revoked
    ├── HarnessPermissionError        403: the key lacks access to the scope or resource
    ├── HarnessNotFoundError          404, or a not-found code under another status
    ├── HarnessInvalidRequestError    any other 4xx: the request itself is wrong (bad YAML, duplicate identifier)
    ├── HarnessRateLimitedError       429 after the retries the operation allowed
    └── HarnessUnavailableError       5xx, timeouts, connection failures, after retries
└── StoreError                        the history store failed or refused (the engine's error is the __cause__)
    ├── StoreLockedError              another process has the store file open for writing
    ├── StoreFormatError              the file is not a store this code can read (not a DuckDB database)
    └── StoreSchemaError              the store's schema is newer than this code, or differs from its migrations
```

Every `HarnessError` carries what a person needs to act on it: the HTTP status, Harness's error `code`, its
message, the most specific cause Harness gave (the deepest `responseMessages` entry), and the `correlationId` to
quote to Harness support. None of them ever contains the API key.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "HarnessAuthError",
    "HarnessConnectorError",
    "HarnessError",
    "HarnessInvalidRequestError",
    "HarnessNotFoundError",
    "HarnessPermissionError",
    "HarnessRateLimitedError",
    "HarnessUnavailableError",
    "InvalidHarnessURL",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
    "StoreSchemaError",
    "UsageError",
]


class HarnessConnectorError(Exception):
    """Base class of every error the connector raises on purpose."""


class ConfigError(HarnessConnectorError):
    """The settings cannot work; the message names the variable to change."""


class UsageError(HarnessConnectorError):
    """The caller asked for something that cannot be done as asked; the message says what would work."""


class InvalidHarnessURL(UsageError):
    """A URL that is not a Harness UI URL, or lacks the parts the caller needs."""


class HarnessError(HarnessConnectorError):
    """Harness answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        cause: str | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.code = code
        self.cause = cause
        self.correlation_id = correlation_id
        self.method = method
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        parts: list[str] = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.cause and self.cause != self.message:
            text += f" (cause: {self.cause})"
        if self.correlation_id:
            text += f" [correlationId: {self.correlation_id}]"
        return text


class HarnessAuthError(HarnessError):
    """401: the API key is missing, invalid, expired or revoked."""


class HarnessPermissionError(HarnessError):
    """403: the key is valid but lacks access to this scope or resource."""


class HarnessNotFoundError(HarnessError):
    """The resource, or the endpoint, does not exist in this scope."""


class HarnessInvalidRequestError(HarnessError):
    """Harness rejected the request itself (validation, bad YAML, duplicate identifier, conflict)."""


class HarnessRateLimitedError(HarnessError):
    """429 that outlasted the retries the operation allowed."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        status_code: int | None = 429,
        code: str | None = None,
        cause: str | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            message,
            status_code=status_code,
            code=code,
            cause=cause,
            correlation_id=correlation_id,
            method=method,
            path=path,
        )


class HarnessUnavailableError(HarnessError):
    """Harness could not be reached or failed on its side (5xx, timeout, connection error), after retries."""


class StoreError(HarnessConnectorError):
    """The history store could not do what was asked; nothing was half-written."""


class StoreLockedError(StoreError):
    """Another process holds the store file; DuckDB allows one writer process per file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"the history store {path} is open in another process (DuckDB allows one at a time): "
            "stop that process, or point this one at a different store file"
        )


class StoreFormatError(StoreError):
    """The file exists but is not a DuckDB database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path} exists but is not a DuckDB history store: move it aside, or point the store at another file"
        )


class StoreSchemaError(StoreError):
    """The store was written by a newer version, or its recorded migrations differ from this code's."""

    def __init__(self, message: str, *, found_version: int, supported_version: int) -> None:
        self.found_version = found_version
        self.supported_version = supported_version
        super().__init__(message)
