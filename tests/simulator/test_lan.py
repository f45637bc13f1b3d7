"""The simulator's LAN side: TXT records, the device HTTP API, LAN/cloud sync, DIY, SPM, faults.

The client here is written with aiohttp and cryptography directly (not the integration's `lan`
package), so a bug in one cannot hide a bug in the other.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

from simulator import LanAnnouncement, LanDevice, Simulator, SimulatorConfig, VirtualDevice
from simulator.lan import LAN_TYPES, aes_decrypt, aes_encrypt

from .conftest import World, fast_config
from .helpers import app_session, is_push, next_frame

# lan-protocol.md §3 test vectors.
KEY_A = "9b0810bc-557a-406c-8266-614767890531"
IV_A = "MTA4MDc1MTQ5NzE5ODE2Ng=="
DATA_A = "D85ho6GLI5uFX2b1+vohUIb+Xt99f55wxsBsNhqpPQdQ/WNc3ZTlCi1UVFiFU5cnaCPjvXPG6pqfHqXdtCO2fA=="
PLAIN_A = b'{"switches": [{"outlet": 0, "switch": "off"}]}'
KEY_B = "64271b79-89f6-4d18-8318-7d751faacd13"
IV_B = "3PgYPjEuE4qCoZOTsPE2xg=="
DATA_B = "t9YKDAK3nnURqivGN0evtaS+Yj4M6b6NUV+ptJlMTOQ="
IV_C = "MDEyMzQ1Njc4OWFiY2RlZg=="
DATA_C = "FoCfJXJpEHvSovQdBrBgHQ=="


@pytest.fixture
def config() -> SimulatorConfig:
    """LAN on for every device of these tests."""
    return fast_config(lan=True)


# Helpers --------------------------------------------------------------------------------------
def encrypt(params: Any, devicekey: str) -> tuple[str, str]:
    key = hashlib.md5(devicekey.encode()).digest()  # noqa: S324 - the protocol's key derivation
    iv = os.urandom(16)
    raw = json.dumps(params).encode()
    pad = 16 - len(raw) % 16
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = enc.update(raw + bytes([pad]) * pad) + enc.finalize()
    return base64.b64encode(data).decode(), base64.b64encode(iv).decode()


def decrypt(data: str, iv: str, devicekey: str) -> Any:
    key = hashlib.md5(devicekey.encode()).digest()  # noqa: S324
    dec = Cipher(algorithms.AES(key), modes.CBC(base64.b64decode(iv))).decryptor()
    raw = dec.update(base64.b64decode(data)) + dec.finalize()
    return json.loads(raw[: -raw[-1]])


def txt_data(ann: LanAnnouncement) -> bytes:
    numbers = sorted(int(k[4:]) for k in ann.properties if k.startswith(b"data"))
    return b"".join(ann.properties[f"data{n}".encode()] for n in numbers)


def announced(ann: LanAnnouncement, devicekey: str) -> Any:
    props = ann.properties
    return decrypt(txt_data(ann).decode(), props[b"iv"].decode(), devicekey)


async def post(
    http: aiohttp.ClientSession,
    lan: LanDevice,
    command: str,
    data: Any,
    *,
    encrypted: bool = True,
    deviceid: str | None = None,
    devicekey: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, str, Any]:
    """POST /zeroconf/<command>; return (HTTP status, content type, JSON or text)."""
    body: dict[str, Any] = {
        "sequence": str(int(time.time() * 1000)),
        "deviceid": lan.deviceid if deviceid is None else deviceid,
        "selfApikey": "123",
    }
    if encrypted:
        ciphertext, iv = encrypt(data, devicekey or lan.devicekey)
        body.update(encrypt=True, iv=iv, data=ciphertext)
    else:
        body["data"] = data
    payload = raw if raw is not None else json.dumps(body).encode()
    async with http.post(
        f"{lan.url}/zeroconf/{command}", data=payload, headers={"Connection": "close"}
    ) as resp:
        text = await resp.text()
        try:
            return resp.status, resp.content_type, json.loads(text)
        except ValueError:
            return resp.status, resp.content_type, text


class Feed:
    """Collect the announcements of the in-process feed."""

    def __init__(self, sim: Simulator, *, replay: bool = True) -> None:
        self.items: list[LanAnnouncement] = []
        self.event = asyncio.Event()
        self.unsubscribe = sim.lan.subscribe(self._add, replay=replay)

    def _add(self, ann: LanAnnouncement) -> None:
        self.items.append(ann)
        self.event.set()

    def of(self, deviceid: str) -> list[LanAnnouncement]:
        return [a for a in self.items if deviceid in a.name]

    async def wait(self, predicate: Any, timeout: float = 5.0) -> LanAnnouncement:
        async with asyncio.timeout(timeout):
            while True:
                for ann in reversed(self.items):
                    if predicate(ann):
                        return ann
                self.event.clear()
                await self.event.wait()


def seq_of(ann: LanAnnouncement) -> int:
    return int(ann.properties[b"seq"])


# Encryption -----------------------------------------------------------------------------------
def test_reference_vectors() -> None:
    """B and C reproduce exactly; A is the double-padding fault's output (Q3)."""
    assert (
        base64.b64encode(aes_encrypt(b'{"switch": "on"}', KEY_B, base64.b64decode(IV_B))).decode()
        == DATA_B
    )
    assert (
        base64.b64encode(aes_encrypt(b'{"switch":"on"}', KEY_A, b"0123456789abcdef")).decode()
        == DATA_C
    )
    assert (
        base64.b64encode(
            aes_encrypt(PLAIN_A, KEY_A, base64.b64decode(IV_A), double_padding=True)
        ).decode()
        == DATA_A
    )
    assert aes_decrypt(DATA_B, IV_B, KEY_B) == b'{"switch": "on"}'
    assert aes_decrypt(DATA_C, IV_C, KEY_A) == b'{"switch":"on"}'
    with pytest.raises(ValueError, match="padding"):
        aes_decrypt(DATA_B, IV_B, KEY_A)


