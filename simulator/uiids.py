"""Device behaviour per UIID: realistic default params, command handling, measurement drift.

Shapes follow uiid-params.md: POW/POWR2 decimal strings, POWR3/DualR3/S61 integers x0.01, zigbee
TH integers x0.01, TH10/16 `currentTemperature` strings, `switches` merged by `outlet`, ...
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
import random
import time
from typing import Any

from .families import (
    ACTION_KEYS,
    OWN_KEYS,
    FamilyError,
    family_defaults,
    family_effects,
    family_filter,
    family_validate,
)

ON_OFF = ("on", "off")
STARTUP = ("on", "stay", "off")
LIST_KEYS = ("switches", "configure", "pulses")


@dataclass(frozen=True, slots=True)
class UiidSpec:
    """What a UIID is: its behaviour family, channel count and catalogue names."""

    uiid: int
    kind: str
    name: str
    model: str
    product_model: str
    channels: int = 1
    report_channels: int = 1
    """Entries a `switches` array carries (many devices report 4 whatever their channel count)."""
    zigbee: bool = False
    bridge: bool = False
    timers: bool = True


def _spec(uiid: int, kind: str, name: str, model: str, product: str, **kw: Any) -> UiidSpec:
    return UiidSpec(uiid, kind, name, model, product, **kw)


def _zb(uiid: int, kind: str, name: str, product: str, **kw: Any) -> UiidSpec:
    return UiidSpec(uiid, kind, name, product, product, zigbee=True, timers=False, **kw)


def _gang(uiid: int, kind: str, name: str, model: str, product: str, *, n: int) -> UiidSpec:
    return UiidSpec(uiid, kind, name, model, product, channels=n, report_channels=n)


# Lights, covers, fans, thermostats, panels, buttons and sensors (uiid-platforms.md).
_PLATFORM_SPECS = (
    _spec(17, "fan17", "Smart fan", "PSF-BFA-GL", "FAN17"),
    _spec(18, "sc", "Sonoff SC", "PSF-BSC-GL", "SC", timers=False),
    _spec(22, "b1", "Color bulb", "PSF-BLB-GL", "B1"),
    _spec(25, "diffuser", "Aroma diffuser", "YB-01", "YB-01"),
    _gang(30, "multi", "GSM Three-Channel Plug", "PSA-G30-GL", "GSM-3C", n=3),
    _spec(33, "l1", "LED strip", "PSF-BLS33-GL", "L1-Lite"),
    _spec(137, "l1", "LED strip", "PSF-BLS137-GL", "L2"),
    _spec(173, "l3", "LED strip", "L3-5M-P", "L3-5M-P"),
    _spec(36, "kingm4", "Dimmer", "KING-M4", "KING-M4"),
    _spec(67, "garage", "Garage door opener", "KING-Q1", "KING-Q1", timers=False),
    _spec(103, "b02", "CCT bulb", "B02-F-A60", "B02-F-A60"),
    _spec(135, "b02", "CCT bulb", "B02-BL-A60", "B02-BL-A60"),
    _spec(104, "b05", "RGBCW bulb", "B05-B-A60", "B05-B-A60"),
    _spec(136, "b05", "RGBCW bulb", "B05-BL-A60", "B05-BL-A60"),
    _spec(127, "gtta", "Thermostat", "GTTA127", "GTTA127"),
    _gang(133, "nspanel", "NSPanel", "NSPanel-EU", "NSPanel", n=2),
    _spec(
        165,
        "dualr3lite",
        "DualR3 Lite",
        "PSF-B27-GL",
        "DUALR3 Lite",
        channels=2,
        report_channels=2,
        bridge=True,
    ),
    _zb(174, "ble_button", "Six-key remote", "R5"),
    _zb(177, "ble_button", "Switch mate", "S-MATE"),
    _spec(195, "nspanel_pro", "NSPanel Pro", "NSPanel-Pro", "NSPanel Pro", timers=False),
    _spec(
        228, "nspanel_pro", "NSPanel Pro 120", "NSPanel-Pro-120", "NSPanel Pro 120", timers=False
    ),
    _gang(209, "t5", "TX Ultimate 1-gang", "T5-1C-86", "T5-1C-86", n=1),
    _gang(210, "t5", "TX Ultimate 2-gang", "T5-2C-86", "T5-2C-86", n=2),
    _gang(211, "t5", "TX Ultimate 3-gang", "T5-3C-86", "T5-3C-86", n=3),
    _gang(212, "t5", "TX Ultimate 4-gang", "T5-4C-86", "T5-4C-86", n=4),
    _spec(225, "pcsw", "PC power switch", "CK-BL602-PCSW-01", "PCSW-01"),
    _spec(226, "din", "DIN rail breaker", "CK-BL602-W102SW18-01", "W102SW18"),
    _zb(242, "th242", "TH sensor", "CK-BK7238-W105SE10-01-HB"),
    _spec(258, "rbs", "Curtain module", "MINI-RBS", "MINI-RBS"),
    _gang(262, "strip262", "Metering power strip", "CK-BL602-SWP1-02", "SWP1-02", n=4),
    _spec(266, "air", "Air quality sensor", "SAWF-08P", "SAWF-08P", timers=False),
    _gang(268, "multi", "BASIC-1GS", "BASIC-1GS", "BASIC-1GS", n=1),
    _gang(275, "multi_gang", "MINI-2GS", "MINI-2GS", "MINI-2GS", n=2),
    _zb(7000, "zb_button", "Zigbee wireless button", "SNZB-01"),
    _zb(1257, "zb_dimmer", "Zigbee dimmable light", "ZB-DIM"),
    _zb(1258, "zb_cct", "Zigbee CCT light", "ZB-CCT"),
    _zb(1514, "zb_curtain", "Zigbee curtain motor", "ZM25TQ"),
    _zb(1771, "zb_th", "Zigbee TH sensor", "SNZB-02"),
    _zb(3258, "zb_rgbcw", "Zigbee RGBCW light", "ZB-RGBCW"),
    _zb(7009, "zb_rgbcw", "Zigbee RGBCW light", "CK-BL702-AL-01"),
    _zb(7019, "zb_water", "Zigbee water leak sensor", "SNZB-05P"),
    UiidSpec(
        4256,
        "multi_gang",
        "Zigbee 4-gang switch",
        "ZB-4G",
        "ZB-4G",
        channels=4,
        report_channels=4,
        zigbee=True,
    ),
    _zb(7006, "zb_curtain", "Zigbee curtain", "ZB-CURTAIN"),
    _zb(7016, "zb_presence", "Zigbee presence sensor", "SNZB-06P"),
    _zb(7017, "trvzb", "Zigbee radiator valve", "TRVZB"),
    _zb(7027, "swv", "Zigbee water valve", "SWV"),
    UiidSpec(
        7029,
        "multi_gang",
        "Zigbee 2-gang switch",
        "MINI-ZB2GS-L",
        "MINI-ZB2GS-L",
        channels=2,
        report_channels=2,
        zigbee=True,
    ),
    UiidSpec(7032, "zb_meter", "Zigbee metering plug", "S60ZBTPF", "S60ZBTPF", zigbee=True),
    _zb(7033, "zb_th_corr", "Zigbee TH sensor", "SNZB-02WD"),
    _zb(7034, "zb_rbs", "Zigbee curtain module", "MINI-ZBRBS"),
    _zb(7038, "zb_th_centi_corr", "Zigbee TH sensor", "SNZB-02DR2"),
    _zb(7039, "zb_button4", "Zigbee four-button remote", "SNZB-01M"),
    _zb(7047, "swv_zne", "Zigbee water valve", "SWV-ZNE"),
    _zb(7055, "zb_presence2", "Zigbee presence sensor", "SNZB-03PR2"),
)


SPECS: dict[int, UiidSpec] = {
    s.uiid: s
    for s in (
        _spec(1, "single", "Single-Channel Plug", "PSF-B01-GL", "MINIR2"),
        _spec(6, "single", "Single-Channel Switch", "PSF-BFB-GL", "T1EU1C"),
        _spec(14, "single", "Switch module", "PSF-BM1-GL", "BASIC"),
        _spec(24, "single", "GSM Single-Channel Plug", "PSA-B24-GL", "GSM-1C"),
        _spec(27, "single", "GSM Single-Channel Plug", "PSA-B27-GL", "GSM-1C"),
        _spec(
            2, "multi", "Dual-Channel Plug", "PSF-B02-GL", "DUALR2", channels=2, report_channels=4
        ),
        _spec(3, "multi", "Three-Channel Plug", "PSF-B03-GL", "3CH", channels=3, report_channels=4),
        _spec(
            4, "multi", "Four-Channel Plug", "PSF-B04-GL", "4CHPROR3", channels=4, report_channels=4
        ),
        _spec(
            7, "multi", "Dual-Channel Switch", "PSF-BF2-GL", "T1EU2C", channels=2, report_channels=4
        ),
        _spec(
            8,
            "multi",
            "Three-Channel Switch",
            "PSF-BF3-GL",
            "T1EU3C",
            channels=3,
            report_channels=4,
        ),
        _spec(
            9, "multi", "Four-Channel Switch", "PSF-BF4-GL", "4CH", channels=4, report_channels=4
        ),
        _spec(
            29,
            "multi",
            "GSM Dual-Channel Plug",
            "PSA-G29-GL",
            "GSM-2C",
            channels=2,
            report_channels=4,
        ),
        _spec(
            31,
            "multi",
            "GSM Four-Channel Plug",
            "PSA-G31-GL",
            "GSM-4C",
            channels=4,
            report_channels=4,
        ),
        _spec(
            77,
            "multi",
            "Single-Channel Plug (multi protocol)",
            "PSF-B77-GL",
            "MICRO",
            channels=1,
            report_channels=4,
        ),
        _spec(
            78,
            "multi",
            "Single-Channel Switch (multi protocol)",
            "PSF-B78-GL",
            "GTWS78",
            channels=1,
            report_channels=4,
        ),
        _spec(
            81,
            "multi",
            "GSM Single-Channel Plug",
            "PSA-G81-GL",
            "GSM-1C",
            channels=1,
            report_channels=4,
        ),
        _spec(
            82,
            "multi",
            "GSM Dual-Channel Plug",
            "PSA-G82-GL",
            "GSM-2C",
            channels=2,
            report_channels=4,
        ),
        _spec(
            83,
            "multi",
            "GSM Three-Channel Plug",
            "PSA-G83-GL",
            "GSM-3C",
            channels=3,
            report_channels=4,
        ),
        _spec(
            84,
            "multi",
            "GSM Four-Channel Plug",
            "PSA-G84-GL",
            "GSM-4C",
            channels=4,
            report_channels=4,
        ),
        _spec(
            107,
            "multi",
            "GSM Single-Channel Plug (multi protocol)",
            "PSA-G107-GL",
            "GSM-1C",
            channels=1,
            report_channels=4,
        ),
        _spec(
            138,
            "minir4",
            "Single-Channel Plug (2.4G remote)",
            "CK-BL602-SW1-01",
            "MINIR4",
            channels=1,
            report_channels=4,
            bridge=True,
        ),
        _spec(
            139,
            "multi",
            "Dual-Channel Plug (2.4G remote)",
            "CK-BL602-2SW-HS",
            "CK-BL602-2SW",
            channels=2,
            report_channels=4,
        ),
        _spec(
            140,
            "multi",
            "Three-Channel Plug (2.4G remote)",
            "CK-BL602-3SW-HS",
            "CK-BL602-3SW",
            channels=3,
            report_channels=4,
        ),
        _spec(
            141,
            "multi",
            "Four-Channel Plug (2.4G remote)",
            "CK-BL602-4SW-HS",
            "CK-BL602-4SW",
            channels=4,
            report_channels=4,
        ),
        _spec(160, "m5", "SwitchMan M5 1-gang", "M5-1C-86", "M5-1C", channels=1, report_channels=1),
        _spec(161, "m5", "SwitchMan M5 2-gang", "M5-2C-86", "M5-2C", channels=2, report_channels=2),
        _spec(162, "m5", "SwitchMan M5 3-gang", "M5-3C-86", "M5-3C", channels=3, report_channels=3),
        _spec(5, "pow", "Power Detection Plug", "PSF-B05-GL", "POW"),
        _spec(32, "powr2", "Power Detection Plug Overload Alarm", "PSF-B67-GL", "POWR2"),
        _spec(
            182,
            "s40",
            "Power Detection Plug (multi protocol)",
            "CK-BL602-SWP1-01",
            "S40TPB",
            channels=1,
            report_channels=4,
        ),
        _spec(
            190,
            "powr3",
            "Power Metering Switch",
            "PSF-B88-GL",
            "POWR316",
            channels=1,
            report_channels=4,
        ),
        _spec(
            276,
            "s61",
            "Power Metering Plug",
            "CK-BL602-S61",
            "S61STPF",
            channels=1,
            report_channels=4,
        ),
        _spec(277, "minidim", "Dimmer with metering", "CK-BL602-DIM", "MINI-DIM"),
        _spec(15, "th", "Temperature and Humidity Switch", "PSF-A04-GL", "TH16"),
        _spec(181, "thr", "TH Elite", "THR316D-GL", "THR316D"),
        # BLE remotes (R5, S-Mate) pair with a Wi-Fi device: it is their bridge.
        _spec(
            126,
            "dualr3",
            "DualR3",
            "PSF-B26-GL",
            "DUALR3",
            channels=2,
            report_channels=2,
            bridge=True,
        ),
        _spec(
            130,
            "spm4",
            "SPM-4Relay",
            "SPM-4Relay",
            "SPM-4Relay",
            channels=4,
            report_channels=4,
            timers=False,
        ),
        _spec(128, "spm_main", "SPM-Main", "SPM-Main", "SPM-Main", bridge=True),
        _spec(102, "dw2", "Door/window sensor", "DW2-Wi-Fi", "DW2", timers=False),
        _spec(154, "dw2l", "Door/window sensor", "DW2-Wi-Fi-L", "DW2-Wi-Fi-L", timers=False),
        _spec(28, "rfbridge", "RF Bridge 433", "PSF-BRA-GL", "RFBridge433"),
        _spec(34, "ifan", "Fan with light", "PSF-BFB-GL", "iFan03", channels=4, report_channels=4),
        _spec(44, "d1", "Dimmer", "PSF-BD1-GL", "D1"),
        _spec(57, "bulb", "Single-colour bulb", "PSF-B57-GL", "B02-F-A60"),
        _spec(59, "l1", "LED strip", "PSF-BLS-GL", "L1"),
        _spec(91, "cover91", "Roller shutter", "ST-03", "ST-03", timers=False),
        _spec(11, "cover11", "Curtain motor", "BCM500DS-KZW", "KING-Q4"),
        _spec(66, "zb_bridge", "Zigbee bridge", "ZBBridge", "ZBBridge", bridge=True, timers=False),
        _spec(
            168,
            "zb_bridge",
            "Zigbee bridge Pro",
            "ZBBridge-P",
            "ZBBridge-P",
            bridge=True,
            timers=False,
        ),
        _spec(
            243,
            "zb_bridge",
            "Zigbee bridge Ultra",
            "ZBBridge-U",
            "ZBBridge-U",
            bridge=True,
            timers=False,
        ),
        _spec(
            1000,
            "zb_button",
            "Zigbee wireless button",
            "WB01",
            "SNZB-01",
            zigbee=True,
            timers=False,
        ),
        _spec(1009, "zb_switch", "Zigbee plug", "S26R2ZB", "S26R2ZB", zigbee=True),
        _spec(1256, "zb_switch", "Zigbee switch", "ZBMINI", "ZBMINI", zigbee=True),
        _spec(7004, "zb_switch", "Zigbee switch with OTA", "ZBMINIL2", "ZBMINIL2", zigbee=True),
        _spec(7010, "zb_switch", "Zigbee USB switch", "ZBMicro", "ZBMicro", zigbee=True),
        _spec(1770, "zb_th", "Zigbee TH sensor", "TH01", "SNZB-02", zigbee=True, timers=False),
        _spec(7014, "zb_th", "Zigbee TH sensor", "SNZB-02P", "SNZB-02P", zigbee=True, timers=False),
        _spec(
            2026, "zb_motion", "Zigbee motion sensor", "MS01", "SNZB-03", zigbee=True, timers=False
        ),
        _spec(
            7002,
            "zb_motion",
            "Zigbee motion sensor with OTA",
            "SNZB-03P",
            "SNZB-03P",
            zigbee=True,
            timers=False,
        ),
        _spec(3026, "zb_door", "Zigbee door sensor", "DS01", "SNZB-04", zigbee=True, timers=False),
        _spec(
            7003,
            "zb_door",
            "Zigbee door sensor with OTA",
            "SNZB-04P",
            "SNZB-04P",
            zigbee=True,
            timers=False,
        ),
        _spec(
            4026,
            "zb_water",
            "Zigbee water leak sensor",
            "SNZB-05",
            "SNZB-05",
            zigbee=True,
            timers=False,
        ),
        *_PLATFORM_SPECS,
    )
}

METERING_KINDS = {
    "pow", "powr2", "s40", "powr3", "s61", "minidim", "dualr3", "spm4", "strip262", "din",
    "zb_meter",
}  # fmt: skip
TH_KINDS = {"th", "thr", "zb_th"}
UIACTIVE_KINDS = {"pow", "powr2"}
"""POW-class devices report power only inside a `uiActive` window (coolkit-cloud.md §13.15)."""


def spec_for(uiid: int) -> UiidSpec:
    """Return the spec of a UIID; unknown UIIDs behave as single-channel switches."""
    spec = SPECS.get(uiid)
    if spec is not None:
        return spec
    return UiidSpec(uiid, "single", f"UIID {uiid}", f"UIID-{uiid}", f"UIID{uiid}")


# Default params ----------------------------------------------------------------------------
def _switches(n: int, value: str = "off") -> list[dict[str, Any]]:
    return [{"outlet": i, "switch": value} for i in range(n)]


def _configure(n: int, *, extra: bool = False) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i in range(n):
        item: dict[str, Any] = {"outlet": i, "startup": "off"}
        if extra:
            item.update(enableDelay=0, width=500)
        items.append(item)
    return items


def _pulses(n: int, *, with_switch: bool = False) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i in range(n):
        item: dict[str, Any] = {"outlet": i, "pulse": "off", "width": 1000}
        if with_switch:
            item["switch"] = "off"
        items.append(item)
    return items


def _hex_history_days(days: int, rng: random.Random, style: str) -> str:
    parts: list[str] = []
    for _ in range(days):
        kwh = rng.uniform(0.0, 9.99)
        whole, cents = int(kwh), round((kwh - int(kwh)) * 100) % 100
        if style == "hundred":
            parts.append(f"{whole:02x}0{cents // 10}0{cents % 10}")
        elif style == "kwh4":
            parts.append(f"{whole:02x}{cents:02d}")
        else:  # hours: 1 hex char + 2 decimal digits
            parts.append(f"{min(whole, 15):x}{cents:02d}")
    return "".join(parts)


def hundred_days_kwh(rng: random.Random) -> str:
    """Return a 600-char `hundredDaysKwhData` (6 chars per day, today first)."""
    return _hex_history_days(100, rng, "hundred")


def default_params(
    spec: UiidSpec, *, mac: str, rng: random.Random, ssid: str = "HomeWiFi"
) -> dict[str, Any]:
    """Return a realistic full state for a freshly powered device of this UIID."""
    kind = spec.kind
    common: dict[str, Any] = {}
    if not spec.zigbee:
        common = {
            "fwVersion": "3.7.0" if spec.uiid < 100 else "1.4.2",
            "rssi": rng.choice((-48, -55, -58, -61, -67, -72)),
            "staMac": mac.upper(),
            "sledOnline": "on",
            "ssid": ssid,
            "bssid": "aa:bb:cc:dd:ee:ff",
            "init": 1,
            "version": 8,
        }
    p: dict[str, Any]
    if kind == "single":
        p = {"switch": "off", "startup": "off", "pulse": "off", "pulseWidth": 500}
    elif kind in ("multi", "m5"):
        p = {"switches": _switches(spec.report_channels)}
        if kind == "multi":
            p["configure"] = _configure(spec.report_channels)
            p["pulses"] = _pulses(spec.report_channels)
        else:
            p["localKeyPass"] = {"outlet": 0, "key": 0}
    elif kind == "minir4":
        p = {
            "switches": _switches(4),
            "configure": _configure(4, extra=True),
            "pulses": _pulses(4, with_switch=True),
            "relaySeparation": 0,
            "swMode": 2,
            "swCtrlReverse": "off",
        }
    elif kind == "pow":
        p = {"switch": "off", "power": "0.00", "voltage": "229.80", "current": "0.00",
             "pulse": "off", "pulseWidth": 500, "timeZone": 1}  # fmt: skip
    elif kind == "powr2":
        p = {"switch": "off", "startup": "off", "power": "0.00", "voltage": "230.12",
             "current": "0.00", "pulse": "off", "pulseWidth": 500, "alarmType": "pcv",
             "alarmVValue": [-1, -1], "alarmCValue": [-1, -1], "alarmPValue": [-1, -1],
             "timeZone": 1}  # fmt: skip
    elif kind == "s40":
        p = {"switches": _switches(4), "configure": _configure(4), "pulses": _pulses(4),
             "power": 0.0, "voltage": 230.1, "current": 0.0}  # fmt: skip
    elif kind == "powr3":
        p = {"switches": _switches(4), "configure": _configure(4), "pulses": _pulses(4),
             "power": 0, "voltage": 23012, "current": 0, "dayKwh": 12, "monthKwh": 1530,
             "threshold": {"actPow": {"min": 10, "max": 360000}, "voltage": {"min": 18000, "max": 24000},
                           "current": {"min": 10, "max": 1600}},
             "timeZone": 1}  # fmt: skip
    elif kind == "s61":
        p = {"switches": _switches(4), "configure": _configure(4), "pulses": _pulses(4),
             "power": 0, "voltage": 23005, "current": 0, "dayKwh": 8, "weekKwh": 120,
             "monthKwh": 610, "yearKwh": 5230}  # fmt: skip
    elif kind == "minidim":
        p = {"switch": "off", "brightness": 50, "power": 0, "voltage": 23010, "current": 0}
    elif kind == "th":
        p = {"switch": "off", "mainSwitch": "off", "deviceType": "normal", "sensorType": "AM2301",
             "currentTemperature": "21.5", "currentHumidity": "48", "targets": [
                 {"targetHigh": "25", "reaction": {"switch": "off"}},
                 {"targetLow": "20", "reaction": {"switch": "on"}}],
             "startup": "off", "pulse": "off", "pulseWidth": 500}  # fmt: skip
    elif kind == "thr":
        p = {"switch": "off", "mainSwitch": "off", "deviceType": "normal",
             "currentTemperature": "22.4", "currentHumidity": "51", "autoControlEnabled": 0,
             "autoControl": [{"deviceType": "temperature",
                              "targets": [{"high": "24.0", "reaction": {"switch": "off"}},
                                          {"low": "20.0", "reaction": {"switch": "on"}}],
                              "effTime": {"spanType": "any", "days": [0, 1, 2, 3, 4, 5, 6],
                                          "from": "00:00", "to": "23:59"}}],
             "startup": "off", "tempUnit": 0, "tempCorrection": 0, "humCorrection": 0}  # fmt: skip
    elif kind == "dualr3":
        p = {"switches": _switches(2), "configure": _configure(2), "pulses": _pulses(2),
             "workMode": 1, "motorTurn": 0, "location": 0, "currLocation": 0, "calibState": 0,
             "current_00": 0, "current_01": 0, "voltage_00": 23011, "voltage_01": 23011,
             "actPow_00": 0, "actPow_01": 0}  # fmt: skip
    elif kind == "spm4":
        p = {"switches": _switches(4), "configure": _configure(4)}
        for i in range(4):
            p.update({f"current_0{i}": 0, f"voltage_0{i}": 23000, f"actPow_0{i}": 0})
    elif kind == "spm_main":
        p = {}
    elif kind == "dw2":
        p = {"switch": "off", "battery": 2.9, "type": 4, "lastUpdateTime": _iso_now(),
             "actionTime": _iso_now()}  # fmt: skip
    elif kind == "dw2l":
        p = {"switch": "off", "battery": 98}
    elif kind == "rfbridge":
        p = {"cmd": "transmit", "rfChl": 0, "rfList": [{"rfChl": 0, "rfVal": "2A5802D00A1E4A"}]}
    elif kind == "ifan":
        p = {"switches": [{"outlet": 0, "switch": "off"}, {"outlet": 1, "switch": "off"},
                          {"outlet": 2, "switch": "off"}, {"outlet": 3, "switch": "off"}],
             "configure": _configure(4)}  # fmt: skip
    elif kind == "d1":
        p = {"switch": "off", "brightness": 50, "mode": 0, "brightMin": 0, "brightMax": 100}
    elif kind == "bulb":
        p = {"state": "off", "channel0": "128", "type": "middle"}
    elif kind == "l1":
        p = {"switch": "off", "light_type": 1, "bright": 100, "colorR": 255, "colorG": 255,
             "colorB": 255, "mode": 1, "speed": 50, "sensitive": 5, "timeZone": 1}  # fmt: skip
    elif kind == "cover91":
        p = {"op": 2, "per": 0, "statu": 0}
    elif kind == "cover11":
        p = {"switch": "pause", "setclose": 100}
    elif kind == "zb_bridge":
        p = {"zled": 1} if spec.uiid == 66 else {}
    elif kind == "zb_button":
        p = {"key": 0, "battery": 100, "trigTime": "0"}
    elif kind == "zb_switch":
        p = {"switch": "off"}
        if spec.uiid in (7004, 7010):
            p.update(startup="off", sledOnline="on")
    elif kind == "zb_th":
        p = {"temperature": "2150", "humidity": "4800", "battery": 100, "trigTime": _ms_now()}
    elif kind == "zb_motion":
        p = {"motion": 0, "battery": 100, "trigTime": _ms_now()}
        if spec.uiid == 7002:
            p["brState"] = "darker"
    elif kind == "zb_door":
        p = {"lock": 0, "battery": 100, "trigTime": _ms_now()}
    elif kind == "zb_water":
        p = {"water": 0, "battery": 100, "trigTime": _ms_now()}
    elif (family := family_defaults(kind, spec.uiid, spec.channels, rng)) is not None:
        p = family
    else:
        p = {"switch": "off"}
    if spec.zigbee:
        p.update(subDevRssi=rng.choice((-52, -60, -71)), fwVersion="1.0.4")
    if spec.timers and not spec.zigbee:
        common["timers"] = []
    if kind in ("dw2", "dw2l"):
        common.pop("sledOnline", None)
    return {**p, **common}


def _iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _ms_now() -> str:
    return str(int(time.time() * 1000))


# Commands ----------------------------------------------------------------------------------
@dataclass(slots=True)
class CommandResult:
    """Outcome of one app command on a virtual device."""

    error: int = 0
    report: dict[str, Any] = field(default_factory=dict)
    """Params the device pushes after acking (its own `update`)."""
    ack_extra: dict[str, Any] = field(default_factory=dict)
    """Extra keys of the ack (e.g. `config` for `hundredDaysKwh: get`)."""
    followups: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """(delay s, params) the device applies and reports later (inching, cover travel)."""
    ui_active: float | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    """Write-only actions the device performed (restart, RF transmit, ...)."""


class CommandError(Exception):
    """A command the device rejects (ack `error` 400)."""


def merge_list(
    current: list[dict[str, Any]] | Any, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Merge channel items into a `switches`-like array by `outlet` (coolkit-cloud.md §13.6)."""
    merged: list[dict[str, Any]] = [dict(i) for i in current] if isinstance(current, list) else []
    for item in items:
        for existing in merged:
            if existing.get("outlet") == item.get("outlet"):
                existing.update(item)
                break
        else:
            merged.append(dict(item))
    merged.sort(key=lambda i: i.get("outlet", 0) if isinstance(i.get("outlet"), int) else 0)
    return merged


