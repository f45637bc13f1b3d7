"""Every LAN fault of the simulator, as Home Assistant lives through it (lan-protocol.md §9)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ewelink.lan import LanClient, LanTarget
from custom_components.ewelink.lan_control import PING_TICK, LanControl
from custom_components.ewelink.lan_hub import async_get_hub
from simulator import LanDevice, VirtualDevice
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry
from tests.lan_helpers import feed_lan, lan_of, sim_config  # noqa: F401  (fixture)
from tests.test_lan_runtime import changes_of, lose_cloud, turn


async def local_lamp(
    hass: HomeAssistant, cloud: Cloud, entry: MockConfigEntry, deviceid: str
) -> tuple[VirtualDevice, LanDevice, LanControl]:
    """Add a plug, set the entry up with the LAN fed, wait until the plug is local."""
    lamp = await cloud.sim.add_device(cloud.owner, deviceid, uiid=1, name="Lamp")
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, entry)
    lan = lan_of(entry)
    await wait_for(lambda: lan.registry.is_local(deviceid))
    return lamp, cloud.sim.lan.device(deviceid), lan


async def tick(hass: HomeAssistant, lan: LanControl, pings: int) -> None:
    """Let the ping timer run once and wait until `pings` pings were sent in all."""
    async_fire_time_changed(hass, dt_util.utcnow() + PING_TICK + timedelta(seconds=1))
    await wait_for(lambda: lan.stats["pings"] >= pings)
    await wait_for(lambda: lan._ping_task is None or lan._ping_task.done())


async def test_stale_txt_never_rolls_back(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Every record is followed by the previous one (lower seq, old IV): it is ignored."""
    lamp, device, lan = await local_lamp(hass, cloud, config_entry, "1000000b01")
    device.faults.update({"stale_txt": True})
    states = changes_of(hass, "switch.lamp")
    await cloud.sim.stop_cloud()  # only the LAN reports: nothing can hide a rollback
    for count, value in enumerate(("on", "off", "on"), 1):
        await lamp.report({"switch": value})
        await wait_for(lambda n=count: lan.stats["replays"] >= n)
        await hass.async_block_till_done()
    assert states == ["on", "off", "on"]
    assert state_of(hass, "switch.lamp") == "on"


