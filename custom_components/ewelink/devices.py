"""Device types by UIID: which entities a device gets (uiid-params.md, uiid-platforms.md).

The platforms hold the entity descriptions; each description names the UIIDs it applies to,
using the families below (`uiid_in`). Nothing here branches per device at runtime: a device's
entities are the descriptions whose predicate accepts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import math
from typing import Any, Final

from .coolkit import Thing

# Model names for the device page when the cloud gives no `productModel` (uiid-platforms.md §2).
MODEL_NAMES: Final[Mapping[int, str]] = {
    1: "BASIC / MINI / S26 single-channel switch", 6: "T1 1C / TX1C / Slampher RF",
    14: "Basic switch module", 2: "Dual-channel plug", 3: "Three-channel plug",
    4: "Four-channel switch (4CH Pro)", 7: "T1 2C / TX2C", 8: "T1 3C / TX3C",
    9: "Four-channel switch", 29: "GSM dual-channel plug", 30: "GSM three-channel plug",
    31: "GSM four-channel plug", 82: "GSM dual-channel plug", 83: "GSM three-channel plug",
    84: "GSM four-channel plug", 5: "POW", 11: "King Art King Q4 curtain motor",
    15: "TH10 / TH16", 17: "Three-speed fan", 18: "Sonoff SC", 22: "B1 RGBCW bulb",
    25: "YB-01 aroma diffuser", 28: "RF Bridge 433", 32: "POWR2", 33: "L1 LED strip",
    34: "iFan02 / iFan03 / iFan04", 36: "KING-M4 dimmer", 44: "D1 dimmer",
    57: "Single-colour bulb", 59: "L1 LED strip", 66: "ZBBridge", 67: "KING-Q1 garage opener",
    77: "Micro (single channel)", 78: "Single-channel switch", 81: "GSM single-channel plug",
    91: "ST-03 roller shutter", 102: "DW2 door/window sensor", 103: "B02-F CCT bulb",
    104: "B05-B RGBCW bulb", 107: "GSM single-channel plug", 126: "DualR3", 127: "GTTA127 thermostat",
    128: "SPM-Main", 130: "SPM-4Relay", 133: "NSPanel", 135: "B02-BL CCT bulb",
    136: "B05-BL RGBCW bulb", 137: "L2 LED strip", 138: "MINIR3 / MINIR4 / BASICR4",
    139: "Dual-channel plug (2.4G remote)", 140: "Three-channel plug (2.4G remote)",
    141: "Four-channel plug (2.4G remote)", 154: "DW2-Wi-Fi-L door/window sensor",
    160: "SwitchMan M5 1-gang", 161: "SwitchMan M5 2-gang", 162: "SwitchMan M5 3-gang",
    165: "DualR3 Lite", 168: "ZBBridge-P", 173: "L3-5M-P LED strip", 174: "R5 six-key remote",
    177: "S-Mate switch mate", 181: "THR316D / THR320D", 182: "S40",
    190: "POWR316 / POWR320D / S60 / POWCT", 195: "NSPanel Pro", 209: "TX Ultimate T5 1-gang",
    210: "TX Ultimate T5 2-gang", 211: "TX Ultimate T5 3-gang", 212: "TX Ultimate T5 4-gang",
    225: "PC power switch", 226: "DIN rail breaker with metering", 228: "NSPanel Pro 120",
    242: "Temperature and humidity sensor", 243: "ZBBridge-U", 258: "MINI-RBS curtain module",
    262: "Four-outlet metering strip", 266: "SAWF air quality sensor", 268: "BASIC-1GS",
    275: "MINI-2GS", 276: "S61STPF / BASIC-1GSP", 277: "MINI-DIM", 1000: "SNZB-01 button",
    7000: "SNZB-01 button", 1256: "ZBMINI", 7004: "ZBMINIL2", 7010: "ZBMicro",
    1257: "Zigbee dimmable light", 1258: "Zigbee CCT light", 1514: "Zigbee curtain motor",
    1770: "SNZB-02", 1771: "SNZB-02", 7014: "SNZB-02P", 2026: "SNZB-03", 7002: "SNZB-03P",
    3026: "SNZB-04", 7003: "SNZB-04P", 3258: "Zigbee RGBCW light", 7009: "Zigbee RGBCW light",
    4026: "SNZB-05", 7019: "SNZB-05P", 4256: "Zigbee four-gang switch", 7006: "Zigbee curtain",
    7016: "SNZB-06P", 7017: "TRVZB", 7027: "SWV water valve", 7029: "MINI-ZB2GS-L",
    7032: "S60ZBTPF", 7033: "SNZB-02WD / SNZB-02LD", 7034: "MINI-ZBRBS", 7038: "SNZB-02DR2",
    7039: "SNZB-01M", 7047: "SWV-ZNE", 7055: "SNZB-03PR2",
}  # fmt: skip
KNOWN_UIIDS: Final = frozenset(MODEL_NAMES)

# Relays ------------------------------------------------------------------------------------
# Single-channel devices reporting `switch` on/off (UIID 1 form).
SWITCH_FORM: Final = frozenset({1, 5, 6, 14, 32, 1256, 7004, 7010})
# TH10/16 and TH Elite: the relay command also leaves the thermostat's auto mode (§8).
TH_SWITCH: Final = frozenset({15, 181})
# JSON true/false instead of on/off (§8 `XBoolSwitch`): param by UIID.
BOOL_SWITCH: Final[Mapping[int, str]] = {225: "switch", 226: "switch", 7027: "switch", 7047: "switch_00"}  # fmt: skip
# Channel count of devices reporting `switches` (outlet 0..N-1).
CHANNELS: Final[Mapping[int, int]] = {
    2: 2, 3: 3, 4: 4, 7: 2, 8: 3, 9: 4, 29: 2, 30: 3, 31: 4, 82: 2, 83: 3, 84: 4,
    77: 1, 78: 1, 81: 1, 107: 1, 138: 1, 182: 1, 190: 1, 268: 1, 276: 1, 7032: 1,
    126: 2, 165: 2, 130: 4, 133: 2, 139: 2, 140: 3, 141: 4, 160: 1, 161: 2, 162: 3,
    209: 1, 210: 2, 211: 3, 212: 4, 262: 4, 275: 2, 4256: 4, 7029: 2,
}  # fmt: skip
POWR3: Final = frozenset({190})
# Channel commands must carry every channel's value (uiid-params.md §3.3, SL#714).
FULL_ARRAY: Final = frozenset({130, 4256})
# DualR3: `workMode` 2 is motor mode (a cover); its relays are then not switches.
MOTOR_MODE: Final = frozenset({126, 165})
# Start-up state per channel (`configure`) and single (`startup`) (§8).
STARTUP_CHANNELS: Final = frozenset({126, 130, 138, 165, 190, 209, 210, 211, 212, 275})
STARTUP_SINGLE: Final = frozenset({32, 225})

# Auxiliary entities ------------------------------------------------------------------------
# Devices with the network LED switch (`sledOnline`).
LED: Final = frozenset(
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 17, 28, 29, 30, 31, 32, 34, 66, 77, 78, 81, 82,
     83, 84, 107, 128, 138, 139, 140, 141, 160, 161, 162, 181, 182, 190, 225, 226, 243, 258,
     262, 268, 275, 276, 277, 7034}
)  # fmt: skip
# Devices reporting Wi-Fi `rssi`.
WIFI_RSSI: Final = frozenset(
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 17, 22, 25, 28, 29, 30, 31, 32, 33, 34, 36, 44, 57,
     59, 66, 77, 78, 81, 82, 83, 84, 102, 103, 104, 107, 126, 135, 136, 137, 138, 139, 140,
     141, 154, 160, 161, 162, 165, 168, 173, 181, 182, 190, 225, 226, 258, 262, 266, 268, 275,
     276, 277}
)  # fmt: skip
# Sub-devices reporting `subDevRssi` (127 = no value).
ZIGBEE_RSSI: Final = frozenset(
    {242, 7002, 7003, 7004, 7010, 7016, 7017, 7027, 7033, 7034, 7038, 7039, 7047, 7055}
)
INCHING: Final = frozenset({1, 6, 14})
BATTERY_PERCENT: Final = frozenset(
    {154, 242, 1000, 1770, 1771, 3026, 4026, 7000, 7002, 7003, 7006, 7014, 7017, 7019, 7027,
     7033, 7038, 7039, 7047, 7055}
)  # fmt: skip
# Mains-powered SNZB-03 variants report no battery (§2 spec adjustments).
BATTERY_IF_REPORTED: Final = frozenset({2026})
# Every device type that may run on batteries (and sleep): the ones above, the zigbee curtain
# (battery x2) and the DW2 (battery in volts).
BATTERY_POWERED: Final = BATTERY_PERCENT | BATTERY_IF_REPORTED | {1514, 102}

# Metering ----------------------------------------------------------------------------------
# Decimal strings or plain floats (POW, POWR2, S40).
POWER_PLAIN: Final = frozenset({5, 32, 182})
VOLTAGE_CURRENT_PLAIN: Final = frozenset({32, 182})
# POW (first generation): voltage and current only when the device reports them (§4.7).
VOLTAGE_CURRENT_IF_REPORTED: Final = frozenset({5})
# Integers x0.01 (POWR3, S61, MINI-DIM, metering strip, zigbee plug).
POWER_CENTI: Final = frozenset({190, 262, 276, 277, 7032})
ENERGY_DAY_MONTH: Final = frozenset({190, 276, 7032})
ENERGY_WEEK_YEAR: Final = frozenset({276})
HUNDRED_DAYS_KWH: Final = frozenset({5, 32, 182})
HOURS_KWH: Final = frozenset({190})
# POWCT: energy returned to the grid, only when the device reports `supplyPower` (§4.10).
SUPPLY: Final = frozenset({190})
# Per-channel metering `*_0N` x0.01 (DualR3, SPM-4Relay).
CHANNEL_METERING: Final[Mapping[int, int]] = {126: 2, 130: 4}
PHASE_METERING: Final = frozenset({226})

# Climate sensors ---------------------------------------------------------------------------
TH_WIFI: Final = frozenset({15, 181})
TH_ZIGBEE: Final = frozenset({1770, 1771, 7014})
# (raw x0.01) + correction.
TH_CENTI_CORRECTED: Final = frozenset({242, 7038})
# raw + correction (266 sends strings; only the keys present exist).
TH_CORRECTED: Final = frozenset({7033, 266})
AIR_QUALITY: Final = frozenset({266})
SONOFF_SC: Final = frozenset({18})
NSPANEL: Final = frozenset({133})
NSPANEL_PRO: Final = frozenset({195, 228})

# Binary sensors ----------------------------------------------------------------------------
DOOR_WIFI: Final = frozenset({102, 154})
DOOR_ZIGBEE: Final = frozenset({3026, 7003})
MOTION_ZIGBEE: Final = frozenset({2026, 7002})
WATER_LEAK: Final = frozenset({4026, 7019})
OCCUPANCY: Final = frozenset({7016, 7055})
LIGHT_LEVEL: Final = frozenset({7002, 7016})

# Platforms of their own --------------------------------------------------------------------
TRVZB: Final = frozenset({7017})
TX_ULTIMATE: Final = frozenset({209, 210, 211, 212})
T5_CURTAIN: Final = frozenset({211})
RF_BRIDGE: Final = frozenset({28})
IFAN: Final = frozenset({34})
DIFFUSER: Final = frozenset({25})


# Predicates --------------------------------------------------------------------------------
class Condition:
    """A condition on a device's params; `params` are those whose arrival can change it.

    `uiids`, when given, are the only device types whose answer can change (elsewhere the
    params need not be watched).
    """

    __slots__ = ("check", "params", "uiids")

    def __init__(
        self,
        check: Callable[[Thing], bool],
        params: Iterable[str],
        uiids: Iterable[int] | None = None,
    ) -> None:
        """Store the check and the params it looks at."""
        self.check = check
        self.params = frozenset(params)
        self.uiids = None if uiids is None else frozenset(uiids)

    def __call__(self, thing: Thing) -> bool:
        """Return True when the condition holds."""
        return self.check(thing)


class UiidPredicate:
    """An `exists_fn`: the device's profile UIID is one of `uiids` and every condition holds.

    `uiids` is public so that entity creation can index descriptions by UIID instead of
    asking every description about every device; `watched` names the params whose arrival in
    a push can make the description apply or stop applying.
    """

    __slots__ = ("conditions", "uiids", "watched")

    def __init__(
        self, uiids: Iterable[int], conditions: tuple[Callable[[Thing], bool], ...] = ()
    ) -> None:
        """Store the UIIDs and the extra conditions."""
        self.uiids = frozenset(uiids)
        self.conditions = conditions
        self.watched = frozenset(
            param
            for condition in conditions
            if isinstance(condition, Condition)
            for param in condition.params
        )

    def __call__(self, thing: Thing) -> bool:
        """Return True when the description applies to the device."""
        return profile_uiid(thing) in self.uiids and all(cond(thing) for cond in self.conditions)

    def watched_for(self, uiid: int) -> frozenset[str]:
        """Return the params to watch on devices of one UIID (`watched`, narrowed)."""
        return frozenset(
            param
            for condition in self.conditions
            if isinstance(condition, Condition)
            and (condition.uiids is None or uiid in condition.uiids)
            for param in condition.params
        )


def uiid_in(
    uiids: Iterable[int] | Mapping[int, Any], *conditions: Callable[[Thing], bool]
) -> UiidPredicate:
    """Return a predicate: the device's profile UIID is one of `uiids` and `conditions` hold."""
    return UiidPredicate(uiids, conditions)


