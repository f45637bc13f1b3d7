"""Fuzz target: hostile frames and REST answers through the real coordinator into entities.

Home Assistant (the test harness) runs the integration against the simulator with a device of
every UIID (every entity enabled). Hostile websocket frames travel over the real app socket
(the simulator's hub sends them as the cloud would), hostile thing-list and home-list answers
are served by the simulator (`Faults.raw_answers`) to reads the coordinator makes. After each
input: the frame handler's last-resort guard did not fire, nothing was logged with a traceback
(the coordinator's own last-resort guards log at debug with one), nothing at WARNING or above,
the devices' params stay valid and every entity state is one Home Assistant can serialise.
Afterwards a valid read restores every device and a valid push still changes an entity's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import json
import logging
import traceback
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.json import json_bytes
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink import api, coolkit
from custom_components.ewelink.coolkit import CoolkitError, RateLimiter
from custom_components.ewelink.coordinator import EwelinkCoordinator
from simulator import SimulatorConfig, VirtualDevice
from simulator.uiids import spec_for
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .hostile import UIIDS, Hostile, envelope, frame, hostile_update, rest_answer, update_frame
from .runner import FuzzRun, InvariantError, new_run
from .test_protocol import check_thing, travels

pytestmark = pytest.mark.usefixtures(
    "fast_loop", "enable_custom_integrations", "entity_registry_enabled_by_default"
)

# Sub-devices and their hosts (zigbee children hang off a zigbee bridge).
HOSTS = {130: 128, 174: 126, 177: 126}
ZIGBEE_BRIDGE = 66
THING_PATH = "/v2/device/thing"
FAMILY_PATH = "/v2/family"
PROBE = "switch.probe"


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """No rate limits (inputs come fast), a long heartbeat (no pings in between)."""
    return SimulatorConfig(
        hb_interval=120, rate_limit=False, device_ack_timeout=1.0, device_register_retry=0.2
    )


class Trap(logging.Handler):
    """Keep records with a traceback (any level) and every record at WARNING or above."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.WARNING:
            self.records.append(record)


@pytest.fixture
def trap() -> Iterator[Trap]:
    """Trap the integration's records (debug included) and everyone's warnings."""
    handler = Trap()
    ours = logging.getLogger("custom_components.ewelink")
    level = ours.level
    ours.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    ours.setLevel(level)


async def add_world(cloud: Cloud) -> dict[int, VirtualDevice]:
    """Add a device of every UIID (children under their hosts); the UIID 1 one is the probe."""
    devices: dict[int, VirtualDevice] = {}
    for number, uiid in enumerate(sorted(UIIDS, key=lambda u: u in HOSTS or spec_for(u).zigbee)):
        host_uiid = HOSTS.get(uiid, ZIGBEE_BRIDGE if spec_for(uiid).zigbee else None)
        host = devices.get(host_uiid) if host_uiid is not None else None
        devices[uiid] = await cloud.sim.add_device(
            cloud.owner,
            f"{'a' if host else '1'}{number:09d}",
            uiid=uiid,
            name="Probe" if uiid == 1 else f"U{uiid}",
            parent=host,
            wait=False,
        )
    for device in devices.values():
        await device.wait_online(20)
    return devices


class Checker:
    """What must hold after every input."""

    def __init__(self, hass: HomeAssistant, coordinator: EwelinkCoordinator, trap: Trap) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.trap = trap
        self.guard = coordinator.connection.stats.internal_errors
        self.entries = er.async_entries_for_config_entry(
            er.async_get(hass), coordinator.config_entry.entry_id
        )

    def check(self, deviceids: set[str] | None = None) -> None:
        """Raise InvariantError when an input broke something."""
        stats = self.coordinator.connection.stats
        if stats.internal_errors != self.guard:
            self.guard = stats.internal_errors
            raise InvariantError("the frame handler's last-resort guard fired")
        if self.trap.records:
            record = self.trap.records[0]
            self.trap.records.clear()
            cause = ""
            if record.exc_info and record.exc_info[1] is not None:
                cause = "\n" + "".join(traceback.format_exception(record.exc_info[1]))
            raise InvariantError(
                f"logged {record.levelname} {record.name}: {record.getMessage()}{cause}"
            )
        for deviceid, thing in self.coordinator.data.items():
            if deviceids is None or deviceid in deviceids:
                check_thing(thing)
        for entry in self.entries:
            if deviceids is not None and entry.unique_id.partition("_")[0] not in deviceids:
                continue
            state = self.hass.states.get(entry.entity_id)
            if state is not None:
                json_bytes(state.as_dict())  # what the frontend and the recorder need


def is_kick(text: str) -> bool:
    """Return True for a frame the connection takes as a takeover (covered elsewhere; here it
    would only put the session on hold)."""
    try:
        data = json.loads(text)
    except ValueError, RecursionError:
        return False
    return isinstance(data, dict) and "action" not in data and data.get("error") == 406


def hostile_frame(h: Hostile, device: VirtualDevice) -> str:
    """Return a frame for the device (mostly an update of its own params), hostile."""
    rng = h.rng
    roll = rng.random()
    message: Any
    if roll < 0.1:
        message = update_frame(
            device.deviceid, {k: device.params[k] for k in list(device.params)[:3]}
        )
    elif roll < 0.7:
        message = update_frame(device.deviceid, hostile_update(h, device.params))
        if rng.random() < 0.2:
            message = h.mutate(message)
    elif roll < 0.85:
        online = rng.choice((True, False, h.value()))
        message = {"action": "sysmsg", "deviceid": device.deviceid, "params": {"online": online}}
    else:
        text = frame(h).replace("1000000001", device.deviceid)
        return "" if is_kick(text) else travels(text)
    text = travels(h.text(message))
    return text.replace('"error":406', '"error":407') if is_kick(text) else text


