"""Fixtures of the LAN library tests: no Home Assistant instance, real loopback sockets."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The LAN library tests need no Home Assistant instance (overrides the root fixture)."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Client tests talk to the simulator's device servers over real loopback sockets."""
