"""Selects: the power-on state, per channel (`configure`) or single (`startup`) (§8)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import copy
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import (
    STARTUP_CHANNELS,
    STARTUP_SINGLE,
    channel_count,
    channel_name,
    channel_state,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1

type Params = Mapping[str, Any]

STARTUP_OPTIONS: Final = ["on", "off", "stay"]


@dataclass(frozen=True, kw_only=True)
class EwelinkSelectDescription(EwelinkEntityDescription, SelectEntityDescription):
    """A select: how to read the option and how to write one."""

    value_fn: Callable[[Params], str | None]
    command_fn: Callable[[Params, str], dict[str, Any]]


def _channel_startup(channel: int) -> Callable[[Params], str | None]:
    def value(params: Params) -> str | None:
        if not isinstance(params.get("configure"), list):
            return None
        item = channel_state(params, "configure", channel)
        startup = item.get("startup", "stay") if item is not None else "stay"
        return startup if startup in STARTUP_OPTIONS else None

    return value


def _channel_startup_command(channel: int) -> Callable[[Params, str], dict[str, Any]]:
    # The full list goes back, this channel changed; a new entry gets the defaults (SL).
    def command(params: Params, option: str) -> dict[str, Any]:
        current = params.get("configure")
        items = [
            dict(copy.deepcopy(item))
            for item in (current if isinstance(current, list) else [])
            if isinstance(item, Mapping)
        ]
        for item in items:
            if item.get("outlet") == channel:
                item["startup"] = option
                break
        else:
            items.append({"outlet": channel, "startup": option, "enableDelay": 0, "width": 1000})
            items.sort(key=_outlet)
        return {"configure": items}

    return command


def _outlet(item: Mapping[str, Any]) -> int:
    outlet = item.get("outlet")
    return outlet if isinstance(outlet, int) else 1 << 30


def _has_channel(channel: int) -> Callable[[Thing], bool]:
    return lambda thing: channel < channel_count(thing)


SELECTS: tuple[EwelinkSelectDescription, ...] = (
    *(
        EwelinkSelectDescription(
            key=f"startup_{channel + 1}",
            translation_key="channel_startup",
            param="configure",
            channel=channel,
            options=STARTUP_OPTIONS,
            entity_category=EntityCategory.CONFIG,
            value_fn=_channel_startup(channel),
            command_fn=_channel_startup_command(channel),
            exists_fn=uiid_in(STARTUP_CHANNELS, _has_channel(channel)),
        )
        for channel in range(4)
    ),
    EwelinkSelectDescription(
        key="startup",
        translation_key="startup",
        param="startup",
        options=STARTUP_OPTIONS,
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda params: (
            params.get("startup") if params.get("startup") in STARTUP_OPTIONS else None
        ),
        command_fn=lambda params, option: {"startup": option},
        exists_fn=uiid_in(STARTUP_SINGLE),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add selects for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, SELECTS, EwelinkSelect
        )
    )


class EwelinkSelect(EwelinkEntity, SelectEntity):
    """A configuration choice."""

    entity_description: EwelinkSelectDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkSelectDescription
    ) -> None:
        """A lone channel's start-up is the device's; others use the channel's name."""
        super().__init__(coordinator, thing, description)
        if description.channel is not None:
            if channel_count(thing) == 1:
                self._attr_translation_key = "startup"
            elif name := channel_name(thing, description.channel):
                self._attr_translation_key = "named_channel_startup"
                self._attr_translation_placeholders = {"name": name}

    @property
    def current_option(self) -> str | None:
        """Return the option."""
        return self.entity_description.value_fn(self.params)

    async def async_select_option(self, option: str) -> None:
        """Write the option."""
        await self.async_send(self.entity_description.command_fn(self.params, option))
