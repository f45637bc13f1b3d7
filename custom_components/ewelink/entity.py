"""Base entity: one device of the account, written only when a param it reads changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity, EntityDescription

from .coolkit import Thing
from .coordinator import EwelinkCoordinator, read_keys
from .devices import UiidPredicate, is_known, profile_uiid


@dataclass(frozen=True, kw_only=True)
class EwelinkEntityDescription(EntityDescription):
    """What every eWeLink entity description has: the params it reads, the devices it fits.

    `param` is the main param; `also_reads` names every other param the entity's state depends
    on. Together they are the keys whose changes re-write the entity (`reads`), so they must be
    complete. With a `channel`, a channel-array `param` (`switches`, `configure`, `pulses`)
    means that channel's item only. `available_when_offline` keeps the entity available while
    the cloud says the device is offline (it shows the connectivity itself).
    """

    param: str
    exists_fn: Callable[[Thing], bool]
    channel: int | None = None
    also_reads: tuple[str, ...] = ()
    available_when_offline: bool = False

    @property
    def reads(self) -> frozenset[str]:
        """Return every param the entity's state depends on."""
        return frozenset((self.param, *self.also_reads))


class EwelinkEntity(Entity):
    """An entity of one eWeLink device.

    It listens to its own device's changes of the params it reads, not to the whole account
    (a `CoordinatorEntity` would be written on every change of every device).
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: EwelinkEntityDescription

    def __init__(
        self,
        coordinator: EwelinkCoordinator,
        thing: Thing,
        description: EwelinkEntityDescription,
    ) -> None:
        """Link the entity to its device (registered by the coordinator)."""
        self.coordinator = coordinator
        self.entity_description = description
        self.deviceid = thing.deviceid
        self._attr_unique_id = f"{thing.deviceid}_{description.key}"
        if thing.shared:
            # Another configured account (the owner's) may have the same device: the shared
            # copy's ids name the account that sees it shared.
            self._attr_unique_id += f"_{coordinator.config_entry.unique_id}"
        self._attr_device_info = coordinator.device_info(thing.deviceid)
        if description.channel is not None:
            self._attr_translation_placeholders = {"channel": str(description.channel + 1)}

    @property
    def thing(self) -> Thing:
        """Return the device's current state."""
        return self.coordinator.data[self.deviceid]

    @property
    def params(self) -> dict[str, Any]:
        """Return the device's current params."""
        return self.thing.params

    @property
    def available(self) -> bool:
        """Return what the coordinator says of the device (connection, online, sleep)."""
        return self.coordinator.device_available(
            self.deviceid, when_offline=self.entity_description.available_when_offline
        )

    async def async_added_to_hass(self) -> None:
        """Listen to the changes of this device's params that the entity reads."""
        await super().async_added_to_hass()
        description = self.entity_description
        self.async_on_remove(
            self.coordinator.async_subscribe_device(
                self.deviceid,
                self.async_write_ha_state,
                read_keys(description.param, description.channel, description.also_reads),
            )
        )

    async def async_send(self, params: dict[str, Any]) -> None:
        """Send a command to the device (the coordinator chooses the path)."""
        await self.coordinator.async_send(self.deviceid, params)


def description_applies(description: EwelinkEntityDescription, thing: Thing) -> bool:
    """Return True when the device gets the entity of `description`.

    A device of an unknown UIID gets only the entities whose param it reports (its UIID's
    table is a guess from its params, uiid-params.md §5).
    """
    if not description.exists_fn(thing):
        return False
    return is_known(thing) or description.param in thing.params


def async_add_device_entities[DescriptionT: EwelinkEntityDescription](
    coordinator: EwelinkCoordinator,
    async_add_entities: Callable[[list[EwelinkEntity]], None],
    descriptions: tuple[DescriptionT, ...],
    factory: Callable[[EwelinkCoordinator, Thing, DescriptionT], EwelinkEntity],
) -> Callable[[], None]:
    """Add the entities of every device now, and again on every coordinator update.

    Tracks (device, description key): an entity whose existence depends on reported params
    (POWCT supply sensors, DualR3 motor mode, learned RF channels) appears when the param
    shows up - at once when a push carries it, else at the next thing-list read - and goes
    away (from the registry too) when it no longer applies. Descriptions are indexed by the
    UIIDs their predicate names, so an update costs O(devices x descriptions of one UIID).
    Returns the callback that stops it all (pass it to `entry.async_on_unload`).
    """
    by_uiid: dict[int | None, list[DescriptionT]] = defaultdict(list)
    watched: dict[int | None, set[str]] = defaultdict(set)
    anywhere: list[DescriptionT] = []
    for description in descriptions:
        predicate = description.exists_fn
        if isinstance(predicate, UiidPredicate):
            for uiid in predicate.uiids:
                by_uiid[uiid].append(description)
                watched[uiid] |= predicate.watched_for(uiid)
        else:
            anywhere.append(description)
    added: dict[str, dict[str, EwelinkEntity]] = {}
    push_unsubscribes: dict[str, Callable[[], None]] = {}

    @callback
    def sync_device(thing: Thing) -> list[EwelinkEntity]:
        wanted = {
            description.key: description
            for candidates in (by_uiid.get(profile_uiid(thing), ()), anywhere)
            for description in candidates
            if description_applies(description, thing)
        }
        present = added.get(thing.deviceid)
        if present is None:
            if not wanted:
                return []
            present = added[thing.deviceid] = {}
        new_entities = []
        for key, description in wanted.items():
            if key not in present:
                entity = factory(coordinator, thing, description)
                present[key] = entity
                new_entities.append(entity)
        for key in [key for key in present if key not in wanted]:
            _async_remove_entity(coordinator, present.pop(key))
        return new_entities

    def push_handler(deviceid: str, params: frozenset[str]) -> Callable[[Mapping[str, Any]], None]:
        @callback
        def handle(pushed: Mapping[str, Any]) -> None:
            if params.isdisjoint(pushed) or (thing := coordinator.data.get(deviceid)) is None:
                return
            if new_entities := sync_device(thing):
                async_add_entities(new_entities)

        return handle

    @callback
    def sync_entities() -> None:
        for deviceid in [d for d in added if d not in coordinator.data]:
            del added[deviceid]  # the coordinator removed the device and its entities
        for deviceid in [d for d in push_unsubscribes if d not in coordinator.data]:
            push_unsubscribes.pop(deviceid)()
        new_entities: list[EwelinkEntity] = []
        for deviceid, thing in coordinator.data.items():
            new_entities.extend(sync_device(thing))
            params = watched.get(profile_uiid(thing))
            if params and deviceid not in push_unsubscribes:
                push_unsubscribes[deviceid] = coordinator.async_subscribe_pushes(
                    deviceid, push_handler(deviceid, frozenset(params))
                )
        if new_entities:
            async_add_entities(new_entities)

    sync_entities()
    remove_listener = coordinator.async_add_listener(sync_entities)

    @callback
    def stop() -> None:
        remove_listener()
        for unsubscribe in push_unsubscribes.values():
            unsubscribe()
        push_unsubscribes.clear()

    return stop


@callback
def _async_remove_entity(coordinator: EwelinkCoordinator, entity: EwelinkEntity) -> None:
    """Remove an entity that no longer applies (a mode change): from the registry and HA."""
    if entity.registry_entry is not None:
        er.async_get(coordinator.hass).async_remove(entity.registry_entry.entity_id)
    elif entity.hass is not None:
        coordinator.hass.async_create_task(entity.async_remove(force_remove=True))
