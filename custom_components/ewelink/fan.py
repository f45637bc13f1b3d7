"""Fans: the iFan ceiling fans, the three-speed fan (UIID 17), the diffuser's mist (25).

Per uiid-platforms.md §5. Speeds are the device's steps (HA shows them as percentages).
The DualR3's "fan view" of its motor (SL `XFanDualR3`) is left out: the motor is a cover.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.fan import FanEntity, FanEntityDescription
from homeassistant.components.fan.const import FanEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.percentage import (
    percentage_to_ranged_value,
    ranged_value_to_percentage,
)

from .const import DOMAIN
from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import DIFFUSER, IFAN, channel_switch, integer, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1

type Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FanState:
    """On/off, the speed step (1..speed_count), preset and oscillation."""

    is_on: bool | None
    speed: int | None = None
    preset: str | None = None
    oscillating: bool | None = None


@dataclass(frozen=True, kw_only=True)
class EwelinkFanDescription(EwelinkEntityDescription, FanEntityDescription):
    """A fan family: speed steps, how to read them, the commands."""

    speed_count: int
    read_fn: Callable[[Params], FanState]
    on_fn: Callable[[int | None], dict[str, Any]]
    """The turn-on command, at a speed step or at the device's last speed (None)."""
    off_command: dict[str, Any]
    preset_modes: tuple[str, ...] = ()
    preset_fn: Callable[[str], dict[str, Any]] | None = None
    oscillate_fn: Callable[[bool], dict[str, Any]] | None = None


# iFan (34): outlet 1 = fan on/off, outlets 2 and 3 = speed bits (uiid-params.md §4.22) ------
IFAN_SPEED_BITS = {1: ("off", "off"), 2: ("on", "off"), 3: ("off", "on")}


def _ifan_read(params: Params) -> FanState:
    power = channel_switch(params, 1)
    bits = (channel_switch(params, 2), channel_switch(params, 3))
    speed = next((step for step, pattern in IFAN_SPEED_BITS.items() if pattern == bits), None)
    return FanState(True if power == "on" else False if power == "off" else None, speed)


def _ifan_on(speed: int | None) -> dict[str, Any]:
    switches = [{"outlet": 1, "switch": "on"}]
    if speed is not None:
        second, third = IFAN_SPEED_BITS[speed]
        switches += [{"outlet": 2, "switch": second}, {"outlet": 3, "switch": third}]
    return {"switches": switches}


# UIID 17: `fan` on/off, `speed` slow/moderate/fast, `mode` presets, `shake` ---------------
FAN17_SPEEDS = ("slow", "moderate", "fast")
FAN17_PRESETS = ("normal", "natural", "sleep")


def _fan17_read(params: Params) -> FanState:
    power = params.get("fan")
    speed = params.get("speed")
    shake = params.get("shake")
    return FanState(
        True if power == "on" else False if power == "off" else None,
        FAN17_SPEEDS.index(speed) + 1 if speed in FAN17_SPEEDS else None,
        params.get("mode") if params.get("mode") in FAN17_PRESETS else None,
        True if shake == "on" else False if shake == "off" else None,
    )


def _fan17_on(speed: int | None) -> dict[str, Any]:
    if speed is None:
        return {"fan": "on"}
    return {"fan": "on", "speed": FAN17_SPEEDS[speed - 1]}


# Diffuser (25): `switch`, `state` 1 small / 2 big mist -------------------------------------
def _diffuser_read(params: Params) -> FanState:
    power = params.get("switch")
    state = integer(params.get("state"))
    return FanState(
        True if power == "on" else False if power == "off" else None,
        state if state in (1, 2) else None,
    )


def _diffuser_on(speed: int | None) -> dict[str, Any]:
    return {"switch": "on"} if speed is None else {"switch": "on", "state": speed}


