"""The LAN side of virtual devices (lan-protocol.md §10): HTTP `/zeroconf/<cmd>` and announcements.

Each LAN-capable virtual device serves the device HTTP API on 127.0.0.1 (its own port) and
announces itself: TXT properties exactly as a device builds them (`txtvers`, `id`, `type`,
`apivers`, `seq`, `encrypt`/`iv`, `data1..N` split at 249 bytes, a fresh IV each time, `seq`
+1 per change). Announcements go to an in-process feed (`LanNetwork.subscribe`) and, when asked,
to real mDNS through python-zeroconf (`LanNetwork.start_mdns`).

LAN and cloud stay in sync: a LAN command changes the virtual device's state and the device
pushes the change to the cloud (its `update` frame); a cloud command (or any state change)
re-announces. DIY-mode devices (`LanNetwork.add_diy_device`) talk plaintext and are bound to
nobody. Faults are knobs of `LanDevice.faults` (`LanFaults`), settable through `/_sim`.

Encryption here is written with `cryptography` directly, independent of the integration's
`lan` package, so a bug in one cannot hide a bug in the other.

Decisions where the reference is unsure are marked `[inf]`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field, fields
import hashlib
import json
import logging
import os
import socket
import struct
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .state import FactoryRecord
from .uiids import CommandResult, apply_command

if TYPE_CHECKING:
    from collections.abc import Callable

    from zeroconf.asyncio import AsyncZeroconf

    from .devices import VirtualDevice
    from .server import Simulator

_LOGGER = logging.getLogger("simulator.lan")

_Json = dict[str, Any]

SERVICE_TYPE = "_ewelink._tcp.local."
CHUNK = 249
MAX_BODY = 16 * 1024

LAN_TYPES: dict[int, str] = {
    1: "plug", 6: "plug", 14: "plug", 138: "plug", 162: "plug", 182: "plug", 190: "plug",
    225: "plug", 258: "plug", 268: "plug", 275: "plug", 277: "plug",
    2: "strip", 4: "strip", 7: "strip", 8: "strip", 77: "strip", 78: "strip",
    28: "rf", 32: "enhanced_plug", 34: "fan_light", 104: "light", 136: "light",
    126: "multifun_switch", 128: "meter", 181: "th_plug",
    168: "zigbee_gateway", 243: "zbbridgeu",
}  # fmt: skip
"""Local `type` of the UIIDs that speak LAN (lan-protocol.md §6.2, §6.3 "LAN yes")."""
DIY_LAN_TYPES: dict[int, str] = {1: "diy_plug", 77: "diy_plug", 44: "diylight", 136: "diy_light",
                                 128: "diy_meter"}  # fmt: skip
ANNOUNCE_ONLY = ("zigbee_gateway", "zbbridgeu")
REPLY_STATE_UIIDS = frozenset({138})
"""Newer firmware (MINIR4 class) returns the new state encrypted in the reply (§4.3)."""

# Path -> params one of which must be present (§4.5). None: any params.
PATHS: dict[str, tuple[str, ...] | None] = {
    "switch": ("switch",),
    "switches": ("switches",),
    "startup": ("startup",),
    "startups": ("configure",),
    "pulse": ("pulse",),
    "pulses": ("pulses",),
    "dimmable": None,
    "transmit": ("rfChl",),
    "capture": ("rfChl",),
    "fan": ("fan",),
    "light": ("light",),
    "sledonline": ("sledOnline",),
    "uiActive": ("uiActive",),
    "getHoursKwh": ("getHoursKwh",),
    "configure": ("configure",),
}
QUERY_PATHS = ("getState", "statistics", "info", "signal_strength")
FAN_SPEEDS = {0: ("off", "off", "off"), 1: ("on", "off", "off"), 2: ("on", "on", "off"),
              3: ("on", "off", "on")}  # fmt: skip
"""iFan03 relays 1..3 per fan speed (the cloud's `switches` view of `fan`/`speed`) [inf]."""


# Faults ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class LanFaults:
    """LAN fault knobs of one device (every knob off by default, like a healthy device)."""

    stop_announcing: bool = False
    """State changes are no longer announced (the device's records go stale in caches)."""
    stale_txt: bool = False
    """After every announcement, re-send the previous one (lower `seq`, its old IV)."""
    duplicate_txt: bool = False
    """Send every announcement twice (same IV)."""
    no_a_record: bool = False
    """Announce without an address (no A record; SRV and TXT only, Q2)."""
    error: int | None = None
    """Answer every command with this `error` (HTTP 200 JSON, e.g. 400, 401, 422)."""
    http_status: int | None = None
    """Answer every command with this HTTP status (JSON `{"error": status}`)."""
    no_answer: bool = False
    """Read requests and never answer (the client times out)."""
    reset_concurrent: bool = True
    """A second connection while a request is in progress is reset (real devices, Q7)."""
    min_interval: float = 0.0
    """Reset requests that arrive sooner than this after the previous one ended (seconds)."""
    delay: float = 0.0
    """Seconds to wait before answering (keeps the device busy)."""
    double_padding: bool = False
    """Encrypt with a second full padding block after 0x02 fill (AltoBeam GTWS78, Q3)."""
    empty_data: bool = False
    """Announcements carry an empty `data1` (SPM-Main, Q5)."""
    rf_equals: bool = False
    """Plaintext starting with `{"rf` writes `"="` for `":"` (RF Bridge, Q4)."""
    get_state: int | str = 0
    """`getState` answer: 0 (the state), 400, 422 or "html" (Q6)."""
    reply_state: bool | None = None
    """Return the new state encrypted in command replies (None: per UIID, MINIR4 class)."""

    def as_dict(self) -> _Json:
        """Return the knobs as JSON-friendly values."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def update(self, values: _Json) -> None:
        """Set knobs from a JSON object; unknown names raise KeyError, bad values ValueError."""
        names = {f.name: f for f in fields(self)}
        for key, value in values.items():
            if key not in names:
                raise KeyError(key)
            setattr(self, key, _knob(key, value))

    def reset(self) -> None:
        """Turn every knob off."""
        fresh = LanFaults()
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))


def _knob(key: str, value: Any) -> Any:
    if key in ("error", "http_status"):
        return None if value is None else int(value)
    if key in ("min_interval", "delay"):
        return float(value)
    if key == "get_state":
        if value not in (0, 400, 422, "html"):
            raise ValueError("get_state must be 0, 400, 422 or 'html'")
        return value
    if key == "reply_state":
        return None if value is None else bool(value)
    return bool(value)


# Announcements --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LanAnnouncement:
    """One announcement as a DNS-SD browser would resolve it."""

    name: str
    """Full service name, `eWeLink_<id>._ewelink._tcp.local.`."""
    addresses: tuple[str, ...]
    port: int
    properties: dict[bytes, bytes] = field(repr=False)
    host_name: str = ""
    """SRV target, `eWeLink_<id>.local.`."""
    seq: int = 0
    sub: str | None = None
    """The sub-unit id for SPM-Main sub-unit announcements."""

    def as_json(self) -> _Json:
        """Return a JSON-friendly form (properties decoded)."""
        return {
            "name": self.name,
            "addresses": list(self.addresses),
            "port": self.port,
            "host_name": self.host_name,
            "seq": self.seq,
            "properties": {
                k.decode(): v.decode(errors="replace") for k, v in self.properties.items()
            },
        }


def aes_encrypt(
    plaintext: bytes, devicekey: str, iv: bytes, *, double_padding: bool = False
) -> bytes:
    """AES-128-CBC with key MD5(devicekey), PKCS#7 (Q3: 0x02 fill, then a full 0x10 block)."""
    key = hashlib.md5(devicekey.encode(), usedforsecurity=False).digest()
    if double_padding:
        fill = -len(plaintext) % 16
        padded = plaintext + b"\x02" * fill + b"\x10" * 16
    else:
        count = 16 - len(plaintext) % 16
        padded = plaintext + bytes([count]) * count
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def aes_decrypt(data: str, iv: str, devicekey: str) -> bytes:
    """Decrypt a request's data (strict PKCS#7); raise ValueError on any problem."""
    key = hashlib.md5(devicekey.encode(), usedforsecurity=False).digest()
    raw_iv = base64.b64decode(iv, validate=True)
    raw = base64.b64decode(data, validate=True)
    if len(raw_iv) != 16 or not raw or len(raw) % 16:
        raise ValueError("bad sizes")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw_iv)).decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    count = padded[-1]
    if not 1 <= count <= 16 or padded[-count:] != bytes([count]) * count:
        raise ValueError("bad padding")
    return padded[:-count]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# One device -----------------------------------------------------------------------------------
