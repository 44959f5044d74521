"""Every failure family, by id, with the lookups the generator and the renderer need."""

from __future__ import annotations

from harness_connector.sandbox.scenario.failure import CATEGORIES, FailureFamily
from harness_connector.sandbox.scenario.families_change import CHANGE_FAMILIES
from harness_connector.sandbox.scenario.families_network import NETWORK_FAMILIES
from harness_connector.sandbox.scenario.families_quality import QUALITY_FAMILIES
from harness_connector.sandbox.scenario.families_runner import RUNNER_FAMILIES

__all__ = ["CATEGORIES", "FAMILIES", "FailureFamily", "families_by_mode"]

FAMILIES: dict[str, FailureFamily] = {}
for _family in (*NETWORK_FAMILIES, *RUNNER_FAMILIES, *CHANGE_FAMILIES, *QUALITY_FAMILIES):
    if _family.id in FAMILIES:
        raise ValueError(f"two failure families are called {_family.id}")
    FAMILIES[_family.id] = _family


def families_by_mode(mode: str) -> list[FailureFamily]:
    """The families that occur in `mode`, in catalogue order."""
    return [family for family in FAMILIES.values() if family.mode == mode]
