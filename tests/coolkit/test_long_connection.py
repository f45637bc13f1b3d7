"""The long connection against the simulator over real sockets."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from custom_components.ewelink.coolkit import (
    ConnectionState,
    CoolkitClient,
    DeviceEvent,
    DeviceOfflineError,
    DeviceOnline,
    DeviceTimeoutError,
    DeviceUpdate,
    LongConnection,
    NotConnectedError,
    ReauthRequiredError,
    Servers,
)
from simulator import SimulatorConfig
from tests.common import APP_ID, APP_SECRET, Cloud

from .conftest import Harness


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """A 2 s heartbeat, so pings go every second and a silent socket shows within seconds."""
    return SimulatorConfig(hb_interval=2, device_ack_timeout=0.6, device_register_retry=0.2)


async def test_handshake_and_heartbeat(harness: Harness) -> None:
    """userOnline succeeds, hbInterval is taken from the answer, pings get pongs."""
    stats = harness.connection.stats
    assert stats.hb_interval == 2
    await asyncio.sleep(2.5)
    assert harness.connection.connected
    assert stats.connects == 1
    assert stats.frames_sent >= 3  # userOnline + at least two pings
    assert (
        harness.sim.app_sessions(harness.sim.store.accounts[harness.client.user_apikey or ""]) == 1
    )


async def test_pushes_become_events(cloud: Cloud, harness: Harness) -> None:
    """Device updates and online changes are delivered as typed events."""
    device = await cloud.sim.add_device(cloud.owner, "1000000501", uiid=2)
    await device.report({"switches": [{"outlet": 1, "switch": "on"}]})

    def channel_2_on(event: DeviceEvent) -> bool:
        return isinstance(event, DeviceUpdate) and {
            "outlet": 1,
            "switch": "on",
        } in event.params.get("switches", [])

    await harness.until(lambda: any(channel_2_on(e) for e in harness.events))
    update = next(e for e in harness.events if channel_2_on(e))
    assert isinstance(update, DeviceUpdate)
    assert update.deviceid == "1000000501"
    assert update.implies_online
    await device.go_offline()
    await harness.until(lambda: DeviceOnline("1000000501", False) in harness.events)


async def test_commands_and_acks(cloud: Cloud, harness: Harness) -> None:
    """0 applies the command; an offline device is 503; a dropped ack is 504 from the cloud."""
    device = await cloud.sim.add_device(cloud.owner, "1000000502", uiid=1)
    apikey = cloud.owner.apikey
    reply = await harness.connection.send_update("1000000502", {"switch": "on"}, apikey)
    assert reply["error"] == 0
    await harness.until(lambda: device.params["switch"] == "on")
    state = await harness.connection.query("1000000502", apikey, ["switch"])
    assert state["switch"] == "on"

    device.drop_acks = True
    with pytest.raises(DeviceTimeoutError) as err:
        await harness.connection.send_update("1000000502", {"switch": "off"}, apikey)
    assert err.value.code == 504
    device.drop_acks = False

    await device.go_offline()
    with pytest.raises(DeviceOfflineError) as offline:
        await harness.connection.send_update("1000000502", {"switch": "off"}, apikey)
    assert offline.value.code == 503


async def test_client_side_ack_timeout(cloud: Cloud, harness: Harness) -> None:
    """No ack before our own timeout is a DeviceTimeoutError; numeric sequences still match."""
    cloud.sim.config.device_ack_timeout = 10.0
    cloud.sim.faults.numeric_sequence = True
    device = await cloud.sim.add_device(cloud.owner, "1000000503", uiid=1)
    assert (
        await harness.connection.send_update("1000000503", {"switch": "on"}, cloud.owner.apikey)
    )["error"] == 0
    device.ack_delay = 5.0
    harness.connection._ack_timeout = 0.5
    with pytest.raises(DeviceTimeoutError):
        await harness.connection.send_update("1000000503", {"switch": "off"}, cloud.owner.apikey)


async def test_commands_are_paced(cloud: Cloud, harness: Harness) -> None:
    """Frames leave at least 100 ms apart through one queue."""
    await cloud.sim.add_device(cloud.owner, "1000000504", uiid=4)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(
        *(
            harness.connection.send_update(
                "1000000504", {"switches": [{"outlet": n, "switch": "on"}]}, cloud.owner.apikey
            )
            for n in range(4)
        )
    )
    assert loop.time() - started >= 0.3


async def test_server_drop_reconnects_with_a_connected_event(harness: Harness) -> None:
    """After the server drops the socket, the client reconnects and says so (resync hook)."""
    await harness.sim.drop_app_sockets(code=1006)
    await harness.until(lambda: harness.connects() == 2)
    assert ConnectionState.DISCONNECTED in harness.states
    assert harness.connection.stats.disconnects == 1


async def test_watchdog_detects_a_half_open_socket(harness: Harness) -> None:
    """A socket that stays open but answers and delivers nothing is found dead by the pong
    watchdog (within min(hbInterval / 4, 30 s), see `liveness_timing`) and replaced."""
    harness.sim.half_open_app_sockets()
    await harness.until(lambda: harness.connects() == 2, timeout=15)
    assert harness.connection.stats.disconnects == 1
    assert harness.connection.stats.dead_sockets == 1


async def test_ignored_pings_are_a_dead_connection(harness: Harness) -> None:
    """The watchdog fires when pongs stop although the socket stays open."""
    harness.sim.faults.ignore_ping = True
    await harness.until(lambda: harness.connection.stats.disconnects >= 1, timeout=15)
    harness.sim.faults.ignore_ping = False
    await harness.until(lambda: harness.connection.connected, timeout=15)


async def test_garbage_frames_are_survived(cloud: Cloud, harness: Harness) -> None:
    """Bad JSON, wrong types and unknown actions are skipped; the loop keeps going."""
    device = await cloud.sim.add_device(cloud.owner, "1000000505", uiid=1)
    cloud.sim.faults.notify_noise = True
    garbage = [
        "not json {",
        "[1, 2, 3]",
        json.dumps({"action": "update", "deviceid": 42, "params": {"switch": "on"}}),
        json.dumps({"action": "update", "deviceid": "1000000505", "params": "on"}),
        json.dumps({"action": "sysmsg", "deviceid": "1000000505", "params": {"online": "yes"}}),
        json.dumps({"action": "somethingNew", "deviceid": "1000000505"}),
        json.dumps({"error": 0, "sequence": "no-such-command"}),
    ]
    for conn in list(cloud.sim.hub.app_conns):
        for frame in garbage:
            conn.send(frame)
    await device.report({"switch": "on"})
    await harness.until(
        lambda: any(
            isinstance(e, DeviceUpdate) and e.params.get("switch") == "on" for e in harness.events
        )
    )
    stats = harness.connection.stats
    assert stats.malformed >= 4
    assert stats.ignored >= 2
    assert harness.connection.connected
    assert stats.connects == 1


async def test_session_taken_over_over_the_socket(cloud: Cloud, harness: Harness) -> None:
    """406 then close: the state says taken over; renewing fails, so the run ends with reauth."""
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    await harness.until(lambda: ConnectionState.AUTH_REQUIRED in harness.states)
    assert cloud.sim.app_sessions(cloud.owner) == 0
    assert ConnectionState.TAKEN_OVER in harness.states
    assert harness.connection.stats.takeovers == 1


async def test_commands_need_the_connection(cloud: Cloud) -> None:
    """Without a connection a command fails at once; a run without tokens asks for a sign-in."""
    async with aiohttp.ClientSession() as http:
        client = CoolkitClient(
            http, APP_ID, APP_SECRET, servers=Servers(cloud.sim.base_url), region="eu"
        )
        connection = LongConnection(client, lambda event: None)
        with pytest.raises(NotConnectedError):
            await connection.send_update("1000000001", {"switch": "on"}, "owner")
        with pytest.raises(ReauthRequiredError):
            await connection.run()
        assert connection.state is ConnectionState.AUTH_REQUIRED


async def test_takeover_recovers_once_then_holds(cloud: Cloud, harness: Harness) -> None:
    """A takeover that leaves the refresh token alive is renewed at once; the next one within
    10 minutes leaves the session to the other client for a hold, then takes it back."""
    cloud.sim.faults.takeover_keeps_refresh = True
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    await harness.until(lambda: harness.connects() == 2)
    assert harness.connection.stats.takeovers == 1
    assert harness.client.session_hold == 0
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    await harness.until(lambda: harness.client.session_hold > 0)
    assert harness.connection.state is ConnectionState.TAKEN_OVER
    assert harness.connects() == 2
    await harness.until(lambda: harness.connects() == 3, timeout=15)
    assert harness.connection.stats.takeovers == 2
    assert harness.refreshes() == 2  # renewed once at the first takeover, once after the hold


async def test_first_takeover_log_does_not_guess_the_cause(
    cloud: Cloud, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused token has many causes (sign-out, a forgetful server, another client): the log
    line says what happened, not a guess (issue #12 item 8)."""
    cloud.sim.faults.takeover_keeps_refresh = True
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    await harness.until(lambda: harness.connects() == 2)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert any("no longer accepts the session's access token" in m for m in messages), messages
    assert not any("another sign-in" in m for m in messages)