async def push(cloud: Cloud, coordinator: EwelinkCoordinator, text: str) -> str:
    """Send a frame as the cloud and wait until the connection handled it."""
    stats = coordinator.connection.stats
    before = stats.frames_received
    for conn in list(cloud.sim.hub.by_apikey.get(cloud.owner.apikey, ())):
        conn.send(text)
    async with asyncio.timeout(30):
        while stats.frames_received == before:
            if not coordinator.connected:
                await wait_for(lambda: coordinator.connected, timeout=30)
                return "reconnected"
            await asyncio.sleep(0.001)
    return "handled"


async def fuzz_frames(
    run: FuzzRun, budget: int, cloud: Cloud, coordinator: EwelinkCoordinator, checker: Checker
) -> None:
    """Hostile frames over the app socket into the coordinator and the entities."""
    devices = [cloud.sim.devices[deviceid] for deviceid in coordinator.data]
    for index in range(budget):
        h = Hostile(run.rng(index))
        device = h.rng.choice(devices)
        text = hostile_frame(h, device)
        try:
            outcome = await push(cloud, coordinator, text) if text else "empty"
            checker.check({device.deviceid})
        except Exception as err:  # noqa: BLE001 - the fuzz records every escape
            run.fail(index, err)
        else:
            run.ok(f"frame {outcome}")


async def raw_data(coordinator: EwelinkCoordinator, path: str, **query: Any) -> Any:
    """Return the `data` of a valid answer of the simulator (a template to mutate)."""
    return await coordinator.client._request("GET", path, auth="bearer", query=query)


def read_outcome(coordinator: EwelinkCoordinator, *, failed: bool) -> str:
    """Return how a read ended; a failure must be a typed `CoolkitError`."""
    if not failed:
        return "read"
    last_error = coordinator.sync_stats.last_error or ""
    kind = last_error.partition(":")[0]
    error = getattr(coolkit, kind, None)
    if not (isinstance(error, type) and issubclass(error, CoolkitError)):
        raise InvariantError(f"the read failed with {last_error}")
    return kind


async def fuzz_reads(
    run: FuzzRun,
    offset: int,
    budget: int,
    cloud: Cloud,
    coordinator: EwelinkCoordinator,
    checker: Checker,
) -> None:
    """Hostile thing-list and home-list answers to reads of the coordinator."""
    families = await raw_data(coordinator, FAMILY_PATH, lang="en")
    family_id = families["familyList"][0]["id"]
    things = await raw_data(coordinator, THING_PATH, lang="en", familyid=family_id, num=0)
    stats = coordinator.sync_stats
    for index in range(offset, offset + budget):
        h = Hostile(run.rng(index))
        roll = h.rng.random()
        if roll < 0.7:
            path, answer = THING_PATH, (200, h.body(envelope(h.mutate(things))))
        elif roll < 0.8:
            path, answer = THING_PATH, rest_answer(h, "things")
        else:
            path, answer = FAMILY_PATH, (200, h.body(envelope(h.mutate(families))))
        cloud.sim.faults.raw_answers[path] = [answer]
        before = (stats.reads, stats.failures)
        try:
            coordinator.async_request_read()
            async with asyncio.timeout(30):
                while (stats.reads, stats.failures) == before:
                    await asyncio.sleep(0.002)
            await checker.hass.async_block_till_done()
            outcome = read_outcome(coordinator, failed=stats.failures != before[1])
            checker.check(None if index % 10 == 0 else set())
        except Exception as err:  # noqa: BLE001
            run.fail(index, err)
        else:
            run.ok(outcome)
        finally:
            cloud.sim.faults.raw_answers.clear()


async def test_coordinator(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry, trap: Trap
) -> None:
    """Hostile frames and answers through the real coordinator into entities: nothing escapes,
    no state is poisoned, and the integration still updates entities afterwards."""
    run = new_run("coordinator", 0.10)
    devices = await add_world(cloud)
    hass.data[api._RATE_LIMITER] = RateLimiter(min_interval=0, max_calls=10**9)
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    await hass.async_block_till_done()
    trap.records.clear()
    checker = Checker(hass, coordinator, trap)
    frames = max(1, run.budget * 3 // 4)
    await fuzz_frames(run, frames, cloud, coordinator, checker)
    await fuzz_reads(run, frames, run.budget - frames, cloud, coordinator, checker)
    # A valid read restores every device; a valid push still changes a state.
    reads = coordinator.sync_stats.reads
    coordinator.async_request_read()
    await wait_for(lambda: coordinator.sync_stats.reads > reads, timeout=30)
    await hass.async_block_till_done()
    probe = devices[1]
    target = "off" if state_of(hass, PROBE) == "on" else "on"
    await probe.report({"switch": target})
    await wait_for(lambda: state_of(hass, PROBE) == target, timeout=30)
    try:
        checker.check()
    except InvariantError as err:
        run.fail(-1, err)
    run.finish()
    assert not run.unhandled, run.verdict()
    assert {d.deviceid for d in devices.values()} <= coordinator.data.keys()
    assert coordinator.connected
