"""Lights: bulbs, LED strips, dimmers, zigbee lights, the iFan and diffuser lights, T5 ambient.

Each family of UIIDs has a reader (params -> `LightState`) and a writer (a `LightRequest` ->
the command payloads), per uiid-platforms.md §3. The entity is generic: a light that is off
ignores brightness and colour [doc], so when no payload of a request turns it on itself the
entity sends the on command first and the attributes after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.light import LightEntity, LightEntityDescription
from homeassistant.components.light.const import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_EFFECT,
    ATTR_HS_COLOR,
    ATTR_RGB_COLOR,
    ATTR_TRANSITION,
    ColorMode,
    LightEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import UNDEFINED

from .const import DOMAIN
from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import IFAN, TX_ULTIMATE, channel_switch, conv, integer, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1

type Params = Mapping[str, Any]
type RGB = tuple[int, int, int]

HA_BRIGHTNESS: Final = (1, 255)


@dataclass(frozen=True, slots=True)
class LightState:
    """What a light shows, read from its params."""

    is_on: bool | None
    brightness: int | None = None
    color_mode: ColorMode | None = None
    color_temp_kelvin: int | None = None
    rgb_color: RGB | None = None
    hs_color: tuple[float, float] | None = None
    effect: str | None = None


@dataclass(frozen=True, slots=True)
class LightRequest:
    """A turn-on request in Home Assistant's units; the fields not asked for are None."""

    brightness: int | None = None
    color_temp_kelvin: int | None = None
    rgb_color: RGB | None = None
    hs_color: tuple[float, float] | None = None
    effect: str | None = None
    transition: float | None = None

    @property
    def has_attributes(self) -> bool:
        """Return True when more than "on" is asked for."""
        return any(
            value is not None
            for value in (
                self.brightness,
                self.color_temp_kelvin,
                self.rgb_color,
                self.hs_color,
                self.effect,
            )
        )


@dataclass(frozen=True, slots=True)
class Kelvin:
    """The colour temperature range of a light: device `ct` 0 is the warm end."""

    warm: int
    cold: int


type StateFn = Callable[[Params, Kelvin], LightState]
type SetFn = Callable[[Params, LightRequest, Kelvin], list[dict[str, Any]]]


@dataclass(frozen=True, kw_only=True)
class EwelinkLightDescription(EwelinkEntityDescription, LightEntityDescription):
    """A light family: colour modes, effects, how to read state and write requests.

    `param` is the on/off key, with `on_value`/`off_value`; `on_fn`/`off_fn` override the
    on/off commands (the iFan light is a channel of `switches`).
    """

    color_modes: frozenset[ColorMode]
    state_fn: StateFn
    set_fn: SetFn | None = None
    effects: tuple[str, ...] = ()
    kelvin: Kelvin = Kelvin(2000, 6500)
    kelvin_by_model: Mapping[str, Kelvin] | None = None
    transition: bool = False
    on_value: Any = "on"
    off_value: Any = "off"
    on_fn: Callable[[Thing], dict[str, Any]] | None = None
    off_fn: Callable[[Thing], dict[str, Any]] | None = None


# Helpers -----------------------------------------------------------------------------------
def _is_on(params: Params, key: str, on: Any = "on", off: Any = "off") -> bool | None:
    value = params.get(key)
    if value == on and not isinstance(value, bool):
        return True
    if value == off and not isinstance(value, bool):
        return False
    return None


def _to_ha(value: object, low: int, high: int = 100) -> int | None:
    """Map a device brightness (low..high) to Home Assistant's 1..255."""
    raw = integer(value)
    return conv(raw, (low, high), HA_BRIGHTNESS) if raw is not None else None


def _from_ha(brightness: int, low: int, high: int = 100) -> int:
    """Map Home Assistant's 1..255 to a device brightness (low..high)."""
    return conv(brightness, HA_BRIGHTNESS, (low, high))


def _kelvin_from(ct: object, kelvin: Kelvin, ct_max: int) -> int | None:
    raw = integer(ct)
    return conv(raw, (0, ct_max), (kelvin.warm, kelvin.cold)) if raw is not None else None


def _ct_from(kelvin_value: int, kelvin: Kelvin, ct_max: int) -> int:
    return conv(kelvin_value, (kelvin.warm, kelvin.cold), (0, ct_max))


