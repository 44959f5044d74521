"""What the history store raises. These hang under `HarnessConnectorError` beside `HarnessError`:

```
HarnessConnectorError
└── StoreError                     the history store failed or refused (wraps the engine's error as __cause__)
    ├── StoreLockedError           another process has the store file open for writing
    ├── StoreFormatError           the file is not a store this code can read (not a DuckDB database)
    └── StoreSchemaError           the store's schema is newer than this code, or differs from its migrations
```
"""

from __future__ import annotations

from pathlib import Path

from harness_connector.errors import HarnessConnectorError

__all__ = ["StoreError", "StoreFormatError", "StoreLockedError", "StoreSchemaError"]


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
