"""Reading thing lists (issue #13): one call per home, the paging fallback, specific things.

Against the simulator with CoolKit's rate limits on; `thing_list_max` makes it refuse (or cut,
or never answer) one-call reads of large homes, so both paths run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.ewelink.coolkit import (
    CoolkitClient,
    CoolkitConnectionError,
    CoolkitServerError,
    RateLimiter,
    Servers,
)
from simulator import Simulator
from tests.common import APP_ID, APP_SECRET, EMAIL, PASSWORD, Cloud

HOME_SIZE = 35  # more than one page of 30


@pytest.fixture
async def client(cloud: Cloud) -> AsyncIterator[CoolkitClient]:
    """A signed-in client (the default 15 s request timeout is shortened for the timeout case)."""
    async with aiohttp.ClientSession() as http:
        client = CoolkitClient(
            http,
            APP_ID,
            APP_SECRET,
            servers=Servers(cloud.sim.base_url),
            rate_limiter=RateLimiter(),
            request_timeout=1.0,
        )
        await client.login(EMAIL, PASSWORD, "+49")
        yield client


async def fill(cloud: Cloud, count: int = HOME_SIZE, **kwargs: object) -> set[str]:
    """Add `count` offline devices to the owner's home; return their ids."""
    ids = set()
    for n in range(count):
        device = await cloud.sim.add_device(
            cloud.owner, f"10000{n:05x}", uiid=1, online=False, **kwargs
        )
        ids.add(device.deviceid)
    return ids


def thing_calls(sim: Simulator) -> int:
    """Return how many thing-list reads the simulator answered."""
    return sum(1 for r in sim.requests if r.method == "GET" and r.path.endswith("/device/thing"))


async def test_one_call_per_home(cloud: Cloud, client: CoolkitClient) -> None:
    """A home is read in one call while that works, and the client remembers it."""
    ids = await fill(cloud)
    assert client.thing_read_mode == "unknown"
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == 1
    assert client.thing_read_mode == "one_call"


@pytest.mark.parametrize("mode", ["error500", "http500", "truncate", "timeout"])
async def test_falls_back_to_paging_and_remembers(
    cloud: Cloud, client: CoolkitClient, mode: str
) -> None:
    """A refused (envelope or HTTP 500), cut (short list, larger total) or unanswered
    one-call read is paged instead; a cut list, or a second refusal in a row, makes the next
    reads page straight away."""
    ids = await fill(cloud)
    cloud.sim.faults.thing_list_max = 30
    cloud.sim.faults.thing_list_max_mode = mode  # type: ignore[assignment]
    cloud.sim.faults.thing_list_timeout = 2.0
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == 3  # the refused one-call read, then two pages
    if mode != "truncate":
        assert client.thing_read_mode == "unknown"  # one refusal can be a passing error
        assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
        assert thing_calls(cloud.sim) == 6
    assert client.thing_read_mode == "pages"
    calls = thing_calls(cloud.sim)
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == calls + 2


async def test_a_passing_server_error_does_not_switch_to_pages(
    cloud: Cloud, client: CoolkitClient
) -> None:
    """A one-call read that worked before and fails once is asked again, not paged.

    Regressions (soak, http500_things): a 500 that ended between the refused one-call read and
    the pages switched the client to pages for good, so every later catch-up of 300 devices
    took 6 s (20 s for 1000) instead of one call; and even once, the paged read of 1000
    devices kept them stale for 20 s after the outage.
    """
    ids = await fill(cloud, 65)  # three pages
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert client.thing_read_mode == "one_call"
    cloud.sim.faults.fail_next("/v2/device/thing", 500)
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == 4  # one call; then the refused one, a page, one call
    assert client.thing_read_mode == "one_call"
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == 5


async def test_an_outage_of_the_endpoint_is_an_error_not_a_refusal(
    cloud: Cloud, client: CoolkitClient
) -> None:
    """While every thing-list call fails, reads fail; afterwards one call reads the home."""
    ids = await fill(cloud)
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    cloud.sim.faults.http_error["/v2/device/thing"] = 500
    for _ in range(3):
        with pytest.raises(CoolkitServerError):
            await client.get_things([cloud.home.id])
    del cloud.sim.faults.http_error["/v2/device/thing"]
    calls = thing_calls(cloud.sim)
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == calls + 1
    assert client.thing_read_mode == "one_call"


