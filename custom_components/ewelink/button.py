"""Buttons: RF bridge learned codes, restarts, the PC switch's shutdown, T5 sounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import (
    NSPANEL_PRO,
    RF_BRIDGE,
    TX_ULTIMATE,
    rf_channel_exists,
    rf_channel_name,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1
RF_CHANNELS = 64


@dataclass(frozen=True, kw_only=True)
class EwelinkButtonDescription(EwelinkEntityDescription, ButtonEntityDescription):
    """A button: the command a press sends (`param` is the key it writes or depends on)."""

    press_command: dict[str, Any]


def _rf_button(channel: int) -> EwelinkButtonDescription:
    # Sends the learned code of one button of a remote (uiid-params.md §4.21).
    return EwelinkButtonDescription(
        key=f"rf_{channel}",
        translation_key="rf_button",
        param="rfList",
        channel=channel,
        press_command={"cmd": "transmit", "rfChl": channel},
        exists_fn=uiid_in(RF_BRIDGE, rf_channel_exists(channel, alarm=False)),
    )


def _command_button(
    key: str,
    param: str,
    uiids: frozenset[int] | set[int],
    command: dict[str, Any],
    **kwargs: Any,
) -> EwelinkButtonDescription:
    return EwelinkButtonDescription(
        key=key,
        translation_key=kwargs.pop("translation_key", key),
        param=param,
        press_command=command,
        entity_category=EntityCategory.CONFIG,
        exists_fn=uiid_in(uiids),
        **kwargs,
    )


BUTTONS: tuple[EwelinkButtonDescription, ...] = (
    *(_rf_button(channel) for channel in range(RF_CHANNELS)),
    _command_button("reboot", "reboot", NSPANEL_PRO, {"reboot": True},
                    translation_key=None, device_class=ButtonDeviceClass.RESTART),
    _command_button("restart", "restart", {225}, {"restart": True},
                    translation_key=None, device_class=ButtonDeviceClass.RESTART),
    _command_button("shutdown", "forceShutdown", {225}, {"forceShutdown": True}),
    _command_button("alarm", "soundAction", TX_ULTIMATE, {"soundAction": 1},
                    entity_registry_enabled_default=False),
    _command_button("bell", "soundAction", TX_ULTIMATE, {"soundAction": 2},
                    entity_registry_enabled_default=False),
)  # fmt: skip


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add buttons for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, BUTTONS, EwelinkButton
        )
    )


class EwelinkButton(EwelinkEntity, ButtonEntity):
    """Sends one command when pressed."""

    entity_description: EwelinkButtonDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkButtonDescription
    ) -> None:
        """RF buttons take the name the user gave them in the app."""
        super().__init__(coordinator, thing, description)
        if description.param == "rfList" and (name := rf_channel_name(thing, description.channel)):
            self._attr_name = name

    async def async_press(self) -> None:
        """Send the command."""
        await self.async_send(dict(self.entity_description.press_command))
