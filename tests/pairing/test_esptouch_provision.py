"""ESP-Touch ACK listener and end-to-end provisioning against a fake device (loopback UDP)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from custom_components.ewelink.pairing import (
    GUIDE_LENGTHS,
    ErrorReason,
    EspTouchAckListener,
    EspTouchResult,
    EspTouchSocketError,
    EspTouchTimeoutError,
    Transform,
    decode_item,
    esptouch_provision,
)

from .udp_helpers import LOOPBACK, UdpReceiver, free_udp_port, send_udp
from .vectors import load_vector

VALID_ACK = bytes.fromhex("175ccf7fa6fdf6c0a80139")  # basic_ascii, token 23
RESULT = EspTouchResult(mac="5c:cf:7f:a6:fd:f6", ip="192.168.1.57")

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _ack_vectors() -> tuple[bytes, bytes, bytes]:
    acks = load_vector("esptouch_ack.json")["acks"]
    valid = next(
        bytes.fromhex(a["packet_hex"])
        for a in acks
        if a["valid"] and a["for_case"] == "basic_ascii"
    )
    invalid = [bytes.fromhex(a["packet_hex"]) for a in acks if not a["valid"]]
    wrong_token = next(p for p in invalid if len(p) == 11)
    short = next(p for p in invalid if len(p) == 10)
    return valid, wrong_token, short


# --- ACK listener ------------------------------------------------------------------------


async def test_listener_accepts_valid_ack_and_ignores_garbage() -> None:
    valid, wrong_token, short = _ack_vectors()
    async with EspTouchAckListener(23, port=0, bind=LOOPBACK) as listener:
        assert listener.port > 0
        assert "token=23" in repr(listener)
        for packet in (wrong_token, short, b"", b"\x17" * 12, b"garbage"):
            send_udp(packet, listener.port)
        await asyncio.sleep(0.05)
        assert listener.results == []
        send_udp(valid, listener.port)
        send_udp(valid, listener.port)  # devices repeat the ACK ~30 times
        results = await listener.wait(2.0)
    assert results == [RESULT]


async def test_listener_deduplicates_and_waits_for_expected_count() -> None:
    other = bytes.fromhex("17d8f15b1234560a000017")
    async with EspTouchAckListener(23, expected=2, port=0, bind=LOOPBACK) as listener:
        for _ in range(5):
            send_udp(VALID_ACK, listener.port)
        await asyncio.sleep(0.05)
        assert listener.results == [RESULT]
        waiter = asyncio.create_task(listener.wait(2.0))
        await asyncio.sleep(0.02)
        assert not waiter.done()
        send_udp(other, listener.port)
        results = await waiter
    assert results == [RESULT, EspTouchResult("d8:f1:5b:12:34:56", "10.0.0.23")]


async def test_listener_returns_partial_results_at_deadline() -> None:
    async with EspTouchAckListener(23, expected=3, port=0, bind=LOOPBACK) as listener:
        send_udp(VALID_ACK, listener.port)
        results = await listener.wait(0.2)
    assert results == [RESULT]


async def test_listener_times_out() -> None:
    loop = asyncio.get_running_loop()
    async with EspTouchAckListener(23, port=0, bind=LOOPBACK) as listener:
        send_udp(VALID_ACK[:-1], listener.port)
        started = loop.time()
        with pytest.raises(EspTouchTimeoutError) as err:
            await listener.wait(0.2)
        assert loop.time() - started >= 0.19
    assert err.value.reason == ErrorReason.NO_ACK


async def test_listener_port_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind((LOOPBACK, 0))
        port = blocker.getsockname()[1]
        with pytest.raises(EspTouchSocketError) as err:
            await EspTouchAckListener(23, port=port, bind=LOOPBACK).start()
    assert err.value.reason == ErrorReason.SOCKET_ERROR
    assert str(port) in str(err.value)


async def test_listener_closes_its_port() -> None:
    listener = EspTouchAckListener(23, port=0, bind=LOOPBACK)
    await listener.start()
    port = listener.port
    await listener.aclose()
    await listener.aclose()  # idempotent
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, port))  # would fail if the listener still held it


def test_listener_argument_checks() -> None:
    with pytest.raises(ValueError, match="token"):
        EspTouchAckListener(256)
    with pytest.raises(ValueError, match="expected"):
        EspTouchAckListener(1, expected=0)


# --- fake device -------------------------------------------------------------------------


class FakeDevice(UdpReceiver):
    """Sniffs ESP-Touch lengths on loopback, decodes them and answers with an ACK.

    On loopback the datagram length is the payload length itself, so no calibration on the
    guide code is needed: lengths >= 512 are guide code, the rest arrive as item triplets.
    """

    mac = bytes.fromhex("5ccf7fa6fdf6")
    device_ip = "192.168.1.57"
    ack_port = 0
    answer = True
    items: dict[int, int]
    pending: list[int]
    decoded: dict[str, bytes] | None = None
    acked = 0

    def on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        super().on_datagram(data, addr)
        if not hasattr(self, "items"):
            self.items, self.pending = {}, []
        if len(data) in GUIDE_LENGTHS:
            self.pending = []
            return
        self.pending.append(len(data))
        if len(self.pending) < 3:
            return
        item = decode_item(*self.pending)
        self.pending = []
        assert item is not None
        self.items[item.seq] = item.value
        self._maybe_answer()

    def _maybe_answer(self) -> None:
        if self.decoded is not None or 0 not in self.items or 1 not in self.items:
            return
        total_len = self.items[0]
        if not all(seq in self.items for seq in range(total_len + 6)):
            return
        pwd_len = self.items[1]
        raw = bytes(self.items[seq] for seq in range(total_len))
        ip = raw[5:9]
        self.decoded = {
            "ip": ip,
            "password": raw[9 : 9 + pwd_len],
            "ssid": raw[9 + pwd_len :],
            "bssid": bytes(self.items[total_len + i] for i in range(6)),
        }
        if self.answer:
            ack = bytes([total_len]) + self.mac + ipaddress.IPv4Address(self.device_ip).packed
            target = str(ipaddress.IPv4Address(ip))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(bytes([total_len ^ 1]) + ack[1:], (target, self.ack_port))  # rubbish
                sock.sendto(ack[:10], (target, self.ack_port))  # rubbish
                for _ in range(3):
                    sock.sendto(ack, (target, self.ack_port))
            self.acked += 1


async def _fake_device(*, answer: bool = True) -> FakeDevice:
    device = await FakeDevice.start()
    device.ack_port = free_udp_port()
    device.answer = answer
    return device


async def _provision(
    port: int,
    ack_port: int,
    *,
    ssid: str,
    password: str,
    bssid: str | None,
    send_seconds: float,
    listen_seconds: float,
    transform: Transform | None = None,
) -> EspTouchResult:
    """esptouch_provision on loopback with a scaled-down schedule."""
    return await esptouch_provision(
        ssid,
        password,
        bssid,
        LOOPBACK,
        target=LOOPBACK,
        port=port,
        ack_port=ack_port,
        ack_bind=LOOPBACK,
        send_seconds=send_seconds,
        listen_seconds=listen_seconds,
        interval=0.001,
        guide_seconds=0.05,
        cycle_seconds=0.15,
        transform=transform,
    )


async def test_provision_end_to_end() -> None:
    device = await _fake_device()
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        result = await _provision(
            device.port,
            device.ack_port,
            ssid="MyWiFi",
            password="12345678",
            bssid="aa:bb:cc:dd:ee:ff",
            send_seconds=5.0,
            listen_seconds=6.0,
        )
        elapsed = loop.time() - started
        count = len(device.received)
        await asyncio.sleep(0.05)
        assert len(device.received) == count  # sending stopped with the ACK
    finally:
        await device.close()
    assert result == RESULT
    assert elapsed < 2.0
    assert device.decoded == {
        "ip": bytes([127, 0, 0, 1]),
        "password": b"12345678",
        "ssid": b"MyWiFi",
        "bssid": bytes.fromhex("aabbccddeeff"),
    }


async def test_provision_unknown_bssid_sends_placeholder_and_utf8() -> None:
    device = await _fake_device()
    try:
        result = await _provision(
            device.port,
            device.ack_port,
            ssid="Café ☕",
            password="pässwörd",
            bssid=None,
            send_seconds=5.0,
            listen_seconds=6.0,
        )
    finally:
        await device.close()
    assert result == RESULT
    assert device.decoded is not None
    assert device.decoded["ssid"] == "Café ☕".encode()
    assert device.decoded["password"] == "pässwörd".encode()
    assert device.decoded["bssid"] == bytes(6)


async def test_provision_with_transform_uses_transformed_token() -> None:
    device = await _fake_device()

    def transform(data: bytes) -> bytes:
        return bytes(byte ^ 0x5A for byte in data) + b"!"

    try:
        result = await _provision(
            device.port,
            device.ack_port,
            ssid="MyWiFi",
            password="12345678",
            bssid=None,
            send_seconds=5.0,
            listen_seconds=6.0,
            transform=transform,
        )
    finally:
        await device.close()
    assert result == RESULT
    assert device.decoded is not None
    assert device.decoded["ssid"] == transform(b"MyWiFi")
    assert device.decoded["password"] == transform(b"12345678")


async def test_provision_times_out_without_ack() -> None:
    device = await _fake_device(answer=False)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        with pytest.raises(EspTouchTimeoutError) as err:
            await _provision(
                device.port,
                device.ack_port,
                ssid="MyWiFi",
                password="12345678",
                bssid=None,
                send_seconds=0.3,
                listen_seconds=0.6,
            )
        elapsed = loop.time() - started
        last_datagram = device.received[-1].time - started
    finally:
        await device.close()
    assert err.value.reason == ErrorReason.NO_ACK
    assert 0.59 <= elapsed < 1.2
    assert last_datagram < 0.45  # sending stopped after send_seconds, listening went on


async def test_provision_cancellation_cleans_up() -> None:
    device = await _fake_device(answer=False)
    try:
        task = asyncio.create_task(
            _provision(
                device.port,
                device.ack_port,
                ssid="MyWiFi",
                password="12345678",
                bssid=None,
                send_seconds=30.0,
                listen_seconds=40.0,
            )
        )
        await asyncio.sleep(0.2)
        assert device.received
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        count = len(device.received)
        await asyncio.sleep(0.05)
        assert len(device.received) == count
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((LOOPBACK, device.ack_port))  # the ACK socket was released
    finally:
        await device.close()


async def test_provision_ack_port_busy_sends_nothing() -> None:
    device = await _fake_device()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
            blocker.bind((LOOPBACK, device.ack_port))
            with pytest.raises(EspTouchSocketError):
                await _provision(
                    device.port,
                    device.ack_port,
                    ssid="MyWiFi",
                    password="12345678",
                    bssid=None,
                    send_seconds=0.3,
                    listen_seconds=0.5,
                )
        await asyncio.sleep(0.02)
        assert device.received == []
    finally:
        await device.close()


async def test_provision_sender_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def failing_sendto(sock: socket.socket, data: bytes, address: object) -> int:
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(loop, "sock_sendto", failing_sendto)
    with pytest.raises(EspTouchSocketError, match="cannot send"):
        await _provision(
            free_udp_port(),
            free_udp_port(),
            ssid="MyWiFi",
            password="12345678",
            bssid=None,
            send_seconds=5.0,
            listen_seconds=6.0,
        )