async def test_a_home_grown_too_large_switches_to_pages_after_two_reads(
    cloud: Cloud, client: CoolkitClient
) -> None:
    """A one-call read that worked and is then refused for good (the home grew): the read
    asks once more, pages, and after the second such read the client pages straight away."""
    ids = await fill(cloud)
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    cloud.sim.faults.thing_list_max = 30
    for expected in (1 + 4, 5 + 4):  # refused, page, refused again, page
        assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
        assert thing_calls(cloud.sim) == expected
    assert client.thing_read_mode == "pages"
    assert {t.deviceid for t in await client.get_things([cloud.home.id])} == ids
    assert thing_calls(cloud.sim) == 9 + 2


async def test_brand_filter_is_not_mistaken_for_a_cut_list(sim: Simulator, cloud: Cloud) -> None:
    """`total` counts things an app may not see (§6.1): the one-call list is short, the paged
    read finds no more, so one-call reads are kept and later short lists trusted."""
    app = sim.add_app("brandfilteredapp0000000000000003", "brand-secret", allowed_brands=["SONOFF"])
    visible = await fill(cloud, 3)
    await sim.add_device(cloud.owner, "1000000ff1", uiid=1, online=False, brandName="Other")
    async with aiohttp.ClientSession() as http:
        client = CoolkitClient(http, app.appid, app.secret, servers=Servers(sim.base_url))
        await client.login(EMAIL, PASSWORD, "+49")
        assert {t.deviceid for t in await client.get_things([cloud.home.id])} == visible
        assert client.thing_read_mode == "one_call"
        calls = thing_calls(sim)
        assert {t.deviceid for t in await client.get_things([cloud.home.id])} == visible
        assert thing_calls(sim) == calls + 1


async def test_paging_is_complete(cloud: Cloud, client: CoolkitClient) -> None:
    """Pages of 30 by `beginIndex` cover an exact multiple of the page size, groups, shares
    and several homes, each device once."""
    sim = cloud.sim
    ids = await fill(cloud, 60)
    sim.add_group(cloud.owner, "Everything", list(ids)[:3])
    cottage = sim.add_home(cloud.owner, "Cottage")
    await sim.add_device(cloud.owner, "1000000c01", uiid=2, home=cottage, online=False)
    await sim.add_device(
        cloud.friend, "1000000c02", uiid=1, shared_with=[cloud.owner], online=False
    )
    sim.faults.thing_list_max = 30  # a full home is never read in one call
    things = await client.get_things()
    assert {t.deviceid for t in things} == ids | {"1000000c01", "1000000c02"}
    assert len(things) == len(ids) + 2
    # 61 items (60 devices + the group) and a shared device in the first home: three pages;
    # one page for the cottage; one refused one-call read first.
    assert thing_calls(sim) == 5


async def test_a_home_of_garbage_is_an_error_not_an_empty_home(
    cloud: Cloud, client: CoolkitClient
) -> None:
    """A list whose every item is malformed is a malformed answer: an empty home would make
    the integration remove every device."""
    await fill(cloud, 2)
    for device in cloud.sim.store.devices.values():
        device.factory.deviceid = "not an id"  # type: ignore[misc]
    with pytest.raises(CoolkitConnectionError, match="malformed"):
        await client.get_things([cloud.home.id])


async def test_specific_things_by_id(cloud: Cloud, client: CoolkitClient) -> None:
    """`POST /v2/device/thing`: at most 10 ids per call; unknown ids and groups are left out;
    shared devices are asked for as shared; duplicates are asked for once."""
    sim = cloud.sim
    ids = sorted(await fill(cloud, 21))
    await sim.add_device(
        cloud.friend, "1000000d01", uiid=1, shared_with=[cloud.owner], online=False
    )
    group = sim.add_group(cloud.owner, "Lights", ids[:2])
    await sim.add_device(cloud.friend, "1000000d02", uiid=1, online=False)  # not shared with us
    wanted = [*ids, ids[0], "1000000d01", "1000000d02", "10000fffff", group.id, "bad id"]
    things = await client.get_things_by_ids(wanted, shared={"1000000d01"})
    assert [t.deviceid for t in things] == [*ids, "1000000d01"]
    assert next(t for t in things if t.deviceid == "1000000d01").shared
    posts = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/device/thing")]
    assert len(posts) == 3  # 26 valid distinct ids: 10 + 10 + 6
    assert await client.get_things_by_ids([]) == []
