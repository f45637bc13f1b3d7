"""ESP-Touch sender over real loopback UDP with a scaled-down schedule."""

from __future__ import annotations

import asyncio
import errno
import itertools
import socket
from typing import Any

import pytest

from custom_components.ewelink.pairing import (
    BROADCAST,
    GUIDE_LENGTHS,
    MULTICAST,
    ErrorReason,
    EspTouchPayload,
    EspTouchSchedule,
    EspTouchSocketError,
    InvalidPairingInputError,
    destination_addresses,
    encode_esptouch,
    esptouch_net,
    multicast_addresses,
    send_esptouch,
    subnet_broadcast_address,
)

from .udp_helpers import LOOPBACK, UdpReceiver

FAST = EspTouchSchedule(interval=0.001, guide_seconds=0.2, cycle_seconds=0.6, send_seconds=1.5)


def _payload() -> EspTouchPayload:
    return encode_esptouch(
        b"MyWiFi", b"12345678", bytes.fromhex("aabbccddeeff"), bytes([127, 0, 0, 1])
    )


def _segments(lengths: list[int]) -> list[tuple[str, list[int]]]:
    """Split a length stream into alternating ('guide', ...) / ('data', ...) runs."""
    return [
        ("guide" if is_guide else "data", list(run))
        for is_guide, run in itertools.groupby(lengths, key=lambda length: length >= 512)
    ]


# --- address helpers (no sockets) ----------------------------------------------------


def test_multicast_address_rotation() -> None:
    addresses = list(itertools.islice(multicast_addresses(), 205))
    assert addresses[0] == "234.1.1.1"
    assert addresses[1] == "234.2.2.2"
    assert addresses[99] == "234.100.100.100"
    assert addresses[100] == "234.1.1.1"
    assert addresses[:100] == [f"234.{n}.{n}.{n}" for n in range(1, 101)]
    assert addresses[100:200] == addresses[:100]
    assert addresses[204] == "234.5.5.5"


def test_destination_addresses() -> None:
    assert list(itertools.islice(destination_addresses(BROADCAST), 3)) == ["255.255.255.255"] * 3
    assert (
        list(itertools.islice(destination_addresses("192.168.1.255"), 2)) == ["192.168.1.255"] * 2
    )
    assert next(destination_addresses(MULTICAST)) == "234.1.1.1"


@pytest.mark.parametrize("target", ["", "multicast6", "300.1.1.1", "::1", "example.com"])
def test_invalid_target(target: str) -> None:
    with pytest.raises(InvalidPairingInputError) as err:
        destination_addresses(target)
    assert err.value.reason == ErrorReason.TARGET_INVALID


def test_subnet_broadcast_address() -> None:
    assert subnet_broadcast_address("192.168.1.100/24") == "192.168.1.255"
    assert subnet_broadcast_address("10.1.2.3/255.255.0.0") == "10.1.255.255"
    with pytest.raises(InvalidPairingInputError):
        subnet_broadcast_address("not an address")


def test_schedule_rejects_nonsense() -> None:
    assert EspTouchSchedule() == EspTouchSchedule(0.008, 2.0, 6.0, 45.0)
    with pytest.raises(ValueError, match="cycle_seconds"):
        EspTouchSchedule(guide_seconds=2.0, cycle_seconds=2.0)
    with pytest.raises(ValueError, match="interval"):
        EspTouchSchedule(interval=-1)
    with pytest.raises(ValueError, match="guide_seconds"):
        EspTouchSchedule(guide_seconds=0)
    with pytest.raises(ValueError, match="send_seconds"):
        EspTouchSchedule(send_seconds=0)


async def test_invalid_target_rejected_before_any_socket() -> None:
    # No socket_enabled fixture: creating a socket here would fail the test.
    with pytest.raises(InvalidPairingInputError):
        await send_esptouch(_payload(), target="nowhere", port=7001, schedule=FAST)
    with pytest.raises(InvalidPairingInputError):
        await send_esptouch(_payload(), target=LOOPBACK, port=0, schedule=FAST)