@dataclass(slots=True)
class LanRequest:
    """One request a device received (for tests): when, path, decrypted data, answer."""

    at: float
    command: str
    data: Any
    encrypted: bool
    error: int | None = None


class LanDevice:
    """The LAN side of one virtual device: an HTTP server and its announcements."""

    def __init__(
        self,
        net: LanNetwork,
        device: VirtualDevice,
        *,
        local_type: str,
        encrypt: bool = True,
        instance_prefix: str = "eWeLink_",
        port: int = 0,
        diy: bool = False,
    ) -> None:
        self.net = net
        self.device = device
        self.local_type = local_type
        self.encrypt = encrypt
        self.instance_prefix = instance_prefix
        self.diy = diy
        self.host = net.host
        self.port = port
        self.seq = 0
        self.faults = LanFaults()
        self.powered = diy or device.want_online
        self.requests: list[LanRequest] = []
        self.history: list[LanAnnouncement] = []
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._busy = False
        self._last_end = 0.0
        self._lock = asyncio.Lock()
        self._serving = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # Identity --------------------------------------------------------------------------------
    @property
    def deviceid(self) -> str:
        """Return the device id."""
        return self.device.deviceid

    @property
    def devicekey(self) -> str:
        """Return the devicekey (the factory apikey; the thing list's `devicekey`)."""
        return self.device.factory.apikey

    @property
    def instance(self) -> str:
        """Return the mDNS instance name, `eWeLink_<deviceid>`."""
        return f"{self.instance_prefix}{self.deviceid}"

    @property
    def running(self) -> bool:
        """Return True while the HTTP server listens."""
        return self._server is not None

    @property
    def url(self) -> str:
        """Return `http://host:port`."""
        return f"http://{self.host}:{self.port}"

    @property
    def reply_state(self) -> bool:
        """Return True when command replies carry the new state."""
        if self.faults.reply_state is not None:
            return self.faults.reply_state
        return self.device.uiid in REPLY_STATE_UIIDS

    def as_json(self) -> _Json:
        """Return what the admin API shows."""
        return {
            "deviceid": self.deviceid,
            "uiid": self.device.uiid,
            "instance": self.instance,
            "type": self.local_type,
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "seq": self.seq,
            "encrypt": self.encrypt,
            "diy": self.diy,
            "powered": self.powered,
            "running": self.running,
            "faults": self.faults.as_dict(),
            "requests": len(self.requests),
        }

    # Power -----------------------------------------------------------------------------------
    def power(self, device: VirtualDevice, on: bool) -> None:
        """Hook: the virtual device was powered on or off; a sub-unit joining is announced."""
        if device is not self.device:
            if on and self.running and device.parent is self.device and self.local_type == "meter":
                self.announce_sub(device, device.full_state())
            return
        self.powered = on
        if self.net.running:
            self._spawn(self.boot() if on else self.halt())

    async def boot(self) -> None:
        """Start serving and announce the state (`seq` restarts at 1)."""
        async with self._lock:
            if self._server is not None or not self.powered:
                return
            try:
                server = await asyncio.start_server(self._serve, self.host, self.port)
            except OSError:
                _LOGGER.info("LAN %s: port %d taken, using another", self.deviceid, self.port)
                server = await asyncio.start_server(self._serve, self.host, 0)
            self._server = server
            self._serving.set()
            self.port = server.sockets[0].getsockname()[1]
            self.seq = 0
            self._last_end = 0.0
        self.announce_full()
        if self.local_type == "meter":
            for child in list(self.device.children.values()):
                if child.want_online:
                    self.announce_sub(child, child.full_state())
        self.net.notify()

    async def halt(self) -> None:
        """Stop serving (connections are dropped) and withdraw the mDNS records."""
        async with self._lock:
            server, self._server = self._server, None
            if server is None:
                return
            self._serving.clear()
            server.close()
            for writer in list(self._conns):
                writer.transport.abort()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await server.wait_closed()
        await self.net.withdraw(self)
        self.net.notify()

    async def wait_running(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the HTTP server listens."""
        async with asyncio.timeout(timeout):
            await self._serving.wait()

    async def stop(self) -> None:
        """Stop for good."""
        await self.halt()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Announcements ---------------------------------------------------------------------------
    def changed(self, device: VirtualDevice, params: _Json) -> None:
        """Hook: state changed (by a LAN or cloud command, a report, a follow-up, drift)."""
        if not self.running or not params:
            return
        if device is self.device:
            self.announce_full()
        elif device.parent is self.device and self.local_type == "meter":
            self.announce_sub(device, params)

    def announce_full(self) -> LanAnnouncement | None:
        """Count `seq` up and announce the full state (most devices announce everything)."""
        return self._announce(self.device.full_state(), None)

    def announce_sub(self, child: VirtualDevice, params: _Json) -> LanAnnouncement | None:
        """SPM-Main: count `seq` up and announce one sub-unit's changed fields (TXT `id` = sub)."""
        return self._announce(dict(params), child.deviceid)

    def _announce(self, params: _Json, sub: str | None) -> LanAnnouncement | None:
        self.seq += 1
        ann = self.build(params, sub=sub)
        if self.faults.stop_announcing:
            return ann
        previous = next((a for a in reversed(self.history) if a.sub == sub), None)
        self.history.append(ann)
        del self.history[:-16]
        self.net.publish(ann)
        if self.faults.duplicate_txt:
            self.net.publish(ann)
        if self.faults.stale_txt and previous is not None:
            self.net.publish(previous)
        return ann

    def build(self, params: _Json, *, sub: str | None = None) -> LanAnnouncement:
        """Return the TXT record of a state (a fresh IV each time)."""
        props: dict[bytes, bytes] = {
            b"txtvers": b"1",
            b"id": (sub or self.deviceid).encode(),
            b"type": self.local_type.encode(),
            b"apivers": b"1",
            b"seq": str(self.seq).encode(),
        }
        if self.local_type != "zbbridgeu":  # ZbBridge-U announces without data (Q5)
            props.update(self._data_fields(params))
        addresses = () if self.faults.no_a_record else (self.host,)
        return LanAnnouncement(
            name=f"{self.instance}.{SERVICE_TYPE}",
            addresses=addresses,
            port=self.port,
            properties=props,
            host_name=f"{self.instance}.local.",
            seq=self.seq,
            sub=sub,
        )

    def _data_fields(self, params: _Json) -> dict[bytes, bytes]:
        if self.faults.rf_equals and self.local_type == "rf":
            # The RF Bridge's own records start with its rf* keys [inf]; some write "=" (Q4).
            params = dict(sorted(params.items(), key=lambda kv: not kv[0].startswith("rf")))
        text = _dumps(params)
        if self.faults.rf_equals and text.startswith('{"rf'):
            text = text.replace('":"', '"="')
        out: dict[bytes, bytes] = {}
        if self.encrypt:
            iv = os.urandom(16)
            ciphertext = aes_encrypt(
                text.encode(), self.devicekey, iv, double_padding=self.faults.double_padding
            )
            out[b"encrypt"] = b"true"  # omitted in plaintext mode (Q13)
            out[b"iv"] = base64.b64encode(iv)
            payload = base64.b64encode(ciphertext)
        else:
            payload = text.encode()
        if self.faults.empty_data:
            payload = b""
        chunks = [payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)] or [b""]
        for number, chunk in enumerate(chunks, 1):
            out[f"data{number}".encode()] = chunk
        return out

    # HTTP ------------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        faults = self.faults
        if self._busy and faults.reset_concurrent:
            _reset(writer)
            return
        if faults.min_interval and loop.time() - self._last_end < faults.min_interval:
            _reset(writer)
            return
        self._busy = True
        self._conns.add(writer)
        try:
            try:
                async with asyncio.timeout(5.0):
                    method, path, body = await _read_request(reader)
            except (
                TimeoutError,
                ValueError,
                ConnectionError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
            ):
                return
            if faults.no_answer:
                with contextlib.suppress(ConnectionError):
                    await reader.read()  # until the client gives up
                return
            if faults.delay:
                await asyncio.sleep(faults.delay)
            status, content_type, payload = self.handle(method, path, body)
            writer.write(_response(status, content_type, payload))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        finally:
            self._busy = False
            self._last_end = loop.time()
            self._conns.discard(writer)
            writer.close()

    def handle(self, method: str, path: str, raw: bytes) -> tuple[int, str, bytes]:
        """Answer one request: (HTTP status, content type, body)."""
        if method != "POST" or not path.startswith("/zeroconf/"):
            return 404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>"
        command = path.removeprefix("/zeroconf/")
        record = LanRequest(time.monotonic(), command, None, False)
        self.requests.append(record)
        del self.requests[:-200]
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._reply(record, {}, 400)
        if self.faults.http_status is not None:
            record.error = self.faults.http_status
            return (
                self.faults.http_status,
                "application/json",
                _dumps({"error": self.faults.http_status}).encode(),
            )
        if self.faults.error is not None:
            return self._reply(record, body, self.faults.error)
        deviceid = body.get("deviceid")
        if deviceid != self.deviceid and not (self.diy and deviceid == ""):
            return self._reply(record, body, 404)
        data = self._request_data(record, body)
        if data is None:
            return self._reply(
                record, body, 401 if self.encrypt and body.get("encrypt") is not True else 400
            )
        record.data = data
        return self._command(record, body, command, data)

    def _request_data(self, record: LanRequest, body: _Json) -> _Json | None:
        raw = body.get("data")
        if self.encrypt:
            iv = body.get("iv")
            if (
                body.get("encrypt") is not True
                or not isinstance(raw, str)
                or not isinstance(iv, str)
            ):
                return None
            record.encrypted = True
            try:
                data = json.loads(aes_decrypt(raw, iv, self.devicekey))
            except ValueError:
                return None
        elif body.get("encrypt") is True:
            return None  # DIY devices have encryption off [inf]
        elif isinstance(raw, str):
            try:
                data = json.loads(raw)  # DIY v1.4 clients may send data as a JSON string
            except ValueError:
                return None
        else:
            data = raw
        return data if isinstance(data, dict) else None

    def _command(
        self, record: LanRequest, body: _Json, command: str, data: _Json
    ) -> tuple[int, str, bytes]:
        if self.local_type in ANNOUNCE_ONLY:
            return self._reply(record, body, 400)  # cannot control anything locally [obs]
        params = dict(data)
        target = self.device
        sub = params.pop("subDevId", None)
        if sub is not None:
            child = self._child(sub)
            if child is None:
                return self._reply(record, body, 422)  # [inf]
            target = child
        if command == "getState":
            answer = self.faults.get_state
            if answer == "html":
                record.error = -1
                return 200, "text/html", b"<html><body>eWeLink</body></html>"
            return self._reply(record, body, int(answer), state=target.full_state())
        if command == "statistics":
            self.announce_full()
            return self._reply(record, body, 0)
        if command in ("info", "signal_strength"):
            if not self.diy:
                return self._reply(record, body, 422)  # DIY endpoints [inf]
            if command == "signal_strength":
                return self._reply(
                    record, body, 0, state={"signalStrength": target.params.get("rssi", -60)}
                )
            info = {"deviceid": self.deviceid, **target.full_state()}
            return self._reply(record, body, 0, state=info)
        error = self._check_path(command, params, target)
        if error:
            return self._reply(record, body, error)
        result = self._apply(target, _translate(target, command, params))
        if result.error:
            return self._reply(record, body, 400)
        state = target.full_state() if self.reply_state else None
        return self._reply(record, body, 0, state=state)

    def _child(self, sub: Any) -> VirtualDevice | None:
        for child in self.device.children.values():
            if sub in (child.deviceid, child.params.get("subDevId")):
                return child
        return None

    @staticmethod
    def _check_path(command: str, params: _Json, target: VirtualDevice) -> int:
        if command not in PATHS:
            # Generic commands: SonoffLAN posts any params to /zeroconf/<first key> [obs].
            return 0 if params and next(iter(params)) == command else 422  # [inf] open question 9
        needed = PATHS[command]
        if not params:
            return 400
        if needed is not None and not any(key in params for key in needed):
            return 400  # [inf]
        if command == "switch" and "switch" not in target.params:
            return 422  # a multi-channel device has no single relay [inf]
        if command == "switches" and "switches" not in target.params:
            return 422
        return 0

    def _apply(self, target: VirtualDevice, params: _Json) -> CommandResult:
        result = apply_command(
            target.spec,
            target.params,
            params,
            rng=target.rng,
            partial=target.fleet.faults.partial_switches,
            load=target.load,
        )
        if result.error == 0:
            # The device pushes the change to the cloud and re-announces (the `changed` hook).
            target._after_command(result)
        return result

    def _reply(
        self, record: LanRequest, body: _Json, error: int, *, state: _Json | None = None
    ) -> tuple[int, str, bytes]:
        record.error = error
        reply: _Json = {"seq": self.seq, "sequence": body.get("sequence"), "error": error}
        if "sequence" not in body:
            del reply["sequence"]
        if self.encrypt:
            reply["encrypt"] = True  # even on error replies [obs]
        if state is not None and error == 0:
            if self.encrypt:
                iv = os.urandom(16)
                ciphertext = aes_encrypt(_dumps(state).encode(), self.devicekey, iv)
                reply["iv"] = base64.b64encode(iv).decode()
                reply["data"] = base64.b64encode(ciphertext).decode()
            else:
                reply["data"] = state
        return 200, "application/json", _dumps(reply).encode()