async def test_duplicate_txt_is_applied_once(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Each record arrives twice (same IV): the second is a replay."""
    lamp, device, lan = await local_lamp(hass, cloud, config_entry, "1000000b02")
    device.faults.update({"duplicate_txt": True})
    applied, replays = lan.stats["applied"], lan.stats["replays"]
    await lamp.report({"switch": "on"})
    await wait_for(lambda: lan.stats["replays"] == replays + 1)
    assert lan.stats["applied"] == applied + 1
    assert state_of(hass, "switch.lamp") == "on"


async def test_no_a_record_uses_the_last_address(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Records without an address keep the last one; a device never heard with one is not local."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000b03", uiid=1, name="Lamp")
    other = await cloud.sim.add_device(cloud.owner, "1000000b04", uiid=1, name="Other")
    hidden = cloud.sim.lan.device("1000000b04")
    hidden.faults.update({"no_a_record": True})
    hidden.announce_full()  # the only record a browser has of it
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000b03"))
    await wait_for(lambda: lan.registry.peer("1000000b04") is not None)
    assert not lan.registry.is_local("1000000b04")
    await turn(hass, "switch.other", True)
    assert other.params["switch"] == "on"
    assert not hidden.requests  # over the cloud

    device = cloud.sim.lan.device("1000000b03")
    device.faults.update({"no_a_record": True})
    hub = async_get_hub(hass)
    fallbacks = hub.discovery.stats["address_fallbacks"]
    await lamp.report({"switch": "on"})
    await wait_for(lambda: hub.discovery.stats["address_fallbacks"] > fallbacks)
    await turn(hass, "switch.lamp", False)
    assert device.requests[-1].data == {"switch": "off"}  # still over the LAN


async def test_silent_device_is_pinged_then_lost(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device that stops announcing stays local while it answers pings; three failures end it."""
    lamp, device, lan = await local_lamp(hass, cloud, config_entry, "1000000b05")
    await lose_cloud(hass, cloud, config_entry)
    device.faults.update({"stop_announcing": True, "get_state": 422})  # no getState either
    lan.ping_after = 0.0
    lan.offline_after = 0.0
    await tick(hass, lan, 1)
    await tick(hass, lan, 2)
    assert lan.registry.is_local("1000000b05")
    assert state_of(hass, "switch.lamp") == "off"

    lamp.lan.power(lamp, False)  # the device's HTTP server goes away
    await wait_for(lambda: not device.running)
    for count in (3, 4, 5):
        await tick(hass, lan, count)
    assert not lan.registry.is_local("1000000b05")
    assert state_of(hass, "switch.lamp") == STATE_UNAVAILABLE
    assert lan.stats["ping_failures"] == 3

    lamp.lan.power(lamp, True)  # back: it announces (seq restarts), or answers the next ping
    await wait_for(lambda: lan.registry.is_local("1000000b05"), timeout=15)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")


async def test_ping_reads_the_state_of_a_quiet_device(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A ping answered with the state (getState) brings what the device did not announce."""
    lamp, device, lan = await local_lamp(hass, cloud, config_entry, "1000000b06")
    await lose_cloud(hass, cloud, config_entry)
    device.faults.update({"stop_announcing": True})
    await lamp.report({"switch": "on"})
    await asyncio.sleep(0.1)
    assert state_of(hass, "switch.lamp") == "off"
    lan.ping_after = 0.0
    await tick(hass, lan, 1)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")

    device.faults.update({"get_state": "html"})  # some firmware answers with a page: alive
    await tick(hass, lan, 2)
    assert lan.registry.is_local("1000000b06")
    assert lan.stats["ping_failures"] == 0


@pytest.mark.parametrize(("knob", "value"), [("error", 401), ("error", 422), ("http_status", 500)])
async def test_refused_lan_commands_go_to_the_cloud(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    knob: str,
    value: int,
) -> None:
    """401 (expects encryption), 422 (not supported), HTTP errors: the cloud delivers."""
    lamp, device, lan = await local_lamp(hass, cloud, config_entry, "1000000b07")
    device.faults.update({knob: value})
    await turn(hass, "switch.lamp", True)
    assert lamp.params["switch"] == "on"
    assert device.requests[-1].error == value
    assert lan.registry.is_local("1000000b07")


async def test_second_concurrent_connection_is_reset_and_retried(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Another client keeps the device busy: HA's connection is reset, retried, delivered."""
    lamp, device, _ = await local_lamp(hass, cloud, config_entry, "1000000b08")
    device.faults.update({"delay": 0.4})
    client = async_get_hub(hass).client
    retries = client.stats["retries"]
    async with aiohttp.ClientSession() as http:
        other = LanClient(http, timeout=3.0)
        busy = asyncio.create_task(
            other.get_state(LanTarget(device.deviceid, device.host, device.port, device.devicekey))
        )
        await wait_for(lambda: device._busy)  # the simulated device is serving the other client
        await turn(hass, "switch.lamp", True)
        await busy
    assert lamp.params["switch"] == "on"
    assert client.stats["retries"] > retries
    assert device.requests[-1].data == {"switch": "on"}


async def test_odd_encodings_are_read(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Double padding (GTWS78) decrypts; empty data only proves the device is alive."""
    lamp, device, lan = await local_lamp(hass, cloud, config_entry, "1000000b09")
    await cloud.sim.stop_cloud()
    device.faults.update({"double_padding": True})
    await lamp.report({"switch": "on"})
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    device.faults.update({"double_padding": False, "empty_data": True})
    announcements = lan.stats["announcements"]
    await lamp.report({"switch": "off"})
    await wait_for(lambda: lan.stats["announcements"] > announcements)
    await hass.async_block_till_done()
    assert state_of(hass, "switch.lamp") == "on"
    assert lan.registry.is_local("1000000b09")
