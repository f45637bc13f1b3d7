"""Virtual devices: params per UIID, commands per family, reports, drift, device-side faults."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from simulator import Simulator, VirtualDevice
from simulator.uiids import SPECS, spec_for

from .conftest import World, fast_config
from .helpers import app_session, is_push, next_frame

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ENTITIES = json.loads((FIXTURES / "uiid_entities.json").read_text())["uiids"]
ON_DEMAND = {"hundredDaysKwhData", "hoursKwhData", "kwhHistories_00", "kwhHistories_01",
             "kwhHistories_02", "kwhHistories_03", "key",
             # write-only: buttons and the NSPanel Pro's screen
             "openLED", "reboot", "restart", "forceShutdown", "soundAction"}  # fmt: skip


async def command(sim: Simulator, deviceid: str, params: Any) -> dict[str, Any]:
    """Send an app command through the cloud and return the device's ack."""
    return await sim.hub.command(sim.store.devices[deviceid], "update", params)


def cloud(sim: Simulator, deviceid: str) -> dict[str, Any]:
    """Return what the cloud stores for a device."""
    return sim.store.devices[deviceid].params


@pytest.mark.parametrize("uiid", sorted(int(u) for u in ENTITIES))
def test_every_uiid_has_realistic_defaults(uiid: int) -> None:
    """Every UIID of uiid_entities.json is known and its defaults carry every entity's param."""
    assert uiid in SPECS
    device_params = _defaults(uiid)
    wanted = {e["param"] for e in ENTITIES[str(uiid)]["entities"]} - ON_DEMAND
    if uiid == 1000:
        wanted.add("key")
    assert wanted <= set(device_params), wanted - set(device_params)


def _defaults(uiid: int) -> dict[str, Any]:
    import random

    from simulator.uiids import default_params

    return default_params(spec_for(uiid), mac="d0:27:00:00:00:01", rng=random.Random(1))


def test_param_shapes() -> None:
    """POW strings, POWR3 ints x0.01, DualR3 _00/_01 ints, TH strings, zigbee TH x0.01 strings."""
    pow_ = _defaults(5)
    assert isinstance(pow_["power"], str)
    assert isinstance(pow_["voltage"], str)
    powr3 = _defaults(190)
    assert isinstance(powr3["voltage"], int)
    assert len(powr3["switches"]) == 4
    dual = _defaults(126)
    assert {"actPow_00", "actPow_01", "current_01", "voltage_00"} <= set(dual)
    assert isinstance(_defaults(15)["currentTemperature"], str)
    assert _defaults(1770)["temperature"] == "2150"
    assert _defaults(1)["staMac"] == "D0:27:00:00:00:01"
    assert "rssi" not in _defaults(1770)


async def test_every_uiid_runs(world: World) -> None:
    """One virtual device per UIID connects, registers and reports its full state."""
    sim, owner = world.sim, world.owner
    zb_bridge = await sim.add_device(owner, "1000000d00", 66, "Zigbee bridge")
    spm = await sim.add_device(owner, "1000000d01", 128, "SPM main")
    made: list[VirtualDevice] = []
    for n, uiid in enumerate(sorted(int(u) for u in ENTITIES)):
        parent = zb_bridge if spec_for(uiid).zigbee else spm if uiid == 130 else None
        made.append(await sim.add_device(owner, f"1000000e{n:02x}", uiid, parent=parent))
    for device in made:
        assert device.online, device
        stored = cloud(sim, device.deviceid)
        wanted = {e["param"] for e in ENTITIES[str(device.uiid)]["entities"]} - ON_DEMAND
        assert wanted <= set(stored) | {"key"}, (device.uiid, wanted - set(stored))
    truth = sim.device_truth()
    assert all(truth[d.deviceid]["online"] for d in made)


async def test_single_channel_commands_and_inching(world: World) -> None:
    """switch/startup/pulse apply; inching turns the relay off after pulseWidth; rules are enforced."""
    sim = world.sim
    dev = await sim.add_device(world.owner, "1000000f01", 1)
    assert (await command(sim, dev.deviceid, {"startup": "stay"}))["error"] == 0
    assert dev.params["startup"] == "stay"
    assert (await command(sim, dev.deviceid, {"pulseWidth": 1000}))["error"] == 400
    assert (await command(sim, dev.deviceid, {"pulse": "on", "pulseWidth": 750}))["error"] == 400
    assert (await command(sim, dev.deviceid, {"pulse": "on", "pulseWidth": 500}))["error"] == 0
    assert (await command(sim, dev.deviceid, {"switch": "on"}))["error"] == 0
    await sim.wait_for(lambda: cloud(sim, dev.deviceid)["switch"] == "on", 2)
    await sim.wait_for(lambda: cloud(sim, dev.deviceid)["switch"] == "off", 2)  # inching
    assert (await command(sim, dev.deviceid, {}))["error"] == 529
    assert (await command(sim, dev.deviceid, [{"switch": "on"}, {"sledOnline": "off"}]))[
        "error"
    ] == 0
    await sim.wait_for(lambda: cloud(sim, dev.deviceid)["sledOnline"] == "off", 2)
    assert dev.params["switch"] == "on"