def _rgb(params: Params, *keys: str) -> RGB | None:
    values = [integer(params.get(key)) for key in keys]
    valid = [value for value in values if value is not None and 0 <= value <= 255]
    if len(valid) != 3:
        return None
    return (valid[0], valid[1], valid[2])


def _object(params: Params, key: object) -> Mapping[str, Any]:
    value = params.get(key) if isinstance(key, str) else None
    return value if isinstance(value, Mapping) else {}


def _effect_of(effects: Mapping[str, Any], value: Any) -> str | None:
    for name, device_value in effects.items():
        if device_value == value:
            return name
    return None


def _effect_value(effects: Mapping[str, Any], effect: str) -> Any:
    if effect not in effects:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_effect",
            translation_placeholders={"effect": effect},
        )
    return effects[effect]


# B1 (22): channel0/1 cold/warm white, channel2..4 RGB, as strings; zyx_mode (§3.2) ------------
B1_SCENES: Final = {
    "good_night": (3, (189, 118, 0)),
    "reading": (4, (255, 255, 255)),
    "party": (5, (207, 56, 3)),
    "leisure": (6, (56, 85, 179)),
}
B1_KELVIN: Final = Kelvin(2000, 6500)


def _b1_state(params: Params, kelvin: Kelvin) -> LightState:
    is_on = _is_on(params, "state")
    mode = integer(params.get("zyx_mode"))
    cold, warm = (integer(params.get(f"channel{i}")) or 0 for i in (0, 1))
    if mode == 1:
        total = cold + warm
        return LightState(
            is_on,
            brightness=conv(max(cold, warm), (25, 255), HA_BRIGHTNESS) if total else None,
            color_mode=ColorMode.COLOR_TEMP,
            color_temp_kelvin=round(
                B1_KELVIN.warm + (B1_KELVIN.cold - B1_KELVIN.warm) * cold / total
            )
            if total
            else None,
        )
    rgb = _rgb(params, "channel2", "channel3", "channel4")
    brightness = max(rgb) if rgb else None
    if rgb and brightness:
        rgb = (
            round(rgb[0] * 255 / brightness),
            round(rgb[1] * 255 / brightness),
            round(rgb[2] * 255 / brightness),
        )
    effect = next((name for name, (m, _) in B1_SCENES.items() if m == mode), None)
    return LightState(is_on, brightness, ColorMode.RGB, rgb_color=rgb, effect=effect)


