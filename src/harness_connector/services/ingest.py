"""Load JUnit reports and telemetry events into the history store: each file whole or not at all."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from harness_connector.domain import TelemetryEvent
from harness_connector.errors import UsageError
from harness_connector.junit import FileSummary, JUnitContext, JUnitError, find_report_files, stream_into
from harness_connector.store import Store, StoreError, open_store

__all__ = ["JUnitContext", "JUnitIngest", "Store", "StoreError", "ingest_events", "ingest_junit", "open_history"]


def open_history(path: Path | str) -> Store:
    """Open the history store (creating it); the interfaces reach the store only through services."""
    return open_store(path)


@dataclass
class JUnitIngest:
    """What an ingest of JUnit files did: a summary per stored file, an error per refused one."""

    summaries: list[FileSummary] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def ingest_junit(store: Store, patterns: list[str], context: JUnitContext) -> JUnitIngest:
    """Ingest every JUnit file the patterns name; a bad file is rolled back and reported, the others stay.

    Raises:
        UsageError: the patterns name no JUnit file at all.
    """
    found = find_report_files(patterns)
    if not found.files:
        raise UsageError(f"no JUnit files found in {', '.join(patterns)}")
    outcome = JUnitIngest(skipped=list(found.skipped))
    for path in found.files:
        try:
            with store.transaction():
                outcome.summaries.append(stream_into(path, context, store.add_test_results))
        except JUnitError as exc:
            outcome.errors.append(str(exc))
    return outcome


def _epoch_ms(value: object) -> int:
    if isinstance(value, int | float):
        return int(value)
    return int(datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")).timestamp() * 1000)


def ingest_events(store: Store, path: Path) -> tuple[int, int]:
    """Ingest a JSON-lines telemetry file; returns (events read, new events).

    Raises:
        UsageError: a line is not an event (nothing of the file is stored) or the file cannot be read.
    """
    parsed: list[TelemetryEvent] = []
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    parsed.append(
                        TelemetryEvent(
                            time_ms=_epoch_ms(raw["time"]),
                            source=str(raw.get("source") or "unknown"),
                            kind=str(raw["kind"]),
                            service=raw.get("service"),
                            host=raw.get("host"),
                            message=str(raw.get("message") or ""),
                        )
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise UsageError(
                        f"{path}:{number}: not an event ({exc}); each line needs time and kind. Nothing stored."
                    ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    with store.transaction():
        added = store.add_telemetry(parsed)
    return len(parsed), added
