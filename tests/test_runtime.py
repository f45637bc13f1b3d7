"""The running integration against the simulator: pushes, commands, availability, recovery."""

from __future__ import annotations

import copy
from datetime import timedelta
import itertools
import json
import logging
import time
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ewelink import async_remove_config_entry_device
from custom_components.ewelink.api import rate_limiter
from custom_components.ewelink.const import (
    CONF_ACCOUNT,
    CONF_TOKEN,
    CONF_USER_APIKEY,
    DOMAIN,
    THING_LIST_INTERVAL,
)
from custom_components.ewelink.coolkit import CoolkitClient, Servers, Thing
from custom_components.ewelink.coordinator import (
    CONNECTION_GRACE,
    QUERY_SECONDS,
    PathUnavailableError,
)
from tests.common import APP_ID, APP_SECRET, PASSWORD, Cloud, state_of, wait_for
from tests.conftest import setup_entry


@callback
def every_event(data: Any) -> bool:
    """Let every event through (state_reported listeners need a filter)."""
    return True


def record_writes(hass: HomeAssistant, unchanged: list[str] | None = None) -> list[str]:
    """Record the entity id of every state written from now on (changed or reported).

    Writes that did not change the state are also added to `unchanged`.
    """
    written: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])

    @callback
    def record_unchanged(event: Event[Any]) -> None:
        record(event)
        if unchanged is not None:
            unchanged.append(event.data["entity_id"])

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    hass.bus.async_listen(EVENT_STATE_REPORTED, record_unchanged, event_filter=every_event)
    return written


async def test_pushes_update_states(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Device reports reach the states; partial channel pushes merge by outlet."""
    plug = await cloud.sim.add_device(cloud.owner, "1000000101", uiid=4, name="Strip")
    meter = await cloud.sim.add_device(cloud.owner, "1000000102", uiid=190, name="Meter")
    await setup_entry(hass, config_entry)

    await plug.report({"switches": [{"outlet": 2, "switch": "on"}]})
    await wait_for(lambda: state_of(hass, "switch.strip_channel_3") == "on")
    assert state_of(hass, "switch.strip_channel_1") == "off"

    await meter.report({"power": 123456, "voltage": 23012, "current": 537, "dayKwh": 150})
    await wait_for(lambda: state_of(hass, "sensor.meter_power") == "1234.56")
    assert state_of(hass, "sensor.meter_voltage") == "230.12"
    assert state_of(hass, "sensor.meter_current") == "5.37"
    assert state_of(hass, "sensor.meter_energy_today") == "1.5"


async def test_temperature_placeholders_are_unknown(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """TH sensors: "unavailable" and 0 are unknown; real readings pass."""
    th = await cloud.sim.add_device(cloud.owner, "1000000103", uiid=15, name="Greenhouse")
    await setup_entry(hass, config_entry)
    await th.report({"currentTemperature": "21.5", "currentHumidity": "55"})
    await wait_for(lambda: state_of(hass, "sensor.greenhouse_temperature") == "21.5")
    await wait_for(lambda: state_of(hass, "sensor.greenhouse_humidity") == "55.0")
    await th.report({"currentTemperature": "unavailable", "currentHumidity": "0"})
    await wait_for(lambda: state_of(hass, "sensor.greenhouse_temperature") == "unknown")
    await wait_for(lambda: state_of(hass, "sensor.greenhouse_humidity") == "unknown")


async def test_commands_reach_the_device(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Turning switches on and off changes the virtual device; the ack updates the state."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000104", uiid=1, name="Lamp")
    duo = await cloud.sim.add_device(cloud.owner, "1000000105", uiid=2, name="Duo")
    await setup_entry(hass, config_entry)

    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    assert lamp.params["switch"] == "on"
    assert state_of(hass, "switch.lamp") == "on"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.duo_channel_2"}, blocking=True
    )
    assert {"outlet": 1, "switch": "on"} in duo.params["switches"]
    assert state_of(hass, "switch.duo_channel_2") == "on"
    assert state_of(hass, "switch.duo_channel_1") == "off"
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.lamp"}, blocking=True
    )
    assert lamp.params["switch"] == "off"


async def test_shared_device_commands_use_the_owner_apikey(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device shared by a friend is controlled with the owner's apikey and ours as selfApikey."""
    shared = await cloud.sim.add_device(
        cloud.friend, "1000000106", uiid=1, name="Friend lamp", shared_with=[cloud.owner]
    )
    await setup_entry(hass, config_entry)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.friend_lamp"}, blocking=True
    )
    assert shared.params["switch"] == "on"


