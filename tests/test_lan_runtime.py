"""LAN control in Home Assistant against the simulator: discovery, commands, fallback, outages.

Real sockets everywhere (device HTTP servers, the cloud); announcements reach the integration
through the discovery's seam (`feed_lan`); nothing of the integration is replaced.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ewelink.const import (
    CONF_HOMES,
    CONF_LAN_MODE,
    DOMAIN,
    LAN_MODE_AUTO,
    LAN_MODE_CLOUD,
    LAN_MODE_LOCAL,
    LAN_MODES,
)
from custom_components.ewelink.coordinator import CONNECTION_GRACE
from custom_components.ewelink.lan import DEFAULT_TIMEOUT, LAN_ONLY_TIMEOUT
from custom_components.ewelink.lan_arbiter import ECHO_WINDOW
from custom_components.ewelink.lan_hub import async_get_hub
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry
from tests.lan_helpers import add_entry, feed_lan, lan_of, sim_config  # noqa: F401  (fixture)


def changes_of(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Record every state an entity takes from now on."""
    states: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        if event.data["entity_id"] == entity_id and event.data["new_state"] is not None:
            states.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    return states


def push_frame(cloud: Cloud, deviceid: str, params: dict[str, Any]) -> None:
    """Send an `update` push for a device to the owner's app sockets (a late cloud copy)."""
    frame = json.dumps(
        {"action": "update", "deviceid": deviceid, "apikey": cloud.owner.apikey, "params": params}
    )
    for conn in cloud.sim.hub.by_apikey[cloud.owner.apikey]:
        conn.send(frame)


async def turn(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    """Switch an entity and wait for the call."""
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {"entity_id": entity_id}, blocking=True
    )


