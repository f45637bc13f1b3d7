"""Device types by UIID: which entities a device gets (uiid-params.md, uiid_entities.json).

The platforms hold the entity descriptions; each description names the UIIDs it applies to,
using the groups below. Nothing here branches per device at runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import math
from typing import Any, Final

from .coolkit import Thing

# Single-channel devices reporting `switch` (UIID 1 form).
SWITCH_FORM: Final = frozenset({1, 5, 6, 14, 15, 32, 181, 1256, 7004, 7010})
# Channel count of devices reporting `switches` (outlet 0..N-1).
CHANNELS: Final[Mapping[int, int]] = {
    2: 2, 3: 3, 4: 4, 7: 2, 8: 3, 9: 4, 82: 2, 83: 3, 84: 4,
    77: 1, 78: 1, 81: 1, 107: 1, 138: 1, 182: 1, 190: 1, 276: 1,
    126: 2, 130: 4, 139: 2, 140: 3, 141: 4, 160: 1, 161: 2, 162: 3,
}  # fmt: skip
# Devices with the network LED switch (`sledOnline`).
LED: Final = frozenset(
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 28, 32, 34, 77, 78, 81, 82, 83, 84, 107, 138, 139,
     140, 141, 160, 161, 162, 181, 182, 190, 276, 277}
)  # fmt: skip
# Devices reporting Wi-Fi `rssi`.
WIFI_RSSI: Final = frozenset(
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 28, 32, 34, 44, 57, 59, 77, 78, 81, 82, 83, 84, 102,
     107, 126, 138, 139, 140, 141, 154, 160, 161, 162, 181, 182, 190, 276, 277}
)  # fmt: skip
INCHING: Final = frozenset({1, 6, 14})
# Power metering: decimal strings (POW, POWR2, S40) or integers x0.01 (POWR3, S61, MINI-DIM).
POWER_STRINGS: Final = frozenset({5, 32, 182})
POWER_STRINGS_VC: Final = frozenset({32, 182})
POWER_CENTI: Final = frozenset({190, 276, 277})
ENERGY_DAY_MONTH: Final = frozenset({190, 276})
HUNDRED_DAYS_KWH: Final = frozenset({5, 32, 182})
# Per-channel metering `*_0N` x0.01 (DualR3, SPM-4Relay).
CHANNEL_METERING: Final[Mapping[int, int]] = {126: 2, 130: 4}
TH_WIFI: Final = frozenset({15, 181})
TH_ZIGBEE: Final = frozenset({1770, 7014})
ZIGBEE_RSSI: Final = frozenset({7004, 7010})
BATTERY_PERCENT: Final = frozenset({154, 1000, 1770, 2026, 3026, 4026, 7014})
DOOR_WIFI: Final = frozenset({102, 154})

KNOWN_UIIDS: Final = frozenset(
    {*SWITCH_FORM, *CHANNELS, *LED, *WIFI_RSSI, *TH_ZIGBEE, *BATTERY_PERCENT, *DOOR_WIFI,
     *ZIGBEE_RSSI, 2026, 3026, 4026, 7002, 7003}
)  # fmt: skip


def profile_uiid(thing: Thing) -> int | None:
    """Return the UIID whose entities the device gets.

    Unknown UIIDs fall back on their params: `switch` gets the UIID 1 entities, `switches` the
    four-channel ones (uiid-params.md §5).
    """
    if thing.uiid in KNOWN_UIIDS:
        return thing.uiid
    if "switch" in thing.params:
        return 1
    if "switches" in thing.params:
        return 4
    return thing.uiid


def channel_count(thing: Thing) -> int:
    """Return how many `switches` channels the device has."""
    uiid = profile_uiid(thing)
    return CHANNELS.get(uiid, 0) if uiid is not None else 0


def uiid_in(uiids: frozenset[int] | Mapping[int, int]) -> Callable[[Thing], bool]:
    """Return a predicate: the device's profile UIID is one of `uiids`."""
    return lambda thing: profile_uiid(thing) in uiids


def channel_name(thing: Thing, channel: int) -> str | None:
    """Return the user's name for a channel (`tags.ck_channel_name`), if any."""
    names = thing.tags.get("ck_channel_name")
    if isinstance(names, Mapping):
        name = names.get(str(channel))
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


def channel_state(params: Mapping[str, Any], key: str, channel: int) -> Mapping[str, Any] | None:
    """Return the item of a channel array (`switches`, `configure`) for one outlet."""
    items = params.get(key)
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and item.get("outlet") == channel:
                return item
    return None


def number(raw: object) -> float | None:
    """Parse a numeric param that may arrive as a number or a decimal string (§13.5)."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def plausible_climate(value: float) -> bool:
    """Tell a temperature/humidity from a placeholder: `0` and +-270 are not values (§13.4)."""
    return value != 0 and abs(value) < 270


def hundred_days_kwh(raw: object) -> float | None:
    """Decode today's energy from `hundredDaysKwhData` (6 hex chars a day, today first)."""
    if not isinstance(raw, str) or len(raw) < 6:
        return None
    try:
        return int(raw[0:2], 16) + int(raw[3], 16) / 10 + int(raw[5], 16) / 100
    except ValueError:
        return None


def kwh_histories(raw: object) -> float | None:
    """Decode today's energy from `kwhHistories_0N` (4 chars a day: hex kWh, 2 decimal digits)."""
    if not isinstance(raw, str) or len(raw) < 4:
        return None
    try:
        return int(raw[0:2], 16) + int(raw[2:4], 10) / 100
    except ValueError:
        return None


def hours_kwh(raw: object) -> float | None:
    """Decode the latest hour from `hoursKwhData` (3 chars an hour: hex kWh, 2 decimal digits)."""
    if not isinstance(raw, str) or len(raw) < 3:
        return None
    try:
        return int(raw[0], 16) + int(raw[1:3], 10) / 100
    except ValueError:
        return None
