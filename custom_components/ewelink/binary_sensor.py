"""Binary sensors: door/window contacts, motion, occupancy, light, water leaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import UNDEFINED

from .coolkit import Thing
from .coordinator import BATTERY_PARAM, EwelinkConfigEntry
from .devices import (
    BATTERY_POWERED,
    DIFFUSER,
    DOOR_WIFI,
    DOOR_ZIGBEE,
    LIGHT_LEVEL,
    MOTION_ZIGBEE,
    OCCUPANCY,
    WATER_LEAK,
    reports,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EwelinkBinarySensorDescription(EwelinkEntityDescription, BinarySensorEntityDescription):
    """A binary sensor: the param's values that mean "on" and "off"."""

    on_values: tuple[Any, ...]
    off_values: tuple[Any, ...]
    device_fn: Callable[[Thing], object] | None = None
    """Read the state from the device itself instead of `param` (the cloud's online flag)."""


def _binary(
    key: str,
    param: str,
    uiids: frozenset[int],
    device_class: BinarySensorDeviceClass | None,
    values: tuple[tuple[Any, ...], tuple[Any, ...]],
    *,
    translation_key: str | None = None,
    main: bool = True,
    category: EntityCategory | None = None,
    enabled: bool = True,
) -> EwelinkBinarySensorDescription:
    return EwelinkBinarySensorDescription(
        key=key,
        name=None if main else UNDEFINED,
        translation_key=translation_key,
        param=param,
        device_class=device_class,
        on_values=values[0],
        off_values=values[1],
        entity_category=category,
        entity_registry_enabled_default=enabled,
        exists_fn=uiid_in(uiids),
    )


BINARY_SENSORS: tuple[EwelinkBinarySensorDescription, ...] = (
    # Wi-Fi door sensors report `switch` "on" when open (uiid-params.md §4.18, §4.19).
    _binary("door", "switch", DOOR_WIFI, BinarySensorDeviceClass.DOOR, (("on",), ("off",))),
    # Zigbee children (§4.20): 0/1 integers.
    _binary("door", "lock", DOOR_ZIGBEE, BinarySensorDeviceClass.DOOR, ((1,), (0,))),
    _binary("motion", "motion", MOTION_ZIGBEE, BinarySensorDeviceClass.MOTION, ((1,), (0,))),
    _binary("water", "water", WATER_LEAK, BinarySensorDeviceClass.MOISTURE, ((1,), (0,))),
    _binary("occupancy", "human", OCCUPANCY, BinarySensorDeviceClass.OCCUPANCY, ((1,), (0,))),
    # SNZB-03P/06P: `brState` "brighter"/"darker" (uiid-platforms.md §9).
    _binary("light", "brState", LIGHT_LEVEL, BinarySensorDeviceClass.LIGHT, (("brighter",), ("darker",)), main=False, translation_key="light"),
    # Diffuser: `water` 0 = shortage, 1 = normal (CK §UIID25); on means "needs water".
    _binary("water_shortage", "water", DIFFUSER, BinarySensorDeviceClass.PROBLEM, ((0,), (1,)),
            main=False, translation_key="water_shortage"),
    # ZBBridge: the zigbee LED; SL compares to 1, the ZBBridge-P reports on/off (SL#1814).
    _binary("zigbee_led", "zled", frozenset({66}), None, ((1, "on"), (0, "off")), main=False,
            translation_key="zigbee_led", category=EntityCategory.DIAGNOSTIC, enabled=False),
    # The cloud's online flag of battery devices, which sleep: their other entities keep their
    # last reported values while the cloud says offline.
    EwelinkBinarySensorDescription(
        key="connectivity",
        param="online",
        on_values=(True,),
        off_values=(False,),
        device_fn=lambda thing: thing.online,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        available_when_offline=True,
        exists_fn=uiid_in(BATTERY_POWERED, reports(BATTERY_PARAM)),
    ),
)  # fmt: skip


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
    """A contact, motion, occupancy, light or leak sensor."""

    entity_description: EwelinkBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """Return True for an "on" value, False for an "off" value, else unknown."""
        description = self.entity_description
        if description.device_fn is not None:
            return bool(description.device_fn(self.thing))
        value = self.params.get(description.param)
        if isinstance(value, bool):
            return None  # True == 1: a bool is not one of these devices' values
        if value in description.on_values:
            return True
        if value in description.off_values:
            return False
        return None
