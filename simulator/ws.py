"""The websocket long connection `/api/ws`, for apps and devices (coolkit-cloud.md §12, §14).

One handler serves both: the first frame decides. `userOnline` opens an app session, `register`
(with `userAgent: device`) a device session. The hub keeps both kinds, relays app commands to
devices and device acks back, and fans device updates and online/offline changes out to every
app session of the owner and of every account the device is shared with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import safejson
from .state import Account, CloudDevice, Session, now_ms
from .uiids import merge_params

if TYPE_CHECKING:
    from .config import SimulatorConfig
    from .faults import Faults
    from .state import Store

_LOGGER = logging.getLogger("simulator.ws")
_FRAMES = logging.getLogger("simulator.frames")

NOT_BOUND_ERROR = 403
"""Register answer for a device that is in the factory database but bound to nobody (403/404/415)."""
UNKNOWN_DEVICE_ERROR = 404
"""Register answer for an unknown deviceid or a wrong factory apikey."""

_Json = dict[str, Any]


def dumps(frame: _Json) -> str:
    """Serialise a frame as compact JSON (the cloud sends compact JSON)."""
    return safejson.dumps(frame)


class DeviceOfflineError(Exception):
    """The device has no live socket."""


class DeviceTimeoutError(Exception):
    """The device did not ack in time."""


@dataclass(eq=False)
class AppConn:
    """One app websocket session."""

    ws: web.WebSocketResponse
    request: web.Request
    account: Account
    session: Session
    queue: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    last_rx: float = field(default_factory=time.monotonic)
    half_open: bool = False
    closing: bool = False
    writer: asyncio.Task[None] | None = None

    @property
    def apikey(self) -> str:
        """Return the account's apikey."""
        return self.account.apikey

    def send(self, frame: _Json | str) -> None:
        """Queue a frame (dropped on a half-open or closing socket)."""
        if self.half_open or self.closing:
            return
        text = frame if isinstance(frame, str) else dumps(frame)
        self.queue.put_nowait(("text", text))

    def close(self, code: int) -> None:
        """Queue a clean close after the frames already queued."""
        if not self.closing:
            self.closing = True
            self.queue.put_nowait(("close", code))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self.closing = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass(eq=False)
class DeviceConn:
    """One device websocket session."""

    ws: web.WebSocketResponse
    request: web.Request
    deviceid: str
    registered: bool = False
    owner_apikey: str = ""
    last_rx: float = field(default_factory=time.monotonic)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: _Json) -> None:
        """Send a frame to the device."""
        async with self.send_lock:
            await self.ws.send_str(dumps(frame))

    def abort(self) -> None:
        """Drop the TCP connection."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass(eq=False)
class Pending:
    """An app or REST command waiting for the device's ack."""

    deviceid: str
    key: str
    future: asyncio.Future[_Json]
    on_ack: Callable[[_Json], None] | None = None


