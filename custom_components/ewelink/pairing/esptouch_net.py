"""ESP-Touch v1 over UDP: sender, ACK listener and the high-level provisioning call.

Pure asyncio with non-blocking sockets; every duration is configurable so that tests can
run a scaled-down schedule. Defaults follow Espressif's app (pairing.md §1.8):

* destination UDP port 7001; address ``255.255.255.255`` by default, a subnet broadcast
  address (what the iOS app does; see :func:`subnet_broadcast_address`), any other IPv4
  address, or :data:`MULTICAST` (``234.n.n.n`` with ``n`` cycling 1..100, re-evaluated once
  per guide round and once per datum item);
* 8 ms after every datagram; cycles of a 2 s guide phase followed by the data phase up to
  6 s after the cycle began, the data index continuing across cycles; sending stops after
  45 s;
* ACKs are received on UDP 18266 (``SO_REUSEADDR``) until 60 s after the start.

The sender must run on the HA host's LAN, with ``sender_ip`` its own address there: the
device sends the ACK to that address. Multicast can be dropped by IGMP snooping, and a
Docker bridge network cannot reach the LAN broadcast domain (pairing.md §1.11).
See :mod:`.esptouch` for the BSSID and encryption caveats: plain ESP-Touch may be ignored
by eWeLink firmware, AP mode is the dependable path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
import errno
import ipaddress
import itertools
import logging
import socket
from types import TracebackType
from typing import Any, Final, Self

from .errors import (
    ErrorReason,
    EspTouchSocketError,
    EspTouchTimeoutError,
    InvalidPairingInputError,
)
from .esptouch import (
    PAYLOAD_BYTE,
    EspTouchPayload,
    EspTouchResult,
    Transform,
    build_payload,
    parse_ack,
)
from .validation import validate_port

_LOGGER = logging.getLogger(__name__)

BROADCAST: Final = "255.255.255.255"
MULTICAST: Final = "multicast"
"""Pseudo target: rotate through ``234.n.n.n`` for n = 1..100."""
DEFAULT_PORT: Final = 7001
DEFAULT_ACK_PORT: Final = 18266
DEFAULT_ACK_BIND: Final = "0.0.0.0"  # noqa: S104 - the device answers to our LAN address
MULTICAST_COUNT: Final = 100

_TRANSIENT_SEND_ERRNOS: Final = frozenset({errno.ENOBUFS, errno.EAGAIN, errno.EWOULDBLOCK})


@dataclass(frozen=True, slots=True)
class EspTouchSchedule:
    """Sender timing, in seconds (defaults: Espressif's)."""

    interval: float = 0.008
    """Pause after every datagram."""
    guide_seconds: float = 2.0
    """Length of the guide phase at the start of each cycle."""
    cycle_seconds: float = 6.0
    """Length of one cycle (guide phase plus data phase)."""
    send_seconds: float = 45.0
    """Total sending time."""

    def __post_init__(self) -> None:
        """Reject schedules that would send no guide or no data."""
        if self.interval < 0:
            raise ValueError("interval must not be negative")
        if self.guide_seconds <= 0:
            raise ValueError("guide_seconds must be positive")
        if self.cycle_seconds <= self.guide_seconds:
            raise ValueError("cycle_seconds must be longer than guide_seconds")
        if self.send_seconds <= 0:
            raise ValueError("send_seconds must be positive")


DEFAULT_SCHEDULE: Final = EspTouchSchedule()


def multicast_addresses() -> Iterator[str]:
    """Yield ``234.1.1.1``, ``234.2.2.2``, ..., ``234.100.100.100``, ``234.1.1.1``, ..."""
    count = 0
    while True:
        n = 1 + count % MULTICAST_COUNT
        yield f"234.{n}.{n}.{n}"
        count += 1


def validate_target(target: str) -> str:
    """Check a destination: :data:`MULTICAST` or an IPv4 address; return it normalised."""
    if target == MULTICAST:
        return target
    try:
        return str(ipaddress.IPv4Address(target))
    except ValueError:
        raise InvalidPairingInputError(
            "target must be an IPv4 address or 'multicast'",
            reason=ErrorReason.TARGET_INVALID,
            field="target",
        ) from None


def destination_addresses(target: str) -> Iterator[str]:
    """Validate ``target`` now and return the destination for each guide round / datum item."""
    target = validate_target(target)
    if target == MULTICAST:
        return multicast_addresses()
    return itertools.repeat(target)


def subnet_broadcast_address(interface: str) -> str:
    """Broadcast address of an interface given as ``"192.168.1.100/24"`` (or ``/255.255.255.0``)."""
    try:
        return str(ipaddress.IPv4Interface(interface).network.broadcast_address)
    except ValueError:
        raise InvalidPairingInputError(
            "interface must look like 192.168.1.100/24",
            reason=ErrorReason.IP_INVALID,
            field="interface",
        ) from None


def _open_sender_socket(bind_ip: str | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if bind_ip is not None:
            sock.bind((bind_ip, 0))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def send_esptouch(
    payload: EspTouchPayload,
    *,
    target: str = BROADCAST,
    port: int = DEFAULT_PORT,
    schedule: EspTouchSchedule = DEFAULT_SCHEDULE,
    bind_ip: str | None = None,
) -> int:
    """Send guide and datum cycles until ``schedule.send_seconds`` have passed.

    ``bind_ip`` binds the sending socket to a local address (to pick the interface on a
    multi-homed host). Returns the number of datagrams sent. Cancelling the call stops
    sending at once and closes the socket. Socket failures raise
    :class:`EspTouchSocketError`.
    """
    addresses = destination_addresses(target)
    validate_port(port)
    loop = asyncio.get_running_loop()
    datagrams = {
        length: bytes([PAYLOAD_BYTE]) * length
        for length in (*payload.guide_lengths, *payload.datum_lengths)
    }
    datum = payload.datum_lengths
    try:
        sock = _open_sender_socket(bind_ip)
    except OSError as err:
        raise EspTouchSocketError(f"cannot open the ESP-Touch sender socket: {err}") from err

    sent = 0

    async def send_group(lengths: tuple[int, ...] | list[int]) -> None:
        nonlocal sent
        address = (next(addresses), port)
        for length in lengths:
            try:
                await loop.sock_sendto(sock, datagrams[length], address)
                sent += 1
            except OSError as err:
                if err.errno not in _TRANSIENT_SEND_ERRNOS:
                    raise EspTouchSocketError(
                        f"cannot send ESP-Touch datagrams to {address[0]}:{port}: {err}"
                    ) from err
            await asyncio.sleep(schedule.interval)

    _LOGGER.debug("ESP-Touch: sending to %s:%d for %.1f s", target, port, schedule.send_seconds)
    try:
        start = loop.time()
        send_end = start + schedule.send_seconds
        index = 0
        while loop.time() < send_end:
            cycle_start = loop.time()
            guide_end = min(cycle_start + schedule.guide_seconds, send_end)
            while loop.time() < guide_end:
                await send_group(payload.guide_lengths)
            data_end = min(cycle_start + schedule.cycle_seconds, send_end)
            while loop.time() < data_end:
                await send_group(datum[index : index + 3])
                index = (index + 3) % len(datum)
    finally:
        sock.close()
    _LOGGER.debug("ESP-Touch: sending finished, %d datagrams", sent)
    return sent


class _AckProtocol(asyncio.DatagramProtocol):
    def __init__(self, listener: EspTouchAckListener) -> None:
        self._listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._listener._on_datagram(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._listener._on_closed()


class EspTouchAckListener:
    """Receive ESP-Touch ACKs on UDP.

    Accepts only 11-byte datagrams whose first byte equals ``token``; de-duplicates by
    device MAC; completes once ``expected`` devices answered. Use as an async context
    manager, or call :meth:`start` and :meth:`aclose`. ``port`` 0 binds an ephemeral
    port (see :attr:`port`).
    """

    def __init__(
        self,
        token: int,
        *,
        expected: int = 1,
        port: int = DEFAULT_ACK_PORT,
        bind: str = DEFAULT_ACK_BIND,
    ) -> None:
        """Configure the listener; nothing is opened yet."""
        if not 0 <= token <= 0xFF:
            raise ValueError("token must be a byte")
        if expected < 1:
            raise ValueError("expected must be at least 1")
        if port != 0:
            validate_port(port, field_name="ack_port")
        self._token = token
        self._expected = expected
        self._requested_port = port
        self._bind = bind
        self._results: dict[str, EspTouchResult] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._done: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._port = port

    def __repr__(self) -> str:
        """Describe the listener without secrets."""
        return (
            f"<EspTouchAckListener {self._bind}:{self._port} token={self._token} "
            f"answered={len(self._results)}/{self._expected}>"
        )

    @property
    def port(self) -> int:
        """The bound UDP port (useful when constructed with port 0)."""
        return self._port

    @property
    def results(self) -> list[EspTouchResult]:
        """Devices that answered so far, in arrival order."""
        return list(self._results.values())

    async def start(self) -> None:
        """Open and bind the socket. Raises :class:`EspTouchSocketError` on failure."""
        if self._transport is not None:
            raise RuntimeError("listener already started")
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._bind, self._requested_port))
            sock.setblocking(False)
        except OSError as err:
            sock.close()
            raise EspTouchSocketError(
                f"cannot listen for ESP-Touch ACKs on {self._bind}:{self._requested_port}: {err}"
            ) from err
        self._port = sock.getsockname()[1]
        self._done = loop.create_future()
        self._closed = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(lambda: _AckProtocol(self), sock=sock)
        self._transport = transport
        _LOGGER.debug("ESP-Touch: listening for ACKs on %s:%d", self._bind, self._port)

    def _on_datagram(self, data: bytes) -> None:
        result = parse_ack(data, self._token)
        if result is None:
            _LOGGER.debug("ESP-Touch: ignoring a %d-byte datagram", len(data))
            return
        if result.mac in self._results:
            return
        _LOGGER.debug("ESP-Touch: ACK from %s at %s", result.mac, result.ip)
        self._results[result.mac] = result
        if (
            len(self._results) >= self._expected
            and self._done is not None
            and not self._done.done()
        ):
            self._done.set_result(None)

    def _on_closed(self) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def wait(self, listen_seconds: float) -> list[EspTouchResult]:
        """Wait until ``expected`` devices answered or ``listen_seconds`` passed.

        Returns the devices that answered (possibly fewer than expected when the
        deadline passes); raises :class:`EspTouchTimeoutError` when none did.
        """
        if self._done is None:
            raise RuntimeError("listener not started")
        if not self._done.done():
            await asyncio.wait([self._done], timeout=max(listen_seconds, 0.0))
        if not self._results:
            raise EspTouchTimeoutError(f"no ESP-Touch ACK received within {listen_seconds:g} s")
        return self.results

    async def aclose(self) -> None:
        """Close the socket and wait until the transport is gone."""
        transport, self._transport = self._transport, None
        if transport is None:
            return
        transport.close()
        if self._closed is not None:
            await self._closed
        if self._done is not None and not self._done.done():
            self._done.cancel()

    async def __aenter__(self) -> Self:
        """Start listening."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop listening."""
        await self.aclose()


async def esptouch_provision(
    ssid: str,
    password: str,
    bssid: str | None,
    sender_ip: str,
    *,
    target: str = BROADCAST,
    port: int = DEFAULT_PORT,
    ack_port: int = DEFAULT_ACK_PORT,
    ack_bind: str = DEFAULT_ACK_BIND,
    bind_ip: str | None = None,
    send_seconds: float = 45.0,
    listen_seconds: float = 60.0,
    interval: float = 0.008,
    guide_seconds: float = 2.0,
    cycle_seconds: float = 6.0,
    transform: Transform | None = None,
) -> EspTouchResult:
    """Send Wi-Fi credentials with ESP-Touch v1 and wait for the device's ACK.

    ``bssid`` ``None`` sends a placeholder (see :mod:`.esptouch`). ``sender_ip`` must be
    this host's address on the target LAN. Sending stops as soon as an ACK arrives or after
    ``send_seconds``; listening stops ``listen_seconds`` after the start. An ACK means
    the device joined the network and got an address.

    Raises :class:`InvalidPairingInputError` before sending anything if an input is
    invalid, :class:`EspTouchSocketError` when a socket cannot be used, and
    :class:`EspTouchTimeoutError` when no device answered in time. Cancelling the call
    stops everything and closes both sockets.
    """
    payload = build_payload(ssid, password, bssid, sender_ip, transform=transform)
    validate_target(target)
    validate_port(port)
    validate_port(ack_port, field_name="ack_port")
    schedule = EspTouchSchedule(
        interval=interval,
        guide_seconds=guide_seconds,
        cycle_seconds=cycle_seconds,
        send_seconds=send_seconds,
    )
    if listen_seconds <= 0:
        raise ValueError("listen_seconds must be positive")
    loop = asyncio.get_running_loop()
    async with EspTouchAckListener(payload.token, port=ack_port, bind=ack_bind) as listener:
        started = loop.time()
        sender = loop.create_task(
            send_esptouch(payload, target=target, port=port, schedule=schedule, bind_ip=bind_ip),
            name="ewelink-esptouch-sender",
        )
        try:
            ack_waiter = loop.create_task(
                listener.wait(listen_seconds), name="ewelink-esptouch-ack"
            )
            try:
                done, _ = await asyncio.wait(
                    {sender, ack_waiter}, return_when=asyncio.FIRST_COMPLETED
                )
                if (
                    ack_waiter not in done
                    and not sender.cancelled()
                    and sender.exception() is not None
                ):
                    sender.result()  # re-raise the socket error
                results = await ack_waiter
            finally:
                await _cancel_and_wait(ack_waiter)
        finally:
            await _cancel_and_wait(sender)
    _LOGGER.debug(
        "ESP-Touch: device %s answered after %.1f s", results[0].mac, loop.time() - started
    )
    return results[0]


async def _cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it without swallowing our own cancellation."""
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        with suppress(Exception):
            task.exception()
