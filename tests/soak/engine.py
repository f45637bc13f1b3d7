"""The soak engine: world, oracle, churn, commands, faults, measures and the table.

See the package docstring for what is measured and how. One `Soak` runs one world: build it with
`Soak(config, sim, ha)`, `await soak.run()`, then `soak.report()` / `soak.goals()`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass, field
import logging
import math
import random
import re
import statistics
import time
from typing import Any, Protocol

from simulator import Simulator, VirtualDevice
from simulator.state import Account

_LOGGER = logging.getLogger("soak")

APP_ID = "soakapp0000000000000000000000001"
APP_SECRET = "soak-app-secret-0123456789abcdef"
PASSWORD = "soak-password"

# Device mix: plugs, multi-channel, metering (string and centi), TH, DualR3, a DW2 door sensor,
# and a zigbee bridge with two TH children. A tuple is (bridge, children).
MIX: tuple[int | tuple[int, tuple[int, ...]], ...] = (
    1, 2, 4, 32, 190, 15, 77, 126, 154, 5, (66, (1770, 1770)),
)  # fmt: skip

KINDS: tuple[str, ...] = (
    "drop_1000",
    "drop_1006",
    "half_open",
    "device_offline",
    "ack_delay",
    "ack_drop",
    "http500_things",
    "http500_family",
    "storm_412",
    "quota_403",
    "takeover_kept",
    "takeover_revoked",
    "at_expiry",
    "rt_expiry",
)
REAUTH_KINDS = frozenset({"takeover_revoked", "rt_expiry"})

# What each kind does, and what its all-clear time is (the README's fault table).
FAULTS: dict[str, str] = {
    "drop_1000": "app socket closed cleanly (1000); clear: socket back",
    "drop_1006": "app socket dropped (1006); clear: socket back",
    "half_open": "app socket half open (nothing read or answered); clear: socket back",
    "device_offline": "2% of the devices (at least 1) off for 2-8 s; clear: all back online",
    "ack_delay": "the entry's devices ack after 1-7 s for 3-8 s; clear: end + delay",
    "ack_drop": "the entry's devices ack nothing for 3-8 s; clear: end",
    "http500_things": "socket dropped, HTTP 500 on /v2/device/thing for 3-20 s; clear: later of both",
    "http500_family": "entry reloaded, HTTP 500 on /v2/family for 3-20 s; clear: later of both",
    "storm_412": "socket dropped, every REST call 412 for 3-20 s; clear: later of both",
    "quota_403": "socket dropped, every REST call HTTP 403 for 3-20 s; clear: later of both",
    "takeover_kept": "another sign-in; the rt still refreshes; clear: socket back",
    "takeover_revoked": "another sign-in ending the session; reauth; clear: socket back",
    "at_expiry": "the at expires and the socket drops; clear: socket back",
    "rt_expiry": "both tokens expire and the socket drops; reauth; clear: socket back",
}

GOAL_RECOVERY = 5.0
GOAL_REAUTH = 2.0


class SoakError(Exception):
    """The soak could not go on (Home Assistant or the world did not come up)."""


class CommandError(Exception):
    """Home Assistant answered a command with an error."""


class HomeAssistantSide(Protocol):
    """What the engine needs from Home Assistant (a real process, or the test harness)."""

    async def add_entry(self, base_url: str, email: str) -> str:
        """Sign in through the config flow as a user would; return the entry ID once loaded."""

    async def entities(self, entry_ids: Iterable[str]) -> dict[str, str]:
        """Return {entity_id: unique_id} of the entries' enabled entities."""

    def subscribe(self, callback: Callable[[str, str | None], None]) -> None:
        """Call `callback(entity_id, state)` now for every state and on every change."""

    async def call_service(self, domain: str, service: str, entity_id: str) -> None:
        """Call a service on one entity; raise `CommandError` when it fails."""

    async def reauth_flow(self, entry_id: str) -> str | None:
        """Return the ID of the entry's reauth flow in progress, if any."""

    async def finish_reauth(self, flow_id: str, password: str) -> None:
        """Answer the reauth flow with the password."""

    async def reload(self, entry_id: str) -> None:
        """Reload the entry (as the user's "Reload" does)."""

    async def entry_loaded(self, entry_id: str) -> bool:
        """Return True when the entry is loaded."""

    def log_report(self) -> LogReport:
        """Return what Home Assistant logged at WARNING or above since the entries were set up."""


@dataclass
class LogReport:
    """Home Assistant's log lines at WARNING or above during the soak."""

    by_logger: Counter[str] = field(default_factory=Counter)
    tracebacks: list[str] = field(default_factory=list)


