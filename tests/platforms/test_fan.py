"""Fans over the simulator: iFan speed bits, the three-speed fan, the diffuser's mist."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.devices import channel_switch
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


async def test_fans(hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry) -> None:
    """Speeds map to the devices' steps; presets and oscillation where the fan has them."""
    ifan = await add(cloud, "1000003001", 34, "Ceiling")
    fan = await add(cloud, "1000003002", 17, "Desk fan")
    diffuser = await add(cloud, "1000003003", 25, "Aroma")
    await setup_entry(hass, config_entry)
    assert state_of(hass, "fan.ceiling") == "off"
    assert attr(hass, "fan.ceiling", "percentage_step") == pytest.approx(100 / 3)

    # iFan: outlet 1 = power, outlets 2 and 3 = speed bits (medium = on, off).
    await call(hass, "fan", "set_percentage", "fan.ceiling", percentage=66)
    assert [channel_switch(ifan.params, n) for n in (1, 2, 3)] == ["on", "on", "off"]
    assert attr(hass, "fan.ceiling", "percentage") == 66
    await call(hass, "fan", "set_percentage", "fan.ceiling", percentage=100)
    assert [channel_switch(ifan.params, n) for n in (1, 2, 3)] == ["on", "off", "on"]
    await call(hass, "fan", "turn_off", "fan.ceiling")
    assert channel_switch(ifan.params, 1) == "off"
    assert attr(hass, "fan.ceiling", "percentage") == 0
    await call(hass, "fan", "turn_on", "fan.ceiling")
    assert [channel_switch(ifan.params, n) for n in (1, 2, 3)] == ["on", "off", "on"]
    await ifan.report({"switches": [{"outlet": 3, "switch": "off"}]})  # the remote: low
    await wait_for(lambda: attr(hass, "fan.ceiling", "percentage") == 33)
    assert state_of(hass, "light.ceiling_light") == "off"

    await call(hass, "fan", "turn_on", "fan.desk_fan", percentage=100, preset_mode="sleep")
    assert (fan.params["fan"], fan.params["speed"], fan.params["mode"]) == ("on", "fast", "sleep")
    assert attr(hass, "fan.desk_fan", "preset_mode") == "sleep"
    await call(hass, "fan", "oscillate", "fan.desk_fan", oscillating=True)
    assert fan.params["shake"] == "on"
    assert attr(hass, "fan.desk_fan", "oscillating") is True
    await call(hass, "fan", "set_percentage", "fan.desk_fan", percentage=0)
    assert fan.params["fan"] == "off"
    with pytest.raises(ServiceValidationError):
        await call(hass, "fan", "set_preset_mode", "fan.desk_fan", preset_mode="turbo")

    await call(hass, "fan", "set_percentage", "fan.aroma", percentage=50)
    assert (diffuser.params["switch"], diffuser.params["state"]) == ("on", 1)
    await call(hass, "fan", "set_percentage", "fan.aroma", percentage=100)
    assert diffuser.params["state"] == 2
    assert attr(hass, "fan.aroma", "percentage") == 100
    await diffuser.report({"water": 0})
    await wait_for(lambda: state_of(hass, "binary_sensor.aroma_water_shortage") == "on")
