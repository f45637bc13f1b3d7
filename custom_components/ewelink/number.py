"""Numbers: inching duration, TRVZB temperature correction, SNZB-06P sensitivity (§8)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfTemperature, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EwelinkConfigEntry
from .devices import INCHING, TRVZB, number, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1

type Params = Mapping[str, Any]

PULSE_STEP_MS = 500


@dataclass(frozen=True, kw_only=True)
class EwelinkNumberDescription(EwelinkEntityDescription, NumberEntityDescription):
    """A number: the raw param times `scale`, and the command for a value."""

    scale: float | None = None
    command_fn: Callable[[Params, float], dict[str, Any]]


def _pulse_width(params: Params, seconds: float) -> dict[str, Any]:
    # The width is refused alone: it goes with the current inching state (uiid-params.md §2).
    width = round(seconds * 1000 / PULSE_STEP_MS) * PULSE_STEP_MS
    pulse = params.get("pulse") if params.get("pulse") in ("on", "off") else "off"
    return {"pulse": pulse, "pulseWidth": width}


NUMBERS: tuple[EwelinkNumberDescription, ...] = (
    # CK documents 500..3 600 000 ms (uiid-platforms.md D5).
    EwelinkNumberDescription(
        key="inching_duration",
        translation_key="inching_duration",
        param="pulseWidth",
        also_reads=("pulse",),
        scale=0.001,
        native_min_value=0.5,
        native_max_value=3600,
        native_step=0.5,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        device_class=NumberDeviceClass.DURATION,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        command_fn=_pulse_width,
        exists_fn=uiid_in(INCHING),
    ),
    EwelinkNumberDescription(
        key="temperature_correction",
        translation_key="temperature_correction",
        param="tempCorrection",
        scale=0.1,
        native_min_value=-7,
        native_max_value=7,
        native_step=0.1,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        device_class=NumberDeviceClass.TEMPERATURE,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        command_fn=lambda params, value: {"tempCorrection": round(value * 10)},
        exists_fn=uiid_in(TRVZB),
    ),
    EwelinkNumberDescription(
        key="sensitivity",
        translation_key="sensitivity",
        param="sensitivity",
        native_min_value=1,
        native_max_value=3,
        native_step=1,
        mode=NumberMode.SLIDER,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        command_fn=lambda params, value: {"sensitivity": round(value)},
        exists_fn=uiid_in({7016}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add numbers for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, NUMBERS, EwelinkNumber
        )
    )


class EwelinkNumber(EwelinkEntity, NumberEntity):
    """A configuration value."""

    entity_description: EwelinkNumberDescription

    @property
    def native_value(self) -> float | None:
        """Return the value in the entity's unit."""
        value = number(self.params.get(self.entity_description.param))
        if value is None:
            return None
        if self.entity_description.scale is not None:
            value = round(value * self.entity_description.scale, 3)
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Write the value."""
        await self.async_send(self.entity_description.command_fn(self.params, value))