# Announcements --------------------------------------------------------------------------------
async def test_txt_record_as_the_reference_describes(world: World) -> None:
    sim = world.sim
    feed = Feed(sim)
    dev = await sim.add_device(world.owner, uiid=1, params={"switch": "on"})
    lan = sim.lan.device(dev.deviceid)
    ann = await feed.wait(lambda a: dev.deviceid in a.name)
    props = ann.properties
    assert ann.name == f"eWeLink_{dev.deviceid}._ewelink._tcp.local."
    assert ann.host_name == f"eWeLink_{dev.deviceid}.local."
    assert ann.addresses == ("127.0.0.1",)
    assert ann.port == lan.port != 8081
    assert props[b"txtvers"] == b"1"
    assert props[b"id"] == dev.deviceid.encode()
    assert props[b"type"] == b"plug"
    assert props[b"apivers"] == b"1"
    assert props[b"seq"] == b"1"
    assert props[b"encrypt"] == b"true"
    assert len(base64.b64decode(props[b"iv"])) == 16
    assert announced(ann, lan.devicekey) == dev.params
    assert sim.store.devices[dev.deviceid].factory.apikey == lan.devicekey
    assert all(len(k) + 1 + len(v) <= 255 for k, v in props.items())


async def test_every_device_has_its_own_port(world: World) -> None:
    sim = world.sim
    first = await sim.add_device(world.owner, uiid=1)
    second = await sim.add_device(world.owner, uiid=2)
    ports = {sim.lan.device(first.deviceid).port, sim.lan.device(second.deviceid).port}
    assert len(ports) == 2
    assert 8081 not in ports
    assert sim.lan.device(second.deviceid).local_type == "strip"
    not_lan = await sim.add_device(world.owner, uiid=5)  # first POW: cloud only
    with pytest.raises(KeyError):
        sim.lan.device(not_lan.deviceid)
    assert 5 not in LAN_TYPES