@dataclass
class SoakConfig:
    """One soak run."""

    devices: int = 300
    minutes: float = 10.0
    seed: int = 1
    kinds: tuple[str, ...] = KINDS
    rounds: int | None = None
    """Exactly this many rounds of every kind (the short version); None: until `minutes`."""
    lanes: int = 1
    """Accounts, each with its own config entry; faults go to them in turn."""
    change_rate: float | None = None
    """Device changes per second; None: devices / 100, at least 1."""
    command_rate: float = 1.0
    """Commands per second sent by Home Assistant."""
    settle: float = 1.0
    tick: float = 0.1
    recovery_limit: float = 60.0
    socket_limit: float = 300.0
    tempo: float = 1.0
    """Scales fault durations and pauses (the short version uses short ones)."""
    ack_timeout: float = 5.0
    """The simulator's device ack timeout (ack delays are drawn around it)."""


@dataclass
class Lane:
    """One account, its config entry and its devices."""

    name: str
    account: Account
    email: str
    devices: list[VirtualDevice] = field(default_factory=list)
    entry_id: str = ""

    @property
    def roots(self) -> list[VirtualDevice]:
        """Return the devices with a socket of their own (not zigbee children)."""
        return [d for d in self.devices if d.parent is None]


@dataclass
class Tracked:
    """One entity and how the oracle computes its expected state."""

    entity_id: str
    device: VirtualDevice
    key: str
    value: Callable[[VirtualDevice], str | float | None] | None
    """None: a param the soak never changes; the state must stay at `baseline`."""
    battery: bool
    connectivity: bool
    baseline: str | None = None
    last: object = None
    changed: float = 0.0

    def expected(self) -> str | float | None:
        """Return the state the entity must show for the device's current truth."""
        device = self.device
        if not (device.online or self.battery or self.connectivity):
            return "unavailable"
        if self.value is None:
            return self.baseline
        return self.value(device)


@dataclass
class Command:
    """One command sent through Home Assistant."""

    entity_id: str
    deviceid: str
    channel: int | None
    target: str
    fault: str
    started: float
    ended: float = 0.0
    ok: bool = False
    error: str = ""
    outcome: str = ""
    """applied, lost, skipped or failed."""


@dataclass
class FaultRecord:
    """One injected fault and what it did."""

    kind: str
    lane: str
    injected: float
    detail: str = ""
    clear: float | None = None
    recovery: float | None = None
    leftover: list[str] = field(default_factory=list)
    reauth: float | None = None
    """Seconds from the refused refresh to the reauth flow (reauth kinds)."""
    prompt: float | None = None
    """Seconds from the injection to the reauth flow (reauth kinds)."""

    @property
    def outage(self) -> float | None:
        """Return the time from injection to all-clear."""
        return None if self.clear is None else self.clear - self.injected


# -- the oracle ---------------------------------------------------------------------------


def _number(raw: object) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _param(name: str, scale: float = 1.0) -> Callable[[VirtualDevice], float | None]:
    def read(device: VirtualDevice) -> float | None:
        value = _number(device.params.get(name))
        return None if value is None else value * scale

    return read


def _relay(device: VirtualDevice) -> str | None:
    value = device.params.get("switch")
    return value if value in ("on", "off") else None


def _channel(outlet: int) -> Callable[[VirtualDevice], str | None]:
    def read(device: VirtualDevice) -> str | None:
        for item in device.params.get("switches") or ():
            if isinstance(item, dict) and item.get("outlet") == outlet:
                value = item.get("switch")
                return value if value in ("on", "off") else None
        return None

    return read


def _connectivity(device: VirtualDevice) -> str:
    return "on" if device.online else "off"


_CENTI_METERING = frozenset({190})
_CHANNEL_METERING = {"power": "actPow", "voltage": "voltage", "current": "current"}


def oracle(device: VirtualDevice, key: str) -> Callable[[VirtualDevice], Any] | None:
    """Return how an entity's state follows the truth, or None for a constant entity."""
    uiid = device.uiid
    if key == "switch":
        return _relay
    if match := re.fullmatch(r"channel_(\d+)", key):
        return _channel(int(match[1]) - 1)
    if key == "door":
        return _relay
    if key == "connectivity":
        return _connectivity
    if key == "battery":
        return _param("battery")
    if key in _CHANNEL_METERING:
        return _param(key, 0.01 if uiid in _CENTI_METERING else 1.0)
    if (match := re.fullmatch(r"(power|voltage|current)_(\d)", key)) and uiid == 126:
        return _param(f"{_CHANNEL_METERING[match[1]]}_0{int(match[2]) - 1}", 0.01)
    if key in ("temperature", "humidity"):
        if uiid == 15:
            return _param("currentTemperature" if key == "temperature" else "currentHumidity")
        return _param(key, 0.01)
    return None


