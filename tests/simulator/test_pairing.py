"""Pairing side: AP-mode HTTP, the ESP-Touch v1 receiver (shared vectors), the ACK, binding."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
import random
from typing import Any

import aiohttp
import pytest

from simulator import EspTouchDecoder, Simulator, UnpairedDevice, WifiNetwork, build_ack, crc8

from .conftest import World
from .helpers import app_session, is_push, next_frame

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vectors"
BASIC = json.loads((FIXTURES / "esptouch_v1_basic.json").read_text())
ACKS = json.loads((FIXTURES / "esptouch_ack.json").read_text())
CASES = {case["name"]: case for case in BASIC["cases"]}
GUIDE = [515, 514, 513, 512]


def encode(ssid: bytes, password: bytes, bssid: bytes, ip: bytes) -> list[int]:
    """A test-only ESP-Touch v1 encoder written from pairing.md §1.4-1.6."""
    total = 5 + 4 + len(password) + len(ssid)
    xor = 0
    for b in (total, len(password), crc8(ssid), crc8(bssid), *ip, *password, *ssid):
        xor ^= b
    values = [total, len(password), crc8(ssid), crc8(bssid), xor, *ip, *password, *ssid]
    items = list(enumerate(values))
    for i, b in enumerate(bssid):
        pos = 5 + 4 * i
        item = (total + i, b)
        if pos < len(items):
            items.insert(pos, item)
        else:
            items.append(item)
    lengths: list[int] = []
    for seq, value in items:
        crc = crc8(bytes((value, seq)))
        lengths += [
            ((crc & 0xF0) | (value >> 4)) + 40,
            0x100 + seq + 40,
            (((crc & 0x0F) << 4) | (value & 0x0F)) + 40,
        ]
    return lengths


def feed(decoder: EspTouchDecoder, lengths: list[int]) -> Any:
    result = None
    for n in lengths:
        result = decoder.feed(n) or result
    return result


@pytest.mark.parametrize("name", sorted(CASES))
def test_decoder_on_shared_vectors(name: str) -> None:
    """Guide code then one datum cycle of Espressif's encoder decodes to the inputs."""
    case = CASES[name]
    decoder = EspTouchDecoder()
    result = feed(decoder, case["guide_lengths"] + case["datum_lengths"])
    assert result is not None
    assert result.ssid == bytes.fromhex(case["ssid_hex"])
    assert result.password == bytes.fromhex(case["password_hex"])
    assert result.bssid_text == case["bssid"]
    assert result.sender_ip == case["ip"]
    assert result.token == case["expected_ack_first_byte"] == case["total_len"]
    assert decoder.items == {item["seq"]: item["value"] for item in case["datum_items"]}
    assert decoder.rejected_items == 0
    # Our own test encoder agrees with the vector (so the end-to-end tests below are sound).
    ip = bytes(int(p) for p in case["ip"].split("."))
    bssid = bytes(int(p, 16) for p in case["bssid"].split(":"))
    assert (
        encode(bytes.fromhex(case["ssid_hex"]), bytes.fromhex(case["password_hex"]), bssid, ip)
        == case["datum_lengths"]
    )


def test_crc8_vectors() -> None:
    """CRC-8/MAXIM-DOW check values from the vector file."""
    for vector in BASIC["crc8"]["vectors"]:
        assert crc8(bytes.fromhex(vector["data_hex"])) == vector["crc8"]


def test_decoder_calibration_and_order() -> None:
    """Nothing before the guide code; a constant overhead is calibrated away; order does not matter."""
    case = CASES["basic_ascii"]
    decoder = EspTouchDecoder()
    assert feed(decoder, case["datum_lengths"]) is None  # not calibrated yet
    assert decoder.items == {}
    overhead = 66
    result = feed(decoder, [n + overhead for n in case["guide_lengths"] + case["datum_lengths"]])
    assert result is not None
    assert result.ssid == b"MyWiFi"
    triples = [case["datum_lengths"][i : i + 3] for i in range(0, len(case["datum_lengths"]), 3)]
    random.Random(7).shuffle(triples)
    decoder = EspTouchDecoder()
    shuffled = GUIDE + [n for t in triples for n in t]
    assert feed(decoder, shuffled).password == b"12345678"


