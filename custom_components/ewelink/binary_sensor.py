"""Binary sensors: door/window contacts, motion and water leaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, battery_powered
from .devices import DOOR_WIFI, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EwelinkBinarySensorDescription(EwelinkEntityDescription, BinarySensorEntityDescription):
    """A binary sensor: the param's value that means "on" (or a value of the device itself)."""

    on_value: object
    value_fn: Callable[[Thing], object] | None = None


BINARY_SENSORS: tuple[EwelinkBinarySensorDescription, ...] = (
    # Wi-Fi door sensors report `switch` "on" when open (uiid-params.md §4.18, §4.19).
    EwelinkBinarySensorDescription(
        key="door",
        name=None,
        param="switch",
        on_value="on",
        device_class=BinarySensorDeviceClass.DOOR,
        exists_fn=uiid_in(DOOR_WIFI),
    ),
    # Zigbee children (§4.20): 0/1 integers.
    EwelinkBinarySensorDescription(
        key="door",
        name=None,
        param="lock",
        on_value=1,
        device_class=BinarySensorDeviceClass.DOOR,
        exists_fn=uiid_in(frozenset({3026, 7003})),
    ),
    EwelinkBinarySensorDescription(
        key="motion",
        name=None,
        param="motion",
        on_value=1,
        device_class=BinarySensorDeviceClass.MOTION,
        exists_fn=uiid_in(frozenset({2026, 7002})),
    ),
    EwelinkBinarySensorDescription(
        key="water",
        name=None,
        param="water",
        on_value=1,
        device_class=BinarySensorDeviceClass.MOISTURE,
        exists_fn=uiid_in(frozenset({4026})),
    ),
    # The cloud's online flag of battery devices, which sleep: their other entities keep their
    # last reported values while the cloud says offline.
    EwelinkBinarySensorDescription(
        key="connectivity",
        param="online",
        on_value=True,
        value_fn=lambda thing: thing.online,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        available_when_offline=True,
        exists_fn=battery_powered,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator,
            async_add_entities,
            BINARY_SENSORS,
            EwelinkBinarySensor,
        )
    )


class EwelinkBinarySensor(EwelinkEntity, BinarySensorEntity):
    """A contact, motion or leak sensor."""

    entity_description: EwelinkBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """Return True when the param has the "on" value."""
        description = self.entity_description
        if description.value_fn is not None:
            value = description.value_fn(self.thing)
        else:
            value = self.params.get(description.param)
        if value is None:
            return None
        return bool(value == self.entity_description.on_value)