def merge_params(state: dict[str, Any], params: dict[str, Any]) -> None:
    """Merge a params object into a stored state (arrays by outlet, other keys replaced)."""
    for key, value in params.items():
        if key in LIST_KEYS and isinstance(value, list) and all(isinstance(i, dict) for i in value):
            state[key] = merge_list(state.get(key), value)
        else:
            state[key] = copy.deepcopy(value)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise CommandError(message)


def _validate_list(spec: UiidSpec, key: str, items: Any) -> None:
    _check(isinstance(items, list) and bool(items), f"{key} must be a non-empty list")
    limit = max(spec.report_channels, spec.channels)
    for item in items:
        _check(isinstance(item, dict), f"{key} items must be objects")
        outlet = item.get("outlet")
        _check(isinstance(outlet, int) and not isinstance(outlet, bool), "outlet must be an int")
        _check(0 <= outlet < limit, f"outlet {outlet} out of range")
        if "switch" in item:
            _check(item["switch"] in ON_OFF, "switch must be on/off")
        if "startup" in item:
            _check(item["startup"] in STARTUP, "startup must be on/stay/off")
        if "pulse" in item:
            _check(item["pulse"] in ON_OFF, "pulse must be on/off")
        if "width" in item:
            width = item["width"]
            _check(
                isinstance(width, int) and 500 <= width <= 3600000 and width % 500 == 0, "bad width"
            )


