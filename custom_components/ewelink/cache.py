"""The last known thing list of an entry, kept in Home Assistant's storage.

At start-up the entities are created from it at once, before the cloud has answered; the cloud's
read then reconciles them. The file is private (mode 0600) and holds what the entry already holds
(the user's apikey is not even written: own devices are marked `own`) plus the devices' state and,
when the client reports them, their device keys (LAN control needs them while the cloud is away).
Other accounts' apikeys (the owners of shared devices) are not kept, nor are the params that carry
third-party credentials; values are bounded so that nothing a device sends can make the file
unwritable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .coolkit import Family, Thing
from .coolkit.models import is_valid_id

STORAGE_VERSION: Final = 1
# Written this long after the first change (and at shutdown, and when the entry unloads).
SAVE_DELAY: Final = 60.0
# Params that hold other services' credentials or pairing secrets: never cached.
UNCACHED_PARAMS: Final = frozenset({"bindInfos", "p2pinfo"})
# Bounds for values that came from the network (deeper or longer parts are dropped).
MAX_DEPTH: Final = 16
MAX_ITEMS: Final = 1000
MAX_STRING: Final = 20000

_THING_FIELDS: Final = tuple(f.name for f in fields(Thing))
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What is cached: the homes, the things and the homes chosen in the options."""

    families: Collection[Family]
    things: Collection[Thing]
    selected_homes: Collection[str]


def json_safe(
    value: object,
    *,
    depth: int = MAX_DEPTH,
    items: int = MAX_ITEMS,
    string: int = MAX_STRING,
) -> Any:
    """Return a copy of a JSON-like value that any JSON encoder accepts.

    Containers deeper than `depth` become None, containers are cut to `items` entries, strings
    to `string` characters, lone surrogates are replaced, and other types become strings.
    """
    if isinstance(value, str):
        text = value[:string]
        try:
            text.encode()
        except UnicodeEncodeError:
            text = text.encode(errors="replace").decode()
        return text
    if isinstance(value, _SCALARS):
        return value
    if depth <= 0:
        return None
    if isinstance(value, Mapping):
        return {
            json_safe(key, string=string): json_safe(
                item, depth=depth - 1, items=items, string=string
            )
            for n, (key, item) in enumerate(value.items())
            if n < items
        }
    if isinstance(value, list | tuple):
        return [
            json_safe(item, depth=depth - 1, items=items, string=string) for item in value[:items]
        ]
    return json_safe(str(value), string=string)


class ThingCache:
    """Read and write the cached homes and things of one config entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str, user_apikey: str) -> None:
        """Bind the cache to an entry; `user_apikey` marks and restores the own devices."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True, atomic_writes=True
        )
        self._user_apikey = user_apikey
        self._snapshot: Callable[[], Snapshot] | None = None

    async def async_load(self) -> Snapshot | None:
        """Return the cached homes and things, or None when there is no usable cache."""
        try:
            data = await self._store.async_load()
        except Exception as err:  # noqa: BLE001  a damaged file only costs the head start
            LOGGER.debug("Ignoring the cached device list: %s", type(err).__name__)
            return None
        if not isinstance(data, dict):
            return None
        try:
            families = [_family(item) for item in data.get("homes") or ()]
            things = [self._thing(item) for item in data.get("things") or ()]
            selected = [str(home) for home in data.get("selected_homes") or ()]
        except TypeError, ValueError, KeyError:
            LOGGER.debug("Ignoring the cached device list: unexpected content")
            return None
        return Snapshot(families, things, selected)

    @property
    def save_pending(self) -> bool:
        """Return True while a write is scheduled."""
        return self._snapshot is not None

    @callback
    def async_schedule_save(self, snapshot: Callable[[], Snapshot]) -> None:
        """Write the snapshot `SAVE_DELAY` seconds after the first change since the last write."""
        if self._snapshot is None:
            self._snapshot = snapshot
            self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Write a pending change now (the entry unloads)."""
        if self._snapshot is not None:
            await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the file (the entry is removed)."""
        await self._store.async_remove()

    def _data(self) -> dict[str, Any]:
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is None:  # pragma: no cover - the store calls this once per schedule
            return {}
        current = snapshot()
        return {
            "homes": [
                {"id": f.id, "name": f.name, "rooms": dict(f.rooms), "index": f.index}
                for f in current.families
            ],
            "selected_homes": list(current.selected_homes),
            "things": [self._item(thing) for thing in current.things],
        }

    def _item(self, thing: Thing) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for name in _THING_FIELDS:
            value = getattr(thing, name)
            if name == "owner_apikey":
                item["own"] = value == self._user_apikey
            elif name == "params":
                item[name] = json_safe({k: v for k, v in value.items() if k not in UNCACHED_PARAMS})
            else:
                item[name] = json_safe(value)
        return item

    def _thing(self, item: Mapping[str, Any]) -> Thing:
        if not isinstance(item, Mapping):
            raise TypeError("thing")
        values = {name: item[name] for name in _THING_FIELDS if name in item}
        values["owner_apikey"] = self._user_apikey if item.get("own") is True else ""
        thing = Thing(**values)
        if not is_valid_id(thing.devicekey):
            thing.devicekey = None  # a damaged key only costs LAN control until the next read
        if (
            not isinstance(thing.deviceid, str)
            or not thing.deviceid
            or not isinstance(thing.name, str)
            or not isinstance(thing.params, dict)
            or not isinstance(thing.tags, dict)
            or not isinstance(thing.online, bool)
            or not (thing.uiid is None or type(thing.uiid) is int)
        ):
            raise ValueError("thing")
        return thing


def _family(item: Mapping[str, Any]) -> Family:
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
        raise TypeError("home")
    rooms = item.get("rooms")
    index = item.get("index")
    return Family(
        id=item["id"],
        name=str(item.get("name") or ""),
        rooms={str(k): str(v) for k, v in rooms.items()} if isinstance(rooms, Mapping) else {},
        index=index if type(index) is int else 0,
    )
