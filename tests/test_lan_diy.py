"""DIY-mode devices: found over zeroconf, added without an account, controlled in plaintext."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_ZEROCONF,
    ConfigEntryState,
)
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import (
    CONF_DEVICE_ID,
    CONF_ENTRY_TYPE,
    CONF_LOCAL_TYPE,
    CONF_UIID,
    DOMAIN,
    ENTRY_TYPE_DIY,
)
from custom_components.ewelink.lan_hub import DATA_HUB
from simulator import LanAnnouncement
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry
from tests.lan_helpers import feed_lan, lan_of, sim_config  # noqa: F401  (fixture)

SERVICE = "_ewelink._tcp.local."


def zeroconf_info(
    announcement: LanAnnouncement,
    *,
    host: str | None = None,
    txt: dict[str, str] | None = None,
    **properties: str,
) -> ZeroconfServiceInfo:
    """Return what Home Assistant's zeroconf integration hands to the flow.

    `txt` replaces the announced TXT record; `properties` change some of its keys.
    """
    address = ip_address(host or announcement.addresses[0])
    props = txt or {k.decode(): v.decode() for k, v in announcement.properties.items()}
    return ZeroconfServiceInfo(
        ip_address=address,
        ip_addresses=[address],
        port=announcement.port,
        hostname=announcement.host_name,
        type=SERVICE,
        name=announcement.name,
        properties={**props, **properties},
    )


async def discover(hass: HomeAssistant, info: ZeroconfServiceInfo) -> dict[str, Any]:
    """Start a zeroconf discovery flow."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )


def main_switch(hass: HomeAssistant, entry: MockConfigEntry | Any) -> str:
    """Return the entity id of the device's relay switch."""
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    return next(e.entity_id for e in entities if e.domain == "switch" and e.entity_category is None)


async def test_diy_device_is_discovered_added_and_controlled(
    hass: HomeAssistant, cloud: Cloud, device_registry: dr.DeviceRegistry
) -> None:
    """A DIY plug announces itself; the user confirms; it works over the LAN, in plaintext."""
    diy = await cloud.sim.lan.add_diy_device(uiid=1, deviceid="1000d1a001")
    feed_lan(hass, cloud.sim)
    result = await discover(hass, zeroconf_info(diy.history[-1]))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"]["type"] == "diy_plug"

    # A second announcement of the same device does not start a second flow.
    again = await discover(hass, zeroconf_info(diy.history[-1]))
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_in_progress"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "SONOFF DIY switch 1000d1a001"
    assert result["data"] == {
        CONF_ENTRY_TYPE: ENTRY_TYPE_DIY,
        CONF_DEVICE_ID: "1000d1a001",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: diy.port,
        CONF_LOCAL_TYPE: "diy_plug",
        CONF_UIID: 1,
    }
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "1000d1a001"
    device = device_registry.async_get_device_by_identifier((DOMAIN, "1000d1a001"), entry.entry_id)
    assert device is not None
    assert device.manufacturer == "SONOFF"

    switch = main_switch(hass, entry)
    lan = lan_of(entry)
    await wait_for(lambda: lan.registry.is_local("1000d1a001"))
    await wait_for(lambda: state_of(hass, switch) == "off")
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert diy.device.params["switch"] == "on"
    request = diy.requests[-1]
    assert (request.command, request.data, request.encrypted) == ("switch", {"switch": "on"}, False)
    assert state_of(hass, switch) == "on"
    await diy.device.report({"switch": "off"})  # a press on the device itself
    await wait_for(lambda: state_of(hass, switch) == "off")

    # A DIY entry has no options, no "add device", nothing to reconfigure, no account.
    assert not entry.supports_options
    assert entry.supported_subentry_types == {}
    reconfigure = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert reconfigure["reason"] == "diy_not_reconfigurable"
    assert entry.runtime_data.coordinator.connection.stats.connects == 0

    # Rediscovered at another address: the entry learns it, no new flow.
    moved = await discover(hass, zeroconf_info(diy.history[-1], host="127.0.0.2"))
    assert moved["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.0.2"

    # Gone from the LAN: unavailable. Removing the entry does not try to sign out anywhere.
    diy.device.lan.power(diy.device, False)
    await wait_for(lambda: not diy.running)
    lan.ping_after = 0.0
    for _ in range(3):
        await lan.async_ping(["1000d1a001"])
    assert state_of(hass, switch) == STATE_UNAVAILABLE
    requests = len(cloud.sim.requests)
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert len(cloud.sim.requests) == requests


async def test_diy_entry_restarts_from_its_cache(hass: HomeAssistant, cloud: Cloud) -> None:
    """After a restart the DIY device shows its last state, unavailable until heard."""
    diy = await cloud.sim.lan.add_diy_device(uiid=1, deviceid="1000d1a002")
    result = await discover(hass, zeroconf_info(diy.history[-1]))
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    entry = result["result"]
    await hass.async_block_till_done()
    switch = main_switch(hass, entry)
    assert state_of(hass, switch) == STATE_UNAVAILABLE  # nothing heard yet
    unsubscribe = feed_lan(hass, cloud.sim)
    await wait_for(lambda: state_of(hass, switch) == "off")
    await diy.device.report({"switch": "on"})
    await wait_for(lambda: state_of(hass, switch) == "on")
    unsubscribe()

    # Home Assistant restarts (a new process has no LAN hub and has heard nothing yet).
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    del hass.data[DATA_HUB]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, switch) == STATE_UNAVAILABLE
    assert entry.runtime_data.coordinator.data["1000d1a002"].params["switch"] == "on"
    feed_lan(hass, cloud.sim)
    await wait_for(lambda: state_of(hass, switch) == "on")


async def test_discovery_of_devices_that_are_not_diy(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Encrypted (account) devices, sub-units, address-less and unparsable records abort."""
    await cloud.sim.add_device(cloud.owner, "1000000c01", uiid=1, name="Lamp")
    announcement = cloud.sim.lan.device("1000000c01").history[-1]
    assert (await discover(hass, zeroconf_info(announcement)))["reason"] == "not_diy_device"
    plaintext = {"txtvers": "1", "type": "diy_plug", "seq": "3", "data1": '{"switch":"on"}'}
    sub = zeroconf_info(announcement, txt={**plaintext, "id": "1000000c99"})
    assert (await discover(hass, sub))["reason"] == "not_diy_device"
    garbage = zeroconf_info(announcement, seq="not a number")
    assert (await discover(hass, garbage))["reason"] == "not_diy_device"
    ipv6 = zeroconf_info(announcement, host="::1", txt=plaintext)
    assert (await discover(hass, ipv6))["reason"] == "not_diy_device"

    # The device of a loaded account entry that announces in plaintext stays with the account.
    await setup_entry(hass, config_entry)
    in_account = zeroconf_info(announcement, txt=plaintext)
    assert (await discover(hass, in_account))["reason"] == "already_in_account"