def _validate(spec: UiidSpec, params: dict[str, Any], state: dict[str, Any]) -> None:
    kind = spec.kind
    own = OWN_KEYS.get(kind, frozenset())
    if "switch" in params and "switch" not in own:
        allowed = ("on", "off", "pause") if kind in ("cover11", "rbs", "zb_rbs") else ON_OFF
        _check(params["switch"] in allowed, "bad switch value")
    for key in ("startup", "sledOnline", "pulse", "mainSwitch", "state"):
        if key in params and key not in own:
            allowed = STARTUP if key == "startup" else ON_OFF
            _check(params[key] in allowed, f"bad {key} value")
    if "pulseWidth" in params:
        width = params["pulseWidth"]
        _check("pulse" in params, "pulseWidth must be sent together with pulse")
        _check(
            isinstance(width, int) and 500 <= width <= 3600000 and width % 500 == 0,
            "bad pulseWidth",
        )
    for key in LIST_KEYS:
        if key in params:
            _validate_list(spec, key, params[key])
    if kind == "d1" and "brightness" in params:
        b = params["brightness"]
        _check(isinstance(b, int) and 0 <= b <= 100, "brightness 0..100")
        _check(
            params.get("switch") == "on" and params.get("mode") == 0,
            "brightness needs switch on and mode 0",
        )
    if kind == "minidim" and "brightness" in params:
        b = params["brightness"]
        _check(isinstance(b, int) and 1 <= b <= 100, "brightness 1..100")
    if kind == "l1":
        if "bright" in params:
            _check(
                isinstance(params["bright"], int) and 1 <= params["bright"] <= 100, "bright 1..100"
            )
        for key in ("colorR", "colorG", "colorB"):
            if key in params:
                _check(isinstance(params[key], int) and 0 <= params[key] <= 255, f"{key} 0..255")
    if kind == "bulb" and "channel0" in params:
        value = params["channel0"]
        _check(
            isinstance(value, str) and value.isdigit() and 25 <= int(value) <= 255,
            "channel0 '25'..'255'",
        )
    if kind in ("th", "thr") and "deviceType" in params:
        _check(params["deviceType"] in ("normal", "temperature", "humidity"), "bad deviceType")
    if kind == "cover91" and "op" in params:
        _check(params["op"] in (1, 2, 3), "op must be 1, 2 or 3")
    if kind == "cover11" and "setclose" in params:
        _check(
            isinstance(params["setclose"], int) and 0 <= params["setclose"] <= 100,
            "setclose 0..100",
        )
    try:
        family_validate(kind, spec.uiid, state, params)
    except FamilyError as err:
        raise CommandError(str(err)) from err


