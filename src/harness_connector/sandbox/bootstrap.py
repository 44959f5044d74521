"""An empty sandbox account: its id and the API tokens that may call it.

Harness account ids are 22-character url-safe strings and tokens are `pat.<account>.<tokenId>.<secret>`;
the sandbox derives both from its seed so the same seed always prints the same PAT.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from harness_connector.sandbox.state import SandboxState, Token

__all__ = ["AccountKeys", "bootstrap_account", "open_account"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


@dataclass(frozen=True, slots=True)
class AccountKeys:
    """The account and its tokens: an admin PAT, and a SAT limited to one project (for 403s)."""

    account_id: str
    admin_pat: str
    restricted_sat: str
    restricted_org: str
    restricted_project: str


def _ident(seed: int, label: str, length: int) -> str:
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def bootstrap_account(
    state: SandboxState, *, seed: int, restricted_org: str = "default", restricted_project: str = "payments"
) -> AccountKeys:
    """Create (or re-create identically) the account id and tokens for `seed`."""
    account_id = _ident(seed, "account", 22)
    admin = f"pat.{account_id}.{_ident(seed, 'pat-id', 24)}.{_ident(seed, 'pat-secret', 20)}"
    restricted = f"sat.{account_id}.{_ident(seed, 'sat-id', 24)}.{_ident(seed, 'sat-secret', 20)}"
    state.set_meta("account_id", account_id)
    state.set_meta("seed", str(seed))
    state.add_token(Token(admin, "sandbox-admin", "pat"))
    state.add_token(Token(restricted, "ci-reader", "sat", restricted_org, restricted_project))
    return AccountKeys(account_id, admin, restricted, restricted_org, restricted_project)


def open_account(state: SandboxState) -> AccountKeys | None:
    """The keys of an already bootstrapped state, or None for an empty one."""
    account_id = state.get_meta("account_id")
    if account_id is None:
        return None
    tokens = {t.name: t for t in state.tokens()}
    admin, restricted = tokens.get("sandbox-admin"), tokens.get("ci-reader")
    if admin is None or restricted is None:
        return None
    return AccountKeys(account_id, admin.token, restricted.token, restricted.org, restricted.project)
