"""Keeps the account's devices in Home Assistant live.

The thing list (REST) is read at setup, every `THING_LIST_INTERVAL` and after every reconnect;
it adds new devices and removes those that left the account. Between reads the long connection
pushes `update`/`sysmsg` frames. Each push is routed to the listeners of that one device, so the
cost of a message does not grow with the number of devices; only thing-list reads and
connection changes notify every entity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import CONF_HOMES, DOMAIN, LOGGER, THING_LIST_INTERVAL
from .coolkit import (
    CommandRejectedError,
    ConnectionState,
    CoolkitClient,
    CoolkitError,
    DeviceEvent,
    DeviceOfflineError,
    DeviceOnline,
    DeviceTimeoutError,
    Family,
    LongConnection,
    NotConnectedError,
    RateLimitedError,
    ReauthRequiredError,
    SessionTakenOverError,
    Thing,
    merge_params,
)
from .devices import device_model


@dataclass(slots=True)
class EwelinkData:
    """Runtime objects of one config entry."""

    client: CoolkitClient
    coordinator: EwelinkCoordinator


type EwelinkConfigEntry = ConfigEntry[EwelinkData]
type DeviceListener = Callable[[], None]
type PushListener = Callable[[Mapping[str, Any]], None]


class EwelinkCoordinator(DataUpdateCoordinator[dict[str, Thing]]):
    """The devices of one eWeLink account."""

    config_entry: EwelinkConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: EwelinkConfigEntry, client: CoolkitClient
    ) -> None:
        """Create the coordinator; `async_start_push` starts the long connection."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=THING_LIST_INTERVAL,
            always_update=True,
        )
        self.client = client
        self.connection = LongConnection(client, self._handle_event, self._handle_state)
        self.families: dict[str, Family] = {}
        self._device_listeners: dict[str, list[DeviceListener]] = {}
        self._push_listeners: dict[str, list[PushListener]] = {}
        self._online_waiters: dict[str, asyncio.Future[None]] = {}
        self._ever_connected = False
        self._was_connected = False

    @property
    def connected(self) -> bool:
        """Return True while the long connection is up."""
        return self.connection.connected

    @property
    def _issue_id(self) -> str:
        return f"session_taken_over_{self.config_entry.entry_id}"

    # -- thing list ----------------------------------------------------------------------

    async def _async_update_data(self) -> dict[str, Thing]:
        selected = set(self.config_entry.options.get(CONF_HOMES) or ())
        try:
            families = await self.client.get_families()
            homes = [f.id for f in families if not selected or f.id in selected]
            things = await self.client.get_things(homes)
        except ReauthRequiredError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="reauth_required"
            ) from err
        except SessionTakenOverError as err:
            self._create_takeover_issue()
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="session_taken_over"
            ) from err
        except RateLimitedError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                retry_after=err.retry_after,
            ) from err
        except CoolkitError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        self.families = {family.id: family for family in families}
        devices = {thing.deviceid: thing for thing in things}
        self._sync_device_registry(devices)
        return devices

    def _sync_device_registry(self, devices: Mapping[str, Thing]) -> None:
        """Create or update a registry device per thing (bridges first); remove the ones gone."""
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        for thing in sorted(devices.values(), key=lambda t: t.parent_id is not None):
            via_device_id = None
            if thing.parent_id and thing.parent_id in devices:
                parent = registry.async_get_device_by_identifier(
                    (DOMAIN, thing.parent_id), entry_id
                )
                via_device_id = parent.id if parent else None
            firmware = thing.params.get("fwVersion")
            registry.async_get_or_create(
                config_entry_id=entry_id,
                identifiers={(DOMAIN, thing.deviceid)},
                name=thing.name,
                manufacturer=thing.brand or "eWeLink",
                model=device_model(thing),
                model_id=thing.firmware_model,
                sw_version=firmware if isinstance(firmware, str) else None,
                connections={(dr.CONNECTION_NETWORK_MAC, dr.format_mac(thing.mac))}
                if thing.mac
                else None,
                suggested_area=self._room_name(thing),
                via_device_id=via_device_id,
            )
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            ids = {value for domain, value in device.identifiers if domain == DOMAIN}
            if ids and not ids & devices.keys():
                LOGGER.info("Removing %s: it is no longer in the eWeLink account", device.name)
                registry.async_remove_device(device.id)

    def _room_name(self, thing: Thing) -> str | None:
        family = self.families.get(thing.family_id or "")
        if family is None or not thing.room_id:
            return None
        return family.rooms.get(thing.room_id) or None

    # -- long connection -----------------------------------------------------------------

    @callback
    def async_start_push(self) -> None:
        """Run the long connection as a background task of the entry."""
        self.config_entry.async_create_background_task(
            self.hass, self._run_connection(), f"{DOMAIN}_long_connection"
        )

    async def _run_connection(self) -> None:
        try:
            await self.connection.run()
        except ReauthRequiredError:
            LOGGER.warning("The eWeLink session cannot be renewed; please sign in again")
            self.async_update_listeners()
            self.config_entry.async_start_reauth(self.hass)

    @callback
    def _handle_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.CONNECTED:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
            self._was_connected = True
            self.async_update_listeners()
            if self._ever_connected:
                # Pushes were missed while disconnected: read every device's state again.
                LOGGER.info("Connection to eWeLink restored")
                self.config_entry.async_create_background_task(
                    self.hass, self.async_refresh(), f"{DOMAIN}_resync"
                )
            self._ever_connected = True
            return
        if state is ConnectionState.TAKEN_OVER:
            self._create_takeover_issue()
        if state is not ConnectionState.CONNECTING and self._was_connected:
            self._was_connected = False
            LOGGER.info("Connection to eWeLink lost (%s)", state.value)
            self.async_update_listeners()

    @callback
    def _create_takeover_issue(self) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="session_taken_over",
            translation_placeholders={"account": self.config_entry.title},
        )

    @callback
    def _handle_event(self, event: DeviceEvent) -> None:
        """Apply one pushed frame and notify only that device's entities (hot path)."""
        if self._online_waiters and (
            event.online if isinstance(event, DeviceOnline) else event.implies_online
        ):
            waiter = self._online_waiters.pop(event.deviceid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        thing = self.data.get(event.deviceid) if self.data else None
        if thing is None:
            return
        if isinstance(event, DeviceOnline):
            thing.online = event.online
        else:
            merge_params(thing.params, event.params)
            for push_listener in self._push_listeners.get(event.deviceid, ()):
                push_listener(event.params)
            if event.implies_online:
                thing.online = True
        for listener in self._device_listeners.get(event.deviceid, ()):
            listener()

    @callback
    def async_subscribe_device(self, deviceid: str, listener: DeviceListener) -> Callable[[], None]:
        """Call `listener` when a push changes this device; return the unsubscribe callback."""
        listeners = self._device_listeners.setdefault(deviceid, [])
        listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            listeners.remove(listener)
            if not listeners:
                self._device_listeners.pop(deviceid, None)

        return unsubscribe

    @callback
    def async_subscribe_pushes(self, deviceid: str, listener: PushListener) -> Callable[[], None]:
        """Call `listener` with the params of each push from this device (not on list reads).

        For entities whose state is the push itself (button events, cover motion echoes): they
        need what one message carried, which the merged params no longer tell.
        """
        listeners = self._push_listeners.setdefault(deviceid, [])
        listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            listeners.remove(listener)
            if not listeners:
                self._push_listeners.pop(deviceid, None)

        return unsubscribe

    @callback
    def async_expect_online(self, deviceid: str) -> asyncio.Future[None]:
        """Return a future resolved by the next push that shows the device online.

        Used while pairing: the device is not in the account's data yet when it comes online.
        """
        future: asyncio.Future[None] = self.hass.loop.create_future()
        if (thing := self.data.get(deviceid)) is not None and thing.online:
            future.set_result(None)
        else:
            self._online_waiters[deviceid] = future
        return future

    # -- commands ------------------------------------------------------------------------

    async def async_send(self, deviceid: str, params: dict[str, Any]) -> None:
        """Send a command over the long connection, wait for the ack, apply it."""
        thing = self.data[deviceid]
        try:
            await self.connection.send_update(deviceid, params, thing.owner_apikey)
        except CoolkitError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=_command_error_key(err),
                translation_placeholders={"device": thing.name},
            ) from err
        # The cloud does not reliably echo the new state to the sender (§12.4).
        merge_params(thing.params, params)
        thing.online = True
        for listener in self._device_listeners.get(deviceid, ()):
            listener()


def _command_error_key(err: CoolkitError) -> str:
    if isinstance(err, DeviceOfflineError):
        return "device_offline"
    if isinstance(err, DeviceTimeoutError):
        return "device_timeout"
    if isinstance(err, NotConnectedError):
        return "not_connected"
    if isinstance(err, CommandRejectedError):
        return "command_rejected"
    return "command_failed"
