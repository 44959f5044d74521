"""A faithful Harness API simulator: Harness's REST dialect over SQLite state with a seeded history."""

from harness_connector.sandbox.app import Faults, SandboxContext, create_app
from harness_connector.sandbox.bootstrap import AccountKeys, bootstrap_account, open_account
from harness_connector.sandbox.state import SandboxState

__all__ = [
    "AccountKeys",
    "Faults",
    "SandboxContext",
    "SandboxState",
    "bootstrap_account",
    "create_app",
    "open_account",
]
