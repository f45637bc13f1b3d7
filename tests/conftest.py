"""Shared fixtures.

The repository's `custom_components` package is imported before the test plugin's
`testing_config/custom_components` can shadow it (see ha-2026.md §13.2).

`sim` starts the project's simulator on 127.0.0.1 (real sockets; the plugin blocks every other
address), with the short timings tests need and CoolKit's rate limits left on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import custom_components.ewelink  # noqa: F401
from simulator import Simulator, SimulatorConfig
from tests.common import (
    APP_ID,
    APP_SECRET,
    EMAIL,
    HA_REDIRECT,
    OAUTH_APP_ID,
    OAUTH_APP_SECRET,
    PASSWORD,
    Cloud,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components/."""


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Simulator settings for tests: tiny heartbeat and ack timeouts, rate limits on."""
    return SimulatorConfig(hb_interval=4, device_ack_timeout=1.0, device_register_retry=0.2)


@pytest.fixture
async def sim(socket_enabled: None, sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    """A running simulator."""
    async with Simulator(sim_config) as simulator:
        yield simulator


@pytest.fixture
def cloud(sim: Simulator) -> Cloud:
    """Register the test apps and accounts (devices are added by each test)."""
    app = sim.add_app(APP_ID, APP_SECRET, password_login=True, redirect_urls=[HA_REDIRECT])
    oauth_app = sim.add_app(
        OAUTH_APP_ID, OAUTH_APP_SECRET, password_login=False, redirect_urls=[HA_REDIRECT]
    )
    owner = sim.add_account(EMAIL, password=PASSWORD, region="eu", country_code="+49")
    home = sim.add_home(owner, "Home", ["Kitchen", "Living room"])
    friend = sim.add_account("friend@example.com", password="friend-pw", region="eu")
    sim.add_home(friend, "Friend's home")
    return Cloud(sim, app, oauth_app, owner, home, friend)
