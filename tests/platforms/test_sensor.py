"""Sensors over the simulator: POWCT supply, energy dips and resets, the new readings."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add


async def test_metering(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Supply sensors appear once the device reports them; totals ignore small dips."""
    meter = await add(cloud, "1000010001", 190, "Meter")
    breaker = await add(cloud, "1000010002", 226, "Breaker")
    await setup_entry(hass, config_entry)
    assert state_of(hass, "sensor.meter_supply_power") is None  # a POWR316 has no supply

    await meter.report({"dayKwh": 150})
    await wait_for(lambda: state_of(hass, "sensor.meter_energy_today") == "1.5")
    await meter.report({"dayKwh": 148})  # a glitch of the meter: the total does not fall
    await meter.report({"voltage": 23100})
    await wait_for(lambda: state_of(hass, "sensor.meter_voltage") == "231.0")
    assert state_of(hass, "sensor.meter_energy_today") == "1.5"
    await meter.report({"dayKwh": 151})
    await wait_for(lambda: state_of(hass, "sensor.meter_energy_today") == "1.51")
    await meter.report({"dayKwh": 2})  # midnight: a reset
    await wait_for(lambda: state_of(hass, "sensor.meter_energy_today") == "0.02")

    # A POWCT: the supply params show up in a push, and the sensors with them.
    await meter.report({"supplyPower": 12345, "supplyCurrent": 54, "dayPowerSupply": 3,
                        "monthPowerSupply": 40})  # fmt: skip
    await wait_for(lambda: state_of(hass, "sensor.meter_supply_power") == "123.45")
    assert state_of(hass, "sensor.meter_energy_supplied_this_month") == "0.4"
    entry = entity_registry.async_get("sensor.meter_supply_current")
    assert entry is not None
    assert entry.options["sensor"]["suggested_display_precision"] == 2

    await breaker.report({"phase_0_p": 1200.5, "phase_0_v": 230.2, "phase_0_c": 5.21,
                          "totalPower": 12.5})  # fmt: skip
    await wait_for(lambda: state_of(hass, "sensor.breaker_power") == "1200.5")
    assert state_of(hass, "sensor.breaker_energy") == "12.5"
    assert state_of(hass, "sensor.breaker_current") == "5.21"


async def test_climate_and_air_sensors(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Corrections, x0.01 scales, key variants, placeholders, air quality, levels."""
    bridge = await add(cloud, "1000010011", 66, "Bridge")
    th242 = await add(cloud, "a480010012", 242, "Cellar", parent=bridge)
    dr2 = await add(cloud, "a480010013", 7038, "Probe", parent=bridge)
    air = await add(cloud, "1000010014", 266, "Air")
    th16 = await add(cloud, "1000010015", 15, "Terrarium")
    pro = await add(cloud, "1000010016", 195, "Panel")
    sc = await add(cloud, "1000010017", 18, "Hub")
    valve = await add(cloud, "a480010018", 7027, "Valve", parent=bridge)
    curtain = await add(cloud, "a480010019", 1514, "Curtain", parent=bridge)
    presence = await add(cloud, "a48001001a", 7055, "Hall", parent=bridge)
    await setup_entry(hass, config_entry)

    await th242.report({"temperature": 2150, "tempCorrection": -0.5, "humidity": 5025})
    await wait_for(lambda: state_of(hass, "sensor.cellar_temperature") == "21.0")
    assert state_of(hass, "sensor.cellar_humidity") == "50.25"
    await dr2.report({"remoteTemperature": 4512})
    await wait_for(lambda: state_of(hass, "sensor.probe_remote_temperature") == "45.12")
    await air.report({"temperature": "21.0", "tempCorrection": "0.5", "co2": 815})
    await wait_for(lambda: state_of(hass, "sensor.air_carbon_dioxide") == "815.0")
    assert state_of(hass, "sensor.air_temperature") == "21.5"
    assert state_of(hass, "sensor.air_pm2_5") is None  # this model reports no PM
    # TH16 over LAN reports `temperature`, over the cloud `currentTemperature` (issue #10).
    await th16.report({"currentTemperature": "unavailable", "temperature": "24.5"})
    await wait_for(lambda: state_of(hass, "sensor.terrarium_temperature") == "24.5")
    await pro.report({"currentTemperature": 0})
    await wait_for(lambda: state_of(hass, "sensor.panel_temperature") == "unknown")
    await pro.report({"currentTemperature": 22})
    await wait_for(lambda: state_of(hass, "sensor.panel_temperature") == "22.0")
    await sc.report({"dusty": 7, "noise": 2})
    await wait_for(lambda: state_of(hass, "sensor.hub_dust_level") == "7.0")
    await valve.report({"TodayWaterUsage": 35})
    await wait_for(lambda: state_of(hass, "sensor.valve_water_used_today") == "0.0")
    await valve.report({"todayWaterUsage": None})
    await wait_for(lambda: state_of(hass, "sensor.valve_water_used_today") == "35.0")
    await curtain.report({"battery": 45})
    await wait_for(lambda: state_of(hass, "sensor.curtain_battery") == "90.0")
    await presence.report({"illumination": 230, "human": 1})
    await wait_for(lambda: state_of(hass, "sensor.hall_illuminance") == "230.0")
    assert state_of(hass, "binary_sensor.hall") == "on"
