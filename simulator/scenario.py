"""Scenarios: the default demo world and JSON scenario files of the same shape.

A scenario file is one JSON object (every key optional)::

    {
      "wifi": {"ssid": "HomeWiFi", "password": "correct-horse", "bssid": "aa:bb:cc:dd:ee:ff"},
      "drift": true,                                    # measurement drift of virtual devices
      "apps": [{"appid": "...", "secret": "...", "password_login": true,
                "redirect_urls": ["http://127.0.0.1:8123/auth/external/callback"],
                "allowed_brands": null, "monthly_quota": null}],
      "accounts": [{"id": "demo", "email": "demo@example.com", "phone": null,
                    "password": "demo-password", "region": "eu", "country_code": "+49",
                    "nickname": "Demo", "apikey": null,
                    "homes": [{"name": "Home", "rooms": ["Kitchen", "Bedroom"]}]}],
      "devices": [{"deviceid": "1000000001", "uiid": 1, "name": "Desk lamp", "owner": "demo",
                   "home": "Home", "room": "Kitchen", "params": {"switch": "on"}, "online": true,
                   "brandName": "SONOFF", "productModel": "MINIR2", "tags": {},
                   "shared_with": ["friend"], "parent": null, "devicekey": null}],
      "groups": [{"name": "All lights", "owner": "demo", "home": "Home", "devices": ["1000000001"]}],
      "unpaired": [{"deviceid": "10000abcde", "uiid": 1, "productModel": "MINIR2", "ap_http": true,
                    "esptouch": true, "http_host": "127.0.0.1", "http_port": 0,
                    "udp_host": "127.0.0.1", "udp_port": 0, "ack_port": 18266}],
      "gsm": [{"gsm_id": "gsm-demo-0001", "uiid": 81, "deviceid": "100000000f"}]
    }

Account references (`owner`, `shared_with`) are an account's `id`, e-mail, phone or apikey.
Devices are created in file order, so a zigbee child must come after its bridge (`parent`).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Simulator
    from .state import Account

_Json = dict[str, Any]

HA_CALLBACK = "http://127.0.0.1:8123/auth/external/callback"
MY_HA_CALLBACK = "https://my.home-assistant.io/redirect/oauth"

DEFAULT_SCENARIO: _Json = {
    "wifi": {"ssid": "HomeWiFi", "password": "correct-horse", "bssid": "aa:bb:cc:dd:ee:ff"},
    "drift": True,
    "apps": [
        {
            "appid": "SimPasswordApp000000000000000001",
            "secret": "SimPasswordSecret000000000000001",
            "password_login": True,
            "redirect_urls": [HA_CALLBACK, MY_HA_CALLBACK],
        },
        {
            "appid": "SimOAuthOnlyApp00000000000000002",
            "secret": "SimOAuthOnlySecret00000000000002",
            "password_login": False,
            "redirect_urls": [HA_CALLBACK, MY_HA_CALLBACK],
            "allowed_brands": ["SONOFF", "CoolKit"],
        },
    ],
    "accounts": [
        {
            "id": "demo",
            "email": "demo@example.com",
            "password": "demo-password",
            "region": "eu",
            "country_code": "+49",
            "nickname": "Demo",
            "apikey": "5d3f1a2b-0c4d-4e5f-8a9b-000000000001",
            "homes": [
                {"name": "Home", "rooms": ["Living room", "Kitchen", "Bedroom", "Office"]},
                {"name": "Holiday house", "rooms": ["Terrace", "Garage"]},
            ],
        },
        {
            "id": "friend",
            "email": "friend@example.com",
            "password": "friend-password",
            "region": "eu",
            "country_code": "+44",
            "nickname": "Friend",
            "apikey": "5d3f1a2b-0c4d-4e5f-8a9b-000000000002",
            "homes": [{"name": "Flat", "rooms": ["Hall"]}],
        },
    ],
    "devices": [
        {"deviceid": "1000000001", "uiid": 1, "name": "Desk lamp", "owner": "demo", "home": "Home",
         "room": "Office", "productModel": "MINIR2", "params": {"switch": "on"}},
        {"deviceid": "1000000002", "uiid": 2, "name": "Dual plug", "owner": "demo", "home": "Home",
         "room": "Kitchen", "productModel": "DUALR2",
         "tags": {"ck_channel_name": {"0": "Kettle", "1": "Toaster"}}},
        {"deviceid": "1000000003", "uiid": 4, "name": "4CH Pro", "owner": "demo", "home": "Home",
         "room": "Living room", "productModel": "4CHPROR3"},
        {"deviceid": "1000000004", "uiid": 5, "name": "POW heater", "owner": "demo", "home": "Home",
         "room": "Bedroom", "productModel": "POW", "params": {"switch": "on"}},
        {"deviceid": "1000000005", "uiid": 15, "name": "TH16 terrarium", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "TH16"},
        {"deviceid": "1000000006", "uiid": 32, "name": "Washing machine", "owner": "demo",
         "home": "Home", "room": "Kitchen", "productModel": "POWR2", "params": {"switch": "on"}},
        {"deviceid": "1000000007", "uiid": 77, "name": "USB micro", "owner": "demo", "home": "Home",
         "room": "Office", "productModel": "MICRO"},
        {"deviceid": "1000000008", "uiid": 126, "name": "DualR3 heating", "owner": "demo",
         "home": "Home", "room": "Bedroom", "productModel": "DUALR3",
         "params": {"switches": [{"outlet": 0, "switch": "on"}, {"outlet": 1, "switch": "off"}]}},
        {"deviceid": "1000000009", "uiid": 181, "name": "THR316D boiler", "owner": "demo",
         "home": "Home", "room": "Kitchen", "productModel": "THR316D"},
        {"deviceid": "100000000a", "uiid": 190, "name": "POWR316 dryer", "owner": "demo",
         "home": "Home", "room": "Kitchen", "productModel": "POWR316",
         "params": {"switches": [{"outlet": 0, "switch": "on"}]}},
        {"deviceid": "100000000b", "uiid": 66, "name": "Zigbee bridge", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "ZBBridge"},
        {"deviceid": "100000000c", "uiid": 1770, "name": "Bedroom TH sensor", "owner": "demo",
         "home": "Home", "room": "Bedroom", "productModel": "SNZB-02", "parent": "100000000b"},
        {"deviceid": "100000000d", "uiid": 3, "name": "Garage 3CH", "owner": "demo",
         "home": "Holiday house", "room": "Garage", "online": False},
        {"deviceid": "100000000e", "uiid": 1, "name": "Friend's lamp", "owner": "friend",
         "home": "Flat", "room": "Hall", "productModel": "BASICR2", "shared_with": ["demo"]},
        # One of each platform: lights, cover, fan, climate, events, remote and buttons.
        {"deviceid": "1000000010", "uiid": 136, "name": "Bedside bulb", "owner": "demo",
         "home": "Home", "room": "Bedroom", "productModel": "B05-BL-A60",
         "params": {"switch": "on"}},
        {"deviceid": "1000000011", "uiid": 59, "name": "TV backlight", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "L1"},
        {"deviceid": "1000000012", "uiid": 11, "name": "Curtain", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "KING-Q4"},
        {"deviceid": "1000000013", "uiid": 34, "name": "Ceiling fan", "owner": "demo",
         "home": "Home", "room": "Bedroom", "productModel": "iFan04"},
        {"deviceid": "1000000014", "uiid": 28, "name": "RF bridge", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "RFBridge433",
         "params": {"rfList": [{"rfChl": 0, "rfVal": "2A5802D00A1E4A"},
                               {"rfChl": 1, "rfVal": "2A5802D00A1E4B"},
                               {"rfChl": 4, "rfVal": "2A5802D00A1E5C"}]},
         "tags": {"zyx_info": [
             {"remote_type": "2", "name": "Gate", "buttonName": [{"0": "Open"}, {"1": "Close"}]},
             {"remote_type": "6", "name": "Back door", "buttonName": [{"4": "Back door"}]}]}},
        {"deviceid": "1000000015", "uiid": 7017, "name": "Bedroom radiator", "owner": "demo",
         "home": "Home", "room": "Bedroom", "productModel": "TRVZB", "parent": "100000000b"},
        {"deviceid": "1000000016", "uiid": 1000, "name": "Doorbell button", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "SNZB-01",
         "parent": "100000000b"},
        {"deviceid": "1000000017", "uiid": 44, "name": "Hall dimmer", "owner": "demo",
         "home": "Home", "room": "Kitchen", "productModel": "D1"},
        {"deviceid": "1000000018", "uiid": 3026, "name": "Front door", "owner": "demo",
         "home": "Home", "room": "Living room", "productModel": "SNZB-04",
         "parent": "100000000b"},
    ],
    "groups": [
        {"name": "All lights", "owner": "demo", "home": "Home", "devices": ["1000000001", "1000000007"]},
    ],
    "unpaired": [
        {"deviceid": "10000abcde", "uiid": 1, "productModel": "MINIR2", "ap_http": True,
         "esptouch": True, "http_port": 0, "udp_port": 0, "ack_port": 18266},
    ],
    "gsm": [{"gsm_id": "gsm-demo-0001", "uiid": 81, "deviceid": "100000000f"}],
}  # fmt: skip

LOAD_UIIDS = (1, 2, 77, 5, 15, 32, 126, 181, 190, 4)


def default_scenario() -> _Json:
    """Return a fresh copy of the default scenario."""
    return copy.deepcopy(DEFAULT_SCENARIO)


def load_scenario(path: str | Path) -> _Json:
    """Read a scenario file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError("a scenario is a JSON object")
    return data