async def test_multi_channel_merge_and_partial_pushes(world: World) -> None:
    """`switches` merge by outlet; with partial_switches pushes carry only the changed channels."""
    sim = world.sim
    dev = await sim.add_device(world.owner, "1000000f02", 4)
    ws, _ = await app_session(world.api.http, sim, world.api, "owner@example.com", "owner-pw")
    assert (await command(sim, dev.deviceid, {"switches": [{"outlet": 2, "switch": "on"}]}))[
        "error"
    ] == 0
    push = await next_frame(ws, is_push("update", dev.deviceid))
    assert [c["switch"] for c in push["params"]["switches"]] == ["off", "off", "on", "off"]
    sim.faults.partial_switches = True
    assert (await command(sim, dev.deviceid, {"switches": [{"outlet": 3, "switch": "on"}]}))[
        "error"
    ] == 0
    push = await next_frame(ws, is_push("update", dev.deviceid))
    assert push["params"] == {"switches": [{"outlet": 3, "switch": "on"}]}
    assert [c["switch"] for c in cloud(sim, dev.deviceid)["switches"]] == ["off", "off", "on", "on"]
    assert (await command(sim, dev.deviceid, {"switches": [{"outlet": 4, "switch": "on"}]}))[
        "error"
    ] == 400
    assert (await command(sim, dev.deviceid, {"switches": [{"outlet": "0", "switch": "on"}]}))[
        "error"
    ] == 400
    configure = [{"outlet": i, "startup": "stay"} for i in range(4)]
    assert (await command(sim, dev.deviceid, {"configure": configure}))["error"] == 0
    assert dev.params["configure"] == configure
    await ws.close()


async def test_power_devices(world: World) -> None:
    """POW/POWR2 report power inside a uiActive window; POWR3/DualR3 report ints x0.01 at once."""
    sim = world.sim
    pow_ = await sim.add_device(world.owner, "1000000f03", 5, params={"switch": "on"})
    powr3 = await sim.add_device(world.owner, "1000000f04", 190)
    dual = await sim.add_device(world.owner, "1000000f05", 126)
    assert cloud(sim, pow_.deviceid)["power"] == "0.00"
    assert (await command(sim, pow_.deviceid, {"uiActive": 60}))["error"] == 0
    await sim.wait_for(lambda: float(cloud(sim, pow_.deviceid)["power"]) > 0, 2)
    assert isinstance(cloud(sim, pow_.deviceid)["voltage"], str)
    ack = await command(sim, pow_.deviceid, {"hundredDaysKwh": "get"})
    assert ack["error"] == 0
    assert len(ack["config"]["hundredDaysKwhData"]) == 600
    assert (await command(sim, powr3.deviceid, {"switches": [{"outlet": 0, "switch": "on"}]}))[
        "error"
    ] == 0
    await sim.wait_for(lambda: cloud(sim, powr3.deviceid)["power"] > 0, 2)
    assert isinstance(cloud(sim, powr3.deviceid)["power"], int)
    assert (await command(sim, powr3.deviceid, {"getHoursKwh": {"start": 0, "end": 23}}))[
        "error"
    ] == 0
    await sim.wait_for(lambda: len(cloud(sim, powr3.deviceid).get("hoursKwhData", "")) == 72, 2)
    assert (await command(sim, dual.deviceid, {"switches": [{"outlet": 1, "switch": "on"}]}))[
        "error"
    ] == 0
    await sim.wait_for(lambda: cloud(sim, dual.deviceid)["actPow_01"] > 0, 2)
    assert cloud(sim, dual.deviceid)["actPow_00"] == 0
    assert (await command(sim, dual.deviceid, {"getKwh_01": 2}))["error"] == 0
    await sim.wait_for(lambda: "kwhHistories_01" in cloud(sim, dual.deviceid), 2)


async def test_th_and_lights(world: World) -> None:
    """TH on/off commands, D1 brightness rules, the bulb ignoring brightness while off, covers."""
    sim = world.sim
    th = await sim.add_device(world.owner, "1000000f06", 15)
    d1 = await sim.add_device(world.owner, "1000000f07", 44)
    bulb = await sim.add_device(world.owner, "1000000f08", 57)
    cover = await sim.add_device(world.owner, "1000000f09", 91)
    thr = await sim.add_device(world.owner, "1000000f0a", 181)
    on = {"switch": "on", "mainSwitch": "on", "deviceType": "normal"}
    assert (await command(sim, th.deviceid, on))["error"] == 0
    assert th.params["mainSwitch"] == "on"
    assert (await command(sim, th.deviceid, {"deviceType": "cold"}))["error"] == 400
    assert (await command(sim, thr.deviceid, {"autoControlEnabled": 1}))["error"] == 0
    assert (await command(sim, d1.deviceid, {"brightness": 50}))["error"] == 400
    assert (await command(sim, d1.deviceid, {"switch": "on", "brightness": 101, "mode": 0}))[
        "error"
    ] == 400
    assert (await command(sim, d1.deviceid, {"switch": "on", "brightness": 60, "mode": 0}))[
        "error"
    ] == 0
    assert d1.params["brightness"] == 60
    assert (await command(sim, bulb.deviceid, {"channel0": "200"}))["error"] == 0
    assert bulb.params["channel0"] == "128"  # ignored while off
    assert (await command(sim, bulb.deviceid, {"state": "on", "channel0": "200"}))["error"] == 0
    assert bulb.params["channel0"] == "200"
    assert (await command(sim, cover.deviceid, {"op": 1}))["error"] == 0
    await sim.wait_for(lambda: cloud(sim, cover.deviceid)["per"] == 100, 3)