def _translate(target: VirtualDevice, command: str, params: _Json) -> _Json:
    """iFan03 `fan`/`light` (LAN view) to the cloud's `switches` (outlet 0 light, 1..3 fan)."""
    if target.spec.kind != "ifan" or command not in ("fan", "light"):
        return params
    switches: list[_Json] = []
    if "light" in params:
        switches.append({"outlet": 0, "switch": params["light"]})
    if "fan" in params:
        speed = params.get("speed", 1) if params["fan"] == "on" else 0
        relays = FAN_SPEEDS.get(speed if isinstance(speed, int) else 1, FAN_SPEEDS[1])
        switches.extend({"outlet": i + 1, "switch": s} for i, s in enumerate(relays))
    return {"switches": switches} if switches else params


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close a connection with a TCP reset (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if not 0 <= length <= MAX_BODY:
        raise ValueError("bad length")
    body = await reader.readexactly(length) if length else b""
    return parts[0], parts[1], body


def _response(status: int, content_type: str, payload: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
              422: "Unprocessable Entity", 500: "Internal Server Error"}.get(status, "Error")  # fmt: skip
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


# mDNS -----------------------------------------------------------------------------------------
class MdnsPublisher:
    """Publish announcements as real mDNS records through python-zeroconf."""

    def __init__(self, interfaces: list[str] | None = None) -> None:
        from zeroconf import IPVersion  # noqa: PLC0415 - only when asked for
        from zeroconf.asyncio import AsyncZeroconf  # noqa: PLC0415

        self.aiozc: AsyncZeroconf = AsyncZeroconf(
            interfaces=interfaces if interfaces is not None else ["127.0.0.1"],
            ip_version=IPVersion.V4Only,
        )
        self._queues: dict[str, asyncio.Queue[LanAnnouncement | None]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._registered: set[str] = set()
        self.published = 0

    def publish(self, ann: LanAnnouncement) -> None:
        """Queue an announcement; each service name is published in order by its own worker."""
        queue = self._queues.get(ann.name)
        if queue is None:
            queue = self._queues[ann.name] = asyncio.Queue()
            self._workers[ann.name] = asyncio.get_running_loop().create_task(
                self._worker(queue), name=f"simulator-mdns-{ann.name[:30]}"
            )
        queue.put_nowait(ann)

    async def withdraw(self, name: str) -> None:
        """Unregister a service (goodbye packets)."""
        queue = self._queues.get(name)
        if queue is not None:
            queue.put_nowait(None)

    async def _worker(self, queue: asyncio.Queue[LanAnnouncement | None]) -> None:
        from zeroconf.asyncio import AsyncServiceInfo  # noqa: PLC0415

        current: AsyncServiceInfo | None = None
        while True:
            ann = await queue.get()
            try:
                if ann is None:
                    if current is not None and current.name in self._registered:
                        self._registered.discard(current.name)
                        await (await self.aiozc.async_unregister_service(current))
                    continue
                info = AsyncServiceInfo(
                    SERVICE_TYPE,
                    ann.name,
                    addresses=[socket.inet_aton(a) for a in ann.addresses],
                    port=ann.port,
                    properties=ann.properties,
                    server=ann.host_name,
                )
                if ann.name in self._registered:
                    await (await self.aiozc.async_update_service(info))
                else:
                    await (await self.aiozc.async_register_service(info, allow_name_change=False))
                    self._registered.add(ann.name)
                current = info
                self.published += 1
            except (OSError, ValueError, RuntimeError) as err:
                _LOGGER.warning("mDNS publication of %s failed: %r", ann.name if ann else "?", err)

    async def close(self) -> None:
        """Stop the workers and close the zeroconf instance (goodbye for every service)."""
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._queues.clear()
        with contextlib.suppress(OSError, RuntimeError):
            await self.aiozc.async_unregister_all_services()
        await self.aiozc.async_close()


# The network ----------------------------------------------------------------------------------
type Subscriber = Callable[[LanAnnouncement], None]


class LanNetwork:
    """Every LAN device of one simulator, the announcement feed and the mDNS publisher."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.host = sim.config.lan_host
        self.devices: dict[str, LanDevice] = {}
        self.diy: dict[str, LanDevice] = {}
        self.running = False
        self.mdns: MdnsPublisher | None = None
        self._subscribers: list[Subscriber] = []
        self._latest: dict[tuple[str, str | None], LanAnnouncement] = {}
        self._foreign: list[LanAnnouncement] = []
        self.sent = 0

    # Devices ---------------------------------------------------------------------------------
    def attach(
        self,
        device: VirtualDevice,
        *,
        local_type: str | None = None,
        encrypt: bool = True,
        instance_prefix: str = "eWeLink_",
        port: int = 0,
    ) -> LanDevice:
        """Give a virtual device its LAN side (idempotent); it boots when powered and running."""
        existing = self.devices.get(device.deviceid)
        if existing is not None:
            return existing
        lan = LanDevice(
            self,
            device,
            local_type=local_type or LAN_TYPES.get(device.uiid, "plug"),
            encrypt=encrypt,
            instance_prefix=instance_prefix,
            port=port,
        )
        self.devices[device.deviceid] = lan
        device.lan = lan
        for child in device.children.values():
            child.lan = lan
        if self.running and lan.powered:
            lan._spawn(lan.boot())
        return lan

    def auto_attach(self, device: VirtualDevice) -> LanDevice | None:
        """Attach a device that speaks LAN (by UIID); SPM-4Relay rides on its SPM-Main."""
        parent = device.parent
        if parent is not None:
            if (
                parent.deviceid in self.devices
                and self.devices[parent.deviceid].local_type == "meter"
            ):
                device.lan = self.devices[parent.deviceid]
            return None
        if device.uiid not in LAN_TYPES:
            return None
        return self.attach(device)

    async def detach(self, deviceid: str) -> None:
        """Stop a device's LAN side (device removed)."""
        lan = self.devices.pop(deviceid, None) or self.diy.pop(deviceid, None)
        if lan is not None:
            await lan.stop()
            lan.device.lan = None

    async def add_diy_device(
        self,
        uiid: int = 1,
        deviceid: str | None = None,
        *,
        params: _Json | None = None,
        local_type: str | None = None,
        port: int = 0,
        devicekey: str | None = None,
    ) -> LanDevice:
        """Add a DIY-mode device: plaintext LAN, bound to no account, no cloud connection."""
        from .devices import VirtualDevice  # noqa: PLC0415 - devices imports nothing from here
        from .uiids import spec_for  # noqa: PLC0415

        sim = self.sim
        deviceid = (deviceid or sim.new_deviceid()).lower()
        if deviceid in self.diy or deviceid in sim.fleet.devices:
            raise ValueError(f"device {deviceid} exists")
        spec = spec_for(uiid)
        factory = FactoryRecord(
            deviceid=deviceid,
            apikey=devicekey or str(os.urandom(16).hex()),
            uiid=uiid,
            product_model=spec.product_model,
            model=spec.model,
            ui=spec.name,
            mac="d0:27:"
            + ":".join(f"{b:02x}" for b in hashlib.sha256(deviceid.encode()).digest()[:4]),
        )
        device = VirtualDevice(sim.fleet, factory, params=params, ssid=sim.wifi.ssid)
        lan = LanDevice(
            self,
            device,
            local_type=local_type or DIY_LAN_TYPES.get(uiid, "diy_plug"),
            encrypt=False,
            port=port,
            diy=True,
        )
        device.lan = lan
        self.diy[deviceid] = lan
        if self.running:
            await lan.boot()
        return lan

    def device(self, deviceid: str) -> LanDevice:
        """Return a LAN device (bound or DIY) by id."""
        lan = self.devices.get(deviceid) or self.diy.get(deviceid)
        if lan is None:
            raise KeyError(deviceid)
        return lan

    def all(self) -> list[LanDevice]:
        """Return every LAN device, bound and DIY."""
        return [*self.devices.values(), *self.diy.values()]

    def set_faults(self, **knobs: Any) -> None:
        """Set LAN fault knobs on every device."""
        for lan in self.all():
            lan.faults.update(knobs)

    # Lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start serving every powered device (called by `Simulator.start`)."""
        self.running = True
        await asyncio.gather(*(lan.boot() for lan in self.all() if lan.powered))
        if self.sim.config.lan_mdns and self.mdns is None:
            await self.start_mdns()

    async def stop(self) -> None:
        """Stop every device server and the mDNS publisher."""
        self.running = False
        await asyncio.gather(*(lan.stop() for lan in self.all()), return_exceptions=True)
        if self.mdns is not None:
            mdns, self.mdns = self.mdns, None
            await mdns.close()

    async def wait_running(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every powered device serves."""
        for lan in self.all():
            if lan.powered:
                await lan.wait_running(timeout)

    # Feed and mDNS ---------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber, *, replay: bool = True) -> Callable[[], None]:
        """Call `callback` (soon, in the loop) with every announcement; return an unsubscriber.

        With `replay`, the latest announcement of every running device is delivered first, as
        the answers to a browser's first query would be.
        """
        self._subscribers.append(callback)
        if replay:
            loop = asyncio.get_running_loop()
            for ann in [*self._latest.values(), *self._foreign]:
                loop.call_soon(callback, ann)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, ann: LanAnnouncement) -> None:
        """Send an announcement to the feed subscribers and, if on, to mDNS."""
        self.sent += 1
        self._latest[(ann.name, ann.sub)] = ann
        loop = asyncio.get_running_loop()
        for callback in list(self._subscribers):
            loop.call_soon(callback, ann)
        if self.mdns is not None:
            self.mdns.publish(ann)

    def publish_foreign(
        self, instance: str, properties: dict[bytes, bytes] | None = None
    ) -> LanAnnouncement:
        """Announce another service of the same type (iHost, ZbBridge-U) that clients must skip."""
        ann = LanAnnouncement(
            name=f"{instance}.{SERVICE_TYPE}",
            addresses=(self.host,),
            port=8081,
            properties=properties if properties is not None else {b"txtvers": b"1"},
            host_name=f"{instance}.local.",
        )
        self._foreign.append(ann)
        self.publish(ann)
        return ann

    async def withdraw(self, lan: LanDevice) -> None:
        """Forget a halted device's announcements (mDNS: goodbye)."""
        name = f"{lan.instance}.{SERVICE_TYPE}"
        for key in [k for k in self._latest if k[0] == name]:
            del self._latest[key]
        if self.mdns is not None:
            await self.mdns.withdraw(name)

    async def start_mdns(self, interfaces: list[str] | None = None) -> MdnsPublisher:
        """Publish every announcement as real mDNS from now on (current state included)."""
        if self.mdns is None:
            self.mdns = MdnsPublisher(interfaces or self.sim.config.lan_mdns_interfaces)
            for ann in [*self._latest.values(), *self._foreign]:
                self.mdns.publish(ann)
        return self.mdns

    def notify(self) -> None:
        """Wake `Simulator.wait_for` waiters."""
        self.sim._notify()

    # Admin -----------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        """Register the LAN and cloud-switch admin routes."""
        r = app.router
        r.add_get("/_sim/lan", _wrap(self._index))
        r.add_post("/_sim/lan/faults", _wrap(self._set_all_faults))
        r.add_post("/_sim/lan/diy", _wrap(self._add_diy))
        r.add_post("/_sim/lan/mdns", _wrap(self._mdns))
        r.add_get("/_sim/lan/{deviceid}", _wrap(self._one))
        r.add_post("/_sim/lan/{deviceid}/faults", _wrap(self._device_faults))
        r.add_post("/_sim/lan/{deviceid}/announce", _wrap(self._announce_now))
        r.add_get("/_sim/cloud", _wrap(self._cloud))
        r.add_post("/_sim/cloud", _wrap(self._set_cloud))

    async def _index(self, _request: web.Request, _body: _Json) -> Any:
        return {
            "devices": {lan.deviceid: lan.as_json() for lan in self.all()},
            "mdns": self.mdns is not None,
            "announcements": self.sent,
            "cloud_up": self.sim.cloud_up,
        }

    async def _one(self, request: web.Request, _body: _Json) -> Any:
        lan = self.device(request.match_info["deviceid"])
        out = lan.as_json()
        out["devicekey"] = lan.devicekey  # the simulator's own fixture data
        out["last_requests"] = [
            {"command": r.command, "data": r.data, "encrypted": r.encrypted, "error": r.error}
            for r in lan.requests[-20:]
        ]
        return out

    async def _set_all_faults(self, _request: web.Request, body: _Json) -> Any:
        _check_knobs(body)
        self.set_faults(**body)
        return {lan.deviceid: lan.faults.as_dict() for lan in self.all()}

    async def _device_faults(self, request: web.Request, body: _Json) -> Any:
        lan = self.device(request.match_info["deviceid"])
        if body.get("reset"):
            lan.faults.reset()
            body = {k: v for k, v in body.items() if k != "reset"}
        _check_knobs(body)
        lan.faults.update(body)
        return lan.faults.as_dict()

    async def _announce_now(self, request: web.Request, _body: _Json) -> Any:
        lan = self.device(request.match_info["deviceid"])
        ann = lan.announce_full() if lan.running else None
        return {"seq": lan.seq, "announced": ann is not None and not lan.faults.stop_announcing}

    async def _add_diy(self, _request: web.Request, body: _Json) -> Any:
        lan = await self.add_diy_device(
            int(body.get("uiid", 1)),
            body.get("deviceid"),
            params=body.get("params"),
            local_type=body.get("type"),
            port=int(body.get("port", 0)),
        )
        return lan.as_json()

    async def _mdns(self, _request: web.Request, body: _Json) -> Any:
        interfaces = body.get("interfaces")
        if interfaces is not None and not (
            isinstance(interfaces, list) and all(isinstance(i, str) for i in interfaces)
        ):
            raise ValueError("interfaces must be a list of addresses")
        publisher = await self.start_mdns(interfaces)
        return {"mdns": True, "published": publisher.published}

    async def _cloud(self, _request: web.Request, _body: _Json) -> Any:
        return {"up": self.sim.cloud_up}

    async def _set_cloud(self, _request: web.Request, body: _Json) -> Any:
        up = body.get("up")
        if not isinstance(up, bool):
            raise TypeError("up must be true or false")
        if up:
            self.sim.start_cloud()
        else:
            await self.sim.stop_cloud()
        return {"up": self.sim.cloud_up}


LAN_ROUTES = (
    ("GET", "/_sim/lan", "LAN devices (host, port, seq, type, faults), mDNS on?, cloud up?"),
    ("POST", "/_sim/lan/faults", "set LAN fault knobs on every LAN device (see LanFaults)"),
    ("POST", "/_sim/lan/diy", "add a DIY-mode device {uiid, deviceid?, params?, type?, port?}"),
    ("POST", "/_sim/lan/mdns", "publish announcements as real mDNS {interfaces?}"),
    ("GET", "/_sim/lan/{deviceid}", "one LAN device, its devicekey and last requests"),
    ("POST", "/_sim/lan/{deviceid}/faults", "{stop_announcing, stale_txt, duplicate_txt, no_a_record, error, http_status, no_answer, reset_concurrent, min_interval, delay, double_padding, empty_data, rf_equals, get_state, reply_state, reset}"),
    ("POST", "/_sim/lan/{deviceid}/announce", "announce the full state now (seq + 1)"),
    ("GET", "/_sim/cloud", "{up}: is the cloud serving"),
    ("POST", "/_sim/cloud", "{up: false} stops the cloud (sockets dropped, connections cut), LAN keeps serving; {up: true} restarts it"),
)  # fmt: skip


def _check_knobs(body: _Json) -> None:
    names = {f.name for f in fields(LanFaults)}
    unknown = sorted(set(body) - names)
    if unknown:
        raise ValueError(f"unknown knob {unknown[0]}")


async def _json_body(request: web.Request) -> _Json:
    raw = await request.read() if request.can_read_body else b""
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise TypeError("body must be an object")
    return body


def _wrap(handler: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            result = await handler(request, await _json_body(request))
        except KeyError as err:
            return web.json_response({"error": f"not found: {err.args[0]}"}, status=404)
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err) or type(err).__name__}, status=400)
        return web.json_response(result)

    return wrapped
