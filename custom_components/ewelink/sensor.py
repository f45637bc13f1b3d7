"""Sensors: power metering, energy, climate, air quality, battery, signal strength."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    LIGHT_LUX,
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfDensity,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfRatio,
    UnitOfTemperature,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coolkit import Thing
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .devices import (
    AIR_QUALITY,
    BATTERY_IF_REPORTED,
    BATTERY_PERCENT,
    CHANNEL_METERING,
    ENERGY_DAY_MONTH,
    ENERGY_WEEK_YEAR,
    HOURS_KWH,
    HUNDRED_DAYS_KWH,
    NSPANEL,
    NSPANEL_PRO,
    PHASE_METERING,
    POWER_CENTI,
    POWER_PLAIN,
    SONOFF_SC,
    SUPPLY,
    TH_CENTI_CORRECTED,
    TH_CORRECTED,
    TH_WIFI,
    TH_ZIGBEE,
    TRVZB,
    VOLTAGE_CURRENT_IF_REPORTED,
    VOLTAGE_CURRENT_PLAIN,
    WIFI_RSSI,
    ZIGBEE_RSSI,
    hours_kwh,
    hundred_days_kwh,
    kwh_histories,
    number,
    plausible_climate,
    reports,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 0

type Params = Mapping[str, Any]

# subDevRssi 127 means "no value" for zigbee children (§13.1).
NO_ZIGBEE_RSSI = 127
# An energy total that falls to half or less is a reset (a new day or month); a smaller fall is
# a glitch of the meter, ignored so that no decrease reaches a TOTAL_INCREASING sensor.
RESET_RATIO = 0.5


@dataclass(frozen=True, kw_only=True)
class EwelinkSensorDescription(EwelinkEntityDescription, SensorEntityDescription):
    """A sensor: raw value (default: the param as a number) x scale + correction param."""

    value_fn: Callable[[Params], float | None] | None = None
    scale: float | None = None
    correction: str | None = None
    valid_fn: Callable[[float], bool] | None = None


# What a kind of measurement is: unit, device class, display precision.
_KINDS: dict[str, tuple[str | None, SensorDeviceClass | None, int]] = {
    "power": (UnitOfPower.WATT, SensorDeviceClass.POWER, 1),
    "voltage": (UnitOfElectricPotential.VOLT, SensorDeviceClass.VOLTAGE, 1),
    "current": (UnitOfElectricCurrent.AMPERE, SensorDeviceClass.CURRENT, 2),
    "energy": (UnitOfEnergy.KILO_WATT_HOUR, SensorDeviceClass.ENERGY, 2),
    "temperature": (UnitOfTemperature.CELSIUS, SensorDeviceClass.TEMPERATURE, 1),
    "humidity": (PERCENTAGE, SensorDeviceClass.HUMIDITY, 0),
    "battery": (PERCENTAGE, SensorDeviceClass.BATTERY, 0),
    "signal": (SIGNAL_STRENGTH_DECIBELS_MILLIWATT, SensorDeviceClass.SIGNAL_STRENGTH, 0),
    "co2": (UnitOfRatio.PARTS_PER_MILLION, SensorDeviceClass.CO2, 0),
    "pm10": (UnitOfDensity.MICROGRAMS_PER_CUBIC_METER, SensorDeviceClass.PM10, 0),
    "pm25": (UnitOfDensity.MICROGRAMS_PER_CUBIC_METER, SensorDeviceClass.PM25, 0),
    "illuminance": (LIGHT_LUX, SensorDeviceClass.ILLUMINANCE, 0),
    "water": (UnitOfVolume.LITERS, SensorDeviceClass.WATER, 1),
    "percent": (PERCENTAGE, None, 0),
    "level": (None, None, 0),
}
_TOTALS = frozenset({"energy", "water"})


def _sensor(
    key: str,
    param: str,
    kind: str,
    exists_fn: Callable[[Thing], bool],
    *,
    scale: float | None = None,
    translation_key: str | None = None,
    channel: int | None = None,
    value_fn: Callable[[Params], float | None] | None = None,
    also_reads: tuple[str, ...] = (),
    correction: str | None = None,
    valid_fn: Callable[[float], bool] | None = None,
    precision: int | None = None,
    category: EntityCategory | None = None,
    enabled: bool = True,
) -> EwelinkSensorDescription:
    unit, device_class, default_precision = _KINDS[kind]
    return EwelinkSensorDescription(
        key=key,
        translation_key=translation_key,
        param=param,
        channel=channel,
        also_reads=(*also_reads, *((correction,) if correction else ())),
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.TOTAL_INCREASING
        if kind in _TOTALS
        else SensorStateClass.MEASUREMENT,
        suggested_display_precision=default_precision if precision is None else precision,
        scale=scale,
        correction=correction,
        value_fn=value_fn,
        valid_fn=valid_fn,
        entity_category=category,
        entity_registry_enabled_default=enabled,
        exists_fn=exists_fn,
    )


def _parsed(
    param: str, parser: Callable[[object], float | None]
) -> Callable[[Params], float | None]:
    return lambda params: parser(params.get(param))


def _first(*params: str) -> Callable[[Params], float | None]:
    """Read the first of several key variants that holds a number (TH16 cloud/LAN keys)."""

    def read(values: Params) -> float | None:
        for param in params:
            if (value := number(values.get(param))) is not None:
                return value
        return None

    return read


def _nested(param: str, key: str) -> Callable[[Params], float | None]:
    def read(params: Params) -> float | None:
        value = params.get(param)
        return number(value.get(key)) if isinstance(value, Mapping) else None

    return read


def _zigbee_rssi(params: Params) -> float | None:
    value = number(params.get("subDevRssi"))
    return None if value == NO_ZIGBEE_RSSI else value


def _channel_metering(channel: int) -> tuple[EwelinkSensorDescription, ...]:
    exists = uiid_in({uiid for uiid, count in CHANNEL_METERING.items() if channel < count})
    suffix = f"0{channel}"
    return (
        _sensor(f"current_{channel + 1}", f"current_{suffix}", "current", exists, scale=0.01,
                translation_key="channel_current", channel=channel),
        _sensor(f"voltage_{channel + 1}", f"voltage_{suffix}", "voltage", exists, scale=0.01,
                translation_key="channel_voltage", channel=channel),
        _sensor(f"power_{channel + 1}", f"actPow_{suffix}", "power", exists, scale=0.01,
                translation_key="channel_power", channel=channel),
        _sensor(f"energy_today_{channel + 1}", f"kwhHistories_{suffix}", "energy", exists,
                translation_key="channel_energy_today", channel=channel,
                value_fn=_parsed(f"kwhHistories_{suffix}", kwh_histories), enabled=False),
    )  # fmt: skip


_PLAIN = uiid_in(POWER_PLAIN)
_PLAIN_VC = uiid_in(VOLTAGE_CURRENT_PLAIN)
_CENTI = uiid_in(POWER_CENTI)
_SUPPLY = uiid_in(SUPPLY, reports("supplyPower"))
_NSPANEL_PRO_TEMPERATURE = ("currentTemperature", "temperature")

SENSORS: tuple[EwelinkSensorDescription, ...] = (
    # Single-channel metering
    _sensor("power", "power", "power", _PLAIN),
    _sensor("voltage", "voltage", "voltage", _PLAIN_VC),
    _sensor("current", "current", "current", _PLAIN_VC),
    _sensor("voltage", "voltage", "voltage",
            uiid_in(VOLTAGE_CURRENT_IF_REPORTED, reports("voltage"))),
    _sensor("current", "current", "current",
            uiid_in(VOLTAGE_CURRENT_IF_REPORTED, reports("current"))),
    _sensor("power", "power", "power", _CENTI, scale=0.01),
    _sensor("voltage", "voltage", "voltage", _CENTI, scale=0.01),
    _sensor("current", "current", "current", _CENTI, scale=0.01),
    _sensor("power", "phase_0_p", "power", uiid_in(PHASE_METERING)),
    _sensor("voltage", "phase_0_v", "voltage", uiid_in(PHASE_METERING)),
    _sensor("current", "phase_0_c", "current", uiid_in(PHASE_METERING)),
    _sensor("energy", "totalPower", "energy", uiid_in(PHASE_METERING)),
    _sensor("energy_day", "dayKwh", "energy", uiid_in(ENERGY_DAY_MONTH), scale=0.01,
            translation_key="energy_day"),
    _sensor("energy_week", "weekKwh", "energy", uiid_in(ENERGY_WEEK_YEAR), scale=0.01,
            translation_key="energy_week"),
    _sensor("energy_month", "monthKwh", "energy", uiid_in(ENERGY_DAY_MONTH), scale=0.01,
            translation_key="energy_month"),
    _sensor("energy_year", "yearKwh", "energy", uiid_in(ENERGY_WEEK_YEAR), scale=0.01,
            translation_key="energy_year"),
    _sensor("energy_today", "hundredDaysKwhData", "energy", uiid_in(HUNDRED_DAYS_KWH),
            translation_key="energy_today",
            value_fn=_parsed("hundredDaysKwhData", hundred_days_kwh), enabled=False),
    _sensor("energy_last_hour", "hoursKwhData", "energy", uiid_in(HOURS_KWH),
            translation_key="energy_last_hour", value_fn=_parsed("hoursKwhData", hours_kwh),
            enabled=False),
    _sensor("supply_current", "supplyCurrent", "current", _SUPPLY, scale=0.01,
            translation_key="supply_current"),
    _sensor("supply_power", "supplyPower", "power", _SUPPLY, scale=0.01,
            translation_key="supply_power"),
    _sensor("supply_energy_day", "dayPowerSupply", "energy", _SUPPLY, scale=0.01,
            translation_key="supply_energy_day"),
    _sensor("supply_energy_month", "monthPowerSupply", "energy", _SUPPLY, scale=0.01,
            translation_key="supply_energy_month"),
    # Per-channel metering (DualR3, SPM-4Relay)
    *(description for channel in range(4) for description in _channel_metering(channel)),
    # Climate: TH10/16 and TH Elite report `current*` over the cloud, plain keys over LAN.
    _sensor("temperature", "currentTemperature", "temperature", uiid_in(TH_WIFI),
            value_fn=_first("currentTemperature", "temperature"), also_reads=("temperature",),
            valid_fn=plausible_climate),
    _sensor("humidity", "currentHumidity", "humidity", uiid_in(TH_WIFI),
            value_fn=_first("currentHumidity", "humidity"), also_reads=("humidity",),
            valid_fn=plausible_climate),
    _sensor("temperature", "temperature", "temperature", uiid_in(TH_ZIGBEE), scale=0.01,
            valid_fn=plausible_climate),
    _sensor("humidity", "humidity", "humidity", uiid_in(TH_ZIGBEE), scale=0.01,
            valid_fn=plausible_climate, precision=1),
    _sensor("temperature", "temperature", "temperature", uiid_in(TH_CENTI_CORRECTED),
            scale=0.01, correction="tempCorrection"),
    _sensor("humidity", "humidity", "humidity", uiid_in(TH_CENTI_CORRECTED), scale=0.01,
            correction="humCorrection", precision=1),
    _sensor("temperature", "temperature", "temperature",
            uiid_in(TH_CORRECTED - AIR_QUALITY), correction="tempCorrection"),
    _sensor("humidity", "humidity", "humidity", uiid_in(TH_CORRECTED - AIR_QUALITY),
            correction="humCorrection"),
    _sensor("temperature", "temperature", "temperature",
            uiid_in(TH_CORRECTED & AIR_QUALITY, reports("temperature")),
            correction="tempCorrection"),
    _sensor("humidity", "humidity", "humidity",
            uiid_in(TH_CORRECTED & AIR_QUALITY, reports("humidity")),
            correction="humCorrection"),
    _sensor("remote_temperature", "remoteTemperature", "temperature", uiid_in({7038}),
            scale=0.01, translation_key="remote_temperature"),
    _sensor("temperature", "temperature", "temperature", uiid_in(NSPANEL),
            correction="tempCorrection"),
    _sensor("outdoor_temperature", "HMI_outdoorTemp", "temperature", uiid_in(NSPANEL),
            translation_key="outdoor_temperature", value_fn=_nested("HMI_outdoorTemp", "current")),
    _sensor("temperature", "currentTemperature", "temperature", uiid_in(NSPANEL_PRO),
            value_fn=_first(*_NSPANEL_PRO_TEMPERATURE), also_reads=("temperature",),
            valid_fn=plausible_climate),
    _sensor("cpu_temperature", "cpuInfo", "temperature", uiid_in(NSPANEL_PRO),
            translation_key="cpu_temperature", value_fn=_nested("cpuInfo", "temperature"),
            category=EntityCategory.DIAGNOSTIC, enabled=False),
    _sensor("temperature", "temperature", "temperature", uiid_in(TRVZB), scale=0.1),
    _sensor("valve_opening", "openPercent", "percent", uiid_in(TRVZB, reports("openPercent")),
            translation_key="valve_opening"),
    # Sonoff SC: temperature and humidity, and three 1..10 levels (CK §UIID18).
    _sensor("temperature", "temperature", "temperature", uiid_in(SONOFF_SC)),
    _sensor("humidity", "humidity", "humidity", uiid_in(SONOFF_SC)),
    _sensor("dust", "dusty", "level", uiid_in(SONOFF_SC), translation_key="dust"),
    _sensor("light_level", "light", "level", uiid_in(SONOFF_SC), translation_key="light_level"),
    _sensor("noise", "noise", "level", uiid_in(SONOFF_SC), translation_key="noise"),
    # Air quality: only the keys the model reports (SAWF-07P: PM, SAWF-08P: CO2).
    _sensor("co2", "co2", "co2", uiid_in(AIR_QUALITY, reports("co2"))),
    _sensor("pm10", "pm10", "pm10", uiid_in(AIR_QUALITY, reports("pm10"))),
    _sensor("pm25", "pm2_5", "pm25", uiid_in(AIR_QUALITY, reports("pm2_5"))),
    _sensor("illuminance", "illumination", "illuminance", uiid_in({7055})),
    _sensor("water_today", "todayWaterUsage", "water", uiid_in({7027}),
            translation_key="water_today", value_fn=_first("todayWaterUsage", "TodayWaterUsage"),
            also_reads=("TodayWaterUsage",)),
    # Battery
    _sensor("battery", "battery", "battery", uiid_in(BATTERY_PERCENT),
            category=EntityCategory.DIAGNOSTIC),
    _sensor("battery", "battery", "battery", uiid_in(BATTERY_IF_REPORTED, reports("battery")),
            category=EntityCategory.DIAGNOSTIC),
    _sensor("battery", "battery", "battery", uiid_in({1514}), scale=2,
            category=EntityCategory.DIAGNOSTIC),
    _sensor("battery_voltage", "battery", "voltage", uiid_in({102}),
            translation_key="battery_voltage", precision=2, category=EntityCategory.DIAGNOSTIC),
    # Signal strength
    _sensor("rssi", "rssi", "signal", uiid_in(WIFI_RSSI), category=EntityCategory.DIAGNOSTIC,
            enabled=False),
    _sensor("rssi", "subDevRssi", "signal", uiid_in(ZIGBEE_RSSI), value_fn=_zigbee_rssi,
            category=EntityCategory.DIAGNOSTIC, enabled=False),
)  # fmt: skip


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EwelinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for every device, now and when new devices appear."""
    entry.async_on_unload(
        async_add_device_entities(
            entry.runtime_data.coordinator, async_add_entities, SENSORS, EwelinkSensor
        )
    )