REQUEST_KEYS = {"uiActive", "hundredDaysKwh", "oneKwh", "getHoursKwh"}


def apply_command(
    spec: UiidSpec,
    state: dict[str, Any],
    params: dict[str, Any],
    *,
    rng: random.Random,
    partial: bool,
    load: float,
) -> CommandResult:
    """Apply an app command to a device state; return what to ack and report."""
    result = CommandResult()
    if not params:
        result.error = 529  # seen with `"params":{}` (homebridge-ewelink#95)
        return result
    try:
        _validate(spec, params, state)
    except CommandError:
        result.error = 400
        return result
    params = family_filter(spec.kind, state, params)
    before = dict(state)
    if spec.kind == "bulb" and state.get("state") == "off" and params.get("state") != "on":
        # While off, the bulb accepts only the on command; the rest is ignored [doc].
        params = {k: v for k, v in params.items() if k not in ("channel0",)}
    report: dict[str, Any] = {}
    for key, value in params.items():
        if key in REQUEST_KEYS or key.startswith("getKwh_"):
            _request(key, value, result=result, rng=rng)
            continue
        if key in ACTION_KEYS:
            continue
        if key in LIST_KEYS and isinstance(value, list):
            state[key] = merge_list(state.get(key), value)
            if partial:
                outlets = {i.get("outlet") for i in value}
                report[key] = [copy.deepcopy(i) for i in state[key] if i.get("outlet") in outlets]
            else:
                report[key] = copy.deepcopy(state[key])
        else:
            state[key] = copy.deepcopy(value)
            report[key] = copy.deepcopy(value)
    _side_effects(
        spec, state=state, params=params, report=report, result=result, load=load, rng=rng
    )
    effects = family_effects(spec.kind, spec.uiid, state, params, rng=rng, before=before)
    report.update(effects.report)
    result.followups.extend(effects.followups)
    result.actions.extend(effects.actions)
    result.report.update(report)
    return result


