"""The delegate's credentials on the wire: a short-lived HS256 JWT signed with the delegate token.

Harness's delegate image signs its own JWT with the token as the secret rather than sending the token itself, so a
captured request is worth ten minutes, not the token's lifetime. Only the standard library is needed for HS256,
so no JWT package is added. Neither the token nor a JWT is ever put in a log line or an exception message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable

__all__ = ["ISSUER", "LIFETIME_S", "DelegateCredentials", "sign_jwt"]

ISSUER = "Harness Inc"
LIFETIME_S = 600
# A JWT is renewed this long before it expires, so a request in flight never carries an expired one.
_RENEW_MARGIN_S = 60


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def sign_jwt(account_id: str, token: str, *, now_s: int, jti: str | None = None) -> str:
    """A compact HS256 JWT with the claims protocol.py lists, signed with the token's UTF-8 bytes."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "sub": account_id,
        "iss": ISSUER,
        "iat": now_s,
        "exp": now_s + LIFETIME_S,
        "jti": jti or secrets.token_hex(16),
    }
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}"
    signature = hmac.new(token.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


class DelegateCredentials:
    """Hands out `Authorization: Delegate <jwt>` headers, signing a new JWT shortly before the current one expires.

    Called from every thread of the agent (poll loop, heartbeat, deliveries, log streams), hence the lock.
    """

    def __init__(self, account_id: str, token: str, *, clock: Callable[[], float] = time.time) -> None:
        self.account_id = account_id
        self._token = token
        self._clock = clock
        self._lock = threading.Lock()
        self._jwt = ""
        self._expires_s = 0

    def __repr__(self) -> str:
        return f"DelegateCredentials(account_id={self.account_id!r}, token=***)"

    def jwt(self) -> str:
        """The current JWT, renewed when it has less than a minute left."""
        with self._lock:
            now_s = int(self._clock())
            if now_s >= self._expires_s - _RENEW_MARGIN_S:
                self._jwt = sign_jwt(self.account_id, self._token, now_s=now_s)
                self._expires_s = now_s + LIFETIME_S
            return self._jwt

    def headers(self) -> dict[str, str]:
        """The headers every call to the manager, the log service and ti-service carries."""
        return {"Authorization": f"Delegate {self.jwt()}"}