def test_corrupted_datagrams_are_rejected() -> None:
    """A corrupted length fails its item CRC; a forged consistent item fails the total checks."""
    case = CASES["basic_ascii"]
    lengths = list(case["datum_lengths"])
    lengths[9 * 3 + 2] += 1  # corrupt the low half of one item (seq 24, a BSSID byte)
    decoder = EspTouchDecoder()
    assert feed(decoder, case["guide_lengths"] + lengths) is None
    assert decoder.rejected_items == 1
    assert 24 not in decoder.items
    assert feed(decoder, case["datum_lengths"]) is not None  # the next clean cycle completes it
    # Forge an SSID byte with a correct item CRC: only the XOR/SSID-CRC checks catch it.
    seq = 17
    value = ord("X")
    crc = crc8(bytes((value, seq)))
    forged = [
        ((crc & 0xF0) | (value >> 4)) + 40,
        0x100 + seq + 40,
        (((crc & 0x0F) << 4) | (value & 0x0F)) + 40,
    ]
    index = next(k for k, item in enumerate(case["datum_items"]) if item["seq"] == seq)
    lengths = list(case["datum_lengths"])
    lengths[index * 3 : index * 3 + 3] = forged
    decoder = EspTouchDecoder()
    assert feed(decoder, case["guide_lengths"] + lengths) is None
    assert decoder.rejected_items == 0
    assert decoder.rejected_decodes == 1
    assert decoder.result is None


def test_ack_bytes_match_the_vectors() -> None:
    """build_ack gives token | MAC | IP, as in esptouch_ack.json."""
    for ack in ACKS["acks"]:
        if not ack["valid"]:
            continue
        parsed = ack["expected_parse"]
        packet = build_ack(parsed["token"], parsed["device_mac"], parsed["device_ip"])
        assert packet.hex() == ack["packet_hex"]
        assert len(packet) == 11


class Collector(asyncio.DatagramProtocol):
    """Collects datagrams (the sender's ACK listener)."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.event = asyncio.Event()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.packets.append(data)
        self.event.set()


async def send_lengths(port: int, lengths: list[int]) -> None:
    """Send one UDP datagram of each length (payload '1' * n) to the device."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", port)
    )
    try:
        for n in lengths:
            transport.sendto(b"1" * n)
            await asyncio.sleep(0)
    finally:
        transport.close()


async def ack_listener() -> tuple[asyncio.DatagramTransport, Collector]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(Collector, local_addr=("127.0.0.1", 0))
    return transport, proto


@pytest.mark.parametrize("name", sorted(CASES))
async def test_udp_receiver_decodes_vectors_and_acks(sim: Simulator, name: str) -> None:
    """Vector lengths sent as real datagrams; the device joins (matching Wi-Fi) and sends the ACK."""
    case = CASES[name]
    sim.wifi = WifiNetwork(ssid=case["ssid"], password=case["password"], bssid=case["bssid"])
    transport, collector = await ack_listener()
    try:
        port = transport.get_extra_info("sockname")[1]
        udev = await sim.add_unpaired_device(ap_http=False, ack_port=port, ack_host="127.0.0.1")
        await send_lengths(udev.udp_port, case["guide_lengths"] + case["datum_lengths"])
        await asyncio.wait_for(collector.event.wait(), 3)
        await sim.wait_for(lambda: udev.acks_sent == sim.config.esptouch_ack_count, 3)
        packet = collector.packets[0]
        assert len(packet) == 11
        assert packet[0] == case["expected_ack_first_byte"]
        assert packet[1:7].hex(":") == udev.device.factory.mac
        assert packet[7:] == bytes((127, 0, 0, 1))
        assert udev.touch_result is not None
        assert udev.touch_result.sender_ip == case["ip"]
        assert udev.state == "lan"
        async with aiohttp.ClientSession() as http, http.get(f"{udev.http_url}/device") as resp:
            assert (await resp.json())["deviceid"] == udev.deviceid
    finally:
        transport.close()