async def apply_scenario(sim: Simulator, scenario: _Json) -> dict[str, Account]:
    """Create everything a scenario describes; return the accounts by reference id."""
    if "wifi" in scenario:
        wifi = scenario["wifi"]
        sim.wifi.ssid = wifi.get("ssid", sim.wifi.ssid)
        sim.wifi.password = wifi.get("password", sim.wifi.password)
        sim.wifi.bssid = wifi.get("bssid", sim.wifi.bssid)
    if "drift" in scenario:
        sim.config.drift = bool(scenario["drift"])
    for app in scenario.get("apps", []):
        sim.add_app(
            app.get("appid"),
            app.get("secret"),
            password_login=bool(app.get("password_login", True)),
            redirect_urls=app.get("redirect_urls", []),
            allowed_brands=app.get("allowed_brands"),
            monthly_quota=app.get("monthly_quota"),
            quota_mode=app.get("quota_mode", "http403"),
        )
    accounts: dict[str, Account] = {}
    for spec in scenario.get("accounts", []):
        account = sim.add_account(
            spec.get("email"),
            spec.get("phone"),
            password=spec["password"],
            region=spec.get("region", "eu"),
            country_code=spec.get("country_code", "+49"),
            nickname=spec.get("nickname"),
            apikey=spec.get("apikey"),
        )
        for home in spec.get("homes", []):
            sim.add_home(account, home["name"], home.get("rooms", []))
        accounts[spec.get("id") or account.label] = account

    def ref(name: str) -> Account:
        if name in accounts:
            return accounts[name]
        return sim.store.account_by_ref(name)

    def home_of(account: Account, name: str | None) -> Any:
        if name is None:
            return None
        for home in account.homes:
            if name in (home.name, home.id):
                return home
        return sim.add_home(account, name)

    for spec in scenario.get("devices", []):
        owner = ref(spec["owner"]) if "owner" in spec else next(iter(accounts.values()))
        await sim.add_device(
            owner,
            deviceid=spec.get("deviceid"),
            uiid=int(spec.get("uiid", 1)),
            name=spec.get("name"),
            params=spec.get("params"),
            online=bool(spec.get("online", True)),
            brandName=spec.get("brandName", "SONOFF"),
            productModel=spec.get("productModel"),
            tags=spec.get("tags"),
            shared_with=[ref(r) for r in spec.get("shared_with", [])],
            home=home_of(owner, spec.get("home")),
            room=spec.get("room"),
            parent=spec.get("parent"),
            devicekey=spec.get("devicekey"),
            wait=False,
        )
    for spec in scenario.get("groups", []):
        owner = ref(spec["owner"])
        sim.add_group(
            owner, spec["name"], spec.get("devices", []), home=home_of(owner, spec.get("home"))
        )
    for spec in scenario.get("unpaired", []):
        await sim.add_unpaired_device(
            spec.get("deviceid"),
            int(spec.get("uiid", 1)),
            brandName=spec.get("brandName", "SONOFF"),
            productModel=spec.get("productModel"),
            chipid=spec.get("chipid"),
            factory_apikey=spec.get("factory_apikey"),
            ap_http=bool(spec.get("ap_http", True)),
            esptouch=bool(spec.get("esptouch", True)),
            http_host=spec.get("http_host", "127.0.0.1"),
            http_port=int(spec.get("http_port", 0)),
            udp_host=spec.get("udp_host", "127.0.0.1"),
            udp_port=int(spec.get("udp_port", 0)),
            ack_port=int(spec.get("ack_port", 18266)),
        )
    for spec in scenario.get("gsm", []):
        sim.add_gsm_device(spec["gsm_id"], int(spec.get("uiid", 81)), spec.get("deviceid"))
    return accounts


