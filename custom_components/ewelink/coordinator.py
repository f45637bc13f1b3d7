"""Keeps the account's devices in Home Assistant live, fresh and controllable.

State has several sources, merged per device and never swapped wholesale:

- the thing list (REST), read at setup (or taken from the cache at once and read in the
  background), after every reconnect (a catch-up, because pushes were missed), every
  `THING_LIST_INTERVAL` and when asked. A read is merged into the existing `Thing` objects:
  pushes received while it runs are journaled and re-applied on top of its result, so a push
  newer than the read always wins;
- pushes over the long connection (`update`, `sysmsg`);
- answers to websocket `query`s: the catch-up of a few stale devices when that is quicker than
  reading the whole list, and of every stale device while REST reads fail;
- other sources through `async_apply_params` / `async_set_reachable` (LAN control), ordered by
  the source's own sequence numbers; between a source and the cloud's pushes, a `SourceArbiter`
  drops late copies of superseded states and keeps echoes from push listeners
  (`lan_arbiter.py`);
- commands, applied optimistically once a path acknowledged them.

Each change is routed to the entities of that one device that read a changed param, so the cost
of a push does not grow with the account. A failed catch-up read is retried with jittered
backoff (seconds) through the shared rate limiter until every device is fresh again.

Entities stay available with their last known state through short outages of the long
connection (`CONNECTION_GRACE`); commands then go over REST. Battery devices that sleep keep their
last reported values while the cloud says they are offline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
import functools
import random
import time
from typing import TYPE_CHECKING, Any, Final, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .cache import Snapshot, ThingCache
from .const import CONF_HOMES, DOMAIN, LOGGER, THING_LIST_INTERVAL
from .coolkit import (
    AckTimeoutError,
    CommandRejectedError,
    ConnectionState,
    CoolkitClient,
    CoolkitConnectionError,
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
from .lan_arbiter import SourceArbiter

if TYPE_CHECKING:
    from .lan_control import LanControl

# Entities keep their last known state this long after the long connection is lost (a typical
# cloud hiccup: the quick retry, half-open detection <= 30 s, then 5-40 s of reconnect backoff).
CONNECTION_GRACE: Final = timedelta(minutes=2)
# Backoff of a failed read: 1 s doubling to 30 s, with jitter (each attempt in [d/2, d]).
RETRY_MIN: Final = 1.0
RETRY_MAX: Final = 30.0
# While devices are stale (a catch-up is due), the backoff stops at 3 s for the first 10 minutes
# of failures: entities are fresh within seconds of the cloud's recovery from a 412 storm or a
# burst of 500s, at about one call per home every 2 s (CoolKit allows one a second). A longer
# outage (an exhausted quota) falls back to RETRY_MAX.
RETRY_MAX_STALE: Final = 3.0
STALE_RETRY_PERIOD: Final = 600.0
# At setup, wait this long for the first connection attempt so that the first read needs no
# catch-up (pushes are received from its start).
FIRST_CONNECT_WAIT: Final = 5.0
# Stale devices queried at once over the websocket, and what a query costs: the long
# connection sends a frame every 100 ms (coolkit-cloud.md §11).
QUERY_BATCH: Final = 10
QUERY_SECONDS: Final = 0.1

# Battery devices report their level in this param (percent, or volts on the DW2).
BATTERY_PARAM: Final = "battery"
# Arrays whose items are keyed by `outlet` (merged per item by `merge_params`).
CHANNEL_ARRAYS: Final = frozenset({"switches", "configure", "pulses"})

_MISSING: Final = object()
_THING_FIELDS: Final = tuple(f.name for f in fields(Thing))

type ReadKey = str | tuple[str, int]
type DeviceListener = Callable[[], None]
type PushListener = Callable[[Mapping[str, Any]], None]


@dataclass(slots=True)
class EwelinkData:
    """Runtime objects of one config entry (`lan`: its LAN control, None in cloud-only mode)."""

    client: CoolkitClient
    coordinator: EwelinkCoordinator
    lan: LanControl | None = None


type EwelinkConfigEntry = ConfigEntry[EwelinkData]


def battery_powered(thing: Thing) -> bool:
    """Return True for a device that runs on batteries (it reports a level): it sleeps.

    The cloud marks such devices offline while they sleep (DW2 door sensors, Zigbee sensors),
    which says nothing about their last reported values.
    """
    return BATTERY_PARAM in thing.params


@functools.cache
def read_keys(
    param: str, channel: int | None, also_reads: tuple[str, ...] = ()
) -> frozenset[ReadKey]:
    """Return the keys whose changes re-write an entity (one shared set per description).

    An entity with a channel whose param is a channel array reads only its outlet's item.
    """
    main = (param, channel) if channel is not None and param in CHANNEL_ARRAYS else param
    return frozenset((*also_reads, main))


class PathUnavailableError(Exception):
    """A command path could not deliver the command (not connected, dropped, no answer).

    The coordinator then tries the next path; raise anything else to fail the command. When no
    path is left, `translation_key` (if given) names the error shown to the user.
    """

    def __init__(self, message: str, *, translation_key: str | None = None) -> None:
        """Keep the reason and the user-facing error key."""
        super().__init__(message)
        self.translation_key = translation_key


class CommandPath(Protocol):
    """One way to deliver a command to a device: LAN, the long connection, REST."""

    name: str

    def can_send(self, thing: Thing) -> bool:
        """Return True when this path may be tried for the device now."""

    async def async_send(self, thing: Thing, params: dict[str, Any]) -> None:
        """Deliver the command; raise `PathUnavailableError` for transport failures."""


class _LongConnectionPath:
    """Commands over the long connection, acknowledged by the device."""

    name = "long connection"

    def __init__(self, connection: LongConnection) -> None:
        self._connection = connection

    def can_send(self, thing: Thing) -> bool:
        return self._connection.connected and bool(thing.owner_apikey)

    async def async_send(self, thing: Thing, params: dict[str, Any]) -> None:
        try:
            await self._connection.send_update(thing.deviceid, params, thing.owner_apikey)
        except (NotConnectedError, AckTimeoutError) as err:
            raise PathUnavailableError(str(err)) from err


class _RestPath:
    """Commands over REST (`POST /v2/device/thing/status`): the fallback."""

    name = "REST"

    def __init__(self, client: CoolkitClient) -> None:
        self._client = client

    def can_send(self, thing: Thing) -> bool:
        return True

    async def async_send(self, thing: Thing, params: dict[str, Any]) -> None:
        await self._client.set_thing_status(thing.deviceid, params)


@dataclass(slots=True, eq=False)
class _Listeners:
    """The listeners of one device, indexed by what they read (tuples: writes never copy)."""

    every: tuple[DeviceListener, ...] = ()
    by_key: dict[ReadKey | None, tuple[DeviceListener, ...]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Pending:
    """What arrived for one device while a read was running."""

    params: dict[str, Any] = field(default_factory=dict)
    online: bool | None = None


@dataclass(slots=True)
class SyncStats:
    """How the reads went (for diagnostics)."""

    reads: int = 0
    failures: int = 0
    queries: int = 0
    last_read: str | None = None
    last_read_seconds: float | None = None
    last_error: str | None = None


class EwelinkCoordinator(DataUpdateCoordinator[dict[str, Thing]]):
    """The devices of one eWeLink account."""

    config_entry: EwelinkConfigEntry
    data: dict[str, Thing]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EwelinkConfigEntry,
        client: CoolkitClient,
        cache: ThingCache,
        *,
        cloud_push: bool = True,
        cloud_commands: bool = True,
    ) -> None:
        """Create the coordinator; `async_start` starts the long connection and the reads.

        Without `cloud_push` the long connection is never started and the cloud's view of the
        devices is not trusted (devices are available while another source reaches them);
        without `cloud_commands` commands go only over added paths (LAN only).
        """
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=None,
            always_update=True,
        )
        self.data = {}
        self.client = client
        self.cache = cache
        self.connection = LongConnection(client, self._handle_event, self._handle_state)
        self.families: dict[str, Family] = {}
        self._read_selection: list[str] = []  # the homes chosen when `data` was read
        self.sync_stats = SyncStats()
        self._paths: list[CommandPath] = (
            [_LongConnectionPath(self.connection), _RestPath(client)] if cloud_commands else []
        )
        self._cloud_push = cloud_push
        self.arbiter = SourceArbiter()
        self._source_params: dict[tuple[str, str], dict[str, Any]] = {}
        self._device_listeners: dict[str, _Listeners] = {}
        self._push_listeners: dict[str, list[PushListener]] = {}
        self._read_listeners: dict[str, list[DeviceListener]] = {}
        self._device_infos: dict[str, DeviceInfo] = {}
        self._reachable: dict[str, set[str]] = {}
        self._sequences: dict[tuple[str, str], int] = {}
        self._online_waiters: dict[str, asyncio.Future[None]] = {}
        self._registered: dict[str, tuple[Any, ...]] = {}
        self._stale: set[str] = set()
        self._journal: dict[str, _Pending] | None = None
        self._read_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self._full_read_wanted = False
        self._restored = False
        self._push_started = False
        self._stopping = False
        self._epoch = 0
        self._live = cloud_push
        self._was_connected = False
        self._lost = False
        self._grace_unsub: CALLBACK_TYPE | None = None
        self._query_task: asyncio.Task[None] | None = None
        self._rng = random.Random()

    @property
    def connected(self) -> bool:
        """Return True while the long connection is up."""
        return self.connection.connected

    @property
    def live(self) -> bool:
        """Return True while the cloud's state can be trusted (connected, or lost shortly)."""
        return self._live

    @property
    def stale(self) -> frozenset[str]:
        """Return the devices whose state may miss pushes (a catch-up read is due)."""
        return frozenset(self._stale)

    @property
    def _issue_id(self) -> str:
        return f"session_taken_over_{self.config_entry.entry_id}"

    # -- start and stop ------------------------------------------------------------------

    async def async_restore(self) -> bool:
        """Load the cached thing list; return False when there is none (first setup)."""
        cached = await self.cache.async_load()
        if cached is None or not cached.things:
            return False
        if sorted(cached.selected_homes) != self._selection():
            return False  # other homes were chosen: read them before showing anything
        self._read_selection = self._selection()
        things = list(cached.things)
        self.families = {family.id: family for family in cached.families}
        self.data = {thing.deviceid: thing for thing in things}
        self._stale = set(self.data)
        self._restored = True
        self._sync_device_registry(missing_only=True)
        LOGGER.debug("Restored %d devices from the cache", len(things))
        return True

    @callback
    def async_set_local_things(self, things: Iterable[Thing]) -> None:
        """Set the devices of an entry that has no cloud (a DIY device found on the LAN)."""
        self._merge_read(things, {}, fresh=True)

    @callback
    def async_start_push(self) -> None:
        """Run the long connection as a background task of the entry (once)."""
        if not self._cloud_push:
            self._first_attempt.set()
            return
        if self._push_started:
            return
        self._push_started = True
        self._start_grace()
        self.config_entry.async_create_background_task(
            self.hass, self._run_connection(), f"{DOMAIN}_long_connection"
        )

    async def async_wait_first_attempt(self) -> None:
        """Wait (a little) for the first connection attempt to end, connected or not."""
        try:
            async with asyncio.timeout(FIRST_CONNECT_WAIT):
                await self._first_attempt.wait()
        except TimeoutError:
            LOGGER.debug("The long connection is slow to come up; reading without it")

    @callback
    def async_start(self) -> None:
        """Start the long connection, the reads and the periodic refresh of the thing list."""
        self.async_start_push()
        if self._restored:
            self._full_read_wanted = True
        self.config_entry.async_on_unload(
            async_track_time_interval(self.hass, self._periodic_read, THING_LIST_INTERVAL)
        )
        self.config_entry.async_create_background_task(
            self.hass, self._sync_loop(), f"{DOMAIN}_sync"
        )

    async def async_shutdown(self) -> None:
        """Stop the timers and write the cache (the entry unloads)."""
        self._stopping = True
        self._stop_grace()
        await self.cache.async_flush()
        await super().async_shutdown()

    # -- reads of the thing list -----------------------------------------------------------

    async def _async_update_data(self) -> dict[str, Thing]:
        """Read the homes and the thing list (first setup, `async_refresh`)."""
        try:
            await self._async_read(full=True)
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
        except Exception as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": type(err).__name__},
            ) from err
        return self.data

    async def _async_read(self, *, full: bool) -> None:
        """Read the thing list and merge it; pushes received meanwhile are applied on top.

        `full` also re-reads the homes. The read makes the devices fresh only when the long
        connection was up from its start to its end (no push can have been missed).
        """
        async with self._read_lock:
            if full:
                self._full_read_wanted = False
            epoch, connected = self._epoch, self.connected
            started = time.monotonic()
            journal = self._journal = {}
            try:
                if full or not self.families:
                    families = await self.client.get_families()
                    self.families = {family.id: family for family in families}
                selection = self._selection()
                things = await self.client.get_things(self._selected_homes())
            except BaseException:
                if full:
                    self._full_read_wanted = True
                raise
            finally:
                self._journal = None
            fresh = connected and self.connected and epoch == self._epoch
            self._read_selection = selection
            self._merge_read(things, journal, fresh=fresh)
            stats = self.sync_stats
            stats.reads += 1
            stats.last_read = dt_util.utcnow().isoformat()
            stats.last_read_seconds = round(time.monotonic() - started, 3)

    def _selection(self) -> list[str]:
        """Return the homes chosen in the options (empty: all of them)."""
        return sorted(self.config_entry.options.get(CONF_HOMES) or ())

    def _selected_homes(self) -> list[str]:
        selected = set(self._selection())
        return [home for home in self.families if not selected or home in selected]

    def _merge_read(
        self, things: Iterable[Thing], journal: Mapping[str, _Pending], *, fresh: bool
    ) -> None:
        """Merge a read into the devices, keeping each `Thing` object; notify what changed."""
        seen: set[str] = set()
        added = False
        for new in things:
            deviceid = new.deviceid
            if deviceid in seen:
                continue
            seen.add(deviceid)
            pending = journal.get(deviceid)
            thing = self.data.get(deviceid)
            if thing is None:
                if pending is not None:
                    _apply_pending(new, pending)
                self.data[deviceid] = new
                added = True
                if not fresh:
                    self._stale.add(deviceid)
                continue
            before, was_online = thing.params, thing.online
            for name in _THING_FIELDS:
                setattr(thing, name, getattr(new, name))
            if pending is not None:
                _apply_pending(thing, pending)
            if not thing.online and (sources := self._reachable.get(deviceid)):
                # The cloud lost the device (its params are old) while another path reaches it.
                for source in sources:
                    merge_params(thing.params, self._source_params.get((deviceid, source), {}))
            self._notify_read(deviceid)
            if fresh:
                self._stale.discard(deviceid)
            if thing.online is not was_online:
                self._write_all(deviceid)
            elif keys := _changed_keys(before, thing.params):
                self._write(deviceid, keys)
        removed = [deviceid for deviceid in self.data if deviceid not in seen]
        for deviceid in removed:
            del self.data[deviceid]
            self._stale.discard(deviceid)
            self._device_infos.pop(deviceid, None)
            self._forget_sources(deviceid)
        self._sync_device_registry()
        if added or removed:
            self.async_update_listeners()
        self._schedule_save()

    @callback
    def _periodic_read(self, _now: object = None) -> None:
        self._request_read(full=True)

    @callback
    def async_request_read(self) -> None:
        """Read the homes and the thing list again soon (in the background)."""
        self._request_read(full=True)

    @callback
    def _request_read(self, *, full: bool = False) -> None:
        if full:
            self._full_read_wanted = True
        self._wake.set()

    @property
    def settled(self) -> bool:
        """Return True when no read of the thing list runs or is due (tests wait for it)."""
        return self._journal is None and not self._read_due()

    def _read_due(self) -> bool:
        return self._full_read_wanted or (bool(self._stale) and self.connected)

    async def _sync_loop(self) -> None:
        """Run the reads one after another, with backoff after failures, until fresh."""
        if self._restored:
            await self.async_wait_first_attempt()
        failures = 0
        failing_since = 0.0
        while True:
            self._wake.clear()
            if not self._read_due():
                await self._wake.wait()
                continue
            if (
                not self._full_read_wanted
                and failures == 0
                and (self._query_task is None or self._query_task.done())
                and self._queries_are_faster()
            ):
                before = len(self._stale)
                await self._query_stale()
                if len(self._stale) < before:
                    continue  # what is left (devices that did not answer) is read next
            try:
                await self._async_read(full=self._full_read_wanted)
            except ReauthRequiredError:
                self._reauth()
                return
            except Exception as err:  # noqa: BLE001  every failure is retried
                failures += 1
                if failures == 1:
                    failing_since = time.monotonic()
                self.sync_stats.failures += 1
                self.sync_stats.last_error = _describe(err)
                if isinstance(err, SessionTakenOverError):
                    self._create_takeover_issue()
                delay = self._retry_delay(
                    failures, self._read_retry_cap(time.monotonic() - failing_since)
                )
                LOGGER.debug(
                    "Reading the device list failed (%s); retry in %.1f s", _describe(err), delay
                )
                self._start_queries()
                self._wake.clear()
                try:
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            else:
                failures = 0

    def _queries_are_faster(self) -> bool:
        """Return True when querying the stale devices beats reading the whole list.

        Queries go one per `QUERY_SECONDS` over the long connection; a read takes what the last
        one took (one call per home, or pages of 30 two a second).
        """
        last = self.sync_stats.last_read_seconds
        return self.connected and last is not None and len(self._stale) * QUERY_SECONDS < last

    def _read_retry_cap(self, failing_for: float) -> float:
        """Return the longest wait before the next read after failures for `failing_for` s."""
        if self._stale and failing_for < STALE_RETRY_PERIOD:
            return RETRY_MAX_STALE
        return RETRY_MAX

    def _retry_delay(self, failures: int, cap: float = RETRY_MAX) -> float:
        ceiling = min(cap, RETRY_MIN * 2 ** (failures - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    @callback
    def _start_queries(self) -> None:
        """Catch the stale devices up over the websocket while REST reads fail."""
        if self.connected and self._stale and (self._query_task is None or self._query_task.done()):
            self._query_task = self.config_entry.async_create_background_task(
                self.hass, self._query_stale(), f"{DOMAIN}_query_stale"
            )

    async def _query_stale(self) -> None:
        """Ask every stale device for its state (`query`), a batch at a time."""
        tried: set[str] = set()
        while self.connected:
            batch = [
                thing
                for deviceid in self._stale - tried
                if (thing := self.data.get(deviceid)) is not None and thing.owner_apikey
            ][:QUERY_BATCH]
            if not batch:
                return
            tried.update(thing.deviceid for thing in batch)
            await asyncio.gather(*(self._query(thing) for thing in batch))

    async def _query(self, thing: Thing) -> None:
        epoch = self._epoch
        try:
            params = await self.connection.query(thing.deviceid, thing.owner_apikey)
        except DeviceOfflineError:
            if epoch == self._epoch:
                self._stale.discard(thing.deviceid)
                self._apply(thing.deviceid, None, False)
            return
        except CoolkitError as err:
            LOGGER.debug("Query of %s failed: %s", thing.deviceid, _describe(err))
            return
        if epoch == self._epoch and self.connected:
            self.sync_stats.queries += 1
            self._stale.discard(thing.deviceid)
            self._apply(thing.deviceid, params, True, read=True)

    # -- the device registry -------------------------------------------------------------

    def _sync_device_registry(self, *, missing_only: bool = False) -> None:
        """Register every device (bridges first) and remove the ones gone.

        Only devices whose registry data changed are written (`missing_only`: only devices not
        registered at all, when the data comes from the cache). A MAC address that another
        device already has (two devices reporting the same MAC) is left out of the second one.
        """
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        devices = self.data
        for thing in sorted(devices.values(), key=lambda t: t.parent_id is not None):
            firmware = thing.params.get("fwVersion")
            parent = thing.parent_id if thing.parent_id in devices else None
            info = (
                thing.name,
                thing.brand,
                device_model(thing),
                thing.firmware_model,
                firmware if isinstance(firmware, str) else None,
                thing.mac,
                self._room_name(thing),
                parent,
            )
            if self._registered.get(thing.deviceid) == info:
                continue
            self._registered[thing.deviceid] = info
            if missing_only and registry.async_get_device_by_identifier(
                (DOMAIN, thing.deviceid), entry_id
            ):
                continue  # registered from this very data before the cache was written
            self._register(registry, thing, info)
        if missing_only:
            return
        for gone in self._registered.keys() - devices.keys():
            del self._registered[gone]
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            ids = {value for domain, value in device.identifiers if domain == DOMAIN}
            if ids and not ids & devices.keys():
                LOGGER.info("Removing %s: it is no longer in the eWeLink account", device.name)
                registry.async_remove_device(device.id)

    def _register(self, registry: dr.DeviceRegistry, thing: Thing, info: tuple[Any, ...]) -> None:
        name, brand, model, firmware_model, firmware, mac, room, parent = info
        via_device_id = None
        if parent is not None:
            bridge = registry.async_get_device_by_identifier(
                (DOMAIN, parent), self.config_entry.entry_id
            )
            via_device_id = bridge.id if bridge else None
        kwargs: dict[str, Any] = {
            "config_entry_id": self.config_entry.entry_id,
            "identifiers": {(DOMAIN, thing.deviceid)},
            "name": name,
            "manufacturer": brand or "eWeLink",
            "model": model,
            "model_id": firmware_model,
            "sw_version": firmware,
            "suggested_area": room,
            "via_device_id": via_device_id,
        }
        connection = (dr.CONNECTION_NETWORK_MAC, dr.format_mac(mac)) if mac else None
        if connection is not None:
            holder = registry.async_get_device_by_connection(connection, kwargs["config_entry_id"])
            if holder is not None and (DOMAIN, thing.deviceid) not in holder.identifiers:
                LOGGER.debug(
                    "%s reports the MAC address of another device; registered without it",
                    thing.deviceid,
                )
                connection = None
        try:
            registry.async_get_or_create(
                **kwargs, connections={connection} if connection is not None else None
            )
        except (dr.DeviceInfoError, dr.DeviceCollisionError) as err:
            LOGGER.debug("Registering %s without its MAC address: %s", thing.deviceid, err)
            try:
                registry.async_get_or_create(**kwargs)
            except (dr.DeviceInfoError, dr.DeviceCollisionError) as again:
                LOGGER.debug("Could not register %s: %s", thing.deviceid, again)

    def _room_name(self, thing: Thing) -> str | None:
        family = self.families.get(thing.family_id or "")
        if family is None or not thing.room_id:
            return None
        return family.rooms.get(thing.room_id) or None

    # -- the cache -----------------------------------------------------------------------

    @callback
    def _schedule_save(self) -> None:
        if not self.cache.save_pending:
            self.cache.async_schedule_save(self._snapshot)

    def _snapshot(self) -> Snapshot:
        return Snapshot(self.families.values(), self.data.values(), self._read_selection)

    # -- the long connection ---------------------------------------------------------------

    async def _run_connection(self) -> None:
        """Keep the long connection running; only a dead session ends it (reauth)."""
        restarts = 0
        while True:
            try:
                await self.connection.run()
            except ReauthRequiredError:
                LOGGER.warning("The eWeLink session cannot be renewed; please sign in again")
                self._reauth()
                return
            except Exception as err:  # noqa: BLE001  nothing the cloud sends may end it for good
                restarts += 1
                delay = self._retry_delay(restarts)
                LOGGER.warning(
                    "The eWeLink connection stopped unexpectedly (%s); restarting in %.0f s",
                    type(err).__name__,
                    delay,
                )
                LOGGER.debug("Unexpected end of the long connection", exc_info=True)
                await asyncio.sleep(delay)
            else:  # pragma: no cover - run() only returns by raising
                return

    @callback
    def _reauth(self) -> None:
        self._stop_grace()
        self._set_live(False)
        self.config_entry.async_start_reauth(self.hass)

    @callback
    def _handle_state(self, state: ConnectionState) -> None:
        if self._stopping:
            return
        if state is not ConnectionState.CONNECTING:
            self._first_attempt.set()
        if state is ConnectionState.CONNECTED:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
            self._epoch += 1
            self._stop_grace()
            self._set_live(True)
            if self._lost:
                LOGGER.info("Connection to eWeLink restored")
            self._was_connected = True
            self._lost = False
            if self._stale:
                self._request_read()
            return
        if state is ConnectionState.TAKEN_OVER:
            self._create_takeover_issue()
        if state is ConnectionState.AUTH_REQUIRED:
            self._set_live(False)
        if self._was_connected:
            # Pushes are missed from now on: every device needs a catch-up once back.
            self._was_connected = False
            self._lost = True
            self._epoch += 1
            self._stale.update(self.data)
            self._start_grace()
            LOGGER.info("Connection to eWeLink lost (%s)", state.value)

    @callback
    def _start_grace(self) -> None:
        if self._grace_unsub is None and not self.connected:
            self._grace_unsub = async_call_later(self.hass, CONNECTION_GRACE, self._grace_expired)

    @callback
    def _stop_grace(self) -> None:
        if self._grace_unsub is not None:
            self._grace_unsub()
            self._grace_unsub = None

    @callback
    def _grace_expired(self, _now: object) -> None:
        self._grace_unsub = None
        if not self.connected:
            LOGGER.debug("No connection for %s: the devices become unavailable", CONNECTION_GRACE)
            self._set_live(False)

    @callback
    def _set_live(self, live: bool) -> None:
        if live is self._live:
            return
        self._live = live
        for deviceid in list(self._device_listeners):
            self._write_all(deviceid)

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
        """Apply one pushed frame (hot path); nothing in it may escape."""
        try:
            if isinstance(event, DeviceOnline):
                self._apply(event.deviceid, None, event.online)
            elif self._reachable.get(event.deviceid) and (thing := self.data.get(event.deviceid)):
                # Another path reaches the device: the push may be a late copy of its report.
                verdict = self.arbiter.judge(event.deviceid, "cloud", event.params, thing.params)
                self._apply(
                    event.deviceid,
                    verdict.apply,
                    True if event.implies_online else None,
                    pushed=True,
                    news=verdict.news,
                )
            else:
                self._apply(
                    event.deviceid,
                    event.params,
                    True if event.implies_online else None,
                    pushed=True,
                )
        except Exception:  # noqa: BLE001  hostile input is dropped, the connection stays up
            LOGGER.debug("Dropped a push for %s", event.deviceid, exc_info=True)

    # -- applying changes (every source) ---------------------------------------------------

    @callback
    def _apply(
        self,
        deviceid: str,
        params: Mapping[str, Any] | None,
        online: bool | None,
        *,
        read: bool = False,
        pushed: bool = False,
        news: Mapping[str, Any] | None = None,
    ) -> None:
        """Merge params and/or an online flag into a device; write what they change (hot path).

        `read`: the params are the device's full state (a query reply), which the read listeners
        are told about before the entities are written. `pushed`: the params are one pushed
        message, which the push listeners get (once, after the merge, before the writes); they
        get `news` instead when given (what another path has not delivered already).
        """
        if online and self._online_waiters:
            waiter = self._online_waiters.pop(deviceid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if self._journal is not None:
            self._record(deviceid, params, online)
        thing = self.data.get(deviceid)
        if thing is None:
            return
        keys = _merge(thing.params, params) if params else None
        if read:
            self._notify_read(deviceid)
        if pushed and (message := params if news is None else news):
            for push_listener in self._push_listeners.get(deviceid, ()):
                push_listener(message)
        if online is not None and thing.online is not online:
            thing.online = online
            self._write_all(deviceid)
        elif keys:
            self._write(deviceid, keys)
        else:
            return
        if not self.cache.save_pending:
            self.cache.async_schedule_save(self._snapshot)

    @callback
    def _record(self, deviceid: str, params: Mapping[str, Any] | None, online: bool | None) -> None:
        """Journal a change that arrived while a read runs (re-applied on top of its result)."""
        if (journal := self._journal) is None:
            return
        pending = journal.get(deviceid)
        if pending is None:
            pending = journal[deviceid] = _Pending()
        if params:
            merge_params(pending.params, params)
        if online is not None:
            pending.online = online

    @callback
    def async_apply_params(
        self,
        deviceid: str,
        params: Mapping[str, Any],
        *,
        source: str,
        sequence: int | None = None,
        complete: bool = False,
        push_extra: Mapping[str, Any] | None = None,
        unordered: bool = False,
    ) -> bool:
        """Apply a state reported by another source (LAN); return False when it is older.

        `sequence` orders the reports of one source for one device (a LAN `seq`): a report
        whose sequence is not newer than the last one applied is ignored. `complete` says the
        params are the device's full state, which makes a catch-up read needless for it.
        Against the cloud's pushes, the `arbiter` drops values that are late copies of a
        superseded state. `push_extra` makes the report a pushed message (a real change, not a
        replay): push listeners get what is news in it plus these keys (the LAN `seq`).
        `unordered`: how the report's age compares with the cloud's state is unknown (the first
        record heard after a start may come from a cache); while the cloud's state is current
        it only adds params the device does not have.
        """
        if sequence is not None:
            key = (deviceid, source)
            last = self._sequences.get(key)
            if last is not None and sequence <= last:
                return False
            self._sequences[key] = sequence
        thing = self.data.get(deviceid)
        if thing is None:
            self._apply(deviceid, params, None)  # journaled: a read under way may add it
            return True
        if unordered and self._cloud_current(thing):
            params = {key: value for key, value in params.items() if key not in thing.params}
        verdict = self.arbiter.judge(deviceid, source, params, thing.params)
        merge_params(self._source_params.setdefault((deviceid, source), {}), verdict.apply)
        self._apply(
            deviceid,
            verdict.apply,
            None,
            pushed=push_extra is not None,
            news={**verdict.news, **push_extra} if push_extra is not None else None,
        )
        if complete:
            self._stale.discard(deviceid)
        return True

    def _cloud_current(self, thing: Thing) -> bool:
        """Return True when the cloud's state of a device is current (pushes arrive for it)."""
        return self.connected and thing.online and thing.deviceid not in self._stale

    @callback
    def _forget_sources(self, deviceid: str) -> None:
        """Forget what other sources said of a device (it left the account)."""
        self._reachable.pop(deviceid, None)
        self.arbiter.forget(deviceid)
        for key in [key for key in self._source_params if key[0] == deviceid]:
            del self._source_params[key]
        for key in [key for key in self._sequences if key[0] == deviceid]:
            del self._sequences[key]

    @callback
    def async_set_reachable(self, deviceid: str, source: str, reachable: bool) -> None:
        """Say whether another source (LAN) reaches the device now: it is then available."""
        sources = self._reachable.setdefault(deviceid, set())
        before = bool(sources)
        if reachable:
            sources.add(source)
        else:
            sources.discard(source)
        if bool(sources) is not before:
            self._write_all(deviceid)

    def device_available(self, deviceid: str, *, when_offline: bool = False) -> bool:
        """Return True when the device's entities can show a state.

        A device is available while another source reaches it, or while the cloud's state can
        be trusted (`live`) and the cloud says it is online; battery devices that sleep, and
        entities that describe the connectivity itself (`when_offline`), stay available while
        it says offline.
        """
        thing = self.data.get(deviceid)
        if thing is None:
            return False
        if self._reachable.get(deviceid):
            return True
        return self._live and (thing.online or when_offline or battery_powered(thing))

    # -- listeners -------------------------------------------------------------------------

    def device_info(self, deviceid: str) -> DeviceInfo:
        """Return the link of a device's entities to its registry device (one per device).

        The coordinator registers the devices; entities only name theirs, and share the object.
        """
        if (info := self._device_infos.get(deviceid)) is None:
            info = self._device_infos[deviceid] = DeviceInfo(identifiers={(DOMAIN, deviceid)})
        return info

    @callback
    def async_subscribe_reads(self, deviceid: str, listener: DeviceListener) -> CALLBACK_TYPE:
        """Call `listener` when a read (thing list or query) gave the device's full state.

        It runs after the read is merged into the params and before the entities are written,
        for entities that keep state of their own (event de-duplication, cover motion).
        """
        listeners = self._read_listeners.setdefault(deviceid, [])
        listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            listeners.remove(listener)
            if not listeners:
                self._read_listeners.pop(deviceid, None)

        return unsubscribe

    @callback
    def _notify_read(self, deviceid: str) -> None:
        for listener in self._read_listeners.get(deviceid, ()):
            try:
                listener()
            except Exception:  # noqa: BLE001  one entity must not stop the merge
                LOGGER.debug("Read listener of %s failed", deviceid, exc_info=True)

    @callback
    def async_subscribe_pushes(self, deviceid: str, listener: PushListener) -> CALLBACK_TYPE:
        """Call `listener` with the params of each push from this device (not on list reads).

        For entities whose state is the push itself (button events, cover motion echoes): they
        need what one message carried, which the merged params no longer tell. A push reaches
        them once, even when a thing-list read re-applies it.
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
    def async_subscribe_device(
        self,
        deviceid: str,
        listener: DeviceListener,
        reads: Iterable[ReadKey] | None = None,
    ) -> CALLBACK_TYPE:
        """Call `listener` when a change of the device touches one of `reads` (every change
        when None) and when its availability changes; return the unsubscribe callback.

        Keys are params, or `(param, outlet)` for one item of a channel array (`read_keys`).
        """
        listeners = self._device_listeners.get(deviceid)
        if listeners is None:
            listeners = self._device_listeners[deviceid] = _Listeners()
        listeners.every = (*listeners.every, listener)
        keys: Iterable[ReadKey | None] = (
            (None,) if reads is None else reads if type(reads) is frozenset else frozenset(reads)
        )
        for key in keys:
            listeners.by_key[key] = (*listeners.by_key.get(key, ()), listener)

        @callback
        def unsubscribe() -> None:
            listeners.every = _without(listeners.every, listener)
            for key in keys:
                if remaining := _without(listeners.by_key.get(key, ()), listener):
                    listeners.by_key[key] = remaining
                else:
                    listeners.by_key.pop(key, None)
            if not listeners.every and self._device_listeners.get(deviceid) is listeners:
                del self._device_listeners[deviceid]

        return unsubscribe

    @callback
    def _write(self, deviceid: str, keys: list[ReadKey]) -> None:
        """Call the device's listeners that read one of `keys`, each once (hot path)."""
        listeners = self._device_listeners.get(deviceid)
        if listeners is None:
            return
        by_key = listeners.by_key
        targets: Iterable[DeviceListener]
        if len(keys) == 1 and None not in by_key:
            targets = by_key.get(keys[0], ())
        else:
            found = dict.fromkeys(by_key.get(None, ()))
            for key in keys:
                for listener in by_key.get(key, ()):
                    found[listener] = None
            targets = found
        for listener in targets:
            try:
                listener()
            except Exception:  # noqa: BLE001  one entity must not stop the others
                LOGGER.debug("Updating an entity of %s failed", deviceid, exc_info=True)

    @callback
    def _write_all(self, deviceid: str) -> None:
        if (listeners := self._device_listeners.get(deviceid)) is not None:
            for listener in listeners.every:
                try:
                    listener()
                except Exception:  # noqa: BLE001  one entity must not stop the others
                    LOGGER.debug("Updating an entity of %s failed", deviceid, exc_info=True)

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

    # -- commands --------------------------------------------------------------------------

    @callback
    def async_add_command_path(self, path: CommandPath) -> CALLBACK_TYPE:
        """Try `path` before the cloud's paths (LAN control); return the removal callback."""
        self._paths.insert(0, path)

        @callback
        def remove() -> None:
            self._paths.remove(path)

        return remove

    async def async_send(self, deviceid: str, params: dict[str, Any]) -> None:
        """Send a command over the first path that delivers it, then apply it.

        Paths are tried in order (added paths such as LAN, then the long connection, then
        REST); a path that cannot deliver (`PathUnavailableError`) passes the command on. Only
        when every path failed is a translated error raised.
        """
        thing = self.data.get(deviceid)
        if thing is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={"device": deviceid},
            )
        failure: Exception | None = None
        for path in tuple(self._paths):
            if not path.can_send(thing):
                continue
            try:
                await path.async_send(thing, params)
            except PathUnavailableError as err:
                LOGGER.debug("%s could not deliver a command to %s: %s", path.name, deviceid, err)
                failure = err
                continue
            except CoolkitError as err:
                if isinstance(err, ReauthRequiredError):
                    self._reauth()  # found out first: ask for a new sign-in now
                raise _command_error(err, thing.name) from err
            break
        else:
            cause = failure.__cause__ if failure is not None else None
            if (
                isinstance(failure, PathUnavailableError)
                and failure.translation_key is not None
                and not isinstance(cause, CoolkitError)
            ):
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key=failure.translation_key,
                    translation_placeholders={"device": thing.name},
                ) from failure
            error = cause if isinstance(cause, CoolkitError) else NotConnectedError("no path")
            raise _command_error(error, thing.name) from failure
        # The cloud does not reliably echo the new state to the sender (coolkit-cloud.md §12.4).
        self._apply(deviceid, params, True)


def _apply_pending(thing: Thing, pending: _Pending) -> None:
    merge_params(thing.params, pending.params)
    if pending.online is not None:
        thing.online = pending.online


def _merge(state: dict[str, Any], update: Mapping[str, Any]) -> list[ReadKey]:
    """Merge pushed params into a state in place; return the keys they changed (hot path).

    Channel arrays merge per item, as `merge_params` does: an item that repeats the current one
    changes nothing, and the changed items are also returned as `(array, outlet)`. Items
    without an integer outlet are dropped.
    """
    keys: list[ReadKey] = []
    for key, value in update.items():
        current = state.get(key, _MISSING)
        if value == current and type(value) is type(current):  # 1 == True, yet it is a change
            continue
        if key in CHANNEL_ARRAYS and type(value) is list:
            merged, outlets = _merge_items(current, value)
            if outlets:
                state[key] = merged
                keys.append(key)
                keys.extend((key, outlet) for outlet in outlets)
            continue
        state[key] = value
        keys.append(key)
    return keys


def _merge_items(current: object, items: list[Any]) -> tuple[list[Any], list[int]]:
    """Merge channel items by outlet; return the sorted array and the outlets that changed."""
    if type(current) is list and len(current) == len(items):
        # Usually the device repeats its whole array in outlet order: compare item by item.
        merged = list(current)
        changed: list[int] = []
        for index, item in enumerate(items):
            previous = current[index]
            if item == previous:
                continue
            if (
                type(item) is not dict
                or type(previous) is not dict
                or type(outlet := item.get("outlet")) is not int
                or previous.get("outlet") != outlet
            ):
                break
            if (new := {**previous, **item}) != previous:
                merged[index] = new
                changed.append(outlet)
        else:
            return merged, changed
    by_outlet: dict[int, Any] = {}
    if type(current) is list:
        for item in current:
            if type(item) is dict and type(outlet := item.get("outlet")) is int:
                by_outlet[outlet] = item
    changed = []
    for item in items:
        if type(item) is not dict or type(outlet := item.get("outlet")) is not int:
            continue
        previous = by_outlet.get(outlet)
        if previous is None:
            by_outlet[outlet] = dict(item)
        elif previous == item:
            continue
        else:
            combined = {**previous, **item}
            if combined == previous:
                continue
            by_outlet[outlet] = combined
        changed.append(outlet)
    if not changed:
        return [], changed
    return [by_outlet[outlet] for outlet in sorted(by_outlet)], changed


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[ReadKey]:
    """Return the keys that differ between two full states (arrays per item too)."""
    keys: list[ReadKey] = []
    for key, value in after.items():
        current = before.get(key, _MISSING)
        if value == current and type(value) is type(current):
            continue
        keys.append(key)
        if key in CHANNEL_ARRAYS:
            old, new = _items_by_outlet(current), _items_by_outlet(value)
            keys.extend(
                (key, outlet)
                for outlet in old.keys() | new.keys()
                if old.get(outlet) != new.get(outlet)
            )
    keys.extend(key for key in before if key not in after)
    return keys


def _items_by_outlet(items: object) -> dict[int, Any]:
    if type(items) is not list:
        return {}
    return {
        outlet: item
        for item in items
        if type(item) is dict and type(outlet := item.get("outlet")) is int
    }


def _without[T](items: tuple[T, ...], item: T) -> tuple[T, ...]:
    index = items.index(item)
    return items[:index] + items[index + 1 :]


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _command_error(err: CoolkitError, device: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=_command_error_key(err),
        translation_placeholders={"device": device},
    )


def _command_error_key(err: CoolkitError) -> str:
    if isinstance(err, DeviceOfflineError):
        return "device_offline"
    if isinstance(err, DeviceTimeoutError):
        return "device_timeout"
    if isinstance(err, CoolkitConnectionError):
        return "not_connected"
    if isinstance(err, CommandRejectedError):
        return "command_rejected"
    if isinstance(err, RateLimitedError):
        return "command_rate_limited"
    if isinstance(err, ReauthRequiredError | SessionTakenOverError):
        return "command_signed_out"
    return "command_failed"