def _request(key: str, value: Any, *, result: CommandResult, rng: random.Random) -> None:
    if key == "uiActive":
        result.ui_active = float(value) if isinstance(value, (int, float)) else 60.0
    elif key == "hundredDaysKwh" and value == "get":
        result.ack_extra["config"] = {"hundredDaysKwhData": hundred_days_kwh(rng)}
    elif key == "oneKwh" and value == "get":
        result.report["oneKwhData"] = round(rng.uniform(0, 5), 2)
    elif key == "getHoursKwh":
        hours = 24
        if (
            isinstance(value, dict)
            and isinstance(value.get("end"), int)
            and isinstance(value.get("start"), int)
        ):
            hours = max(1, min(720, value["end"] - value["start"] + 1))
        result.report["hoursKwhData"] = _hex_history_days(hours, rng, "hours")
    elif key.startswith("getKwh_"):
        suffix = key.removeprefix("getKwh_")
        result.report[f"kwhHistories_{suffix}"] = _hex_history_days(30, rng, "kwh4")


def relay_on(spec: UiidSpec, state: dict[str, Any], channel: int = 0) -> bool:
    """Return True when the (channel's) relay is on."""
    if "switches" in state and spec.kind not in ("single", "pow", "powr2", "th", "thr", "minidim"):
        for item in state["switches"]:
            if item.get("outlet") == channel:
                return bool(item.get("switch") == "on")
        return False
    return state.get("switch") in ("on", True) or state.get("state") == "on"


