"""The registry an integration drives: one call per announcement, targets, liveness, diagnostics."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.ewelink.lan import (
    MAX_FAILURES,
    PING_AFTER,
    RETRY_OFFLINE,
    Announcement,
    Freshness,
    LanClient,
    LanDecryptError,
    LanDiscovery,
    LanError,
    LanKeyRequiredError,
    LanRegistry,
    LanRejectedError,
    LanUpdate,
)
from simulator import Account, Simulator

from .vectors import KEY_A


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def heard(sim: Simulator) -> tuple[list[Announcement], asyncio.Event]:
    """Wire the simulator's feed through a discovery; return what it delivers."""
    items: list[Announcement] = []
    event = asyncio.Event()

    def add(ann: Announcement) -> None:
        items.append(ann)
        event.set()

    discovery = LanDiscovery(add)
    sim.lan.subscribe(lambda a: discovery.feed(a.name, a.addresses, a.port, a.properties))
    return items, event


async def latest(items: list[Announcement], deviceid: str, seq: int) -> Announcement:
    async with asyncio.timeout(5):
        while True:
            for ann in reversed(items):
                if ann.deviceid == deviceid and ann.seq == seq:
                    return ann
            await asyncio.sleep(0.01)


async def test_announcements_and_commands(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    clock = Clock()
    registry = LanRegistry(clock=clock)
    items, _event = await heard(sim)
    dev = await sim.add_device(owner, uiid=138)  # replies carry the new state
    lan = sim.lan.device(dev.deviceid)
    key = lan.devicekey

    update = registry.handle(await latest(items, dev.deviceid, 1), key)
    assert isinstance(update, LanUpdate)
    assert update.freshness is Freshness.NEW
    assert update.params == dev.params
    assert update.error is None
    assert update.device == dev.deviceid
    assert registry.is_local(dev.deviceid)
    assert registry.target(dev.deviceid, None) is None  # it encrypts: no key, no LAN

    target = registry.target(dev.deviceid, key)
    assert target is not None
    assert (target.host, target.port, target.encrypted) == ("127.0.0.1", lan.port, True)
    reply = await client.send(target, {"switches": [{"outlet": 0, "switch": "on"}]})
    state = registry.command_succeeded(dev.deviceid, reply)
    assert state["switches"][0]["switch"] == "on"
    # The announcement of the same seq that follows is the same state, not a new change.
    again = registry.handle(await latest(items, dev.deviceid, reply.seq or 0), key)
    assert again.freshness is Freshness.SAME
    assert not again.freshness.is_change
    assert again.params["switches"][0]["switch"] == "on"

    diagnostics = registry.diagnostics()[dev.deviceid]
    assert diagnostics["host"] == "127.0.0.1"
    assert diagnostics["seq"] == reply.seq
    assert diagnostics["local"] is True
    assert key not in str(registry.diagnostics())


async def test_failures_liveness_and_ping(
    sim: Simulator, owner: Account, client: LanClient
) -> None:
    clock = Clock()
    registry = LanRegistry(clock=clock)
    items, _event = await heard(sim)
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    first = await latest(items, dev.deviceid, 1)
    registry.handle(first, lan.devicekey)
    assert registry.due_for_ping() == []
    clock.now += PING_AFTER
    assert registry.due_for_ping() == [dev.deviceid]
    target = registry.target(dev.deviceid, lan.devicekey)
    assert target is not None
    lan.faults.update({"error": 422})
    with pytest.raises(LanRejectedError) as rejected:
        await client.send(target, {"switch": "on"})
    registry.command_failed(dev.deviceid, rejected.value)
    assert registry.is_local(dev.deviceid)  # the device answered: still local
    await dev.go_offline()
    for _ in range(MAX_FAILURES):
        assert registry.is_local(dev.deviceid)
        with pytest.raises(LanError) as failed:
            await client.send(target, {"switch": "on"})
        registry.command_failed(dev.deviceid, failed.value)
    assert not registry.is_local(dev.deviceid)
    assert registry.target(dev.deviceid, lan.devicekey) is None
    assert registry.due_for_ping() == []
    # A cache re-delivering an old record proves nothing.
    assert registry.handle(first, lan.devicekey).freshness is Freshness.DUPLICATE
    assert not registry.is_local(dev.deviceid)
    clock.now += RETRY_OFFLINE
    assert registry.due_for_ping() == [dev.deviceid]  # worth a ping now and then
    forced = registry.target(dev.deviceid, lan.devicekey, force=True)
    assert forced == target
    assert not await client.ping(forced)
    assert registry.diagnostics()[dev.deviceid]["last_error"] == "LanUnreachableError"
    # It boots again and announces: local again, and its restarted seq is fresh.
    lan.faults.reset()
    count = len(items)
    await dev.go_online()
    async with asyncio.timeout(5):
        while len(items) == count:
            await asyncio.sleep(0.01)
    update = registry.handle(items[-1], lan.devicekey)
    # Rebooted onto the same count it had: merged all the same (it may have changed at boot).
    assert update.freshness is Freshness.SAME
    assert update.params == dev.params
    assert registry.is_local(dev.deviceid)
    registry.command_failed("1000ffffff", failed.value)  # unknown: ignored
    registry.forget(dev.deviceid)
    assert registry.peer(dev.deviceid) is None
    assert registry.tracker.last_seq(dev.deviceid) is None


async def test_unreadable_params_and_diy(sim: Simulator, owner: Account, client: LanClient) -> None:
    registry = LanRegistry()
    items, _event = await heard(sim)
    dev = await sim.add_device(owner, uiid=1)
    ann = await latest(items, dev.deviceid, 1)
    missing = registry.handle(ann, None)
    assert isinstance(missing.error, LanKeyRequiredError)
    assert missing.params == {}
    wrong = registry.handle(await latest(items, dev.deviceid, 1), KEY_A)
    assert wrong.freshness is Freshness.DUPLICATE  # same record: not read again
    assert wrong.error is None
    await dev.report({"switch": "on"})
    wrong = registry.handle(await latest(items, dev.deviceid, 2), KEY_A)
    assert isinstance(wrong.error, LanDecryptError)
    peer = registry.peer(dev.deviceid)
    assert peer is not None
    assert peer.last_error == "LanDecryptError"

    diy = await sim.lan.add_diy_device(uiid=1)
    update = registry.handle(await latest(items, diy.deviceid, 1), None)
    assert update.params["switch"] == "off"
    target = registry.target(diy.deviceid, "any-key")
    assert target is not None
    assert not target.encrypted
    info = await client.send(target, {}, command="info")
    assert registry.command_succeeded(diy.deviceid, info)["deviceid"] == diy.deviceid
    assert registry.tracker.last_seq(diy.deviceid) == 1  # query data is not a state with a seq


async def test_sub_units_and_missing_addresses(sim: Simulator, owner: Account) -> None:
    registry = LanRegistry()
    items, _event = await heard(sim)
    main = await sim.add_device(owner, uiid=128)
    relay = await sim.add_device(owner, uiid=130, parent=main)
    key = sim.lan.device(main.deviceid).devicekey
    await relay.report({"switches": [{"outlet": 3, "switch": "on"}]})
    async with asyncio.timeout(5):
        while not any(a.subdevid == relay.deviceid and a.seq == 3 for a in items):
            await asyncio.sleep(0.01)
    for ann in list(items):
        update = registry.handle(ann, key)
    assert update.device == relay.deviceid
    assert update.params == {"switches": [{"outlet": 3, "switch": "on"}]}
    peer = registry.peer(main.deviceid)
    assert peer is not None
    assert peer.seq == 1  # the main device's own record
    assert registry.is_local(main.deviceid)
    lan = sim.lan.device(main.deviceid)
    lan.faults.update({"no_a_record": True})
    lan.announce_full()
    async with asyncio.timeout(5):
        while items[-1].seq != lan.seq:
            await asyncio.sleep(0.01)
    registry.handle(items[-1], key)  # the discovery filled in the last address
    assert peer.host == "127.0.0.1"