async def test_hostile_frames_never_raise(cloud: Cloud, harness: Harness) -> None:
    """Deep nesting (RecursionError in json), invalid outlets, surrogates, non-finite and huge
    numbers: each frame is dropped or cut down, nothing raises, the connection stays up and a
    valid push still arrives (issue #9 finding 5)."""
    device = await cloud.sim.add_device(cloud.owner, "1000000506", uiid=2)
    deep = "[" * 200_000 + "]" * 200_000
    frames = [
        deep,
        '{"action":"update","deviceid":"1000000506","params":' + "{\"a\":" * 50_000 + "1"
        + "}" * 50_000 + "}",
        json.dumps({"action": "update", "deviceid": "1000000506", "params": {
            "switches": [{"outlet": [1], "switch": "on"}, {"outlet": "x"}, {"outlet": 0, "switch": "on"}],
            "name": "\ud800", "big": 2**80, "fine": 1}}),
        '{"action":"update","deviceid":"1000000506","params":{"nan":NaN,"inf":-Infinity}}',
        json.dumps({"action": "update", "deviceid": "10000\udc0006", "params": {"a": 1}}),
        json.dumps({"action": "sysmsg", "deviceid": ["1000000506"], "params": {"online": True}}),
        json.dumps({"error": 0, "sequence": [1, 2]}),
        json.dumps({"error": 0, "sequence": {"a": 1}, "params": {"x": 1}}),
    ]  # fmt: skip
    for conn in list(cloud.sim.hub.app_conns):
        for frame in frames:
            conn.send(frame)
    await device.report({"switches": [{"outlet": 1, "switch": "on"}]})
    await harness.until(
        lambda: any(
            isinstance(e, DeviceUpdate) and {"outlet": 1, "switch": "on"} in e.params.get("switches", [])
            for e in harness.events
        )
    )  # fmt: skip
    mixed = next(e for e in harness.events if isinstance(e, DeviceUpdate) and "fine" in e.params)
    assert isinstance(mixed, DeviceUpdate)
    assert mixed.params == {"switches": [{"outlet": 0, "switch": "on"}], "fine": 1}
    stats = harness.connection.stats
    assert stats.internal_errors == 0
    assert stats.malformed >= 2  # the deep list, the deviceid with a surrogate
    assert stats.ignored >= 5  # nothing usable left after sanitising, unmatched replies
    assert harness.connection.connected
    assert stats.connects == 1


async def test_query_catches_up_a_device(cloud: Cloud, harness: Harness) -> None:
    """A websocket `query` with no keys returns the device's full current state (catch-up)."""
    device = await cloud.sim.add_device(cloud.owner, "1000000507", uiid=4)
    await device.report({"switches": [{"outlet": 2, "switch": "on"}]})
    state = await harness.connection.query("1000000507", cloud.owner.apikey)
    assert {"outlet": 2, "switch": "on"} in state["switches"]
    assert state["fwVersion"] == device.params["fwVersion"]
    await device.go_offline()
    with pytest.raises(DeviceOfflineError):
        await harness.connection.query("1000000507", cloud.owner.apikey)


async def test_queued_commands_do_not_time_out_while_waiting_their_turn(
    cloud: Cloud, harness: Harness
) -> None:
    """The ack timeout (3 s here) starts when a frame leaves, not while it waits behind others
    paced 100 ms apart: a burst of 40 queries (4 s of pacing) all succeed."""
    await cloud.sim.add_device(cloud.owner, "1000000508", uiid=1)
    replies = await asyncio.gather(
        *(harness.connection.query("1000000508", cloud.owner.apikey) for _ in range(40))
    )
    assert all(reply["switch"] in ("on", "off") for reply in replies)
