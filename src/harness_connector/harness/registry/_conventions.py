"""What every toolset module shares: the policy for each kind of operation, the v1 path scope, and keying.

The policies follow one rule per kind so a reader can check a module at a glance: reads are safe to repeat;
creates, runs and deletes are sent once, because a retried POST can create or start the thing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from harness_connector.harness.registry.model import READ_SAFE, Operation, OperationPolicy, RetryPolicy, Risk

__all__ = ["CREATE", "DELETE", "HIGH_WRITE", "INTERRUPT", "PROBE", "READ", "UPDATE", "V1_PATH", "operations"]

READ = READ_SAFE
CREATE = OperationPolicy(Risk.LOW_WRITE, RetryPolicy.DO_NOT_RETRY)
# Updates send the whole entity (or the fields to set), so a second copy lands the same state.
UPDATE = OperationPolicy(Risk.LOW_WRITE, RetryPolicy.SAFE)
DELETE = OperationPolicy(Risk.DESTRUCTIVE, RetryPolicy.DO_NOT_RETRY)
# Starting a run, approving a deployment, flipping a flag in production, revoking a token: a person should
# confirm it, and a resent request could start a second run.
HIGH_WRITE = OperationPolicy(Risk.HIGH_WRITE, RetryPolicy.DO_NOT_RETRY)
# Abort, pause, resume: little harm, but a late resent Pause could land after the caller's Resume.
INTERRUPT = OperationPolicy(Risk.LOW_WRITE, RetryPolicy.DO_NOT_RETRY)
# Runs a check and records its result; running it again changes nothing else.
PROBE = OperationPolicy(Risk.LOW_WRITE, RetryPolicy.SAFE)

# The `/v1/orgs/{org}/projects/{project}/...` APIs carry the scope in the path, filled from the scope arguments.
V1_PATH: Mapping[str, str] = MappingProxyType({"org": "org_id", "project": "project_id"})


def operations(*ops: Operation) -> Mapping[str, Operation]:
    """Key operations by their names, read-only.

    Raises:
        ValueError: two operations share a name, so one would silently hide the other.
    """
    keyed: dict[str, Operation] = {}
    for op in ops:
        if op.name in keyed:
            raise ValueError(f"operation '{op.name}' is declared twice")
        keyed[op.name] = op
    return MappingProxyType(keyed)
