"""Device families beyond relays and meters: lights, covers, fans, thermostats, buttons, RF,
panels, sensors (uiid-platforms.md). `uiids.py` hooks these in: defaults, validation (a real
device answers 400), what a device ignores (a light that is off takes only "on"), and what it
does after a command (motion, learning, thermostat state).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
import random
import time
from typing import Any, Final

ON_OFF: Final = ("on", "off")

# Kinds whose `switch` is JSON true/false (uiid-platforms.md §8 `XBoolSwitch`).
BOOL_SWITCH_KINDS: Final = frozenset({"pcsw", "din", "swv"})
# Keys a family validates itself (the generic checks of uiids.py skip them).
OWN_KEYS: Final[dict[str, frozenset[str]]] = {
    "diffuser": frozenset({"state"}),
    "pcsw": frozenset({"switch"}),
    "din": frozenset({"switch"}),
    "swv": frozenset({"switch"}),
}
# Write-only actions: the device acts, nothing is stored or reported.
ACTION_KEYS: Final = frozenset({"reboot", "restart", "forceShutdown", "soundAction"})


class FamilyError(Exception):
    """The device refuses the command (ack error 400)."""


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise FamilyError(message)


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _digits_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, str) and value.isdigit() and low <= int(value) <= high


@dataclass(frozen=True, slots=True)
class LightRules:
    """A light: its on key and value, the keys it ignores while off [doc]."""

    on_key: str
    on_value: Any
    attributes: frozenset[str]


LIGHTS: Final[dict[str, LightRules]] = {
    "b1": LightRules("state", "on", frozenset(
        {"channel0", "channel1", "channel2", "channel3", "channel4", "zyx_mode", "type"})),
    "l1": LightRules("switch", "on", frozenset(
        {"bright", "colorR", "colorG", "colorB", "mode", "light_type", "speed", "sensitive"})),
    "kingm4": LightRules("switch", "on", frozenset({"bright"})),
    "diffuser": LightRules("lightswitch", 1, frozenset(
        {"lightbright", "lightmode", "lightRcolor", "lightGcolor", "lightBcolor"})),
}  # fmt: skip
L3_MODES: Final = frozenset({1, 2, 4, *range(7, 53)} - {9})
T5_LIGHT_MODES: Final = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 101, 102})
B02_LTYPES: Final = frozenset({"white", "bright", "read", "computer", "nightLight"})
B05_LTYPES: Final = frozenset(
    {"white", "color", "bright", "goodNight", "read", "nightLight", "party", "leisure", "soft",
     "colorful"}
)  # fmt: skip


# Defaults ----------------------------------------------------------------------------------
def _ms_now() -> str:
    return str(int(time.time() * 1000))


def _iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _switches(n: int) -> list[dict[str, Any]]:
    return [{"outlet": i, "switch": "off"} for i in range(n)]


def _configure(n: int) -> list[dict[str, Any]]:
    return [{"outlet": i, "startup": "off", "enableDelay": 0, "width": 1000} for i in range(n)]


def family_defaults(
    kind: str, uiid: int, channels: int, rng: random.Random
) -> dict[str, Any] | None:
    """Return the full state of a freshly powered device of a family kind (None: not ours)."""
    defaults: dict[str, Any] | None = _DEFAULTS.get(kind)
    if defaults is not None:
        return copy.deepcopy(defaults)
    match kind:
        case "b05":
            return {"switch": "off", "ltype": "white",
                    "white": {"br": 50, "ct": 50 if uiid == 136 else 128},
                    "color": {"br": 100, "r": 255, "g": 0, "b": 0}}  # fmt: skip
        case "t5":
            params: dict[str, Any] = {
                "switches": _switches(channels), "configure": _configure(channels),
                "lightSwitch": "off", "lightMode": 1, "triggerType": 0,
                "preEffects": {"lightEffect": 1, "r": 255, "g": 0, "b": 0, "br": 50,
                               "soundEffect": 1, "volume": 50, "statusLight": "on",
                               "statusLightTop": 1, "statusLightBelow": 1},
            }  # fmt: skip
            if uiid == 211:
                params.update(workMode=1, electromotor=1, percentageControl=0, calibState=True)
            return params
        case "multi_gang":
            params = {"switches": _switches(channels), "configure": _configure(channels)}
            if uiid in (275, 7029):
                params["localKeyPass"] = {"outlet": 0, "key": 0}
            return params
        case "strip262":
            return {"switches": _switches(4), "power": 0, "current": 0, "voltage": 23010}
        case "zb_meter":
            return {"switches": _switches(1), "power": 0, "current": 0, "voltage": 23008,
                    "dayKwh": 5, "monthKwh": 240}  # fmt: skip
        case "ble_button":
            return {"key": 0, "outlet": 0, "count": 1, "actionTime": _iso_now(),
                    "bleAddr": f"{rng.getrandbits(48):012x}"}  # fmt: skip
        case "zb_button4":
            return {"key": 0, "outlet": 0, "battery": 100, "trigTime": _ms_now()}
        case "zb_th_centi_corr" | "zb_th_corr" | "th242":
            centi = kind != "zb_th_corr"
            params = {"temperature": 2190 if centi else 21.9,
                      "humidity": 4620 if centi else 46.2,
                      "tempCorrection": 0, "humCorrection": 0, "battery": 100,
                      "trigTime": _ms_now()}  # fmt: skip
            if uiid == 7038:
                params["remoteTemperature"] = 2050
            return params
        case _:
            return None


_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "fan17": {"fan": "off", "speed": "slow", "mode": "normal", "shake": "off"},
    "sc": {"temperature": "21", "humidity": "45", "dusty": 2, "light": 6, "noise": 3},
    "b1": {"state": "off", "zyx_mode": 1, "channel0": "159", "channel1": "159", "channel2": "0",
           "channel3": "0", "channel4": "0", "type": "middle"},
    "diffuser": {"switch": "off", "state": 1, "lightswitch": 0, "lightbright": 50,
                 "lightmode": 2, "lightRcolor": 255, "lightGcolor": 128, "lightBcolor": 0,
                 "water": 1},
    "l3": {"switch": "off", "light_type": 1, "bright": 100, "colorR": 255, "colorG": 255,
           "colorB": 255, "mode": 1, "rhythmMode": 0, "rhythmSensitive": 100},
    "kingm4": {"switch": "off", "bright": 50},
    "zb_dimmer": {"switch": "off", "brightness": 60},
    "zb_cct": {"switch": "off", "brightness": 60, "colorTemp": 100},
    "zb_rgbcw": {"switch": "off", "colorMode": "cct", "colorTemp": 50, "cctBrightness": 80,
                 "rgbBrightness": 80, "hue": 0, "saturation": 100},
    "b02": {"switch": "off", "ltype": "white", "white": {"br": 50, "ct": 128}},
    "garage": {"op": 2, "per": 0, "statu": 6},
    "dualr3lite": {"switches": _switches(2), "configure": _configure(2), "workMode": 1,
                   "motorTurn": 0, "location": 0, "currLocation": 0, "calibState": 0},
    "gtta": {"switch": "off", "workState": 1, "workMode": 1, "targetTemp": 21.0,
             "temperature": 19.5, "tempScale": "c", "childLock": "off", "fault": 0},
    "nspanel": {"switches": _switches(2), "temperature": 22.5, "tempCorrection": -0.5,
                "HMI_outdoorTemp": {"current": 9, "range": "4,12"},
                "ATCEnable": 0, "ATCMode": 0, "ATCExpect0": 21.5},
    "nspanel_pro": {"currentTemperature": 23, "cpuInfo": {"temperature": 48, "usage": 12},
                    "securityType": 0},
    "pcsw": {"switch": False, "childLock": False, "startup": "off"},
    "din": {"switch": False, "phase_0_c": 0.0, "phase_0_p": 0.0, "phase_0_v": 229.6,
            "totalPower": 12.34},
    "rbs": {"switch": "pause", "setclose": 100},
    "air": {"temperature": "21.0", "humidity": "48.0", "tempCorrection": "0.5",
            "humCorrection": "0", "co2": 612, "temperatureF": "69.8", "tempUnit": 0},
    "zb_curtain": {"curPercent": 100, "curtainAction": "pause", "battery": 40},
    "zb_presence": {"human": 0, "brState": "darker", "sensitivity": 2},
    "zb_presence2": {"human": 0, "illumination": 120, "battery": 100, "sensitivity": 70},
    "trvzb": {"workMode": "0", "workState": "0", "curTargetTemp": 210, "manTargetTemp": 210,
              "ecoTargetTemp": 70, "autoTargetTemp": 200, "temperature": "195", "battery": 100,
              "childLock": False, "windowSwitch": True, "openPercent": 0, "tempCorrection": 0},
    "swv": {"switch": False, "todayWaterUsage": 0, "battery": 100},
    "swv_zne": {"switch_00": False, "battery": 100},
    "zb_rbs": {"switch": "pause", "setclose": 100, "sledOnline": "on"},
}  # fmt: skip


# Validation --------------------------------------------------------------------------------
def family_validate(kind: str, uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    """Raise FamilyError for a command the device refuses (ack 400)."""
    _VALIDATORS.get(kind, _none)(uiid, state, params)
    if "sensitivity" in params and kind == "zb_presence":
        _check(_int_in(params["sensitivity"], 1, 3), "sensitivity 1..3")
    for key in ACTION_KEYS & params.keys():
        value = params[key]
        _check(value is True or (key == "soundAction" and value in (1, 2)), f"bad {key}")


def _none(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    return


def _v_b1(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    for n in (0, 1):
        if (value := params.get(f"channel{n}")) is not None:
            _check(value == "0" or _digits_in(value, 25, 255), "white channels '25'..'255'")
    for n in (2, 3, 4):
        if (value := params.get(f"channel{n}")) is not None:
            _check(_digits_in(value, 0, 255), "colour channels '0'..'255'")
    if "zyx_mode" in params:
        _check(_int_in(params["zyx_mode"], 1, 6), "zyx_mode 1..6")


def _v_l1(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    low = 10 if uiid == 33 else 1  # CK §UIID33: 10..100
    if "bright" in params:
        _check(_int_in(params["bright"], low, 100), f"bright {low}..100")
    for key in ("colorR", "colorG", "colorB"):
        if key in params:
            _check(_int_in(params[key], 0, 255), f"{key} 0..255")
    if "mode" in params:
        _check(_int_in(params["mode"], 1, 12), "mode 1..12")


def _v_l3(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    _v_l1(uiid, state, {k: v for k, v in params.items() if k != "mode"})
    if "mode" in params:
        _check(params["mode"] in L3_MODES, "unknown mode")
    if "rhythmMode" in params:
        _check(_int_in(params["rhythmMode"], 0, 3), "rhythmMode 0..3")


def _v_kingm4(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "bright" in params:
        _check(_int_in(params["bright"], 10, 100), "bright 10..100")


def _v_zb_dimmer(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "brightness" in params:
        _check(_int_in(params["brightness"], 1, 100), "brightness 1..100")


def _v_zb_cct(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    for key in ("brightness", "colorTemp"):
        if key in params:
            _check(_int_in(params[key], 0, 100), f"{key} 0..100")


def _v_zb_rgbcw(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "colorMode" in params:
        _check(params["colorMode"] in ("cct", "rgb"), "colorMode cct/rgb")
    for key, low, high in (
        ("colorTemp", 0, 100),
        ("cctBrightness", 1, 100),
        ("rgbBrightness", 1, 100),
        ("hue", 0, 359),
        ("saturation", 0, 100),
    ):
        if key in params:
            _check(_int_in(params[key], low, high), f"{key} {low}..{high}")  # fmt: skip


def _v_ltype(ltypes: frozenset[str], ct_max: int) -> Any:
    def validate(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
        if "ltype" not in params:
            return
        ltype = params["ltype"]
        _check(ltype in ltypes, "unknown ltype")
        # "Switching mode must be accompanied by switch on" (CK §UIID103).
        _check(params.get("switch") == "on", "ltype needs switch on")
        obj = params.get(ltype)
        _check(isinstance(obj, dict), "ltype needs its object")
        if "br" in obj:
            _check(_int_in(obj["br"], 1, 100), "br 1..100")
        if "ct" in obj:
            _check(_int_in(obj["ct"], 0, ct_max), f"ct 0..{ct_max}")
        for key in ("r", "g", "b"):
            if key in obj:
                _check(_int_in(obj[key], 0, 255), f"{key} 0..255")

    return validate


def _v_b05(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    _v_ltype(B05_LTYPES, 100 if uiid == 136 else 255)(uiid, state, params)


def _v_diffuser(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "switch" in params:
        _check(params["switch"] in ON_OFF, "switch on/off")
    if "state" in params:
        _check(params["state"] in (1, 2), "state 1/2")
    if "lightswitch" in params:
        _check(params["lightswitch"] in (0, 1), "lightswitch 0/1")
    if "lightbright" in params:
        _check(_int_in(params["lightbright"], 0, 100), "lightbright 0..100")
    if "lightmode" in params:
        _check(params["lightmode"] in (1, 2, 3), "lightmode 1..3")
    for key in ("lightRcolor", "lightGcolor", "lightBcolor"):
        if key in params:
            _check(_int_in(params[key], 0, 255), f"{key} 0..255")


def _v_t5(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "lightSwitch" in params:
        _check(params["lightSwitch"] in ON_OFF, "lightSwitch on/off")
    if "lightMode" in params:
        _check(params["lightMode"] in T5_LIGHT_MODES, "unknown lightMode")
    if "workMode" in params:
        _check(uiid == 211 and params["workMode"] in (1, 2), "workMode 1/2 (T5-3C)")
    if "electromotor" in params:
        _check(uiid == 211 and params["electromotor"] in (0, 1, 2), "electromotor 0..2")
    if "percentageControl" in params:
        _check(uiid == 211 and _int_in(params["percentageControl"], 0, 100), "0..100")


def _v_fan17(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    for key, allowed in (
        ("fan", ON_OFF),
        ("shake", ON_OFF),
        ("speed", ("slow", "moderate", "fast")),
        ("mode", ("normal", "natural", "sleep")),
    ):
        if key in params:
            _check(params[key] in allowed, f"bad {key}")  # fmt: skip


def _v_setclose(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "switch" in params:
        _check(params["switch"] in ("on", "off", "pause"), "switch on/off/pause")
    if "setclose" in params:
        _check(_int_in(params["setclose"], 0, 100), "setclose 0..100")


def _v_garage(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "op" in params:
        _check(params["op"] in (1, 2, 3), "op 1..3")


def _v_zb_curtain(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "curtainAction" in params:
        _check(params["curtainAction"] in ("open", "close", "pause"), "bad curtainAction")
    if "openPercent" in params:
        _check(_int_in(params["openPercent"], 0, 100), "openPercent 0..100")


def _v_gtta(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "workState" in params:
        _check(params["workState"] in (1, 2), "workState 1/2")
    if "workMode" in params:
        _check(params["workMode"] in (1, 2, 3), "workMode 1..3")
    if "targetTemp" in params:
        value = params["targetTemp"]
        _check(isinstance(value, (int, float)) and 5 <= value <= 45, "targetTemp 5..45")


def _v_nspanel(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    for key in ("ATCEnable", "ATCMode"):
        if key in params:
            _check(params[key] in (0, 1), f"{key} 0/1")
    if "ATCExpect0" in params:
        value = params["ATCExpect0"]
        _check(isinstance(value, (int, float)) and 16 <= value <= 31, "ATCExpect0 16..31")


def _v_nspanel_pro(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "openLED" in params:
        _check(isinstance(params["openLED"], bool), "openLED true/false")
    if "securityType" in params:
        _check(params["securityType"] in (0, 1, 2, 3), "securityType 0..3")


def _v_trvzb(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "workMode" in params:
        _check(params["workMode"] in ("0", "1", "2"), 'workMode "0".."2"')
    for key in ("manTargetTemp", "ecoTargetTemp", "autoTargetTemp"):
        if key in params:
            # Firmware 1.4+ refuses floats (SL#1749).
            _check(_int_in(params[key], 40, 350), f"{key} 40..350 (int)")
    if "tempCorrection" in params:
        _check(_int_in(params["tempCorrection"], -70, 70), "tempCorrection -70..70")
    for key in ("childLock", "windowSwitch"):
        if key in params:
            _check(isinstance(params[key], bool), f"{key} true/false")


def _v_bool(keys: tuple[str, ...]) -> Any:
    def validate(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
        for key in keys:
            if key in params:
                _check(isinstance(params[key], bool), f"{key} true/false")

    return validate


def _v_th(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "targets" in params:
        _validate_rules(params["targets"], "targetHigh", "targetLow")


def _v_thr(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    if "autoControlEnabled" in params:
        _check(params["autoControlEnabled"] in (0, 1), "autoControlEnabled 0/1")
    if "autoControl" in params:
        rules = params["autoControl"]
        _check(isinstance(rules, list) and bool(rules), "autoControl must be a list")
        for rule in rules:
            _check(isinstance(rule, dict), "rules are objects")
            _check(rule.get("deviceType") in ("temperature", "humidity"), "bad deviceType")
            _validate_rules(rule.get("targets"), "high", "low")


def _validate_rules(targets: Any, high_key: str, low_key: str) -> None:
    """Two thresholds as decimal strings, high above low, with different reactions [doc]."""
    _check(isinstance(targets, list) and len(targets) == 2, "two targets")
    values: dict[str, float] = {}
    reactions = []
    for item in targets:
        _check(isinstance(item, dict), "targets are objects")
        key = high_key if high_key in item else low_key
        raw = item.get(key)
        _check(isinstance(raw, str), "thresholds are strings")
        try:
            values[key] = float(raw)
        except ValueError as err:
            raise FamilyError("threshold not a number") from err
        reaction = item.get("reaction")
        _check(isinstance(reaction, dict) and reaction.get("switch") in ON_OFF, "bad reaction")
        reactions.append(reaction["switch"])
    _check(set(values) == {high_key, low_key}, "a high and a low threshold")
    _check(values[high_key] > values[low_key], "high above low")
    _check(reactions[0] != reactions[1], "the two reactions differ")


def _v_rf(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    cmd = params.get("cmd")
    if cmd is None:
        return
    _check(cmd in ("transmit", "capture", "captureCancel"), "bad cmd")
    if cmd == "captureCancel":
        return
    channel = params.get("rfChl")
    _check(_int_in(channel, 0, 63), "rfChl 0..63")
    if cmd == "transmit":
        learned = {i.get("rfChl") for i in state.get("rfList") or () if isinstance(i, dict)}
        _check(channel in learned, "no code learned on this channel")


def _v_dualr3(uiid: int, state: dict[str, Any], params: dict[str, Any]) -> None:
    motor = state.get("workMode") == 2
    if "motorTurn" in params:
        _check(motor and params["motorTurn"] in (0, 1, 2), "motorTurn 0..2 in motor mode")
    if "location" in params:
        _check(motor and _int_in(params["location"], 0, 100), "location 0..100 in motor mode")
    if "switches" in params:
        _check(not motor, "the relays drive the motor in motor mode")  # [inf]


_VALIDATORS: Final[dict[str, Any]] = {
    "b1": _v_b1, "l1": _v_l1, "l3": _v_l3, "kingm4": _v_kingm4, "zb_dimmer": _v_zb_dimmer,
    "zb_cct": _v_zb_cct, "zb_rgbcw": _v_zb_rgbcw, "b02": _v_ltype(B02_LTYPES, 255), "b05": _v_b05,
    "diffuser": _v_diffuser, "t5": _v_t5, "fan17": _v_fan17, "rbs": _v_setclose,
    "zb_rbs": _v_setclose, "garage": _v_garage, "zb_curtain": _v_zb_curtain, "gtta": _v_gtta,
    "nspanel": _v_nspanel, "nspanel_pro": _v_nspanel_pro, "trvzb": _v_trvzb,
    "pcsw": _v_bool(("switch", "childLock")), "din": _v_bool(("switch",)),
    "swv": _v_bool(("switch",)), "swv_zne": _v_bool(("switch_00",)), "th": _v_th,
    "thr": _v_thr, "rfbridge": _v_rf, "dualr3": _v_dualr3, "dualr3lite": _v_dualr3,
}  # fmt: skip


# What a device ignores -----------------------------------------------------------------------
def family_filter(kind: str, state: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Drop what the device ignores: attributes sent to a light that is off (and stays off)."""
    rules = LIGHTS.get("l1" if kind == "l3" else kind)
    if rules is None:
        return params
    if state.get(rules.on_key) == rules.on_value or params.get(rules.on_key) == rules.on_value:
        return params
    # "With the lights off, only the lights can be turned on" [doc] CK §UIID22/33/36/57.
    return {k: v for k, v in params.items() if k not in rules.attributes}