class EwelinkSensor(EwelinkEntity, SensorEntity):
    """A reading of one param (or a few: value plus correction)."""

    entity_description: EwelinkSensorDescription

    def __init__(
        self, coordinator: EwelinkCoordinator, thing: Thing, description: EwelinkSensorDescription
    ) -> None:
        """Keep the last total of TOTAL_INCREASING sensors to tell glitches from resets."""
        super().__init__(coordinator, thing, description)
        self._total: float | None = None

    @property
    def native_value(self) -> float | None:
        """Return the parsed and scaled value; unparsable or placeholder values are unknown."""
        value = self._reading()
        if value is None or self.entity_description.state_class is not (
            SensorStateClass.TOTAL_INCREASING
        ):
            return value
        if self._total is not None and self._total * RESET_RATIO < value < self._total:
            return self._total  # a small dip: keep the total
        self._total = value
        return value

    def _reading(self) -> float | None:
        description = self.entity_description
        params = self.params
        if description.value_fn is not None:
            value = description.value_fn(params)
        else:
            value = number(params.get(description.param))
        if value is None:
            return None
        if description.scale is not None:
            value *= description.scale
        if description.correction is not None:
            value += number(params.get(description.correction)) or 0.0
        value = round(value, 4)
        if description.valid_fn is not None and not description.valid_fn(value):
            return None
        return value
