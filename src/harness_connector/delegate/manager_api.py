"""The calls a delegate makes, one method each, as protocol.py specifies them.

Each thread of the agent owns one `ManagerApi` (and so one connection pool): the poll loop, the heartbeat, the
outbox deliverer and each task's log stream. Errors are the wire's own (`WireError`, `WireUnavailable`); deciding
what to retry is the caller's business, because it differs between a heartbeat and a result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from harness_connector.delegate.protocol import TaskEvent, TaskPayload
from harness_connector.delegate.wire import WireClient, WireError, unwrap

__all__ = [
    "DELEGATE_NOT_FOUND",
    "HeartbeatAnswer",
    "ManagerApi",
    "Registration",
    "is_delegate_not_found",
]

DELEGATE_NOT_FOUND = "DELEGATE_NOT_FOUND"
# How much longer than the long poll's own wait the HTTP call may take before it counts as lost.
_LONG_POLL_SLACK_S = 10.0


def is_delegate_not_found(exc: WireError) -> bool:
    """The manager forgot this delegate (it restarted without state, or removed it): register again."""
    return exc.status == 404 and exc.code == DELEGATE_NOT_FOUND


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """What the delegate says about itself when it registers."""

    name: str
    host_name: str
    tags: tuple[str, ...] = ()
    version: str = ""
    description: str = ""
    org: str | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatAnswer:
    """What a heartbeat tells the delegate: the tasks the manager gave up on."""

    abort_task_ids: tuple[str, ...] = ()


def _registration_body(registration: Registration, running: Sequence[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "delegateName": registration.name,
        "hostName": registration.host_name,
        "delegateType": "DOCKER",
        "tags": list(registration.tags),
        "version": registration.version,
        "description": registration.description,
        "runningTaskIds": list(running),
    }
    if registration.org:
        body["orgIdentifier"] = registration.org
    if registration.project:
        body["projectIdentifier"] = registration.project
    return body


def _seg(value: str) -> str:
    # Ids come from the manager's answers; quoting keeps an odd one from changing the path.
    return quote(value, safe="")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class ManagerApi:
    """The delegate protocol over one `WireClient`."""

    def __init__(self, wire: WireClient, account_id: str) -> None:
        self.wire = wire
        self.account_id = account_id

    def close(self) -> None:
        """Close the connection pool."""
        self.wire.close()

    def _account(self) -> dict[str, str | int]:
        return {"accountId": self.account_id}

    def register(self, registration: Registration, running: Sequence[str]) -> tuple[str, int | None]:
        """Register (or register again, keeping the id); returns the delegate id and the heartbeat interval (ms)."""
        answer = _mapping(
            unwrap(
                self.wire.request(
                    "POST",
                    "/api/agent/delegates/register",
                    params=self._account(),
                    json_body=_registration_body(registration, running),
                )
            )
        )
        delegate_id = str(answer.get("delegateId") or "")
        if not delegate_id:
            raise WireError(502, "BAD_ANSWER", "the manager's registration answer has no delegateId")
        interval = answer.get("heartbeatIntervalMs")
        return delegate_id, interval if isinstance(interval, int) and interval > 0 else None

    def heartbeat(self, delegate_id: str, running: Sequence[str]) -> HeartbeatAnswer:
        """Tell the manager this delegate is alive and what it still holds."""
        answer = _mapping(
            unwrap(
                self.wire.request(
                    "POST",
                    "/api/agent/delegates/heartbeat-with-polling",
                    params=self._account(),
                    json_body={"delegateId": delegate_id, "runningTaskIds": list(running)},
                )
            )
        )
        aborts = answer.get("abortTaskIds")
        return HeartbeatAnswer(abort_task_ids=tuple(str(x) for x in aborts) if isinstance(aborts, list) else ())

    def task_events(self, delegate_id: str, *, wait_s: float, max_tasks: int) -> list[TaskEvent]:
        """Long-poll for queued tasks this delegate may run."""
        answer = unwrap(
            self.wire.request(
                "GET",
                f"/api/agent/delegates/{_seg(delegate_id)}/task-events",
                params={**self._account(), "wait": int(wait_s), "max": max_tasks},
                timeout_s=wait_s + _LONG_POLL_SLACK_S,
            )
        )
        return [TaskEvent.model_validate(item) for item in answer] if isinstance(answer, list) else []

    def acquire(self, delegate_id: str, task_id: str) -> TaskPayload:
        """Take a task; 409 TASK_ALREADY_TAKEN when another delegate was quicker."""
        answer = self.wire.request(
            "PUT", f"/api/agent/delegates/{_seg(delegate_id)}/tasks/{_seg(task_id)}/acquire", params=self._account()
        )
        return TaskPayload.model_validate(unwrap(answer))

    def send_result(self, delegate_id: str, task_id: str, result: Mapping[str, Any]) -> tuple[bool, str]:
        """Deliver a task's result; returns whether the step still waited for it, and the manager's reason."""
        answer = _mapping(
            unwrap(
                self.wire.request(
                    "POST",
                    f"/api/agent/v2/tasks/{_seg(task_id)}/delegates/{_seg(delegate_id)}",
                    params=self._account(),
                    json_body=dict(result),
                )
            )
        )
        return bool(answer.get("accepted", True)), str(answer.get("reason") or "")

    def unregister(self, delegate_id: str) -> None:
        """Say goodbye, so the manager shows the delegate as disconnected at once rather than after a timeout."""
        self.wire.request("POST", f"/api/agent/delegates/{_seg(delegate_id)}/unregister", params=self._account())

    def send_logs(self, log_key: str, lines: Sequence[Mapping[str, Any]]) -> None:
        """Append lines to a step's log stream."""
        self.wire.request(
            "POST",
            "/log-service/stream",
            params={"accountID": self.account_id, "key": log_key},
            json_body=[dict(line) for line in lines],
        )

    def write_reports(self, query: Mapping[str, str], rows: Sequence[Mapping[str, Any]]) -> None:
        """Upload a step's test cases to ti-service (`query` names the build, stage and step)."""
        self.wire.request(
            "POST",
            "/ti-service/reports/write",
            params={**query, "accountId": self.account_id, "report": "junit"},
            json_body=[dict(row) for row in rows],
        )
