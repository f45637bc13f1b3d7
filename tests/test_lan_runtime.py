"""LAN control in Home Assistant against the simulator: discovery, commands, fallback, outages."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry
from tests.lan_helpers import feed_lan, lan_of, sim_config  # noqa: F401  (fixture)


async def test_discovered_device_is_local_and_commanded_over_lan(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Announcements make the device local; a command goes over the LAN, encrypted."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a01", uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a01"))
    assert lan.path("1000000a01") == "both"

    device = cloud.sim.lan.device("1000000a01")
    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    assert lamp.params["switch"] == "on"
    request = device.requests[-1]
    assert (request.command, request.data, request.encrypted) == ("switch", {"switch": "on"}, True)
    assert state_of(hass, "switch.lamp") == "on"
