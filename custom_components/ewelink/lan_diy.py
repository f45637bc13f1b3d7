"""DIY-mode devices: one config entry per device found on the LAN, without an account.

A device in DIY mode (lan-protocol.md §5) announces its state in plaintext and takes plaintext
commands; it is bound to no eWeLink account. Home Assistant's zeroconf integration finds it
(manifest matcher on `_ewelink._tcp.local.` with a local `type` of `diy*`) and the config flow
offers to add it. The entry's coordinator has no cloud: the device is available while the LAN
reaches it, its state comes from its announcements, its commands go over the LAN only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant

from .api import create_client
from .cache import ThingCache
from .const import CONF_DEVICE_ID, CONF_LOCAL_TYPE, CONF_UIID, LAN_MODE_LOCAL
from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator, EwelinkData
from .lan_control import LanControl
from .lan_hub import async_get_hub

DIY_BRAND = "SONOFF"


def diy_thing(data: Mapping[str, Any], name: str) -> Thing:
    """Return the device of a DIY entry, before anything was heard from it."""
    local_type = data.get(CONF_LOCAL_TYPE)
    return Thing(
        deviceid=data[CONF_DEVICE_ID],
        name=name,
        owner_apikey="",
        uiid=data.get(CONF_UIID) or None,
        online=False,
        params={},
        brand=DIY_BRAND,
        firmware_model=f"DIY {local_type}" if isinstance(local_type, str) else None,
    )


async def async_setup_diy_entry(hass: HomeAssistant, entry: EwelinkConfigEntry) -> EwelinkData:
    """Create the runtime of a DIY entry: its device (last known state cached) and LAN control.

    The entry has no account: its CoolKit client is never used (no reads, no long connection,
    no cloud commands).
    """
    client = create_client(hass, "", "")
    cache = ThingCache(hass, entry.entry_id, "")
    coordinator = EwelinkCoordinator(
        hass, entry, client, cache, cloud_push=False, cloud_commands=False
    )
    if not await coordinator.async_restore():
        coordinator.async_set_local_things([diy_thing(entry.data, entry.title)])
    lan = LanControl(
        hass, coordinator, async_get_hub(hass), mode=LAN_MODE_LOCAL, only=entry.data[CONF_DEVICE_ID]
    )
    data = EwelinkData(client, coordinator, lan)
    entry.runtime_data = data
    await lan.async_start(entry)
    return data