async def test_esptouch_wrong_wifi_never_acks(sim: Simulator) -> None:
    """Wrong credentials: decoded, but the device never joins, so no ACK and no HTTP server."""
    case = CASES["basic_ascii"]
    transport, collector = await ack_listener()
    try:
        port = transport.get_extra_info("sockname")[1]
        udev = await sim.add_unpaired_device(ap_http=False, ack_port=port, ack_host="127.0.0.1")
        udev.back_to_pairing = 60.0
        await send_lengths(udev.udp_port, case["guide_lengths"] + case["datum_lengths"])
        await sim.wait_for(lambda: udev.touch_result is not None, 3)
        await asyncio.sleep(0.2)
        assert collector.packets == []
        assert udev.state == "no_wifi"
        assert udev.as_json()["http_url"] is None
    finally:
        transport.close()


async def test_esptouch_corrupted_stream_over_udp(sim: Simulator) -> None:
    """A corrupted datagram on the wire is rejected; the repeated cycle completes the decode."""
    case = CASES["single_char_ssid"]
    sim.wifi = WifiNetwork(ssid="a", password="x")
    transport, collector = await ack_listener()
    try:
        port = transport.get_extra_info("sockname")[1]
        udev = await sim.add_unpaired_device(ap_http=False, ack_port=port, ack_host="127.0.0.1")
        bad = list(case["datum_lengths"])
        bad[1] += 3  # seq length of the first item
        bad[5] -= 7
        await send_lengths(udev.udp_port, case["guide_lengths"] + bad)
        await asyncio.sleep(0.1)
        assert udev.touch_result is None
        assert udev.decoder.rejected_items >= 1
        await send_lengths(udev.udp_port, case["guide_lengths"] + case["datum_lengths"])
        await asyncio.wait_for(collector.event.wait(), 3)
        assert collector.packets[0][0] == 11
    finally:
        transport.close()


def digest(udev: UnpairedDevice) -> str:
    return hashlib.sha256((udev.deviceid + udev.factory_apikey).encode()).hexdigest()


async def bind(world: World, at: str, udev: UnpairedDevice) -> dict[str, Any]:
    body = {
        "name": "New device",
        "deviceid": udev.deviceid,
        "chipid": udev.chipid,
        "digest": digest(udev),
    }
    return await world.api.bearer("POST", "/v2/device/add", at, body=body)


async def post_ap(http: aiohttp.ClientSession, udev: UnpairedDevice, body: Any) -> tuple[int, Any]:
    async with http.post(
        f"{udev.http_url}/ap", data=json.dumps(body), headers={"Content-Type": "application/json"}
    ) as resp:
        return resp.status, await resp.json()


async def test_ap_mode_pairing(world: World) -> None:
    """AP mode: GET /device, POST /ap (numeric port), join, register until bound, then online."""
    sim, http = world.sim, world.api.http
    sim.wifi = WifiNetwork(ssid="HomeWiFi", password="correct-horse")
    udev = await sim.add_unpaired_device("10000abcde", 1, productModel="MINIR2", esptouch=False)
    async with http.get(f"{udev.http_url}/device", headers={"Accept": "application/json"}) as resp:
        info = await resp.json()
    assert info == {
        "deviceid": "10000abcde",
        "apikey": udev.factory_apikey,
        "chipid": udev.chipid,
        "accept": "post",
    }
    host, port = sim.device_dispatch
    good = {"port": port, "serverName": host, "ssid": "HomeWiFi", "password": "correct-horse"}
    for bad in ({**good, "port": str(port)}, {**good, "port": True}, {**good, "serverName": ""},
                {**good, "ssid": "x" * 33}, {k: v for k, v in good.items() if k != "port"}):  # fmt: skip
        status, body = await post_ap(http, udev, bad)
        assert status == 400, bad
        assert body["error"] != 0
    assert udev.state == "pairing"
    ws, data = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    status, body = await post_ap(http, udev, {**good, "version": 4})
    assert (status, body) == (200, {"error": 0})
    await sim.wait_for(lambda: udev.device.register_attempts >= 2, 3)  # not bound yet: retries
    assert not udev.online
    assert udev.device.last_register_error in (403, 404, 415)
    env = await bind(world, data["at"], udev)
    assert env["error"] == 0
    await udev.wait_online(5)
    sysmsg = await next_frame(ws, is_push("sysmsg", udev.deviceid))
    assert sysmsg["params"] == {"online": True}
    assert udev.state == "joined"
    await ws.close()


