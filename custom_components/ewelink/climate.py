"""Climate: TH10/16 and TH Elite thermostat modes, NSPanel, GTTA127, TRVZB radiator valve.

Per uiid-platforms.md §6 and uiid-params.md §4.16. Each family reads a `ClimateState` from the
params and builds its commands from the current params; the entity is generic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import copy
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.components.climate import ClimateEntity, ClimateEntityDescription
from homeassistant.components.climate.const import (
    ATTR_HVAC_MODE,
    ATTR_TARGET_TEMP_HIGH,
    ATTR_TARGET_TEMP_LOW,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.const import ATTR_TEMPERATURE, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import NSPANEL, TRVZB, integer, number, plausible_climate, reports, uiid_in
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 1

type Params = Mapping[str, Any]
type Command = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClimateState:
    """What a thermostat shows, read from its params."""

    hvac_mode: HVACMode | None
    hvac_action: HVACAction | None = None
    current_temperature: float | None = None
    current_humidity: float | None = None
    target: float | None = None
    target_low: float | None = None
    target_high: float | None = None
    preset: str | None = None


@dataclass(frozen=True, slots=True)
class Targets:
    """A set-temperature request: a target, or a low/high range; None = not asked."""

    target: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, kw_only=True)
class EwelinkClimateDescription(EwelinkEntityDescription, ClimateEntityDescription):
    """A thermostat family: modes, range, how to read and command it."""

    hvac_modes_fn: Callable[[Params], list[HVACMode]]
    read_fn: Callable[[Params], ClimateState]
    mode_fn: Callable[[Params, HVACMode], Command]
    targets_fn: Callable[[Params, Targets, HVACMode | None], Command]
    features_fn: Callable[[Params], ClimateEntityFeature]
    min_temp: float
    max_temp: float
    step: float
    preset_modes: tuple[str, ...] = ()
    preset_fn: Callable[[str], Command] | None = None
    extra_features: ClimateEntityFeature = field(default=ClimateEntityFeature(0))


_ON_OFF = ClimateEntityFeature.TURN_ON | ClimateEntityFeature.TURN_OFF


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


# TH10/16 (15): deviceType, mainSwitch, targets [{targetHigh, reaction}, {targetLow, reaction}] -
TH_MODES: Final = [HVACMode.OFF, HVACMode.HEAT, HVACMode.COOL, HVACMode.DRY]


def _threshold(items: object, key: str) -> tuple[float | None, str | None]:
    """Return (value, reaction switch) of the `targets` item holding `key`."""
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and key in item:
            reaction = item.get("reaction")
            switch = reaction.get("switch") if isinstance(reaction, Mapping) else None
            return number(item.get(key)), switch if isinstance(switch, str) else None
    return None, None


def _auto_mode(device_type: object, low_reaction: str | None) -> HVACMode:
    if device_type == "humidity":
        return HVACMode.DRY
    return HVACMode.HEAT if low_reaction in (None, "on") else HVACMode.COOL


def _action(mode: HVACMode | None, relay: object) -> HVACAction | None:
    if mode is None:
        return None
    if mode is HVACMode.OFF:
        return HVACAction.OFF
    if relay not in ("on", "off"):
        return None
    if relay == "off":
        return HVACAction.IDLE
    return {
        HVACMode.HEAT: HVACAction.HEATING,
        HVACMode.COOL: HVACAction.COOLING,
        HVACMode.DRY: HVACAction.DRYING,
    }.get(mode)


def _reading(params: Params, *keys: str) -> float | None:
    for key in keys:
        value = number(params.get(key))
        if value is not None:
            return value if plausible_climate(value) else None
    return None


def _th_read(params: Params) -> ClimateState:
    device_type = params.get("deviceType")
    low, low_reaction = _threshold(params.get("targets"), "targetLow")
    high, _ = _threshold(params.get("targets"), "targetHigh")
    mode = (
        HVACMode.OFF
        if device_type not in ("temperature", "humidity") or params.get("mainSwitch") != "on"
        else _auto_mode(device_type, low_reaction)
    )
    return ClimateState(
        mode,
        _action(mode, params.get("switch")),
        current_temperature=_reading(params, "currentTemperature", "temperature"),
        current_humidity=_reading(params, "currentHumidity", "humidity"),
        target_low=low,
        target_high=high,
    )


def _reactions(mode: HVACMode) -> tuple[str, str]:
    """Return the relay state at (above high, below low) for an auto mode."""
    return ("off", "on") if mode is HVACMode.HEAT else ("on", "off")


def _th_auto(params: Params, mode: HVACMode, low: float, high: float, main: str) -> Command:
    above, below = _reactions(mode)
    return {
        "deviceType": "humidity" if mode is HVACMode.DRY else "temperature",
        "mainSwitch": main,
        "targets": [
            {"targetHigh": _fmt(high, 0), "reaction": {"switch": above}},
            {"targetLow": _fmt(low, 0), "reaction": {"switch": below}},
        ],
    }


def _th_mode(params: Params, mode: HVACMode) -> Command:
    if mode is HVACMode.OFF:
        return {"mainSwitch": "off", "deviceType": "normal"}
    state = _th_read(params)
    low, high = _default_range(state, mode)
    return _th_auto(params, mode, low, high, "on")


def _default_range(state: ClimateState, mode: HVACMode) -> tuple[float, float]:
    low = state.target_low if state.target_low is not None else 20.0
    high = state.target_high if state.target_high is not None else low + 2
    if mode is HVACMode.DRY:
        low, high = min(max(low, 0), 99), min(max(high, 1), 100)
    return low, high


def _th_targets(params: Params, targets: Targets, mode: HVACMode | None) -> Command:
    state = _th_read(params)
    mode = mode or state.hvac_mode or HVACMode.OFF
    low, high = _check_range(state, targets)
    if mode is HVACMode.OFF:
        # Keep the thresholds for later; the thermostat stays off (temporary manual).
        _, low_reaction = _threshold(params.get("targets"), "targetLow")
        rule_mode = _auto_mode(params.get("deviceType"), low_reaction)
        return _th_auto(params, rule_mode, low, high, "off")
    return _th_auto(params, mode, low, high, "on")


def _check_range(state: ClimateState, targets: Targets) -> tuple[float, float]:
    low = targets.low if targets.low is not None else state.target_low
    high = targets.high if targets.high is not None else state.target_high
    if low is None or high is None or low >= high:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="invalid_target_range"
        )
    return low, high


# TH Elite (181): autoControl [{deviceType, targets [{high|low, reaction}], effTime}] [inf] ---
ALWAYS: Final = {"spanType": "any", "days": [0, 1, 2, 3, 4, 5, 6], "from": "00:00", "to": "23:59"}


def _elite_rule(params: Params) -> Mapping[str, Any]:
    rules = params.get("autoControl")
    if isinstance(rules, list) and rules and isinstance(rules[0], Mapping):
        return rules[0]
    return {}


def _elite_read(params: Params) -> ClimateState:
    rule = _elite_rule(params)
    low, low_reaction = _threshold(rule.get("targets"), "low")
    high, _ = _threshold(rule.get("targets"), "high")
    enabled = integer(params.get("autoControlEnabled")) == 1 and bool(rule)
    mode = _auto_mode(rule.get("deviceType"), low_reaction) if enabled else HVACMode.OFF
    return ClimateState(
        mode,
        _action(mode, params.get("switch")),
        current_temperature=_reading(params, "currentTemperature", "temperature"),
        current_humidity=_reading(params, "currentHumidity", "humidity"),
        target_low=low,
        target_high=high,
    )


def _elite_command(
    params: Params, mode: HVACMode, low: float, high: float, enabled: int
) -> Command:
    above, below = _reactions(mode)
    rule = dict(copy.deepcopy(_elite_rule(params)))
    rule["deviceType"] = "humidity" if mode is HVACMode.DRY else "temperature"
    rule["targets"] = [
        {"high": _fmt(high, 1), "reaction": {"switch": above}},
        {"low": _fmt(low, 1), "reaction": {"switch": below}},
    ]
    rule.setdefault("effTime", dict(ALWAYS))
    rules = params.get("autoControl")
    rest = list(copy.deepcopy(rules[1:])) if isinstance(rules, list) else []
    return {"autoControlEnabled": enabled, "autoControl": [rule, *rest]}


def _elite_mode(params: Params, mode: HVACMode) -> Command:
    if mode is HVACMode.OFF:
        return {"autoControlEnabled": 0}
    low, high = _default_range(_elite_read(params), mode)
    return _elite_command(params, mode, low, high, 1)


def _elite_targets(params: Params, targets: Targets, mode: HVACMode | None) -> Command:
    state = _elite_read(params)
    mode = mode or state.hvac_mode or HVACMode.OFF
    low, high = _check_range(state, targets)
    if mode is HVACMode.OFF:
        rule = _elite_rule(params)
        _, low_reaction = _threshold(rule.get("targets"), "low")
        return _elite_command(
            params, _auto_mode(rule.get("deviceType"), low_reaction), low, high, 0
        )
    return _elite_command(params, mode, low, high, 1)


# NSPanel (133): ATCEnable, ATCMode 0 manual / 1 auto, ATCExpect0, HMI_ATCDevice.etype --------
def _ns_manual_mode(params: Params) -> HVACMode:
    device = params.get("HMI_ATCDevice")
    cold = isinstance(device, Mapping) and device.get("etype") == "cold"
    return HVACMode.COOL if cold else HVACMode.HEAT


def _ns_modes(params: Params) -> list[HVACMode]:
    return [HVACMode.OFF, _ns_manual_mode(params), HVACMode.AUTO]


def _ns_read(params: Params) -> ClimateState:
    enabled = integer(params.get("ATCEnable"))
    atc_mode = integer(params.get("ATCMode"))
    mode: HVACMode | None = None
    if enabled == 0:
        mode = HVACMode.OFF
    elif enabled == 1:
        mode = HVACMode.AUTO if atc_mode == 1 else _ns_manual_mode(params)
    temperature = number(params.get("temperature"))
    if temperature is not None:
        temperature = round(temperature + (number(params.get("tempCorrection")) or 0.0), 2)
    return ClimateState(
        mode, current_temperature=temperature, target=number(params.get("ATCExpect0"))
    )


def _ns_mode(params: Params, mode: HVACMode) -> Command:
    if mode is HVACMode.OFF:
        return {"ATCEnable": 0}
    return {"ATCEnable": 1, "ATCMode": 1 if mode is HVACMode.AUTO else 0}


def _ns_features(params: Params) -> ClimateEntityFeature:
    # The target is the panel's in manual mode only (hidden in auto, SL#1107).
    if _ns_read(params).hvac_mode is HVACMode.AUTO:
        return _ON_OFF
    return _ON_OFF | ClimateEntityFeature.TARGET_TEMPERATURE


def _ns_targets(params: Params, targets: Targets, mode: HVACMode | None) -> Command:
    return {"ATCMode": 0, "ATCExpect0": _required(targets.target)}


# GTTA127 (127): switch, workState 1 heat / 2 auto, workMode presets, targetTemp -------------
GTTA_PRESETS: Final = {"manual": 1, "programmed": 2, "economical": 3}


def _gtta_read(params: Params) -> ClimateState:
    switch = params.get("switch")
    work_state = integer(params.get("workState"))
    mode: HVACMode | None = None
    if switch == "off":
        mode = HVACMode.OFF
    elif switch == "on":
        mode = HVACMode.AUTO if work_state == 2 else HVACMode.HEAT
    preset = next(
        (k for k, v in GTTA_PRESETS.items() if v == integer(params.get("workMode"))), None
    )
    return ClimateState(
        mode,
        current_temperature=number(params.get("temperature")),
        target=number(params.get("targetTemp")),
        preset=preset,
    )


def _gtta_mode(params: Params, mode: HVACMode) -> Command:
    if mode is HVACMode.OFF:
        return {"switch": "off"}
    return {"switch": "on", "workState": 2 if mode is HVACMode.AUTO else 1}


# TRVZB (7017): workMode "0" manual / "1" eco / "2" auto; targets x0.1 per mode ------------------
TRV_MODES: Final = {HVACMode.HEAT: "0", HVACMode.OFF: "1", HVACMode.AUTO: "2"}
TRV_TARGET_KEYS: Final = {"0": "manTargetTemp", "1": "ecoTargetTemp", "2": "autoTargetTemp"}


def _tenths(raw: object) -> float | None:
    value = number(raw)
    return round(value * 0.1, 1) if value is not None else None


def _trv_read(params: Params) -> ClimateState:
    work_mode = str(params.get("workMode"))
    mode = next((m for m, v in TRV_MODES.items() if v == work_mode), None)
    work_state = str(params.get("workState"))
    action = {"1": HVACAction.HEATING, "0": HVACAction.IDLE}.get(work_state)
    return ClimateState(
        mode,
        action,
        current_temperature=_tenths(params.get("temperature")),
        target=_tenths(params.get("curTargetTemp")),
    )


def _trv_targets(params: Params, targets: Targets, mode: HVACMode | None) -> Command:
    # The target belongs to the current mode; firmware 1.4+ refuses floats (SL#1749).
    work_mode = TRV_MODES[mode] if mode is not None else str(params.get("workMode"))
    key = TRV_TARGET_KEYS.get(work_mode, "manTargetTemp")
    command: Command = {key: round(_required(targets.target) * 10)}
    if mode is not None:
        command["workMode"] = work_mode
    return command


# Shared ----------------------------------------------------------------------------------
def _required(value: float | None) -> float:
    if value is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="missing_target")
    return value


def _single_target(key: str) -> Callable[[Params, Targets, HVACMode | None], Command]:
    def targets_fn(params: Params, targets: Targets, mode: HVACMode | None) -> Command:
        command: Command = {key: _required(targets.target)}
        return command

    return targets_fn


def _features(features: ClimateEntityFeature) -> Callable[[Params], ClimateEntityFeature]:
    return lambda params: features


_RANGE = _ON_OFF | ClimateEntityFeature.TARGET_TEMPERATURE_RANGE
_TARGET = _ON_OFF | ClimateEntityFeature.TARGET_TEMPERATURE
_TRV_READS = ("workState", "curTargetTemp", "manTargetTemp", "ecoTargetTemp", "autoTargetTemp",
              "temperature")  # fmt: skip
_TH_READS = ("deviceType", "mainSwitch", "switch", "currentTemperature", "currentHumidity",
             "temperature", "humidity")  # fmt: skip

CLIMATES: tuple[EwelinkClimateDescription, ...] = (
    EwelinkClimateDescription(
        key="thermostat",
        translation_key="thermostat",
        param="targets",
        also_reads=_TH_READS,
        entity_registry_enabled_default=False,
        hvac_modes_fn=lambda params: TH_MODES,
        read_fn=_th_read,
        mode_fn=_th_mode,
        targets_fn=_th_targets,
        features_fn=_features(_RANGE),
        min_temp=-40,
        max_temp=99,
        step=1,
        exists_fn=uiid_in({15}),
    ),
    EwelinkClimateDescription(
        key="thermostat",
        translation_key="thermostat",
        param="autoControl",
        also_reads=("autoControlEnabled", *_TH_READS),
        entity_registry_enabled_default=False,
        hvac_modes_fn=lambda params: TH_MODES,
        read_fn=_elite_read,
        mode_fn=_elite_mode,
        targets_fn=_elite_targets,
        features_fn=_features(_RANGE),
        min_temp=-40,
        max_temp=99,
        step=0.5,
        exists_fn=uiid_in({181}),
    ),
    EwelinkClimateDescription(
        key="thermostat",
        translation_key="thermostat",
        param="ATCEnable",
        also_reads=("ATCMode", "ATCExpect0", "HMI_ATCDevice", "temperature", "tempCorrection"),
        entity_registry_enabled_default=False,
        hvac_modes_fn=_ns_modes,
        read_fn=_ns_read,
        mode_fn=_ns_mode,
        targets_fn=_ns_targets,
        features_fn=_ns_features,
        min_temp=16,
        max_temp=31,
        step=0.5,
        exists_fn=uiid_in(NSPANEL, reports("HMI_ATCDevice")),
    ),
    EwelinkClimateDescription(
        key="thermostat",
        name=None,
        translation_key="gtta",
        param="switch",
        also_reads=("workState", "workMode", "targetTemp", "temperature"),
        hvac_modes_fn=lambda params: [HVACMode.OFF, HVACMode.HEAT, HVACMode.AUTO],
        read_fn=_gtta_read,
        mode_fn=_gtta_mode,
        targets_fn=_single_target("targetTemp"),
        features_fn=_features(_TARGET | ClimateEntityFeature.PRESET_MODE),
        min_temp=5,
        max_temp=45,
        step=0.5,
        preset_modes=tuple(GTTA_PRESETS),
        preset_fn=lambda preset: {"workMode": GTTA_PRESETS[preset]},
        exists_fn=uiid_in({127}),
    ),
    EwelinkClimateDescription(
        key="thermostat",
        name=None,
        param="workMode",
        also_reads=_TRV_READS,
        hvac_modes_fn=lambda params: list(TRV_MODES),
        read_fn=_trv_read,
        mode_fn=lambda params, mode: {"workMode": TRV_MODES[mode]},
        targets_fn=_trv_targets,
        features_fn=_features(_TARGET),
        min_temp=4,
        max_temp=35,
        step=0.5,
        exists_fn=uiid_in(TRVZB),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add thermostats for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, CLIMATES, EwelinkClimate
        )
    )


class EwelinkClimate(EwelinkEntity, ClimateEntity):
    """A thermostat of any family; the description knows the family's params."""

    entity_description: EwelinkClimateDescription
    _attr_temperature_unit = UnitOfTemperature.CELSIUS

    def __init__(
        self,
        coordinator: EwelinkCoordinator,
        thing: Thing,
        description: EwelinkClimateDescription,
    ) -> None:
        """Set the range and presets of the family."""
        super().__init__(coordinator, thing, description)
        self._attr_min_temp = description.min_temp
        self._attr_max_temp = description.max_temp
        self._attr_target_temperature_step = description.step
        if description.preset_modes:
            self._attr_preset_modes = list(description.preset_modes)

    @property
    def _state(self) -> ClimateState:
        return self.entity_description.read_fn(self.params)

    @property
    def supported_features(self) -> ClimateEntityFeature:
        """Return the features (the NSPanel hides its target in auto mode)."""
        return self.entity_description.features_fn(self.params)

    @property
    def hvac_modes(self) -> list[HVACMode]:
        """Return the modes of the family (the NSPanel cools or heats, by its setup)."""
        return self.entity_description.hvac_modes_fn(self.params)

    @property
    def hvac_mode(self) -> HVACMode | None:
        """Return the current mode."""
        return self._state.hvac_mode

    @property
    def hvac_action(self) -> HVACAction | None:
        """Return what the thermostat is doing."""
        return self._state.hvac_action

    @property
    def current_temperature(self) -> float | None:
        """Return the measured temperature."""
        return self._state.current_temperature

    @property
    def current_humidity(self) -> float | None:
        """Return the measured humidity."""
        return self._state.current_humidity

    @property
    def target_temperature(self) -> float | None:
        """Return the target."""
        return self._state.target

    @property
    def target_temperature_low(self) -> float | None:
        """Return the lower threshold of an auto range."""
        return self._state.target_low

    @property
    def target_temperature_high(self) -> float | None:
        """Return the upper threshold of an auto range."""
        return self._state.target_high

    @property
    def preset_mode(self) -> str | None:
        """Return the preset."""
        return self._state.preset

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Change the mode."""
        await self.async_send(self.entity_description.mode_fn(self.params, hvac_mode))

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the target (or the range), in the mode given or the current one."""
        targets = Targets(
            target=kwargs.get(ATTR_TEMPERATURE),
            low=kwargs.get(ATTR_TARGET_TEMP_LOW),
            high=kwargs.get(ATTR_TARGET_TEMP_HIGH),
        )
        mode = kwargs.get(ATTR_HVAC_MODE)
        command = self.entity_description.targets_fn(self.params, targets, mode)
        if mode is not None and mode is not self.hvac_mode and not _sets_mode(command):
            await self.async_set_hvac_mode(mode)
        await self.async_send(command)

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Set a preset."""
        preset_fn = self.entity_description.preset_fn
        if preset_fn is None or preset_mode not in self.entity_description.preset_modes:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_preset",
                translation_placeholders={"preset": preset_mode},
            )
        await self.async_send(preset_fn(preset_mode))


def _sets_mode(command: Command) -> bool:
    """Return True when a target command also sets the mode (TH, TH Elite, TRVZB)."""
    return bool({"deviceType", "autoControlEnabled", "workMode", "ATCMode"} & command.keys())