# After a command -------------------------------------------------------------------------
@dataclass(slots=True)
class Effects:
    """What a family does after applying a command."""

    report: dict[str, Any] = field(default_factory=dict)
    followups: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


TRAVEL = 0.5


def family_effects(
    kind: str,
    uiid: int,
    state: dict[str, Any],
    params: dict[str, Any],
    *,
    rng: random.Random,
    before: dict[str, Any],
) -> Effects:
    """Return the immediate extra report, later reports and performed actions.

    `state` has the command applied; `before` is the state as it was.
    """
    out = Effects()
    out.actions.extend({key: params[key]} for key in sorted(ACTION_KEYS & params.keys()))
    if kind in ("rbs", "zb_rbs") and ("switch" in params or "setclose" in params):
        target = params.get("setclose")
        if target is None:
            target = {"on": 0, "off": 100}.get(str(params.get("switch")), state.get("setclose"))
        out.followups.append((TRAVEL, {"setclose": target, "switch": "pause"}))
    elif kind == "garage" and params.get("op") in (1, 3):
        opened = params["op"] == 1
        out.followups.append((TRAVEL, {"per": 100 if opened else 0, "statu": 5 if opened else 6}))
    elif kind == "zb_curtain":
        target = {"open": 0, "close": 100}.get(str(params.get("curtainAction")))
        if "openPercent" in params:
            target = params["openPercent"]
        if target is not None:
            out.followups.append((TRAVEL, {"curPercent": target, "curtainAction": "pause"}))
    elif kind == "t5" and uiid == 211:
        target = {0: 0, 2: 100}.get(params.get("electromotor", -1))
        if "percentageControl" in params:
            target = params["percentageControl"]
            out.report["electromotor"] = state["electromotor"] = (
                0 if target < before.get("percentageControl", 0) else 2
            )
        if target is not None:
            out.followups.append((TRAVEL, {"percentageControl": target, "electromotor": 1}))
    elif kind in ("dualr3", "dualr3lite") and isinstance(params.get("location"), int):
        target = params["location"]
        turn = 1 if target > int(state.get("currLocation", 0)) else 2
        out.report["motorTurn"] = state["motorTurn"] = turn
    elif kind == "trvzb":
        _trv_effects(state, params, out)
    elif kind == "rfbridge" and params.get("cmd") == "transmit":
        out.actions.append({"transmit": params["rfChl"]})
    elif kind == "rfbridge" and params.get("cmd") == "capture":
        # The user presses the remote's button: the bridge learns the code and reports it.
        learned = [i for i in state.get("rfList") or () if i.get("rfChl") != params["rfChl"]]
        code = {"rfChl": params["rfChl"], "rfVal": f"{rng.getrandbits(56):014X}"}
        out.followups.append((0.2, {"rfList": sorted([*learned, code], key=lambda i: i["rfChl"])}))
    elif kind == "pcsw" and params.get("forceShutdown") is True:
        out.followups.append((0.2, {"switch": False}))
    return out


def _trv_effects(state: dict[str, Any], params: dict[str, Any], out: Effects) -> None:
    key = {"0": "manTargetTemp", "1": "ecoTargetTemp", "2": "autoTargetTemp"}.get(
        str(state.get("workMode")), "manTargetTemp"
    )
    target = state.get(key)
    if isinstance(target, int) and target != state.get("curTargetTemp"):
        out.report["curTargetTemp"] = state["curTargetTemp"] = target
    try:
        heating = float(str(state.get("temperature"))) < float(str(state.get("curTargetTemp")))
    except ValueError:
        heating = False
    work_state = "1" if heating and state.get("workMode") != "1" else "0"
    if work_state != state.get("workState"):
        out.report["workState"] = state["workState"] = work_state
