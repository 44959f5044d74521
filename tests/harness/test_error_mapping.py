from __future__ import annotations

import json

import pytest

from harness_connector.errors import (
    HarnessAuthError,
    HarnessError,
    HarnessInvalidRequestError,
    HarnessNotFoundError,
    HarnessPermissionError,
    HarnessRateLimitedError,
    HarnessUnavailableError,
)
from harness_connector.harness.error_mapping import error_from_response, parse_retry_after


def envelope(code: str, message: str, **extra: object) -> bytes:
    return json.dumps({"status": "ERROR", "code": code, "message": message, "correlationId": "c-42", **extra}).encode()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "INVALID_TOKEN", HarnessAuthError),
        (401, "EXPIRED_TOKEN", HarnessAuthError),
        (401, "REVOKED_TOKEN", HarnessAuthError),
        (401, "INVALID_CREDENTIAL", HarnessAuthError),
        (403, "ACCESS_DENIED", HarnessPermissionError),
        (403, "NG_ACCESS_DENIED", HarnessPermissionError),
        (403, "USAGE_LIMITS_EXCEEDED", HarnessPermissionError),
        (404, "RESOURCE_NOT_FOUND", HarnessNotFoundError),
        (404, "ENTITY_NOT_FOUND", HarnessNotFoundError),
        (400, "RESOURCE_NOT_FOUND_EXCEPTION", HarnessNotFoundError),
        (400, "TEMPLATE_NOT_FOUND", HarnessNotFoundError),
        (400, "INVALID_REQUEST", HarnessInvalidRequestError),
        (400, "DUPLICATE_FIELD", HarnessInvalidRequestError),
        (400, "INVALID_YAML_ERROR", HarnessInvalidRequestError),
        (409, "SCM_CONFLICT_ERROR_V2", HarnessInvalidRequestError),
        (429, "TOO_MANY_REQUESTS", HarnessRateLimitedError),
        (500, "UNKNOWN_ERROR", HarnessUnavailableError),
        (503, "UNAVAILABLE_DELEGATES", HarnessUnavailableError),
        (504, "REQUEST_TIMEOUT", HarnessUnavailableError),
    ],
    ids=lambda v: str(v) if not isinstance(v, type) else v.__name__,
)
def test_each_harness_error_code_maps_to_its_exception(status: int, code: str, expected: type[HarnessError]) -> None:
    error = error_from_response(status, envelope(code, "something went wrong"), content_type="application/json")
    assert type(error) is expected
    assert error.code == code
    assert error.status_code == status
    assert error.correlation_id == "c-42"
    assert error.message == "something went wrong"


def test_the_most_specific_response_message_becomes_the_cause() -> None:
    body = envelope(
        "GENERAL_ERROR",
        "Failed to perform the connection test",
        responseMessages=[
            {"code": "GENERAL_ERROR", "level": "INFO", "message": "Testing connection"},
            {"code": "GENERAL_ERROR", "level": "ERROR", "message": "Failed to perform the connection test"},
            {
                "code": "GENERAL_ERROR",
                "level": "ERROR",
                "message": "No eligible delegate(s) in account to execute task. No matching selector(s)",
            },
        ],
    )
    error = error_from_response(400, body)
    assert error.cause == "No eligible delegate(s) in account to execute task. No matching selector(s)"
    assert "No matching selector" in str(error)
    assert "c-42" in str(error)


def test_a_rest_response_with_only_response_messages_still_explains_itself() -> None:
    body = json.dumps(
        {
            "metaData": None,
            "resource": None,
            "responseMessages": [
                {"code": "INVALID_REQUEST", "level": "ERROR", "message": "Delegate filter is invalid"}
            ],
        }
    ).encode()
    error = error_from_response(400, body)
    assert isinstance(error, HarnessInvalidRequestError)
    assert error.message == "Delegate filter is invalid"
    assert error.code == "INVALID_REQUEST"


@pytest.mark.parametrize(
    ("body", "expected_message"),
    [
        (b'{"code": 404, "message": "flag not found", "details": {}}', "flag not found"),
        (b'{"error_msg": "required field buildId not present in query param"}', "required field buildId"),
    ],
    ids=["cf-admin", "ti-service"],
)
def test_service_specific_error_bodies_are_read(body: bytes, expected_message: str) -> None:
    error = error_from_response(404, body)
    assert isinstance(error, HarnessNotFoundError)
    assert expected_message in error.message


def test_an_html_error_page_becomes_an_actionable_message() -> None:
    page = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    error = error_from_response(502, page, content_type="text/html")
    assert isinstance(error, HarnessUnavailableError)
    assert "HTML error page" in error.message
    assert "Try again" in error.message


def test_a_login_page_says_the_key_is_the_problem() -> None:
    page = b"<html><body><form action='/auth/login'>Sign in to Harness</form></body></html>"
    error = error_from_response(401, page, content_type="text/html")
    assert isinstance(error, HarnessAuthError)
    assert "HARNESS_API_KEY" in error.message


def test_a_short_plain_text_body_is_kept_with_advice() -> None:
    error = error_from_response(400, b"operation not permitted for accountID", content_type="text/plain")
    assert isinstance(error, HarnessInvalidRequestError)
    assert error.message == "operation not permitted for accountID"


def test_an_empty_body_falls_back_to_advice_for_the_status() -> None:
    error = error_from_response(403, b"")
    assert isinstance(error, HarnessPermissionError)
    assert "HARNESS_ACCOUNT_ID" in error.message


def test_rate_limited_errors_carry_retry_after() -> None:
    error = error_from_response(429, b"", retry_after_s=3.0)
    assert isinstance(error, HarnessRateLimitedError)
    assert error.retry_after_s == 3.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("5", 5.0), ("0", 0.0), ("-3", 0.0), ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0), ("soon", None), (None, None)],
    ids=["seconds", "zero", "negative", "http-date", "garbage", "absent"],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header: str | None, expected: float | None) -> None:
    now = 1792567680.0  # 2026-10-21T07:28:00Z
    assert parse_retry_after(header, now_epoch_s=now) == expected