def matches(shown: str | None, expected: str | float | None) -> bool:
    """Return True when a shown state equals the expected one (numbers within 1e-6)."""
    if isinstance(expected, float):
        value = _number(shown)
        return value is not None and abs(value - expected) <= 1e-6 * max(1.0, abs(expected))
    if expected is None:
        return shown == "unknown"
    return shown == expected


# -- device changes ---------------------------------------------------------------------


def device_change(device: VirtualDevice, rng: random.Random) -> dict[str, Any] | None:
    """Return a change the device makes on its own (a button, a reading), or None."""
    uiid = device.uiid
    params = device.params
    roll = rng.random()
    if uiid == 1770:
        if roll < 0.1:
            return {"battery": rng.randint(50, 100)}
        return {
            "temperature": str(rng.randint(1500, 3000)),
            "humidity": str(rng.randint(3000, 7000)),
        }
    if uiid == 15 and roll < 0.5:
        return {
            "currentTemperature": f"{rng.uniform(15, 30):.1f}",
            "currentHumidity": str(rng.randint(30, 70)),
        }
    if uiid in (5, 32) and roll < 0.4:
        watts = rng.uniform(0, 2000)
        return {"power": f"{watts:.2f}", "voltage": f"{rng.uniform(225, 235):.2f}",
                "current": f"{watts / 230:.2f}"}  # fmt: skip
    if uiid == 190 and roll < 0.4:
        watts = rng.uniform(0, 2000)
        return {"power": round(watts * 100), "voltage": rng.randint(22500, 23500),
                "current": round(watts / 230 * 100)}  # fmt: skip
    if uiid == 126 and roll < 0.4:
        channel = rng.randrange(2)
        return {f"actPow_0{channel}": rng.randint(0, 100000),
                f"voltage_0{channel}": rng.randint(22500, 23500),
                f"current_0{channel}": rng.randint(0, 500)}  # fmt: skip
    if uiid == 154 and roll < 0.1:
        return {"battery": rng.randint(50, 100)}
    if "switch" in params:
        return {"switch": "off" if params["switch"] == "on" else "on"}
    switches = params.get("switches")
    if isinstance(switches, list) and switches:
        outlet = rng.randrange(max(1, device.spec.channels))
        current = _channel(outlet)(device)
        value = "off" if current == "on" else "on"
        if rng.random() < 0.5:  # the whole array, as most firmware sends it
            items = [dict(item) for item in switches]
            for item in items:
                if item.get("outlet") == outlet:
                    item["switch"] = value
            return {"switches": items}
        return {"switches": [{"outlet": outlet, "switch": value}]}
    return None


# -- the engine ---------------------------------------------------------------------------


