"""Fixtures of the LAN library tests: no Home Assistant instance, real loopback sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.ewelink.lan import LanClient, LanTarget
from simulator import Account, LanDevice, Simulator, SimulatorConfig


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The LAN library tests need no Home Assistant instance (overrides the root fixture)."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Client tests talk to the simulator's device servers over real loopback sockets."""


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Fast timings, LAN on for every LAN-capable device."""
    return SimulatorConfig(
        hb_interval=2,
        device_ack_timeout=0.5,
        rate_limit=False,
        device_register_retry=0.05,
        device_reconnect_delay=0.05,
        shutdown_timeout=1.0,
        lan=True,
    )


@pytest.fixture
async def sim(sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    """A running simulator."""
    async with Simulator(sim_config) as simulator:
        yield simulator


@pytest.fixture
def owner(sim: Simulator) -> Account:
    """The account that owns the test devices."""
    return sim.add_account("owner@example.com", password="owner-pw", region="eu")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(http: aiohttp.ClientSession) -> LanClient:
    """A LAN client with test-friendly spacing."""
    return LanClient(http, timeout=3.0, spacing=0.05)


def target(lan: LanDevice) -> LanTarget:
    """The target of a simulated LAN device (its devicekey from the factory, like the thing list)."""
    return LanTarget(lan.deviceid, lan.host, lan.port, None if lan.diy else lan.devicekey)
