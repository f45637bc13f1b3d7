"""Events: button presses (zigbee buttons, R5/S-Mate, MINI R4, M5/MINI-2GS keys), T5 touch and
slide actions, RF bridge receipts.

Per uiid-platforms.md §7. An event fires from the message that carries it, once: replays
(after a reconnect, or the same press over LAN and cloud) carry the same `trigTime`,
`actionTime`, `rfTrigN` time or LAN `seq` and are skipped; full-state messages are not
presses; a thing-list read never fires (it only updates what was already seen).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import LOGGER
from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import (
    CHANNELS,
    RF_BRIDGE,
    TX_ULTIMATE,
    channel_count,
    integer,
    rf_channel_exists,
    rf_channel_name,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 0

type Params = Mapping[str, Any]

KEY_EVENTS: Final = ("single", "double", "hold", "triple")
LOCAL_KEY_EVENTS: Final = ("single", "double", "hold")
T5_TOUCH: Final = "touch"
T5_EVENTS: Final = (T5_TOUCH, "slide_1", "slide_2")
# Single-button devices reporting `key`; multi-button ones add `outlet` (count per UIID).
KEY_SINGLE: Final = frozenset({138, 1000, 7000})
KEY_BUTTONS: Final = {7039: 4, 174: 6, 177: 3}
# `localKeyPass {outlet, key}` devices: one button per relay channel.
LOCAL_KEY: Final = frozenset({160, 161, 162, 275, 7029})
RF_CHANNELS: Final = 64


class Memory:
    """What an event entity has already seen: the last stamp (time or sequence)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        """Start with nothing seen."""
        self.last: Any = None


@dataclass(frozen=True, kw_only=True)
class EwelinkEventDescription(EwelinkEntityDescription, EventEntityDescription):
    """An event family: which event a message is (None: none), and what a state has seen.

    `event_fn(message, memory)` returns the event type of one message (and records its stamp);
    `seen_fn(params, memory)` records the stamps a full state holds without firing.
    """

    event_fn: Callable[[Params, Memory], str | None]
    seen_fn: Callable[[Params, Memory], None] = lambda params, memory: None


def _full_state(message: Params) -> bool:
    """Return True for a device's full state (sent on connect), which is not a press."""
    return "fwVersion" in message or "init" in message


# Buttons reporting `key` (0 single, 1 double, 2 hold, 3 triple), maybe with `outlet` -----------
def _stamp(params: Params) -> Any:
    return params.get("trigTime") or params.get("actionTime")


def _remember_stamp(params: Params, memory: Memory) -> None:
    if (stamp := _stamp(params)) is not None:
        memory.last = stamp


def _key_event(channel: int | None) -> Callable[[Params, Memory], str | None]:
    def event(message: Params, memory: Memory) -> str | None:
        if "key" not in message:
            return None
        if channel is not None and integer(message.get("outlet")) != channel:
            return None
        stamp = _stamp(message)
        if stamp is not None:
            if stamp == memory.last:
                return None  # a replay after a reconnect (SL#1669)
            memory.last = stamp
        elif _full_state(message):
            return None
        return _kind(KEY_EVENTS, message.get("key"))

    return event


def _kind(kinds: tuple[str, ...], raw: object) -> str | None:
    value = integer(raw)
    if value is None or not 0 <= value < len(kinds):
        LOGGER.debug("Ignoring a button event of unknown kind %r", raw)
        return None
    return kinds[value]


# Keys reporting `localKeyPass {outlet, key}` (M5, MINI-2GS, MINI-ZB2GS-L) ------------------
LOCAL_PRESS_KEYS: Final = frozenset({"localKeyPass", "triggerType", "seq"})
LAN_PRESS: Final = 11


def _local_key_event(channel: int) -> Callable[[Params, Memory], str | None]:
    def event(message: Params, memory: Memory) -> str | None:
        press = message.get("localKeyPass")
        if not isinstance(press, Mapping) or integer(press.get("outlet")) != channel:
            return None
        trigger = message.get("triggerType")
        if trigger is not None and integer(trigger) != LAN_PRESS:
            return None  # other trigger types are not presses (SL#1789)
        if "seq" in message:
            if message["seq"] == memory.last:
                return None  # the same press again (mDNS duplicates, SL#1769)
            memory.last = message["seq"]
        elif message.keys() - LOCAL_PRESS_KEYS:
            return None  # over the cloud a press comes alone; this is a full state
        return _kind(LOCAL_KEY_EVENTS, press.get("key"))

    return event


# TX Ultimate: a touch is `switches` with `triggerType` 2; a slide comes alone (SL#1373) -----
def _t5_event(message: Params, memory: Memory) -> str | None:
    if "switches" in message and integer(message.get("triggerType")) == 2:
        return T5_TOUCH
    if message.keys() == {"slide"}:
        event = f"slide_{integer(message['slide'])}"
        if event in T5_EVENTS:
            return event
        LOGGER.debug("Ignoring an unknown T5 slide %r", message["slide"])
    return None


