"""Switches over the simulator: booleans, the TH main switch, POWR3, write-only, fallback."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


async def test_switch_forms(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """true/false switches, TH switch leaves auto mode, POWR3 operSide, the panel screen."""
    breaker = await add(cloud, "1000011001", 226, "Breaker")
    bridge = await add(cloud, "1000011002", 66, "Bridge")
    valve = await add(cloud, "a480011003", 7047, "Valve", parent=bridge)
    th = await add(cloud, "1000011004", 15, "Boiler", params={"deviceType": "temperature",
                                                            "mainSwitch": "on"})  # fmt: skip
    meter = await add(cloud, "1000011005", 190, "Meter")
    panel = await add(cloud, "1000011006", 195, "Panel")
    gang = await add(cloud, "a480011007", 4256, "Gang", parent=bridge)
    await setup_entry(hass, config_entry)

    await call(hass, "switch", "turn_on", "switch.breaker")
    assert breaker.params["switch"] is True
    await breaker.report({"switch": False})
    await wait_for(lambda: state_of(hass, "switch.breaker") == "off")
    await call(hass, "switch", "turn_on", "switch.valve")
    assert valve.params["switch_00"] is True

    await call(hass, "switch", "turn_on", "switch.boiler")
    assert (th.params["switch"], th.params["mainSwitch"], th.params["deviceType"]) == (
        "on",
        "on",
        "normal",
    )
    await call(hass, "switch", "turn_on", "switch.meter")
    assert meter.params["operSide"] == 1
    assert state_of(hass, "switch.meter") == "on"

    assert state_of(hass, "switch.panel_screen") == "unknown"
    assert attr(hass, "switch.panel_screen", "assumed_state") is True
    await call(hass, "switch", "turn_off", "switch.panel_screen")
    assert panel.params["openLED"] is False
    assert state_of(hass, "switch.panel_screen") == "off"

    # Zigbee multi-gang switches get every channel's value (SL#714).
    await gang.report({"switches": [{"outlet": 3, "switch": "on"}]})
    await wait_for(lambda: state_of(hass, "switch.gang_channel_4") == "on")
    await call(hass, "switch", "turn_on", "switch.gang_channel_1")
    assert [item["switch"] for item in gang.params["switches"]] == ["on", "off", "off", "on"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_unknown_uiids_get_only_what_they_report(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device type the integration does not know gets the entities of its reported params.

    The simulator's zigbee plug (UIID 1009) reports only `switch`: no LED, inching or signal
    entities stuck at unknown. A GSM plug (UIID 24) reports the whole UIID 1 set.
    """
    bridge = await add(cloud, "1000011011", 66, "Bridge")
    await add(cloud, "a480011012", 1009, "Zig plug", parent=bridge)
    gsm = await add(cloud, "1000011013", 24, "Gsm plug")
    await setup_entry(hass, config_entry)
    entities = {s.entity_id for s in hass.states.async_all() if "zig_plug" in s.entity_id}
    assert entities == {"switch.zig_plug"}
    gsm_entities = {s.entity_id for s in hass.states.async_all() if "gsm_plug" in s.entity_id}
    assert gsm_entities == {
        "switch.gsm_plug",
        "switch.gsm_plug_network_led",
        "switch.gsm_plug_inching",
        "number.gsm_plug_inching_duration",
        "sensor.gsm_plug_signal_strength",
    }
    await call(hass, "switch", "turn_on", "switch.zig_plug")
    await call(hass, "switch", "turn_on", "switch.gsm_plug_inching")
    assert gsm.params["pulse"] == "on"
    assert state_of(hass, "switch.gsm_plug_network_led") == "on"
