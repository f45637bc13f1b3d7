"""Buttons over the simulator: restarts, the PC switch's shutdown, T5 sounds."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_buttons(hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry) -> None:
    """A press sends its write-only command; the device acts on it."""
    panel = await add(cloud, "1000007001", 195, "Panel")
    pc = await add(cloud, "1000007002", 225, "Computer")
    t5 = await add(cloud, "1000007003", 209, "Wall")
    await setup_entry(hass, config_entry)
    assert attr(hass, "button.panel_restart", "device_class") == "restart"

    await call(hass, "button", "press", "button.panel_restart")
    assert panel.actions == [{"reboot": True}]

    await call(hass, "switch", "turn_on", "switch.computer")
    assert pc.params["switch"] is True
    await call(hass, "button", "press", "button.computer_shut_down")
    assert pc.actions == [{"forceShutdown": True}]
    await wait_for(lambda: state_of(hass, "switch.computer") == "off")  # the PC turned off
    await call(hass, "button", "press", "button.computer_restart")
    assert pc.actions[-1] == {"restart": True}

    await call(hass, "button", "press", "button.wall_doorbell_sound")
    await call(hass, "button", "press", "button.wall_alarm_sound")
    assert t5.actions == [{"soundAction": 2}, {"soundAction": 1}]
