"""Diagnostics: the entry, the long connection and every device, with secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

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


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EwelinkConfigEntry
) -> dict[str, Any]:
    """Return what helps to debug the account, without anything private."""
    coordinator = entry.runtime_data.coordinator
    connection = coordinator.connection
    return async_redact_data(
        {
            "entry": entry.as_dict(),
            "connection": {"state": connection.state.value, **asdict(connection.stats)},
            "last_update_success": coordinator.last_update_success,
            "homes": len(coordinator.families),
            "devices": [
                {
                    "deviceid": thing.deviceid,
                    "uiid": thing.uiid,
                    "brand": thing.brand,
                    "model": thing.model,
                    "firmware_model": thing.firmware_model,
                    "online": thing.online,
                    "shared": thing.shared,
                    "parent": thing.parent_id,
                    "params": thing.params,
                }
                for thing in coordinator.data.values()
            ],
        },
        TO_REDACT,
    )
