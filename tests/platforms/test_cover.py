"""Covers over the simulator: inverted positions, command echoes, motor mode."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


async def test_curtains_move_and_report_their_position(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """King Art (setclose 0 = open), op shutter (no position), zigbee curtain (100 = closed)."""
    king = await add(cloud, "1000002001", 11, "Curtain")
    shutter = await add(cloud, "1000002002", 91, "Shutter")
    bridge = await add(cloud, "1000002003", 66, "Bridge")
    zig = await add(cloud, "a480002004", 1514, "Zig curtain", parent=bridge)
    await setup_entry(hass, config_entry)
    assert state_of(hass, "cover.curtain") == "closed"
    assert attr(hass, "cover.curtain", "current_position") == 0

    # The echo {"switch": "on"} is the motion; the end position comes with other keys.
    await call(hass, "cover", "open_cover", "cover.curtain")
    assert king.params["switch"] == "on"
    assert state_of(hass, "cover.curtain") == "opening"
    await wait_for(lambda: state_of(hass, "cover.curtain") == "open")
    assert attr(hass, "cover.curtain", "current_position") == 100
    await call(hass, "cover", "set_cover_position", "cover.curtain", position=30)
    assert king.params["setclose"] == 70
    assert state_of(hass, "cover.curtain") == "closing"
    assert attr(hass, "cover.curtain", "current_position") == 100
    await wait_for(lambda: attr(hass, "cover.curtain", "current_position") == 30)
    assert state_of(hass, "cover.curtain") == "open"
    await king.report({"switch": "off"})  # the remote control closes it
    await wait_for(lambda: state_of(hass, "cover.curtain") == "closing")
    await king.report({"switch": "pause"})
    await wait_for(lambda: state_of(hass, "cover.curtain") == "open")

    assert state_of(hass, "cover.shutter") == "unknown"  # stopped somewhere (op 2)
    await call(hass, "cover", "open_cover", "cover.shutter")
    assert shutter.params["op"] == 1
    assert state_of(hass, "cover.shutter") == "opening"
    await wait_for(lambda: state_of(hass, "cover.shutter") == "open")
    await call(hass, "cover", "close_cover", "cover.shutter")
    await wait_for(lambda: state_of(hass, "cover.shutter") == "closed")
    assert shutter.params["per"] == 0
    assert attr(hass, "cover.shutter", "current_position") is None

    assert attr(hass, "cover.zig_curtain", "current_position") == 0
    await call(hass, "cover", "set_cover_position", "cover.zig_curtain", position=25)
    assert zig.params["openPercent"] == 75
    await wait_for(lambda: attr(hass, "cover.zig_curtain", "current_position") == 25)
    assert zig.params["curPercent"] == 75
    await call(hass, "cover", "stop_cover", "cover.zig_curtain")
    assert zig.params["curtainAction"] == "pause"


async def test_dualr3_motor_mode_is_a_cover_not_two_switches(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """In motor mode the relays drive the motor: a cover; back in switch mode, two switches."""
    dual = await add(cloud, "1000002011", 126, "Blind", params={"workMode": 2, "currLocation": 0})
    await setup_entry(hass, config_entry)
    assert state_of(hass, "cover.blind") == "closed"
    assert state_of(hass, "switch.blind_channel_1") is None

    await call(hass, "cover", "set_cover_position", "cover.blind", position=40)
    assert dual.params["location"] == 40
    await wait_for(lambda: attr(hass, "cover.blind", "current_position") == 40)
    assert dual.params["motorTurn"] == 0
    await call(hass, "cover", "open_cover", "cover.blind")
    assert dual.params["motorTurn"] == 1
    assert state_of(hass, "cover.blind") == "opening"
    await wait_for(lambda: attr(hass, "cover.blind", "current_position") == 100)

    # The user switches the DualR3 back to two relays in the app: the push changes the entities.
    await dual.report({"workMode": 1})
    await wait_for(lambda: state_of(hass, "switch.blind_channel_1") == "off")
    await hass.async_block_till_done()
    assert entity_registry.async_get("cover.blind") is None
    assert state_of(hass, "cover.blind") is None
    assert state_of(hass, "switch.blind_channel_1") == "off"
    await call(hass, "switch", "turn_on", "switch.blind_channel_2")
    assert {"outlet": 1, "switch": "on"} in dual.params["switches"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_t5_curtain(hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry) -> None:
    """The T5-3C curtain: position known once calibrated, percentageControl 0 = open."""
    t5 = await add(cloud, "1000002021", 211, "Panel", params={"percentageControl": 100})
    await setup_entry(hass, config_entry)
    assert attr(hass, "cover.panel_curtain", "current_position") == 0
    await call(hass, "cover", "set_cover_position", "cover.panel_curtain", position=60)
    assert (t5.params["percentageControl"], t5.params["electromotor"]) == (40, 0)
    await wait_for(lambda: t5.params["electromotor"] == 1)  # travel done
    await wait_for(lambda: state_of(hass, "cover.panel_curtain") == "open")
    assert attr(hass, "cover.panel_curtain", "current_position") == 60
    await t5.report({"electromotor": 2})
    await wait_for(lambda: state_of(hass, "cover.panel_curtain") == "closing")
    await t5.report({"calibState": False})
    await wait_for(lambda: attr(hass, "cover.panel_curtain", "current_position") is None)
    await call(hass, "switch", "turn_on", "switch.panel_curtain_mode")
    assert t5.params["workMode"] == 2
