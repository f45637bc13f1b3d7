"""Binary sensors over the simulator: values that mean on, off, or nothing."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_binary_sensors(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Leak (SNZB-05P), occupancy and light level (SNZB-06P), the bridge's zigbee LED."""
    bridge = await add(cloud, "1000012001", 66, "Bridge")
    leak = await add(cloud, "a480012002", 7019, "Sink", parent=bridge)
    presence = await add(cloud, "a480012003", 7016, "Room", parent=bridge)
    await setup_entry(hass, config_entry)
    assert state_of(hass, "binary_sensor.bridge_zigbee_led") == "on"
    await bridge.report({"zled": "off"})  # the ZBBridge-P form
    await wait_for(lambda: state_of(hass, "binary_sensor.bridge_zigbee_led") == "off")

    assert state_of(hass, "binary_sensor.sink") == "off"
    await leak.report({"water": 1})
    await wait_for(lambda: state_of(hass, "binary_sensor.sink") == "on")
    await leak.report({"water": True})  # not one of the device's values
    await wait_for(lambda: state_of(hass, "binary_sensor.sink") == "unknown")

    await presence.report({"human": 1, "brState": "brighter"})
    await wait_for(lambda: state_of(hass, "binary_sensor.room") == "on")
    assert state_of(hass, "binary_sensor.room_light") == "on"
    await presence.report({"brState": "darker"})
    await wait_for(lambda: state_of(hass, "binary_sensor.room_light") == "off")