async def test_ap_mode_wrong_password_never_online(world: World) -> None:
    """Wrong Wi-Fi credentials: POST /ap still answers 0, the device never comes online."""
    sim, http = world.sim, world.api.http
    udev = await sim.add_unpaired_device(esptouch=False)
    udev.back_to_pairing = 60.0
    host, port = sim.device_dispatch
    data = await world.api.login("owner@example.com", "owner-pw")
    assert (await bind(world, data["at"], udev))["error"] == 0
    status, body = await post_ap(
        http,
        udev,
        {"port": port, "serverName": host, "ssid": sim.wifi.ssid, "password": "wrong-pass"},
    )
    assert (status, body) == (200, {"error": 0})
    await asyncio.sleep(0.3)
    assert udev.state == "no_wifi"
    assert udev.device.register_attempts == 0
    assert not udev.online


async def test_touch_mode_full_flow(world: World) -> None:
    """ESP-Touch with the sender at 127.0.0.1: ACK, GET /device, bind, POST /ap, online."""
    sim, http = world.sim, world.api.http
    transport, collector = await ack_listener()
    try:
        ack_port = transport.get_extra_info("sockname")[1]
        udev = await sim.add_unpaired_device(ap_http=False, ack_port=ack_port)
        wifi = sim.wifi
        lengths = GUIDE + encode(
            wifi.ssid.encode(), wifi.password.encode(), bytes(6), bytes((127, 0, 0, 1))
        )
        await send_lengths(udev.udp_port, lengths)
        await asyncio.wait_for(collector.event.wait(), 3)
        packet = collector.packets[0]
        device_ip = ".".join(str(b) for b in packet[7:])
        assert device_ip == "127.0.0.1"
        async with http.get(f"http://{device_ip}:{udev.http_port}/device") as resp:
            info = await resp.json()
        data = await world.api.login("owner@example.com", "owner-pw")
        body = {"name": "Touch plug", "deviceid": info["deviceid"], "chipid": info["chipid"],
                "digest": hashlib.sha256((info["deviceid"] + info["apikey"]).encode()).hexdigest()}  # fmt: skip
        assert (await world.api.bearer("POST", "/v2/device/add", data["at"], body=body))[
            "error"
        ] == 0
        host, port = sim.device_dispatch
        status, _ = await post_ap(
            http,
            udev,
            {"port": port, "serverName": host, "ssid": wifi.ssid, "password": wifi.password},
        )
        assert status == 200
        await udev.wait_online(5)
    finally:
        transport.close()


async def test_touch_wrong_password_then_pairing_mode_again(sim: Simulator) -> None:
    """After a wrong password the device listens again: the right credentials then work."""
    transport, collector = await ack_listener()
    try:
        ack_port = transport.get_extra_info("sockname")[1]
        udev = await sim.add_unpaired_device(ap_http=False, ack_port=ack_port)
        udev.back_to_pairing = 0.1
        wifi, ip = sim.wifi, bytes((127, 0, 0, 1))
        wrong = GUIDE + encode(wifi.ssid.encode(), b"wrong-password", bytes(6), ip)
        await send_lengths(udev.udp_port, wrong)
        await sim.wait_for(lambda: udev.resets == 1 and udev.state == "pairing", 3)
        assert collector.packets == []
        right = GUIDE + encode(wifi.ssid.encode(), wifi.password.encode(), bytes(6), ip)
        await send_lengths(udev.udp_port, right)
        await asyncio.wait_for(collector.event.wait(), 3)
        assert udev.state == "lan"
        assert udev.touch_result is not None
        assert udev.touch_result.password == wifi.password.encode()
    finally:
        transport.close()


