"""Setup, unload, devices and live entities against the simulator."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import CONF_TOKEN, DOMAIN
from tests.common import APP_SECRET, PASSWORD, Cloud, state_of, wait_for
from tests.conftest import setup_entry


async def test_setup_creates_devices_and_entities(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every device of the account becomes a registry device with its entities."""
    await cloud.sim.add_device(
        cloud.owner, "1000000001", uiid=1, name="Lamp", home=cloud.home, room="Kitchen"
    )
    await cloud.sim.add_device(
        cloud.owner,
        "1000000002",
        uiid=2,
        name="Fan plug",
        tags={"ck_channel_name": {"0": "Fan", "1": "Heater"}},
    )
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED

    lamp = device_registry.async_get_device_by_identifier(
        (DOMAIN, "1000000001"), config_entry.entry_id
    )
    assert lamp is not None
    assert (lamp.name, lamp.manufacturer, lamp.sw_version, lamp.model, lamp.hw_version) == (
        "Lamp",
        "SONOFF",
        "3.7.0",
        "MINIR2",
        None,  # the device page shows the model, not "UIID 1" (diagnostics keep the UIID)
    )
    assert lamp.connections
    assert lamp.area_id == "kitchen"
    state = hass.states.get("switch.kitchen_lamp")
    assert state is not None
    assert state.state == "off"
    assert hass.states.get("switch.fan_plug_fan") is not None
    assert hass.states.get("switch.fan_plug_heater") is not None

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    await wait_for(lambda: cloud.sim.app_sessions(cloud.owner) == 0)


def cache_key(entry: MockConfigEntry) -> str:
    """Return the storage key of an entry's cached thing list."""
    return f"{DOMAIN}.{entry.entry_id}"


async def test_restart_with_the_cloud_down_uses_the_cache(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """With a cached thing list, entities come up at once with their last known state (#13).

    The cloud's read then reconciles them: state changed, device removed, device added.
    """
    lamp = await cloud.sim.add_device(cloud.owner, "1000000501", uiid=1, name="Lamp")
    await cloud.sim.add_device(cloud.owner, "1000000502", uiid=1, name="Old lamp")
    shared = await cloud.sim.add_device(
        cloud.friend, "1000000503", uiid=1, name="Shared", shared_with=[cloud.owner]
    )
    await setup_entry(hass, config_entry)
    await lamp.report({"switch": "on"})
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on")
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    cached = json.dumps(hass_storage[cache_key(config_entry)])
    token = config_entry.data[CONF_TOKEN]
    for secret in (
        token["access_token"],
        token["refresh_token"],
        APP_SECRET,
        PASSWORD,
        cloud.owner.apikey,
        cloud.friend.apikey,
    ):
        assert secret not in cached

    # Home Assistant is down; the cloud and the devices go on.
    await lamp.report({"switch": "off"})
    await cloud.sim.remove_device("1000000502")
    await cloud.sim.add_device(cloud.owner, "1000000504", uiid=1, name="New lamp")
    cloud.sim.faults.http_error["*"] = 500
    cloud.sim.faults.refuse_ws_seconds = 3600
    served = len(cloud.sim.requests)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "switch.lamp") == "on"  # the last known state, at once
    assert state_of(hass, "switch.old_lamp") == "off"
    assert state_of(hass, "switch.shared") == "off"
    assert state_of(hass, "switch.new_lamp") is None
    assert len(cloud.sim.requests) - served <= 2  # setup did not wait for the cloud

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.shared"}, blocking=False
    )
    cloud.sim.faults.http_error.clear()
    cloud.sim.faults.refuse_ws_seconds = 0
    await wait_for(lambda: state_of(hass, "switch.new_lamp") == "off", timeout=30)
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")
    assert state_of(hass, "switch.old_lamp") is None
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.shared"}, blocking=True
    )
    assert shared.params["switch"] == "on"


async def test_unusable_cache_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """A damaged cache means a first setup: the cloud is read before the entities exist."""
    await cloud.sim.add_device(cloud.owner, "1000000505", uiid=1, name="Lamp")
    hass_storage[cache_key(config_entry)] = {
        "version": 1,
        "key": cache_key(config_entry),
        "data": {"homes": [], "things": [{"deviceid": 5, "params": "x"}]},
    }
    await setup_entry(hass, config_entry)
    assert state_of(hass, "switch.lamp") == "off"


async def test_cache_is_removed_with_the_entry(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """Removing the account deletes its cached thing list."""
    await cloud.sim.add_device(cloud.owner, "1000000506", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert cache_key(config_entry) in hass_storage
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert cache_key(config_entry) not in hass_storage


async def writes_during_setup(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Set the entry up until its devices are fresh; return the entity of every state written."""
    written: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])

    @callback
    def every_event(data: Any) -> bool:
        return True

    unsubs = [
        hass.bus.async_listen(event_type, record, event_filter=every_event)
        for event_type in (EVENT_STATE_CHANGED, EVENT_STATE_REPORTED)
    ]
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: not coordinator.stale and coordinator.sync_stats.reads >= 1)
    await hass.async_block_till_done()
    for unsub in unsubs:
        unsub()
    return written


async def test_setup_writes_each_state_once(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """Neither a first setup nor a start from the cache writes a state twice (#13)."""
    for n in range(3):
        await cloud.sim.add_device(cloud.owner, f"10000005{n + 10}", uiid=126, name=f"Dual {n}")
    written = await writes_during_setup(hass, config_entry)
    assert written
    assert len(written) == len(set(written)), written
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert cache_key(config_entry) in hass_storage
    written = await writes_during_setup(hass, config_entry)  # from the cache
    assert written
    assert len(written) == len(set(written)), written


@pytest.mark.parametrize(
    "bad",
    [
        {"access_token": None},
        {"refresh_token": 12345},
        {"access_token": {"at": "x"}},
        {"access_token": "bad\ud800"},
        {"issued_at": "soon"},
        {"refresh_expires_at": float("nan")},
    ],
)
async def test_unusable_stored_tokens_ask_for_a_new_sign_in(
    hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any], bad: dict[str, Any]
) -> None:
    """Tokens an older version stored unchecked (#9.5) lead to reauth, not a stuck entry."""
    data = {**entry_data, CONF_TOKEN: {**entry_data[CONF_TOKEN], **bad}}
    entry = MockConfigEntry(domain=DOMAIN, title="t", unique_id=cloud.owner.apikey, data=data)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
