"""Which `/zeroconf/<command>` path carries which params (lan-protocol.md §4.5, §6, §7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .const import ANNOUNCE_ONLY_UIIDS, CLOUD_ONLY_PARAMS, DIY_TYPES, NO_LAN_UIIDS

# Content rules, first match wins. Light params go to `dimmable` (D1 sends `switch` with them),
# channel arrays before the single-relay keys.
_BY_KEY: tuple[tuple[str, str], ...] = (
    ("switches", "switches"),
    ("ltype", "dimmable"),
    ("brightness", "dimmable"),
    ("dimmable", "dimmable"),
    ("configure", "startups"),
    ("pulses", "pulses"),
    ("fan", "fan"),
    ("light", "light"),
    ("switch", "switch"),
    ("startup", "startup"),
    ("pulse", "pulse"),
    ("sledOnline", "sledonline"),
    ("uiActive", "uiActive"),
    ("getHoursKwh", "getHoursKwh"),
)
_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def valid_command(command: str) -> bool:
    """Return True for a path segment a device can have (letters, digits, `_`; 1..32)."""
    return 0 < len(command) <= 32 and set(command) <= _COMMAND_CHARS


def command_for(params: Mapping[str, Any]) -> str:
    """Return the command path for params: `cmd` if given, else by content, else the first key.

    Empty params are a state query (`getState`). `subDevId` is ignored for the choice.
    """
    cmd = params.get("cmd")
    if isinstance(cmd, str) and valid_command(cmd):
        return cmd
    keys = [key for key in params if key != "subDevId"]
    if not keys:
        return "getState"
    for key, command in _BY_KEY:
        if key in params:
            return command
    first = keys[0]
    if not valid_command(first):
        raise ValueError("params do not name a command")
    return first


def commands_over_lan(uiid: int | None, *, is_child: bool = False) -> bool:
    """Return False for devices whose commands must go through the cloud.

    Zigbee children and announce-only bridges never take LAN commands; SPM-4Relay (130) does,
    through its SPM-Main (pass `is_child=True` with the parent's target); UIIDs known not to
    speak LAN are excluded. Unknown UIIDs are tried (the device answers 4xx if it cannot).
    """
    if uiid is None:
        return not is_child
    if is_child:
        return uiid == 130
    return uiid not in NO_LAN_UIIDS and uiid not in ANNOUNCE_ONLY_UIIDS and uiid < 1000


def cloud_only(params: Mapping[str, Any]) -> bool:
    """Return True when params include one that devices do not take over the LAN (Q10, Q14)."""
    return any(key in CLOUD_ONLY_PARAMS for key in params)


def diy_uiid(local_type: str | None, params: Mapping[str, Any] | None = None) -> int:
    """Return the UIID to model an unknown unencrypted (DIY) device as; 0 when unknown (§6.2)."""
    if local_type == "diy_plug" and params is not None and "switches" in params:
        return 77
    return DIY_TYPES.get(local_type or "", 0)
