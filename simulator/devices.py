"""Virtual devices: in-process devices that speak the device side of the protocol.

Each Wi-Fi device runs one asyncio task: `POST /dispatch/device`, a real websocket to `/api/ws`,
`register` with its factory apikey (retried every second while it is bound to nobody), `date`, a
full-state `update`, then it serves app commands (ack, apply, report) until it goes offline.
Zigbee children have no socket of their own: their frames travel over the bridge's socket, and
the bridge announces them with a `reportSubDevice` frame (our own envelope; the real child
protocol is not public).

One `Fleet` owns the shared client session and the batched timers (protocol pings, drift) so a
thousand devices cost a thousand reader tasks and nothing more.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
import copy
import itertools
import json
import logging
import random
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from .state import now_ms
from .uiids import (
    METERING_KINDS,
    UIACTIVE_KINDS,
    CommandResult,
    UiidSpec,
    apply_command,
    default_params,
    drift_step,
    merge_params,
    metering_values,
    spec_for,
    stringify_numbers,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from .config import SimulatorConfig
    from .faults import Faults
    from .state import FactoryRecord

_LOGGER = logging.getLogger("simulator.devices")

_Json = dict[str, Any]
NOT_BOUND = (403, 404, 415)
EVENT_KEYS = ("key", "motion", "localKeyPass", "lock", "water")


class DeviceError(Exception):
    """The server refused a device frame."""


class Fleet:
    """Shared resources of every virtual device of one simulator."""

    def __init__(
        self, config: SimulatorConfig, faults: Faults, cloud_online: Callable[[str], bool]
    ) -> None:
        self.config = config
        self.faults = faults
        self.cloud_online = cloud_online
        self.devices: dict[str, VirtualDevice] = {}
        self.session: aiohttp.ClientSession | None = None
        self._sem: asyncio.Semaphore | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self.running = False
        self.changed: asyncio.Event | None = None

    @property
    def semaphore(self) -> asyncio.Semaphore:
        """Return the semaphore that caps concurrent connection attempts."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.config.device_connect_concurrency)
        return self._sem

    async def start(self) -> None:
        """Create the client session and the timer task."""
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
        self.session = aiohttp.ClientSession(connector=connector)
        self.running = True
        self._timer_task = asyncio.create_task(self._timers(), name="simulator-device-timers")

    async def stop(self) -> None:
        """Stop every device, the timers and the client session."""
        self.running = False
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
        await asyncio.gather(*(d.shutdown() for d in self.devices.values()), return_exceptions=True)
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _timers(self) -> None:
        """Protocol pings and drift of every device, batched in one loop."""
        tick = 1.0
        while True:
            await asyncio.sleep(min(tick, self._min_ping_interval() / 2))
            now = time.monotonic()
            for device in list(self.devices.values()):
                ws = device.ws
                alive = ws is not None and not ws.closed and device.ready and not device.silent
                if alive and ws is not None and now >= device.next_ping:
                    device.next_ping = now + device.ping_interval
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await ws.ping()
                if device.drift_enabled and device.can_send and now >= device.next_drift:
                    device.next_drift = now + self.config.drift_interval * device.rng.uniform(
                        0.8, 1.2
                    )
                    device.drift_tick()

    def _min_ping_interval(self) -> float:
        intervals = [d.ping_interval for d in self.devices.values() if d.ws is not None]
        return max(0.1, min(intervals, default=2.0))


