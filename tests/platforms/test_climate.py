"""Thermostats over the simulator: TRVZB, NSPanel, GTTA127, TH10/16 and TH Elite auto modes."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


async def test_radiator_valve(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """TRVZB: targets x10 as ints, written to the current mode's key; workMode strings."""
    bridge = await add(cloud, "1000004001", 66, "Bridge")
    trv = await add(cloud, "a480004002", 7017, "Radiator", parent=bridge)
    await setup_entry(hass, config_entry)
    assert state_of(hass, "climate.radiator") == "heat"
    assert attr(hass, "climate.radiator", "temperature") == 21.0
    assert attr(hass, "climate.radiator", "current_temperature") == 19.5
    assert attr(hass, "climate.radiator", "hvac_action") == "idle"

    await call(hass, "climate", "set_temperature", "climate.radiator", temperature=22.5)
    assert trv.params["manTargetTemp"] == 225
    await wait_for(lambda: attr(hass, "climate.radiator", "temperature") == 22.5)
    assert attr(hass, "climate.radiator", "hvac_action") == "heating"

    await call(hass, "climate", "set_hvac_mode", "climate.radiator", hvac_mode="auto")
    assert trv.params["workMode"] == "2"
    await wait_for(lambda: attr(hass, "climate.radiator", "temperature") == 20.0)
    await call(hass, "climate", "set_temperature", "climate.radiator", temperature=18)
    assert (trv.params["autoTargetTemp"], trv.params["manTargetTemp"]) == (180, 225)
    await call(
        hass, "climate", "set_temperature", "climate.radiator", temperature=5, hvac_mode="off"
    )
    assert (trv.params["workMode"], trv.params["ecoTargetTemp"]) == ("1", 50)
    await wait_for(lambda: state_of(hass, "climate.radiator") == "off")

    await call(hass, "number", "set_value", "number.radiator_temperature_correction", value=-1.5)
    assert trv.params["tempCorrection"] == -15
    await call(hass, "switch", "turn_on", "switch.radiator_child_lock")
    assert trv.params["childLock"] is True
    await trv.report({"openPercent": 35, "temperature": "201"})
    await wait_for(lambda: state_of(hass, "sensor.radiator_valve_opening") == "35.0")
    assert state_of(hass, "sensor.radiator_temperature") == "20.1"


async def test_gtta_thermostat(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """GTTA127: off/heat/auto by switch and workState, presets by workMode, the target."""
    gtta = await add(cloud, "1000004011", 127, "Floor")
    await setup_entry(hass, config_entry)
    assert state_of(hass, "climate.floor") == "off"
    await call(hass, "climate", "set_hvac_mode", "climate.floor", hvac_mode="auto")
    assert (gtta.params["switch"], gtta.params["workState"]) == ("on", 2)
    await call(hass, "climate", "set_temperature", "climate.floor", temperature=23.5)
    assert gtta.params["targetTemp"] == 23.5
    await call(hass, "climate", "set_preset_mode", "climate.floor", preset_mode="economical")
    assert gtta.params["workMode"] == 3
    assert attr(hass, "climate.floor", "preset_mode") == "economical"
    await call(hass, "climate", "turn_off", "climate.floor")
    assert gtta.params["switch"] == "off"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_nspanel_thermostat(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """NSPanel: cool (etype cold) or heat, auto hides the target; current temp is corrected."""
    panel = await add(
        cloud,
        "1000004021",
        133,
        "Panel",
        params={"HMI_ATCDevice": {"ctype": "device", "etype": "cold"}, "temperature": 25},
    )
    await setup_entry(hass, config_entry)
    assert attr(hass, "climate.panel_thermostat", "hvac_modes") == ["off", "cool", "auto"]
    assert attr(hass, "climate.panel_thermostat", "current_temperature") == 24.5
    await call(hass, "climate", "set_hvac_mode", "climate.panel_thermostat", hvac_mode="cool")
    assert (panel.params["ATCEnable"], panel.params["ATCMode"]) == (1, 0)
    await call(hass, "climate", "set_temperature", "climate.panel_thermostat", temperature=19.5)
    assert panel.params["ATCExpect0"] == 19.5
    assert attr(hass, "climate.panel_thermostat", "temperature") == 19.5
    await call(hass, "climate", "set_hvac_mode", "climate.panel_thermostat", hvac_mode="auto")
    assert panel.params["ATCMode"] == 1
    assert attr(hass, "climate.panel_thermostat", "temperature") is None
    await call(hass, "climate", "turn_off", "climate.panel_thermostat")
    assert panel.params["ATCEnable"] == 0
    assert state_of(hass, "sensor.panel_outdoor_temperature") == "9.0"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_th_auto_modes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """TH10/16 and TH Elite: heat/cool/dry as threshold rules; off leaves auto control."""
    th = await add(cloud, "1000004031", 15, "Terrarium")
    elite = await add(cloud, "1000004032", 181, "Boiler")
    await setup_entry(hass, config_entry)
    assert state_of(hass, "climate.terrarium_thermostat") == "off"
    await call(
        hass,
        "climate",
        "set_temperature",
        "climate.terrarium_thermostat",
        target_temp_low=24,
        target_temp_high=26,
        hvac_mode="heat",
    )
    assert (th.params["deviceType"], th.params["mainSwitch"]) == ("temperature", "on")
    assert th.params["targets"] == [
        {"targetHigh": "26", "reaction": {"switch": "off"}},
        {"targetLow": "24", "reaction": {"switch": "on"}},
    ]
    assert state_of(hass, "climate.terrarium_thermostat") == "heat"
    await th.report({"switch": "on"})
    await wait_for(lambda: attr(hass, "climate.terrarium_thermostat", "hvac_action") == "heating")
    await call(hass, "climate", "set_hvac_mode", "climate.terrarium_thermostat", hvac_mode="cool")
    assert th.params["targets"][0]["reaction"] == {"switch": "on"}
    # A manual switch command leaves the auto mode (TH main switch command).
    await call(hass, "switch", "turn_off", "switch.terrarium")
    assert (th.params["deviceType"], th.params["mainSwitch"]) == ("normal", "off")
    assert state_of(hass, "climate.terrarium_thermostat") == "off"
    with pytest.raises(ServiceValidationError):
        await call(
            hass,
            "climate",
            "set_temperature",
            "climate.terrarium_thermostat",
            target_temp_low=26,
            target_temp_high=24,
        )

    assert state_of(hass, "climate.boiler_thermostat") == "off"
    assert attr(hass, "climate.boiler_thermostat", "target_temp_low") == 20.0
    await call(hass, "climate", "set_hvac_mode", "climate.boiler_thermostat", hvac_mode="heat")
    assert elite.params["autoControlEnabled"] == 1
    await call(
        hass,
        "climate",
        "set_temperature",
        "climate.boiler_thermostat",
        target_temp_low=55,
        target_temp_high=60.5,
    )
    rule = elite.params["autoControl"][0]
    assert rule["targets"] == [
        {"high": "60.5", "reaction": {"switch": "off"}},
        {"low": "55.0", "reaction": {"switch": "on"}},
    ]
    assert rule["effTime"]["spanType"] == "any"
    assert state_of(hass, "climate.boiler_thermostat") == "heat"
    assert state_of(hass, "switch.boiler_auto_mode") == "on"
    await call(hass, "climate", "set_hvac_mode", "climate.boiler_thermostat", hvac_mode="off")
    assert elite.params["autoControlEnabled"] == 0
