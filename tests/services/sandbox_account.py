"""The handle service tests get on an in-process sandbox account."""

from __future__ import annotations

from dataclasses import dataclass

from harness_connector.sandbox import AccountKeys, SandboxContext
from harness_connector.services.connection import Connection


@dataclass
class SandboxAccount:
    conn: Connection
    ctx: SandboxContext
    keys: AccountKeys
    clock: list[int]  # one cell: the sandbox's "now" in epoch ms, settable by tests
