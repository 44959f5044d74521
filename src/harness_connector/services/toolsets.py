"""Which resource types are enabled, from `HARNESS_TOOLSETS`.

The grammar is the official server's: empty means every toolset; `a,b` means exactly those; `+x`/`-y` adjust the
full set. An unknown name is a configuration error that lists the valid ones, so a typo never silently hides tools.
"""

from __future__ import annotations

from harness_connector.errors import ConfigError
from harness_connector.harness.registry import resource_types, toolsets

__all__ = ["enabled_toolsets", "enabled_types"]


def enabled_toolsets(spec: str) -> frozenset[str]:
    """The toolsets `spec` enables.

    Raises:
        ConfigError: a name is not a toolset.
    """
    known = set(toolsets())
    words = [w.strip() for w in spec.split(",") if w.strip()]
    if not words:
        return frozenset(known)
    unknown = sorted({w.lstrip("+-") for w in words} - known)
    if unknown:
        raise ConfigError(f"HARNESS_TOOLSETS names unknown toolsets {unknown}; valid: {', '.join(sorted(known))}")
    if all(w[0] in "+-" for w in words):
        chosen = set(known)
        for word in words:
            (chosen.add if word[0] == "+" else chosen.discard)(word[1:])
        return frozenset(chosen)
    if any(w[0] in "+-" for w in words):
        raise ConfigError("HARNESS_TOOLSETS mixes a plain list with +/- changes; use one form, e.g. 'pipelines,logs'")
    return frozenset(words)


def enabled_types(spec: str) -> frozenset[str]:
    """Names of the resource types in the enabled toolsets."""
    chosen = enabled_toolsets(spec)
    return frozenset(t.name for t in resource_types() if t.toolset in chosen)