class Soak:
    """One soak run."""

    def __init__(self, config: SoakConfig, sim: Simulator, ha: HomeAssistantSide) -> None:
        """Prepare a run; `run()` does it."""
        self.config = config
        self.sim = sim
        self.ha = ha
        self.rng = random.Random(config.seed)
        self.lanes: list[Lane] = []
        self.tracked: list[Tracked] = []
        self.by_entity: dict[str, Tracked] = {}
        self.shown: dict[str, str | None] = {}
        self.unavailable_at: dict[str, list[float]] = {}
        self.faults: list[FaultRecord] = []
        self.commands: list[Command] = []
        self.final_leftover: list[str] = []
        self.changes = 0
        self.fresh = False
        self.mismatched: list[Tracked] = []
        self.tick_time = 0.0
        self.ticks = Counter[str]()
        self.started = 0.0
        self.ended = 0.0
        self.setup_seconds = 0.0
        self.active = "none"
        self._ticked = asyncio.Event()
        self._running = False
        self._paused = False
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.log = LogReport()

    # -- the world ------------------------------------------------------------------------

    async def build_world(self) -> None:
        """Add the app, the accounts and their devices to the simulator; wait until online."""
        sim, config = self.sim, self.config
        sim.add_app(APP_ID, APP_SECRET, password_login=True)
        for index in range(config.lanes):
            email = f"soak{index}@example.com"
            account = sim.add_account(email, password=PASSWORD, region="eu", country_code="+49")
            sim.add_home(account, "Home")
            self.lanes.append(Lane(f"entry{index}", account, email))
        slots = [config.devices // config.lanes] * config.lanes
        for index in range(config.devices % config.lanes):
            slots[index] += 1
        serial = 0
        for number, (lane, budget) in enumerate(zip(self.lanes, slots, strict=True)):
            position = 2 * number  # small entries start at different devices of the mix
            while len(lane.devices) < budget:
                entry = MIX[position % len(MIX)]
                position += 1
                if isinstance(entry, tuple):
                    bridge_uiid, children = entry
                    if budget - len(lane.devices) < 1 + len(children):
                        continue
                    serial += 1
                    bridge = await sim.add_device(
                        lane.account, f"1{serial:09d}", uiid=bridge_uiid, wait=False
                    )
                    lane.devices.append(bridge)
                    for child_uiid in children:
                        serial += 1
                        lane.devices.append(
                            await sim.add_device(
                                lane.account,
                                f"a{serial:09d}",
                                uiid=child_uiid,
                                parent=bridge,
                                wait=False,
                            )
                        )
                    continue
                serial += 1
                lane.devices.append(
                    await sim.add_device(lane.account, f"1{serial:09d}", uiid=entry, wait=False)
                )
        await sim.wait_for(
            lambda: all(d.online and d.can_send for d in sim.devices.values()),
            timeout=max(60.0, config.devices / 10),
        )

    async def setup_home_assistant(self) -> None:
        """Add one entry per lane, learn the entities and wait for the first fresh state."""
        started = time.monotonic()
        for lane in self.lanes:
            lane.entry_id = await self.ha.add_entry(self.sim.base_url, lane.email)
        registry = await self.ha.entities([lane.entry_id for lane in self.lanes])
        devices = {d.deviceid: d for lane in self.lanes for d in lane.devices}
        for entity_id, unique_id in sorted(registry.items()):
            deviceid, _, key = unique_id.partition("_")
            device = devices.get(deviceid)
            if device is None:
                continue
            entity = Tracked(
                entity_id,
                device,
                key,
                oracle(device, key),
                battery="battery" in device.params,
                connectivity=key == "connectivity",
            )
            self.tracked.append(entity)
            self.by_entity[entity_id] = entity
        if not self.tracked:
            raise SoakError("Home Assistant created no entities")
        self.ha.subscribe(self._on_state)
        # Wait until every entity has a state and the dynamic ones equal the truth.
        deadline = time.monotonic() + max(120.0, self.config.devices / 5)
        while True:
            dynamic_ok = all(
                matches(self.shown.get(e.entity_id), e.expected())
                for e in self.tracked
                if e.value is not None
            )
            present = all(
                self.shown.get(e.entity_id) not in (None, "unavailable") for e in self.tracked
            )
            if dynamic_ok and present:
                break
            if time.monotonic() > deadline:
                wrong = [
                    f"{e.entity_id}={self.shown.get(e.entity_id)!r} (expected {e.expected()!r})"
                    for e in self.tracked
                    if not matches(self.shown.get(e.entity_id), e.expected())
                    and (e.value is not None or self.shown.get(e.entity_id) is None)
                ]
                raise SoakError(f"not fresh after setup: {wrong[:10]}")
            await asyncio.sleep(0.2)
        for entity in self.tracked:
            if entity.value is None:
                entity.baseline = self.shown.get(entity.entity_id)
        self.setup_seconds = time.monotonic() - started

    def _on_state(self, entity_id: str, state: str | None) -> None:
        self.shown[entity_id] = state
        if state in (None, "unavailable"):
            self.unavailable_at.setdefault(entity_id, []).append(time.monotonic())

    # -- the run --------------------------------------------------------------------------

    async def run(self) -> None:
        """Build, set up, inject every fault while devices change and commands go, measure."""
        await self.build_world()
        await self.setup_home_assistant()
        self._running = True
        self.started = time.monotonic()
        self._spawn(self._monitor())
        await self.wait_fresh(time.monotonic(), self.config.recovery_limit)
        self._spawn(self._churn())
        self._spawn(self._commands())
        try:
            await self._inject_all()
        finally:
            self._running = False
            self._paused = True
            await self._drain_commands()
            self.active = "end"
            clear = time.monotonic()
            recovered = await self.wait_fresh(clear, self.config.recovery_limit)
            if recovered is None:
                self.final_leftover = [e.entity_id for e in self.mismatched]
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self.ended = time.monotonic()
            self.log = self.ha.log_report()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.error("Soak task failed", exc_info=err)

    def _deck(self) -> list[str]:
        deck = list(self.config.kinds)
        self.rng.shuffle(deck)
        return deck

    async def _inject_all(self) -> None:
        config = self.config
        deadline = self.started + config.minutes * 60
        rounds = 0
        index = 0
        while config.rounds is None or rounds < config.rounds:
            for kind in self._deck():
                if config.rounds is None and time.monotonic() >= deadline:
                    return
                lane = self.lanes[index % len(self.lanes)]
                index += 1
                await self._one_fault(kind, lane)
                await asyncio.sleep(self.rng.uniform(0.5, 1.5) * config.tempo)
            rounds += 1

    async def _one_fault(self, kind: str, lane: Lane) -> None:
        record = FaultRecord(kind, lane.name, time.monotonic())
        self.faults.append(record)
        self.active = kind
        _LOGGER.info("fault %d: %s on %s", len(self.faults), kind, lane.name)
        try:
            record.clear = await getattr(self, f"_fault_{kind}")(lane, record)
        except TimeoutError as err:
            record.detail += f" timed out: {err}"
            _LOGGER.warning("fault %s on %s: %s", kind, lane.name, record.detail)
        finally:
            self._paused = False
        if record.clear is not None:
            recovered = await self.wait_fresh(record.clear, self.config.recovery_limit)
            if recovered is None:
                record.leftover = [e.entity_id for e in self.mismatched]
                _LOGGER.warning("fault %s not recovered; stale: %s", kind, record.leftover[:10])
            else:
                record.recovery = recovered - record.clear
        self.active = "none"
        _LOGGER.info(
            "fault %s: outage %s, recovery %s",
            kind,
            _fmt(record.outage),
            _fmt(record.recovery),
        )

    # -- freshness --------------------------------------------------------------------------

    async def _monitor(self) -> None:
        while True:
            self._check()
            self._ticked.set()
            self._ticked = asyncio.Event()
            await asyncio.sleep(self.config.tick)

    def _check(self) -> None:
        now = time.monotonic()
        settle = self.config.settle
        shown = self.shown
        wrong: list[Tracked] = []
        for entity in self.tracked:
            expected = entity.expected()
            if expected != entity.last:
                entity.last = expected
                entity.changed = now
            if now - entity.changed > settle and not matches(shown.get(entity.entity_id), expected):
                wrong.append(entity)
        self.mismatched = wrong
        self.fresh = not wrong
        self.tick_time = now
        self.ticks["fresh" if self.fresh else "stale"] += 1
        if self.active == "none" and self._running:
            self.ticks["quiet fresh" if self.fresh else "quiet stale"] += 1

    async def wait_fresh(self, since: float, limit: float) -> float | None:
        """Return the time of the first fresh tick at or after `since`, None after `limit`."""
        deadline = since + limit
        while True:
            if self.fresh and self.tick_time >= since:
                return self.tick_time
            if time.monotonic() > deadline:
                return None
            event = self._ticked
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await event.wait()

    # -- devices change on their own ------------------------------------------------------

    def _change_rate(self) -> float:
        rate = self.config.change_rate
        return rate if rate is not None else max(1.0, self.config.devices / 100)

    async def _churn(self) -> None:
        rate = self._change_rate()
        devices = [d for lane in self.lanes for d in lane.devices if d.uiid != 66]
        while True:
            await asyncio.sleep(self.rng.expovariate(rate))
            self.change(self.rng.choice(devices))

    def change(self, device: VirtualDevice) -> None:
        """Let a device change on its own (pushed when it is connected, kept when not)."""
        if (params := device_change(device, self.rng)) is not None:
            device.report_nowait(params)
            self.changes += 1

    def burst(self, devices: list[VirtualDevice]) -> None:
        """Change a few of the devices at once (while their pushes cannot arrive)."""
        candidates = [d for d in devices if d.uiid != 66]
        count = min(len(candidates), max(2, len(candidates) // 20))
        for device in self.rng.sample(candidates, count):
            self.change(device)

    # -- commands from Home Assistant -----------------------------------------------------

    def _switches(self) -> list[Tracked]:
        return [
            e
            for e in self.tracked
            if e.entity_id.startswith("switch.")
            and (e.key == "switch" or e.key.startswith("channel_"))
        ]

    async def _commands(self) -> None:
        switches = self._switches()
        rate = self.config.command_rate
        while True:
            await asyncio.sleep(self.rng.expovariate(rate))
            if self._paused or len(self._busy) >= 4:
                continue
            entity = self.rng.choice(switches)
            state = self.shown.get(entity.entity_id)
            if (
                state not in ("on", "off")
                or not entity.device.online
                or entity.device.deviceid in self._busy
            ):
                continue
            self._busy.add(entity.device.deviceid)
            self._spawn(self._command(entity, "off" if state == "on" else "on"))

    async def _command(self, entity: Tracked, target: str) -> None:
        channel = None
        if entity.key.startswith("channel_"):
            channel = int(entity.key.removeprefix("channel_")) - 1
        command = Command(
            entity.entity_id,
            entity.device.deviceid,
            channel,
            target,
            self.active,
            time.monotonic(),
        )
        self.commands.append(command)
        try:
            await self.ha.call_service("switch", f"turn_{target}", entity.entity_id)
        except CommandError as err:
            command.error = str(err)
            command.outcome = "failed"
        except (OSError, SoakError, TimeoutError) as err:  # Home Assistant went away
            command.error = type(err).__name__
            command.outcome = "failed"
        else:
            command.ok = True
        finally:
            command.ended = time.monotonic()
            self._busy.discard(entity.device.deviceid)
        if command.ok:
            await asyncio.sleep(0.5)
            command.outcome = self._outcome(command, entity.device)
            if command.outcome == "lost":
                _LOGGER.warning(
                    "lost command: %s turn_%s (%s)", command.entity_id, target, command.fault
                )

    def _outcome(self, command: Command, device: VirtualDevice) -> str:
        for applied_at, params in device.applied:
            if command.started - 0.05 <= applied_at <= command.ended + 0.5 and _sets(
                params, command.channel, command.target
            ):
                return "applied"
        seen = self.unavailable_at.get(command.entity_id, ())
        if any(command.started - 0.5 <= t <= command.ended + 0.5 for t in seen):
            return "skipped"
        return "lost"

    async def _drain_commands(self) -> None:
        deadline = time.monotonic() + 30
        while (self._busy or any(not c.outcome for c in self.commands)) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.1)

    # -- faults -------------------------------------------------------------------------

    def _duration(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high) * self.config.tempo

    def _session_key(self, lane: Lane) -> tuple[str, str]:
        return (lane.account.apikey, APP_ID)

    async def socket_back(self, lane: Lane, after: float) -> float:
        """Wait until the simulator accepted a new `userOnline` of the lane's session."""
        opened = self.sim.hub.app_opened_at
        key = self._session_key(lane)
        async with asyncio.timeout(self.config.socket_limit):
            while opened.get(key, 0.0) <= after:
                await asyncio.sleep(0.02)
        return opened[key]

    async def _drop(self, lane: Lane, code: int = 1006) -> float:
        injected = time.monotonic()
        await self.sim.drop_app_sockets(code, lane.account)
        self.burst(lane.devices)
        return injected

    async def _fault_drop_1000(self, lane: Lane, record: FaultRecord) -> float:
        return await self.socket_back(lane, await self._drop(lane, 1000))

    async def _fault_drop_1006(self, lane: Lane, record: FaultRecord) -> float:
        return await self.socket_back(lane, await self._drop(lane, 1006))

    async def _fault_half_open(self, lane: Lane, record: FaultRecord) -> float:
        injected = time.monotonic()
        self.sim.half_open_app_sockets(lane.account)
        self.burst(lane.devices)
        return await self.socket_back(lane, injected)

    async def _fault_device_offline(self, lane: Lane, record: FaultRecord) -> float:
        roots = lane.roots
        picked = self.rng.sample(roots, max(1, len(roots) // 50))
        record.detail = f"{len(picked)} devices"
        await asyncio.gather(*(d.go_offline(timeout=30) for d in picked))
        affected = [d for d in lane.devices if d in picked or d.parent in picked]
        self.burst(affected)
        await asyncio.sleep(self._duration(2, 8))
        await asyncio.gather(*(d.go_online(timeout=60) for d in picked))
        await self.sim.wait_for(lambda: all(d.online and d.can_send for d in affected), timeout=60)
        return time.monotonic()

    async def _fault_ack_delay(self, lane: Lane, record: FaultRecord) -> float:
        delay = self.rng.uniform(0.2, 1.4) * self.config.ack_timeout
        record.detail = f"{delay:.1f} s"
        for device in lane.devices:
            device.ack_delay = delay
        await asyncio.sleep(self._duration(3, 8))
        for device in lane.devices:
            device.ack_delay = 0.0
        return time.monotonic() + delay

    async def _fault_ack_drop(self, lane: Lane, record: FaultRecord) -> float:
        for device in lane.devices:
            device.drop_acks = True
        await asyncio.sleep(self._duration(3, 8))
        for device in lane.devices:
            device.drop_acks = False
        return time.monotonic()

    async def _rest_fault(
        self, lane: Lane, record: FaultRecord, start: Callable[[], None], stop: Callable[[], None]
    ) -> float:
        duration = self._duration(3, 20)
        record.detail = f"{duration:.0f} s"
        start()
        injected = await self._drop(lane)
        back = asyncio.ensure_future(self.socket_back(lane, injected))
        try:
            await asyncio.sleep(duration)
        finally:
            stop()
        end = time.monotonic()
        return max(await back, end)

    async def _fault_http500_things(self, lane: Lane, record: FaultRecord) -> float:
        faults = self.sim.faults
        path = "/v2/device/thing"
        return await self._rest_fault(
            lane,
            record,
            lambda: faults.http_error.__setitem__(path, 500),
            lambda: faults.http_error.pop(path, None),
        )

    async def _fault_storm_412(self, lane: Lane, record: FaultRecord) -> float:
        faults = self.sim.faults
        return await self._rest_fault(
            lane,
            record,
            lambda: setattr(faults, "rest_412_seconds", 3600),
            lambda: setattr(faults, "rest_412_seconds", 0),
        )

    async def _fault_quota_403(self, lane: Lane, record: FaultRecord) -> float:
        faults = self.sim.faults
        return await self._rest_fault(
            lane,
            record,
            lambda: setattr(faults, "quota_403_seconds", 3600),
            lambda: setattr(faults, "quota_403_seconds", 0),
        )

    async def _fault_http500_family(self, lane: Lane, record: FaultRecord) -> float:
        faults = self.sim.faults
        duration = self._duration(3, 20)
        record.detail = f"{duration:.0f} s, reload"
        self._paused = True
        faults.http_error["/v2/family"] = 500
        injected = time.monotonic()
        try:
            await self.ha.reload(lane.entry_id)
            self.burst(lane.devices)
            back = await self.socket_back(lane, injected)
            await asyncio.sleep(max(0.0, injected + duration - time.monotonic()))
        finally:
            faults.http_error.pop("/v2/family", None)
        return max(back, time.monotonic())

    async def _fault_takeover_kept(self, lane: Lane, record: FaultRecord) -> float:
        injected = time.monotonic()
        await self.sim.kick_session(lane.account, APP_ID, keep_refresh=True)
        self.burst(lane.devices)
        return await self.socket_back(lane, injected)

    async def _fault_at_expiry(self, lane: Lane, record: FaultRecord) -> float:
        injected = time.monotonic()
        self.sim.expire_tokens(lane.account, APP_ID, access=True, close=1006)
        self.burst(lane.devices)
        return await self.socket_back(lane, injected)

    async def _fault_takeover_revoked(self, lane: Lane, record: FaultRecord) -> float:
        injected = time.monotonic()
        await self.sim.kick_session(lane.account, APP_ID, keep_refresh=False)
        self.burst(lane.devices)
        return await self._reauth(lane, record, injected)

    async def _fault_rt_expiry(self, lane: Lane, record: FaultRecord) -> float:
        injected = time.monotonic()
        self.sim.expire_tokens(lane.account, APP_ID, access=True, refresh=True, close=1006)
        self.burst(lane.devices)
        return await self._reauth(lane, record, injected)

    async def _reauth(self, lane: Lane, record: FaultRecord, injected: float) -> float:
        """Wait for the reauth flow (measured from the refused refresh), then sign in again."""
        async with asyncio.timeout(self.config.socket_limit):
            while (flow_id := await self.ha.reauth_flow(lane.entry_id)) is None:
                await asyncio.sleep(0.05)
        shown = time.monotonic()
        refused = [
            r.time
            for r in list(self.sim.requests)
            if r.time >= injected and r.path.endswith("/v2/user/refresh")
        ]
        if refused:
            record.reauth = max(0.0, shown - refused[0])
        record.prompt = shown - injected
        await asyncio.sleep(0.5 * self.config.tempo)  # the user reads the prompt
        signed_in = time.monotonic()
        self._paused = True  # the entry reloads: its entities go away for a moment
        await self.ha.finish_reauth(flow_id, PASSWORD)
        return await self.socket_back(lane, signed_in)

    # -- the report ---------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """Return one row per fault kind (and the quiet time between faults)."""
        rows: list[dict[str, Any]] = []
        for kind in (*self.config.kinds, "none"):
            records = [f for f in self.faults if f.kind == kind]
            commands = [c for c in self.commands if c.fault == kind]
            outcomes = Counter(c.outcome for c in commands)
            if kind == "none" and not commands:
                continue
            recoveries = [f.recovery for f in records]
            rows.append(
                {
                    "kind": kind,
                    "count": len(records),
                    "outage": [f.outage for f in records if f.outage is not None],
                    "recovery": [r for r in recoveries if r is not None],
                    "unrecovered": sum(1 for f in records if f.recovery is None and kind != "none"),
                    "leftover": sum(len(f.leftover) for f in records),
                    "reauth": [f.reauth for f in records if f.reauth is not None],
                    "prompt": [f.prompt for f in records if f.prompt is not None],
                    "commands": len(commands),
                    "applied": outcomes["applied"],
                    "failed": outcomes["failed"],
                    "skipped": outcomes["skipped"],
                    "lost": outcomes["lost"],
                }
            )
        return rows

    def report(self) -> list[str]:
        """Return the printed table and summary."""
        lines = [
            (
                f"{'fault':<17}{'count':>6}  {'outage s med/max':>17}  {'recovery s med/max':>19}"
                f"  {'stale':>5}  {'cmds ok/fail/skip':>17}  {'lost':>4}  notes"
            )
        ]
        for row in self.rows():
            notes = ""
            if row["reauth"]:
                notes = (
                    f"reauth {_pair(row['reauth'])} s after the refused refresh "
                    f"({_pair(row['prompt'])} s after the injection)"
                )
            if row["unrecovered"]:
                notes += f" {row['unrecovered']} not recovered"
            lines.append(
                f"{row['kind']:<17}{row['count']:>6}  {_pair(row['outage']):>17}  "
                f"{_pair(row['recovery']):>19}  {row['leftover']:>5}  "
                f"{row['applied']:>7}/{row['failed']}/{row['skipped']:<5}  {row['lost']:>4}  "
                f"{notes}".rstrip()
            )
        total = len(self.commands)
        outcomes = Counter(c.outcome for c in self.commands)
        errors = Counter(c.error for c in self.commands if c.outcome == "failed")
        quiet = self.ticks["quiet fresh"] + self.ticks["quiet stale"]
        entries = f"{len(self.lanes)} entr{'y' if len(self.lanes) == 1 else 'ies'}"
        world = (
            f"devices {self.config.devices} in {entries}, entities {len(self.tracked)}, "
            f"faults {len(self.faults)}, seed {self.config.seed}, "
            f"setup {self.setup_seconds:.0f} s, soak {self.ended - self.started:.0f} s"
        )
        counts = (
            f"device changes {self.changes}; commands {total}: applied {outcomes['applied']}, "
            f"failed {outcomes['failed']}, skipped {outcomes['skipped']}, lost {outcomes['lost']}"
        )
        fresh = 100 * self.ticks["quiet fresh"] / quiet if quiet else 100.0
        by_logger = ", ".join(f"{k} {v}" for k, v in self.log.by_logger.most_common())
        lines += [
            "",
            world,
            counts,
            "command errors: " + (", ".join(f"{k} {v}" for k, v in errors.most_common()) or "none"),
            f"fresh ticks between faults: {fresh:.1f} %",
            f"leftover mismatches at the end: {len(self.final_leftover)}"
            + (f" {self.final_leftover[:10]}" if self.final_leftover else ""),
            f"Home Assistant log at WARNING or above: {sum(self.log.by_logger.values())} lines"
            + (f" ({by_logger})" if by_logger else ""),
            f"tracebacks: {len(self.log.tracebacks)}",
        ]
        lines.extend(f"  {tb}" for tb in self.log.tracebacks[:10])
        return lines

    def goals(self, recovery: float = GOAL_RECOVERY, reauth: float = GOAL_REAUTH) -> list[str]:
        """Return the goals that failed (empty: every goal holds)."""
        failed: list[str] = []
        for fault in self.faults:
            if fault.clear is None:
                failed.append(f"{fault.kind}: the fault did not clear ({fault.detail.strip()})")
                continue
            if fault.recovery is None:
                failed.append(f"{fault.kind}: not fresh within {self.config.recovery_limit:.0f} s")
            elif fault.kind != "rt_expiry" and fault.recovery > recovery:
                failed.append(f"{fault.kind}: recovery {fault.recovery:.2f} s > {recovery} s")
            if fault.kind in REAUTH_KINDS and (fault.reauth is None or fault.reauth > reauth):
                failed.append(f"{fault.kind}: reauth {_fmt(fault.reauth)} s > {reauth} s")
        if leftover := sum(len(f.leftover) for f in self.faults) + len(self.final_leftover):
            failed.append(f"{leftover} leftover mismatches")
        if lost := sum(1 for c in self.commands if c.outcome == "lost"):
            failed.append(f"{lost} commands acknowledged and never applied")
        if self.log.tracebacks:
            failed.append(f"{len(self.log.tracebacks)} tracebacks in Home Assistant's log")
        return failed


def _sets(params: object, channel: int | None, target: str) -> bool:
    if not isinstance(params, dict):
        return False
    if channel is None:
        return params.get("switch") == target
    return any(
        isinstance(item, dict) and item.get("outlet") == channel and item.get("switch") == target
        for item in params.get("switches") or ()
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pair(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} / {max(values):.2f}"
