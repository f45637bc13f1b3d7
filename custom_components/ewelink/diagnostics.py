"""Diagnostics: the entry, the long connection, the reads, LAN control and every device.

Secrets are redacted: tokens, apikeys, devicekeys (never even collected), MACs and Wi-Fi names.
Per device, `path` says which way reaches it now (`cloud`, `lan`, `both`, `none`) and `lan` what
the LAN knows of it (its last address, liveness), without keys or params.

Everything that came from the network is bounded first (depth, length, encodable text), so the
download works whatever a device reported.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .cache import json_safe
from .coordinator import EwelinkConfigEntry

TO_REDACT = {
    # credentials and tokens
    "access_token", "refresh_token", "app_secret", "password", "token", "at", "rt",
    # identities
    "user_apikey", "apikey", "owner_apikey", "selfApikey", "devicekey", "account", "email",
    "phoneNumber", "title", "unique_id",
    # network identity of the devices and the home
    "mac", "staMac", "bssid", "ssid", "ip", "p2pinfo", "bindInfos", "timers",
}  # fmt: skip

# Bounds of what a device reported, in the download.
MAX_DEPTH = 8
MAX_ITEMS = 100
MAX_STRING = 2000


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EwelinkConfigEntry
) -> dict[str, Any]:
    """Return what helps to debug the account, without anything private."""
    coordinator = entry.runtime_data.coordinator
    connection = coordinator.connection
    lan = entry.runtime_data.lan
    devices = [
        {
            "deviceid": thing.deviceid,
            "uiid": thing.uiid,
            "brand": thing.brand,
            "model": thing.model,
            "firmware_model": thing.firmware_model,
            "online": thing.online,
            "available": coordinator.device_available(thing.deviceid),
            "shared": thing.shared,
            "parent": thing.parent_id,
            "path": lan.path(thing.deviceid)
            if lan is not None
            else ("cloud" if coordinator.connected and thing.online else "none"),
            "lan": lan.device_diagnostics(thing.deviceid) if lan is not None else None,
            "params": thing.params,
        }
        for thing in coordinator.data.values()
    ]
    return async_redact_data(
        json_safe(
            {
                "entry": entry.as_dict(),
                "connection": {"state": connection.state.value, **asdict(connection.stats)},
                "live": coordinator.live,
                "stale_devices": len(coordinator.stale),
                "reads": asdict(coordinator.sync_stats),
                "last_update_success": coordinator.last_update_success,
                "homes": len(coordinator.families),
                "lan": lan.diagnostics() if lan is not None else None,
                "devices": devices,
            },
            depth=MAX_DEPTH,
            items=max(MAX_ITEMS, len(devices)),
            string=MAX_STRING,
        ),
        TO_REDACT,
    )
