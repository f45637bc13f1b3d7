"""Entity behaviour per device family, against the simulator's virtual devices."""

from __future__ import annotations

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry


async def test_door_and_zigbee_sensors(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Wi-Fi door contacts and zigbee motion/door/water children become binary sensors."""
    door = await cloud.sim.add_device(cloud.owner, "1000000401", uiid=102, name="Front door")
    bridge = await cloud.sim.add_device(cloud.owner, "1000000402", uiid=168, name="Bridge")
    motion = await cloud.sim.add_device(
        cloud.owner, "a480000401", uiid=2026, name="Hall motion", parent=bridge
    )
    await setup_entry(hass, config_entry)
    await door.report({"switch": "on", "battery": 2.9})
    await wait_for(lambda: state_of(hass, "binary_sensor.front_door") == "on")
    assert state_of(hass, "sensor.front_door_battery_voltage") == "2.9"
    await door.report({"switch": "off"})
    await wait_for(lambda: state_of(hass, "binary_sensor.front_door") == "off")
    await motion.report({"motion": 1, "battery": 80})
    await wait_for(lambda: state_of(hass, "binary_sensor.hall_motion") == "on")
    assert state_of(hass, "sensor.hall_motion_battery") == "80.0"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_configuration_switches_and_signal(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """LED (on/off strings) and auto mode (1/0) switches; RSSI; zigbee RSSI 127 is no value."""
    th = await cloud.sim.add_device(cloud.owner, "1000000403", uiid=181, name="Boiler")
    bridge = await cloud.sim.add_device(cloud.owner, "1000000404", uiid=168, name="Bridge")
    plug = await cloud.sim.add_device(
        cloud.owner, "a480000402", uiid=7004, name="Zig plug", parent=bridge
    )
    await setup_entry(hass, config_entry)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.boiler_network_led"}, blocking=True
    )
    assert th.params["sledOnline"] == "off"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.boiler_auto_mode"}, blocking=True
    )
    assert th.params["autoControlEnabled"] == 1
    assert state_of(hass, "switch.boiler_auto_mode") == "on"
    await th.report({"rssi": -71})
    await wait_for(lambda: state_of(hass, "sensor.boiler_signal_strength") == "-71.0")
    await plug.report({"subDevRssi": -60})
    await wait_for(lambda: state_of(hass, "sensor.zig_plug_signal_strength") == "-60.0")
    await plug.report({"subDevRssi": 127})
    await wait_for(lambda: state_of(hass, "sensor.zig_plug_signal_strength") == STATE_UNKNOWN)


async def test_sub_unit_channels_send_the_full_array(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A sub-unit behind a hub (SPM-4Relay) is commanded with every channel's value."""
    main = await cloud.sim.add_device(cloud.owner, "1000000405", uiid=128, name="SPM")
    relay = await cloud.sim.add_device(
        cloud.owner, "a480000403", uiid=130, name="Relay", parent=main
    )
    await setup_entry(hass, config_entry)
    await relay.report({"switches": [{"outlet": 0, "switch": "on"}]})
    await wait_for(lambda: state_of(hass, "switch.relay_channel_1") == "on")
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.relay_channel_3"}, blocking=True
    )
    states = {item["outlet"]: item["switch"] for item in relay.params["switches"]}
    assert states == {0: "on", 1: "off", 2: "on", 3: "off"}


async def test_command_errors_by_cause(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Offline device and lost connection give their own translated messages."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000408", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    await lamp.go_offline()
    await wait_for(lambda: not coordinator.data["1000000408"].online)
    with pytest.raises(HomeAssistantError) as err:
        await coordinator.async_send("1000000408", {"switch": "on"})
    assert err.value.translation_key == "device_offline"
    cloud.sim.faults.refuse_ws_seconds = 5
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    cloud.sim.faults.fail_next("/v2/device/thing/status", 500)  # the REST fallback fails too
    with pytest.raises(HomeAssistantError) as err:
        await coordinator.async_send("1000000408", {"switch": "on"})
    assert err.value.translation_key == "not_connected"
