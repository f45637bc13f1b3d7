"""Covers: curtain motors, roller shutters, the garage opener, DualR3 in motor mode.

Per uiid-platforms.md §4. Two kinds of families:
- state in the params (DualR3 `currLocation`/`motorTurn`, zigbee `curPercent`, T5): read them;
- state in the messages (King Art `setclose`/`switch`, `op` shutters): a message carrying a
  single key is the echo of a command (the motion started), a message with the position and
  other keys is the end of travel. These covers keep what the last messages said (and what
  the last command asked, optimistically), since the merged params cannot tell the two apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from homeassistant.components.cover import (
    ATTR_POSITION,
    CoverDeviceClass,
    CoverEntity,
    CoverEntityDescription,
    CoverEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import UNDEFINED

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import MOTOR_MODE, T5_CURTAIN, in_motor_mode, integer, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1

type Params = Mapping[str, Any]


class Motion(StrEnum):
    """What the motor is doing."""

    OPENING = "opening"
    CLOSING = "closing"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class CoverState:
    """Position (0 closed .. 100 open), closed flag when there is no position, motion."""

    position: int | None = None
    closed: bool | None = None
    motion: Motion = Motion.STOPPED


@dataclass(frozen=True, kw_only=True)
class EwelinkCoverDescription(EwelinkEntityDescription, CoverEntityDescription):
    """A cover family: how to read it, how its messages move it, its commands.

    `read_fn` reads the state from params (always, or at start and after a list read when
    `message_fn` is set). `message_fn` gives the state after one message (a push, or the
    command just sent), or None when the message says nothing about the cover.
    """

    read_fn: Callable[[Params], CoverState]
    message_fn: Callable[[Params, CoverState], CoverState | None] | None = None
    open_command: dict[str, Any]
    close_command: dict[str, Any]
    stop_command: dict[str, Any]
    position_fn: Callable[[int], dict[str, Any]] | None = None


def _percent(raw: object, *, inverted: bool) -> int | None:
    value = integer(raw)
    if value is None or not 0 <= value <= 100:
        return None
    return 100 - value if inverted else value


# King Art / MINI-RBS / MINI-ZBRBS: `setclose` 0 = fully open, `switch` on/off/pause (§4) ----
def _setclose_read(params: Params) -> CoverState:
    return CoverState(position=_percent(params.get("setclose"), inverted=True))


def _setclose_message(message: Params, state: CoverState) -> CoverState | None:
    if "setclose" in message:
        target = _percent(message["setclose"], inverted=True)
        if target is None:
            return None
        if len(message) > 1:  # the final position: the motion ended
            return CoverState(position=target)
        if state.position is None or target == state.position:
            return state
        return replace(state, motion=Motion.OPENING if target > state.position else Motion.CLOSING)
    motion = {"on": Motion.OPENING, "off": Motion.CLOSING, "pause": Motion.STOPPED}.get(
        str(message.get("switch"))
    )
    return replace(state, motion=motion) if motion is not None else None


# KING-Q1 / ST-03: `op` 1 open, 2 stop, 3 close; `per` 0/100 at the end of travel ------------
def _op_read(params: Params) -> CoverState:
    if integer(params.get("op")) == 2:
        return CoverState()  # stopped somewhere: open or closed is not known
    return CoverState(closed=_closed_from_per(params.get("per")))


def _closed_from_per(raw: object) -> bool | None:
    value = integer(raw)
    return None if value is None else {0: True, 100: False}.get(value)


def _op_message(message: Params, state: CoverState) -> CoverState | None:
    if "per" in message:
        return CoverState(closed=_closed_from_per(message["per"]))
    op = integer(message.get("op"))
    if op == 1:
        return CoverState(closed=False, motion=Motion.OPENING)
    if op == 3:
        return CoverState(closed=False, motion=Motion.CLOSING)
    if op == 2:
        return CoverState()
    return None


# DualR3 motor mode: `currLocation` 0 closed, `motorTurn` 0 stop, 1 opening, 2 closing ---------
def _dualr3_read(params: Params) -> CoverState:
    motion = {1: Motion.OPENING, 2: Motion.CLOSING}.get(integer(params.get("motorTurn")) or 0)
    return CoverState(
        position=_percent(params.get("currLocation"), inverted=False),
        motion=motion or Motion.STOPPED,
    )


# Zigbee curtains: `curPercent` 100 = closed (SL#972) -------------------------------------
def _zigbee_read(params: Params) -> CoverState:
    return CoverState(position=_percent(params.get("curPercent"), inverted=True))


# T5-3C curtain: `percentageControl` 0 = open, valid once calibrated; `electromotor` ----------
def _t5_read(params: Params) -> CoverState:
    motion = {0: Motion.OPENING, 2: Motion.CLOSING}.get(integer(params.get("electromotor")) or 1)
    position = (
        _percent(params.get("percentageControl"), inverted=True)
        if params.get("calibState") is True
        else None
    )
    return CoverState(position=position, motion=motion or Motion.STOPPED)


def _cover(
    key: str,
    param: str,
    uiids: frozenset[int] | set[int],
    device_class: CoverDeviceClass,
    *,
    conditions: tuple[Callable[[Thing], bool], ...] = (),
    **kwargs: Any,
) -> EwelinkCoverDescription:
    translation_key = kwargs.pop("translation_key", None)
    return EwelinkCoverDescription(
        key=key,
        name=None if translation_key is None else UNDEFINED,
        translation_key=translation_key,
        param=param,
        device_class=device_class,
        exists_fn=uiid_in(uiids, *conditions),
        **kwargs,
    )


COVERS: tuple[EwelinkCoverDescription, ...] = (
    _cover("cover", "setclose", {11}, CoverDeviceClass.CURTAIN, also_reads=("switch",),
           read_fn=_setclose_read, message_fn=_setclose_message,
           open_command={"switch": "on"}, close_command={"switch": "off"},
           stop_command={"switch": "pause"}, position_fn=lambda pos: {"setclose": 100 - pos}),
    _cover("cover", "setclose", {258, 7034}, CoverDeviceClass.SHUTTER, also_reads=("switch",),
           read_fn=_setclose_read, message_fn=_setclose_message,
           open_command={"switch": "on"}, close_command={"switch": "off"},
           stop_command={"switch": "pause"}, position_fn=lambda pos: {"setclose": 100 - pos}),
    _cover("cover", "op", {67}, CoverDeviceClass.GARAGE, also_reads=("per", "statu"),
           read_fn=_op_read, message_fn=_op_message, open_command={"op": 1},
           close_command={"op": 3}, stop_command={"op": 2}),
    _cover("cover", "op", {91}, CoverDeviceClass.SHUTTER, also_reads=("per", "statu"),
           read_fn=_op_read, message_fn=_op_message, open_command={"op": 1},
           close_command={"op": 3}, stop_command={"op": 2}),
    _cover("cover", "currLocation", MOTOR_MODE, CoverDeviceClass.SHUTTER,
           conditions=(in_motor_mode,), also_reads=("motorTurn", "workMode"),
           read_fn=_dualr3_read, open_command={"motorTurn": 1}, close_command={"motorTurn": 2},
           stop_command={"motorTurn": 0}, position_fn=lambda pos: {"location": pos}),
    _cover("cover", "curPercent", {1514, 7006}, CoverDeviceClass.CURTAIN,
           read_fn=_zigbee_read, open_command={"curtainAction": "open"},
           close_command={"curtainAction": "close"}, stop_command={"curtainAction": "pause"},
           position_fn=lambda pos: {"openPercent": 100 - pos}),
    _cover("curtain", "percentageControl", T5_CURTAIN, CoverDeviceClass.CURTAIN,
           translation_key="curtain", also_reads=("electromotor", "calibState"),
           entity_registry_enabled_default=False, read_fn=_t5_read,
           open_command={"electromotor": 0}, close_command={"electromotor": 2},
           stop_command={"electromotor": 1},
           position_fn=lambda pos: {"percentageControl": 100 - pos}),
)  # fmt: skip


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add covers for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, COVERS, EwelinkCover
        )
    )


class EwelinkCover(EwelinkEntity, CoverEntity):
    """A cover of any family; the description knows the family's params."""

    entity_description: EwelinkCoverDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkCoverDescription
    ) -> None:
        """Start from the params; set the features the family has."""
        super().__init__(coordinator, thing, description)
        self._held = description.read_fn(thing.params)
        features = CoverEntityFeature.OPEN | CoverEntityFeature.CLOSE | CoverEntityFeature.STOP
        if description.position_fn is not None:
            features |= CoverEntityFeature.SET_POSITION
        self._attr_supported_features = features

    async def async_added_to_hass(self) -> None:
        """Follow this device's messages too (for the families whose state is in them)."""
        await super().async_added_to_hass()
        if self.entity_description.message_fn is not None:
            self.async_on_remove(
                self.coordinator.async_subscribe_pushes(self.deviceid, self._handle_message)
            )
            self.async_on_remove(
                self.coordinator.async_subscribe_reads(self.deviceid, self._handle_read)
            )

    @callback
    def _handle_message(self, message: Mapping[str, Any]) -> None:
        held = self._held
        self._apply(message)
        if self._held != held:
            self.async_write_ha_state()

    @callback
    def _handle_read(self) -> None:
        """A read gives the device's full state: start from it again (keep the motion)."""
        read = self.entity_description.read_fn(self.params)
        self._held = replace(read, motion=self._held.motion)

    def _apply(self, message: Mapping[str, Any]) -> None:
        message_fn = self.entity_description.message_fn
        if message_fn is not None and (state := message_fn(message, self._held)) is not None:
            self._held = state

    @property
    def _state(self) -> CoverState:
        if self.entity_description.message_fn is not None:
            return self._held
        return self.entity_description.read_fn(self.params)

    @property
    def current_cover_position(self) -> int | None:
        """Return the position (0 closed, 100 open)."""
        return self._state.position

    @property
    def is_closed(self) -> bool | None:
        """Return True when closed."""
        state = self._state
        if state.position is not None:
            return state.position == 0
        return state.closed

    @property
    def is_opening(self) -> bool:
        """Return True while opening."""
        return self._state.motion is Motion.OPENING

    @property
    def is_closing(self) -> bool:
        """Return True while closing."""
        return self._state.motion is Motion.CLOSING

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Open."""
        await self._send(self.entity_description.open_command)

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Close."""
        await self._send(self.entity_description.close_command)

    async def async_stop_cover(self, **kwargs: Any) -> None:
        """Stop."""
        await self._send(self.entity_description.stop_command)

    async def async_set_cover_position(self, **kwargs: Any) -> None:
        """Move to a position."""
        position_fn = self.entity_description.position_fn
        if position_fn is not None:
            await self._send(position_fn(int(kwargs[ATTR_POSITION])))

    async def _send(self, command: dict[str, Any]) -> None:
        # Optimistic: the command is the start of a motion, as its echo will be (§4).
        previous = self._held
        self._apply(command)
        try:
            await self.async_send(dict(command))
        except Exception:
            self._held = previous
            raise