async def test_a_device_of_two_configured_accounts(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    entry_data: dict[str, Any],
    device_registry: dr.DeviceRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A friend's device shared with us, both accounts configured: both entries show it.

    Regression: the second entry's entities had the first one's unique ids ("does not generate
    unique IDs") and were not created.
    """
    shared = await cloud.sim.add_device(
        cloud.friend, "1000000137", uiid=1, name="Friend lamp", shared_with=[cloud.owner]
    )
    await setup_entry(hass, config_entry)
    async with aiohttp.ClientSession() as http:
        client = CoolkitClient(
            http,
            APP_ID,
            APP_SECRET,
            servers=Servers(cloud.sim.base_url),
            rate_limiter=rate_limiter(hass),
        )
        login = await client.login("friend@example.com", "friend-pw", "+49")
    friend_entry = MockConfigEntry(
        domain=DOMAIN,
        title="friend@example.com",
        unique_id=login.user.apikey,
        data={
            **entry_data,
            CONF_ACCOUNT: "friend@example.com",
            CONF_USER_APIKEY: login.user.apikey,
            CONF_TOKEN: login.tokens.as_dict(),
        },
    )
    friend_entry.add_to_hass(hass)
    await setup_entry(hass, friend_entry)
    assert "does not generate unique IDs" not in caplog.text
    ours = ("1000000137", config_entry.entry_id)
    theirs = ("1000000137", friend_entry.entry_id)
    # Each entry has its own device entry (identifiers are per config entry since HA 2026.x).
    for deviceid, entry_id in (ours, theirs):
        assert device_registry.async_get_device_by_identifier((DOMAIN, deviceid), entry_id)
    states = [s for s in hass.states.async_all("switch") if s.name == "Friend lamp"]
    assert len(states) == 2
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": [s.entity_id for s in states]}, blocking=True
    )
    assert shared.params["switch"] == "on"
    await wait_for(lambda: all(state_of(hass, s.entity_id) == "on" for s in states))
    # The friend stops sharing: the device stays, for the friend's entry only.
    record = cloud.sim.store.devices["1000000137"]
    record.shares = [share for share in record.shares if share.account is not cloud.owner]
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not device_registry.async_get_device_by_identifier((DOMAIN, ours[0]), ours[1])
    assert device_registry.async_get_device_by_identifier((DOMAIN, theirs[0]), theirs[1])


async def test_failed_commands_raise_translated_errors(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device that does not answer, or is offline, gives a translated HomeAssistantError."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000107", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    lamp.drop_acks = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True
        )
    assert err.value.translation_key == "device_timeout"
    assert err.value.translation_placeholders == {"device": "Lamp"}
    assert state_of(hass, "switch.lamp") == "off"


async def test_availability_follows_sysmsg(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Offline devices are unavailable; they come back with their state."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000108", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    await lamp.go_offline()
    await wait_for(lambda: state_of(hass, "switch.lamp") == STATE_UNAVAILABLE)
    await lamp.go_online()
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")


async def test_offline_at_setup_and_short_outage(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device offline in the thing list is unavailable; a short outage keeps the last state.

    Regression (#9.6): every entity turned unavailable whenever the socket was down.
    """
    await cloud.sim.add_device(cloud.owner, "1000000109", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000110", uiid=1, name="Cellar", online=False)
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    assert state_of(hass, "switch.cellar") == STATE_UNAVAILABLE
    written: list[str] = []
    unsub = hass.bus.async_listen(
        EVENT_STATE_CHANGED, lambda event: written.append(event.data["new_state"].state)
    )
    cloud.sim.faults.refuse_ws_seconds = 2
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    assert state_of(hass, "switch.lamp") == "off"
    await wait_for(lambda: coordinator.connected, timeout=20)
    await hass.async_block_till_done()
    unsub()
    assert STATE_UNAVAILABLE not in written
    assert state_of(hass, "switch.lamp") == "off"


async def test_long_outage_makes_entities_unavailable(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Past the grace period without a connection, entities turn unavailable until it is back."""
    await cloud.sim.add_device(cloud.owner, "1000000119", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 3600
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    async_fire_time_changed(hass, dt_util.utcnow() + CONNECTION_GRACE + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert state_of(hass, "switch.lamp") == STATE_UNAVAILABLE
    cloud.sim.faults.refuse_ws_seconds = 0
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))  # end the backoff
    await wait_for(lambda: coordinator.connected, timeout=40)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")


async def test_reconnect_resyncs_missed_changes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Changes made while the socket was down are read back after reconnecting (states and
    online flags)."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000111", uiid=1, name="Lamp")
    cellar = await cloud.sim.add_device(cloud.owner, "1000000138", uiid=1, name="Cellar")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 3
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await lamp.report({"switch": "on"})  # nobody is listening: this push is lost
    await cellar.go_offline()  # and so is this sysmsg
    await wait_for(lambda: coordinator.connected, timeout=20)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    await wait_for(lambda: state_of(hass, "switch.cellar") == STATE_UNAVAILABLE)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_each_push_writes_only_what_it_changes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A push writes only the entities of its device that read a param it changes (#13)."""
    devices = [
        await cloud.sim.add_device(cloud.owner, f"10000002{n:02d}", uiid=1, name=f"Lamp {n}")
        for n in range(3)
    ]
    await setup_entry(hass, config_entry)
    written = record_writes(hass)
    await devices[0].report({"switch": "on"})
    await wait_for(lambda: written.count("switch.lamp_0") == 1)
    await devices[0].report({"switch": "on", "rssi": -33})
    await wait_for(lambda: written.count("sensor.lamp_0_signal_strength") == 1)
    await devices[0].report({"sledOnline": "off"})
    await wait_for(lambda: written.count("switch.lamp_0_network_led") == 1)
    await hass.async_block_till_done()
    assert sorted(written) == [
        "sensor.lamp_0_signal_strength",
        "switch.lamp_0",
        "switch.lamp_0_network_led",
    ]


async def test_multi_channel_push_writes_the_changed_channel_only(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A DualR3 repeats every channel in its report: only the toggled channel is written (#13).

    Regression: a relay toggle wrote all 8 entity states of the device, 1 of them changed.
    """
    dual = await cloud.sim.add_device(cloud.owner, "1000000120", uiid=126, name="Dual")
    await setup_entry(hass, config_entry)
    unchanged: list[str] = []
    written = record_writes(hass, unchanged)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.dual_channel_2"}, blocking=True
    )
    await dual.report({"switches": copy.deepcopy(dual.params["switches"])})  # a full repeat
    await hass.async_block_till_done()
    assert written.count("switch.dual_channel_2") == 1
    assert "switch.dual_channel_1" not in written
    assert unchanged == []  # the metering that came along was written only where it changed


async def test_tokens_are_renewed_and_persisted(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """An expired access token is refreshed and the new tokens are written to the entry."""
    await cloud.sim.add_device(cloud.owner, "1000000112", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    before = config_entry.data[CONF_TOKEN]
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True)
    await config_entry.runtime_data.coordinator.async_refresh()
    assert config_entry.runtime_data.coordinator.last_update_success
    after = config_entry.data[CONF_TOKEN]
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]


async def test_refresh_failure_starts_reauth(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """When the refresh token is refused at runtime, the user is asked to sign in again."""
    await cloud.sim.add_device(cloud.owner, "1000000113", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True, refresh=True)
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN), timeout=20)
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert state_of(hass, "switch.lamp") == STATE_UNAVAILABLE


async def test_setup_auth_failure_and_not_ready(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Dead tokens at setup start reauth; an unreachable cloud retries later."""
    cloud.sim.faults.fail_next("/v2/family", 500)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY

    await hass.config_entries.async_unload(config_entry.entry_id)
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True, refresh=True)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flows[0]["context"]["source"] == SOURCE_REAUTH


async def test_takeover_raises_a_repair_issue_until_reconnected(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Another sign-in with our app ID: a repair issue explains it; signing in again clears it."""
    await cloud.sim.add_device(cloud.owner, "1000000114", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    issue_id = f"session_taken_over_{config_entry.entry_id}"
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    await wait_for(lambda: issue_registry.async_get_issue(DOMAIN, issue_id), timeout=20)
    assert issue_registry.async_get_issue(DOMAIN, issue_id).translation_key == "session_taken_over"
    await wait_for(lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN), timeout=20)
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"password": PASSWORD})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    await wait_for(lambda: config_entry.runtime_data.coordinator.connected, timeout=20)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_new_and_removed_devices(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The periodic thing-list read adds new devices and removes those that left."""
    await cloud.sim.add_device(cloud.owner, "1000000115", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    await cloud.sim.add_device(cloud.owner, "1000000116", uiid=1, name="New lamp")
    await cloud.sim.remove_device("1000000115")
    async_fire_time_changed(hass, dt_util.utcnow() + THING_LIST_INTERVAL + timedelta(seconds=1))
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, "switch.new_lamp") == "off")
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, "1000000115"), config_entry.entry_id
        )
        is None
    )
    assert state_of(hass, "switch.lamp") is None

    kept = device_registry.async_get_device_by_identifier(
        (DOMAIN, "1000000116"), config_entry.entry_id
    )
    assert kept is not None
    assert not await async_remove_config_entry_device(hass, config_entry, kept)
    leftover = device_registry.async_get_or_create(
        config_entry_id=config_entry.entry_id, identifiers={(DOMAIN, "gone")}
    )
    assert await async_remove_config_entry_device(hass, config_entry, leftover)


async def test_zigbee_child_is_linked_to_its_bridge(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A zigbee child's device points at its bridge; its TH readings are scaled."""
    bridge = await cloud.sim.add_device(cloud.owner, "1000000117", uiid=168, name="Bridge")
    child = await cloud.sim.add_device(
        cloud.owner, "a480000001", uiid=1770, name="Bedroom TH", parent=bridge
    )
    await setup_entry(hass, config_entry)
    parent = device_registry.async_get_device_by_identifier(
        (DOMAIN, "1000000117"), config_entry.entry_id
    )
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, "a480000001"), config_entry.entry_id
    )
    assert parent is not None
    assert device is not None
    assert device.via_device_id == parent.id
    await child.report({"temperature": "2315", "humidity": 4820})
    await wait_for(lambda: state_of(hass, "sensor.bedroom_th_temperature") == "23.15")
    assert state_of(hass, "sensor.bedroom_th_humidity") == "48.2"


async def test_takeover_recovered_by_renewing_clears_the_issue(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """If the session can be renewed after a takeover, the issue goes away once connected."""
    cloud.sim.faults.takeover_keeps_refresh = True
    await cloud.sim.add_device(cloud.owner, "1000000118", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    issue_id = f"session_taken_over_{config_entry.entry_id}"
    before = config_entry.data[CONF_TOKEN]["access_token"]
    created: list[str] = []
    unsub = hass.bus.async_listen(
        ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED,
        lambda event: created.append(event.data["action"]),
    )
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    await wait_for(lambda: "create" in created and "remove" in created, timeout=20)
    unsub()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert config_entry.runtime_data.coordinator.connected
    assert config_entry.data[CONF_TOKEN]["access_token"] != before
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_removing_the_entry_signs_out(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Deleting the account from Home Assistant ends its eWeLink session."""
    await setup_entry(hass, config_entry)
    assert cloud.sim.session(cloud.owner, APP_ID) is not None
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert cloud.sim.session(cloud.owner, APP_ID) is None


def thing_list_calls(cloud: Cloud) -> int:
    """Return how many thing-list pages the simulator served so far."""
    return sum(1 for r in cloud.sim.requests if r.path.endswith("/v2/device/thing"))


async def test_pushes_during_a_read_win_over_its_result(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A read of two homes takes two calls; pushes that arrive meanwhile are not lost (#9.2).

    Regression: the coordinator replaced its data with the read's snapshot, so a change pushed
    after the first home was read went stale until the next push.
    """
    second = cloud.sim.add_home(cloud.owner, "Cabin")
    home_lamp = await cloud.sim.add_device(cloud.owner, "1000000121", uiid=1, name="Home lamp")
    cabin_lamp = await cloud.sim.add_device(
        cloud.owner, "1000000122", uiid=1, name="Cabin lamp", home=second
    )
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    things = dict(coordinator.data)
    reads = coordinator.sync_stats.reads
    calls = thing_list_calls(cloud)
    coordinator.async_request_read()
    await wait_for(lambda: thing_list_calls(cloud) == calls + 1)  # the first home is read
    await home_lamp.report({"switch": "on"})
    await cabin_lamp.report({"switch": "on"})
    await home_lamp.go_offline()
    await wait_for(lambda: coordinator.sync_stats.reads == reads + 1)
    await wait_for(lambda: state_of(hass, "switch.home_lamp") == STATE_UNAVAILABLE)
    await wait_for(lambda: state_of(hass, "switch.cabin_lamp") == "on")
    assert coordinator.data["1000000121"].params["switch"] == "on"
    assert all(coordinator.data[deviceid] is thing for deviceid, thing in things.items())
    await home_lamp.go_online()
    await wait_for(lambda: state_of(hass, "switch.home_lamp") == "on")


async def test_catch_up_after_the_first_connect(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """If the socket was not up during the first read, the state is read again once it is."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000123", uiid=1, name="Lamp")
    cloud.sim.faults.refuse_ws_seconds = 2
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    coordinator = config_entry.runtime_data.coordinator
    assert not coordinator.connected
    assert coordinator.stale == {"1000000123"}
    await lamp.report({"switch": "on"})  # nobody is listening: this push is lost
    await wait_for(lambda: coordinator.connected, timeout=20)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    assert not coordinator.stale


async def test_failed_catch_up_retries_within_seconds(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A catch-up read that fails is retried with backoff in seconds, within the limits (#9.3).

    Regression: a failed catch-up waited for the next 15-minute read.
    """
    lamp = await cloud.sim.add_device(cloud.owner, "1000000124", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    lamp.drop_acks = True  # no websocket query can help: only a REST read will
    cloud.sim.faults.refuse_ws_seconds = 1
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await lamp.report({"switch": "on"})
    cloud.sim.faults.fail_next("/v2/device/thing", 500, times=3)
    started = time.monotonic()
    await wait_for(lambda: coordinator.connected, timeout=20)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on", timeout=30)
    calls = [
        r.time
        for r in cloud.sim.requests
        if r.time >= started and r.path.endswith("/v2/device/thing")
    ]
    # Three refused calls, then a page (the server answers again), then one call: the read
    # that worked in one call before is asked again rather than paged (1 device here).
    assert len(calls) == 5
    assert all(later - earlier >= 0.5 for earlier, later in itertools.pairwise(calls))
    assert 1 <= coordinator.sync_stats.failures <= 3
    assert not coordinator.stale


async def test_catch_up_during_a_quota_outage(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """With REST refused (quota), stale devices are caught up over the websocket (#9.3).

    REST reads go on with backoff in seconds (not an hour) and work again once it clears.
    """
    lamp = await cloud.sim.add_device(cloud.owner, "1000000125", uiid=1, name="Lamp")
    cellar = await cloud.sim.add_device(cloud.owner, "1000000126", uiid=1, name="Cellar")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 1
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await lamp.report({"switch": "on"})
    await cellar.go_offline()
    cloud.sim.faults.quota_exhausted = "http403"
    await wait_for(lambda: coordinator.connected, timeout=20)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    await wait_for(lambda: state_of(hass, "switch.cellar") == STATE_UNAVAILABLE)
    assert not coordinator.stale
    assert coordinator.sync_stats.queries >= 1
    failures = coordinator.sync_stats.failures
    assert failures >= 1
    cloud.sim.faults.quota_exhausted = None
    await wait_for(lambda: coordinator.sync_stats.failures == failures)  # no read pending
    assert coordinator.sync_stats.reads >= 1


async def test_hostile_frames_do_not_stop_the_connection(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever a device or the cloud sends, the entry and the connection keep running (#9.5)."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000127", uiid=4, name="Strip")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    apikey = cloud.owner.apikey

    def push(params: object) -> None:
        text = json.dumps(
            {"action": "update", "deviceid": "1000000127", "apikey": apikey, "params": params}
        )
        for conn in cloud.sim.hub.by_apikey[apikey]:
            conn.send(text)

    push({"switches": [{"outlet": [1], "switch": "on"}, {"outlet": "x"}, 5]})
    push({"switches": "garbage", "configure": {"outlet": 0}})
    push({"switches": [{"outlet": 0, "switch": {"nested": [1, 2, 3]}}]})
    deep = "[" * 50000 + "]" * 50000
    frames = [
        deep,
        f'{{"action":"update","deviceid":"1000000127","apikey":"{apikey}","params":{{"deep":{deep}}}}}',
        f'{{"error":0,"sequence":{deep}}}',
        r'{"action":"update","deviceid":"1000000127","params":{"bad\ud800":"\udfff"}}',
    ]
    for conn in cloud.sim.hub.by_apikey[apikey]:
        for text in frames:
            conn.send(text)
    await wait_for(lambda: coordinator.connected, timeout=30)
    await lamp.report({"switches": [{"outlet": 1, "switch": "on"}]})
    await wait_for(lambda: state_of(hass, "switch.strip_channel_2") == "on", timeout=20)
    assert config_entry.state is ConfigEntryState.LOADED
    # The cache is still written and read back.
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    assert state_of(hass, "switch.strip_channel_2") == "on"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.exc_info]


async def test_two_devices_with_one_mac(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Two devices reporting the same MAC are both registered; the read is not aborted (#9.5).

    Regression: DeviceInfoError from the connection collision aborted every thing-list read.
    """
    mac = "D0:27:00:AA:BB:CC"
    await cloud.sim.add_device(
        cloud.owner, "1000000128", uiid=1, name="First", params={"staMac": mac}
    )
    await cloud.sim.add_device(
        cloud.owner, "1000000129", uiid=1, name="Second", params={"staMac": mac}
    )
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    first, second = (
        device_registry.async_get_device_by_identifier((DOMAIN, deviceid), config_entry.entry_id)
        for deviceid in ("1000000128", "1000000129")
    )
    assert first is not None
    assert second is not None
    assert first.id != second.id
    assert len(first.connections | second.connections) == 1
    assert state_of(hass, "switch.first") == "off"
    assert state_of(hass, "switch.second") == "off"
    config_entry.runtime_data.coordinator.async_request_read()
    await wait_for(lambda: config_entry.runtime_data.coordinator.sync_stats.reads >= 2)
    assert config_entry.state is ConfigEntryState.LOADED


async def test_commands_fall_back_to_rest(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """While the long connection is down, commands go over REST; both failing is an error (#9.6).

    Regression: HA skipped commands to entities made unavailable by a dropped socket.
    """
    lamp = await cloud.sim.add_device(cloud.owner, "1000000130", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 3600
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    assert lamp.params["switch"] == "on"
    assert state_of(hass, "switch.lamp") == "on"
    cloud.sim.faults.fail_next("/v2/device/thing/status", 500)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.lamp"}, blocking=True
        )
    assert err.value.translation_key == "not_connected"
    assert lamp.params["switch"] == "on"
    cloud.sim.faults.refuse_ws_seconds = 0


async def test_commands_on_a_half_open_socket_go_over_rest(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A command sent on a socket that stopped answering is delivered over REST (#9.6)."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000131", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    cloud.sim.half_open_app_sockets()
    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    assert lamp.params["switch"] == "on"
    assert state_of(hass, "switch.lamp") == "on"


async def test_sleeping_battery_devices_keep_their_state(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """DW2 and Zigbee sensors keep their last values while the cloud says offline (#9.7).

    Their connectivity diagnostic shows the cloud's flag instead.
    """
    door = await cloud.sim.add_device(cloud.owner, "1000000132", uiid=154, name="Door")
    window = await cloud.sim.add_device(cloud.owner, "1000000136", uiid=102, name="Window")
    bridge = await cloud.sim.add_device(cloud.owner, "1000000133", uiid=168, name="Bridge")
    th = await cloud.sim.add_device(
        cloud.owner, "a480000134", uiid=1770, name="Bedroom", parent=bridge
    )
    await setup_entry(hass, config_entry)
    await door.report({"switch": "on"})
    await wait_for(lambda: state_of(hass, "binary_sensor.door") == "on")
    assert state_of(hass, "binary_sensor.door_connectivity") == "on"
    assert state_of(hass, "binary_sensor.bedroom_connectivity") == "on"
    await window.report({"switch": "on"})
    await wait_for(lambda: state_of(hass, "binary_sensor.window") == "on")
    await door.go_offline()
    await window.go_offline()
    await th.go_offline()
    await wait_for(lambda: state_of(hass, "binary_sensor.window_connectivity") == "off")
    assert state_of(hass, "binary_sensor.window") == "on"
    await wait_for(lambda: state_of(hass, "binary_sensor.door_connectivity") == "off")
    await wait_for(lambda: state_of(hass, "binary_sensor.bedroom_connectivity") == "off")
    assert state_of(hass, "binary_sensor.door") == "on"
    assert state_of(hass, "sensor.door_battery") == "98.0"
    assert state_of(hass, "sensor.bedroom_temperature") == "21.5"
    assert state_of(hass, "switch.bridge") is None  # mains devices get no connectivity sensor
    assert state_of(hass, "binary_sensor.bridge_connectivity") is None
    await door.go_online()
    await wait_for(lambda: state_of(hass, "binary_sensor.door_connectivity") == "on")


class RecordingPath:
    """A command path of the test's own (as LAN control will add): records what it sends."""

    name = "test path"

    def __init__(self, *, unavailable: bool = False) -> None:
        """Deliver commands, or report every attempt as undeliverable."""
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.unavailable = unavailable

    def can_send(self, thing: Thing) -> bool:
        """Try every device."""
        return True

    async def async_send(self, thing: Thing, params: dict[str, Any]) -> None:
        """Record the command."""
        self.sent.append((thing.deviceid, params))
        if self.unavailable:
            raise PathUnavailableError("not reachable")


async def test_other_sources_and_command_paths(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """The API LAN control uses: newer reports by sequence, reachability, command paths."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000135", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator

    assert coordinator.async_apply_params("1000000135", {"switch": "on"}, source="lan", sequence=5)
    await hass.async_block_till_done()
    assert state_of(hass, "switch.lamp") == "on"
    assert not coordinator.async_apply_params(
        "1000000135", {"switch": "off"}, source="lan", sequence=4
    )
    assert state_of(hass, "switch.lamp") == "on"

    await lamp.go_offline()
    await wait_for(lambda: state_of(hass, "switch.lamp") == STATE_UNAVAILABLE)
    coordinator.async_set_reachable("1000000135", "lan", True)
    assert state_of(hass, "switch.lamp") == "on"
    coordinator.async_set_reachable("1000000135", "lan", False)
    assert state_of(hass, "switch.lamp") == STATE_UNAVAILABLE
    await lamp.go_online()

    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")  # the device's own state
    first = RecordingPath()
    remove = coordinator.async_add_command_path(first)
    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    assert first.sent == [("1000000135", {"switch": "on"})]
    assert lamp.params["switch"] == "off"  # the cloud was not used
    assert state_of(hass, "switch.lamp") == "on"
    remove()

    failing = RecordingPath(unavailable=True)
    coordinator.async_add_command_path(failing)
    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    assert failing.sent == [("1000000135", {"switch": "on"})]
    assert lamp.params["switch"] == "on"  # passed on to the long connection


async def test_slow_reads_make_catch_up_query_the_devices(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """When reading the list takes longer than asking the few stale devices, they are asked."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000136", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000137", uiid=1, name="Cellar")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.latency = 0.6
    reads = coordinator.sync_stats.reads
    coordinator.async_request_read()
    await wait_for(lambda: coordinator.sync_stats.reads == reads + 1)
    assert coordinator.sync_stats.last_read_seconds is not None
    assert coordinator.sync_stats.last_read_seconds > 2 * QUERY_SECONDS
    cloud.sim.faults.latency = 0
    cloud.sim.faults.refuse_ws_seconds = 1
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await lamp.report({"switch": "on"})
    calls = thing_list_calls(cloud)
    await wait_for(lambda: coordinator.connected, timeout=20)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    await wait_for(lambda: not coordinator.stale)
    assert coordinator.sync_stats.queries == 2
    assert thing_list_calls(cloud) == calls