class VirtualDevice:
    """One simulated device (or zigbee child) with its own state and faults."""

    def __init__(
        self,
        fleet: Fleet,
        factory: FactoryRecord,
        *,
        params: _Json | None = None,
        server: tuple[str, int] | None = None,
        parent: VirtualDevice | None = None,
        ssid: str = "HomeWiFi",
    ) -> None:
        self.fleet = fleet
        self.factory = factory
        self.spec: UiidSpec = spec_for(factory.uiid)
        self.rng = random.Random(factory.deviceid)
        self.params: _Json = default_params(self.spec, mac=factory.mac, rng=self.rng, ssid=ssid)
        if params:
            merge_params(self.params, params)
        self.server = server
        self.parent = parent
        self.children: dict[str, VirtualDevice] = {}
        if parent is not None:
            parent.children[factory.deviceid] = self
            self.params.setdefault("parentid", parent.deviceid)
            self.params.setdefault("subDevId", f"{self.rng.getrandbits(64):016x}")
        # Per-device faults.
        self.ack_delay = 0.0
        self.drop_acks = False
        self.echo = True
        self.drift: bool | None = None
        """None follows SimulatorConfig.drift."""
        self.load = round(self.rng.uniform(15.0, 1800.0), 2)
        # Connection state.
        self.want_online = False
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ready = False
        self.silent = False
        self.owner_apikey: str | None = None
        self.ping_interval = 60.0
        self.next_ping = 0.0
        self.next_drift = time.monotonic() + fleet.config.drift_interval * self.rng.random()
        self.register_attempts = 0
        self.last_register_error: int | None = None
        self.ui_active_until = 0.0
        self.last_event: _Json | None = None
        self.lan: Any = None
        """The LAN side (`simulator.lan.LanDevice`) when the device speaks LAN."""
        self.actions: list[_Json] = []
        """Write-only commands the device performed (restart, RF transmit, ...), oldest first."""
        self.applied: deque[tuple[float, _Json]] = deque(maxlen=64)
        """The last `update` commands the device applied: (monotonic time, params), oldest first."""
        self._task: asyncio.Task[None] | None = None
        self._pending: deque[asyncio.Future[_Json]] = deque()
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._boot = time.monotonic()
        self._d_seq = itertools.count(now_ms())

    # Identity ----------------------------------------------------------------------------
    @property
    def deviceid(self) -> str:
        """Return the device id."""
        return self.factory.deviceid

    @property
    def uiid(self) -> int:
        """Return the UI type id."""
        return self.factory.uiid

    @property
    def online(self) -> bool:
        """Return the cloud's online flag for this device."""
        return self.fleet.cloud_online(self.deviceid)

    @property
    def drift_enabled(self) -> bool:
        """Return True when this device drifts on the fleet timer."""
        enabled = self.fleet.config.drift if self.drift is None else self.drift
        return enabled and (
            self.spec.kind in METERING_KINDS or self.spec.kind in ("th", "thr", "zb_th")
        )

    def _set_ready(self, value: bool) -> None:
        self.ready = value
        if self.fleet.changed is not None:
            self.fleet.changed.set()

    @property
    def can_send(self) -> bool:
        """Return True when frames can go out now (handshake done; for a child, announced)."""
        return self.ready and (self.parent is None or self.parent.ready)

    @property
    def link(self) -> VirtualDevice:
        """Return the device whose socket carries this device's frames."""
        return self.parent if self.parent is not None else self

    def __repr__(self) -> str:
        return f"<VirtualDevice {self.deviceid} uiid={self.uiid} online={self.online}>"

    # Control -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start connecting (idempotent)."""
        self.want_online = True
        self.silent = False
        if self.lan is not None:
            self.lan.power(self, True)
        if self.parent is not None:
            if self.parent.ready:
                self._spawn(self._announce(True))
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"simulator-device-{self.deviceid}")

    async def go_online(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Power the device on and wait until the cloud reports it online."""
        self.start()
        await self.wait_online(timeout)

    async def go_offline(self, *, silent: bool = False, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Power the device off and wait until the cloud reports it offline.

        `silent=True` keeps the socket open but stops every frame (a power cut without a TCP
        close): the cloud notices only after its idle timeout.
        """
        self.want_online = False
        if self.lan is not None:
            self.lan.power(self, False)
        if self.parent is not None:
            self.ready = False
            if self.parent.ready:
                await self._announce(False)
        elif silent:
            self.silent = True
        else:
            await self._stop_task()
        await self._wait(lambda: not self.online, timeout)

    async def wait_online(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the cloud reports the device online and its first frames are through."""
        await self._wait(lambda: self.online and self.can_send, timeout)

    async def _wait(self, predicate: Callable[[], bool], limit: float) -> None:
        deadline = time.monotonic() + limit
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"device {self.deviceid}: condition not reached in {limit} s")
            event = self.fleet.changed
            if event is None:
                await asyncio.sleep(0.01)
                continue
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))

    async def shutdown(self) -> None:
        """Stop for good (simulator stop or device removal)."""
        self.want_online = False
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for task in list(self._side_tasks):
            task.cancel()
        if self._side_tasks:
            await asyncio.wait(list(self._side_tasks), timeout=1.0)
        await self._stop_task()

    async def _stop_task(self) -> None:
        task = self._task
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._task = None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # Reporting ---------------------------------------------------------------------------
    async def report(self, params: _Json) -> None:
        """Change state as the device itself would and push it (a device `update` frame)."""
        merge_params(self.params, params)
        self._remember_event(params)
        self._lan_changed(params)
        if not self.can_send:
            return
        await self._send_update(params)

    def report_nowait(self, params: _Json) -> None:
        """Like `report`, without waiting for the cloud's ack."""
        merge_params(self.params, params)
        self._remember_event(params)
        self._lan_changed(params)
        if self.can_send:
            self._spawn(self._send_update(params))

    def _lan_changed(self, params: _Json) -> None:
        if self.lan is not None and params:
            self.lan.changed(self, params)

    def _remember_event(self, params: _Json) -> None:
        if any(k in params for k in EVENT_KEYS) and "trigTime" in params:
            self.last_event = copy.deepcopy(params)

    async def _send_update(self, params: _Json) -> None:
        sent = stringify_numbers(params) if self.fleet.faults.params_as_strings else params
        frame = self._frame("update", params=sent)
        with contextlib.suppress(DeviceError, ConnectionError, RuntimeError):
            await self.link.request(frame)

    def _frame(self, action: str, **fields: Any) -> _Json:
        frame: _Json = {
            "userAgent": "device",
            "apikey": self.link.owner_apikey or self.factory.apikey,
            "deviceid": self.deviceid,
            "action": action,
        }
        frame.update(fields)
        if action == "update" and self.uiid >= 100 and self.parent is None:
            frame["d_seq"] = next(self._d_seq)
        return frame

    def full_state(self) -> _Json:
        """Return the params a device sends in its first `update`."""
        return copy.deepcopy(self.params)

    def drift_tick(self) -> None:
        """Move measurements a little and report them."""
        ui_active = time.monotonic() < self.ui_active_until
        change = drift_step(
            self.spec,
            self.params,
            rng=self.rng,
            load=self.load,
            ui_active=ui_active,
            th_glitch=self.fleet.faults.th_glitch,
        )
        if change:
            self.report_nowait(change)

    # Socket ------------------------------------------------------------------------------
    async def request(self, frame: _Json, reply_timeout: float = 10.0) -> _Json:
        """Send a device-originated frame and wait for the cloud's reply (in order)."""
        ws = self.ws
        if ws is None or ws.closed:
            raise DeviceError("not connected")
        future: asyncio.Future[_Json] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        await ws.send_str(json.dumps(frame, separators=(",", ":")))
        async with asyncio.timeout(reply_timeout):
            return await future

    async def _run(self) -> None:
        delay = self.fleet.config.device_reconnect_delay
        while self._should_run():
            try:
                await self._connection()
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, TimeoutError, DeviceError, ValueError) as err:
                _LOGGER.debug("device %s connection failed: %r", self.deviceid, err)
            if not self._should_run():
                return
            await asyncio.sleep(delay * self.rng.uniform(0.8, 1.2))

    def _should_run(self) -> bool:
        return self.want_online and self.fleet.running

    async def _dispatch(self, session: aiohttp.ClientSession) -> tuple[str, int]:
        if self.server is None:
            raise DeviceError("no server configured")
        host, port = self.server
        body = {
            "accept": "ws;2",
            "version": 2,
            "ts": int(time.monotonic() - self._boot),
            "deviceid": self.deviceid,
            "apikey": self.factory.apikey,
            "model": self.factory.model,
            "romVersion": self.factory.rom_version,
        }
        async with session.post(f"http://{host}:{port}/dispatch/device", json=body) as resp:
            data = await resp.json(content_type=None)
        if not isinstance(data, dict) or data.get("error") != 0:
            raise DeviceError(f"dispatch refused: {data!r}")
        return str(data["IP"]), int(data["port"])

    async def _connection(self) -> None:
        session = self.fleet.session
        if session is None:
            raise DeviceError("fleet not started")
        sem = self.fleet.semaphore
        await sem.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                sem.release()

        try:
            ip, port = await self._dispatch(session)
            ws = await session.ws_connect(
                f"ws://{ip}:{port}/api/ws", autoping=True, max_msg_size=1 << 20
            )
        except BaseException:
            release()
            raise
        self.ws = ws
        handshake = asyncio.create_task(self._handshake(release))
        try:
            await self._read_loop(ws)
        finally:
            release()
            handshake.cancel()
            with contextlib.suppress(BaseException):
                await handshake
            self.ready = False
            for child in self.children.values():
                child.ready = False
            self.ws = None
            while self._pending:
                fut = self._pending.popleft()
                if not fut.done():
                    fut.set_exception(DeviceError("disconnected"))
            if not ws.closed:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await ws.close()

    async def _handshake(self, release: Callable[[], None]) -> None:
        try:
            while True:
                self.register_attempts += 1
                reply = await self.request(
                    {
                        "userAgent": "device",
                        "apikey": self.factory.apikey,
                        "deviceid": self.deviceid,
                        "action": "register",
                        "version": 2,
                        "romVersion": self.factory.rom_version,
                        "model": self.factory.model,
                        "ts": int(time.monotonic() - self._boot),
                        "chipid": self.factory.chipid,
                    }
                )
                error = int(reply.get("error", -1))
                self.last_register_error = error
                if error == 0:
                    break
                if error not in NOT_BOUND:
                    _LOGGER.warning("device %s: register refused: %r", self.deviceid, reply)
                    await self._close_ws()
                    return
                await asyncio.sleep(self.fleet.config.device_register_retry)
            self.owner_apikey = str(reply["apikey"])
            hb = reply.get("config", {}).get("hbInterval", 145)
            configured = self.fleet.config.device_ping_interval
            self.ping_interval = configured if configured else max(0.1, float(hb) / 2)
            self.next_ping = time.monotonic() + self.ping_interval
            await self.request(self._frame("date"))
            await self.request(self._frame("update", params=self.full_state()))
            self._set_ready(True)
            for child in list(self.children.values()):
                if child.want_online:
                    await child._announce(True)
            if self.fleet.faults.replay_events and self.last_event is not None:
                await self.request(self._frame("update", params=self.last_event))
        except (DeviceError, ConnectionError, TimeoutError, RuntimeError) as err:
            _LOGGER.debug("device %s handshake failed: %r", self.deviceid, err)
            await self._close_ws()
        finally:
            release()

    async def _close_ws(self) -> None:
        ws = self.ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _announce(self, online: bool) -> None:
        """Zigbee child: tell the cloud (through the bridge) that it joined or left."""
        bridge = self.link
        frame = self._frame("reportSubDevice", parentid=bridge.deviceid)
        frame["params"] = {"subDevId": self.params.get("subDevId"), "online": online}
        with contextlib.suppress(DeviceError, ConnectionError, RuntimeError, TimeoutError):
            await bridge.request(frame)
            if online:
                await bridge.request(self._frame("update", params=self.full_state()))
                if self.fleet.faults.replay_events and self.last_event is not None:
                    await bridge.request(self._frame("update", params=self.last_event))
                self._set_ready(self.want_online)

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                continue
            if not isinstance(frame, dict):
                continue
            if "action" in frame:
                if not self.silent:
                    await self._on_command(frame)
            elif self._pending:
                fut = self._pending.popleft()
                if not fut.done():
                    fut.set_result(frame)

    # Commands ----------------------------------------------------------------------------
    async def _on_command(self, frame: _Json) -> None:
        deviceid = frame.get("deviceid")
        target = self if deviceid == self.deviceid else self.children.get(str(deviceid))
        if target is None or (target is not self and not target.want_online):
            return
        faults = self.fleet.faults
        if target.drop_acks or faults.drop_acks:
            return
        delay = target.ack_delay + faults.ack_delay
        if delay > 0:
            self._spawn(target._delayed(frame, delay))
        else:
            await target._execute(frame)

    async def _delayed(self, frame: _Json, delay: float) -> None:
        await asyncio.sleep(delay)
        with contextlib.suppress(ConnectionError, RuntimeError, DeviceError):
            await self._execute(frame)

    async def _send(self, frame: _Json) -> None:
        ws = self.link.ws
        if ws is None or ws.closed:
            raise DeviceError("not connected")
        await ws.send_str(json.dumps(frame, separators=(",", ":")))

    async def _execute(self, frame: _Json) -> None:
        action = frame.get("action")
        ack: _Json = {
            "error": 0,
            "userAgent": "device",
            "apikey": self.link.owner_apikey,
            "deviceid": self.deviceid,
            "sequence": frame.get("sequence"),
        }
        params = frame.get("params")
        if action == "query":
            keys = params if isinstance(params, list) else []
            state = self.params
            ack["params"] = (
                {k: state[k] for k in keys if k in state} if keys else copy.deepcopy(state)
            )
            await self._send(ack)
            return
        if action == "upgrade":
            await self._send(ack)
            version = params.get("version") if isinstance(params, dict) else None
            if isinstance(version, str):
                self.report_nowait({"fwVersion": version})
            return
        if action != "update":
            ack["error"] = 400
            await self._send(ack)
            return
        if isinstance(params, list):
            merged: _Json = {}
            for part in params:
                if isinstance(part, dict):
                    merged.update(part)
            params = merged
        if not isinstance(params, dict):
            ack["error"] = 400
            await self._send(ack)
            return
        result = apply_command(
            self.spec,
            self.params,
            params,
            rng=self.rng,
            partial=self.fleet.faults.partial_switches,
            load=self.load,
        )
        ack["error"] = result.error
        ack.update(result.ack_extra)
        if not result.error:
            self.applied.append((time.monotonic(), copy.deepcopy(params)))
        await self._send(ack)
        if result.error:
            return
        self._after_command(result)

    def _after_command(self, result: CommandResult) -> None:
        self.actions.extend(result.actions)
        report = dict(result.report)
        if result.ui_active is not None:
            self.ui_active_until = time.monotonic() + result.ui_active
            if self.spec.kind in METERING_KINDS:
                values = metering_values(self.spec, self.params, self.load, self.rng)
                self.params.update(values)
                if self.spec.kind in UIACTIVE_KINDS or not report:
                    report.update(values)
        self._lan_changed(report)
        if report and self.echo and not self.fleet.faults.no_echo_after_update:
            self._spawn(self._send_update(report))
        loop = asyncio.get_running_loop()
        for delay, change in result.followups:
            handle = loop.call_later(delay, self._followup, change)
            self._timers.add(handle)

    def _followup(self, change: _Json) -> None:
        self._timers = {
            h
            for h in self._timers
            if not h.cancelled() and h.when() > asyncio.get_running_loop().time()
        }
        if self.fleet.running:
            self.report_nowait(change)
