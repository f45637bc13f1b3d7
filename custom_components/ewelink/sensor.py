"""Sensors: power metering, energy, temperature, humidity, battery, signal strength."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EwelinkConfigEntry
from .devices import (
    BATTERY_PERCENT,
    CHANNEL_METERING,
    ENERGY_DAY_MONTH,
    HUNDRED_DAYS_KWH,
    POWER_CENTI,
    POWER_STRINGS,
    POWER_STRINGS_VC,
    TH_WIFI,
    TH_ZIGBEE,
    WIFI_RSSI,
    ZIGBEE_RSSI,
    hours_kwh,
    hundred_days_kwh,
    kwh_histories,
    number,
    plausible_climate,
    uiid_in,
)
from .entity import EwelinkEntity, EwelinkEntityDescription, async_add_device_entities

PARALLEL_UPDATES = 0

# subDevRssi 127 means "no value" for zigbee children (§13.1).
NO_ZIGBEE_RSSI = 127


@dataclass(frozen=True, kw_only=True)
class EwelinkSensorDescription(EwelinkEntityDescription, SensorEntityDescription):
    """A sensor reading one param through a parser."""

    value_fn: Callable[[object], float | None] = number
    scale: float | None = None
    valid_fn: Callable[[float], bool] | None = None


def _zigbee_rssi(raw: object) -> float | None:
    value = number(raw)
    return None if value == NO_ZIGBEE_RSSI else value


def _metering(
    key: str,
    param: str,
    kind: str,
    uiids: frozenset[int],
    scale: float | None,
    *,
    translation_key: str | None = None,
    channel: int | None = None,
    value_fn: Callable[[object], float | None] = number,
    enabled: bool = True,
) -> EwelinkSensorDescription:
    unit, device_class = _KINDS[kind]
    return EwelinkSensorDescription(
        key=key,
        translation_key=translation_key,
        param=param,
        channel=channel,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.TOTAL_INCREASING
        if device_class is SensorDeviceClass.ENERGY
        else SensorStateClass.MEASUREMENT,
        scale=scale,
        value_fn=value_fn,
        entity_registry_enabled_default=enabled,
        exists_fn=uiid_in(uiids),
    )


_KINDS: dict[str, tuple[str, SensorDeviceClass]] = {
    "power": (UnitOfPower.WATT, SensorDeviceClass.POWER),
    "voltage": (UnitOfElectricPotential.VOLT, SensorDeviceClass.VOLTAGE),
    "current": (UnitOfElectricCurrent.AMPERE, SensorDeviceClass.CURRENT),
    "energy": (UnitOfEnergy.KILO_WATT_HOUR, SensorDeviceClass.ENERGY),
}
_POWER_190 = frozenset({190})
_ENERGY_276 = frozenset({276})


def _channel_metering(channel: int) -> tuple[EwelinkSensorDescription, ...]:
    uiids = frozenset(uiid for uiid, count in CHANNEL_METERING.items() if channel < count)
    suffix = f"0{channel}"
    return (
        _metering(f"current_{channel + 1}", f"current_{suffix}", "current", uiids, 0.01,
                  translation_key="channel_current", channel=channel),
        _metering(f"voltage_{channel + 1}", f"voltage_{suffix}", "voltage", uiids, 0.01,
                  translation_key="channel_voltage", channel=channel),
        _metering(f"power_{channel + 1}", f"actPow_{suffix}", "power", uiids, 0.01,
                  translation_key="channel_power", channel=channel),
        _metering(f"energy_today_{channel + 1}", f"kwhHistories_{suffix}", "energy", uiids, None,
                  translation_key="channel_energy_today", channel=channel, value_fn=kwh_histories,
                  enabled=False),
    )  # fmt: skip


SENSORS: tuple[EwelinkSensorDescription, ...] = (
    # Single-channel metering
    _metering("power", "power", "power", POWER_STRINGS, None),
    _metering("voltage", "voltage", "voltage", POWER_STRINGS_VC, None),
    _metering("current", "current", "current", POWER_STRINGS_VC, None),
    _metering("power", "power", "power", POWER_CENTI, 0.01),
    _metering("voltage", "voltage", "voltage", POWER_CENTI, 0.01),
    _metering("current", "current", "current", POWER_CENTI, 0.01),
    _metering(
        "energy_day", "dayKwh", "energy", ENERGY_DAY_MONTH, 0.01, translation_key="energy_day"
    ),
    _metering("energy_week", "weekKwh", "energy", _ENERGY_276, 0.01, translation_key="energy_week"),
    _metering(
        "energy_month", "monthKwh", "energy", ENERGY_DAY_MONTH, 0.01, translation_key="energy_month"
    ),
    _metering("energy_year", "yearKwh", "energy", _ENERGY_276, 0.01, translation_key="energy_year"),
    _metering(
        "energy_today",
        "hundredDaysKwhData",
        "energy",
        HUNDRED_DAYS_KWH,
        None,
        translation_key="energy_today",
        value_fn=hundred_days_kwh,
        enabled=False,
    ),
    _metering(
        "energy_last_hour",
        "hoursKwhData",
        "energy",
        _POWER_190,
        None,
        translation_key="energy_last_hour",
        value_fn=hours_kwh,
        enabled=False,
    ),
    _metering(
        "supply_current",
        "supplyCurrent",
        "current",
        _POWER_190,
        0.01,
        translation_key="supply_current",
    ),
    _metering(
        "supply_power", "supplyPower", "power", _POWER_190, 0.01, translation_key="supply_power"
    ),
    _metering(
        "supply_energy_day",
        "dayPowerSupply",
        "energy",
        _POWER_190,
        0.01,
        translation_key="supply_energy_day",
    ),
    _metering(
        "supply_energy_month",
        "monthPowerSupply",
        "energy",
        _POWER_190,
        0.01,
        translation_key="supply_energy_month",
    ),
    # Per-channel metering (DualR3, SPM-4Relay)
    *(description for channel in range(4) for description in _channel_metering(channel)),
    # Climate
    EwelinkSensorDescription(
        key="temperature",
        param="currentTemperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        valid_fn=plausible_climate,
        exists_fn=uiid_in(TH_WIFI),
    ),
    EwelinkSensorDescription(
        key="humidity",
        param="currentHumidity",
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        valid_fn=plausible_climate,
        exists_fn=uiid_in(TH_WIFI),
    ),
    EwelinkSensorDescription(
        key="temperature",
        param="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        scale=0.01,
        valid_fn=plausible_climate,
        exists_fn=uiid_in(TH_ZIGBEE),
    ),
    EwelinkSensorDescription(
        key="humidity",
        param="humidity",
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        scale=0.01,
        valid_fn=plausible_climate,
        exists_fn=uiid_in(TH_ZIGBEE),
    ),
    # Battery
    EwelinkSensorDescription(
        key="battery",
        param="battery",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=uiid_in(BATTERY_PERCENT),
    ),
    EwelinkSensorDescription(
        key="battery_voltage",
        translation_key="battery_voltage",
        param="battery",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=uiid_in(frozenset({102})),
    ),
    # Signal strength
    EwelinkSensorDescription(
        key="rssi",
        param="rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=uiid_in(WIFI_RSSI),
    ),
    EwelinkSensorDescription(
        key="rssi",
        param="subDevRssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_zigbee_rssi,
        exists_fn=uiid_in(ZIGBEE_RSSI),
    ),
)


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
    """A reading of one param."""

    entity_description: EwelinkSensorDescription

    @property
    def native_value(self) -> float | None:
        """Return the parsed and scaled value; unparsable or placeholder values are unknown."""
        description = self.entity_description
        value = description.value_fn(self.params.get(description.param))
        if value is None:
            return None
        if description.scale is not None:
            value = round(value * description.scale, 4)
        if description.valid_fn is not None and not description.valid_fn(value):
            return None
        return value