async def test_report_offline_online_and_truth(world: World) -> None:
    """report() pushes like the device would; offline/online are seen by the cloud; truth reads both."""
    sim = world.sim
    dev = await sim.add_device(world.owner, "1000000f0b", 1)
    await dev.report({"switch": "on", "rssi": -80})
    assert cloud(sim, dev.deviceid)["rssi"] == -80
    await dev.go_offline()
    assert sim.device_truth()[dev.deviceid] == {"online": False, "params": dev.params}
    await dev.report({"switch": "off"})  # changes locally while offline
    assert cloud(sim, dev.deviceid)["switch"] == "on"
    await dev.go_online()
    assert cloud(sim, dev.deviceid)["switch"] == "off"  # full state on reconnect
    sim.faults.params_as_strings = True
    await dev.report({"rssi": -50})
    assert cloud(sim, dev.deviceid)["rssi"] == "-50"
    assert dev.params["rssi"] == -50
    await sim.remove_device(dev.deviceid)
    assert dev.deviceid not in sim.device_truth()


async def test_upgrade_and_replayed_events(world: World) -> None:
    """upgrade acks and reports the new version; replay_events re-sends the last button press."""
    sim = world.sim
    bridge = await sim.add_device(world.owner, "1000000f0c", 66)
    button = await sim.add_device(world.owner, "1000000f0d", 1000, parent=bridge)
    ack = await sim.hub.command(
        sim.store.devices[bridge.deviceid],
        "upgrade",
        {"model": "ZBBridge", "version": "2.0.0", "binList": []},
    )
    assert ack["error"] == 0
    await sim.wait_for(lambda: cloud(sim, bridge.deviceid).get("fwVersion") == "2.0.0", 2)
    ws, _ = await app_session(world.api.http, sim, world.api, "owner@example.com", "owner-pw")
    await button.report({"key": 1, "trigTime": "1700000000000"})
    await next_frame(ws, is_push("update", button.deviceid))
    sim.faults.replay_events = True
    await bridge.go_offline()
    await bridge.go_online()
    replay = await next_frame(
        ws,
        lambda f: (
            is_push("update", button.deviceid)(f)
            and "key" in f["params"]
            and "battery" not in f["params"]
        ),
    )
    assert replay["params"] == {"key": 1, "trigTime": "1700000000000"}
    await ws.close()


async def test_drift() -> None:
    """With drift on, metering and TH devices move by themselves (off by default)."""
    async with Simulator(fast_config(drift=True, drift_interval=0.1)) as sim:
        owner = sim.add_account("d@example.com", password="pw")
        powr3 = await sim.add_device(
            owner, "1000000f10", 190, params={"switches": [{"outlet": 0, "switch": "on"}]}
        )
        th = await sim.add_device(owner, "1000000f11", 15)
        bridge = await sim.add_device(owner, "1000000f12", 66)
        zb = await sim.add_device(owner, "1000000f13", 1770, parent=bridge)
        plain = await sim.add_device(owner, "1000000f14", 1)
        start_temp = cloud(sim, th.deviceid)["currentTemperature"]
        await sim.wait_for(lambda: cloud(sim, powr3.deviceid)["power"] > 0, 3)
        await sim.wait_for(lambda: cloud(sim, th.deviceid)["currentTemperature"] != start_temp, 3)
        await sim.wait_for(lambda: cloud(sim, zb.deviceid)["temperature"] != "2150", 3)
        assert plain.drift_enabled is False
        sim.faults.th_glitch = True
        glitches = {"0", "-273", "unavailable"}
        await sim.wait_for(lambda: cloud(sim, th.deviceid)["currentTemperature"] in glitches, 5)
    async with Simulator(fast_config()) as quiet:
        owner = quiet.add_account("q@example.com", password="pw")
        dev = await quiet.add_device(
            owner, "1000000f20", 190, params={"switches": [{"outlet": 0, "switch": "on"}]}
        )
        assert dev.drift_enabled is False
        await asyncio.sleep(0.2)
        assert cloud(quiet, dev.deviceid)["power"] == 0
