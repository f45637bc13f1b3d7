"""ESP-Touch v1 receiver: the device side, decoding datagram lengths (pairing.md §1).

Written from the protocol description, independently of any encoder: the device calibrates on the
guide code (four lengths 515, 514, 513, 512 plus a constant link overhead, which is 0 on loopback),
then reads datum items as triples of lengths

    len1 = (crc & 0xF0 | value >> 4) + 40,  len2 = 0x100 + seq + 40,  len3 = ((crc & 0x0F) << 4 | value & 0x0F) + 40

with crc = CRC-8/MAXIM([value, seq]). Items with a bad CRC are dropped. Once every seq from 0 to
total_len + 5 is known, the decode is checked (item 4 = XOR of items 0..3, IP, password and SSID;
item 2 = CRC8(ssid); item 3 = CRC8(bssid)); a failed check throws the items away and listening
goes on, as the sender repeats its cycle.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
import ipaddress
import logging

_LOGGER = logging.getLogger("simulator.esptouch")

GUIDE = (515, 514, 513, 512)
EXTRA_LEN = 40
SEQ_BASE = 0x100 + EXTRA_LEN  # 296
SEQ_MAX = 127
HEAD_ITEMS = 5
IP_LEN = 4
BSSID_LEN = 6
ACK_LEN = 11


def crc8(data: bytes) -> int:
    """CRC-8/MAXIM-DOW: reflected polynomial 0x8C, init 0, no final XOR."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class EspTouchResult:
    """What a successful decode yields."""

    ssid: bytes
    password: bytes
    bssid: bytes
    sender_ip: str
    token: int
    """Datum item 0 (total_len); the first byte of the device's ACK."""

    @property
    def bssid_text(self) -> str:
        """Return the BSSID as aa:bb:cc:dd:ee:ff."""
        return ":".join(f"{b:02x}" for b in self.bssid)


class EspTouchDecoder:
    """Turns a stream of datagram lengths into SSID, password, BSSID and sender IP."""

    def __init__(self) -> None:
        self.offset: int | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new pairing attempt)."""
        self.offset = None
        self._recent: deque[int] = deque(maxlen=len(GUIDE))
        self._window: deque[int] = deque(maxlen=3)
        self.items: dict[int, int] = {}
        self.accepted_items = 0
        self.rejected_items = 0
        self.rejected_decodes = 0
        self.result: EspTouchResult | None = None

    def feed(self, length: int) -> EspTouchResult | None:
        """Consume one datagram length; return the result once the decode is complete."""
        if self.result is not None:
            return self.result
        self._recent.append(length)
        if self._is_guide():
            offset = self._recent[0] - GUIDE[0]
            if offset != self.offset:
                _LOGGER.debug("calibrated on the guide code, overhead %d", offset)
            self.offset = offset
            self._window.clear()
            return None
        if self.offset is None:
            return None
        value = length - self.offset
        if value >= GUIDE[-1]:
            self._window.clear()
            return None
        self._window.append(value)
        if len(self._window) == 3:
            first, middle, last = self._window
            if SEQ_BASE <= middle <= SEQ_BASE + SEQ_MAX and _is_data(first) and _is_data(last):
                self._window.clear()
                self._item(first - EXTRA_LEN, middle - SEQ_BASE, last - EXTRA_LEN)
                return self._try_complete()
        return None

    def _is_guide(self) -> bool:
        if len(self._recent) < len(GUIDE):
            return False
        recent = list(self._recent)
        offset = recent[0] - GUIDE[0]
        return offset >= 0 and all(r - offset == g for r, g in zip(recent, GUIDE, strict=True))

    def _item(self, high: int, seq: int, low: int) -> None:
        crc = (high & 0xF0) | (low >> 4)
        value = ((high & 0x0F) << 4) | (low & 0x0F)
        if crc8(bytes((value, seq))) != crc:
            self.rejected_items += 1
            _LOGGER.debug("datum item seq %d rejected: bad CRC", seq)
            return
        self.accepted_items += 1
        self.items[seq] = value

    def _try_complete(self) -> EspTouchResult | None:
        items = self.items
        if 0 not in items or 1 not in items:
            return None
        total_len, pwd_len = items[0], items[1]
        ssid_len = total_len - HEAD_ITEMS - IP_LEN - pwd_len
        if not (0 <= pwd_len <= 64 and 1 <= ssid_len <= 32):
            self._reject("impossible lengths")
            return None
        needed = total_len + BSSID_LEN
        if any(seq not in items for seq in range(needed)):
            return None
        ip = bytes(items[HEAD_ITEMS + i] for i in range(IP_LEN))
        pwd_start = HEAD_ITEMS + IP_LEN
        password = bytes(items[pwd_start + i] for i in range(pwd_len))
        ssid = bytes(items[pwd_start + pwd_len + i] for i in range(ssid_len))
        bssid = bytes(items[total_len + i] for i in range(BSSID_LEN))
        xor = 0
        for byte in (*(items[i] for i in range(4)), *ip, *password, *ssid):
            xor ^= byte
        if xor != items[4]:
            self._reject("total XOR mismatch")
            return None
        if crc8(ssid) != items[2]:
            self._reject("SSID CRC mismatch")
            return None
        if crc8(bssid) != items[3]:
            self._reject("BSSID CRC mismatch")
            return None
        self.result = EspTouchResult(
            ssid=ssid,
            password=password,
            bssid=bssid,
            sender_ip=str(ipaddress.IPv4Address(ip)),
            token=total_len & 0xFF,
        )
        return self.result

    def _reject(self, why: str) -> None:
        _LOGGER.debug("ESP-Touch decode rejected: %s", why)
        self.rejected_decodes += 1
        self.items.clear()


def _is_data(length: int) -> bool:
    return EXTRA_LEN <= length <= 0xFF + EXTRA_LEN


def build_ack(token: int, mac: str, ip: str) -> bytes:
    """Return the 11-byte device ACK: token | station MAC | device IPv4."""
    mac_bytes = bytes(int(part, 16) for part in mac.replace("-", ":").split(":"))
    if len(mac_bytes) != 6:
        raise ValueError(f"bad MAC {mac!r}")
    packet = bytes((token & 0xFF,)) + mac_bytes + ipaddress.IPv4Address(ip).packed
    assert len(packet) == ACK_LEN  # noqa: S101
    return packet


class EspTouchReceiver(asyncio.DatagramProtocol):
    """A UDP endpoint that feeds datagram lengths to a decoder."""

    def __init__(self, on_result: Callable[[EspTouchResult, tuple[str, int]], None]) -> None:
        self.decoder = EspTouchDecoder()
        self._on_result = on_result
        self.datagrams = 0
        self.transport: asyncio.DatagramTransport | None = None
        self.enabled = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.DatagramTransport)  # noqa: S101
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """Decode one datagram by its length (the payload is meaningless)."""
        if not self.enabled:
            return
        self.datagrams += 1
        if self.decoder.result is not None:
            return
        result = self.decoder.feed(len(data))
        if result is not None:
            self._on_result(result, (str(addr[0]), int(addr[1])))
