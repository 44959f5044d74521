from __future__ import annotations

import pytest

from harness_connector.errors import ConfigError
from harness_connector.harness.registry import toolsets
from harness_connector.services.toolsets import enabled_toolsets, enabled_types


def test_empty_means_every_toolset() -> None:
    assert enabled_toolsets("") == frozenset(toolsets())


def test_a_plain_list_means_exactly_those() -> None:
    assert enabled_toolsets("pipelines, connectors") == {"pipelines", "connectors"}
    assert "connector" in enabled_types("connectors")
    assert "pipeline" not in enabled_types("connectors")


def test_plus_and_minus_adjust_the_full_set() -> None:
    assert enabled_toolsets("-feature_flags,-code") == frozenset(toolsets()) - {"feature_flags", "code"}


def test_an_unknown_toolset_is_a_config_error_listing_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        enabled_toolsets("pipelines,nope")
    assert "nope" in str(caught.value)
    assert "connectors" in str(caught.value)


def test_mixing_forms_is_refused() -> None:
    with pytest.raises(ConfigError):
        enabled_toolsets("pipelines,-code")
