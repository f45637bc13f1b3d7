"""Shared fixtures.

The repository's `custom_components` package is imported before the test plugin's
`testing_config/custom_components` can shadow it (see ha-2026.md §13.2).

`sim` starts the project's simulator on 127.0.0.1 (real sockets; the plugin blocks every other
address), with the short timings tests need and CoolKit's rate limits left on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import PropertyMock, patch

import aiohttp
from homeassistant.components.zeroconf.const import DATA_INSTANCE as ZEROCONF_INSTANCE
from homeassistant.components.zeroconf.models import HaAsyncZeroconf, HaZeroconf
from homeassistant.const import EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ewelink  # noqa: F401
from custom_components.ewelink.api import rate_limiter
from custom_components.ewelink.const import (
    AUTH_PASSWORD,
    CONF_ACCOUNT,
    CONF_APP_ID,
    CONF_APP_SECRET,
    CONF_AUTH_TYPE,
    CONF_COUNTRY_CODE,
    CONF_REGION,
    CONF_SERVER,
    CONF_TOKEN,
    CONF_USER_APIKEY,
    DOMAIN,
)
from custom_components.ewelink.coolkit import CoolkitClient, Servers
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
    wait_for,
)

# The browser tests drive a real Home Assistant in another process: scripts/e2e runs them.
collect_ignore = ["e2e"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components/."""


@pytest.fixture(autouse=True)
def _hass_before_zeroconf(request: pytest.FixtureRequest) -> None:
    """Set `hass` up outside the event loop when a test uses it but no autouse fixture did.

    (Directories that override `auto_enable_custom_integrations` start without it; an async
    fixture cannot set an async fixture up on demand.)
    """
    if "hass" in request.fixturenames and not request.node.get_closest_marker("real_mdns"):
        request.getfixturevalue("hass")


@pytest.fixture(autouse=True)
async def silent_zeroconf(request: pytest.FixtureRequest) -> None:
    """Give Home Assistant a shared zeroconf instance without sockets: no mDNS on the host.

    Entries browse for LAN devices on it; tests feed announcements through the discovery's
    seam (tests/lan_helpers.py). Tests marked `real_mdns` get Home Assistant's real instance.
    """
    if "hass" not in request.fixturenames or request.node.get_closest_marker("real_mdns"):
        return
    hass: HomeAssistant = request.getfixturevalue("hass")
    instance = HaAsyncZeroconf(zc=HaZeroconf(interfaces=[], unicast=True))
    hass.data[ZEROCONF_INSTANCE] = instance

    async def close(_event: Event) -> None:
        await instance.ha_async_close()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, close)


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


@pytest.fixture
async def entry_data(hass: HomeAssistant, cloud: Cloud) -> dict[str, Any]:
    """Entry data as the password flow stores it, from a real sign-in on the simulator."""
    async with aiohttp.ClientSession() as http:
        client = CoolkitClient(
            http,
            APP_ID,
            APP_SECRET,
            servers=Servers(cloud.sim.base_url),
            rate_limiter=rate_limiter(hass),
        )
        login = await client.login(EMAIL, PASSWORD, "+49")
    return {
        CONF_AUTH_TYPE: AUTH_PASSWORD,
        CONF_APP_ID: APP_ID,
        CONF_APP_SECRET: APP_SECRET,
        CONF_ACCOUNT: EMAIL,
        CONF_COUNTRY_CODE: "+49",
        CONF_SERVER: cloud.sim.base_url,
        CONF_REGION: login.region,
        CONF_USER_APIKEY: login.user.apikey,
        CONF_TOKEN: login.tokens.as_dict(),
    }


@pytest.fixture
def config_entry(hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any]) -> MockConfigEntry:
    """The owner's config entry, added to Home Assistant (not set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN, title=EMAIL, unique_id=cloud.owner.apikey, data=entry_data
    )
    entry.add_to_hass(hass)
    return entry


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up and wait until the long connection is up."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: entry.runtime_data.coordinator.connected)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create entities that are disabled by default as enabled (RSSI, LED, ...)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of this suite."""
    config.addinivalue_line(
        "markers", "real_mdns: the test uses Home Assistant's real zeroconf instance"
    )
