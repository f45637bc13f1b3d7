"""Homes, the thing list, status get/set, device add (Wi-Fi and GSM), dispatch."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from simulator import VirtualDevice

from .conftest import World
from .helpers import Api

LOGIN = {"email": "owner@example.com", "password": "owner-pw"}

ITEM_FIELDS = {
    "name", "deviceid", "apikey", "extra", "brandName", "brandLogo", "showBrand", "productModel",
    "devGroups", "tags", "devConfig", "settings", "family", "shareTo", "devicekey", "online", "params",
}  # fmt: skip
EXTRA_FIELDS = {
    "model",
    "ui",
    "uiid",
    "description",
    "manufacturer",
    "mac",
    "apmac",
    "modelInfo",
    "brandId",
}


@pytest.fixture
async def things(world: World) -> dict[str, Any]:
    """Own devices in two homes, a shared device, a group, a bridge with a child, an offline device."""
    sim, owner, friend = world.sim, world.owner, world.friend
    holiday = sim.add_home(owner, "Holiday", ["Garage"])
    lamp = await sim.add_device(owner, "1000000a01", 1, "Lamp", room="Kitchen", tags={"k": "v"})
    dual = await sim.add_device(
        owner, "1000000a02", 2, "Dual", tags={"ck_channel_name": {"0": "A", "1": "B"}}
    )
    bridge = await sim.add_device(owner, "1000000a03", 66, "Bridge")
    child = await sim.add_device(owner, "1000000a04", 1770, "TH", parent=bridge)
    garage = await sim.add_device(
        owner, "1000000a05", 3, "Garage", online=False, home=holiday, room="Garage"
    )
    other_brand = await sim.add_device(owner, "1000000a06", 1, "Other brand", brandName="ACME")
    shared = await sim.add_device(friend, "1000000b01", 1, "Friend lamp", shared_with=[owner])
    group = sim.add_group(owner, "All lights", [lamp, dual])
    return {
        "lamp": lamp, "dual": dual, "bridge": bridge, "child": child, "garage": garage,
        "other": other_brand, "shared": shared, "group": group, "holiday": holiday,
    }  # fmt: skip


async def login(api: Api) -> str:
    return str((await api.login(**LOGIN))["at"])


async def test_family(world: World, things: dict[str, Any]) -> None:
    """GET /v2/family lists homes with rooms and the current home; the current home can change."""
    api = world.api
    at = await login(api)
    env = await api.bearer("GET", "/v2/family", at)
    data = env["data"]
    assert [h["name"] for h in data["familyList"]] == ["Home", "Holiday"]
    assert data["currentFamilyId"] == world.home.id
    home = data["familyList"][0]
    assert home["apikey"] == world.owner.apikey
    assert [r["name"] for r in home["roomList"]] == ["Kitchen", "Bedroom"]
    env = await api.bearer("POST", "/v2/family/current", at, body={"id": things["holiday"].id})
    assert env["error"] == 0
    env = await api.bearer("GET", "/v2/device/thing", at)
    assert [i["itemData"]["deviceid"] for i in env["data"]["thingList"]] == ["1000000a05"]
    env = await api.bearer("POST", "/v2/family/current", at, body={"id": "nope"})
    assert env["error"] == 20001


async def test_thing_list_items_and_field_set(world: World, things: dict[str, Any]) -> None:
    """Own devices (1), shares (2), groups (3, no deviceid), the full itemData field set."""
    api = world.api
    at = await login(api)
    env = await api.bearer("GET", "/v2/device/thing", at, params={"num": "0"})
    data = env["data"]
    items = data["thingList"]
    assert data["total"] == len(items) == 7  # the garage lives in the other home
    by_type: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        by_type.setdefault(item["itemType"], []).append(item)
    assert len(by_type[1]) == 5
    assert len(by_type[2]) == 1
    assert len(by_type[3]) == 1
    assert "deviceid" not in by_type[3][0]["itemData"]
    assert by_type[3][0]["itemData"]["name"] == "All lights"
    indexes = [i["index"] for i in items]
    assert indexes == sorted(indexes)
    assert len(set(indexes)) == len(indexes)
    for item in by_type[1] + by_type[2]:
        data_ = item["itemData"]
        assert set(data_) >= ITEM_FIELDS, ITEM_FIELDS - set(data_)
        assert set(data_["extra"]) >= EXTRA_FIELDS
        assert set(data_["family"]) >= {"familyid", "index", "roomid"}
        assert set(data_["settings"]) >= {"opsNotify", "opsHistory", "alarmNotify"}
        assert isinstance(data_["extra"]["uiid"], int)
    lamp = next(i["itemData"] for i in items if i["itemData"].get("deviceid") == "1000000a01")
    assert lamp["apikey"] == world.owner.apikey
    assert lamp["family"]["roomid"] == world.home.rooms["Kitchen"]
    assert lamp["tags"] == {"k": "v"}
    assert lamp["devGroups"] == [{"type": 1, "groupId": things["group"].id}]
    assert lamp["devicekey"] == things["lamp"].factory.apikey
    assert lamp["online"] is True
    assert lamp["params"]["switch"] == "off"
    shared = by_type[2][0]["itemData"]
    assert shared["apikey"] == world.friend.apikey
    assert shared["sharedBy"]["apikey"] == world.friend.apikey
    assert shared["sharedBy"]["email"] == "friend@example.com"
    assert "sharedBy" not in lamp
    child = next(i["itemData"] for i in items if i["itemData"].get("deviceid") == "1000000a04")
    assert child["params"]["parentid"] == "1000000a03"
    assert child["extra"]["uiid"] == 1770
    # The owner of the shared device sees whom it is shared with.
    friend_at = str((await api.login("friend@example.com", "friend-pw"))["at"])
    env = await api.bearer("GET", "/v2/device/thing", friend_at)
    mine = env["data"]["thingList"][0]["itemData"]
    assert mine["shareTo"][0]["apikey"] == world.owner.apikey


async def test_thing_list_paging(world: World, things: dict[str, Any]) -> None:
    """num/beginIndex page through the list in index order; beginIndex is exclusive."""
    api = world.api
    at = await login(api)
    seen: list[str] = []
    begin = -9999999
    while True:
        env = await api.bearer(
            "GET", "/v2/device/thing", at, params={"num": "3", "beginIndex": str(begin)}
        )
        page = env["data"]["thingList"]
        assert env["data"]["total"] == 7
        if not page:
            break
        assert len(page) <= 3
        seen.extend(i["itemData"].get("deviceid") or i["itemData"]["id"] for i in page)
        begin = page[-1]["index"]
    assert len(seen) == len(set(seen)) == 7
    env = await api.bearer("GET", "/v2/device/thing", at)
    assert len(env["data"]["thingList"]) == 7  # default num 30
    env = await api.bearer("GET", "/v2/device/thing", at, params={"num": "x"})
    assert env["error"] == 400
    world.sim.faults.thing_list_max = 5
    env = await api.bearer("GET", "/v2/device/thing", at, params={"num": "0"})
    assert env["error"] == 500
    env = await api.bearer("GET", "/v2/device/thing", at, params={"num": "5"})
    assert env["error"] == 0


async def test_brand_filter_makes_total_exceed_items(world: World, things: dict[str, Any]) -> None:
    """An app limited to some brands does not see others, but total still counts them."""
    world.app.allowed_brands = {"SONOFF"}
    at = await login(world.api)
    env = await world.api.bearer("GET", "/v2/device/thing", at, params={"num": "0"})
    ids = [i["itemData"].get("deviceid") for i in env["data"]["thingList"]]
    assert "1000000a06" not in ids
    assert env["data"]["total"] == 7
    assert len(ids) == 6


async def test_specific_things_and_groups(world: World, things: dict[str, Any]) -> None:
    """POST /v2/device/thing returns the listed items; GET /v2/device/group the groups."""
    api = world.api
    at = await login(api)
    env = await api.bearer(
        "POST",
        "/v2/device/thing",
        at,
        body={
            "thingList": [{"itemType": 1, "id": "1000000a01"}, {"itemType": 2, "id": "1000000b01"}]
        },
    )
    assert [i["itemType"] for i in env["data"]["thingList"]] == [1, 2]
    env = await api.bearer("POST", "/v2/device/thing", at, body={"thingList": []})
    assert env["error"] == 400
    env = await api.bearer("GET", "/v2/device/group", at)
    assert env["data"]["groupList"][0]["itemData"]["id"] == things["group"].id


async def test_specific_things_like_the_list(world: World, things: dict[str, Any]) -> None:
    """POST /v2/device/thing answers items of the list's shape: the same item as the list,
    unknown ids and hidden brands left out, duplicates once, at most 10 entries, itemType
    1/2/3 and a string id required (§6.5)."""
    api = world.api
    world.app.allowed_brands = {"SONOFF"}
    at = await login(api)
    listed = await api.bearer("GET", "/v2/device/thing", at, params={"num": "0"})
    by_id = {
        i["itemData"].get("deviceid") or i["itemData"]["id"]: i for i in listed["data"]["thingList"]
    }
    wanted = [
        "1000000a02",
        "1000000a02",
        "10000fffff",
        "1000000a06",
        things["group"].id,
        "1000000b01",
    ]
    env = await api.bearer(
        "POST", "/v2/device/thing", at,
        body={"thingList": [{"itemType": 1, "id": i} for i in wanted]},
    )  # fmt: skip
    got = env["data"]["thingList"]
    assert [i["itemData"].get("deviceid") or i["itemData"]["id"] for i in got] == [
        "1000000a02", things["group"].id, "1000000b01"
    ]  # fmt: skip
    assert got[0] == by_id["1000000a02"]
    assert got[2]["itemType"] == 2
    for bad in (
        [{"itemType": 1, "id": f"10000000{n:02d}"} for n in range(11)],
        [{"itemType": 4, "id": "1000000a01"}],
        [{"itemType": 1}],
        [{"itemType": 1, "id": ""}],
        ["1000000a01"],
    ):
        env = await api.bearer("POST", "/v2/device/thing", at, body={"thingList": bad})
        assert env["error"] == 400, bad


@pytest.mark.parametrize("mode", ["http500", "truncate", "timeout"])
async def test_oversized_one_call_reads(world: World, things: dict[str, Any], mode: str) -> None:
    """`thing_list_max_mode`: a plain HTTP 500, a cut list with the full total, or no answer
    in time (HTTP 504 later); paged reads of at most `thing_list_max` are served."""
    api, faults = world.api, world.sim.faults
    at = await login(api)
    faults.thing_list_max, faults.thing_list_max_mode, faults.thing_list_timeout = 5, mode, 0.3  # type: ignore[assignment]
    status, env = await api.request("GET", "eu", "/v2/device/thing", at=at, params={"num": "0"})
    if mode == "truncate":
        assert status == 200
        assert (len(env["data"]["thingList"]), env["data"]["total"]) == (5, 7)
    else:
        assert status == (500 if mode == "http500" else 504)
    env = await api.bearer("GET", "/v2/device/thing", at, params={"num": "5"})
    assert len(env["data"]["thingList"]) == 5


async def test_status_get_and_set(world: World, things: dict[str, Any]) -> None:
    """Status get filters by `|`-separated params; set reaches the device; offline gives 4002."""
    api = world.api
    at = await login(api)
    env = await api.bearer(
        "GET",
        "/v2/device/thing/status",
        at,
        params={"type": "1", "id": "1000000a01", "params": "switch|startup"},
    )
    assert env["data"] == {"params": {"switch": "off", "startup": "off"}}
    env = await api.bearer(
        "POST",
        "/v2/device/thing/status",
        at,
        body={"type": 1, "id": "1000000a01", "params": {"switch": "on"}},
    )
    assert env == {"error": 0, "msg": "", "data": {}}
    lamp: VirtualDevice = things["lamp"]
    assert lamp.params["switch"] == "on"
    await world.sim.wait_for(lambda: world.sim.store.devices["1000000a01"].params["switch"] == "on")
    env = await api.bearer(
        "GET", "/v2/device/thing/status", at, params={"type": "1", "id": "1000000a01"}
    )
    assert env["data"]["params"]["switch"] == "on"
    assert "rssi" in env["data"]["params"]
    env = await api.bearer(
        "POST",
        "/v2/device/thing/status",
        at,
        body={
            "type": 1,
            "id": "1000000a05",
            "params": {"switches": [{"outlet": 0, "switch": "on"}]},
        },
    )
    assert env["error"] == 4002
    lamp.drop_acks = True
    env = await api.bearer(
        "POST",
        "/v2/device/thing/status",
        at,
        body={"type": 1, "id": "1000000a01", "params": {"switch": "off"}},
    )
    assert env["error"] == 4002
    env = await api.bearer(
        "GET", "/v2/device/thing/status", at, params={"type": "1", "id": "1000000fff"}
    )
    assert env["error"] == 405
    # The shared device can be controlled by the sharee; the child through its bridge.
    env = await api.bearer(
        "POST",
        "/v2/device/thing/status",
        at,
        body={"type": 1, "id": "1000000b01", "params": {"switch": "on"}},
    )
    assert env["error"] == 0
    # Groups: offline members are ignored.
    env = await api.bearer(
        "POST",
        "/v2/device/thing/status",
        at,
        body={"type": 2, "id": things["group"].id, "params": {"switch": "on"}},
    )
    assert env["error"] == 0
    env = await api.bearer(
        "GET", "/v2/device/thing/status", at, params={"type": "2", "id": things["group"].id}
    )
    assert env["data"]["params"]["switch"] == "on"


async def test_batch_status(world: World, things: dict[str, Any]) -> None:
    """batch-status: 30022 for offline devices, 0 with timeout 0, ack errors with a timeout."""
    api = world.api
    at = await login(api)
    body = {
        "thingList": [
            {"type": 1, "id": "1000000a01", "params": {"switch": "on"}},
            {"type": 1, "id": "1000000a05", "params": {"switch": "on"}},
            {"type": 2, "id": things["group"].id, "params": {"switch": "off"}},
        ],
        "timeout": 2000,
    }
    env = await api.bearer("POST", "/v2/device/thing/batch-status", at, body=body)
    errors = {r["id"]: r["error"] for r in env["data"]["respList"]}
    assert errors == {"1000000a01": 0, "1000000a05": 30022, things["group"].id: 0}
    env = await api.bearer("POST", "/v2/device/thing/batch-status", at, body={**body, "timeout": 0})
    assert env["error"] == 0
    dup = {"thingList": [body["thingList"][0], body["thingList"][0]], "timeout": 0}
    env = await api.bearer("POST", "/v2/device/thing/batch-status", at, body=dup)
    assert env["error"] == 400
    env = await api.bearer(
        "POST", "/v2/device/thing/batch-status", at, body={**body, "timeout": 9000}
    )
    assert env["error"] == 400


async def test_homepage_and_ota(world: World, things: dict[str, Any]) -> None:
    """POST /v2/homepage answers only the requested sections; OTA query answers an empty list."""
    api = world.api
    at = await login(api)
    env = await api.bearer(
        "POST", "/v2/homepage", at, body={"lang": "en", "getUser": {}, "getThing": {"num": 2}}
    )
    assert set(env["data"]) == {"userInfo", "thingInfo"}
    assert env["data"]["userInfo"]["apikey"] == world.owner.apikey
    assert len(env["data"]["thingInfo"]["thingList"]) == 2
    assert env["data"]["thingInfo"]["total"] == 7
    env = await api.bearer("POST", "/v2/homepage", at, body={"getFamily": {}})
    assert env["data"]["familyInfo"]["currentFamilyId"] == world.home.id
    env = await api.bearer("POST", "/v2/device/ota/query", at, body={"deviceInfoList": []})
    assert env["data"] == {"otaInfoList": []}


async def test_update_info_tags_delete(world: World, things: dict[str, Any]) -> None:
    """Rename, retag and delete devices."""
    api = world.api
    at = await login(api)
    env = await api.bearer(
        "POST", "/v2/device/update-info", at, body={"deviceid": "1000000a01", "name": "Renamed"}
    )
    assert env["error"] == 0
    env = await api.bearer(
        "POST",
        "/v2/device/tags",
        at,
        body={"deviceid": "1000000a01", "type": "merge", "tags": {"x": 1}},
    )
    assert env["error"] == 0
    item = (
        await api.bearer(
            "POST",
            "/v2/device/thing",
            at,
            body={"thingList": [{"itemType": 1, "id": "1000000a01"}]},
        )
    )["data"]["thingList"][0]
    assert item["itemData"]["name"] == "Renamed"
    assert item["itemData"]["tags"] == {"k": "v", "x": 1}
    env = await api.bearer(
        "POST", "/v2/device/update-info", at, body={"deviceid": "1000000b01", "name": "x"}
    )
    assert env["error"] == 406  # shared, not owned
    env = await api.bearer("DELETE", "/v2/device", at, params={"deviceid": "1000000a01"})
    assert env["error"] == 0
    assert "1000000a01" not in world.sim.store.devices
    await world.sim.wait_for(lambda: not things["lamp"].online)


def digest(deviceid: str, apikey: str) -> str:
    return hashlib.sha256((deviceid + apikey).encode()).hexdigest()


async def test_device_add(world: World) -> None:
    """POST /v2/device/add checks format, factory data, brand permission, digest and chipid."""
    sim, api = world.sim, world.api
    udev = await sim.add_unpaired_device("10000abcde", 1, productModel="MINIR2", esptouch=False)
    acme = await sim.add_unpaired_device("10000acbe1", 1, brandName="ACME", esptouch=False)
    at = await login(api)
    good = {
        "name": "New plug",
        "deviceid": udev.deviceid,
        "chipid": udev.chipid,
        "digest": digest(udev.deviceid, udev.factory_apikey),
        "settings": {"opsNotify": 1, "opsHistory": 1, "alarmNotify": 1},
        "familyid": world.home.id,
        "roomid": world.home.rooms["Bedroom"],
    }
    cases = [
        ({"deviceid": "xyz"}, 30010),
        ({"deviceid": "10000fffff"}, 30018),
        ({"digest": digest(udev.deviceid, "wrong")}, 30015),
        ({"digest": digest(udev.deviceid, udev.factory_apikey).upper()}, 30015),
        ({"chipid": "DEADBEEF"}, 30014),
        ({"name": None}, 400),
    ]
    for override, error in cases:
        env = await api.bearer("POST", "/v2/device/add", at, body={**good, **override})
        assert env["error"] == error, (override, env)
    world.app.allowed_brands = {"SONOFF"}
    env = await api.bearer(
        "POST",
        "/v2/device/add",
        at,
        body={
            **good,
            "deviceid": acme.deviceid,
            "digest": digest(acme.deviceid, acme.factory_apikey),
            "chipid": acme.chipid,
        },
    )
    assert env == {
        "error": 30017,
        "msg": "this app does not support of adding this brand and its device",
        "data": {},
    }
    env = await api.bearer("POST", "/v2/device/add", at, body=good)
    assert env["error"] == 0
    item = env["data"]
    assert item["itemType"] == 1
    assert item["itemData"]["deviceid"] == udev.deviceid
    assert item["itemData"]["family"]["roomid"] == world.home.rooms["Bedroom"]
    assert item["itemData"]["settings"]["opsNotify"] == 1
    assert item["index"] < 0  # sort 1 (default): before every other item
    # Not started (never joined Wi-Fi): bound but offline until it connects.
    assert udev.online is False
    env = await api.bearer("POST", "/v2/device/add", at, body=good)
    assert env["error"] == 0  # idempotent for the same account
    env = await api.bearer("POST", "/v2/device/add", at, body={**good, "chipid": None})
    assert env["error"] == 0  # chipid is optional (older docs)


async def test_gsm_add(world: World) -> None:
    """POST /v2/device/add-gsm binds by QR id; another user gets 30007; unknown id 30003."""
    sim, api = world.sim, world.api
    gsm = sim.add_gsm_device("gsm-0001", 81)
    at = await login(api)
    env = await api.bearer("POST", "/v2/device/add-gsm", at, body={"id": "nope", "name": "x"})
    assert env["error"] == 30003
    env = await api.bearer(
        "POST", "/v2/device/add-gsm", at, body={"id": "gsm-0001", "name": "Pump"}
    )
    assert env["error"] == 0
    assert env["data"]["itemData"]["deviceid"] == gsm.deviceid
    assert env["data"]["itemData"]["gsmInfoData"]["gsmId"] == "gsm-0001"
    await gsm.wait_online(5)
    friend_at = str((await api.login("friend@example.com", "friend-pw"))["at"])
    env = await api.bearer(
        "POST", "/v2/device/add-gsm", friend_at, body={"id": "gsm-0001", "name": "Mine"}
    )
    assert env["error"] == 30007
    # A GSM device cannot be added as a Wi-Fi device.
    env = await api.bearer(
        "POST",
        "/v2/device/add",
        at,
        body={
            "name": "x",
            "deviceid": gsm.deviceid,
            "digest": digest(gsm.deviceid, gsm.factory.apikey),
        },
    )
    assert env["error"] == 30018


async def test_dispatch(world: World) -> None:
    """App dispatch answers GET and POST without auth and without envelope; device dispatch too."""
    sim, http = world.sim, world.api.http
    expected = {
        "port": sim.port,
        "IP": "127.0.0.1",
        "reason": "ok",
        "domain": "127.0.0.1",
        "error": 0,
    }
    for region in ("cn", "as", "us", "eu"):
        async with http.get(sim.dispatch_url(region)) as resp:
            assert await resp.json() == expected
    async with http.post(
        sim.dispatch_url("eu"),
        json={"accept": "ws", "appid": "x", "nonce": "n", "ts": 1, "version": 8},
    ) as resp:
        assert await resp.json() == expected
    async with http.post(
        f"{sim.base_url}/dispatch/device", json={"deviceid": "1000000001"}
    ) as resp:
        assert await resp.json() == {
            "error": 0,
            "reason": "ok",
            "IP": "127.0.0.1",
            "port": sim.port,
        }
    async with http.get(f"{sim.base_url}/xx/dispatch/app") as resp:
        assert resp.status == 404