class Hub:
    """All live websocket sessions and the routing between them."""

    def __init__(
        self,
        store: Store,
        config: SimulatorConfig,
        faults: Faults,
        on_change: Callable[[], None],
    ) -> None:
        self.store = store
        self.config = config
        self.faults = faults
        self._on_change = on_change
        self.app_conns: set[AppConn] = set()
        self.by_apikey: dict[str, set[AppConn]] = {}
        self.device_conns: dict[str, DeviceConn] = {}
        self._all_device_conns: set[DeviceConn] = set()
        self._pending: dict[tuple[str, str], list[Pending]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._seq = itertools.count(1)
        self._push_seq = itertools.count(1)
        self.stopping = False
        self.quiet = False
        """Log device online/offline changes at DEBUG (bulk start)."""
        self.stats = {"app_frames_in": 0, "device_frames_in": 0, "pushes": 0}
        self.app_opened_at: dict[tuple[str, str], float] = {}
        """(account apikey, appid) -> monotonic time of its last accepted `userOnline`."""

    # Lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the idle-socket reaper."""
        self._reaper = asyncio.create_task(self._reap(), name="simulator-ws-reaper")

    async def stop(self) -> None:
        """Close every socket and stop every task of the hub."""
        self.stopping = True
        if self._reaper is not None:
            self._reaper.cancel()
        for conn in list(self.app_conns):
            conn.abort()
        for dconn in list(self._all_device_conns):
            dconn.abort()
        for task in list(self._tasks):
            task.cancel()
        for pendings in self._pending.values():
            for p in pendings:
                if not p.future.done():
                    p.future.cancel()
        self._pending.clear()
        tasks = [t for t in (*self._tasks, *self._handlers) if not t.done()]
        if self._reaper is not None:
            tasks.append(self._reaper)
        if tasks:
            _done, still = await asyncio.wait(tasks, timeout=self.config.shutdown_timeout)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _reap(self) -> None:
        idle = self.config.effective_idle_timeout
        while True:
            await asyncio.sleep(self.config.effective_reaper_interval)
            now = time.monotonic()
            for conn in list(self.app_conns):
                if not conn.half_open and not conn.closing and now - conn.last_rx > idle:
                    _LOGGER.info(
                        "app socket of %s silent for %.1f s: dropped", conn.account.label, idle
                    )
                    conn.abort()
            for dconn in list(self._all_device_conns):
                if now - dconn.last_rx > idle:
                    _LOGGER.info("device %s silent for %.1f s: dropped", dconn.deviceid, idle)
                    dconn.abort()

    # Queries -----------------------------------------------------------------------------
    def app_session_count(self, account: Account | None = None) -> int:
        """Return the number of live app sessions (of one account)."""
        if account is None:
            return len(self.app_conns)
        return len(self.by_apikey.get(account.apikey, ()))

    def device_link(self, device: CloudDevice) -> DeviceConn | None:
        """Return the socket that reaches a device (its bridge's for a zigbee child)."""
        if device.parentid:
            if not device.online:
                return None
            conn = self.device_conns.get(device.parentid)
        else:
            conn = self.device_conns.get(device.deviceid)
        if conn is None or not conn.registered:
            return None
        return conn

    # Pushes ------------------------------------------------------------------------------
    def _audience(self, device: CloudDevice) -> list[AppConn]:
        conns: list[AppConn] = []
        for apikey in device.audience():
            conns.extend(self.by_apikey.get(apikey, ()))
        return conns

    def push_update(self, device: CloudDevice, params: Any, extra: _Json | None = None) -> None:
        """Fan a device update out to the owner's and the sharees' app sessions."""
        if self.stopping:
            return
        frame: _Json = {
            "action": "update",
            "deviceid": device.deviceid,
            "apikey": device.owner.apikey,
            "userAgent": "device",
        }
        if extra:
            frame.update(extra)
        frame.update(ts=0, params=params, **{"from": "device"})
        if self.faults.numeric_sequence:
            frame["seq"] = str(next(self._push_seq))
        text = dumps(frame)
        for conn in self._audience(device):
            if self.faults.notify_noise:
                conn.send(self._noise(device))
            conn.send(text)
            self.stats["pushes"] += 1

    def _noise(self, device: CloudDevice) -> _Json:
        if device.parentid:
            return {
                "action": "reportSubDevice",
                "deviceid": device.parentid,
                "apikey": device.owner.apikey,
                "userAgent": "device",
                "params": {"subDevId": device.params.get("subDevId", ""), "online": device.online},
            }
        now = now_ms()
        return {
            "action": "notify",
            "deviceid": device.deviceid,
            "apikey": device.owner.apikey,
            "userAgent": "server",
            "sequence": str(now),
            "cmd": "incrementalDataNotify",
            "params": {"start": now - 30000, "end": now},
        }

    def push_sysmsg(self, device: CloudDevice, online: bool) -> None:
        """Tell the owner's and sharees' sessions that a device went online or offline."""
        if self.stopping:
            return
        text = dumps(
            {
                "action": "sysmsg",
                "deviceid": device.deviceid,
                "apikey": device.owner.apikey,
                "ts": int(time.time()),
                "params": {"online": online},
            }
        )
        for conn in self._audience(device):
            conn.send(text)
            self.stats["pushes"] += 1

    def set_online(self, device: CloudDevice, online: bool) -> None:
        """Change a device's cloud online flag and push the sysmsg."""
        if device.online == online:
            return
        device.online = online
        _LOGGER.log(
            logging.DEBUG if self.quiet else logging.INFO,
            "device %s %s",
            device.deviceid,
            "online" if online else "offline",
        )
        self.push_sysmsg(device, online)
        if not online and device.parentid and self.faults.subdev_rssi_127:
            self.push_update(device, {"subDevRssi": 127})
        if not online:
            for child in self.store.children_of(device.deviceid):
                self.set_online(child, False)
        self._on_change()

    # Session control ---------------------------------------------------------------------
    def kick(self, session: Session) -> int:
        """Log out a session's sockets as a login elsewhere would: 406 frame, then close 1000."""
        count = 0
        for conn in list(self.app_conns):
            if conn.session is session:
                conn.send(
                    {
                        "error": 406,
                        "reason": "Authentication Failed",
                        "apikey": conn.apikey,
                        "actionName": "userOnline",
                    }
                )
                conn.close(1000)
                count += 1
        return count

    def close_session_sockets(self, session: Session, code: int = 1006) -> int:
        """Close the app sockets of one session (1006 drops the TCP connection)."""
        count = 0
        for conn in list(self.app_conns):
            if conn.session is session:
                if code == 1006:
                    conn.abort()
                else:
                    conn.close(code)
                count += 1
        return count

    def drop_app_sockets(self, code: int = 1006, account: Account | None = None) -> int:
        """Close app sockets: 1006 drops the TCP connection, other codes close cleanly."""
        count = 0
        for conn in list(self.app_conns):
            if account is not None and conn.account is not account:
                continue
            if code == 1006:
                conn.abort()
            else:
                conn.close(code)
            count += 1
        return count

    def half_open_app_sockets(self, account: Account | None = None) -> int:
        """Stop reading and answering app sockets without closing them."""
        count = 0
        for conn in self.app_conns:
            if account is not None and conn.account is not account:
                continue
            conn.half_open = True
            transport = conn.request.transport
            if transport is not None:
                transport.pause_reading()
            count += 1
        return count

    def close_device(self, deviceid: str) -> None:
        """Drop the socket of a device (after it was unbound or moved to another account)."""
        conn = self.device_conns.get(deviceid)
        if conn is not None:
            conn.abort()

    # Commands ----------------------------------------------------------------------------
    def next_sequence(self) -> str:
        """Return a fresh sequence for a server-originated command."""
        return f"{now_ms()}{next(self._seq) % 1000:03d}"

    async def command(
        self,
        device: CloudDevice,
        action: str,
        params: Any,
        *,
        sequence: Any = None,
        ack_timeout: float | None = None,
        wait: bool = True,
        on_ack: Callable[[_Json], None] | None = None,
    ) -> _Json:
        """Send an app command to a device and return its ack.

        Raises DeviceOfflineError when the device has no socket and DeviceTimeoutError when it
        does not ack within `ack_timeout` (default: the configured device ack timeout).
        """
        link = self.device_link(device)
        if link is None:
            raise DeviceOfflineError(device.deviceid)
        if sequence is None:
            sequence = self.next_sequence()
        frame = {
            "action": action,
            "deviceid": device.deviceid,
            "apikey": device.owner.apikey,
            "userAgent": "app",
            "sequence": sequence,
            "ts": 0,
            "params": params,
            "from": "app",
        }
        if not wait:
            await link.send(frame)
            return {"error": 0}
        loop = asyncio.get_running_loop()
        key = (device.deviceid, str(sequence))
        pending = Pending(device.deviceid, str(sequence), loop.create_future(), on_ack)
        self._pending.setdefault(key, []).append(pending)
        try:
            await link.send(frame)
            return await asyncio.wait_for(
                asyncio.shield(pending.future),
                self.config.device_ack_timeout if ack_timeout is None else ack_timeout,
            )
        except TimeoutError as err:
            raise DeviceTimeoutError(device.deviceid) from err
        except ConnectionError as err:
            raise DeviceOfflineError(device.deviceid) from err
        finally:
            waiting = self._pending.get(key)
            if waiting is not None and pending in waiting:
                waiting.remove(pending)
                if not waiting:
                    del self._pending[key]
            if not pending.future.done():
                pending.future.cancel()

    def _resolve_ack(self, frame: _Json) -> None:
        key = (str(frame.get("deviceid", "")), str(frame.get("sequence")))
        waiting = self._pending.get(key)
        if not waiting:
            _LOGGER.debug("late or unknown ack %s", key)
            return
        pending = waiting.pop(0)
        if not waiting:
            del self._pending[key]
        if pending.future.done():
            return
        if pending.on_ack is not None:
            pending.on_ack(frame)
        pending.future.set_result(frame)

    # The handler -------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve `/api/ws` for apps and devices."""
        if self.faults.refuse_ws_seconds > 0 or self.stopping:
            return web.Response(status=503, text="Service Unavailable")
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            ws = web.WebSocketResponse(autoping=False, timeout=2.0, max_msg_size=1 << 20)
            await ws.prepare(request)
            first = await self._first_frame(ws)
            if first is None:
                return ws
            if first.get("action") == "userOnline":
                await self._run_app(ws, request, first)
            elif first.get("action") == "register" or first.get("userAgent") == "device":
                await self._run_device(ws, request, first)
            else:
                await ws.send_str(dumps({"error": 400, "reason": "Bad Request"}))
                await ws.close()
            return ws
        finally:
            if task is not None:
                self._handlers.discard(task)

    async def _first_frame(self, ws: web.WebSocketResponse) -> _Json | None:
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                while True:
                    msg = await ws.receive()
                    if msg.type == WSMsgType.PING:
                        await ws.pong(msg.data)
                        continue
                    if msg.type != WSMsgType.TEXT:
                        return None
                    try:
                        frame = safejson.loads(msg.data)
                    except ValueError:
                        frame = None
                    if not isinstance(frame, dict):
                        await ws.send_str(dumps({"error": 400, "reason": "Bad Request"}))
                        await ws.close()
                        return None
                    return frame
        except TimeoutError:
            await ws.close(code=1000)
            return None

    # App sessions ------------------------------------------------------------------------
    def _handshake_error(self, frame: _Json) -> tuple[int, Session | None]:
        at, apikey, appid = frame.get("at"), frame.get("apikey"), frame.get("appid")
        if not isinstance(at, str) or not isinstance(apikey, str) or not isinstance(appid, str):
            return 400, None
        session = self.store.by_at.get(at)
        app = self.store.apps.get(appid)
        if (
            session is not None
            and not session.revoked
            and session.at_expires <= time.time()
            and self.faults.ws_expired_at_error in (401, 402)
        ):
            return self.faults.ws_expired_at_error, None
        if (
            session is None
            or session.revoked
            or session.at_expires <= time.time()
            or session.account.apikey != apikey
            or session.appid != appid
            or app is None
            or app.expired
            or self.faults.appid_expired
        ):
            return 406, None
        return 0, session

    async def _run_app(self, ws: web.WebSocketResponse, request: web.Request, hello: _Json) -> None:
        error, session = self._handshake_error(hello)
        reply: _Json = {"error": error}
        if "apikey" in hello:
            reply["apikey"] = hello["apikey"]
        if "sequence" in hello:
            reply["sequence"] = hello["sequence"]
        if error or session is None:
            reply.update(
                reason="Bad Request" if error == 400 else "Authentication Failed",
                actionName="userOnline",
            )
            await ws.send_str(dumps(reply))
            await ws.close(code=1000)
            return
        reply["config"] = {"hb": 1, "hbInterval": self.config.hb_interval}
        conn = AppConn(ws, request, session.account, session)
        self.app_conns.add(conn)
        self.by_apikey.setdefault(conn.apikey, set()).add(conn)
        conn.writer = asyncio.create_task(self._app_writer(conn), name="simulator-app-writer")
        conn.send(reply)
        self.app_opened_at[(conn.apikey, session.appid)] = time.monotonic()
        _LOGGER.info("app session opened: %s (%s)", session.account.label, session.appid)
        self._on_change()
        try:
            await self._app_loop(conn)
        finally:
            self.app_conns.discard(conn)
            peers = self.by_apikey.get(conn.apikey)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self.by_apikey[conn.apikey]
            conn.closing = True
            conn.queue.put_nowait(("stop", None))
            with contextlib.suppress(asyncio.CancelledError):
                await conn.writer
            if not ws.closed and not self.stopping:
                with contextlib.suppress(Exception):
                    await ws.close()
            _LOGGER.info("app session closed: %s", session.account.label)
            self._on_change()

    async def _app_writer(self, conn: AppConn) -> None:
        while True:
            kind, value = await conn.queue.get()
            try:
                if kind == "stop":
                    return
                if kind == "close":
                    await conn.ws.close(code=int(value))
                    return
                if self.config.log_frames:
                    _FRAMES.debug("-> app %s %s", conn.account.label, value)
                await conn.ws.send_str(value)
            except ConnectionError, RuntimeError:
                return

    async def _app_loop(self, conn: AppConn) -> None:
        ws = conn.ws
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.PING:
                if not self.faults.ignore_ping and not conn.half_open:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await ws.pong(msg.data)
                continue
            if msg.type in (WSMsgType.PONG, WSMsgType.BINARY):
                continue
            if msg.type != WSMsgType.TEXT:
                return
            if conn.half_open:
                continue
            conn.last_rx = time.monotonic()
            self.stats["app_frames_in"] += 1
            if self.config.log_frames:
                _FRAMES.debug("<- app %s %s", conn.account.label, msg.data)
            if msg.data == "ping":
                if not self.faults.ignore_ping:
                    conn.send("pong")
                continue
            try:
                frame = safejson.loads(msg.data)
            except ValueError:
                frame = None
            if not isinstance(frame, dict):
                conn.send({"error": 400, "reason": "Bad Request"})
                continue
            self._on_app_frame(conn, frame)

    def _on_app_frame(self, conn: AppConn, frame: _Json) -> None:
        action = frame.get("action")
        if action in ("update", "query", "upgrade"):
            self._spawn(self._app_command(conn, frame), name="simulator-app-command")
        elif action == "userOnline":
            error, session = self._handshake_error(frame)
            reply: _Json = {"error": error, "apikey": conn.apikey}
            if "sequence" in frame:
                reply["sequence"] = frame["sequence"]
            if not error and session is not None:
                reply["config"] = {"hb": 1, "hbInterval": self.config.hb_interval}
            conn.send(reply)
        else:
            reply = {"error": 400, "reason": "Bad Request"}
            if "sequence" in frame:
                reply["sequence"] = frame["sequence"]
            conn.send(reply)

    def _ack_sequence(self, sequence: Any) -> Any:
        if self.faults.numeric_sequence and isinstance(sequence, str) and sequence.isdigit():
            return int(sequence)
        return sequence

    async def _app_command(self, conn: AppConn, frame: _Json) -> None:
        deviceid = frame.get("deviceid")
        sequence = frame.get("sequence")
        device = self.store.devices.get(deviceid) if isinstance(deviceid, str) else None

        def reply(error: int, **extra: Any) -> None:
            out: _Json = {"error": error, "deviceid": deviceid}
            out["apikey"] = device.owner.apikey if device is not None else frame.get("apikey")
            if sequence is not None:
                out["sequence"] = self._ack_sequence(sequence)
            out.update(extra)
            conn.send(out)

        action = str(frame.get("action"))
        params = frame.get("params")
        if device is None or not device.visible_to(conn.account):
            reply(406)  # [inf] not yours and not shared with you
            return
        # `apikey` must be the owner's; `selfApikey` (required for shared devices) must be yours.
        self_apikey = frame.get("selfApikey")
        if frame.get("apikey") != device.owner.apikey or (
            device.owner is not conn.account and self_apikey != conn.apikey
        ):
            reply(406)
            return
        if self_apikey is not None and self_apikey != conn.apikey:
            reply(406)
            return
        if action == "query":
            if not isinstance(params, list):
                reply(400)
                return
        elif isinstance(params, list):
            if not all(isinstance(p, dict) for p in params):
                reply(400)
                return
        elif not isinstance(params, dict):
            reply(400)
            return

        def relay(ack: _Json) -> None:
            extra = {k: ack[k] for k in ("params", "config") if k in ack}
            reply(int(ack.get("error", 0)), **extra)

        outcome: Any = "ack"
        try:
            ack = await self.command(device, action, params, sequence=sequence, on_ack=relay)
            outcome = ack.get("error", 0)
        except DeviceOfflineError:
            outcome = self.config.offline_command_error
            reply(outcome)
        except DeviceTimeoutError:
            outcome = 504
            reply(outcome)
        _LOGGER.info(
            "%s %s %s from %s -> %s", action, deviceid, params, conn.account.label, outcome
        )

    # Device sessions ---------------------------------------------------------------------
    async def _run_device(
        self, ws: web.WebSocketResponse, request: web.Request, first: _Json
    ) -> None:
        deviceid = str(first.get("deviceid", ""))
        conn = DeviceConn(ws, request, deviceid)
        self._all_device_conns.add(conn)
        try:
            await self._device_frame(conn, first)
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.PING:
                    conn.last_rx = time.monotonic()
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await ws.pong(msg.data)
                    continue
                if msg.type in (WSMsgType.PONG, WSMsgType.BINARY):
                    conn.last_rx = time.monotonic()
                    continue
                if msg.type != WSMsgType.TEXT:
                    return
                conn.last_rx = time.monotonic()
                try:
                    frame = safejson.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(frame, dict):
                    await self._device_frame(conn, frame)
        except ConnectionError:
            return
        finally:
            self._all_device_conns.discard(conn)
            if self.device_conns.get(conn.deviceid) is conn:
                del self.device_conns[conn.deviceid]
                device = self.store.devices.get(conn.deviceid)
                if device is not None and not self.stopping:
                    self.set_online(device, False)
            if not ws.closed and not self.stopping:
                with contextlib.suppress(Exception):
                    await ws.close()

    async def _device_frame(self, conn: DeviceConn, frame: _Json) -> None:
        self.stats["device_frames_in"] += 1
        if self.config.log_frames:
            _FRAMES.debug("<- device %s %s", conn.deviceid, dumps(frame))
        action = frame.get("action")
        if action is None:
            if "sequence" in frame:
                self._resolve_ack(frame)
            return
        deviceid = str(frame.get("deviceid", ""))
        base: _Json = {"deviceid": deviceid}
        if action == "register":
            await self._register(conn, frame)
            return
        if not conn.registered:
            await conn.send({"error": NOT_BOUND_ERROR, **base, "reason": "device not registered"})
            return
        device = self.store.devices.get(deviceid)
        if device is None or conn.deviceid not in (deviceid, device.parentid):
            await conn.send({"error": 403, **base, "reason": "forbidden"})
            return
        base["apikey"] = device.owner.apikey
        if "sequence" in frame:
            base["sequence"] = frame["sequence"]
        if action == "date":
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            await conn.send({"error": 0, **base, "date": f"{stamp}.{now_ms() % 1000:03d}Z"})
        elif action == "update":
            params = frame.get("params")
            if isinstance(params, list):
                merged: _Json = {}
                for part in params:
                    if isinstance(part, dict):
                        merged.update(part)
                params = merged
            if not isinstance(params, dict):
                await conn.send({"error": 400, **base})
                return
            merge_params(device.params, params)
            if device.parentid and not device.online and set(params) != {"subDevRssi"}:
                self.set_online(device, True)
            extra = {"d_seq": frame["d_seq"]} if "d_seq" in frame else None
            self.push_update(device, params, extra)
            self._on_change()
            await conn.send({"error": 0, **base})
        elif action == "query":
            keys = frame.get("params")
            stored = device.params
            if isinstance(keys, list) and keys:
                found = {k: stored[k] for k in keys if k in stored}
            else:
                found = dict(stored)
            await conn.send({"error": 0, **base, "params": found or 0})
        elif action == "reportSubDevice":
            params = frame.get("params") or {}
            online = bool(params.get("online")) if isinstance(params, dict) else False
            if device.parentid == conn.deviceid:
                self.set_online(device, online)
            await conn.send({"error": 0, **base})
        else:
            await conn.send({"error": 400, **base, "reason": "unknown action"})

    async def _register(self, conn: DeviceConn, frame: _Json) -> None:
        deviceid = str(frame.get("deviceid", ""))
        factory = self.store.factory.get(deviceid)
        reply: _Json = {"deviceid": deviceid}
        if factory is None or frame.get("apikey") != factory.apikey or deviceid != conn.deviceid:
            await conn.send({"error": UNKNOWN_DEVICE_ERROR, **reply, "reason": "device not found"})
            return
        device = self.store.devices.get(deviceid)
        if device is None:
            await conn.send({"error": NOT_BOUND_ERROR, **reply, "reason": "device not bound"})
            return
        previous = self.device_conns.get(deviceid)
        if previous is not None and previous is not conn:
            previous.abort()
        self.device_conns[deviceid] = conn
        conn.registered = True
        conn.owner_apikey = device.owner.apikey
        await conn.send(
            {
                "error": 0,
                **reply,
                "apikey": device.owner.apikey,
                "config": {"hb": 1, "hbInterval": self.config.hb_interval},
            }
        )
        _LOGGER.debug("device %s registered for %s", deviceid, device.owner.label)
        self.set_online(device, True)
