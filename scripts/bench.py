"""Benchmark the integration against the simulator in Home Assistant (not a test; prints a table).

Each account size (default 1, 100 and 1000 devices) runs in a fresh process, with CoolKit's rate
limits on in the simulator and in the client. Per size:

  cold setup    `async_setup` with no cache: until every entity exists and the long connection
                is up; REST calls made until then.
  warm setup    Home Assistant restarted (the entry unloaded and set up again) after every
                device changed while it was down: until every enabled entity has a state (from
                the cache when there is one), then until every tracked entity shows the
                device's real state ("live"), also measured from the cloud's last thing-list
                answer; REST calls made until live.
  recovery      every app socket dropped (reconnects refused until every device changed while
                disconnected): from the socket being back until every tracked entity shows the
                change; REST calls made meanwhile.
  push CPU      per device type, process CPU per pushed update from the frame text to the
                entity states written, plus the cost of receiving the frame on a websocket;
                against the floor: the same websocket receive, `json.loads` of the frame and one
                `hass.states.async_set` (same state and attributes) per entity state the push
                changes. Both measured in the same process and run.
  memory        RSS growth of the process from before the cold setup to after it, per device,
                minus the same for bare Home Assistant entities (same number per domain, same
                devices, no integration): what the integration costs beyond HA's own entities.

"Tracked entities" are every device's main relay switch (channel 1 on multi-channel devices) and
the door sensors: what a device changes in the recovery and restart runs. These runs use cloud-only
entries (what they measure is the cloud's path).

Then one LAN run (default 100 devices, the same mix; LAN-capable ones serve the LAN API and
announce in-process, fed to the integration's discovery seam; the default "auto" mode):

  round trip    one command to a plug, per path (LAN, long connection, REST), median.
  cloud away    the cloud stops: every device is switched at once (LAN-capable ones over the
                LAN, without waiting for the cloud), how long that takes, how many succeed; then,
                after the connection grace, how many devices are still available.
The simulator runs in the same process and loop; its CPU is included in the wall-clock figures,
not in the push CPU. Usage: scripts/bench [--sizes 1,100,1000] [--updates N] [--profile]
[--lan-devices N (0: no LAN run)]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable
import copy
import cProfile
from datetime import timedelta
import importlib
import io
import json
import logging
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
from homeassistant import loader
from homeassistant.components.zeroconf.const import DATA_INSTANCE as ZEROCONF_INSTANCE
from homeassistant.components.zeroconf.models import HaAsyncZeroconf, HaZeroconf
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, frame
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_component import DATA_INSTANCES
from homeassistant.helpers.entity_platform import EntityPlatform
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

import custom_components.ewelink  # noqa: F401  the repository's package wins over any other
from custom_components.ewelink import PLATFORMS
from custom_components.ewelink.api import rate_limiter
from custom_components.ewelink.const import CONF_LAN_MODE, DOMAIN, LAN_MODE_CLOUD
from custom_components.ewelink.coolkit import CoolkitClient, Servers, Thing
from custom_components.ewelink.coordinator import CONNECTION_GRACE
from custom_components.ewelink.lan_hub import async_get_hub
from simulator import Simulator, SimulatorConfig, VirtualDevice
from simulator.uiids import apply_command

APP_ID, APP_SECRET = "benchapp000000000000000000000001", "bench-secret"
EMAIL, PASSWORD = "bench@example.com", "bench-password"
# A realistic mix: plugs, multi-channel, metering, TH, DualR3 and a battery door sensor.
PROFILED_UIID = int(os.environ.get("BENCH_PROFILE_UIID", "126"))
MIX = (1, 2, 4, 32, 190, 15, 77, 126, 154)
DOOR = 154
LOGGER = logging.getLogger("bench")


def rss() -> int:
    """Return the resident set size of this process in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def wait_until(predicate: Callable[[], bool], limit: float) -> float:
    """Poll `predicate` every 5 ms (a benchmark measures; it has no event to wait on)."""
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return time.monotonic()


