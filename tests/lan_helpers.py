"""Helpers of the LAN integration tests: the simulator's announcements into the discovery seam."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import CONF_LAN_MODE, DOMAIN
from custom_components.ewelink.lan_control import LanControl
from custom_components.ewelink.lan_hub import async_get_hub
from simulator import LanAnnouncement, Simulator, SimulatorConfig
from tests.common import EMAIL, Cloud
from tests.netns import network_namespace


def lan_config() -> SimulatorConfig:
    """The root suite's simulator settings with LAN devices on."""
    return SimulatorConfig(
        hb_interval=4, device_ack_timeout=1.0, device_register_retry=0.2, lan=True
    )


def feed_lan(hass: HomeAssistant, sim: Simulator) -> Callable[[], None]:
    """Hand every announcement of the simulator to the integration's discovery seam.

    The simulator's in-process feed replays the latest record of every running device first,
    as the answers to a browser's first query would be. Returns the unsubscribe callback.
    """
    hub = async_get_hub(hass)

    def deliver(announcement: LanAnnouncement) -> None:
        hub.discovery.feed(
            announcement.name, announcement.addresses, announcement.port, announcement.properties
        )

    return sim.lan.subscribe(deliver, replay=True)


def add_entry(
    hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any], mode: str | None = None
) -> MockConfigEntry:
    """Add the owner's entry with a LAN mode (None: the default)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=cloud.owner.apikey,
        data=entry_data,
        options={} if mode is None else {CONF_LAN_MODE: mode},
    )
    entry.add_to_hass(hass)
    return entry


def lan_of(entry: MockConfigEntry) -> LanControl:
    """Return the entry's LAN control (it must have one)."""
    lan = entry.runtime_data.lan
    assert lan is not None
    return lan


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """LAN devices on (import this fixture into a test module to use it)."""
    return lan_config()


@pytest.fixture
def netns() -> Iterator[str]:
    """Run the test in a fresh network namespace (tests/netns.py); list it before the fixtures
    that open sockets (the simulator, Home Assistant's zeroconf instance, HTTP clients)."""
    with network_namespace("ha") as name:
        yield name
