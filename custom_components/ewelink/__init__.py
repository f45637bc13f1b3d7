"""The eWeLink integration: CoolKit cloud devices kept live over the long connection and the LAN."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr

from .api import async_client_for_entry
from .cache import ThingCache
from .const import (
    CONF_ENTRY_TYPE,
    CONF_LAN_MODE,
    CONF_USER_APIKEY,
    DOMAIN,
    ENTRY_TYPE_DIY,
    LAN_MODE_AUTO,
    LAN_MODE_CLOUD,
    LAN_MODE_LOCAL,
    LOGGER,
)
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator, EwelinkData
from .lan_control import LanControl
from .lan_diy import async_setup_diy_entry
from .lan_hub import async_get_hub

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
    """Create the entities, then keep them live over the long connection.

    With a cached thing list (every start but the first) the entities come up at once with
    their last known state and the cloud is read in the background (so a start without
    Internet works: devices on the LAN stay controllable); otherwise the first read happens
    here, once the long connection had its first chance to come up. LAN control starts before
    the entities (unless the entry is cloud only). A DIY device's entry has no cloud at all.
    """
    if entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_DIY:
        await async_setup_diy_entry(hass, entry)
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        return True
    mode = entry.options.get(CONF_LAN_MODE, LAN_MODE_AUTO)
    try:
        client = await async_client_for_entry(hass, entry)
    except ValueError as err:  # stored tokens unusable (written by an older version)
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="reauth_required"
        ) from err
    cache = ThingCache(hass, entry.entry_id, entry.data[CONF_USER_APIKEY])
    coordinator = EwelinkCoordinator(
        hass,
        entry,
        client,
        cache,
        cloud_push=mode != LAN_MODE_LOCAL,
        cloud_commands=mode != LAN_MODE_LOCAL,
    )
    if not await coordinator.async_restore():
        coordinator.async_start_push()
        await coordinator.async_wait_first_attempt()
        await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = EwelinkData(client, coordinator)
    if mode != LAN_MODE_CLOUD:
        lan = LanControl(hass, coordinator, async_get_hub(hass), mode=mode)
        entry.runtime_data.lan = lan
        await lan.async_start(entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start()
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
    """Delete the cached device list and end the eWeLink session (best effort)."""
    await ThingCache(hass, entry.entry_id, entry.data.get(CONF_USER_APIKEY, "")).async_remove()
    if entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_DIY:
        return  # no account
    try:
        client = await async_client_for_entry(hass, entry)
        await client.logout()
    except Exception as err:  # noqa: BLE001  removal must not fail because the cloud is away
        LOGGER.debug("Could not sign out of eWeLink: %s", err)