async def entry_for(
    hass: HomeAssistant, sim: Simulator, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """Sign in on the simulator and add the config entry."""
    client = CoolkitClient(
        async_get_clientsession(hass),
        APP_ID,
        APP_SECRET,
        servers=Servers(sim.base_url),
        rate_limiter=rate_limiter(hass),
    )
    login = await client.login(EMAIL, PASSWORD, "+49")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=login.user.apikey,
        data={
            "auth_type": "password",
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "account": EMAIL,
            "country_code": "+49",
            "server": sim.base_url,
            "region": login.region,
            "user_apikey": login.user.apikey,
            "token": login.tokens.as_dict(),
        },
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def setup_http(hass: HomeAssistant) -> None:
    """Serve Home Assistant's HTTP API on a free loopback port (8123 may be taken)."""
    config = {"http": {"server_host": ["127.0.0.1"], "server_port": free_port()}}
    if not await async_setup_component(hass, "http", config):
        raise RuntimeError("http setup failed")


async def load_platforms(hass: HomeAssistant) -> None:
    """Load the entity components and our platform modules before measuring memory."""
    for platform in PLATFORMS:
        await async_setup_component(hass, platform.value, {})
    for module in (*(platform.value for platform in PLATFORMS), "diagnostics"):
        importlib.import_module(f"custom_components.ewelink.{module}")


# -- what a device changes, and how to check it ---------------------------------------------


def relay_change(device: VirtualDevice, on: bool) -> dict[str, Any]:
    """Return the params a device reports when its first relay (or its door) changes."""
    value = "on" if on else "off"
    if "switches" in device.params:
        return {"switches": [{"outlet": 0, "switch": value}]}
    return {"switch": value}


def truth(device: VirtualDevice) -> str:
    """Return what the tracked entity of a device must show."""
    params = device.params
    if "switches" in params:
        return next(i["switch"] for i in params["switches"] if i.get("outlet") == 0)
    return str(params["switch"])


def tracked_entities(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Return {entity_id: deviceid} of every device's main relay or door entity."""
    keys = ("_switch", "_channel_1", "_door")
    return {
        e.entity_id: e.unique_id.split("_")[0]
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
        if e.unique_id.endswith(keys)
    }


def enabled_entities(hass: HomeAssistant, entry_id: str) -> list[str]:
    """Return the entity ids of the entry's enabled entities."""
    return [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
        if e.disabled_by is None
    ]


def has_state(hass: HomeAssistant, entity_id: str) -> bool:
    """Return True when the entity has a state of its own (not the unavailable placeholder)."""
    state = hass.states.get(entity_id)
    return state is not None and state.state != STATE_UNAVAILABLE


def all_fresh(hass: HomeAssistant, sim: Simulator, tracked: dict[str, str]) -> bool:
    """Return True when every tracked entity shows its device's real state."""
    for entity_id, deviceid in tracked.items():
        state = hass.states.get(entity_id)
        if state is None or state.state != truth(sim.devices[deviceid]):
            return False
    return True


def rest_calls(sim: Simulator, since: float, until: float | None = None) -> int:
    """Return how many REST calls (dispatch included) the simulator served in a time window."""
    return sum(1 for r in sim.requests if r.time >= since and (until is None or r.time <= until))


async def change_all(devices: Iterable[VirtualDevice], on: bool) -> None:
    """Let every device change its relay (or door) as the device itself would."""
    await asyncio.gather(*(d.report(relay_change(d, on)) for d in devices))


# -- CPU per pushed update -------------------------------------------------------------------


def cpu_us(function: Callable[[int], None], count: int) -> float:
    """Return the process CPU time per call, in microseconds."""
    started = time.process_time()
    for n in range(count):
        function(n)
    return (time.process_time() - started) / count * 1e6


# A websocket server in its own process (its CPU is not ours): it sends every frame on its own,
# as pushes arrive in practice (one TCP segment, one wake-up of the reader each).
_FRAME_SERVER = r"""
import base64, hashlib, json, socket, sys, time
frames = [f.encode() for f in json.loads(sys.stdin.read())]
count = int(sys.argv[1])
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
request = b""
while b"\r\n\r\n" not in request:
    request += conn.recv(4096)
key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
           if line.lower().startswith(b"sec-websocket-key:"))
accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
conn.recv(16)
for n in range(count):
    data = frames[n % len(frames)]
    size = len(data)
    head = bytes((0x81, size)) if size < 126 else bytes((0x81, 126)) + size.to_bytes(2, "big")
    conn.sendall(head + data)
    time.sleep(0.0002)
conn.recv(16)
"""


async def websocket_receive_us(frames: list[str], count: int) -> float:
    """Return the CPU per frame of receiving text frames on an aiohttp websocket client.

    This is the "raw websocket" part of the floor, the same for us and for the floor: the long
    connection reads its frames exactly so (`async for msg in ws`). The sender is another
    process, so only the receiving side's CPU is measured.
    """
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _FRAME_SERVER,
        str(count),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    if server.stdin is None or server.stdout is None:  # pragma: no cover - pipes were asked for
        raise RuntimeError("no pipes")
    server.stdin.write(json.dumps(frames).encode())
    server.stdin.close()
    port = int((await server.stdout.readline()).decode())
    async with aiohttp.ClientSession() as http, http.ws_connect(f"http://127.0.0.1:{port}/") as ws:
        await ws.send_bytes(b"\x00")
        started = time.process_time()
        for _ in range(count):
            if (await ws.receive()).type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError("the frame server stopped")
        elapsed = time.process_time() - started
        await ws.send_bytes(b"\x00")
    await server.wait()
    return elapsed / count * 1e6


def push_frames(device: VirtualDevice, owner_apikey: str) -> list[str]:
    """Return two update frames (on, off) as the device reports one change of its relay/door."""
    frames = []
    state = copy.deepcopy(device.params)
    for on in (True, False):
        change = relay_change(device, on)
        if device.uiid == DOOR:
            report = change
        else:
            result = apply_command(
                device.spec, state, change, rng=random.Random(on), partial=False, load=device.load
            )
            report = result.report
        push: dict[str, Any] = {
            "action": "update",
            "deviceid": device.deviceid,
            "apikey": owner_apikey,
            "userAgent": "device",
        }
        if device.uiid >= 100:
            push["d_seq"] = 1000 + len(frames)
        push.update(ts=0, params=report, **{"from": "device"})
        frames.append(json.dumps(push, separators=(",", ":")))
    return frames


@callback
def _every_event(data: Any) -> bool:
    """Let every event through (state_reported listeners need a filter)."""
    return True


async def push_cpu(
    hass: HomeAssistant,
    handle: Callable[[str], None],
    thing: Thing,
    frames: list[str],
    updates: int,
) -> dict[str, float]:
    """Measure CPU per push against the floor for one device's two alternating frames.

    Also against HA's own entity writes: `json.loads` and `async_write_ha_state` of the same
    entities, with the device's params already in their new state (what any integration built
    on HA entities pays; the difference to ours is the client's and the coordinator's work).
    """
    changed: list[tuple[str, str, dict[str, Any]]] = []
    written: list[str] = []

    @callback
    def on_changed(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])
        new = event.data["new_state"]
        changed.append((event.data["entity_id"], new.state, dict(new.attributes)))

    @callback
    def on_reported(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])

    for text in frames * 2:  # settle: the states now alternate with every push
        handle(text)
    await hass.async_block_till_done()
    unsubs = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, on_changed),
        hass.bus.async_listen(EVENT_STATE_REPORTED, on_reported, event_filter=_every_event),
    ]
    for text in frames:
        handle(text)
    await hass.async_block_till_done()
    for unsub in unsubs:
        unsub()
    per_push_changed = len(changed) / len(frames)
    per_push_written = len(written) / len(frames)
    # The floor sets the same states, with the same attributes, on entities of its own.
    sets_per_frame: list[list[tuple[str, str, dict[str, Any]]]] = [[], []]
    for n, item in enumerate(changed):
        half = 0 if n < len(changed) / 2 else 1
        sets_per_frame[half].append((f"{item[0]}_floor", item[1], item[2]))
    ours = cpu_us(lambda n: handle(frames[n % 2]), updates)
    await hass.async_block_till_done()

    def floor_push(n: int) -> None:
        json.loads(frames[n % 2])
        for entity_id, state, attributes in sets_per_frame[n % 2]:
            hass.states.async_set(entity_id, state, attributes)

    floor = cpu_us(floor_push, updates)
    await hass.async_block_till_done()

    states: list[dict[str, Any]] = []
    for text in frames:
        handle(text)
        states.append(copy.deepcopy(thing.params))
    entities = [
        hass.data[DATA_INSTANCES][entity_id.split(".")[0]].get_entity(entity_id)
        for entity_id in dict.fromkeys(item[0] for item in changed)
    ]

    def entity_floor_push(n: int) -> None:
        json.loads(frames[n % 2])
        thing.params = states[n % 2]
        for entity in entities:
            entity.async_write_ha_state()

    entity_floor = cpu_us(entity_floor_push, updates)
    thing.params = copy.deepcopy(states[1])
    await hass.async_block_till_done()
    return {
        "ours": ours,
        "floor": floor,
        "entity_floor": entity_floor,
        "changed": per_push_changed,
        "written": per_push_written,
    }


