"""The running integration against the simulator: pushes, commands, availability, recovery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ewelink import async_remove_config_entry_device
from custom_components.ewelink.const import CONF_TOKEN, DOMAIN, THING_LIST_INTERVAL
from tests.common import APP_ID, PASSWORD, Cloud, state_of, wait_for
from tests.conftest import setup_entry


@callback
def every_event(data: Any) -> bool:
    """Let every event through (state_reported listeners need a filter)."""
    return True


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


async def test_offline_at_setup_and_lost_connection(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A device offline in the thing list starts unavailable; a dropped socket makes all unavailable."""
    await cloud.sim.add_device(cloud.owner, "1000000109", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000110", uiid=1, name="Cellar", online=False)
    cloud.sim.faults.refuse_ws_seconds = 0
    await setup_entry(hass, config_entry)
    assert state_of(hass, "switch.cellar") == STATE_UNAVAILABLE
    cloud.sim.faults.refuse_ws_seconds = 3
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: state_of(hass, "switch.lamp") == STATE_UNAVAILABLE)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off", timeout=20)


async def test_reconnect_resyncs_missed_changes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Changes made while the socket was down are read back after reconnecting."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000111", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 3
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await lamp.report({"switch": "on"})  # nobody is listening: this push is lost
    await wait_for(lambda: coordinator.connected, timeout=20)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")


async def test_each_push_touches_only_its_device(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """The cost of a message does not grow with the account: other devices are not written."""
    devices = [
        await cloud.sim.add_device(cloud.owner, f"10000002{n:02d}", uiid=1, name=f"Lamp {n}")
        for n in range(5)
    ]
    await setup_entry(hass, config_entry)
    written: list[str] = []

    def record(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])

    unsub_changed = hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    unsub_reported = hass.bus.async_listen(EVENT_STATE_REPORTED, record, event_filter=every_event)
    await devices[0].report({"switch": "on"})
    await devices[0].report({"switch": "on", "rssi": -60})
    await wait_for(lambda: written.count("switch.lamp_0") == 2)
    await hass.async_block_till_done()
    unsub_changed()
    unsub_reported()
    assert set(written) == {"switch.lamp_0"}


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