FANS: tuple[EwelinkFanDescription, ...] = (
    EwelinkFanDescription(
        key="fan",
        name=None,
        param="switches",
        speed_count=3,
        read_fn=_ifan_read,
        on_fn=_ifan_on,
        off_command={"switches": [{"outlet": 1, "switch": "off"}]},
        exists_fn=uiid_in(IFAN),
    ),
    EwelinkFanDescription(
        key="fan",
        name=None,
        translation_key="fan",
        param="fan",
        also_reads=("speed", "mode", "shake"),
        speed_count=3,
        read_fn=_fan17_read,
        on_fn=_fan17_on,
        off_command={"fan": "off"},
        preset_modes=FAN17_PRESETS,
        preset_fn=lambda preset: {"mode": preset},
        oscillate_fn=lambda on: {"shake": "on" if on else "off"},
        exists_fn=uiid_in({17}),
    ),
    EwelinkFanDescription(
        key="fan",
        name=None,
        param="switch",
        also_reads=("state",),
        speed_count=2,
        read_fn=_diffuser_read,
        on_fn=_diffuser_on,
        off_command={"switch": "off"},
        exists_fn=uiid_in(DIFFUSER),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add fans for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, FANS, EwelinkFan
        )
    )


class EwelinkFan(EwelinkEntity, FanEntity):
    """A fan of any family; the description knows the family's params."""

    entity_description: EwelinkFanDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkFanDescription
    ) -> None:
        """Set the speed count and the features of the family."""
        super().__init__(coordinator, thing, description)
        features = FanEntityFeature.SET_SPEED | FanEntityFeature.TURN_ON | FanEntityFeature.TURN_OFF
        if description.preset_modes:
            features |= FanEntityFeature.PRESET_MODE
            self._attr_preset_modes = list(description.preset_modes)
        if description.oscillate_fn is not None:
            features |= FanEntityFeature.OSCILLATE
        self._attr_supported_features = features
        self._attr_speed_count = description.speed_count

    @property
    def _state(self) -> FanState:
        return self.entity_description.read_fn(self.params)

    @property
    def is_on(self) -> bool | None:
        """Return True when the fan runs."""
        return self._state.is_on

    @property
    def percentage(self) -> int | None:
        """Return the speed as a percentage (0 when off)."""
        state = self._state
        if state.is_on is False:
            return 0
        if state.speed is None:
            return None
        return ranged_value_to_percentage((1, self.speed_count), state.speed)

    @property
    def preset_mode(self) -> str | None:
        """Return the preset mode."""
        return self._state.preset

    @property
    def oscillating(self) -> bool | None:
        """Return True while oscillating."""
        return self._state.oscillating

    async def async_turn_on(
        self, percentage: int | None = None, preset_mode: str | None = None, **kwargs: Any
    ) -> None:
        """Turn on, at a speed if given, then set the preset if given."""
        if percentage == 0:
            await self.async_turn_off()
            return
        await self.async_send(self.entity_description.on_fn(self._speed(percentage)))
        if preset_mode is not None:
            await self.async_set_preset_mode(preset_mode)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off."""
        await self.async_send(dict(self.entity_description.off_command))

    async def async_set_percentage(self, percentage: int) -> None:
        """Set the speed (0 turns the fan off)."""
        await self.async_turn_on(percentage=percentage)

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Set a preset mode."""
        description = self.entity_description
        if description.preset_fn is None or preset_mode not in description.preset_modes:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_preset",
                translation_placeholders={"preset": preset_mode},
            )
        await self.async_send(description.preset_fn(preset_mode))

    async def async_oscillate(self, oscillating: bool) -> None:
        """Turn oscillation on or off."""
        if self.entity_description.oscillate_fn is not None:
            await self.async_send(self.entity_description.oscillate_fn(oscillating))

    def _speed(self, percentage: int | None) -> int | None:
        if percentage is None:
            return None
        step = round(percentage_to_ranged_value((1, self.speed_count), percentage))
        return max(1, min(self.speed_count, step))