def profile_summary(profile: cProfile.Profile, limit: int = 18) -> str:
    """Return the top functions by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    lines = out.getvalue().splitlines()
    start = next((n for n, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line for line in lines[start - 3 :] if line.strip())


# -- one account size ----------------------------------------------------------------------


async def run(devices: int, updates: int, profile: bool, paging: bool) -> dict[str, Any]:
    """Measure one account of `devices` devices."""
    config = SimulatorConfig(hb_interval=145, device_connect_concurrency=128)
    result: dict[str, Any] = {"devices": devices}
    profiles: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as config_dir:
        async with (
            Simulator(config) as sim,
            async_test_home_assistant(config_dir=config_dir) as hass,
        ):
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            frame.async_setup(hass)
            await async_setup_component(hass, "network", {})  # the web session's resolver needs it
            await setup_http(hass)
            await load_platforms(hass)
            sim.add_app(APP_ID, APP_SECRET)
            if paging:
                sim.faults.thing_list_max = 30
            owner = sim.add_account(EMAIL, password=PASSWORD, region="eu")
            home = sim.add_home(owner, "Home")
            for n in range(devices):
                await sim.add_device(
                    owner, f"1{n:09d}", uiid=MIX[n % len(MIX)], home=home, wait=False
                )
            await sim.wait_for(lambda: all(d.online for d in sim.devices.values()), timeout=600)
            entry = await entry_for(hass, sim, {CONF_LAN_MODE: LAN_MODE_CLOUD})
            await hass.async_block_till_done()
            rss_before = rss()

            # cold setup: no cache
            mark = time.monotonic()
            if not await hass.config_entries.async_setup(entry.entry_id):
                raise RuntimeError("setup failed")
            coordinator = entry.runtime_data.coordinator
            expected = enabled_entities(hass, entry.entry_id)
            await wait_until(lambda: all(has_state(hass, e) for e in expected), 300)
            connected = await wait_until(lambda: coordinator.connected, 300)
            result["entities"] = len(expected)
            result["cold_setup_s"] = connected - mark
            result["cold_calls"] = rest_calls(sim, mark, connected)
            await hass.async_block_till_done()
            await asyncio.sleep(1)
            result["memory_bytes"] = rss() - rss_before
            counts: dict[str, int] = {}
            for entity_id in expected:
                domain = entity_id.split(".")[0]
                counts[domain] = counts.get(domain, 0) + 1
            result["domains"] = counts
            tracked = tracked_entities(hass, entry.entry_id)
            await wait_until(lambda: all_fresh(hass, sim, tracked), 300)

            # push CPU per device type
            handle = coordinator.connection._handle_text
            frames_by_type: dict[int, list[str]] = {}
            deviceids_by_type: dict[int, str] = {}
            for device in sim.devices.values():
                if device.uiid not in frames_by_type:
                    frames_by_type[device.uiid] = push_frames(device, owner.apikey)
                    deviceids_by_type[device.uiid] = device.deviceid
            receive = await websocket_receive_us(
                [f for frames in frames_by_type.values() for f in frames], updates
            )
            result["ws_receive_us"] = receive
            cpu: dict[str, dict[str, float]] = {}
            profiler = cProfile.Profile() if profile else None
            for uiid, frames in frames_by_type.items():
                if profiler is not None and uiid == PROFILED_UIID:
                    profiler.enable()
                thing = coordinator.data[deviceids_by_type[uiid]]
                figures = await push_cpu(hass, handle, thing, frames, updates)
                if profiler is not None and uiid == PROFILED_UIID:
                    profiler.disable()
                cpu[str(uiid)] = {
                    **figures,
                    "ratio": (figures["ours"] + receive) / (figures["floor"] + receive),
                    "entity_ratio": (figures["ours"] + receive)
                    / (figures["entity_floor"] + receive),
                }
            result["push"] = cpu
            if profiler is not None:
                profiles[f"push (UIID {PROFILED_UIID})"] = profile_summary(profiler)

            # recovery: every app socket dropped, every device changed meanwhile
            sim.faults.refuse_ws_seconds = 3600
            dropped = time.monotonic()
            await sim.drop_app_sockets()
            await wait_until(lambda: not coordinator.connected, 60)
            await change_all(sim.devices.values(), on=True)
            sim.faults.refuse_ws_seconds = 0
            back = await wait_until(lambda: coordinator.connected, 300)
            fresh = await wait_until(lambda: all_fresh(hass, sim, tracked), 300)
            result["recovery_s"] = fresh - back
            result["drop_to_fresh_s"] = fresh - dropped
            result["recovery_calls"] = rest_calls(sim, dropped, fresh)
            stats = getattr(coordinator, "sync_stats", None)
            result["read_s"] = stats.last_read_seconds if stats is not None else None
            sample = list(sim.devices.values())[:10]
            started = time.monotonic()
            await asyncio.gather(
                *(coordinator.connection.query(d.deviceid, owner.apikey) for d in sample)
            )
            result["query_s"] = time.monotonic() - started
            result["queried"] = len(sample)
            await asyncio.sleep(1)  # let the catch-up finish before the restart

            # warm setup: Home Assistant restarted after every device changed meanwhile
            if not await hass.config_entries.async_unload(entry.entry_id):
                raise RuntimeError("unload failed")
            await hass.async_block_till_done()
            await change_all(sim.devices.values(), on=False)
            profiler = cProfile.Profile() if profile else None
            mark = time.monotonic()
            if profiler is not None:
                profiler.enable()
            if not await hass.config_entries.async_setup(entry.entry_id):
                raise RuntimeError("setup failed")
            present = await wait_until(lambda: all(has_state(hass, e) for e in expected), 300)
            if profiler is not None:
                profiler.disable()
                profiles["warm setup until every entity has a state"] = profile_summary(profiler)
            result["warm_present_s"] = present - mark
            result["warm_last_known"] = sum(
                1
                for e in tracked
                if (s := hass.states.get(e)) is not None and s.state in ("on", "off")
            )
            live = await wait_until(lambda: all_fresh(hass, sim, tracked), 300)
            answers = [
                r.time
                for r in sim.requests
                if mark <= r.time <= live and r.path.endswith("/v2/device/thing")
            ]
            result["warm_live_s"] = live - mark
            result["warm_live_after_answer_s"] = live - max(answers) if answers else None
            result["warm_calls"] = rest_calls(sim, mark, live)
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    result["profiles"] = profiles
    return result


# -- LAN against the cloud -------------------------------------------------------------------


async def lan_run(devices: int, rounds: int) -> dict[str, Any]:
    """Measure command round trips per path and what the devices do when the cloud goes away."""
    config = SimulatorConfig(hb_interval=145, device_connect_concurrency=128, lan=True)
    result: dict[str, Any] = {"devices": devices}
    with tempfile.TemporaryDirectory() as config_dir:
        async with (
            Simulator(config) as sim,
            async_test_home_assistant(config_dir=config_dir) as hass,
        ):
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            frame.async_setup(hass)
            await async_setup_component(hass, "network", {})
            await setup_http(hass)
            await load_platforms(hass)
            # No real mDNS: the simulator's announcements go to the discovery's seam.
            hass.data[ZEROCONF_INSTANCE] = HaAsyncZeroconf(
                zc=HaZeroconf(interfaces=[], unicast=True)
            )
            hub = async_get_hub(hass)
            sim.lan.subscribe(
                lambda a: hub.discovery.feed(a.name, a.addresses, a.port, a.properties)
            )
            sim.add_app(APP_ID, APP_SECRET)
            owner = sim.add_account(EMAIL, password=PASSWORD, region="eu")
            home = sim.add_home(owner, "Home")
            for n in range(devices):
                await sim.add_device(
                    owner, f"1{n:09d}", uiid=MIX[n % len(MIX)], home=home, wait=False
                )
            await sim.wait_for(lambda: all(d.online for d in sim.devices.values()), timeout=600)
            entry = await entry_for(hass, sim)
            if not await hass.config_entries.async_setup(entry.entry_id):
                raise RuntimeError("setup failed")
            coordinator = entry.runtime_data.coordinator
            lan = entry.runtime_data.lan
            if lan is None:
                raise RuntimeError("no LAN control")
            await wait_until(lambda: coordinator.connected, 300)
            lan_ids = [d for d in sim.devices if d in sim.lan.devices]
            await wait_until(lambda: all(lan.registry.is_local(d) for d in lan_ids), 120)
            tracked = tracked_entities(hass, entry.entry_id)
            await wait_until(lambda: all_fresh(hass, sim, tracked), 300)
            result["lan_capable"] = len(lan_ids)

            # round trip per path, the same plug
            plug = next(d for d in lan_ids if sim.devices[d].uiid == 1)
            thing = coordinator.data[plug]
            rtt: dict[str, float] = {}
            for path in list(coordinator._paths):  # each path on its own
                times = []
                for n in range(rounds):
                    started = time.perf_counter()
                    await path.async_send(thing, {"switch": "on" if n % 2 else "off"})
                    times.append(time.perf_counter() - started)
                    await asyncio.sleep(0.25)  # the device's spacing, and its echo settles
                rtt[path.name] = statistics.median(times) * 1000
            result["rtt_ms"] = rtt

            # the cloud goes away
            await hass.async_block_till_done()
            await sim.stop_cloud()
            await wait_until(lambda: not coordinator.connected, 60)

            async def switch(deviceid: str) -> bool:
                try:
                    await coordinator.async_send(
                        deviceid, relay_change(sim.devices[deviceid], True)
                    )
                except HomeAssistantError:
                    return False
                return True

            started = time.monotonic()
            local = await asyncio.gather(*(switch(d) for d in lan_ids))
            result["switch_lan_s"] = time.monotonic() - started
            others = [d for d in sim.devices if d not in lan_ids]
            cloud_only = await asyncio.gather(*(switch(d) for d in others))
            result["controllable"] = sum(local) + sum(cloud_only)
            async_fire_time_changed(
                hass, dt_util.utcnow() + CONNECTION_GRACE + timedelta(seconds=1)
            )
            await hass.async_block_till_done()
            result["available"] = sum(1 for e in tracked if has_state(hass, e))
            result["true_after"] = sum(
                1
                for entity_id, deviceid in tracked.items()
                if deviceid in lan_ids
                and (s := hass.states.get(entity_id)) is not None
                and s.state == truth(sim.devices[deviceid])
            )
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    return result


# -- HA's own cost of the same entities -------------------------------------------------------


class _Bare(Entity):
    """A minimal entity with a unique ID and a device."""

    _attr_should_poll = False
    _attr_has_entity_name = True

    def __init__(self, unique_id: str, device: str) -> None:
        self._attr_unique_id = unique_id
        self._attr_name = unique_id
        self._attr_device_info = DeviceInfo(identifiers={("bench", device)}, name=device)

    @property
    def state(self) -> str:
        return "off"


async def bare(devices: int, domains: dict[str, int]) -> dict[str, Any]:
    """Measure the RSS growth of adding the same number of bare entities per domain."""
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            await load_platforms(hass)
            entry = MockConfigEntry(domain="bench")
            entry.add_to_hass(hass)
            await hass.async_block_till_done()
            before = rss()
            for domain, count in domains.items():
                platform = EntityPlatform(
                    hass=hass,
                    logger=LOGGER,
                    domain=domain,
                    platform_name="bench",
                    platform=None,
                    scan_interval=timedelta(seconds=30),
                    entity_namespace=None,
                )
                platform.config_entry = entry
                await platform.async_add_entities(
                    [_Bare(f"{domain}{n}", f"device{n % devices}") for n in range(count)]
                )
            await hass.async_block_till_done()
            await asyncio.sleep(1)
            return {"memory_bytes": rss() - before}


# -- the table ------------------------------------------------------------------------------


def worker(args: list[str]) -> dict[str, Any]:
    """Run one measurement in this process (called by `main` in a fresh process)."""
    if args[0] == "--bare":
        return asyncio.run(bare(int(args[1]), json.loads(args[2])))
    if args[0] == "--lan":
        return asyncio.run(lan_run(int(args[1]), int(args[2])))
    devices, updates = int(args[0]), int(args[1])
    return asyncio.run(run(devices, updates, args[2] == "1", args[3] == "1"))


def spawn(*args: str) -> dict[str, Any]:
    """Run `worker` in a fresh process; return its JSON answer (the last stdout line)."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"the measurement {args} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "KB":
        return f"{value / 1024:.1f}"
    if unit == "x":
        return f"{value:.2f}"
    if unit == "n":
        return f"{value:.0f}"
    return f"{value:.2f}"


