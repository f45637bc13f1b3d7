"""The LAN client against the simulator's device servers over loopback: commands, every fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import itertools
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ewelink.lan import (
    LanClient,
    LanConnectionError,
    LanKeyRequiredError,
    LanProtocolError,
    LanRejectedError,
    LanTarget,
    LanTimeoutError,
    LanUnreachableError,
    SeqTracker,
    decrypt_params,
    encrypt_params,
    parse_announcement,
)
from simulator import Account, LanAnnouncement, Simulator

from .conftest import target
from .vectors import KEY_A


async def test_command_changes_the_device_and_the_cloud(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    reply = await client.send(target(lan), {"switch": "on"})
    assert reply.command == "switch"
    assert reply.seq == lan.seq == 2
    assert reply.sequence is not None
    assert reply.params is None
    assert dev.params["switch"] == "on"
    await sim.wait_for(lambda: sim.store.devices[dev.deviceid].params["switch"] == "on")
    request = lan.requests[-1]
    assert request.encrypted
    assert request.command == "switch"
    assert request.data == {"switch": "on"}
    assert client.stats["ok"] == 1


async def test_multi_channel_and_startup_paths(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    dev = await sim.add_device(owner, uiid=4)
    lan = sim.lan.device(dev.deviceid)
    await client.send(target(lan), {"switches": [{"outlet": 3, "switch": "on"}]})
    await client.send(target(lan), {"configure": [{"outlet": 3, "startup": "on"}]})
    assert dev.params["switches"][3]["switch"] == "on"
    assert dev.params["configure"][3]["startup"] == "on"
    assert [r.command for r in lan.requests] == ["switches", "startups"]


async def test_reply_with_the_new_state(sim: Simulator, owner: Account, client: LanClient) -> None:
    """MINIR4-class firmware returns the new state encrypted; the tracker notes its seq."""
    dev = await sim.add_device(owner, uiid=138)
    lan = sim.lan.device(dev.deviceid)
    reply = await client.send(target(lan), {"switches": [{"outlet": 0, "switch": "on"}]})
    assert reply.params is not None
    assert reply.params["switches"][0]["switch"] == "on"
    assert not reply.undecryptable
    tracker = SeqTracker()
    tracker.note_reply(lan.deviceid, reply.seq)
    assert tracker.last_seq(lan.deviceid) == lan.seq


async def test_get_state_and_ping(sim: Simulator, owner: Account, client: LanClient) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    reply = await client.get_state(target(lan))
    assert reply.params == dev.params
    assert await client.ping(target(lan))
    lan.faults.update({"get_state": "html"})
    with pytest.raises(LanProtocolError) as err:
        await client.get_state(target(lan))
    assert err.value.html
    assert await client.ping(target(lan))  # any answer proves the device is there
    lan.faults.update({"get_state": 422})
    assert await client.ping(target(lan))
    await dev.go_offline()
    assert not await client.ping(target(lan))


@pytest.mark.parametrize("code", [400, 401, 422])
async def test_device_errors_are_rejections_with_the_code(
    sim: Simulator, owner: Account, client: LanClient, code: int
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"error": code})
    with pytest.raises(LanRejectedError) as err:
        await client.send(target(lan), {"switch": "on"})
    assert err.value.code == code
    assert err.value.seq == lan.seq
    assert err.value.command == "switch"
    assert str(code) in str(err.value)
    assert not isinstance(err.value, LanConnectionError)
    assert dev.params["switch"] == "off"
    assert client.stats["rejected"] == 1


async def test_http_status_answers(sim: Simulator, owner: Account, client: LanClient) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"http_status": 503})
    with pytest.raises(LanRejectedError) as err:
        await client.send(target(lan), {"switch": "on"})
    assert err.value.code == 503


async def test_plaintext_to_an_encrypting_device_is_401(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    with pytest.raises(LanRejectedError) as err:
        await client.send(LanTarget(lan.deviceid, lan.host, lan.port), {"switch": "on"})
    assert err.value.code == 401


async def test_wrong_key_is_refused(sim: Simulator, owner: Account, client: LanClient) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    with pytest.raises(LanRejectedError) as err:
        await client.send(LanTarget(lan.deviceid, lan.host, lan.port, KEY_A), {"switch": "on"})
    assert err.value.code == 400
    assert KEY_A not in str(err.value)


async def test_unknown_path_and_wrong_shape(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    dev = await sim.add_device(owner, uiid=2)
    lan = sim.lan.device(dev.deviceid)
    with pytest.raises(LanRejectedError) as err:
        await client.send(target(lan), {"switch": "on"})  # a multi-channel device
    assert err.value.code == 422
    with pytest.raises(ValueError, match="command"):
        await client.send(target(lan), {"switch": "on"}, command="../x")


async def test_no_answer_times_out(sim: Simulator, owner: Account, client: LanClient) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"no_answer": True})
    with pytest.raises(LanTimeoutError):
        await client.send(target(lan), {"switch": "on"}, timeout=0.3)
    assert client.stats["timeouts"] == 1
    lan.faults.update({"no_answer": False})
    assert (await client.send(target(lan), {"switch": "on"})).seq == lan.seq


async def test_powered_off_device_is_unreachable_without_retries(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await dev.go_offline()
    with pytest.raises(LanUnreachableError) as err:
        await client.send(target(lan), {"switch": "on"})
    assert lan.deviceid in str(err.value)
    assert client.stats["retries"] == 0
    assert client.stats["unreachable"] == 1


async def test_one_client_serialises_and_spaces_requests(
    sim: Simulator, owner: Account, http: aiohttp.ClientSession
) -> None:
    """The device resets a second concurrent connection and anything within 200 ms (Q7)."""
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"min_interval": 0.2, "delay": 0.05})
    client = LanClient(http, timeout=10.0)
    values = ["on", "off", "on", "off"]
    replies = await asyncio.gather(*(client.send(target(lan), {"switch": v}) for v in values))
    assert [r.seq for r in replies] == [2, 3, 4, 5]
    assert client.stats["retries"] == 0
    assert dev.params["switch"] == "off"
    arrivals = [r.at for r in lan.requests]
    assert all(b - a >= 0.2 for a, b in itertools.pairwise(arrivals))


async def test_reset_of_a_concurrent_connection_is_retried(
    sim: Simulator, owner: Account, http: aiohttp.ClientSession
) -> None:
    """Two clients (say HA and the app) at once: the second connection is reset, then retried."""
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"delay": 0.3})
    first = LanClient(http, timeout=5.0)
    async with aiohttp.ClientSession() as other:
        second = LanClient(other, timeout=5.0, reset_delay=0.1)
        slow = asyncio.create_task(first.send(target(lan), {"switch": "on"}))
        await asyncio.sleep(0.1)
        reply = await second.send(target(lan), {"startup": "on"})
        assert (await slow).seq is not None
    assert reply.seq == lan.seq
    assert second.stats["retries"] >= 1
    assert dev.params["startup"] == "on"


async def test_resets_until_the_retries_run_out(
    sim: Simulator, owner: Account, http: aiohttp.ClientSession
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"min_interval": 30.0})
    client = LanClient(http, spacing=0.0, reset_retries=2, reset_delay=0.01)
    await client.send(target(lan), {"switch": "on"})
    with pytest.raises(LanUnreachableError, match="failed"):
        await client.send(target(lan), {"switch": "off"})
    assert client.stats["retries"] == 2


async def test_the_timeout_covers_the_queue(
    sim: Simulator, owner: Account, http: aiohttp.ClientSession
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    lan.faults.update({"delay": 1.0})
    client = LanClient(http, timeout=5.0)
    slow = asyncio.create_task(client.send(target(lan), {"switch": "on"}))
    await asyncio.sleep(0.1)
    with pytest.raises(LanTimeoutError):
        await client.send(target(lan), {"switch": "off"}, timeout=0.3)
    assert (await slow).seq == lan.seq
    assert dev.params["switch"] == "on"


async def test_sub_device_command_through_spm_main(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    main = await sim.add_device(owner, uiid=128)
    relay = await sim.add_device(owner, uiid=130, parent=main)
    lan = sim.lan.device(main.deviceid)
    await client.send(
        target(lan), {"switches": [{"outlet": 1, "switch": "on"}]}, subdevid=relay.deviceid
    )
    assert lan.requests[-1].data == {
        "switches": [{"outlet": 1, "switch": "on"}],
        "subDevId": relay.deviceid,
    }
    assert relay.params["switches"][1]["switch"] == "on"
    reply = await client.send(
        target(lan), {"uiActive": {"outlet": 1, "time": 60}}, subdevid=relay.deviceid
    )
    assert reply.command == "uiActive"
    await sim.wait_for(lambda: sim.store.devices[relay.deviceid].params["actPow_01"] > 0)


async def test_diy_device(sim: Simulator, client: LanClient) -> None:
    lan = await sim.lan.add_diy_device(uiid=1)
    reply = await client.send(target(lan), {"switch": "on"})
    assert not lan.requests[-1].encrypted
    assert reply.seq == 2
    assert lan.device.params["switch"] == "on"
    info = await client.send(target(lan), {}, command="info")
    assert info.params is not None
    assert info.params["switch"] == "on"
    signal = await client.send(target(lan), {}, command="signal_strength")
    assert signal.params is not None
    assert "signalStrength" in signal.params


async def test_targets_from_announcements(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    dev = await sim.add_device(owner, uiid=1)
    diy = await sim.lan.add_diy_device(uiid=1)
    lan = sim.lan.device(dev.deviceid)
    latest: dict[str, LanAnnouncement] = {}
    sim.lan.subscribe(lambda a: latest.__setitem__(a.name.split(".")[0][8:], a))
    await sim.wait_for(lambda: {dev.deviceid, diy.deviceid} <= set(latest))

    def parsed(deviceid: str) -> Any:
        a = latest[deviceid]
        ann = parse_announcement(a.name, a.addresses, a.port, a.properties)
        assert ann is not None
        return ann

    encrypted = parsed(dev.deviceid)
    with pytest.raises(LanKeyRequiredError):
        LanTarget.from_announcement(encrypted, None)
    t = LanTarget.from_announcement(encrypted, lan.devicekey)
    assert t.encrypted
    assert lan.devicekey not in repr(t)
    assert (await client.send(t, {"switch": "on"})).seq == lan.seq
    plain = LanTarget.from_announcement(parsed(diy.deviceid), "ignored-key")
    assert not plain.encrypted
    assert (await client.send(plain, {"switch": "on"})).seq == diy.seq
    lan.faults.update({"no_a_record": True})
    lan.announce_full()
    await sim.wait_for(lambda: latest[dev.deviceid].addresses == ())
    with pytest.raises(LanUnreachableError):
        LanTarget.from_announcement(parsed(dev.deviceid), lan.devicekey)


# Replies no simulated device sends: a scripted one ----------------------------------------------
@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Callable[[web.Request], Any]], Any]]:
    """Start an HTTP server whose /zeroconf answers are scripted by the test."""
    runners: list[web.AppRunner] = []

    async def start(answer: Callable[[web.Request], Any]) -> LanTarget:
        async def handle(request: web.Request) -> web.StreamResponse:
            result = answer(request)
            return result if isinstance(result, web.StreamResponse) else web.json_response(result)

        app = web.Application()
        app.router.add_post("/zeroconf/{cmd}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return LanTarget("1000abcdef", "127.0.0.1", port, KEY_A)

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("answer", "check"),
    [
        (lambda _r: web.Response(text="<html>hi</html>"), lambda e: e.html),
        (lambda _r: web.Response(text="oops"), lambda e: e.status == 200),
        (lambda _r: [1, 2], lambda e: not e.html),
        (lambda _r: {"seq": 1}, lambda e: "error code" in str(e)),
        (lambda _r: web.Response(status=500, text="x"), lambda e: e.status == 500),
        (lambda _r: web.Response(status=404, text=""), lambda e: e.status == 404),
        (lambda _r: web.Response(body=b"{" + b" " * 70_000 + b"}"), lambda e: "too much" in str(e)),
    ],
)
async def test_replies_that_are_not_protocol(
    scripted: Any, http: aiohttp.ClientSession, answer: Any, check: Any
) -> None:
    t = await scripted(answer)
    with pytest.raises(LanProtocolError) as err:
        await LanClient(http).send(t, {"switch": "on"})
    assert check(err.value)


async def test_http_error_without_an_error_code(scripted: Any, http: aiohttp.ClientSession) -> None:
    t = await scripted(lambda _r: web.json_response({"reason": "busy"}, status=503))
    with pytest.raises(LanRejectedError) as err:
        await LanClient(http).send(t, {"switch": "on"})
    assert err.value.code == 503


async def test_connection_closed_without_an_answer_is_retried(
    scripted: Any, http: aiohttp.ClientSession
) -> None:
    calls: list[int] = []

    def hang_up(request: web.Request) -> Any:
        calls.append(1)
        if len(calls) < 3:
            assert request.transport is not None
            request.transport.close()  # the device drops the connection (Q7)
        return {"error": 0, "seq": 3}

    t = await scripted(hang_up)
    client = LanClient(http, reset_delay=0.01)
    assert (await client.send(t, {"switch": "on"})).seq == 3
    assert client.stats["retries"] == 2
    calls.clear()
    stingy = LanClient(http, reset_retries=1, reset_delay=0.01)
    with pytest.raises(LanUnreachableError):
        await stingy.send(t, {"switch": "on"})


async def test_reply_data_variants(
    scripted: Any, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """DIY fw 3.3.0 sends `data` as a JSON string; unreadable encrypted data is flagged."""
    client = LanClient(http, spacing=0.0)
    state_data, state_iv = encrypt_params({"a": 1}, KEY_A)
    answers = iter([
        {"seq": "5", "sequence": 77, "error": 0, "data": '{"switch":"on"}'},
        {"seq": 6, "error": "0", "encrypt": True, "iv": "AAAAAAAAAAAAAAAAAAAAAA==", "data": "garbage"},
        {"seq": 7, "error": 0, "encrypt": True, "iv": state_iv, "data": state_data},
        {"seq": True, "error": 0, "data": "not json"},
        {"seq": 9, "error": 0, "encrypt": True, "iv": "x", "data": "y"},
        {"error": 0, "data": ""},
    ])  # fmt: skip
    t = await scripted(lambda _r: next(answers))
    caplog.set_level(logging.DEBUG, logger="custom_components.ewelink.lan")
    first = await client.send(t, {"switch": "on"})
    assert (first.seq, first.sequence, first.params) == (5, "77", {"switch": "on"})
    second = await client.send(t, {"switch": "on"})
    assert second.undecryptable
    assert second.params is None
    third = await client.send(t, {"switch": "on"})
    assert third.params == {"a": 1}
    fourth = await client.send(t, {"switch": "on"})
    assert (fourth.seq, fourth.params, fourth.undecryptable) == (None, None, False)
    no_key = LanTarget(t.deviceid, t.host, t.port)
    fifth = await client.send(no_key, {"switch": "on"})
    assert fifth.undecryptable
    sixth = await client.send(t, {"switch": "on"})
    assert sixth.params is None
    assert KEY_A not in caplog.text


async def test_request_body(scripted: Any, http: aiohttp.ClientSession) -> None:
    """`sequence` strictly increasing, `selfApikey`, `encrypt`/`iv`/`data`, `Connection: close`."""
    bodies: list[Any] = []

    async def record(request: web.Request) -> web.StreamResponse:
        bodies.append(
            (await request.json(), request.headers.get("Connection"), request.match_info["cmd"])
        )
        return web.json_response({"error": 0, "seq": len(bodies)})

    app = web.Application()
    app.router.add_post("/zeroconf/{cmd}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        client = LanClient(http, spacing=0.0, self_apikey="abc")
        t = LanTarget("1000abcdef", "127.0.0.1", port, KEY_A)
        await client.send(t, {"switch": "on"})
        await client.send(t, {"switch": "on"}, subdevid="1000000002")
        await client.send(LanTarget("1000abcdef", "127.0.0.1", port), {})
    finally:
        await runner.cleanup()
    (first, conn, cmd), (second, _c2, _cmd2), (third, _c3, cmd3) = bodies
    assert conn == "close"
    assert cmd == "switch"
    assert cmd3 == "getState"
    assert first["deviceid"] == "1000abcdef"
    assert first["selfApikey"] == "abc"
    assert first["encrypt"] is True
    assert int(second["sequence"]) > int(first["sequence"])
    assert decrypt_params(first["data"], first["iv"], KEY_A) == {"switch": "on"}
    assert decrypt_params(second["data"], second["iv"], KEY_A) == {
        "switch": "on",
        "subDevId": "1000000002",
    }
    assert first["iv"] != second["iv"]
    assert third["data"] == {}
    assert "encrypt" not in third
