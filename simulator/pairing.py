"""The device side of pairing: AP-mode HTTP (`GET /device`, `POST /ap`) and ESP-Touch v1.

An unpaired device is in the factory database but bound to nobody. It joins the simulated Wi-Fi
(`sim.wifi`) with the credentials it was given; with the right ones it dispatches to the server it
was told about and keeps sending `register` until an account binds it (`POST /v2/device/add`);
with wrong ones it never comes online, and in ESP-Touch mode it never sends the ACK
(pairing.md §3.8). It then goes back to pairing mode after `back_to_pairing` seconds, as a user
re-entering pairing mode (or the firmware giving up) would, so a retry with the right password
works; `reset()` (admin `POST /_sim/unpaired/reset`) does it at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import ipaddress
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .esptouch import EspTouchReceiver, EspTouchResult, build_ack

if TYPE_CHECKING:
    from .config import SimulatorConfig
    from .devices import VirtualDevice

_LOGGER = logging.getLogger("simulator.pairing")


@dataclass(slots=True)
class WifiNetwork:
    """The simulated LAN every device joins."""

    ssid: str = "HomeWiFi"
    password: str = "correct-horse"
    bssid: str = "aa:bb:cc:dd:ee:ff"
    check_bssid: bool = False
    """Pin the AP by BSSID (Espressif's example firmware does; unverified for eWeLink firmware)."""

    def accepts(
        self, ssid: bytes | str, password: bytes | str, bssid: bytes | str | None = None
    ) -> bool:
        """Return True when these credentials join this network."""
        ssid_b = ssid.encode() if isinstance(ssid, str) else ssid
        pwd_b = password.encode() if isinstance(password, str) else password
        if ssid_b != self.ssid.encode() or pwd_b != self.password.encode():
            return False
        if self.check_bssid and bssid is not None:
            given = bssid if isinstance(bssid, str) else ":".join(f"{b:02x}" for b in bssid)
            return given.lower() == self.bssid.lower()
        return True

    def as_json(self) -> dict[str, Any]:
        """Return the network as JSON."""
        return {"ssid": self.ssid, "password": self.password, "bssid": self.bssid}


class UnpairedDevice:
    """A device in pairing mode, with its AP HTTP server and/or ESP-Touch receiver."""

    def __init__(
        self,
        device: VirtualDevice,
        *,
        config: SimulatorConfig,
        wifi: Callable[[], WifiNetwork],
        ap_http: bool = True,
        esptouch: bool = True,
        http_host: str = "127.0.0.1",
        http_port: int = 0,
        udp_host: str = "127.0.0.1",
        udp_port: int = 0,
        ack_port: int = 18266,
        ack_host: str | None = None,
        join_delay: float = 0.05,
        back_to_pairing: float = 1.0,
    ) -> None:
        self.device = device
        self.config = config
        self._wifi = wifi
        self.ap_http = ap_http
        self.esptouch = esptouch
        self.http_host = http_host
        self._http_port = http_port
        self.udp_host = udp_host
        self._udp_port = udp_port
        self.ack_port = ack_port
        self.ack_host = ack_host
        self.join_delay = join_delay
        self.back_to_pairing = back_to_pairing
        self.state = "pairing"
        """pairing -> (lan: joined via ESP-Touch, no server yet) -> joined | no_wifi -> pairing."""
        self.resets = 0
        self.ap_requests: list[dict[str, Any]] = []
        self.touch_result: EspTouchResult | None = None
        self.acks_sent = 0
        self._runner: web.AppRunner | None = None
        self._receiver: EspTouchReceiver | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # Identity ----------------------------------------------------------------------------
    @property
    def deviceid(self) -> str:
        """Return the device id."""
        return self.device.deviceid

    @property
    def factory_apikey(self) -> str:
        """Return the factory apikey the device shows in `GET /device`."""
        return self.device.factory.apikey

    @property
    def chipid(self) -> str:
        """Return the chip id."""
        return self.device.factory.chipid

    @property
    def http_port(self) -> int:
        """Return the bound HTTP port (0 before the server runs)."""
        return self._http_port

    @property
    def http_url(self) -> str:
        """Return the base URL of the device's HTTP server."""
        return f"http://{self.http_host}:{self._http_port}"

    @property
    def udp_port(self) -> int:
        """Return the bound ESP-Touch UDP port."""
        return self._udp_port

    @property
    def lan_ip(self) -> str:
        """Return the device's IPv4 on the simulated LAN (its HTTP host when that is an IPv4)."""
        try:
            return str(ipaddress.IPv4Address(self.http_host))
        except ValueError:
            return "127.0.0.1"

    @property
    def decoder(self) -> Any:
        """Return the ESP-Touch decoder (for inspection in tests)."""
        return self._receiver.decoder if self._receiver is not None else None

    @property
    def datagrams(self) -> int:
        """Return how many ESP-Touch datagrams the device has received."""
        return self._receiver.datagrams if self._receiver is not None else 0

    @property
    def online(self) -> bool:
        """Return the cloud's online flag."""
        return self.device.online

    async def wait_online(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the device is bound and online."""
        await self.device.wait_online(timeout)

    # Lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the AP HTTP server and/or the ESP-Touch receiver."""
        if self.ap_http:
            await self._start_http()
        if self.esptouch:
            loop = asyncio.get_running_loop()
            self._receiver = EspTouchReceiver(self._on_touch)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self._receiver or EspTouchReceiver(self._on_touch),
                local_addr=(self.udp_host, self._udp_port),
            )
            self._udp = transport
            self._udp_port = int(transport.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        """Close the servers and stop the ACK sender."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _start_http(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/device", self._get_device)
        app.router.add_post("/ap", self._post_ap)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.http_host, self._http_port)
        await site.start()
        self._runner = runner
        self._http_port = site.port

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # HTTP ----------------------------------------------------------------------------------
    async def _get_device(self, _request: web.Request) -> web.Response:
        factory = self.device.factory
        body: dict[str, Any] = {"deviceid": factory.deviceid, "apikey": factory.apikey}
        if factory.chipid:
            body["chipid"] = factory.chipid
        body["accept"] = "post"
        return web.json_response(body)

    async def _post_ap(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return _ap_error("body is not JSON")
        if not isinstance(body, dict):
            return _ap_error("body must be an object")
        port, server, ssid, password = (
            body.get("port"),
            body.get("serverName"),
            body.get("ssid"),
            body.get("password", ""),
        )
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            return _ap_error("port must be a JSON number")
        if not isinstance(server, str) or not server:
            return _ap_error("serverName missing")
        if not isinstance(ssid, str) or not 1 <= len(ssid.encode()) <= 32:
            return _ap_error("ssid must be 1..32 bytes")
        if not isinstance(password, str) or len(password.encode()) > 64:
            return _ap_error("password must be at most 64 bytes")
        self.ap_requests.append(body)
        _LOGGER.info(
            "device %s got POST /ap (server %s:%d, ssid %s)", self.deviceid, server, port, ssid
        )
        # The device answers before it tries the credentials (pairing.md §3.8).
        self._spawn(self._join(ssid, password, server, port))
        return web.json_response({"error": 0})

    async def _join(self, ssid: str, password: str, server: str, port: int) -> None:
        await asyncio.sleep(self.join_delay)
        if not self._wifi().accepts(ssid, password):
            self._no_wifi(ssid)
            return
        self.state = "joined"
        self.device.server = (server, port)
        self.device.start()

    def _no_wifi(self, ssid: str) -> None:
        self.state = "no_wifi"
        _LOGGER.info(
            "device %s cannot join %r: wrong credentials; back in pairing mode in %.1f s",
            self.deviceid, ssid, self.back_to_pairing,
        )  # fmt: skip
        self._spawn(self._return_to_pairing())

    async def _return_to_pairing(self) -> None:
        await asyncio.sleep(self.back_to_pairing)
        if self.state == "no_wifi":
            await self.reset()

    async def reset(self) -> None:
        """Back to pairing mode, as a long press does: forget what was sent, listen again.

        A device that joined (but is bound to nobody yet) leaves the network again.
        """
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        if self.state in ("joined", "lan"):
            await self.device.shutdown()
            self.device.server = None
        self.state = "pairing"
        self.touch_result = None
        self.resets += 1
        if self._receiver is not None:
            self._receiver.decoder.reset()
        if self.ap_http:
            await self._start_http()
        _LOGGER.info("device %s is in pairing mode again", self.deviceid)

    # ESP-Touch -----------------------------------------------------------------------------
    def _on_touch(self, result: EspTouchResult, sender: tuple[str, int]) -> None:
        self.touch_result = result
        _LOGGER.info(
            "device %s decoded ESP-Touch from %s: ssid %r, ACK to %s",
            self.deviceid,
            sender[0],
            result.ssid,
            result.sender_ip,
        )
        if not self._wifi().accepts(result.ssid, result.password, result.bssid):
            self._no_wifi(result.ssid.decode(errors="replace"))
            return
        if self.state == "pairing":
            self.state = "lan"
        self._spawn(self._after_touch(result))

    async def _after_touch(self, result: EspTouchResult) -> None:
        await self._start_http()
        packet = build_ack(result.token, self.device.factory.mac, self.lan_ip)
        target = (self.ack_host or result.sender_ip, self.ack_port)
        for _ in range(self.config.esptouch_ack_count):
            if self._udp is None:
                return
            with contextlib.suppress(OSError):
                self._udp.sendto(packet, target)
                self.acks_sent += 1
            await asyncio.sleep(self.config.esptouch_ack_interval)

    def as_json(self) -> dict[str, Any]:
        """Return what a client needs to find this device."""
        return {
            "deviceid": self.deviceid,
            "uiid": self.device.uiid,
            "http_url": self.http_url if self._runner is not None else None,
            "udp_host": self.udp_host if self.esptouch else None,
            "udp_port": self._udp_port if self.esptouch else None,
            "ack_port": self.ack_port,
            "state": self.state,
            "ap_requests": len(self.ap_requests),
            "resets": self.resets,
        }


def _ap_error(reason: str) -> web.Response:
    # [inf] The guide only says the POST "fails" with a string port; answer HTTP 400.
    return web.json_response({"error": 400, "reason": reason}, status=400)