def reports(*params: str) -> Condition:
    """Return a condition: the device reports every one of `params`."""
    return Condition(lambda thing: all(param in thing.params for param in params), params)


def _motor_mode(thing: Thing) -> bool:
    return thing.uiid in MOTOR_MODE and thing.params.get("workMode") == 2


# A DualR3 in motor (cover) mode (`workMode` 2), and not.
in_motor_mode: Final = Condition(_motor_mode, ("workMode",), MOTOR_MODE)
not_in_motor_mode: Final = Condition(
    lambda thing: not _motor_mode(thing), ("workMode",), MOTOR_MODE
)


def is_known(thing: Thing) -> bool:
    """Return True when the device's UIID has its own entity table."""
    return thing.uiid in KNOWN_UIIDS


def profile_uiid(thing: Thing) -> int | None:
    """Return the UIID whose entities the device gets.

    Unknown UIIDs fall back on their params: `switch` gets the UIID 1 entities, `switches` the
    four-channel ones (uiid-params.md §5); only those whose params the device reports are
    created (see `entity.description_applies`).
    """
    if thing.uiid in KNOWN_UIIDS:
        return thing.uiid
    if "switch" in thing.params:
        return 1
    if "switches" in thing.params:
        return 4
    return thing.uiid


def device_model(thing: Thing) -> str | None:
    """Return the model shown on the device page: the cloud's, else the UIID's catalogue name."""
    if thing.model:
        return thing.model
    return MODEL_NAMES.get(thing.uiid) if thing.uiid is not None else None


