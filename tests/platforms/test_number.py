"""Numbers over the simulator: inching duration, sensitivity."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_numbers(hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry) -> None:
    """pulseWidth (ms) goes with the current pulse state, in steps of 500 ms; 1..3 sensitivity."""
    plug = await add(cloud, "1000009001", 1, "Plug")
    bridge = await add(cloud, "1000009002", 66, "Bridge")
    presence = await add(cloud, "a480009003", 7016, "Presence", parent=bridge)
    await setup_entry(hass, config_entry)
    assert state_of(hass, "number.plug_inching_duration") == "0.5"
    assert attr(hass, "number.plug_inching_duration", "unit_of_measurement") == "s"

    await call(hass, "number", "set_value", "number.plug_inching_duration", value=2.5)
    assert (plug.params["pulse"], plug.params["pulseWidth"]) == ("off", 2500)
    assert state_of(hass, "number.plug_inching_duration") == "2.5"
    await call(hass, "switch", "turn_on", "switch.plug_inching")
    await call(hass, "number", "set_value", "number.plug_inching_duration", value=1.3)
    assert (plug.params["pulse"], plug.params["pulseWidth"]) == ("on", 1500)
    await call(hass, "switch", "turn_on", "switch.plug")
    await wait_for(lambda: state_of(hass, "switch.plug") == "off")  # inching turned it off

    await call(hass, "number", "set_value", "number.presence_sensitivity", value=3)
    assert presence.params["sensitivity"] == 3
    await presence.report({"human": 1, "brState": "brighter"})
    await wait_for(lambda: state_of(hass, "binary_sensor.presence") == "on")
    assert state_of(hass, "binary_sensor.presence_light") == "on"
