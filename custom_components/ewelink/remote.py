"""Remote: the RF Bridge 433 sends and learns the codes of its remotes (uiid-params.md §4.21).

`remote.send_command` takes channel numbers or the button names given in the eWeLink app;
`remote.learn_command` puts one channel in learning mode. The bridge has no on/off state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.remote import RemoteEntity, RemoteEntityDescription
from homeassistant.components.remote.const import (
    ATTR_DELAY_SECS,
    ATTR_NUM_REPEATS,
    RemoteEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import EwelinkConfigEntry
from .devices import RF_BRIDGE, integer, rf_channels, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class EwelinkRemoteDescription(EwelinkEntityDescription, RemoteEntityDescription):
    """The RF bridge's remote (`param` is the command key it writes)."""


REMOTES: tuple[EwelinkRemoteDescription, ...] = (
    EwelinkRemoteDescription(
        key="remote", name=None, param="cmd", also_reads=("rfList",), exists_fn=uiid_in(RF_BRIDGE)
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the remote of every RF bridge, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, REMOTES, EwelinkRemote
        )
    )


class EwelinkRemote(EwelinkEntity, RemoteEntity):
    """Transmits learned RF codes by channel or button name."""

    entity_description: EwelinkRemoteDescription
    _attr_supported_features = RemoteEntityFeature.LEARN_COMMAND
    _attr_is_on = True

    async def async_turn_on(self, **kwargs: Any) -> None:
        """The bridge is always on."""
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="remote_always_on")

    async def async_turn_off(self, **kwargs: Any) -> None:
        """The bridge is always on."""
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="remote_always_on")

    async def async_send_command(self, command: Iterable[str], **kwargs: Any) -> None:
        """Transmit each command (a channel or a button name), repeated if asked."""
        channels = [self._channel(item, learned=True) for item in command]
        repeats = int(kwargs.get(ATTR_NUM_REPEATS) or 1)
        delay = float(kwargs.get(ATTR_DELAY_SECS) or 0)
        for n in range(repeats):
            for i, channel in enumerate(channels):
                if delay and (n or i):
                    await asyncio.sleep(delay)
                await self.async_send({"cmd": "transmit", "rfChl": channel})

    async def async_learn_command(self, **kwargs: Any) -> None:
        """Put the bridge in learning mode for the given channel(s)."""
        for item in kwargs.get("command") or ():
            await self.async_send({"cmd": "capture", "rfChl": self._channel(item, learned=False)})

    def _channel(self, command: str, *, learned: bool) -> int:
        known = rf_channels(self.thing)
        channel = integer(str(command).strip())
        if channel is None:
            wanted = str(command).strip().casefold()
            channel = next(
                (ch for ch, (name, _) in known.items() if name.casefold() == wanted), None
            )
        if channel is None or not 0 <= channel < 64 or (learned and channel not in known):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_rf_command",
                translation_placeholders={"command": str(command)},
            )
        return channel
