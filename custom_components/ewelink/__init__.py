"""The eWeLink integration: CoolKit cloud devices kept live over the long connection."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .api import async_client_for_entry
from .const import DOMAIN, LOGGER
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator, EwelinkData

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CLIMATE,
    Platform.COVER,
    Platform.EVENT,
    Platform.FAN,
    Platform.LIGHT,
    Platform.NUMBER,
    Platform.REMOTE,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_entry(hass: HomeAssistant, entry: EwelinkConfigEntry) -> bool:
    """Load the account's devices, then keep them live over the long connection."""
    client = await async_client_for_entry(hass, entry)
    coordinator = EwelinkCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = EwelinkData(client, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_push()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EwelinkConfigEntry) -> bool:
    """Unload platforms; the long connection is a background task of the entry and stops too."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EwelinkConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device that is no longer in the account."""
    return not any(
        domain == DOMAIN and value in entry.runtime_data.coordinator.data
        for domain, value in device.identifiers
    )


async def async_remove_entry(hass: HomeAssistant, entry: EwelinkConfigEntry) -> None:
    """End the eWeLink session when the user removes the account (best effort)."""
    try:
        client = await async_client_for_entry(hass, entry)
        await client.logout()
    except Exception as err:  # noqa: BLE001  removal must not fail because the cloud is away
        LOGGER.debug("Could not sign out of eWeLink: %s", err)