async def add_load_devices(sim: Simulator, count: int, *, owner: Account | None = None) -> Account:
    """Add `count` generated devices (varied UIIDs) to a load-test account."""
    if owner is None:
        owner = sim.add_account(
            "load@example.com", password="load-password", region="eu", nickname="Load"
        )
        sim.add_home(owner, "Load test", ["Rack A", "Rack B"])
    for i in range(count):
        uiid = LOAD_UIIDS[i % len(LOAD_UIIDS)]
        await sim.add_device(owner, uiid=uiid, name=f"Load {i:04d}", wait=False)
    return owner


def describe(sim: Simulator) -> _Json:
    """Return the JSON line printed on start: everything a client needs to connect."""
    apps = [
        {
            "appid": a.appid,
            "secret": a.secret,
            "password_login": a.password_login,
            "oauth_only": not a.password_login,
            "redirect_urls": a.redirect_urls,
            "allowed_brands": sorted(a.allowed_brands) if a.allowed_brands is not None else None,
        }
        for a in sim.store.apps.values()
    ]
    accounts = [
        {
            "email": a.email,
            "phone": a.phone,
            "password": a.password,
            "region": a.region,
            "country_code": a.country_code,
            "apikey": a.apikey,
            "homes": [h.name for h in a.homes],
        }
        for a in sim.store.accounts.values()
    ]
    host, port = sim.device_dispatch
    return {
        "simulator": "coolkit",
        "base_url": sim.base_url,
        "regions": {
            r: {"api": sim.api_url(r), "dispatch": sim.dispatch_url(r)} for r in sim.config.regions
        },
        "get_region_url": sim.get_region_url,
        "ws_url": sim.ws_url,
        "oauth_url": sim.oauth_url,
        "admin_url": sim.admin_url,
        "device_dispatch": {"serverName": host, "port": port},
        "apps": apps,
        "accounts": accounts,
        "wifi": sim.wifi.as_json(),
        "unpaired": [u.as_json() for u in sim.unpaired.values()],
        "gsm": [{"gsm_id": g.gsm_id, "deviceid": g.deviceid} for g in sim.store.gsm.values()],
        "devices": {
            "bound": len(sim.store.devices),
            "online": sum(1 for d in sim.store.devices.values() if d.online),
        },
        "drift": sim.config.drift,
    }