# --- real UDP ------------------------------------------------------------------------


@pytest.mark.usefixtures("socket_enabled")
async def test_sender_schedule_over_udp() -> None:
    payload = _payload()
    receiver = await UdpReceiver.start()
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        sent = await send_esptouch(payload, target=LOOPBACK, port=receiver.port, schedule=FAST)
        elapsed = loop.time() - started
        await asyncio.sleep(0.05)
    finally:
        await receiver.close()

    assert 1.5 <= elapsed < 2.5
    assert sent == len(receiver.received) > 0
    assert all(item.data == b"1" * len(item.data) for item in receiver.received)
    assert {item.data[0] for item in receiver.received} == {0x31}

    segments = _segments(receiver.lengths)
    # Cycles start at 0, 0.6 and 1.2 s: guide, data, guide, data, guide, data.
    assert [kind for kind, _ in segments] == ["guide", "data"] * 3
    datum = list(payload.datum_lengths)
    data_stream: list[int] = []
    for kind, run in segments:
        if kind == "guide":
            assert len(run) % 4 == 0
            assert run == list(GUIDE_LENGTHS) * (len(run) // 4)
        else:
            assert len(run) % 3 == 0
            data_stream += run
    # The datum index continues across cycles: the data runs concatenate into the cycle.
    assert data_stream == (datum * (len(data_stream) // len(datum) + 1))[: len(data_stream)]

    # Phase timing (loose: a shared CI machine may be slow).
    times = [item.time for item in receiver.received]
    first_data = next(i for i, item in enumerate(receiver.received) if len(item.data) < 512)
    assert 0.15 <= times[first_data] - times[0] <= 0.4
    second_guide = next(
        i for i in range(first_data, len(times)) if len(receiver.received[i].data) >= 512
    )
    assert 0.5 <= times[second_guide] - times[0] <= 0.8


@pytest.mark.usefixtures("socket_enabled")
async def test_data_index_continues_across_short_cycles() -> None:
    # A data phase too short for a whole datum cycle: each cycle resumes where the last stopped.
    payload = _payload()
    receiver = await UdpReceiver.start()
    schedule = EspTouchSchedule(
        interval=0.005, guide_seconds=0.02, cycle_seconds=0.05, send_seconds=0.3
    )
    try:
        await send_esptouch(payload, target=LOOPBACK, port=receiver.port, schedule=schedule)
        await asyncio.sleep(0.05)
    finally:
        await receiver.close()
    segments = [run for kind, run in _segments(receiver.lengths) if kind == "data"]
    assert len(segments) >= 3
    datum = list(payload.datum_lengths)
    offset = 0
    for run in segments:
        assert 0 < len(run) < len(datum)
        assert run == (datum * 2)[offset : offset + len(run)]
        offset = (offset + len(run)) % len(datum)


@pytest.mark.usefixtures("socket_enabled")
async def test_sender_cancellation_closes_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[socket.socket] = []
    original = esptouch_net._open_sender_socket

    def recording_open(bind_ip: str | None) -> socket.socket:
        sock = original(bind_ip)
        opened.append(sock)
        return sock

    monkeypatch.setattr(esptouch_net, "_open_sender_socket", recording_open)
    receiver = await UdpReceiver.start()
    try:
        task = asyncio.create_task(
            send_esptouch(
                _payload(),
                target=LOOPBACK,
                port=receiver.port,
                schedule=EspTouchSchedule(interval=0.001, send_seconds=30.0),
            )
        )
        await asyncio.sleep(0.1)
        assert receiver.received
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(opened) == 1
        assert opened[0].fileno() == -1
        count = len(receiver.received)
        await asyncio.sleep(0.05)
        assert len(receiver.received) == count
    finally:
        await receiver.close()


@pytest.mark.usefixtures("socket_enabled")
async def test_sender_binds_to_given_address() -> None:
    receiver = await UdpReceiver.start()
    schedule = EspTouchSchedule(
        interval=0, guide_seconds=0.01, cycle_seconds=0.02, send_seconds=0.03
    )
    try:
        await send_esptouch(
            _payload(), target=LOOPBACK, port=receiver.port, schedule=schedule, bind_ip=LOOPBACK
        )
        await asyncio.sleep(0.02)
    finally:
        await receiver.close()
    assert {item.addr[0] for item in receiver.received} == {LOOPBACK}
    assert len({item.addr[1] for item in receiver.received}) == 1  # one socket, one source port


@pytest.mark.usefixtures("socket_enabled")
async def test_bind_failure_is_a_socket_error() -> None:
    with pytest.raises(EspTouchSocketError) as err:
        await send_esptouch(
            _payload(), target=LOOPBACK, port=7001, schedule=FAST, bind_ip="192.0.2.1"
        )
    assert err.value.reason == ErrorReason.SOCKET_ERROR


def _record_sends(
    monkeypatch: pytest.MonkeyPatch, fail: OSError | None = None, fail_every: int = 0
) -> list[tuple[int, Any]]:
    """Replace loop.sock_sendto with a recorder (lets us test multicast without routing)."""
    loop = asyncio.get_running_loop()
    calls: list[tuple[int, Any]] = []

    async def fake_sock_sendto(sock: socket.socket, data: bytes, address: Any) -> int:
        calls.append((len(data), address))
        if fail is not None and fail_every and len(calls) % fail_every == 0:
            raise fail
        return len(data)

    monkeypatch.setattr(loop, "sock_sendto", fake_sock_sendto)
    return calls


@pytest.mark.usefixtures("socket_enabled")
async def test_multicast_target_changes_per_round_and_item(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record_sends(monkeypatch)
    schedule = EspTouchSchedule(
        interval=0, guide_seconds=0.01, cycle_seconds=0.02, send_seconds=0.05
    )
    await send_esptouch(_payload(), target=MULTICAST, port=7001, schedule=schedule)
    assert calls
    assert {address[1] for _, address in calls} == {7001}
    # Group consecutive datagrams by destination: 4 per guide round, 3 per datum item.
    expected = multicast_addresses()
    index = 0
    while index < len(calls):
        size = 4 if calls[index][0] >= 512 else 3
        group = calls[index : index + size]
        address = next(expected)
        assert [dest for _, dest in group] == [(address, 7001)] * len(group)
        index += size


@pytest.mark.usefixtures("socket_enabled")
async def test_default_target_is_broadcast_port_7001(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record_sends(monkeypatch)
    schedule = EspTouchSchedule(
        interval=0, guide_seconds=0.01, cycle_seconds=0.02, send_seconds=0.03
    )
    await send_esptouch(_payload(), schedule=schedule)
    assert {address for _, address in calls} == {("255.255.255.255", 7001)}


@pytest.mark.usefixtures("socket_enabled")
async def test_transient_send_errors_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record_sends(monkeypatch, OSError(errno.ENOBUFS, "No buffer space"), fail_every=2)
    schedule = EspTouchSchedule(
        interval=0, guide_seconds=0.01, cycle_seconds=0.02, send_seconds=0.03
    )
    sent = await send_esptouch(_payload(), target=LOOPBACK, port=7001, schedule=schedule)
    assert sent == len(calls) - len(calls) // 2


@pytest.mark.usefixtures("socket_enabled")
async def test_fatal_send_error_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    _record_sends(monkeypatch, OSError(errno.ENETUNREACH, "Network is unreachable"), fail_every=1)
    with pytest.raises(EspTouchSocketError, match="cannot send"):
        await send_esptouch(_payload(), target=LOOPBACK, port=7001, schedule=FAST)
