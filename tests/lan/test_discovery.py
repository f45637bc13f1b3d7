"""Discovery: the feed seam with the simulator's announcements, and real multicast in a netns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib

import aiohttp
import pytest
from zeroconf import IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncZeroconf

from custom_components.ewelink.lan import (
    Announcement,
    Freshness,
    LanClient,
    LanDiscovery,
    LanTarget,
    SeqTracker,
    diy_uiid,
)
from custom_components.ewelink.lan.const import SERVICE_TYPE
from simulator import Account, LanAnnouncement, Simulator, SimulatorConfig
from tests.netns import network_namespace


class Seen:
    """Collect what the discovery calls back with."""

    def __init__(self) -> None:
        self.items: list[Announcement] = []
        self._event = asyncio.Event()

    def __call__(self, announcement: Announcement) -> None:
        self.items.append(announcement)
        self._event.set()

    def of(self, deviceid: str) -> list[Announcement]:
        return [a for a in self.items if a.deviceid == deviceid]

    async def wait(
        self, predicate: Callable[[Announcement], bool], timeout: float = 10.0
    ) -> Announcement:
        async with asyncio.timeout(timeout):
            while True:
                for ann in reversed(self.items):
                    if predicate(ann):
                        return ann
                self._event.clear()
                await self._event.wait()


def wire(sim: Simulator, discovery: LanDiscovery) -> Callable[[], None]:
    """Feed the simulator's in-process announcements to the discovery's seam."""

    def deliver(a: LanAnnouncement) -> None:
        discovery.feed(a.name, a.addresses, a.port, a.properties)

    return sim.lan.subscribe(deliver)


async def test_feed_seam(sim: Simulator, owner: Account) -> None:
    seen = Seen()
    discovery = LanDiscovery(seen)
    wire(sim, discovery)
    dev = await sim.add_device(owner, uiid=1, params={"switch": "on"})
    lan = sim.lan.device(dev.deviceid)
    ann = await seen.wait(lambda a: a.deviceid == dev.deviceid)
    assert (ann.host, ann.port, ann.seq, ann.local_type) == ("127.0.0.1", lan.port, 1, "plug")
    assert ann.params(lan.devicekey) == dev.params
    assert discovery.last_address(dev.deviceid) == "127.0.0.1"
    assert not discovery.running
    await discovery.async_stop()  # harmless when not started


async def test_missing_a_record_falls_back_to_the_last_address(
    sim: Simulator, owner: Account
) -> None:
    """Some devices send the A record only about hourly (Q2)."""
    seen = Seen()
    discovery = LanDiscovery(seen)
    wire(sim, discovery)
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await seen.wait(lambda a: a.deviceid == dev.deviceid)
    lan.faults.update({"no_a_record": True})
    await dev.report({"switch": "on"})
    ann = await seen.wait(lambda a: a.deviceid == dev.deviceid and a.seq == 2)
    assert ann.addresses == ()
    assert ann.host == "127.0.0.1"
    assert discovery.stats["address_fallbacks"] == 1
    unknown = discovery.feed("eWeLink_1000fedcba._ewelink._tcp.local.", [], 8081, {b"seq": b"1"})
    assert unknown is not None
    assert unknown.host is None


async def test_foreign_and_invalid_records_are_dropped(sim: Simulator) -> None:
    seen = Seen()
    discovery = LanDiscovery(seen)
    wire(sim, discovery)
    sim.lan.publish_foreign("ihost-1001abcdef")
    sim.lan.publish_foreign("zbbridgeu-1000abcdef-wlan0")
    await sim.wait_for(lambda: discovery.stats["invalid"] == 2)
    assert discovery.feed("eWeLink_1000abcdef", ["x"], 8081, {}) is None
    assert discovery.stats["invalid"] == 3
    assert seen.items == []


async def test_stale_and_duplicate_records_are_not_fresh(sim: Simulator, owner: Account) -> None:
    """The simulator's stale and duplicate TXT faults, classified by the tracker (Q9)."""
    seen = Seen()
    discovery = LanDiscovery(seen)
    wire(sim, discovery)
    tracker = SeqTracker()
    dev = await sim.add_device(owner, uiid=1)
    lan = sim.lan.device(dev.deviceid)
    await seen.wait(lambda a: a.deviceid == dev.deviceid)
    lan.faults.update({"stale_txt": True, "duplicate_txt": True})
    await dev.report({"switch": "on"})
    await sim.wait_for(lambda: len(seen.of(dev.deviceid)) == 4)
    verdicts = [tracker.check(a) for a in seen.of(dev.deviceid)]
    assert verdicts == [Freshness.NEW, Freshness.NEWER, Freshness.DUPLICATE, Freshness.STALE]
    fresh = [a for a, v in zip(seen.of(dev.deviceid), verdicts, strict=True) if v.is_fresh]
    assert fresh[-1].params(lan.devicekey)["switch"] == "on"
    # A power cycle restarts seq at 1: fresh again.
    lan.faults.reset()
    await dev.go_offline()
    await dev.go_online()
    reboot = await seen.wait(lambda a: a.deviceid == dev.deviceid and a.seq == 1 and a not in fresh)
    assert tracker.check(reboot) is Freshness.REBOOT