async def test_long_state_split_at_249_bytes(world: World) -> None:
    sim = world.sim
    feed = Feed(sim)
    dev = await sim.add_device(world.owner, uiid=4, params={"label": "x" * 300})
    lan = sim.lan.device(dev.deviceid)
    ann = await feed.wait(lambda a: dev.deviceid in a.name)
    chunks = sorted(k for k in ann.properties if k.startswith(b"data"))
    assert {b"data1", b"data2", b"data3"} <= set(chunks)
    sizes = [len(ann.properties[f"data{n}".encode()]) for n in range(1, len(chunks) + 1)]
    assert all(size == 249 for size in sizes[:-1])
    assert 0 < sizes[-1] <= 249
    assert announced(ann, lan.devicekey)["label"] == "x" * 300


async def test_seq_counts_every_change_with_a_fresh_iv(world: World) -> None:
    """Boot announces seq 1; a report, a cloud command and a LAN command each add one."""
    sim = world.sim
    feed = Feed(sim)
    dev = await sim.add_device(world.owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await feed.wait(lambda a: dev.deviceid in a.name and seq_of(a) == 1)
    await dev.report({"rssi": -70})
    ann = await feed.wait(lambda a: dev.deviceid in a.name and seq_of(a) == 2)
    assert announced(ann, lan.devicekey)["rssi"] == -70
    ack = await sim.hub.command(sim.store.devices[dev.deviceid], "update", {"switch": "on"})
    assert ack["error"] == 0
    ann = await feed.wait(lambda a: dev.deviceid in a.name and seq_of(a) == 3)
    assert announced(ann, lan.devicekey)["switch"] == "on"
    async with aiohttp.ClientSession() as http:
        status, _ctype, reply = await post(http, lan, "switch", {"switch": "off"})
    assert status == 200
    assert reply["error"] == 0
    assert reply["seq"] == 4
    ann = await feed.wait(lambda a: dev.deviceid in a.name and seq_of(a) == 4)
    assert announced(ann, lan.devicekey)["switch"] == "off"
    ivs = [a.properties[b"iv"] for a in feed.of(dev.deviceid)]
    assert len(ivs) == len(set(ivs)) >= 4


async def test_lan_command_reaches_the_cloud(world: World, http: aiohttp.ClientSession) -> None:
    """A LAN command changes the device; the device pushes it; apps see the update."""
    sim = world.sim
    dev = await sim.add_device(world.owner, uiid=2)
    lan = sim.lan.device(dev.deviceid)
    ws, _login = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    status, ctype, reply = await post(
        http, lan, "switches", {"switches": [{"outlet": 1, "switch": "on"}]}
    )
    assert (status, ctype) == (200, "application/json")
    assert reply["error"] == 0
    assert reply["encrypt"] is True
    assert reply["sequence"]
    assert "data" not in reply  # only the MINIR4 class returns the state
    push = await next_frame(ws, is_push("update", dev.deviceid))
    assert push["params"]["switches"][1] == {"outlet": 1, "switch": "on"}
    await sim.wait_for(
        lambda: sim.store.devices[dev.deviceid].params["switches"][1]["switch"] == "on"
    )
    await ws.close()


async def test_reply_state_of_minir4(world: World, http: aiohttp.ClientSession) -> None:
    dev = await world.sim.add_device(world.owner, uiid=138)
    lan = world.sim.lan.device(dev.deviceid)
    _s, _c, reply = await post(http, lan, "switches", {"switches": [{"outlet": 0, "switch": "on"}]})
    assert reply["error"] == 0
    state = decrypt(reply["data"], reply["iv"], lan.devicekey)
    assert state["switches"][0]["switch"] == "on"
    assert reply["seq"] == lan.seq


@pytest.mark.parametrize(
    ("command", "data", "kwargs", "error"),
    [
        ("switch", {"switch": "on"}, {"encrypted": False}, 401),
        ("switch", {"switch": "on"}, {"deviceid": "1000ffffff"}, 404),
        ("switch", {"switch": "on"}, {"devicekey": KEY_A}, 400),
        ("switch", {"switch": "maybe"}, {}, 400),
        ("switch", {"startup": "on"}, {}, 400),
        ("switch", {}, {}, 400),
        ("switches", {"switches": [{"outlet": 0, "switch": "on"}]}, {}, 422),
        ("nonsense", {"switch": "on"}, {}, 422),
        ("info", {}, {}, 422),
        ("switch", {"switch": "on"}, {"raw": b"not json"}, 400),
    ],
)
async def test_refused_requests(
    world: World,
    http: aiohttp.ClientSession,
    command: str,
    data: Any,
    kwargs: dict[str, Any],
    error: int,
) -> None:
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    status, _ctype, reply = await post(http, lan, command, data, **kwargs)
    assert status == 200
    assert reply["error"] == error
    assert "data" not in reply
    assert dev.params["switch"] == "off"


async def test_unknown_route_is_an_html_404(world: World, http: aiohttp.ClientSession) -> None:
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    async with http.get(f"{lan.url}/") as resp:
        assert resp.status == 404
        assert resp.content_type == "text/html"


async def test_generic_and_light_paths(world: World, http: aiohttp.ClientSession) -> None:
    sim = world.sim
    lan = sim.lan.attach(await sim.add_device(world.owner, uiid=44), local_type="light")
    await lan.wait_running()
    _s, _c, reply = await post(http, lan, "dimmable", {"switch": "on", "brightness": 30, "mode": 0})
    assert reply["error"] == 0
    assert lan.device.params["brightness"] == 30
    _s, _c, reply = await post(
        http, lan, "dimmable", {"switch": "off", "brightness": 30, "mode": 0}
    )
    assert reply["error"] == 400  # D1: dimmable needs switch on
    _s, _c, reply = await post(http, lan, "brightMin", {"brightMin": 5})
    assert reply["error"] == 0  # generic: /zeroconf/<first key>
    assert lan.device.params["brightMin"] == 5
    _s, _c, reply = await post(http, lan, "sledonline", {"sledOnline": "off"})
    assert reply["error"] == 0
    assert lan.device.params["sledOnline"] == "off"


async def test_ifan_fan_and_light_are_the_clouds_switches(
    world: World, http: aiohttp.ClientSession
) -> None:
    dev = await world.sim.add_device(world.owner, uiid=34)
    lan = world.sim.lan.device(dev.deviceid)
    assert lan.local_type == "fan_light"
    await post(http, lan, "fan", {"fan": "on", "speed": 3})
    await post(http, lan, "light", {"light": "on"})
    assert [s["switch"] for s in dev.params["switches"]] == ["on", "on", "off", "on"]
    await post(http, lan, "fan", {"fan": "off"})
    assert [s["switch"] for s in dev.params["switches"]] == ["on", "off", "off", "off"]


async def test_get_state_answers(world: World, http: aiohttp.ClientSession) -> None:
    """getState: the state, or 422/400, or an HTML page (Q6)."""
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    _s, _c, reply = await post(http, lan, "getState", {})
    assert reply["error"] == 0
    assert decrypt(reply["data"], reply["iv"], lan.devicekey) == dev.params
    lan.faults.update({"get_state": 422})
    assert (await post(http, lan, "getState", {}))[2]["error"] == 422
    lan.faults.update({"get_state": "html"})
    status, ctype, _text = await post(http, lan, "getState", {})
    assert (status, ctype) == (200, "text/html")
    with pytest.raises(ValueError, match="get_state"):
        lan.faults.update({"get_state": 500})


# DIY, SPM, zigbee bridges ---------------------------------------------------------------------
async def test_diy_device(world: World, http: aiohttp.ClientSession) -> None:
    sim = world.sim
    feed = Feed(sim)
    lan = await sim.lan.add_diy_device(uiid=1, params={"switch": "off"})
    assert lan.deviceid not in sim.store.devices  # bound to nobody
    assert lan.deviceid not in sim.fleet.devices
    ann = await feed.wait(lambda a: lan.deviceid in a.name)
    assert b"encrypt" not in ann.properties  # omitted, not "false" (Q13)
    assert b"iv" not in ann.properties
    assert ann.properties[b"type"] == b"diy_plug"
    assert json.loads(txt_data(ann))["switch"] == "off"
    status, _c, reply = await post(
        http, lan, "switch", {"switch": "on"}, encrypted=False, deviceid=""
    )
    assert status == 200
    assert reply["error"] == 0
    assert "encrypt" not in reply
    ann = await feed.wait(lambda a: lan.deviceid in a.name and seq_of(a) == 2)
    assert json.loads(txt_data(ann))["switch"] == "on"
    _s, _c, reply = await post(http, lan, "info", {}, encrypted=False)
    assert reply["data"]["switch"] == "on"
    assert reply["data"]["deviceid"] == lan.deviceid
    _s, _c, reply = await post(http, lan, "signal_strength", {}, encrypted=False)
    assert isinstance(reply["data"]["signalStrength"], int)
    _s, _c, reply = await post(http, lan, "switch", {"switch": "on"})  # encrypted: refused
    assert reply["error"] == 400
    _s, _c, reply = await post(http, lan, "switch", '{"switch":"off"}', encrypted=False)
    assert reply["error"] == 0  # DIY v1.4: data as a JSON string
    assert lan.device.params["switch"] == "off"
    _s, _c, reply = await post(http, lan, "switch", "{broken", encrypted=False)
    assert reply["error"] == 400
    # A request head over 64 KiB: dropped without an answer.
    reader, writer = await asyncio.open_connection(lan.host, lan.port)
    writer.write(b"POST /zeroconf/switch HTTP/1.1\r\nX: " + b"a" * 70_000)
    await writer.drain()
    assert await reader.read() == b""
    writer.close()
    with pytest.raises(ValueError, match="exists"):
        await sim.lan.add_diy_device(deviceid=lan.deviceid)


async def test_spm_main_announces_sub_units(world: World, http: aiohttp.ClientSession) -> None:
    """Instance = the main device, TXT id = the sub-unit, only changed fields; subDevId inside data."""
    sim = world.sim
    feed = Feed(sim)
    main = await sim.add_device(world.owner, uiid=128)
    relay = await sim.add_device(world.owner, uiid=130, parent=main)
    lan = sim.lan.device(main.deviceid)
    assert lan.local_type == "meter"
    assert relay.lan is lan
    _s, _c, reply = await post(
        http,
        lan,
        "switches",
        {"subDevId": relay.deviceid, "switches": [{"outlet": 2, "switch": "on"}]},
    )
    assert reply["error"] == 0
    assert relay.params["switches"][2]["switch"] == "on"
    ann = await feed.wait(lambda a: a.properties.get(b"id") == relay.deviceid.encode())
    assert ann.name.startswith(f"eWeLink_{main.deviceid}.")
    assert set(announced(ann, lan.devicekey)) <= {"switches", "actPow_02", "voltage_02",
                                                  "current_02", "actPow_00", "voltage_00",
                                                  "current_00", "actPow_01", "voltage_01",
                                                  "current_01", "actPow_03", "voltage_03",
                                                  "current_03"}  # fmt: skip
    _s, _c, reply = await post(
        http, lan, "uiActive", {"subDevId": relay.deviceid, "uiActive": {"outlet": 2, "time": 60}}
    )
    assert reply["error"] == 0
    ann = await feed.wait(
        lambda a: (
            a.properties.get(b"id") == relay.deviceid.encode()
            and "switches" not in announced(a, lan.devicekey)
        )
    )
    assert "actPow_02" in announced(ann, lan.devicekey)
    _s, _c, reply = await post(http, lan, "switches", {"subDevId": "1000ffffff", "switches": []})
    assert reply["error"] == 422


async def test_zigbee_bridges_announce_only(world: World, http: aiohttp.ClientSession) -> None:
    sim = world.sim
    feed = Feed(sim)
    ultra = await sim.add_device(world.owner, uiid=243)
    pro = await sim.add_device(world.owner, uiid=168)
    ann = await feed.wait(lambda a: ultra.deviceid in a.name)
    assert not any(k.startswith(b"data") for k in ann.properties)  # no data at all (Q5)
    assert ann.properties[b"type"] == b"zbbridgeu"
    for dev in (ultra, pro):
        lan = sim.lan.device(dev.deviceid)
        assert (await post(http, lan, "getState", {}))[2]["error"] == 400
        assert (await post(http, lan, "switch", {"switch": "on"}))[2]["error"] == 400
    foreign = sim.lan.publish_foreign(f"zbbridgeu-{ultra.deviceid}")
    assert foreign.name == f"zbbridgeu-{ultra.deviceid}._ewelink._tcp.local."
    late = Feed(sim)  # a late subscriber gets the latest records, the foreign one too
    await late.wait(lambda a: a.name.startswith("zbbridgeu-"))
    await late.wait(lambda a: ultra.deviceid in a.name)


async def test_power_cycle_restarts_seq(world: World, http: aiohttp.ClientSession) -> None:
    sim = world.sim
    feed = Feed(sim)
    dev = await sim.add_device(world.owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await dev.report({"rssi": -60})
    await feed.wait(lambda a: dev.deviceid in a.name and seq_of(a) == 2)
    url = lan.url
    await dev.go_offline()
    await sim.wait_for(lambda: not lan.running)
    with pytest.raises(aiohttp.ClientConnectorError):
        await http.post(f"{url}/zeroconf/getState", data=b"{}")
    await dev.go_online()
    await lan.wait_running()
    ann = await feed.wait(
        lambda a: dev.deviceid in a.name and seq_of(a) == 1 and a is not feed.items[0]
    )
    assert ann.port == lan.port
    assert lan.powered


async def test_removed_device_stops_serving(world: World) -> None:
    sim = world.sim
    dev = await sim.add_device(world.owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await sim.remove_device(dev.deviceid)
    assert not lan.running
    assert dev.lan is None
    with pytest.raises(KeyError):
        sim.lan.device(dev.deviceid)


# Announcement faults --------------------------------------------------------------------------
async def test_announcement_faults(world: World) -> None:
    sim = world.sim
    feed = Feed(sim)
    dev = await sim.add_device(world.owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await feed.wait(lambda a: dev.deviceid in a.name)

    lan.faults.update({"duplicate_txt": True})
    before = len(feed.items)
    await dev.report({"rssi": -61})
    await feed.wait(lambda _a: len(feed.items) >= before + 2)
    assert feed.items[-1] is feed.items[-2]  # same record, same IV

    lan.faults.update({"duplicate_txt": False, "stale_txt": True})
    before = len(feed.items)
    await dev.report({"rssi": -62})
    await feed.wait(lambda _a: len(feed.items) >= before + 2)
    fresh, stale = feed.items[-2:]
    assert seq_of(stale) == seq_of(fresh) - 1
    assert stale.properties[b"iv"] == feed.items[before - 1].properties[b"iv"]

    lan.faults.update({"stale_txt": False, "no_a_record": True, "empty_data": True})
    await dev.report({"rssi": -63})
    ann = await feed.wait(lambda a: dev.deviceid in a.name and seq_of(a) == lan.seq)
    assert ann.addresses == ()
    assert ann.properties[b"data1"] == b""
    assert ann.properties[b"encrypt"] == b"true"

    lan.faults.update({"stop_announcing": True})
    before = len(feed.items)
    await dev.report({"rssi": -64})
    await asyncio.sleep(0.05)
    assert len(feed.items) == before
    assert lan.seq == seq_of(feed.items[-1]) + 1  # the state changed all the same


async def test_double_padding_and_rf_equals(world: World) -> None:
    sim = world.sim
    feed = Feed(sim)
    rf = await sim.add_device(world.owner, uiid=28)
    lan = sim.lan.device(rf.deviceid)
    assert lan.local_type == "rf"
    lan.faults.update({"double_padding": True, "rf_equals": True})
    await rf.report({"rfTrig0": "2024-01-01T00:00:00.000Z"})
    ann = await feed.wait(lambda a: rf.deviceid in a.name and seq_of(a) == lan.seq)
    key = hashlib.md5(lan.devicekey.encode()).digest()  # noqa: S324
    dec = Cipher(algorithms.AES(key), modes.CBC(base64.b64decode(ann.properties[b"iv"])))
    raw = dec.decryptor().update(base64.b64decode(txt_data(ann)))
    assert raw.endswith(b"\x10" * 16)
    text = raw.rstrip(bytes(range(17))).decode()
    assert text.startswith('{"rf')
    assert '"rfTrig0"="2024-01-01T00:00:00.000Z"' in text


# HTTP faults ----------------------------------------------------------------------------------
async def test_error_and_status_knobs(world: World, http: aiohttp.ClientSession) -> None:
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    for code in (400, 401, 422):
        lan.faults.update({"error": code})
        status, _c, reply = await post(http, lan, "switch", {"switch": "on"})
        assert status == 200
        assert reply == {
            "seq": lan.seq,
            "sequence": reply["sequence"],
            "error": code,
            "encrypt": True,
        }
    lan.faults.update({"error": None, "http_status": 500})
    status, _c, reply = await post(http, lan, "switch", {"switch": "on"})
    assert (status, reply) == (500, {"error": 500})
    assert dev.params["switch"] == "off"


async def test_no_answer(world: World, http: aiohttp.ClientSession) -> None:
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    lan.faults.update({"no_answer": True})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await post(http, lan, "switch", {"switch": "on"})
    lan.faults.update({"no_answer": False})
    await asyncio.sleep(0.05)  # the device notices the client gave up
    assert (await post(http, lan, "switch", {"switch": "on"}))[2]["error"] == 0


async def test_second_concurrent_connection_is_reset(world: World) -> None:
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    lan.faults.update({"delay": 0.5})
    async with aiohttp.ClientSession() as first, aiohttp.ClientSession() as second:
        slow = asyncio.create_task(post(first, lan, "switch", {"switch": "on"}))
        await asyncio.sleep(0.15)
        with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
            await post(second, lan, "switch", {"switch": "off"})
        assert (await slow)[2]["error"] == 0
        lan.faults.update({"reset_concurrent": False, "delay": 0.3})
        both = await asyncio.gather(
            post(first, lan, "switch", {"switch": "off"}),
            post(second, lan, "switch", {"switch": "on"}),
        )
        assert [r[2]["error"] for r in both] == [0, 0]


async def test_min_interval(world: World, http: aiohttp.ClientSession) -> None:
    dev = await world.sim.add_device(world.owner, uiid=1)
    lan = world.sim.lan.device(dev.deviceid)
    lan.faults.update({"min_interval": 5.0})
    assert (await post(http, lan, "switch", {"switch": "on"}))[2]["error"] == 0
    with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
        await post(http, lan, "switch", {"switch": "off"})
    assert dev.params["switch"] == "on"


# Cloud stop -----------------------------------------------------------------------------------
async def test_cloud_stops_while_the_lan_serves(world: World, http: aiohttp.ClientSession) -> None:
    sim = world.sim
    dev = await sim.add_device(world.owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    ws, _login = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    await sim.stop_cloud()
    assert (await ws.receive(timeout=3)).type in (
        aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR,
    )  # fmt: skip
    await sim.wait_for(lambda: not dev.online and not dev.can_send)
    with pytest.raises(aiohttp.ClientError):
        await world.api.request("POST", "eu", "/v2/user/login", body={"email": "x"})
    async with http.get(f"{sim.admin_url}/cloud") as resp:
        assert await resp.json() == {"up": False}
    assert (await post(http, lan, "switch", {"switch": "on"}))[2]["error"] == 0
    assert dev.params["switch"] == "on"
    await asyncio.sleep(0.2)
    assert not dev.online  # devices keep failing to reach the cloud
    sim.start_cloud()
    await dev.wait_online()
    await sim.wait_for(lambda: sim.store.devices[dev.deviceid].params["switch"] == "on")


# Admin ----------------------------------------------------------------------------------------
async def test_admin_routes(world: World, http: aiohttp.ClientSession) -> None:
    sim = world.sim
    dev = await sim.add_device(world.owner, uiid=1)
    base = sim.admin_url

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with http.request(method, base + path, json=body) as resp:
            return resp.status, await resp.json()

    status, index = await call("GET", "")
    assert status == 200
    assert any(r["method"] == "POST" and r["path"] == "/_sim/cloud" for r in index)
    assert any(r["path"] == "/_sim/lan/{deviceid}/faults" for r in index)
    status, state = await call("GET", "/lan")
    assert status == 200
    assert state["devices"][dev.deviceid]["port"] == sim.lan.device(dev.deviceid).port
    assert state["cloud_up"] is True
    assert state["mdns"] is False
    status, one = await call("GET", f"/lan/{dev.deviceid}")
    assert one["devicekey"] == dev.factory.apikey
    assert (await call("GET", "/lan/1000ffffff"))[0] == 404
    status, knobs = await call(
        "POST", f"/lan/{dev.deviceid}/faults", {"stale_txt": True, "error": 422}
    )
    assert (status, knobs["stale_txt"], knobs["error"]) == (200, True, 422)
    status, knobs = await call("POST", f"/lan/{dev.deviceid}/faults", {"reset": True, "delay": 0.1})
    assert (knobs["stale_txt"], knobs["error"], knobs["delay"]) == (False, None, 0.1)
    assert (await call("POST", f"/lan/{dev.deviceid}/faults", {"nope": 1}))[0] == 400
    status, all_knobs = await call("POST", "/lan/faults", {"no_a_record": True})
    assert all_knobs[dev.deviceid]["no_a_record"] is True
    assert (await call("POST", "/lan/faults", {"bogus": True}))[0] == 400
    seq = sim.lan.device(dev.deviceid).seq
    status, announced_now = await call("POST", f"/lan/{dev.deviceid}/announce")
    assert announced_now == {"seq": seq + 1, "announced": True}
    status, diy = await call("POST", "/lan/diy", {"uiid": 1, "params": {"switch": "on"}})
    assert status == 200
    assert diy["diy"] is True
    assert diy["encrypt"] is False
    assert sim.lan.device(diy["deviceid"]).device.params["switch"] == "on"
    assert (await call("POST", "/cloud", {"up": "no"}))[0] == 400
    assert await call("POST", "/cloud", {"up": False}) == (200, {"up": False})
    assert sim.cloud_up is False
    assert await call("POST", "/cloud", {"up": True}) == (200, {"up": True})
    assert (await call("POST", "/lan/mdns", {"interfaces": "lo"}))[0] == 400
    async with http.post(f"{base}/lan/faults", data=b"[1]") as resp:
        assert resp.status == 400


async def test_attach_by_hand_and_lowercase_l_instance() -> None:
    """Without `lan=True` nothing serves; a test can attach one device (here as `eWelink_`)."""
    async with Simulator(fast_config()) as sim:
        acct = sim.add_account("a@example.com", password="pw")
        dev = await sim.add_device(acct, uiid=104)
        assert dev.lan is None
        feed = Feed(sim)
        lan = sim.lan.attach(dev, instance_prefix="eWelink_")
        assert sim.lan.attach(dev) is lan
        await lan.wait_running()
        ann = await feed.wait(lambda a: dev.deviceid in a.name)
        assert ann.name.startswith("eWelink_")
        assert ann.properties[b"type"] == b"light"
        assert isinstance(lan.device, VirtualDevice)
