"""Switches: relays (single and multi-channel) and configuration switches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import (
    BOOL_SWITCH,
    CHANNELS,
    FULL_ARRAY,
    INCHING,
    LED,
    NSPANEL_PRO,
    POWR3,
    SWITCH_FORM,
    T5_CURTAIN,
    TH_SWITCH,
    TRVZB,
    channel_count,
    channel_name,
    channel_switch,
    is_known,
    not_in_motor_mode,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1
MAX_CHANNELS = 4

type Params = Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class EwelinkSwitchDescription(EwelinkEntityDescription, SwitchEntityDescription):
    """A switch: the raw value that means on/off, how to read it and how to write it.

    `value_fn` returns the raw value (default: the param); `command_fn` builds the command for
    a raw value (default: `{param: value}`).
    """

    on_value: Any = "on"
    off_value: Any = "off"
    value_fn: Callable[[Params], Any] | None = None
    command_fn: Callable[[Thing, Any], dict[str, Any]] | None = None
    assumed_state: bool = False


def _has_channel(channel: int) -> Callable[[Thing], bool]:
    return lambda thing: channel < channel_count(thing)


def _channel_command(channel: int) -> Callable[[Thing, Any], dict[str, Any]]:
    def command(thing: Thing, value: Any) -> dict[str, Any]:
        full = thing.uiid in FULL_ARRAY or (not is_known(thing) and thing.parent_id is not None)
        if not full:
            # Wi-Fi devices accept the one channel that changes (uiid-params.md §3.3).
            return {"switches": [{"outlet": channel, "switch": value}]}
        # Zigbee multi-gang switches and SPM sub-units need every channel's value (SL#714).
        return {
            "switches": [
                {
                    "outlet": outlet,
                    "switch": value
                    if outlet == channel
                    else channel_switch(thing.params, outlet) or "off",
                }
                for outlet in range(channel_count(thing))
            ]
        }

    return command


def _powr3_command(thing: Thing, value: Any) -> dict[str, Any]:
    # POWR3 relay commands carry `operSide` (uiid-platforms.md §8 `XSwitchPOWR3`).
    return {"switches": [{"outlet": 0, "switch": value}], "operSide": 1}


def _channel(
    channel: int,
    uiids: frozenset[int],
    command_fn: Callable[[Thing, Any], dict[str, Any]] | None = None,
) -> EwelinkSwitchDescription:
    return EwelinkSwitchDescription(
        key=f"channel_{channel + 1}",
        translation_key="channel",
        param="switches",
        channel=channel,
        value_fn=lambda params: channel_switch(params, channel),
        command_fn=command_fn or _channel_command(channel),
        exists_fn=uiid_in(uiids, _has_channel(channel), not_in_motor_mode),
    )


def _th_command(thing: Thing, value: Any) -> dict[str, Any]:
    # A manual switch also leaves the thermostat's auto mode (uiid-params.md §4.16).
    return {"switch": value, "mainSwitch": value, "deviceType": "normal"}


def _bool_switch(uiid: int, param: str) -> EwelinkSwitchDescription:
    return EwelinkSwitchDescription(
        key="switch",
        name=None,
        param=param,
        on_value=True,
        off_value=False,
        exists_fn=uiid_in({uiid}),
    )


SWITCHES: tuple[EwelinkSwitchDescription, ...] = (
    # Relays
    EwelinkSwitchDescription(
        key="switch", name=None, param="switch", exists_fn=uiid_in(SWITCH_FORM)
    ),
    EwelinkSwitchDescription(
        key="switch",
        name=None,
        param="switch",
        also_reads=("mainSwitch", "deviceType"),
        command_fn=_th_command,
        exists_fn=uiid_in(TH_SWITCH),
    ),
    *(_bool_switch(uiid, param) for uiid, param in BOOL_SWITCH.items()),
    *(_channel(channel, frozenset(CHANNELS) - POWR3) for channel in range(MAX_CHANNELS)),
    _channel(0, POWR3, _powr3_command),
    # Configuration
    EwelinkSwitchDescription(
        key="led",
        translation_key="led",
        param="sledOnline",
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in(LED),
    ),
    EwelinkSwitchDescription(
        key="inching",
        translation_key="inching",
        param="pulse",
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in(INCHING),
    ),
    EwelinkSwitchDescription(
        key="auto_mode",
        translation_key="auto_mode",
        param="autoControlEnabled",
        on_value=1,
        off_value=0,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in({181}),
    ),
    EwelinkSwitchDescription(
        key="detach_relay",
        translation_key="detach_relay",
        param="relaySeparation",
        on_value=1,
        off_value=0,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in({138}),
    ),
    EwelinkSwitchDescription(
        key="child_lock",
        translation_key="child_lock",
        param="childLock",
        on_value=True,
        off_value=False,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in({225}),
    ),
    EwelinkSwitchDescription(
        key="child_lock",
        translation_key="child_lock",
        param="childLock",
        on_value=True,
        off_value=False,
        entity_category=EntityCategory.CONFIG,
        exists_fn=uiid_in(TRVZB),
    ),
    EwelinkSwitchDescription(
        key="window_detection",
        translation_key="window_detection",
        param="windowSwitch",
        on_value=True,
        off_value=False,
        entity_category=EntityCategory.CONFIG,
        exists_fn=uiid_in(TRVZB),
    ),
    # The panel's screen is write-only: the state is the last command (§8 `XPanelScreen`).
    EwelinkSwitchDescription(
        key="screen",
        translation_key="screen",
        param="openLED",
        on_value=True,
        off_value=False,
        assumed_state=True,
        entity_category=EntityCategory.CONFIG,
        exists_fn=uiid_in(NSPANEL_PRO),
    ),
    EwelinkSwitchDescription(
        key="curtain_mode",
        translation_key="curtain_mode",
        param="workMode",
        on_value=2,
        off_value=1,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in(T5_CURTAIN),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add switches for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, SWITCHES, EwelinkSwitch
        )
    )


class EwelinkSwitch(EwelinkEntity, SwitchEntity):
    """A relay channel or a configuration switch."""

    entity_description: EwelinkSwitchDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkSwitchDescription
    ) -> None:
        """Name channels after the user's channel names; a lone channel is the device itself."""
        super().__init__(coordinator, thing, description)
        self._attr_assumed_state = description.assumed_state
        if description.channel is not None:
            if channel_count(thing) == 1:
                self._attr_name = None
            elif name := channel_name(thing, description.channel):
                self._attr_name = name

    @property
    def is_on(self) -> bool | None:
        """Return the switch state."""
        description = self.entity_description
        if description.value_fn is not None:
            value = description.value_fn(self.params)
        else:
            value = self.params.get(description.param)
        if value == description.on_value and type(value) is type(description.on_value):
            return True
        if value == description.off_value and type(value) is type(description.off_value):
            return False
        return None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on."""
        await self.async_send(self._command(self.entity_description.on_value))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off."""
        await self.async_send(self._command(self.entity_description.off_value))

    def _command(self, value: Any) -> dict[str, Any]:
        description = self.entity_description
        if description.command_fn is not None:
            return description.command_fn(self.thing, value)
        return {description.param: value}