# RF bridge: `rfTrigN` = time of the last receipt on channel N (§7.1) ------------------------
def _rf_event(channel: int, event_type: str) -> Callable[[Params, Memory], str | None]:
    key = f"rfTrig{channel}"

    def event(message: Params, memory: Memory) -> str | None:
        if key not in message or message[key] == memory.last:
            return None  # the same receipt over LAN and cloud
        memory.last = message[key]
        if "init" in message or "arming" in message:
            return None  # a full state (SL#1101) or a replayed old trigger
        return event_type

    return event


def _rf_seen(channel: int) -> Callable[[Params, Memory], None]:
    key = f"rfTrig{channel}"

    def seen(params: Params, memory: Memory) -> None:
        if key in params:
            memory.last = params[key]

    return seen


def _has_channel(channel: int) -> Callable[[Thing], bool]:
    return lambda thing: channel < channel_count(thing)


EVENTS: tuple[EwelinkEventDescription, ...] = (
    EwelinkEventDescription(
        key="button",
        translation_key="button",
        param="key",
        also_reads=("trigTime", "actionTime"),
        device_class=EventDeviceClass.BUTTON,
        event_types=list(KEY_EVENTS),
        event_fn=_key_event(None),
        seen_fn=_remember_stamp,
        exists_fn=uiid_in(KEY_SINGLE),
    ),
    *(
        EwelinkEventDescription(
            key=f"button_{channel + 1}",
            translation_key="button_channel",
            param="key",
            channel=channel,
            also_reads=("outlet", "trigTime", "actionTime"),
            device_class=EventDeviceClass.BUTTON,
            event_types=list(KEY_EVENTS),
            event_fn=_key_event(channel),
            seen_fn=_remember_stamp,
            exists_fn=uiid_in({u for u, count in KEY_BUTTONS.items() if channel < count}),
        )
        for channel in range(max(KEY_BUTTONS.values()))
    ),
    *(
        EwelinkEventDescription(
            key=f"button_{channel + 1}",
            translation_key="button_channel",
            param="localKeyPass",
            channel=channel,
            device_class=EventDeviceClass.BUTTON,
            event_types=list(LOCAL_KEY_EVENTS),
            event_fn=_local_key_event(channel),
            exists_fn=uiid_in(LOCAL_KEY, _has_channel(channel)),
        )
        for channel in range(max(CHANNELS[uiid] for uiid in LOCAL_KEY))
    ),
    EwelinkEventDescription(
        key="action",
        translation_key="action",
        param="triggerType",
        also_reads=("switches", "slide"),
        event_types=list(T5_EVENTS),
        event_fn=_t5_event,
        exists_fn=uiid_in(TX_ULTIMATE),
    ),
    *(
        EwelinkEventDescription(
            key=f"rf_{channel}",
            translation_key="rf_alarm" if alarm else "rf_button",
            param=f"rfTrig{channel}",
            channel=channel,
            device_class=None if alarm else EventDeviceClass.BUTTON,
            event_types=["triggered" if alarm else "pressed"],
            event_fn=_rf_event(channel, "triggered" if alarm else "pressed"),
            seen_fn=_rf_seen(channel),
            exists_fn=uiid_in(RF_BRIDGE, rf_channel_exists(channel, alarm=alarm)),
        )
        for channel in range(RF_CHANNELS)
        for alarm in (False, True)
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add event entities for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, EVENTS, EwelinkEvent
        )
    )


class EwelinkEvent(EwelinkEntity, EventEntity):
    """Fires when a message of its device carries a new event."""

    entity_description: EwelinkEventDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkEventDescription
    ) -> None:
        """Start from what the device's state has already seen; RF channels take their names."""
        super().__init__(coordinator, thing, description)
        self._memory = Memory()
        description.seen_fn(thing.params, self._memory)
        if description.param.startswith("rfTrig") and (
            name := rf_channel_name(thing, description.channel)
        ):
            self._attr_name = name

    async def async_added_to_hass(self) -> None:
        """Listen to this device's messages."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_subscribe_pushes(self.deviceid, self._handle_message)
        )
        self.async_on_remove(
            self.coordinator.async_subscribe_reads(self.deviceid, self._handle_read)
        )

    @callback
    def _handle_message(self, message: Mapping[str, Any]) -> None:
        event_type = self.entity_description.event_fn(message, self._memory)
        if event_type is not None:
            self._trigger_event(event_type)
            self.async_write_ha_state()

    @callback
    def _handle_read(self) -> None:
        """A read (thing list, query): record its stamps, fire nothing."""
        self.entity_description.seen_fn(self.params, self._memory)
