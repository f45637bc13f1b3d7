"""Base entity: one device of the account, written only when a param it reads changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .coolkit import Thing
from .coordinator import EwelinkCoordinator, read_keys


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
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, thing.deviceid)})
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


def async_add_device_entities[DescriptionT: EwelinkEntityDescription](
    coordinator: EwelinkCoordinator,
    async_add_entities: Callable[[list[EwelinkEntity]], None],
    descriptions: tuple[DescriptionT, ...],
    factory: Callable[[EwelinkCoordinator, Thing, DescriptionT], EwelinkEntity],
) -> Callable[[], None]:
    """Add entities for the devices present now and for every device that appears later.

    Returns the listener's unsubscribe callback (pass it to `entry.async_on_unload`).
    """
    known: set[str] = set()

    @callback
    def add_new_devices() -> None:
        known.intersection_update(coordinator.data)
        entities = [
            factory(coordinator, thing, description)
            for deviceid, thing in coordinator.data.items()
            if deviceid not in known
            for description in descriptions
            if description.exists_fn(thing)
        ]
        known.update(coordinator.data)
        if entities:
            async_add_entities(entities)

    add_new_devices()
    return coordinator.async_add_listener(add_new_devices)
