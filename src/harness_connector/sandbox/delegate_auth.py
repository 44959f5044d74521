"""Delegate authentication: `Authorization: Delegate <jwt>`, an HS256 JWT signed with a delegate token's value.

Harness's delegate image signs a short-lived token (`sub` the account, `exp` ten minutes on) with the delegate
token it was installed with; the manager finds the token whose value verifies the signature. A revoked token, or
one past its `revokeAfter`, verifies nothing, which is how revoking a token disconnects its delegates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.state import Entity, SandboxState

__all__ = ["SCHEME", "delegate_token_of"]

SCHEME = "Delegate "
_LEEWAY_S = 300  # clocks of delegate hosts drift; Harness allows some slack too


def _segment(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _claims(jwt: str) -> tuple[bytes, bytes, dict[str, Any]]:
    parts = jwt.strip().split(".")
    if len(parts) != 3:
        raise ApiError("INVALID_TOKEN", "Delegate token is not a JWT: expected header.payload.signature")
    try:
        header = json.loads(_segment(parts[0]))
        claims = json.loads(_segment(parts[1]))
        signature = _segment(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("INVALID_TOKEN", "Delegate token is not a readable JWT") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise ApiError("INVALID_TOKEN", "Delegate token must be an HS256 JWT")
    return f"{parts[0]}.{parts[1]}".encode(), signature, claims


def delegate_token_of(state: SandboxState, account_id: str, header: str, now_ms: int) -> Entity:
    """The active delegate token that signed the `Authorization` header's JWT.

    Raises:
        ApiError: INVALID_TOKEN (401) for a malformed, expired, foreign or unverifiable token.
    """
    signed, signature, claims = _claims(header.removeprefix(SCHEME))
    if claims.get("sub") != account_id:
        raise ApiError("INVALID_TOKEN", f"Delegate token is for another account, not {account_id}")
    now_s = now_ms // 1000
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires + _LEEWAY_S < now_s:
        raise ApiError("EXPIRED_TOKEN", "Delegate token has expired: sign a new one")
    for token in state.list_entities("delegate_token", org="", project="", parent=None) + _scoped_tokens(state):
        doc = token.doc
        revoke_after = doc.get("revokeAfter")
        if doc.get("status") != "ACTIVE" or (revoke_after is not None and int(revoke_after) <= now_ms):
            continue
        expected = hmac.new(str(doc["value"]).encode(), signed, hashlib.sha256).digest()
        if hmac.compare_digest(expected, signature):
            return token
    raise ApiError("INVALID_TOKEN", "Delegate token is not valid: unknown or revoked; create a delegate token")


def _scoped_tokens(state: SandboxState) -> list[Entity]:
    rows = state.query("SELECT DISTINCT org, project FROM entities WHERE kind = 'delegate_token' AND org <> ''")
    return [t for org, project in rows for t in state.list_entities("delegate_token", org=org, project=project)]