def metering_values(
    spec: UiidSpec, state: dict[str, Any], load: float, rng: random.Random
) -> dict[str, Any]:
    """Return the metering params a device reports for its current relay state and load."""
    kind = spec.kind
    volts = 229.0 + rng.uniform(-1.5, 1.5)
    out: dict[str, Any] = {}
    if kind in ("pow", "powr2", "s40", "powr3", "s61", "minidim", "din", "zb_meter", "strip262"):
        watts = load if relay_on(spec, state) else 0.0
        if kind == "strip262":
            watts = load * sum(relay_on(spec, state, ch) for ch in range(4)) / 4
        if kind == "minidim":
            watts *= int(state.get("brightness", 100)) / 100
        amps = watts / volts
        if kind in ("pow", "powr2"):
            out = {"power": f"{watts:.2f}", "voltage": f"{volts:.2f}", "current": f"{amps:.2f}"}
        elif kind == "din":
            out = {"phase_0_p": round(watts, 2), "phase_0_v": round(volts, 2),
                   "phase_0_c": round(amps, 2)}  # fmt: skip
        elif kind == "s40":
            out = {"power": round(watts, 2), "voltage": round(volts, 2), "current": round(amps, 2)}
        else:
            out = {
                "power": round(watts * 100),
                "voltage": round(volts * 100),
                "current": round(amps * 100),
            }
    elif kind in ("dualr3", "spm4"):
        for ch in range(spec.channels):
            watts = load / spec.channels if relay_on(spec, state, ch) else 0.0
            out[f"actPow_0{ch}"] = round(watts * 100)
            out[f"voltage_0{ch}"] = round(volts * 100)
            out[f"current_0{ch}"] = round(watts / volts * 100)
    return out