def main() -> None:
    """Run every size in a fresh process and print the table."""
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        logging.basicConfig(level=logging.ERROR)
        print(json.dumps(worker(sys.argv[2:])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1,100,1000", help="account sizes, comma-separated")
    parser.add_argument("--updates", type=int, default=4000, help="pushes per device type")
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile summaries of the largest size"
    )
    parser.add_argument(
        "--lan-devices",
        type=int,
        default=100,
        help="devices of the LAN run (0: no LAN run)",
    )
    parser.add_argument(
        "--paging",
        action="store_true",
        help="make the simulated cloud refuse one-call (num=0) reads of more than 30 things, "
        "so that the client pages (30 a call, two calls a second)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows: list[dict[str, Any]] = []
    for size in sizes:
        profile = args.profile and size == max(sizes)
        row = spawn(
            str(size),
            str(args.updates),
            "1" if profile else "0",
            "1" if args.paging else "0",
        )
        row["bare_bytes"] = spawn("--bare", str(size), json.dumps(row["domains"]))["memory_bytes"]
        rows.append(row)
        print(f"measured {size} devices", file=sys.stderr, flush=True)
    if rows:
        print_table(rows, args.paging)
    if args.lan_devices > 0:
        print_lan(spawn("--lan", str(args.lan_devices), "20"))
    sys.stdout.flush()


def print_table(rows: list[dict[str, Any]], paging: bool) -> None:
    """Print the table of the account sizes."""
    largest = rows[-1]["devices"]

    def goal_row(
        label: str, key: Callable[[dict[str, Any]], float | None], unit: str, goal: float | None
    ) -> None:
        values = [key(row) for row in rows]
        cells = " ".join(f"{_fmt(v, unit):>9}" for v in values)
        if goal is None:
            verdict = ""
        else:
            last = values[-1]
            scale = 1024 if unit == "KB" else 1  # values in bytes, goal and cells in KB
            verdict = f"<= {goal:g}{'' if unit in ('x', 'n') else ' ' + unit}: " + (
                "holds" if last is not None and last <= goal * scale else "FAILS"
            )
        print(f"{label:<52} {cells}  {verdict}")

    reads = "pages of 30 (one-call reads refused)" if paging else "one call per home (num=0)"
    print(f"thing-list reads: {reads}; rate limits on")
    header = " ".join(f"{str(row['devices']) + ' dev':>9}" for row in rows)
    print(f"{'(goals are checked at ' + str(largest) + ' devices)':<52} {header}")
    goal_row("entities", lambda r: r["entities"], "n", None)
    goal_row("cold setup (no cache), until connected (s)", lambda r: r["cold_setup_s"], "s", None)
    goal_row("cold setup REST calls", lambda r: r["cold_calls"], "n", None)
    goal_row("restart: every entity has a state (s)", lambda r: r["warm_present_s"], "s", 1.0)
    goal_row("restart: live state (s)", lambda r: r["warm_live_s"], "s", None)
    goal_row(
        "restart: live after the cloud's last answer (s)",
        lambda r: r["warm_live_after_answer_s"],
        "s",
        2.0,
    )
    goal_row("restart REST calls until live", lambda r: r["warm_calls"], "n", None)
    goal_row("recovery: socket back -> every entity fresh (s)", lambda r: r["recovery_s"], "s", 5.0)
    goal_row("recovery: socket dropped -> fresh (s)", lambda r: r["drop_to_fresh_s"], "s", None)
    goal_row("recovery REST calls", lambda r: r["recovery_calls"], "n", None)
    goal_row("catch-up: one read of the thing list (s)", lambda r: r["read_s"], "s", None)
    goal_row(
        "catch-up: websocket query of 10 devices (s)",
        lambda r: r["query_s"] * 10 / r["queried"],
        "s",
        None,
    )
    goal_row(
        "memory per device, beyond HA's entities (KB)",
        lambda r: (r["memory_bytes"] - r["bare_bytes"]) / r["devices"],
        "KB",
        30.0,
    )
    goal_row(
        "memory per device, total (KB)", lambda r: r["memory_bytes"] / r["devices"], "KB", None
    )
    goal_row("websocket receive per frame (us)", lambda r: r["ws_receive_us"], "us", None)
    for uiid in MIX:
        key = str(uiid)
        goal_row(
            f"push CPU / floor, UIID {uiid} (changed/written per push)",
            lambda r, key=key: r["push"][key]["ratio"] if key in r["push"] else None,
            "x",
            1.3,
        )
        detail = rows[-1]["push"].get(key)
        if detail:
            print(
                f"{'':<4}UIID {uiid} at {largest}: ours {detail['ours']:.1f} us, floor "
                f"{detail['floor']:.1f} us, HA entity writes {detail['entity_floor']:.1f} us "
                f"(each + receive); {detail['changed']:.0f} states changed, "
                f"{detail['written']:.0f} written per push; ours / HA entity writes "
                f"{detail['entity_ratio']:.2f}"
            )
    for row in rows:
        for name, text in row.get("profiles", {}).items():
            print(f"\nprofile, {row['devices']} devices, {name}:\n{text}")


def print_lan(lan: dict[str, Any]) -> None:
    """Print the LAN run."""
    total, capable = lan["devices"], lan["lan_capable"]
    rtt = ", ".join(f"{name} {ms:.1f} ms" for name, ms in lan["rtt_ms"].items())
    print(f"\nLAN vs cloud ({total} devices, simulated on loopback, auto mode)")
    print(f"  command round trip to one plug, median of 20: {rtt}")
    print(
        f"  cloud stopped: {lan['controllable']}/{total} devices controllable "
        f"({capable} LAN-capable switched in {lan['switch_lan_s']:.2f} s, all at once); "
        f"after the {CONNECTION_GRACE.total_seconds():.0f} s grace {lan['available']}/{total} "
        f"available, {lan['true_after']}/{capable} showing their real state"
    )


if __name__ == "__main__":
    main()
