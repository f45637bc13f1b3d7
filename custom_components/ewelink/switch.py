"""Switches: relays (single and multi-channel) and configuration switches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import (
    INCHING,
    LED,
    SWITCH_FORM,
    channel_count,
    channel_name,
    channel_state,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1
MAX_CHANNELS = 4


@dataclass(frozen=True, kw_only=True)
class EwelinkSwitchDescription(EwelinkEntityDescription, SwitchEntityDescription):
    """A switch backed by an on/off param (`"on"`/`"off"`, or 1/0)."""

    on_value: Any = "on"
    off_value: Any = "off"


def _has_channel(channel: int) -> Callable[[Thing], bool]:
    return lambda thing: channel < channel_count(thing)


SWITCHES: tuple[EwelinkSwitchDescription, ...] = (
    EwelinkSwitchDescription(
        key="switch", name=None, param="switch", exists_fn=uiid_in(SWITCH_FORM)
    ),
    *(
        EwelinkSwitchDescription(
            key=f"channel_{channel + 1}",
            translation_key="channel",
            param="switches",
            channel=channel,
            exists_fn=_has_channel(channel),
        )
        for channel in range(MAX_CHANNELS)
    ),
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
        exists_fn=uiid_in(frozenset({181})),
    ),
    EwelinkSwitchDescription(
        key="detach_relay",
        translation_key="detach_relay",
        param="relaySeparation",
        on_value=1,
        off_value=0,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in(frozenset({138})),
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
        if description.channel is not None:
            if channel_count(thing) == 1:
                self._attr_name = None
            elif name := channel_name(thing, description.channel):
                self._attr_name = name

    @property
    def is_on(self) -> bool | None:
        """Return the switch state."""
        description = self.entity_description
        if description.channel is None:
            value = self.params.get(description.param)
        elif item := channel_state(self.params, "switches", description.channel):
            value = item.get("switch")
        else:
            return None
        if value == description.on_value:
            return True
        if value == description.off_value:
            return False
        return None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on."""
        await self.async_send(self._command(on=True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off."""
        await self.async_send(self._command(on=False))

    def _command(self, *, on: bool) -> dict[str, Any]:
        description = self.entity_description
        value = description.on_value if on else description.off_value
        if description.channel is None:
            return {description.param: value}
        if self.thing.parent_id is None:
            # Wi-Fi devices accept the one channel that changes (uiid-params.md §3.3).
            return {"switches": [{"outlet": description.channel, "switch": value}]}
        # Zigbee multi-channel switches need every channel's value (§13.13).
        switches = []
        for channel in range(channel_count(self.thing)):
            current = channel_state(self.params, "switches", channel) or {}
            state = value if channel == description.channel else current.get("switch", "off")
            switches.append({"outlet": channel, "switch": state})
        return {"switches": switches}