def _b1_set(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
    state = _b1_state(params, kelvin)
    if request.effect is not None:
        mode, (red, green, blue) = _effect_value(B1_SCENES, request.effect)
        return [
            {"channel0": "0", "channel1": "0", "channel2": str(red), "channel3": str(green),
             "channel4": str(blue), "type": "middle", "zyx_mode": mode}
        ]  # fmt: skip
    white = request.color_temp_kelvin is not None or (
        request.rgb_color is None and state.color_mode is ColorMode.COLOR_TEMP
    )
    brightness = request.brightness or state.brightness or 255
    if white:
        level = str(conv(brightness, HA_BRIGHTNESS, (25, 255)))
        temp = request.color_temp_kelvin or state.color_temp_kelvin or 4250
        cold = "0" if temp < 3500 else level
        warm = "0" if temp >= 5000 else level
        return [
            {"channel0": cold, "channel1": warm, "channel2": "0", "channel3": "0",
             "channel4": "0", "zyx_mode": 1}
        ]  # fmt: skip
    red, green, blue = request.rgb_color or state.rgb_color or (255, 255, 255)
    scale = brightness / 255
    return [
        {"channel0": "0", "channel1": "0", "channel2": str(round(red * scale)),
         "channel3": str(round(green * scale)), "channel4": str(round(blue * scale)),
         "zyx_mode": 2}
    ]  # fmt: skip


# L1 / L2 (33, 59, 137) and L3 (173): RGB strips, mode = effect ----------------------------
L1_EFFECTS: Final = {
    "colorful_gradient": 2, "colorful_breath": 3, "diy_gradient": 4, "diy_pulse": 5,
    "diy_breath": 6, "diy_strobe": 7, "rgb_gradient": 8, "rgb_pulse": 9, "rgb_breath": 10,
    "rgb_strobe": 11, "music": 12,
}  # fmt: skip
L3_EFFECTS: Final = {
    "warm_white": 2, "magic_forward": 7, "magic_back": 8, "seven_color_jump": 10,
    "rgb_jump": 11, "ycp_jump": 12, "seven_color_strobe": 13, "rgb_strobe": 14,
    "ycp_strobe": 15, "seven_color_gradual": 16, "ry_gradual": 17, "rp_gradual": 18,
    "gc_gradual": 19, "gy_gradual": 20, "bp_gradual": 21, "red_marquee": 22,
    "green_marquee": 23, "blue_marquee": 24, "yellow_marquee": 25, "cyan_marquee": 26,
    "purple_marquee": 27, "white_marquee": 28, "seven_color_race": 29, "seven_color_race_back": 30,
    "rgb_race": 31, "rgb_race_back": 32, "ycp_race": 33, "ycp_race_back": 34,
    "seven_color_wave": 35, "seven_color_wave_back": 36, "rgb_wave": 37, "rgb_wave_back": 38,
    "ycp_wave": 39, "ycp_wave_back": 40, "seven_color_flush": 41, "seven_color_flush_back": 42,
    "rgb_flush": 43, "rgb_flush_back": 44, "ycp_flush": 45, "ycp_flush_back": 46,
    "seven_color_flush_close": 47, "seven_color_flush_open": 48, "rgb_flush_close": 49,
    "rgb_flush_open": 50, "ycp_flush_close": 51, "ycp_flush_open": 52,
}  # fmt: skip
L3_MUSIC: Final = {"classic_music": 0, "soft_music": 1, "dynamic_music": 2, "disco_music": 3}
L3_MUSIC_MODE: Final = 4


def _strip_state(effects: Mapping[str, int], low: int) -> StateFn:
    def state(params: Params, kelvin: Kelvin) -> LightState:
        mode = integer(params.get("mode"))
        effect = _effect_of(effects, mode)
        if effects is L3_EFFECTS and mode == L3_MUSIC_MODE:
            effect = _effect_of(L3_MUSIC, integer(params.get("rhythmMode")))
        return LightState(
            _is_on(params, "switch"),
            _to_ha(params.get("bright"), low),
            ColorMode.RGB,
            rgb_color=_rgb(params, "colorR", "colorG", "colorB"),
            effect=effect,
        )

    return state


def _l1_set(low: int) -> SetFn:
    def set_fn(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {}
        if request.effect is not None:
            payload = {"mode": _effect_value(L1_EFFECTS, request.effect), "switch": "on"}
        if request.brightness is not None:
            payload["bright"] = _from_ha(request.brightness, low)
            payload.setdefault("mode", 1)
        if request.rgb_color is not None:
            red, green, blue = request.rgb_color
            payload.update(colorR=red, colorG=green, colorB=blue, light_type=1)
            payload.setdefault("mode", 1)
        return [payload]

    return set_fn


def _l3_set(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
    if request.effect is not None:
        if request.effect in L3_MUSIC:
            return [
                {"switch": "on", "mode": L3_MUSIC_MODE, "rhythmMode": L3_MUSIC[request.effect],
                 "rhythmSensitive": 100, "bright": 100, "light_type": 1}
            ]  # fmt: skip
        mode = _effect_value(L3_EFFECTS, request.effect)
        return [
            {"switch": "on", "mode": mode, f"speed{mode:02d}": 50, f"bright{mode:02d}": 100,
             "light_type": 1}
        ]  # fmt: skip
    # Brightness and colour always go together, the missing one filled in (SL#1394).
    state = _strip_state(L3_EFFECTS, 1)(params, kelvin)
    red, green, blue = request.rgb_color or state.rgb_color or (255, 255, 255)
    brightness = request.brightness or state.brightness or 255
    return [
        {"mode": 1, "bright": _from_ha(brightness, 1), "colorR": red, "colorG": green,
         "colorB": blue, "light_type": 1}
    ]  # fmt: skip


# Dimmers (36, 44, 1257, 277) and the single-colour bulb (57) --------------------------------
def _dimmer_state(key: str, low: int, high: int = 100, on_key: str = "switch") -> StateFn:
    def state(params: Params, kelvin: Kelvin) -> LightState:
        return LightState(
            _is_on(params, on_key),
            _to_ha(params.get(key), low, high),
            ColorMode.BRIGHTNESS,
        )

    return state


def _dimmer_set(
    key: str, low: int, extra: Mapping[str, Any], *, high: int = 100, as_string: bool = False
) -> SetFn:
    def set_fn(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
        if request.brightness is None:
            return []
        level = _from_ha(request.brightness, low, high)
        payload: dict[str, Any] = {key: str(level) if as_string else level, **extra}
        if request.transition is not None and "switch" in extra:
            payload["transitionTime"] = round(request.transition * 1000)
        return [payload]

    return set_fn


# B02 (103, 135): white and four scenes, each an object {br, ct} (§3.2) ----------------------
B02_SCENES: Final = {
    "night_light": ("nightLight", {"br": 5, "ct": 0}),
    "reading": ("read", {"br": 50, "ct": 0}),
    "computer": ("computer", {"br": 20, "ct": 255}),
    "bright": ("bright", {"br": 100, "ct": 255}),
}


B02_LTYPES: Final = frozenset({"white", *(ltype for ltype, _ in B02_SCENES.values())})


def _b02_state(params: Params, kelvin: Kelvin) -> LightState:
    ltype = params.get("ltype")
    obj = _object(params, ltype) if isinstance(ltype, str) and ltype in B02_LTYPES else {}
    effect = next((name for name, (lt, _) in B02_SCENES.items() if lt == ltype), None)
    return LightState(
        _is_on(params, "switch"),
        _to_ha(obj.get("br"), 1),
        ColorMode.COLOR_TEMP,
        color_temp_kelvin=_kelvin_from(obj.get("ct"), kelvin, 255),
        effect=effect,
    )


def _b02_set(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
    # "Switching mode must be accompanied by switch on" [doc] CK §UIID103.
    if request.effect is not None:
        ltype, values = _effect_value(B02_SCENES, request.effect)
        return [{"switch": "on", "ltype": ltype, ltype: dict(values)}]
    white = _object(params, "white")
    br = _from_ha(request.brightness, 1) if request.brightness else integer(white.get("br")) or 100
    ct = (
        _ct_from(request.color_temp_kelvin, kelvin, 255)
        if request.color_temp_kelvin
        else integer(white.get("ct"))
    )
    return [
        {"switch": "on", "ltype": "white", "white": {"br": br, "ct": 128 if ct is None else ct}}
    ]


# B05 (104, 136): white {br, ct}, color {br, r, g, b} and eight RGB scenes -------------------
B05_SCENES: Final = {
    "bright": {"r": 255, "g": 255, "b": 255, "br": 100},
    "good_night": {"r": 254, "g": 254, "b": 126, "br": 25},
    "reading": {"r": 255, "g": 255, "b": 255, "br": 60},
    "night_light": {"r": 255, "g": 242, "b": 226, "br": 5},
    "party": {"r": 254, "g": 132, "b": 0, "br": 45, "tf": 1, "sp": 1},
    "leisure": {"r": 0, "g": 40, "b": 254, "br": 55, "tf": 1, "sp": 1},
    "soft": {"r": 38, "g": 254, "b": 0, "br": 20, "tf": 1, "sp": 1},
    "colorful": {"r": 255, "g": 0, "b": 0, "br": 100, "tf": 1, "sp": 1},
}
B05_LTYPES: Final = {
    "bright": "bright", "good_night": "goodNight", "reading": "read", "night_light": "nightLight",
    "party": "party", "leisure": "leisure", "soft": "soft", "colorful": "colorful",
}  # fmt: skip


B05_OBJECTS: Final = frozenset({"white", "color", *B05_LTYPES.values()})


def _b05_state(ct_max: int) -> StateFn:
    def state(params: Params, kelvin: Kelvin) -> LightState:
        ltype = params.get("ltype")
        obj = _object(params, ltype) if isinstance(ltype, str) and ltype in B05_OBJECTS else {}
        is_on = _is_on(params, "switch")
        brightness = _to_ha(obj.get("br"), 1)
        if ltype == "white":
            return LightState(
                is_on,
                brightness,
                ColorMode.COLOR_TEMP,
                color_temp_kelvin=_kelvin_from(obj.get("ct"), kelvin, ct_max),
            )
        return LightState(
            is_on,
            brightness,
            ColorMode.RGB,
            rgb_color=_rgb(obj, "r", "g", "b"),
            effect=_effect_of(B05_LTYPES, ltype),
        )

    return state


def _b05_set(ct_max: int) -> SetFn:
    def set_fn(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
        if request.effect is not None:
            ltype = _effect_value(B05_LTYPES, request.effect)
            scene = dict(B05_SCENES[request.effect])
            if request.brightness is not None:
                scene["br"] = _from_ha(request.brightness, 1)
            return [{"switch": "on", "ltype": ltype, ltype: scene}]
        current = params.get("ltype")
        if request.color_temp_kelvin is not None or (
            request.rgb_color is None and current == "white"
        ):
            white = _object(params, "white")
            ct = (
                _ct_from(request.color_temp_kelvin, kelvin, ct_max)
                if request.color_temp_kelvin is not None
                else integer(white.get("ct"))
            )
            br = _from_ha(request.brightness, 1) if request.brightness else integer(white.get("br"))
            return [
                {"switch": "on", "ltype": "white",
                 "white": {"br": br or 100, "ct": ct_max // 2 if ct is None else ct}}
            ]  # fmt: skip
        if (
            request.rgb_color is None
            and isinstance(current, str)
            and current in B05_OBJECTS - {"color"}
        ):
            # Brightness alone re-sends the current scene's object.
            obj = dict(_object(params, current))
            if request.brightness is not None:
                obj["br"] = _from_ha(request.brightness, 1)
            return [{"switch": "on", "ltype": current, current: obj}]
        color = _object(params, "color")
        red, green, blue = request.rgb_color or _rgb(color, "r", "g", "b") or (255, 255, 255)
        br = _from_ha(request.brightness, 1) if request.brightness else integer(color.get("br"))
        return [
            {"switch": "on", "ltype": "color",
             "color": {"br": br or 100, "r": red, "g": green, "b": blue}}
        ]  # fmt: skip

    return set_fn


# Zigbee lights (1258 CCT, 3258/7009 RGBCW) --------------------------------------------------
def _zigbee_cct_state(params: Params, kelvin: Kelvin) -> LightState:
    return LightState(
        _is_on(params, "switch"),
        _to_ha(params.get("brightness"), 0),
        ColorMode.COLOR_TEMP,
        color_temp_kelvin=_kelvin_from(params.get("colorTemp"), kelvin, 100),
    )


def _zigbee_cct_set(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
    # The device wants the full state with `switch` (SL#1557).
    brightness = (
        _from_ha(request.brightness, 1)
        if request.brightness is not None
        else integer(params.get("brightness"))
    )
    temp = (
        _ct_from(request.color_temp_kelvin, kelvin, 100)
        if request.color_temp_kelvin is not None
        else integer(params.get("colorTemp"))
    )
    return [
        {"switch": "on", "brightness": 100 if brightness is None else brightness,
         "colorTemp": 100 if temp is None else temp}
    ]  # fmt: skip


def _zigbee_rgbcw_state(params: Params, kelvin: Kelvin) -> LightState:
    is_on = _is_on(params, "switch")
    if params.get("colorMode") == "rgb":
        hue, saturation = integer(params.get("hue")), integer(params.get("saturation"))
        return LightState(
            is_on,
            _to_ha(params.get("rgbBrightness"), 1),
            ColorMode.HS,
            hs_color=(float(hue), float(saturation))
            if hue is not None and saturation is not None
            else None,
        )
    return LightState(
        is_on,
        _to_ha(params.get("cctBrightness"), 1),
        ColorMode.COLOR_TEMP,
        color_temp_kelvin=_kelvin_from(params.get("colorTemp"), kelvin, 100),
    )


def _zigbee_rgbcw_set(
    params: Params, request: LightRequest, kelvin: Kelvin
) -> list[dict[str, Any]]:
    mode = params.get("colorMode") if params.get("colorMode") in ("cct", "rgb") else "cct"
    if request.hs_color is not None:
        mode = "rgb"
    elif request.color_temp_kelvin is not None:
        mode = "cct"
    payload: dict[str, Any] = {"switch": "on"}
    if request.hs_color is not None:
        payload.update(
            colorMode="rgb",
            hue=min(359, round(request.hs_color[0])),
            saturation=round(request.hs_color[1]),
        )
    if request.color_temp_kelvin is not None:
        payload.update(colorMode="cct", colorTemp=_ct_from(request.color_temp_kelvin, kelvin, 100))
    if request.brightness is not None:
        payload[f"{mode}Brightness"] = _from_ha(request.brightness, 1)
    return [payload]


# Diffuser light (25) -------------------------------------------------------------------------
DIFFUSER_EFFECTS: Final = {"color_cycle": 1, "night_light": 3}


def _diffuser_state(params: Params, kelvin: Kelvin) -> LightState:
    return LightState(
        _is_on(params, "lightswitch", 1, 0),
        _to_ha(params.get("lightbright"), 1),
        ColorMode.RGB,
        rgb_color=_rgb(params, "lightRcolor", "lightGcolor", "lightBcolor"),
        effect=_effect_of(DIFFUSER_EFFECTS, integer(params.get("lightmode"))),
    )


def _diffuser_set(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
    payload: dict[str, Any] = {}
    if request.effect is not None:
        payload["lightmode"] = _effect_value(DIFFUSER_EFFECTS, request.effect)
    if request.rgb_color is not None:
        red, green, blue = request.rgb_color
        payload.update(lightmode=2, lightRcolor=red, lightGcolor=green, lightBcolor=blue)
    if request.brightness is not None:
        payload["lightbright"] = _from_ha(request.brightness, 1)
    return [payload] if payload else []


# TX Ultimate ambient light (209-212): effects, set before switching on (SL#1424) -----------
T5_EFFECTS: Final = {
    "night_light": 0, "party": 1, "leisure": 2, "color": 3, "childhood": 4, "wiper": 5,
    "fairy": 6, "starburst": 7, "diy_1": 101, "diy_2": 102,
}  # fmt: skip


def _t5_state(params: Params, kelvin: Kelvin) -> LightState:
    return LightState(
        _is_on(params, "lightSwitch"),
        color_mode=ColorMode.ONOFF,
        effect=_effect_of(T5_EFFECTS, integer(params.get("lightMode"))),
    )


def _t5_set(params: Params, request: LightRequest, kelvin: Kelvin) -> list[dict[str, Any]]:
    if request.effect is None:
        return []
    return [{"lightMode": _effect_value(T5_EFFECTS, request.effect)}, {"lightSwitch": "on"}]


# iFan light (34): outlet 0 of `switches` ----------------------------------------------------
def _ifan_light_state(params: Params, kelvin: Kelvin) -> LightState:
    value = channel_switch(params, 0)
    return LightState(
        True if value == "on" else False if value == "off" else None, color_mode=ColorMode.ONOFF
    )


def _ifan_light(value: str) -> Callable[[Thing], dict[str, Any]]:
    return lambda thing: {"switches": [{"outlet": 0, "switch": value}]}


# Descriptions --------------------------------------------------------------------------------
_BRIGHTNESS = frozenset({ColorMode.BRIGHTNESS})
_RGB = frozenset({ColorMode.RGB})
_CT = frozenset({ColorMode.COLOR_TEMP})
_ONOFF = frozenset({ColorMode.ONOFF})
_STRIP_READS = ("bright", "colorR", "colorG", "colorB", "mode", "light_type")
_B02_READS = ("ltype", "white", "nightLight", "read", "computer", "bright")
_B05_READS = ("ltype", "white", "color", "bright", "goodNight", "read", "nightLight", "party",
              "leisure", "soft", "colorful")  # fmt: skip


def _light(
    key: str, param: str, uiids: frozenset[int] | set[int], **kwargs: Any
) -> EwelinkLightDescription:
    translation_key = kwargs.pop("translation_key", None)
    return EwelinkLightDescription(
        key=key,
        name=UNDEFINED if key != "light" else None,
        translation_key=translation_key,
        param=param,
        exists_fn=uiid_in(uiids),
        **kwargs,
    )


LIGHTS: tuple[EwelinkLightDescription, ...] = (
    _light("light", "state", {22}, translation_key="b1", color_modes=frozenset(
        {ColorMode.COLOR_TEMP, ColorMode.RGB}), state_fn=_b1_state, set_fn=_b1_set,
        effects=tuple(B1_SCENES), kelvin=B1_KELVIN,
        also_reads=("zyx_mode", "channel0", "channel1", "channel2", "channel3", "channel4")),
    _light("light", "switch", {59, 137}, translation_key="l1", color_modes=_RGB,
           state_fn=_strip_state(L1_EFFECTS, 1), set_fn=_l1_set(1), effects=tuple(L1_EFFECTS),
           also_reads=_STRIP_READS),
    # UIID 33: CK documents bright 10..100 (uiid-platforms.md D1).
    _light("light", "switch", {33}, translation_key="l1", color_modes=_RGB,
           state_fn=_strip_state(L1_EFFECTS, 10), set_fn=_l1_set(10), effects=tuple(L1_EFFECTS),
           also_reads=_STRIP_READS),
    _light("light", "switch", {173}, translation_key="l3", color_modes=_RGB,
           state_fn=_strip_state(L3_EFFECTS, 1), set_fn=_l3_set,
           effects=(*L3_EFFECTS, *L3_MUSIC), also_reads=(*_STRIP_READS, "rhythmMode")),
    _light("light", "switch", {36}, color_modes=_BRIGHTNESS, state_fn=_dimmer_state("bright", 10),
           set_fn=_dimmer_set("bright", 10, {}), also_reads=("bright",)),
    # D1: brightness only with switch on and mode 0, in one message (DIY-D1).
    _light("light", "switch", {44}, color_modes=_BRIGHTNESS,
           state_fn=_dimmer_state("brightness", 0),
           set_fn=_dimmer_set("brightness", 1, {"mode": 0, "switch": "on"}),
           also_reads=("brightness",)),
    # Zigbee dimmable light: CK's form (uiid-platforms.md D3).
    _light("light", "switch", {1257}, color_modes=_BRIGHTNESS,
           state_fn=_dimmer_state("brightness", 1),
           set_fn=_dimmer_set("brightness", 1, {"switch": "on"}), also_reads=("brightness",)),
    _light("light", "switch", {277}, color_modes=_BRIGHTNESS,
           state_fn=_dimmer_state("brightness", 1),
           set_fn=_dimmer_set("brightness", 1, {"switch": "on"}), also_reads=("brightness",),
           transition=True),
    _light("light", "state", {57}, color_modes=_BRIGHTNESS,
           state_fn=_dimmer_state("channel0", 25, 255, on_key="state"),
           set_fn=_dimmer_set("channel0", 25, {}, high=255, as_string=True),
           also_reads=("channel0",)),
    _light("light", "switch", {103, 135}, translation_key="b02", color_modes=_CT,
           state_fn=_b02_state, set_fn=_b02_set, effects=tuple(B02_SCENES),
           kelvin=Kelvin(2200, 6500),
           kelvin_by_model={"B02-F-ST64": Kelvin(1800, 5000), "QMS-2C-CW": Kelvin(2700, 6500)},
           also_reads=_B02_READS),
    _light("light", "switch", {104}, translation_key="b05", color_modes=frozenset(
        {ColorMode.COLOR_TEMP, ColorMode.RGB}), state_fn=_b05_state(255), set_fn=_b05_set(255),
        effects=tuple(B05_SCENES), also_reads=_B05_READS),
    # B05-BL: ct 0..100 (SL#892, SL#1035; uiid-platforms.md D8).
    _light("light", "switch", {136}, translation_key="b05", color_modes=frozenset(
        {ColorMode.COLOR_TEMP, ColorMode.RGB}), state_fn=_b05_state(100), set_fn=_b05_set(100),
        effects=tuple(B05_SCENES), also_reads=_B05_READS),
    _light("light", "switch", {1258}, color_modes=_CT, state_fn=_zigbee_cct_state,
           set_fn=_zigbee_cct_set, kelvin=Kelvin(2200, 4000),
           also_reads=("brightness", "colorTemp")),
    _light("light", "switch", {3258, 7009}, color_modes=frozenset(
        {ColorMode.COLOR_TEMP, ColorMode.HS}), state_fn=_zigbee_rgbcw_state,
        set_fn=_zigbee_rgbcw_set,
        also_reads=("colorMode", "colorTemp", "cctBrightness", "rgbBrightness", "hue",
                    "saturation")),
    _light("diffuser_light", "lightswitch", {25}, translation_key="diffuser_light",
           color_modes=_RGB, state_fn=_diffuser_state, set_fn=_diffuser_set,
           effects=tuple(DIFFUSER_EFFECTS), on_value=1, off_value=0,
           also_reads=("lightbright", "lightmode", "lightRcolor", "lightGcolor", "lightBcolor")),
    _light("fan_light", "switches", IFAN, translation_key="fan_light", channel=0,
           color_modes=_ONOFF, state_fn=_ifan_light_state, on_fn=_ifan_light("on"),
           off_fn=_ifan_light("off")),
    _light("ambient_light", "lightSwitch", TX_ULTIMATE, translation_key="ambient_light",
           color_modes=_ONOFF, state_fn=_t5_state, set_fn=_t5_set, effects=tuple(T5_EFFECTS),
           also_reads=("lightMode",)),
)  # fmt: skip


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add lights for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, LIGHTS, EwelinkLight
        )
    )


class EwelinkLight(EwelinkEntity, LightEntity):
    """A light of any family; the description knows the family's params."""

    entity_description: EwelinkLightDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkLightDescription
    ) -> None:
        """Set the colour modes, effects and the model's colour temperature range."""
        super().__init__(coordinator, thing, description)
        kelvin = description.kelvin
        if description.kelvin_by_model and thing.model:
            kelvin = description.kelvin_by_model.get(thing.model, kelvin)
        self._kelvin = kelvin
        self._attr_supported_color_modes = set(description.color_modes)
        self._attr_min_color_temp_kelvin = kelvin.warm
        self._attr_max_color_temp_kelvin = kelvin.cold
        features = LightEntityFeature(0)
        if description.effects:
            features |= LightEntityFeature.EFFECT
            self._attr_effect_list = list(description.effects)
        if description.transition:
            features |= LightEntityFeature.TRANSITION
        self._attr_supported_features = features

    @property
    def _state(self) -> LightState:
        return self.entity_description.state_fn(self.params, self._kelvin)

    @property
    def is_on(self) -> bool | None:
        """Return the on/off state."""
        return self._state.is_on

    @property
    def brightness(self) -> int | None:
        """Return the brightness (1..255)."""
        return self._state.brightness

    @property
    def color_mode(self) -> ColorMode | None:
        """Return the current colour mode (one of the supported ones)."""
        mode = self._state.color_mode
        if mode in self.entity_description.color_modes:
            return mode
        return next(iter(sorted(self.entity_description.color_modes)))

    @property
    def color_temp_kelvin(self) -> int | None:
        """Return the colour temperature."""
        return self._state.color_temp_kelvin

    @property
    def rgb_color(self) -> RGB | None:
        """Return the RGB colour."""
        return self._state.rgb_color

    @property
    def hs_color(self) -> tuple[float, float] | None:
        """Return the hue and saturation."""
        return self._state.hs_color

    @property
    def effect(self) -> str | None:
        """Return the running effect (None: plain light)."""
        return self._state.effect

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on; with attributes, turn on first if the light is off (it ignores them)."""
        description = self.entity_description
        request = LightRequest(
            brightness=kwargs.get(ATTR_BRIGHTNESS),
            color_temp_kelvin=kwargs.get(ATTR_COLOR_TEMP_KELVIN),
            rgb_color=kwargs.get(ATTR_RGB_COLOR),
            hs_color=kwargs.get(ATTR_HS_COLOR),
            effect=kwargs.get(ATTR_EFFECT),
            transition=kwargs.get(ATTR_TRANSITION),
        )
        payloads: list[dict[str, Any]] = []
        if request.has_attributes and description.set_fn is not None:
            payloads = description.set_fn(self.params, request, self._kelvin)
        if not any(description.param in payload for payload in payloads) and (
            not payloads or self.is_on is not True
        ):
            payloads.insert(0, self._on_off(on=True))
        for payload in payloads:
            await self.async_send(payload)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off."""
        await self.async_send(self._on_off(on=False))

    def _on_off(self, *, on: bool) -> dict[str, Any]:
        description = self.entity_description
        command_fn = description.on_fn if on else description.off_fn
        if command_fn is not None:
            return command_fn(self.thing)
        return {description.param: description.on_value if on else description.off_value}