async def lose_cloud(hass: HomeAssistant, cloud: Cloud, entry: MockConfigEntry) -> None:
    """Stop the simulated cloud and let the connection grace end."""
    await cloud.sim.stop_cloud()
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: not coordinator.connected)
    async_fire_time_changed(hass, dt_util.utcnow() + CONNECTION_GRACE + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert not coordinator.live


async def test_discovered_device_is_local_and_commanded_over_lan(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Announcements make the device local; commands go over the LAN, encrypted, decrypted."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a01", uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a01"))
    assert lan.path("1000000a01") == "both"
    assert lan.timeout == DEFAULT_TIMEOUT

    device = cloud.sim.lan.device("1000000a01")
    await turn(hass, "switch.lamp", True)
    assert lamp.params["switch"] == "on"
    request = device.requests[-1]
    assert (request.command, request.data, request.encrypted) == ("switch", {"switch": "on"}, True)
    assert state_of(hass, "switch.lamp") == "on"
    assert lan.stats["commands"] == 1

    # The device's own change arrives over the LAN first (decrypted with the thing list's key).
    applied = lan.stats["applied"]
    await lamp.report({"switch": "off"})
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")
    await wait_for(lambda: lan.stats["applied"] > applied)


async def test_cloud_down_lan_devices_stay_available_and_controllable(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Without the cloud, LAN devices stay available, report and obey; cloud-only ones do not."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a02", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000a03", uiid=22, name="Bulb")  # no LAN
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a02"))
    assert hass.states.get("light.bulb") is not None

    await lose_cloud(hass, cloud, config_entry)
    assert state_of(hass, "light.bulb") == STATE_UNAVAILABLE
    assert state_of(hass, "switch.lamp") == "off"
    assert lan.path("1000000a02") == "lan"

    await lamp.report({"switch": "on"})  # only the LAN can tell
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    await turn(hass, "switch.lamp", False)
    assert lamp.params["switch"] == "off"
    coordinator = config_entry.runtime_data.coordinator
    with pytest.raises(HomeAssistantError):
        await coordinator.async_send("1000000a03", {"switch": "on"})

    # The cloud comes back; a read while the device is still away from it rolls nothing back.
    cloud.sim.start_cloud()
    await wait_for(lambda: coordinator.connected, timeout=30)
    await wait_for(lambda: state_of(hass, "light.bulb") not in (None, STATE_UNAVAILABLE))
    assert state_of(hass, "switch.lamp") == "off"


async def test_lan_failure_falls_back_to_the_cloud(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device refusing (400) or not answering on the LAN is switched over the cloud."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a04", uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a04"))
    device = cloud.sim.lan.device("1000000a04")

    device.faults.update({"error": 400})
    await turn(hass, "switch.lamp", True)
    assert lamp.params["switch"] == "on"
    assert device.requests[-1].error == 400
    assert lan.registry.is_local("1000000a04")  # it answered: still local

    device.faults.update({"error": None, "no_answer": True})
    loop = asyncio.get_running_loop()
    started = loop.time()
    await turn(hass, "switch.lamp", False)
    assert lamp.params["switch"] == "off"
    assert loop.time() - started >= DEFAULT_TIMEOUT  # waited for the LAN, then the cloud
    assert lan.stats["command_failures"] == 2
    peer = lan.registry.peer("1000000a04")
    assert peer is not None
    assert peer.last_error == "LanTimeoutError"
    assert lan.registry.is_local("1000000a04")  # the change it announced proves it is alive


async def test_cloud_only_mode_never_uses_the_lan(
    hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any]
) -> None:
    """Cloud only: no LAN control, no browsing, commands over the cloud."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a05", uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    entry = add_entry(hass, cloud, entry_data, LAN_MODE_CLOUD)
    await setup_entry(hass, entry)
    assert entry.runtime_data.lan is None
    assert async_get_hub(hass).listening == 0
    await turn(hass, "switch.lamp", True)
    assert lamp.params["switch"] == "on"
    assert not cloud.sim.lan.device("1000000a05").requests


async def test_lan_only_mode(hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any]) -> None:
    """LAN only: the cloud gives the device list, nothing else; commands never go there."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a06", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000a07", uiid=22, name="Bulb")  # no LAN
    feed_lan(hass, cloud.sim)
    entry = add_entry(hass, cloud, entry_data, LAN_MODE_LOCAL)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    lan = lan_of(entry)
    assert lan.timeout == LAN_ONLY_TIMEOUT
    await wait_for(lambda: lan.registry.is_local("1000000a06"))
    assert cloud.sim.app_sessions(cloud.owner) == 0  # no long connection
    assert state_of(hass, "light.bulb") == STATE_UNAVAILABLE
    assert state_of(hass, "switch.lamp") == "off"

    await turn(hass, "switch.lamp", True)
    assert lamp.params["switch"] == "on"

    device = cloud.sim.lan.device("1000000a06")
    device.faults.update({"error": 422})
    with pytest.raises(HomeAssistantError) as refused:
        await turn(hass, "switch.lamp", False)
    assert refused.value.translation_key == "lan_rejected"
    assert lamp.params["switch"] == "on"

    # Params devices do not take over the LAN (thermostat targets...) are refused at once.
    coordinator = entry.runtime_data.coordinator
    requests = len(device.requests)
    with pytest.raises(HomeAssistantError) as cloud_only:
        await coordinator.async_send("1000000a06", {"targets": [{"targetHigh": "30"}]})
    assert len(device.requests) == requests
    assert cloud_only.value.translation_key == "lan_cloud_only"
    with pytest.raises(HomeAssistantError) as unreachable:
        await coordinator.async_send("1000000a07", {"switch": "on"})
    assert unreachable.value.translation_key == "lan_unreachable"


async def test_restart_without_internet_comes_up_from_the_cache(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """HA restarts with the cloud unreachable: the cached devices come up and work over LAN."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000a09", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000a10", uiid=22, name="Bulb")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    await wait_for(lambda: lan_of(config_entry).registry.is_local("1000000a09"))
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()

    await cloud.sim.stop_cloud()
    await lamp.report({"switch": "on"})  # while Home Assistant was down
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # no reauth
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a09"))
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")

    async_fire_time_changed(hass, dt_util.utcnow() + CONNECTION_GRACE + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert state_of(hass, "light.bulb") == STATE_UNAVAILABLE
    await turn(hass, "switch.lamp", False)
    assert lamp.params["switch"] == "off"
    assert state_of(hass, "switch.lamp") == "off"
    assert config_entry.state is ConfigEntryState.LOADED


async def test_late_cloud_copy_does_not_roll_the_state_back(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """On, then off over the LAN; the cloud's late copy of "on" changes nothing (both ways)."""
    await cloud.sim.add_device(cloud.owner, "1000000a11", uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a11"))
    device = cloud.sim.lan.device("1000000a11")
    states = changes_of(hass, "switch.lamp")

    await turn(hass, "switch.lamp", True)
    await wait_for(lambda: device.seq >= 2)
    await turn(hass, "switch.lamp", False)
    await wait_for(lambda: device.seq >= 3)
    await hass.async_block_till_done()
    push_frame(cloud, "1000000a11", {"switch": "on"})  # the late copy of the first change
    push_frame(cloud, "1000000a11", {"switch": "off"})
    await asyncio.sleep(0.3)
    await hass.async_block_till_done()
    assert states == ["on", "off"]

    # Past the window the same value is a real change again; and a LAN record (newer `seq`)
    # is the device's state now even when the cloud said the same a moment before: it is
    # never taken for a late copy (the LAN answers in milliseconds, in the device's order).
    await asyncio.sleep(ECHO_WINDOW + 0.2)
    coordinator = config_entry.runtime_data.coordinator
    push_frame(cloud, "1000000a11", {"switch": "on"})
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    push_frame(cloud, "1000000a11", {"switch": "off"})
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")
    device.seq += 1
    cloud.sim.lan.publish(device.build({"switch": "on"}))
    await wait_for(lambda: lan.registry.tracker.last_seq("1000000a11") == device.seq)
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    assert coordinator.data["1000000a11"].params["switch"] == "on"
    assert states == ["on", "off", "on", "off", "on"]


async def test_lan_button_press_fires_once(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A press reaches HA over the LAN and the cloud: one event; replays fire nothing."""
    m5 = await cloud.sim.add_device(cloud.owner, "1000000a12", uiid=162, name="M5")
    device = cloud.sim.lan.device("1000000a12")
    await m5.report({"localKeyPass": {"outlet": 0, "key": 1}, "triggerType": 11})  # before HA
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a12"))
    entity_id = entity_registry.async_get_entity_id("event", DOMAIN, "1000000a12_button_1")
    assert entity_id is not None
    events = changes_of(hass, entity_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "unknown"  # the first record heard is no press

    await m5.report({"localKeyPass": {"outlet": 0, "key": 0}, "triggerType": 11})
    await wait_for(lambda: len(events) == 1)
    await asyncio.sleep(0.3)  # the cloud's copy has arrived by now
    await hass.async_block_till_done()
    assert len(events) == 1
    assert hass.states.get(entity_id).attributes["event_type"] == "single"

    device.faults.update({"duplicate_txt": True})
    replays = lan.stats["replays"]
    await m5.report({"localKeyPass": {"outlet": 0, "key": 2}, "triggerType": 11})
    await wait_for(lambda: len(events) == 2)
    await wait_for(lambda: lan.stats["replays"] > replays)
    await asyncio.sleep(0.3)
    await hass.async_block_till_done()
    assert len(events) == 2
    assert hass.states.get(entity_id).attributes["event_type"] == "hold"


async def test_first_record_does_not_overrule_a_current_cloud_state(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A browser's first answer may be an old record: while the cloud is current, it only adds."""
    await cloud.sim.add_device(cloud.owner, "1000000a13", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    await wait_for(lambda: not coordinator.stale)
    device = cloud.sim.lan.device("1000000a13")
    old = device.build({"switch": "on", "startup": "stay"})  # a record from a cache
    hub = async_get_hub(hass)
    hub.discovery.feed(old.name, old.addresses, old.port, old.properties)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a13"))
    params = coordinator.data["1000000a13"].params
    assert params["switch"] == "off"  # the cloud's current state stays
    assert state_of(hass, "switch.lamp") == "off"

    # Once the cloud is away, the LAN's records are all there is: they apply in full (the same
    # record, the first one the reloaded entry hears).
    await lose_cloud(hass, cloud, config_entry)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    hub.discovery.feed(old.name, old.addresses, old.port, old.properties)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")


async def test_options_switch_the_connection_mode(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """The options offer the mode; choosing LAN only reloads the entry without the cloud."""
    await cloud.sim.add_device(cloud.owner, "1000000a14", uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["data_schema"].schema[CONF_LAN_MODE].config["options"] == list(LAN_MODES)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LAN_MODE: LAN_MODE_LOCAL}
    )
    assert result["data"] == {CONF_HOMES: [], CONF_LAN_MODE: LAN_MODE_LOCAL}
    await hass.async_block_till_done()
    await wait_for(lambda: cloud.sim.app_sessions(cloud.owner) == 0)
    lan = lan_of(config_entry)
    assert lan.mode == LAN_MODE_LOCAL
    await wait_for(lambda: lan.registry.is_local("1000000a14"))
    await turn(hass, "switch.lamp", True)
    assert cloud.sim.lan.device("1000000a14").requests[-1].data == {"switch": "on"}

    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LAN_MODE: LAN_MODE_AUTO}
    )
    assert result["data"] == {CONF_HOMES: []}  # the default is not stored
    await hass.async_block_till_done()
    await wait_for(lambda: config_entry.runtime_data.coordinator.connected)


async def test_ifan_is_translated_to_the_lan_commands(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """iFan03 (`fan_light`): fan speed and light go as `fan`/`speed` and `light` over the LAN."""
    ifan = await cloud.sim.add_device(cloud.owner, "1000000a15", uiid=34, name="Ceiling")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000a15"))
    device = cloud.sim.lan.device("1000000a15")
    assert device.local_type == "fan_light"

    await hass.services.async_call(
        "fan", "set_percentage", {"entity_id": "fan.ceiling", "percentage": 66}, blocking=True
    )
    assert (device.requests[-1].command, device.requests[-1].data) == (
        "fan",
        {"fan": "on", "speed": 2},
    )
    relays = {item["outlet"]: item["switch"] for item in ifan.params["switches"]}
    assert [relays[o] for o in (1, 2, 3)] == ["on", "on", "off"]
    await wait_for(lambda: hass.states.get("fan.ceiling").attributes["percentage"] == 66)

    light = next(
        entity_id
        for entity_id in hass.states.async_entity_ids("light")
        if entity_id.startswith("light.ceiling")
    )
    await hass.services.async_call("light", "turn_on", {"entity_id": light}, blocking=True)
    assert (device.requests[-1].command, device.requests[-1].data) == ("light", {"light": "on"})
    await wait_for(lambda: state_of(hass, light) == "on")
