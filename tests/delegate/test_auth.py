"""The delegate's JWT, checked with a decoder written here from the JWT spec, not with the delegate's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from harness_connector.delegate.auth import DelegateCredentials, sign_jwt


def _segment(text: str) -> bytes:
    assert "=" not in text, "JWT segments are base64url without padding"
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify(jwt: str, secret: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, claims, signature = jwt.split(".")
    expected = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(expected, _segment(signature)), "signature does not verify"
    return json.loads(_segment(header)), json.loads(_segment(claims))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_jwt_is_hs256_signed_with_the_token_and_carries_the_protocol_claims() -> None:
    header, claims = verify(sign_jwt("acct-1", "tok-secret", now_s=1_800_000_000), "tok-secret")

    assert header == {"alg": "HS256", "typ": "JWT"}
    assert {k: v for k, v in claims.items() if k != "jti"} == {
        "sub": "acct-1",
        "iss": "Harness Inc",
        "iat": 1_800_000_000,
        "exp": 1_800_000_600,
    }
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def test_a_jwt_signed_with_another_token_does_not_verify() -> None:
    with pytest.raises(AssertionError, match="signature"):
        verify(sign_jwt("acct-1", "tok-secret", now_s=1_800_000_000), "other-token")


def test_every_jwt_gets_a_fresh_jti() -> None:
    first = verify(sign_jwt("a", "t", now_s=1), "t")[1]["jti"]
    second = verify(sign_jwt("a", "t", now_s=1), "t")[1]["jti"]
    assert first != second


def test_credentials_reuse_a_jwt_until_a_minute_before_it_expires_then_sign_a_new_one() -> None:
    clock = Clock(1_800_000_000.0)
    credentials = DelegateCredentials("acct-1", "tok-secret", clock=clock)
    first = credentials.jwt()

    clock.now += 539
    assert credentials.jwt() == first
    clock.now += 1
    renewed = credentials.jwt()

    assert renewed != first
    assert verify(renewed, "tok-secret")[1]["iat"] == 1_800_000_540
    assert credentials.headers() == {"Authorization": f"Delegate {renewed}"}


def test_the_token_never_shows_in_the_credentials_repr() -> None:
    credentials = DelegateCredentials("acct-1", "tok-secret-value")
    assert "tok-secret-value" not in repr(credentials)
    assert "acct-1" in repr(credentials)
