"""Small UDP helpers for the ESP-Touch network tests (loopback only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import socket
from typing import Self

LOOPBACK = "127.0.0.1"


def free_udp_port() -> int:
    """Return a UDP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def send_udp(data: bytes, port: int) -> None:
    """Send one datagram to 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, (LOOPBACK, port))


@dataclass
class Received:
    """A captured datagram."""

    data: bytes
    addr: tuple[str, int]
    time: float


@dataclass
class UdpReceiver(asyncio.DatagramProtocol):
    """Capture every datagram sent to an ephemeral loopback port."""

    received: list[Received] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    port: int = 0
    _closed: asyncio.Future[None] | None = None

    @classmethod
    async def start(cls) -> Self:
        """Bind 127.0.0.1:0 and start capturing."""
        loop = asyncio.get_running_loop()
        receiver = cls()
        receiver._closed = loop.create_future()
        await loop.create_datagram_endpoint(lambda: receiver, local_addr=(LOOPBACK, 0))
        return receiver

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_datagram(data, addr)

    def on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        """Record the datagram (override to react)."""
        self.received.append(Received(data, addr, asyncio.get_running_loop().time()))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    @property
    def lengths(self) -> list[int]:
        """Lengths of the captured datagrams, in arrival order."""
        return [len(item.data) for item in self.received]

    async def close(self) -> None:
        """Close the socket and wait for the transport to finish."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None
            assert self._closed is not None
            await self._closed
