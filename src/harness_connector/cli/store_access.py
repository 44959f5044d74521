"""What the commands that read and decide over the history store share: opening a store a sync made, the clock,
who a decision is audited as, and records as JSON."""

from __future__ import annotations

import dataclasses
import getpass
import math
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from harness_connector.cli.embedded import open_embedded
from harness_connector.cli.session import say
from harness_connector.config import Settings
from harness_connector.domain.quarantine import QuarantineProposal
from harness_connector.errors import HarnessConnectorError
from harness_connector.mcp_server.context import epoch_ms
from harness_connector.services.ingest import Store, open_history

__all__ = ["iso", "jsonable", "now_ms", "opened_store", "person", "proposal_json", "when"]

# Fields holding an instant (durations such as `bucket_ms` or `mean_duration_ms` are left alone).
_INSTANTS = frozenset(
    {
        "since_ms",
        "until_ms",
        "start_ms",
        "first_flaky_ms",
        "last_flaky_ms",
        "broken_since_ms",
        "proposed_ms",
        "decided_ms",
        "lifted_ms",
        "at_ms",
    }
)


@contextmanager
def opened_store(db: Path | None) -> Iterator[Store]:
    """The history store at `db` (default: HARNESS_DB), closed afterwards.

    A missing store is not created: these commands only read what a sync stored, and an empty new file would
    answer "no flaky tests" instead of saying that nothing was synced. Any error of the connector, from opening
    the store or from the body, is printed and ends the command with status 2.
    """
    path = db or Settings().db_path
    if not path.is_file():
        say(f"error: no history store at {path}; run harness-connector sync first (or pass --db, or set HARNESS_DB)")
        raise typer.Exit(2)
    try:
        store = open_history(path)
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    try:
        yield store
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    finally:
        store.close()


def now_ms(settings: Settings) -> int:
    """Now, on the clock the stored history was written by: the embedded sandbox's when running on it (its history
    ends where its clock starts, however long ago it was generated), the wall clock otherwise."""
    path = settings.sandbox_db_path
    if not settings.sandbox_mode or not path.is_file():
        return epoch_ms()
    try:
        sandbox = open_embedded(path)
    except RuntimeError:  # not a generated scenario: nothing was synced from it either
        return epoch_ms()
    try:
        return sandbox.clock()
    finally:
        sandbox.state.close()


def person() -> str:
    """`$USER@hostname`: whom a decision taken at this terminal is audited as, unless `--by` names someone."""
    user = os.environ.get("USER")
    if not user:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name and no passwd entry, as in some containers
            user = "unknown"
    return f"{user}@{socket.gethostname()}"


def iso(ms: int | None) -> str | None:
    """An epoch-millisecond instant as ISO-8601 UTC."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def when(ms: int | None) -> str:
    """An epoch-millisecond instant for a table cell."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def jsonable(value: object) -> Any:
    """Dataclasses, enums, tuples and sets as JSON values; each instant `x_ms` gets an ISO-8601 twin `x`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for item in dataclasses.fields(value):
            field_value = getattr(value, item.name)
            out[item.name] = jsonable(field_value)
            if item.name in _INSTANTS:
                out[item.name.removesuffix("_ms")] = iso(field_value)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return value


def proposal_json(proposal: QuarantineProposal) -> dict[str, Any]:
    """A quarantine proposal as JSON, its evidence as an object rather than the text it is stored as."""
    document: dict[str, Any] = jsonable(proposal)
    return document | {"evidence": proposal.evidence_data}
