from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mcp_server.server_fixture import ServerUnderTest, make_server_under_test


@pytest.fixture
def sut() -> Iterator[ServerUnderTest]:
    found = make_server_under_test()
    yield found
    found.state.close()