def _side_effects(
    spec: UiidSpec,
    *,
    state: dict[str, Any],
    params: dict[str, Any],
    report: dict[str, Any],
    result: CommandResult,
    load: float,
    rng: random.Random,
) -> None:
    kind = spec.kind
    # Inching: a relay switched on with pulse on turns itself off after the width.
    if params.get("switch") == "on" and state.get("pulse") == "on" and "pulseWidth" in state:
        result.followups.append((int(state["pulseWidth"]) / 1000.0, {"switch": "off"}))
    if isinstance(params.get("switches"), list):
        pulses = {p.get("outlet"): p for p in state.get("pulses", []) if isinstance(p, dict)}
        for item in params["switches"]:
            pulse = pulses.get(item.get("outlet"))
            if item.get("switch") == "on" and pulse and pulse.get("pulse") == "on":
                result.followups.append(
                    (
                        int(pulse.get("width", 500)) / 1000.0,
                        {"switches": [{"outlet": item["outlet"], "switch": "off"}]},
                    )
                )
    # Metering follows the relay on devices that always report power.
    if (
        kind in METERING_KINDS
        and kind not in UIACTIVE_KINDS
        and ("switch" in params or "switches" in params or "brightness" in params)
    ):
        values = metering_values(spec, state, load, rng)
        state.update(values)
        report.update(values)
    if (
        kind in ("th", "thr")
        and "switch" in params
        and "deviceType" not in params
        and state.get("deviceType") != "normal"
    ):
        # A manual switch in auto mode drops to temporary manual mode.
        state["mainSwitch"] = "off"
    if kind == "cover91" and params.get("op") in (1, 3):
        result.followups.append((1.0, {"per": 100 if params["op"] == 1 else 0, "statu": 0}))
    if kind == "cover11" and ("switch" in params or "setclose" in params):
        target = params.get("setclose")
        if target is None:
            target = {"on": 0, "off": 100}.get(str(params.get("switch")), state.get("setclose", 0))
        result.followups.append((1.0, {"setclose": target, "switch": "pause"}))
    if kind in ("dualr3", "dualr3lite") and params.get("motorTurn") in (1, 2):
        target = 100 if params["motorTurn"] == 1 else 0
        result.followups.append((1.0, {"motorTurn": 0, "currLocation": target, "location": target}))
    if kind in ("dualr3", "dualr3lite") and isinstance(params.get("location"), int):
        result.followups.append((1.0, {"motorTurn": 0, "currLocation": params["location"]}))