def channel_count(thing: Thing) -> int:
    """Return how many `switches` channels the device has.

    An unknown device has the channels it reports (at most four).
    """
    if is_known(thing):
        return CHANNELS.get(thing.uiid or 0, 0)
    items = thing.params.get("switches")
    if not isinstance(items, list):
        return 0
    outlets = {
        item.get("outlet")
        for item in items
        if isinstance(item, Mapping) and item.get("outlet") in (0, 1, 2, 3)
    }
    return len(outlets)


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


def channel_switch(params: Mapping[str, Any], channel: int) -> Any:
    """Return the `switch` value of one outlet of `switches` (None when not reported)."""
    item = channel_state(params, "switches", channel)
    return item.get("switch") if item is not None else None


# Value parsing -----------------------------------------------------------------------------
def number(raw: object) -> float | None:
    """Parse a numeric param that may arrive as a number or a decimal string (§13.5)."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def integer(raw: object) -> int | None:
    """Parse an integral param (int, or a string of one); anything else is no value."""
    value = number(raw)
    if value is None or value != int(value):
        return None
    return int(value)


def plausible_climate(value: float) -> bool:
    """Tell a temperature/humidity from a placeholder: `0` and +-270 are not values (§13.4)."""
    return value != 0 and abs(value) < 270


def conv(value: float, src: tuple[float, float], dst: tuple[float, float]) -> int:
    """Map `value` linearly from `src` to `dst`, rounded and clamped (uiid-platforms.md §1)."""
    (a1, a2), (b1, b2) = src, dst
    value = min(max(a1, a2), max(min(a1, a2), value))  # first: a huge int overflows a float
    mapped = b1 + (value - a1) * (b2 - b1) / (a2 - a1)
    low, high = min(b1, b2), max(b1, b2)
    return int(min(high, max(low, round(mapped))))


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


# RF bridge ---------------------------------------------------------------------------------
RF_ALARM_TYPE: Final = "6"


def rf_channels(thing: Thing) -> dict[int, tuple[str, str]]:
    """Return the RF bridge's learned channels: channel -> (button name, remote type).

    Remotes come from `tags.zyx_info` (`buttonName` maps channel numbers to names); only
    channels with a code in `params.rfList` are learned (uiid-platforms.md §7.1).
    """
    codes = thing.params.get("rfList")
    learned = {
        item.get("rfChl")
        for item in (codes if isinstance(codes, list) else ())
        if isinstance(item, Mapping) and isinstance(item.get("rfChl"), int)
    }
    channels: dict[int, tuple[str, str]] = {}
    remotes = thing.tags.get("zyx_info")
    if not isinstance(remotes, list):
        return channels
    for remote in remotes:
        if not isinstance(remote, Mapping):
            continue
        remote_type = str(remote.get("remote_type", ""))
        remote_name = str(remote.get("name") or "").strip()
        buttons = remote.get("buttonName")
        for button in buttons if isinstance(buttons, list) else ():
            if not isinstance(button, Mapping):
                continue
            for raw_channel, raw_name in button.items():
                channel = integer(raw_channel)
                if channel is None or channel not in learned:
                    continue
                name = str(raw_name or "").strip()
                if remote_type == RF_ALARM_TYPE or not name:
                    name = remote_name or name or f"Channel {channel}"
                elif remote_name:
                    name = f"{remote_name} {name}"
                channels[channel] = (name, remote_type)
    return channels


def rf_channel_exists(channel: int, *, alarm: bool | None = None) -> Condition:
    """Return a condition: the bridge learned `channel` (of an alarm remote, or not, if given)."""

    def check(thing: Thing) -> bool:
        found = rf_channels(thing).get(channel)
        if found is None:
            return False
        return alarm is None or (found[1] == RF_ALARM_TYPE) is alarm

    return Condition(check, ("rfList",))


def rf_channel_name(thing: Thing, channel: int | None) -> str | None:
    """Return the name of a learned RF channel (remote and button names from the app)."""
    learned = rf_channels(thing).get(channel) if channel is not None else None
    return learned[0] if learned else None
