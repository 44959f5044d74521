"""The delegate agent's life: register, heartbeat, take tasks, deliver results, and stop cleanly.

Threads, each with its own connection pool:

- the poll loop (registers, long-polls `task-events`, acquires tasks while there is a free slot);
- the heartbeat (every interval; registers again on 404, kills the tasks the manager gave up on);
- the deliverer (empties the outbox, oldest first; it goes first at start, before any new task is taken);
- one thread per running task, and the health endpoint when asked for.

The main thread only waits for a signal. A first SIGTERM/SIGINT stops the polling and lets running tasks finish
for `grace_s`; what is still running then is killed and reported INTERRUPTED, the outbox is delivered (for a bounded
time: the manager may be away), and the delegate unregisters. A second signal kills the tasks' process groups and
exits at once; the results not yet delivered stay in the outbox for the next start. A manager that goes away is
waited out with backoff while tasks keep running; a 401 (the token was revoked) stops the delegate with code 1.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from pydantic import ValidationError

from harness_connector.delegate.auth import DelegateCredentials
from harness_connector.delegate.board import TaskBoard, TaskSettings
from harness_connector.delegate.delivery import Deliverer
from harness_connector.delegate.health import HealthServer
from harness_connector.delegate.link import Backoff, Link, is_unauthorized
from harness_connector.delegate.manager_api import ManagerApi, Registration, is_delegate_not_found
from harness_connector.delegate.outbox import Outbox
from harness_connector.delegate.protocol import TaskEvent
from harness_connector.delegate.task_env import base_environment
from harness_connector.delegate.tasks import end_leftover_tasks
from harness_connector.delegate.wire import WireClient, WireError, WireUnavailable
from harness_connector.errors import ConfigError

__all__ = ["Agent", "AgentConfig"]

_log = logging.getLogger("harness_connector.delegate")

_CALL_TIMEOUT_S = 30.0
_LOG_TIMEOUT_S = 10.0
# At shutdown the outbox gets this long to empty; what is left waits for the next start.
_DRAIN_S = 15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    """Everything the agent is told at start; built by the CLI from options and environment variables."""

    manager_url: str
    account_id: str
    token: str = field(repr=False)
    name: str
    workdir: Path
    state_dir: Path
    tags: tuple[str, ...] = ()
    org: str | None = None
    project: str | None = None
    host_name: str = ""
    version: str = ""
    concurrency: int = 2
    heartbeat_interval_s: float = 30.0
    poll_wait_s: float = 20.0
    grace_s: float = 30.0
    max_backoff_s: float = 30.0
    kill_grace_s: float = 2.0
    keep_workspaces: bool = False
    health_host: str = "127.0.0.1"
    health_port: int | None = None


def _lock_state_dir(state_dir: Path) -> IO[bytes]:
    """Hold an exclusive lock on the state dir for the process's life: two delegates must not share an outbox."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = (state_dir / "delegate.lock").open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigError(
            f"another delegate is running with the state directory {state_dir}; give each one its own --state-dir"
        ) from None
    return handle


def _health_server(config: AgentConfig, status: Callable[[], dict[str, Any]]) -> HealthServer | None:
    """Bound at construction, not in `run`, so a port already in use is a configuration error."""
    if config.health_port is None:
        return None
    try:
        return HealthServer(config.health_host, config.health_port, status)
    except OSError as exc:
        raise ConfigError(
            f"--health-port {config.health_port} cannot be used on {config.health_host}: {exc.strerror or exc}"
        ) from exc


def _end_leftovers(config: AgentConfig) -> None:
    """Before taking tasks: a delegate killed mid-task left its steps' processes running; end them."""
    for leftover in end_leftover_tasks(config.workdir, keep_workspaces=config.keep_workspaces):
        _log.warning(
            "task %s was running when this delegate last stopped without notice; %d of its processes were still "
            "running and were ended",
            leftover.task_id,
            leftover.processes_ended,
        )