# Drift -------------------------------------------------------------------------------------
def drift_step(
    spec: UiidSpec,
    state: dict[str, Any],
    *,
    rng: random.Random,
    load: float,
    ui_active: bool,
    th_glitch: bool,
) -> dict[str, Any]:
    """Return the params a device reports on one drift tick (possibly empty)."""
    kind = spec.kind
    out: dict[str, Any] = {}
    if kind in METERING_KINDS:
        if kind in UIACTIVE_KINDS and not ui_active:
            return {}
        if kind not in ("dualr3", "spm4") and not relay_on(spec, state):
            return {}
        out = metering_values(spec, state, load * rng.uniform(0.95, 1.05), rng)
        if kind in ("powr3", "s61", "zb_meter") and relay_on(spec, state):
            out["dayKwh"] = int(state.get("dayKwh", 0)) + 1
    elif kind in ("th", "thr"):
        temp = _float(state.get("currentTemperature"), 21.0) + rng.choice((-0.5, 0.5))
        hum = _float(state.get("currentHumidity"), 50.0) + rng.choice((-5.0, 0.0, 5.0))
        hum = min(95.0, max(10.0, hum))
        out = {"currentTemperature": f"{temp:.1f}", "currentHumidity": f"{hum:.0f}"}
        if th_glitch and rng.random() < 0.3:
            out["currentTemperature"] = rng.choice(("0", "-273", "unavailable"))
        out.update(_th_auto(state, temp))
    elif kind == "zb_th":
        temp = int(_float(state.get("temperature"), 2150)) + rng.choice((-30, -10, 10, 30))
        hum = int(_float(state.get("humidity"), 4800)) + rng.choice((-100, 0, 100))
        out = {"temperature": str(temp), "humidity": str(hum), "trigTime": _ms_now()}
        if th_glitch and rng.random() < 0.3:
            out["temperature"] = "0"
    return out


def _th_auto(state: dict[str, Any], temp: float) -> dict[str, Any]:
    """Apply TH auto-mode thresholds (temperature mode with mainSwitch on)."""
    if state.get("deviceType") != "temperature" or state.get("mainSwitch") != "on":
        return {}
    for target in state.get("targets") or []:
        if not isinstance(target, dict):
            continue
        reaction = target.get("reaction", {}).get("switch")
        if "targetHigh" in target and temp >= _float(target["targetHigh"], 999) and reaction:
            return {"switch": reaction} if state.get("switch") != reaction else {}
        if "targetLow" in target and temp <= _float(target["targetLow"], -999) and reaction:
            return {"switch": reaction} if state.get("switch") != reaction else {}
    return {}


def _float(value: Any, default: float) -> float:
    try:
        return float(str(value))
    except ValueError:
        return default


def stringify_numbers(params: dict[str, Any]) -> dict[str, Any]:
    """Return params with top-level numbers sent as strings (the `params_as_strings` fault)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = str(value)
        else:
            out[key] = value
    return out
