"""The admin HTTP API under `/_sim/` (no auth; the route list is in the package docstring)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .lan import LAN_ROUTES

if TYPE_CHECKING:
    from .server import Simulator
    from .state import Account, Home

_Json = dict[str, Any]

ROUTES = (
    ("GET", "/_sim", "this list"),
    ("GET", "/_sim/state", "URLs, apps, accounts, homes, devices, sessions"),
    ("GET", "/_sim/devices", "truth of every device: {deviceid: {online, params}}"),
    ("POST", "/_sim/devices", "add a device from {deviceid, uiid, name, params, online, brandName, productModel, tags, shared_with, owner, home, room, parent}"),
    ("GET", "/_sim/devices/{deviceid}", "one device: truth, cloud params, faults"),
    ("DELETE", "/_sim/devices/{deviceid}", "remove a device"),
    ("POST", "/_sim/devices/{deviceid}/params", "{params}: the device reports them"),
    ("POST", "/_sim/devices/{deviceid}/offline", "take it offline ({silent: true} keeps the socket open)"),
    ("POST", "/_sim/devices/{deviceid}/online", "bring it back"),
    ("POST", "/_sim/devices/{deviceid}/faults", "{ack_delay, drop_acks, echo, drift}"),
    ("GET", "/_sim/sessions", "live app sessions per account"),
    ("POST", "/_sim/sockets/drop", "{code: 1006|1000|..., account?}: close app sockets"),
    ("POST", "/_sim/sockets/half-open", "{account?}: stop reading app sockets without closing"),
    ("POST", "/_sim/accounts/{account}/kick", "{appid?, keep_refresh?}: as another login would (401 / 406 + close); no appid = all"),
    ("POST", "/_sim/accounts/{account}/expire", "{appid, access: true, refresh: false, close?: 1000|1006}"),
    ("GET", "/_sim/faults", "fault knobs"),
    ("POST", "/_sim/faults", "set knobs, e.g. {quota_exhausted: 'http403', http_error: {'/v2/family': 500}}"),
    ("POST", "/_sim/faults/reset", "every knob off"),
    ("GET", "/_sim/requests", "REST request log [[t, method, path, appid], ...]"),
    ("DELETE", "/_sim/requests", "clear the log"),
    ("POST", "/_sim/rate-limits/reset", "forget rate-limit counters"),
    ("GET", "/_sim/wifi", "the simulated Wi-Fi"),
    ("POST", "/_sim/wifi", "{ssid, password, bssid}"),
    ("GET", "/_sim/unpaired", "devices in pairing mode"),
    ("POST", "/_sim/unpaired", "add a device in pairing mode {deviceid?, uiid?, productModel?, ap_http?, esptouch?, ack_port?}"),
    ("POST", "/_sim/unpaired/reset", "{deviceid?}: devices bound to nobody go back to pairing mode"),
)  # fmt: skip


class AdminError(Exception):
    """A bad admin request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AdminApi:
    """The `/_sim` routes."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def add_routes(self, app: web.Application) -> None:
        """Register the routes on the simulator's application."""
        r = app.router
        r.add_get("/_sim", self._wrap(self.index))
        r.add_get("/_sim/state", self._wrap(self.state))
        r.add_get("/_sim/devices", self._wrap(self.devices))
        r.add_post("/_sim/devices", self._wrap(self.add_device))
        r.add_get("/_sim/devices/{deviceid}", self._wrap(self.one_device))
        r.add_delete("/_sim/devices/{deviceid}", self._wrap(self.remove_device))
        r.add_post("/_sim/devices/{deviceid}/params", self._wrap(self.report))
        r.add_post("/_sim/devices/{deviceid}/offline", self._wrap(self.offline))
        r.add_post("/_sim/devices/{deviceid}/online", self._wrap(self.online))
        r.add_post("/_sim/devices/{deviceid}/faults", self._wrap(self.device_faults))
        r.add_get("/_sim/sessions", self._wrap(self.sessions))
        r.add_post("/_sim/sockets/drop", self._wrap(self.drop))
        r.add_post("/_sim/sockets/half-open", self._wrap(self.half_open))
        r.add_post("/_sim/accounts/{account}/kick", self._wrap(self.kick))
        r.add_post("/_sim/accounts/{account}/expire", self._wrap(self.expire))
        r.add_get("/_sim/faults", self._wrap(self.faults))
        r.add_post("/_sim/faults", self._wrap(self.set_faults))
        r.add_post("/_sim/faults/reset", self._wrap(self.reset_faults))
        r.add_get("/_sim/requests", self._wrap(self.requests))
        r.add_delete("/_sim/requests", self._wrap(self.clear_requests))
        r.add_post("/_sim/rate-limits/reset", self._wrap(self.reset_limits))
        r.add_get("/_sim/wifi", self._wrap(self.wifi))
        r.add_post("/_sim/wifi", self._wrap(self.set_wifi))
        r.add_get("/_sim/unpaired", self._wrap(self.unpaired))
        r.add_post("/_sim/unpaired", self._wrap(self.add_unpaired))
        r.add_post("/_sim/unpaired/reset", self._wrap(self.reset_unpaired))

    def _wrap(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                body = await _read_body(request)
                result = await handler(request, body)
            except AdminError as err:
                return web.json_response({"error": str(err)}, status=err.status)
            except KeyError as err:
                return web.json_response({"error": f"not found: {err.args[0]}"}, status=404)
            except (ValueError, TypeError, TimeoutError) as err:
                return web.json_response({"error": str(err) or type(err).__name__}, status=400)
            return web.json_response(result)

        return wrapped

    # Helpers ---------------------------------------------------------------------------------
    def _account(self, ref: str | None) -> Account:
        store = self.sim.store
        if ref is None:
            if not store.accounts:
                raise AdminError(400, "no account exists")
            return next(iter(store.accounts.values()))
        return store.account_by_ref(ref)

    @staticmethod
    def _home(account: Account, ref: str | None) -> Home | None:
        if ref is None:
            return None
        for home in account.homes:
            if ref in (home.id, home.name):
                return home
        raise KeyError(f"home {ref}")

    # Handlers --------------------------------------------------------------------------------
    async def index(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim."""
        return [{"method": m, "path": p, "does": d} for m, p, d in (*ROUTES, *LAN_ROUTES)]

    async def state(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/state."""
        sim = self.sim
        return {
            "base_url": sim.base_url,
            "regions": {r: sim.api_url(r) for r in sim.config.regions},
            "ws_url": sim.ws_url,
            "apps": [
                {
                    "appid": a.appid,
                    "secret": a.secret,
                    "password_login": a.password_login,
                    "redirect_urls": a.redirect_urls,
                    "calls": a.calls,
                }
                for a in sim.store.apps.values()
            ],
            "accounts": [
                {
                    "apikey": a.apikey,
                    "email": a.email,
                    "phone": a.phone,
                    "region": a.region,
                    "homes": [{"id": h.id, "name": h.name, "rooms": h.rooms} for h in a.homes],
                    "app_sessions": sim.app_sessions(a),
                }
                for a in sim.store.accounts.values()
            ],
            "devices": {
                "bound": len(sim.store.devices),
                "online": sum(1 for d in sim.store.devices.values() if d.online),
                "virtual": len(sim.fleet.devices),
            },
            "hub": sim.hub.stats,
        }

    async def devices(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/devices."""
        return self.sim.device_truth()

    async def add_device(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/devices."""
        sim = self.sim
        owner = self._account(body.get("owner"))
        uiid = int(body.get("uiid", 1))
        device = await sim.add_device(
            owner,
            deviceid=body.get("deviceid"),
            uiid=uiid,
            name=body.get("name"),
            params=body.get("params"),
            online=bool(body.get("online", True)),
            brandName=body.get("brandName", "SONOFF"),
            productModel=body.get("productModel"),
            tags=body.get("tags"),
            shared_with=[self._account(ref) for ref in body.get("shared_with") or []],
            home=self._home(owner, body.get("home")),
            room=body.get("room"),
            parent=body.get("parent"),
        )
        return {"deviceid": device.deviceid, "online": device.online}

    async def one_device(self, request: web.Request, _body: _Json) -> Any:
        """GET /_sim/devices/{deviceid}."""
        sim = self.sim
        deviceid = request.match_info["deviceid"]
        virtual = sim.device(deviceid)
        cloud = sim.store.devices.get(deviceid)
        return {
            "deviceid": deviceid,
            "uiid": virtual.uiid,
            "online": virtual.online,
            "params": virtual.params,
            "cloud_params": cloud.params if cloud is not None else None,
            "owner": cloud.owner.label if cloud is not None else None,
            "name": cloud.name if cloud is not None else None,
            "faults": {
                "ack_delay": virtual.ack_delay,
                "drop_acks": virtual.drop_acks,
                "echo": virtual.echo,
            },
            "register_attempts": virtual.register_attempts,
        }

    async def remove_device(self, request: web.Request, _body: _Json) -> Any:
        """DELETE /_sim/devices/{deviceid}."""
        deviceid = request.match_info["deviceid"]
        self.sim.device(deviceid)
        await self.sim.remove_device(deviceid)
        return {"removed": deviceid}

    async def report(self, request: web.Request, body: _Json) -> Any:
        """POST /_sim/devices/{deviceid}/params."""
        device = self.sim.device(request.match_info["deviceid"])
        params = body.get("params")
        if not isinstance(params, dict):
            raise AdminError(400, "params must be an object")
        await device.report(params)
        return {"deviceid": device.deviceid, "params": device.params}

    async def offline(self, request: web.Request, body: _Json) -> Any:
        """POST /_sim/devices/{deviceid}/offline."""
        device = self.sim.device(request.match_info["deviceid"])
        silent = bool(body.get("silent", False))
        if silent:
            device.want_online = False
            device.silent = True
        else:
            await device.go_offline()
        return {"deviceid": device.deviceid, "online": device.online}

    async def online(self, request: web.Request, _body: _Json) -> Any:
        """POST /_sim/devices/{deviceid}/online."""
        device = self.sim.device(request.match_info["deviceid"])
        await device.go_online()
        return {"deviceid": device.deviceid, "online": device.online}

    async def device_faults(self, request: web.Request, body: _Json) -> Any:
        """POST /_sim/devices/{deviceid}/faults."""
        device = self.sim.device(request.match_info["deviceid"])
        if "ack_delay" in body:
            device.ack_delay = float(body["ack_delay"])
        if "drop_acks" in body:
            device.drop_acks = bool(body["drop_acks"])
        if "echo" in body:
            device.echo = bool(body["echo"])
        if "drift" in body:
            device.drift = None if body["drift"] is None else bool(body["drift"])
        return {"ack_delay": device.ack_delay, "drop_acks": device.drop_acks, "echo": device.echo}

    async def sessions(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/sessions."""
        sim = self.sim
        return {
            "total": sim.app_sessions(),
            "by_account": {a.label: sim.app_sessions(a) for a in sim.store.accounts.values()},
        }

    async def drop(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/sockets/drop."""
        account = self._account(body["account"]) if body.get("account") else None
        count = await self.sim.drop_app_sockets(int(body.get("code", 1006)), account)
        return {"dropped": count}

    async def half_open(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/sockets/half-open."""
        account = self._account(body["account"]) if body.get("account") else None
        return {"half_open": self.sim.half_open_app_sockets(account)}

    async def kick(self, request: web.Request, body: _Json) -> Any:
        """POST /_sim/accounts/{account}/kick."""
        account = self._account(request.match_info["account"])
        appid = body.get("appid")
        if appid is not None and not isinstance(appid, str):
            raise AdminError(400, "appid must be a string")
        keep = body.get("keep_refresh")
        if keep is not None and not isinstance(keep, bool):
            raise AdminError(400, "keep_refresh must be a boolean")
        return {"kicked": await self.sim.kick_session(account, appid, keep_refresh=keep)}

    async def expire(self, request: web.Request, body: _Json) -> Any:
        """POST /_sim/accounts/{account}/expire."""
        account = self._account(request.match_info["account"])
        appid = body.get("appid")
        if not isinstance(appid, str):
            raise AdminError(400, "appid is required")
        close = body.get("close")
        closed = self.sim.expire_tokens(
            account,
            appid,
            access=bool(body.get("access", True)),
            refresh=bool(body.get("refresh", False)),
            close=None if close is None else int(close),
        )
        return {"expired": True} if close is None else {"expired": True, "closed": closed}

    async def faults(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/faults."""
        return self.sim.faults.as_dict()

    async def set_faults(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/faults."""
        try:
            self.sim.faults.update(body)
        except KeyError as err:
            raise AdminError(400, f"unknown knob {err.args[0]}") from None
        return self.sim.faults.as_dict()

    async def reset_faults(self, _request: web.Request, _body: _Json) -> Any:
        """POST /_sim/faults/reset."""
        self.sim.faults.reset()
        return self.sim.faults.as_dict()

    async def requests(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/requests."""
        return [list(r) for r in self.sim.requests]

    async def clear_requests(self, _request: web.Request, _body: _Json) -> Any:
        """DELETE /_sim/requests."""
        self.sim.requests.clear()
        return {"cleared": True}

    async def reset_limits(self, _request: web.Request, _body: _Json) -> Any:
        """POST /_sim/rate-limits/reset."""
        self.sim.rest.limiter.reset()
        return {"reset": True}

    async def wifi(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/wifi."""
        return self.sim.wifi.as_json()

    async def set_wifi(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/wifi."""
        wifi = self.sim.wifi
        for key in ("ssid", "password", "bssid"):
            if key in body:
                setattr(wifi, key, str(body[key]))
        return wifi.as_json()

    async def unpaired(self, _request: web.Request, _body: _Json) -> Any:
        """GET /_sim/unpaired."""
        return [u.as_json() for u in self.sim.unpaired.values()]

    async def add_unpaired(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/unpaired."""
        udev = await self.sim.add_unpaired_device(
            body.get("deviceid"),
            int(body.get("uiid", 1)),
            productModel=body.get("productModel"),
            ap_http=bool(body.get("ap_http", True)),
            esptouch=bool(body.get("esptouch", True)),
            ack_port=int(body.get("ack_port", 18266)),
        )
        return udev.as_json()

    async def reset_unpaired(self, _request: web.Request, body: _Json) -> Any:
        """POST /_sim/unpaired/reset."""
        wanted = body.get("deviceid")
        if wanted is not None and wanted not in self.sim.unpaired:
            raise KeyError(wanted)
        reset = []
        for deviceid, udev in self.sim.unpaired.items():
            if wanted in (None, deviceid) and deviceid not in self.sim.store.devices:
                await udev.reset()
                reset.append(deviceid)
        return {"reset": reset}


async def _read_body(request: web.Request) -> _Json:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        loaded = json.loads(raw)
    except ValueError:
        raise AdminError(400, "body is not JSON") from None
    if not isinstance(loaded, dict):
        raise AdminError(400, "body must be an object")
    return loaded
