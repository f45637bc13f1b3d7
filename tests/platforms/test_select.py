"""Selects over the simulator: the power-on state per channel (full list) and single."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.devices import channel_state
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


async def test_power_on_state(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """The full `configure` list goes back with one channel changed; names follow the app."""
    dual = await add(cloud, "1000008001", 126, "Dual", tags={"ck_channel_name": {"1": "Pump"}})
    mini = await add(cloud, "1000008002", 138, "Mini")
    pow2 = await add(cloud, "1000008003", 32, "Washer")
    await setup_entry(hass, config_entry)
    assert attr(hass, "select.dual_power_on_state_1", "options") == ["on", "off", "stay"]
    assert state_of(hass, "select.dual_power_on_state_1") == "off"

    await call(hass, "select", "select_option", "select.dual_pump_power_on_state", option="stay")
    assert [item["startup"] for item in dual.params["configure"]] == ["off", "stay"]
    assert state_of(hass, "select.dual_pump_power_on_state") == "stay"
    assert state_of(hass, "select.dual_power_on_state_1") == "off"
    await dual.report({"configure": [{"outlet": 0, "startup": "on"}]})
    await wait_for(lambda: state_of(hass, "select.dual_power_on_state_1") == "on")

    # A lone channel's select is the device's; the MINI R4 reports enableDelay and width.
    await call(hass, "select", "select_option", "select.mini_power_on_state", option="on")
    item = channel_state(mini.params, "configure", 0)
    assert item == {"outlet": 0, "startup": "on", "enableDelay": 0, "width": 500}

    await call(hass, "select", "select_option", "select.washer_power_on_state", option="stay")
    assert pow2.params["startup"] == "stay"