class Agent:
    """One delegate process. `run` blocks until the delegate stopped and returns the exit code."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        environ: Mapping[str, str],
        wire: Callable[[float], WireClient] | None = None,
    ) -> None:
        self.config = config
        self._state_lock = _lock_state_dir(config.state_dir)
        config.workdir.mkdir(parents=True, exist_ok=True)
        _end_leftovers(config)
        credentials = DelegateCredentials(config.account_id, config.token)
        self._wire = wire or (
            lambda timeout_s: WireClient(config.manager_url, headers=credentials.headers, timeout_s=timeout_s)
        )
        self.outbox = Outbox(config.state_dir)
        self._stopping = threading.Event()
        self._closed = threading.Event()
        self._revoked = threading.Event()
        self._signals = 0
        settings = TaskSettings(
            delegate_name=config.name,
            workdir=config.workdir,
            base_env=base_environment(environ),
            concurrency=config.concurrency,
            kill_grace_s=config.kill_grace_s,
            keep_workspaces=config.keep_workspaces,
        )
        self.board = TaskBoard(
            settings,
            self.outbox,
            make_api=lambda: self._api(_LOG_TIMEOUT_S),
            on_unauthorized=self._token_revoked,
            on_finished=lambda: self._deliverer.poke(),
        )
        registration = Registration(
            name=config.name,
            host_name=config.host_name,
            tags=config.tags,
            version=config.version,
            description="harness-connector delegate",
            org=config.org,
            project=config.project,
        )
        self.link = Link(registration, self.board.held_task_ids, on_registered=lambda: self._deliverer.poke())
        self._delivery_api = self._api(_CALL_TIMEOUT_S)
        try:
            self._health = _health_server(config, self.status)
        except BaseException:
            self._delivery_api.close()
            self._state_lock.close()
            raise
        self._deliverer = Deliverer(
            self.outbox,
            self._delivery_api,
            self.link,
            backoff=self._backoff(),
            on_revoked=self._token_revoked,
        )

    def _api(self, timeout_s: float) -> ManagerApi:
        return ManagerApi(self._wire(timeout_s), self.config.account_id)

    def _backoff(self) -> Backoff:
        return Backoff(cap_s=self.config.max_backoff_s)

    def status(self) -> dict[str, Any]:
        """What `/api/health` answers."""
        return {
            "status": "ok",
            "connected": self.link.connected,
            "runningTasks": self.board.running_count(),
            "queuedResults": len(self.outbox),
        }

    def run(self, *, handle_signals: bool = True) -> int:
        """Run until stopped (a signal, `request_stop`, or a revoked token); return the process exit code."""
        if handle_signals:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        if self._health is not None:
            self._health.start()
            _log.info("health endpoint: http://%s:%d/api/health", self.config.health_host, self._health.port)
        c = self.config
        _log.info(
            "delegate %r starting: manager %s, account %s, tags [%s], %d task slot(s), %d result(s) in the outbox",
            c.name,
            c.manager_url,
            c.account_id,
            ", ".join(c.tags),
            c.concurrency,
            len(self.outbox),
        )
        for target, name in (
            (self._deliverer.run, "deliverer"),
            (self._heartbeat_loop, "heartbeat"),
            (self._poll_loop, "poll"),
        ):
            threading.Thread(target=target, name=name, daemon=True).start()
        while not self._stopping.wait(1.0):
            pass
        try:
            return self._shutdown()
        finally:
            self.close()

    def close(self) -> None:
        """Free the state directory (another delegate may use it now), the health port and the connections."""
        if self._health is not None:
            self._health.close()
        self._delivery_api.close()
        self._state_lock.close()

    def request_stop(self) -> None:
        """Begin a graceful stop, as a first SIGTERM does."""
        self._stopping.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            _log.info(
                "%s: taking no new tasks; running ones get up to %gs to finish (send it again to stop now)",
                name,
                self.config.grace_s,
            )
            self._stopping.set()
            return
        _log.warning("%s again: stopping now; results not yet delivered stay in %s", name, self.outbox.directory)
        self.board.kill_all_now()
        os._exit(128 + signum)

    def _token_revoked(self, error: WireError) -> None:
        if self._revoked.is_set():
            return
        self._revoked.set()
        if error.code == "EXPIRED_TOKEN":
            problem = (
                "the manager took the delegate's JWT for expired: this host's clock and the manager's differ by "
                "more than the JWT's ten minutes; set the clock right and start the delegate again"
            )
        else:
            problem = (
                f"the manager refused the delegate token (401 {error.code}): it was revoked or is not a token of "
                f"account {self.config.account_id}; create a new delegate token and start the delegate again with "
                "it (DELEGATE_TOKEN)"
            )
        _log.error("%s. Undelivered results stay in %s", problem, self.outbox.directory)
        self._stopping.set()

    # The poll loop

    def _poll_loop(self) -> None:
        api = self._api(_CALL_TIMEOUT_S)
        backoff = self._backoff()
        while not self._stopping.is_set():
            try:
                self._poll_once(api)
                backoff.reset()
                continue
            except WireUnavailable as exc:
                self.link.lost(str(exc))
            except WireError as exc:
                if is_unauthorized(exc):
                    self._token_revoked(exc)
                    return
                if is_delegate_not_found(exc):
                    self.link.forget()
                    continue
                _log.warning("polling for tasks failed: %s", exc)
            except Exception:  # the loop must outlive a malformed answer, or the delegate would idle unseen
                _log.exception("polling for tasks failed")
            self._stopping.wait(backoff.next_delay())

    def _poll_once(self, api: ManagerApi) -> None:
        delegate_id = self.link.ensure(api)
        # The outbox goes first: results owed from before a restart are delivered before new work is taken.
        if not self._deliverer.first_pass.wait(0.5):
            return
        free = self.board.wait_for_slot(1.0)
        if free <= 0:
            return
        events = api.task_events(delegate_id, wait_s=self.config.poll_wait_s, max_tasks=free)
        for event in events:
            if not self._take(api, delegate_id, event):
                break

    def _take(self, api: ManagerApi, delegate_id: str, event: TaskEvent) -> bool:
        """Acquire and start one task; False when no more should be taken now."""
        task_id = event.delegate_task_id
        if self.board.holds(task_id):
            return True
        if self._stopping.is_set() or not self.board.reserve(task_id):
            return False
        try:
            self.board.start(api.acquire(delegate_id, task_id))
        except WireError as exc:
            if exc.status != 409:
                raise
            _log.info("task %s was taken by another delegate", task_id)
        except ValidationError as exc:
            self.board.refuse(task_id, f"the task's payload cannot be read ({exc.error_count()} problem(s))")
        finally:
            self.board.release(task_id)
        return True

    # The heartbeat

    def _heartbeat_interval_s(self) -> float:
        interval = self.config.heartbeat_interval_s
        if self.link.heartbeat_interval_ms:
            interval = min(interval, self.link.heartbeat_interval_ms / 1000)
        return interval

    def _heartbeat_loop(self) -> None:
        api = self._api(_CALL_TIMEOUT_S)
        while not self._closed.wait(self._heartbeat_interval_s()):
            try:
                self._heartbeat_once(api)
            except Exception:  # a malformed answer must not end the heartbeats
                _log.exception("heartbeat failed")

    def _heartbeat_once(self, api: ManagerApi) -> None:
        for _ in range(2):  # a second try right after registering again
            try:
                delegate_id = self.link.ensure(api)
                answer = api.heartbeat(delegate_id, self.link.held_task_ids())
            except WireUnavailable as exc:
                self.link.lost(str(exc))
                return
            except WireError as exc:
                if is_unauthorized(exc):
                    self._token_revoked(exc)
                    return
                if is_delegate_not_found(exc):
                    self.link.forget()
                    continue
                _log.warning("heartbeat failed: %s", exc)
                return
            self.board.abort(answer.abort_task_ids, "aborted by the manager")
            return

    # Stopping

    def _shutdown(self) -> int:
        revoked = self._revoked.is_set()
        grace_s = 0.0 if revoked else self.config.grace_s
        self.board.stop_accepting()
        running = self.board.running_count()
        if running:
            _log.info("stopping: waiting up to %gs for %d running task(s)", grace_s, running)
        leftover = self.board.wait_idle(grace_s)
        reason = "the delegate token was revoked" if revoked else "the delegate is shutting down"
        # Not ABORTED: nobody aborted the step; the step fails with DELEGATE_RESTART and its strategy decides.
        self.board.abort(leftover, reason, status="INTERRUPTED")
        self.board.join(leftover, self.config.kill_grace_s + _DRAIN_S)
        if not revoked:
            self._drain()
        self._closed.set()
        self._deliverer.close()
        if not revoked:
            self._unregister()
        _log.info("delegate %r stopped", self.config.name)
        return 1 if revoked else 0

    def _drain(self) -> None:
        if not len(self.outbox):
            return
        _log.info("delivering %d result(s) before stopping", len(self.outbox))
        deadline = time.monotonic() + _DRAIN_S
        self._deliverer.poke()
        while len(self.outbox) and time.monotonic() < deadline and not self._revoked.is_set():
            self.outbox.wait_for_change(0.5)
        if len(self.outbox):
            _log.warning(
                "%d result(s) could not be delivered; they wait in %s for the next start",
                len(self.outbox),
                self.outbox.directory,
            )

    def _unregister(self) -> None:
        delegate_id = self.link.delegate_id
        if delegate_id is None:
            return
        api = self._api(_LOG_TIMEOUT_S)
        try:
            api.unregister(delegate_id)
            _log.info("unregistered from the manager")
        except (WireError, WireUnavailable) as exc:
            _log.warning("could not unregister: %s", exc)
        finally:
            api.close()