async def test_encoding_quirks_reach_the_integration_readable(
    sim: Simulator, owner: Account
) -> None:
    """Double padding (Q3), RF "=" (Q4) and empty data (Q5) from the simulator parse fine."""
    seen = Seen()
    discovery = LanDiscovery(seen)
    wire(sim, discovery)
    rf = await sim.add_device(owner, uiid=28)
    lan = sim.lan.device(rf.deviceid)
    lan.faults.update({"double_padding": True, "rf_equals": True})
    await rf.report({"rfTrig1": "2024-02-02T00:00:00.000Z"})
    ann = await seen.wait(lambda a: a.deviceid == rf.deviceid and a.seq == 2)
    assert ann.params(lan.devicekey)["rfTrig1"] == "2024-02-02T00:00:00.000Z"
    lan.faults.update({"empty_data": True})
    await rf.report({"rfTrig1": "2024-02-03T00:00:00.000Z"})
    ann = await seen.wait(lambda a: a.deviceid == rf.deviceid and a.seq == 3)
    assert not ann.has_data
    assert ann.params(lan.devicekey) == {}


async def test_diy_and_spm_announcements(sim: Simulator, owner: Account) -> None:
    seen = Seen()
    discovery = LanDiscovery(seen)
    wire(sim, discovery)
    diy = await sim.lan.add_diy_device(uiid=1, params={"switch": "on"})
    ann = await seen.wait(lambda a: a.deviceid == diy.deviceid)
    assert not ann.encrypted
    assert ann.params() == diy.device.params
    assert diy_uiid(ann.local_type, ann.params()) == 1
    main = await sim.add_device(owner, uiid=128)
    relay = await sim.add_device(owner, uiid=130, parent=main)
    await relay.report({"switches": [{"outlet": 0, "switch": "on"}]})
    ann = await seen.wait(
        lambda a: a.subdevid == relay.deviceid and a.seq is not None and a.seq > 2
    )
    assert ann.deviceid == main.deviceid
    assert ann.params(sim.lan.device(main.deviceid).devicekey) == {
        "switches": [{"outlet": 0, "switch": "on"}]
    }


async def test_zbbridge_u_announces_without_data(sim: Simulator, owner: Account) -> None:
    seen = Seen()
    wire(sim, LanDiscovery(seen))
    ultra = await sim.add_device(owner, uiid=243)
    ann = await seen.wait(lambda a: a.deviceid == ultra.deviceid)
    assert ann.local_type == "zbbridgeu"
    assert not ann.has_data


# Real multicast ---------------------------------------------------------------------------------
@pytest.fixture
def netns() -> Iterator[str]:
    """Run the test in a fresh network namespace (tests/netns.py)."""
    with network_namespace("lan") as name:
        yield name


async def test_real_multicast_discovery(netns: str) -> None:
    """The simulator publishes over mDNS; the discovery browses, resolves and calls back."""
    config = SimulatorConfig(
        hb_interval=2, rate_limit=False, device_register_retry=0.05, device_reconnect_delay=0.05,
        shutdown_timeout=1.0, lan=True, lan_mdns=True,
    )  # fmt: skip
    seen = Seen()
    discovery = LanDiscovery(seen, resolve_timeout=1.0)
    browser_zc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        async with Simulator(config) as sim, aiohttp.ClientSession() as http:
            owner = sim.add_account("owner@example.com", password="pw")
            dev = await sim.add_device(owner, uiid=1)
            hidden = await sim.add_device(owner, uiid=1, online=False)
            lan = sim.lan.device(dev.deviceid)
            sim.lan.publish_foreign("ihost-1001abcdef")
            await discovery.async_start(browser_zc)
            await discovery.async_start(browser_zc)  # idempotent
            assert discovery.running

            first = await seen.wait(lambda a: a.deviceid == dev.deviceid)
            assert (first.host, first.port) == ("127.0.0.1", lan.port)
            assert first.params(lan.devicekey)["switch"] == "off"

            # A command over the discovered address: the device re-announces, the browser sees it.
            client = LanClient(http)
            reply = await client.send(
                LanTarget.from_announcement(first, lan.devicekey), {"switch": "on"}
            )
            updated = await seen.wait(
                lambda a: a.deviceid == dev.deviceid and a.seq is not None and a.seq >= reply.seq
            )
            assert updated.params(lan.devicekey)["switch"] == "on"
            await sim.wait_for(lambda: discovery.stats["ignored"] >= 1)

            # A device that never sends an A record: resolved after the timeout, no host known.
            no_a = sim.lan.attach(hidden)
            no_a.faults.update({"no_a_record": True})
            await hidden.go_online()
            ann = await seen.wait(lambda a: a.deviceid == hidden.deviceid)
            assert ann.host is None
            assert ann.port == no_a.port

            # Updates while a resolution is under way make one more resolution, not one each.
            quick = LanDiscovery(seen, resolve_timeout=0.3)
            await quick.async_start(browser_zc.zeroconf)
            ghost = "eWeLink_1000abcdee._ewelink._tcp.local."
            for _ in range(3):
                quick._on_service_state_change(
                    zeroconf=browser_zc.zeroconf,
                    service_type=SERVICE_TYPE,
                    name=ghost,
                    state_change=ServiceStateChange.Updated,
                )
            await sim.wait_for(lambda: quick.stats["unresolved"] >= 2, timeout=5)
            await asyncio.sleep(0.5)
            assert quick.stats["unresolved"] == 2  # no TXT record for the ghost
            quick._on_service_state_change(
                zeroconf=browser_zc.zeroconf,
                service_type=SERVICE_TYPE,
                name=ghost,
                state_change=ServiceStateChange.Added,
            )
            await asyncio.sleep(0.05)
            await quick.async_stop()  # cancels the resolution under way
            assert quick.stats["unresolved"] == 2

            # Goodbye (Removed) is ignored; nothing is delivered for it.
            count = len(seen.items)
            await dev.go_offline()
            await asyncio.sleep(1.0)
            assert all(a.deviceid != dev.deviceid for a in seen.items[count:])
            await discovery.async_stop()
            assert not discovery.running
    finally:
        with contextlib.suppress(Exception):
            await discovery.async_stop()
        await browser_zc.async_close()