async def test_ap_wrong_password_then_right_one(world: World) -> None:
    """AP mode: a wrong password, back to pairing mode, then the right one joins."""
    sim, http = world.sim, world.api.http
    udev = await sim.add_unpaired_device(esptouch=False)
    udev.back_to_pairing = 0.1
    host, port = sim.device_dispatch
    body = {"port": port, "serverName": host, "ssid": sim.wifi.ssid, "password": "wrong-pass"}
    assert await post_ap(http, udev, body) == (200, {"error": 0})
    await sim.wait_for(lambda: udev.resets == 1 and udev.state == "pairing", 3)
    assert await post_ap(http, udev, {**body, "password": sim.wifi.password}) == (200, {"error": 0})
    await sim.wait_for(lambda: udev.device.register_attempts >= 1, 3)
    assert udev.state == "joined"


async def test_admin_resets_unpaired_devices(world: World) -> None:
    """POST /_sim/unpaired/reset: devices bound to nobody go back to pairing mode at once."""
    sim, http = world.sim, world.api.http
    udev = await sim.add_unpaired_device("10000aaa01", esptouch=False)
    udev.back_to_pairing = 60.0
    joined = await sim.add_unpaired_device("10000aaa02", esptouch=False)
    host, port = sim.device_dispatch
    body = {"port": port, "serverName": host, "ssid": sim.wifi.ssid, "password": "wrong-pass"}
    await post_ap(http, udev, body)
    await post_ap(http, joined, {**body, "password": sim.wifi.password})
    await sim.wait_for(lambda: udev.state == "no_wifi" and joined.device.register_attempts > 0, 3)
    async with http.post(f"{sim.admin_url}/unpaired/reset", json={"deviceid": "10000aaa01"}) as r:
        assert await r.json() == {"reset": ["10000aaa01"]}
    assert (udev.state, joined.state) == ("pairing", "joined")
    async with http.post(f"{sim.admin_url}/unpaired/reset") as resp:
        assert sorted((await resp.json())["reset"]) == ["10000aaa01", "10000aaa02"]
    assert joined.state == "pairing"
    attempts = joined.device.register_attempts
    await asyncio.sleep(0.3)
    assert joined.device.register_attempts == attempts  # it left the network
    async with http.get(f"{sim.admin_url}/unpaired") as resp:
        states = {u["deviceid"]: (u["state"], u["resets"]) for u in await resp.json()}
    assert states == {"10000aaa01": ("pairing", 2), "10000aaa02": ("pairing", 1)}
    async with http.post(f"{sim.admin_url}/unpaired/reset", json={"deviceid": "nope"}) as resp:
        assert resp.status == 404


async def test_admin_adds_a_device_in_pairing_mode(world: World) -> None:
    """POST /_sim/unpaired: a new device waits in pairing mode (used by the browser tests)."""
    sim, http = world.sim, world.api.http
    async with http.post(
        f"{sim.admin_url}/unpaired", json={"deviceid": "10000aaa09", "uiid": 1, "ack_port": 0}
    ) as resp:
        body = await resp.json()
    assert (body["deviceid"], body["state"], body["ack_port"]) == ("10000aaa09", "pairing", 0)
    assert body["http_url"].startswith("http://127.0.0.1:")
    assert body["udp_port"] > 0
    async with http.get(f"{body['http_url']}/device") as resp:
        assert (await resp.json())["deviceid"] == "10000aaa09"
    async with http.post(f"{sim.admin_url}/unpaired", json={"deviceid": "10000aaa09"}) as resp:
        assert resp.status == 400  # it exists
