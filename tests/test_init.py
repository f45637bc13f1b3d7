"""Setup, unload, devices and live entities against the simulator."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import DOMAIN
from tests.common import Cloud, wait_for
from tests.conftest import setup_entry


async def test_setup_creates_devices_and_entities(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every device of the account becomes a registry device with its entities."""
    await cloud.sim.add_device(
        cloud.owner, "1000000001", uiid=1, name="Lamp", home=cloud.home, room="Kitchen"
    )
    await cloud.sim.add_device(
        cloud.owner,
        "1000000002",
        uiid=2,
        name="Fan plug",
        tags={"ck_channel_name": {"0": "Fan", "1": "Heater"}},
    )
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED

    lamp = device_registry.async_get_device_by_identifier(
        (DOMAIN, "1000000001"), config_entry.entry_id
    )
    assert lamp is not None
    assert (lamp.name, lamp.manufacturer, lamp.sw_version, lamp.model, lamp.hw_version) == (
        "Lamp",
        "SONOFF",
        "3.7.0",
        "MINIR2",
        None,  # the device page shows the model, not "UIID 1" (diagnostics keep the UIID)
    )
    assert lamp.connections
    assert lamp.area_id == "kitchen"
    state = hass.states.get("switch.kitchen_lamp")
    assert state is not None
    assert state.state == "off"
    assert hass.states.get("switch.fan_plug_fan") is not None
    assert hass.states.get("switch.fan_plug_heater") is not None

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    await wait_for(lambda: cloud.sim.app_sessions(cloud.owner) == 0)
