"""LAN control of one config entry: announcements in, commands out, liveness (lan-protocol.md §7).

* Announcements (from the shared `LanHub`) of the entry's devices go through the entry's
  `LanRegistry` (freshness by `seq`, decryption with the thing list's devicekey). Fresh params
  are merged into the coordinator as source "lan", ordered by `seq` (a counter restart after a
  reboot starts a new epoch); a record that reports a change (not a first sight, not a replay)
  also reaches push listeners, with its `seq`, so button events fire from it once.
* Liveness follows the registry: a fresh announcement or any answer means reachable; devices
  silent for `ping_after` seconds are pinged (`getState`); three connection failures in a row
  mean not reachable on the LAN (then pinged every `offline_after` seconds). The coordinator is
  told through `async_set_reachable`, so a LAN-reachable device stays available when the cloud
  is down or says it is offline.
* Commands: this object is the coordinator's first command path. It delivers over the LAN with
  a short timeout (2 s, 5 s in LAN-only mode) and raises `PathUnavailableError` for anything
  the LAN cannot do (device not local, params devices refuse over the LAN, UIIDs that do not
  speak LAN, errors), so the cloud's paths take over.

iFan (UIID 34) decision: the cloud's `switches` view (outlet 0 light, 1 fan, 2-3 speed bits) is
translated to the LAN's `light` and `fan`/`speed` commands for devices that announce the local
type `fan_light` (iFan03/04); iFan02 (`strip`) takes `switches` as in the cloud. Announced
`fan`/`light`/`speed` params are translated back, so the entities keep one view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .const import LAN_MODE_LOCAL, LOGGER
from .coolkit import Thing
from .coolkit.models import sanitize_params
from .coordinator import EwelinkCoordinator, PathUnavailableError
from .lan import (
    DEFAULT_TIMEOUT,
    LAN_ONLY_TIMEOUT,
    PING_AFTER,
    RETRY_OFFLINE,
    Announcement,
    Freshness,
    LanConnectionError,
    LanError,
    LanProtocolError,
    LanRegistry,
    LanRejectedError,
    LanReply,
    LanTarget,
    cloud_only,
    commands_over_lan,
)
from .lan_arbiter import SOURCE_LAN
from .lan_hub import LanHub

PING_TICK: Final = timedelta(seconds=5)
PING_TIMEOUT: Final = 2.0
PING_BATCH: Final = 10
"""Devices pinged at once (each device takes one request at a time anyway)."""
PRUNE_TICKS: Final = 12
"""The arbiter forgets old deliveries every minute."""
SOURCE: Final = SOURCE_LAN
IFAN: Final = 34
IFAN_LOCAL_TYPE: Final = "fan_light"
# iFan speed -> (outlet 2, outlet 3), as fan.py sends it; outlet 1 is the fan's relay.
IFAN_SPEED_BITS: Final = {1: ("off", "off"), 2: ("on", "off"), 3: ("off", "on")}
_EPOCH: Final = 1 << 40


class LanControl:
    """The LAN side of one entry; also its first command path (`CommandPath`)."""

    name = "LAN"

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: EwelinkCoordinator,
        hub: LanHub,
        *,
        mode: str,
        only: str | None = None,
    ) -> None:
        """Serve `coordinator`'s devices (only the device `only` for a DIY entry)."""
        self.hass = hass
        self.coordinator = coordinator
        self.hub = hub
        self.mode = mode
        self.only = only
        self.registry = LanRegistry()
        self.timeout = LAN_ONLY_TIMEOUT if mode == LAN_MODE_LOCAL else DEFAULT_TIMEOUT
        self.ping_after = PING_AFTER
        self.offline_after = RETRY_OFFLINE
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "announcements", "replays", "applied", "undecryptable", "unknown_devices",
                "commands", "command_failures", "pings", "ping_failures",
            ),
            0,
        )  # fmt: skip
        self._keys: dict[str, str | None] = {}
        self._epochs: dict[tuple[str, str | None], int] = {}
        self._children: dict[str, list[str]] | None = None
        self._known: set[str] = set()
        self._ping_task: asyncio.Task[None] | None = None
        self._ticks = 0
        self._entry: ConfigEntry | None = None

    async def async_start(self, entry: ConfigEntry) -> None:
        """Listen to announcements, become the first command path, ping now and then."""
        self._entry = entry
        self._known = set(self.coordinator.data)
        entry.async_on_unload(self.coordinator.async_add_command_path(self))
        entry.async_on_unload(self.coordinator.async_add_listener(self._devices_changed))
        entry.async_on_unload(async_track_time_interval(self.hass, self._tick, PING_TICK))
        entry.async_on_unload(await self.hub.async_subscribe(self.handle))

    # -- announcements ---------------------------------------------------------------------

    @callback
    def handle(self, announcement: Announcement) -> None:
        """Take one announcement (from the hub)."""
        deviceid = announcement.deviceid
        if self.only is not None and deviceid != self.only:
            return
        thing = self.coordinator.data.get(deviceid)
        if thing is None:
            self.stats["unknown_devices"] += 1
            return
        key = thing.devicekey
        if deviceid in self._keys and self._keys[deviceid] != key:
            self._forget(deviceid)  # a new key (re-paired): its counter and records start over
        self._keys[deviceid] = key
        self.stats["announcements"] += 1
        update = self.registry.handle(announcement, key)
        if not update.freshness.is_fresh:
            self.stats["replays"] += 1
            return
        if update.error is not None:
            self.stats["undecryptable"] += 1
            LOGGER.debug("LAN data of %s cannot be read: %s", deviceid, type(update.error).__name__)
        elif update.params:
            self._merge(
                deviceid, announcement.subdevid, update.params, update.freshness, announcement.seq
            )
        self._update_reachable(deviceid)

    def _merge(
        self,
        deviceid: str,
        subdevid: str | None,
        params: Mapping[str, Any],
        freshness: Freshness,
        seq: int | None,
        *,
        replied: bool = False,
    ) -> None:
        """Merge fresh params of a device (or of its sub-unit `subdevid`) into the coordinator."""
        clean = sanitize_params(params)
        if not clean:
            return
        device = subdevid or deviceid
        thing = self.coordinator.data.get(device)
        state: dict[str, Any] = dict(clean)
        if thing is not None and thing.uiid == IFAN:
            state = ifan_to_cloud(state)
        key = (deviceid, subdevid)
        epoch = self._epochs.get(key, 0)
        if freshness in (Freshness.REBOOT, Freshness.SAME) or seq is None:
            epoch = self._epochs[key] = epoch + 1
        change = freshness.is_change and not replied
        if self.coordinator.async_apply_params(
            device,
            state,
            source=SOURCE,
            sequence=epoch * _EPOCH + (seq or 0),
            push_extra=({} if seq is None else {"seq": seq}) if change else None,
            unordered=freshness is Freshness.NEW,
        ):
            self.stats["applied"] += 1

    @callback
    def _update_reachable(self, deviceid: str) -> None:
        """Tell the coordinator whether the device (and its LAN sub-devices) can be reached."""
        thing = self.coordinator.data.get(deviceid)
        if thing is None:
            return
        reachable = self.registry.target(deviceid, thing.devicekey) is not None
        self.coordinator.async_set_reachable(deviceid, SOURCE, reachable)
        for child in self._children_of(deviceid):
            self.coordinator.async_set_reachable(child, SOURCE, reachable)

    def _children_of(self, deviceid: str) -> list[str]:
        if self._children is None:
            children: dict[str, list[str]] = {}
            for thing in self.coordinator.data.values():
                parent = thing.parent_id
                if parent is not None and commands_over_lan(thing.uiid, is_child=True):
                    children.setdefault(parent, []).append(thing.deviceid)
            self._children = children
        return self._children.get(deviceid, [])

    @callback
    def _devices_changed(self) -> None:
        """Devices were added or removed: re-index, and read what the hub heard of new ones."""
        self._children = None
        current = set(self.coordinator.data)
        added, removed = current - self._known, self._known - current
        self._known = current
        for deviceid in removed:
            self._forget(deviceid)
        for deviceid in added:
            for announcement in self.hub.latest(deviceid):
                self.handle(announcement)

    def _forget(self, deviceid: str) -> None:
        self.registry.forget(deviceid)
        self._keys.pop(deviceid, None)
        for key in [key for key in self._epochs if key[0] == deviceid]:
            del self._epochs[key]

    # -- liveness --------------------------------------------------------------------------

    @callback
    def _tick(self, _now: object = None) -> None:
        """Ping the devices that are due (one batch run at a time); prune the arbiter."""
        self._ticks += 1
        if self._ticks % PRUNE_TICKS == 0:
            self.coordinator.arbiter.prune()
        if self._ping_task is not None and not self._ping_task.done():
            return
        due = self.registry.due_for_ping(self.ping_after, self.offline_after)
        if due and self._entry is not None:
            self._ping_task = self._entry.async_create_background_task(
                self.hass, self.async_ping(due), "ewelink_lan_ping"
            )

    async def async_ping(self, deviceids: list[str]) -> None:
        """Ping devices (`getState`), a batch at a time; follow what they answer."""
        for start in range(0, len(deviceids), PING_BATCH):
            await asyncio.gather(
                *(self._ping(deviceid) for deviceid in deviceids[start : start + PING_BATCH])
            )

    async def _ping(self, deviceid: str) -> None:
        thing = self.coordinator.data.get(deviceid)
        if thing is None:
            self._forget(deviceid)
            return
        target = self.registry.target(deviceid, thing.devicekey, force=True)
        if target is None:
            return
        self.stats["pings"] += 1
        try:
            reply = await self.hub.client.get_state(target, timeout=PING_TIMEOUT)
        except (LanRejectedError, LanProtocolError) as err:
            # It answered (some firmware has no getState): alive.
            seq = err.seq if isinstance(err, LanRejectedError) else None
            self.registry.command_succeeded(deviceid, LanReply("getState", seq, None))
        except LanError as err:
            self.stats["ping_failures"] += 1
            self.registry.command_failed(deviceid, err)
        else:
            if state := self.registry.command_succeeded(deviceid, reply):
                self._merge(deviceid, None, state, Freshness.NEWER, reply.seq, replied=True)
        self._update_reachable(deviceid)

    # -- commands (CommandPath) ------------------------------------------------------------

    def can_send(self, thing: Thing) -> bool:
        """Return True when the device (or the parent it is reached through) is local.

        In LAN-only mode always: the LAN is the only path, and says why it cannot deliver.
        """
        return self.mode == LAN_MODE_LOCAL or self._target(thing) is not None

    def _target(self, thing: Thing) -> tuple[LanTarget, str | None] | None:
        parent_id = thing.parent_id
        parent = self.coordinator.data.get(parent_id) if parent_id is not None else None
        if parent is not None:
            if not commands_over_lan(thing.uiid, is_child=True):
                return None
            target = self.registry.target(parent.deviceid, parent.devicekey)
            return None if target is None else (target, thing.deviceid)
        if not commands_over_lan(thing.uiid):
            return None
        target = self.registry.target(thing.deviceid, thing.devicekey)
        return None if target is None else (target, None)

    async def async_send(self, thing: Thing, params: dict[str, Any]) -> None:
        """Deliver a command over the LAN, or raise `PathUnavailableError` (cloud next)."""
        if cloud_only(params):
            raise PathUnavailableError("not sent over the LAN", translation_key="lan_cloud_only")
        resolved = self._target(thing)
        if resolved is None:
            raise PathUnavailableError("not on the LAN", translation_key="lan_unreachable")
        target, subdevid = resolved
        requests = self._requests(thing, target.deviceid, params)
        for request in requests:
            self.stats["commands"] += 1
            try:
                reply = await self.hub.client.send(
                    target, request, subdevid=subdevid, timeout=self.timeout
                )
            except LanError as err:
                self.stats["command_failures"] += 1
                self.registry.command_failed(target.deviceid, err)
                self._update_reachable(target.deviceid)
                key = "lan_unreachable" if isinstance(err, LanConnectionError) else "lan_rejected"
                raise PathUnavailableError(str(err), translation_key=key) from err
            except ValueError as err:  # the params name no LAN command
                raise PathUnavailableError(
                    "no LAN command for these params", translation_key="lan_cloud_only"
                ) from err
            if state := self.registry.command_succeeded(target.deviceid, reply, subdevid):
                self._merge(
                    target.deviceid, subdevid, state, Freshness.NEWER, reply.seq, replied=True
                )
            self._update_reachable(target.deviceid)

    def _requests(
        self, thing: Thing, deviceid: str, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        peer = self.registry.peer(deviceid)
        if thing.uiid == IFAN and peer is not None and peer.local_type == IFAN_LOCAL_TYPE:
            requests = ifan_to_lan(params, thing.params)
            if requests is None:
                raise PathUnavailableError("no LAN form", translation_key="lan_cloud_only")
            return requests
        return [params]

    # -- diagnostics -----------------------------------------------------------------------

    def path(self, deviceid: str) -> str:
        """Return which path reaches a device now: `cloud`, `lan`, `both` or `none`."""
        thing = self.coordinator.data.get(deviceid)
        lan = thing is not None and self._target(thing) is not None
        cloud = (
            thing is not None
            and self.mode != LAN_MODE_LOCAL
            and self.coordinator.connected
            and thing.online
        )
        return {(True, True): "both", (True, False): "lan", (False, True): "cloud"}.get(
            (lan, cloud), "none"
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the entry's LAN facts (no keys, no params)."""
        return {
            "mode": self.mode,
            "browsing": self.hub.discovery.running,
            "mdns_error": self.hub.mdns_error,
            "discovery": dict(self.hub.discovery.stats),
            "client": dict(self.hub.client.stats),
            "stats": dict(self.stats),
        }

    def device_diagnostics(self, deviceid: str) -> dict[str, Any] | None:
        """Return what the LAN knows of a device (address, liveness), None if never heard."""
        return self.registry.diagnostics().get(deviceid)


def ifan_to_lan(params: Mapping[str, Any], state: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Translate an iFan command from the cloud's `switches` to the LAN's `light` / `fan`.

    Returns the requests to send (one per path), or None when the command has no LAN form.
    """
    items = params.get("switches")
    if set(params) != {"switches"} or type(items) is not list:
        return None if "switches" in params else [dict(params)]
    relays: dict[int, Any] = {}
    for item in state.get("switches") or ():
        if isinstance(item, Mapping) and type(item.get("outlet")) is int:
            relays[item["outlet"]] = item.get("switch")
    touched: set[int] = set()
    for item in items:
        if not isinstance(item, Mapping) or type(outlet := item.get("outlet")) is not int:
            return None
        relays[outlet] = item.get("switch")
        touched.add(outlet)
    requests: list[dict[str, Any]] = []
    if touched & {1, 2, 3}:
        if relays.get(1) == "off":
            requests.append({"fan": "off"})
        else:
            bits = (relays.get(2), relays.get(3))
            speed = next((n for n, pattern in IFAN_SPEED_BITS.items() if pattern == bits), None)
            if relays.get(1) != "on" or speed is None:
                return None
            requests.append({"fan": "on", "speed": speed})
    if 0 in touched:
        if relays.get(0) not in ("on", "off"):
            return None
        requests.append({"light": relays[0]})
    return requests or None


def ifan_to_cloud(params: dict[str, Any]) -> dict[str, Any]:
    """Translate announced iFan `fan`/`speed`/`light` to the cloud's `switches` view."""
    if not {"fan", "light", "speed"} & params.keys():
        return params
    out = {k: v for k, v in params.items() if k not in ("fan", "light", "speed")}
    items: list[dict[str, Any]] = []
    if params.get("light") in ("on", "off"):
        items.append({"outlet": 0, "switch": params["light"]})
    fan = params.get("fan")
    if fan == "off":
        items.append({"outlet": 1, "switch": "off"})
    elif fan == "on":
        speed = params.get("speed")
        items.append({"outlet": 1, "switch": "on"})
        if type(speed) is int and speed in IFAN_SPEED_BITS:
            second, third = IFAN_SPEED_BITS[speed]
            items += [{"outlet": 2, "switch": second}, {"outlet": 3, "switch": third}]
    if items:
        merged = {i["outlet"]: i for i in out.get("switches") or () if isinstance(i, dict)}
        merged.update({i["outlet"]: i for i in items})
        out["switches"] = [merged[o] for o in sorted(merged)]
    return out
