"""REST API v2 of one logical cloud with a base URL per region (coolkit-cloud.md §3 to §11).

`{base}/{region}/v2/...` serves a region; `{base}/v2/utils/get-region` is the global lookup.
Every answer is the §3.1 envelope over HTTP 200 except the quota answer (HTTP 403, no envelope)
and injected HTTP errors.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import logging
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web

from . import safejson
from .signing import device_digest, query_messages, signature_matches
from .state import Account, App, CloudDevice, Session
from .things import device_item, group_item, home_things, page
from .ws import DeviceOfflineError, DeviceTimeoutError

if TYPE_CHECKING:
    from .server import Simulator

_LOGGER = logging.getLogger("simulator.rest")

_Json = dict[str, Any]

SIGN, BEARER, EITHER = "sign", "bearer", "either"
DEVICEID_CHARS = set("0123456789abcdefABCDEF")

# get-region: a small country-code table (coolkit-cloud.md §2 examples plus neighbours).
_COUNTRY_REGION = {
    "86": "cn",
    "1": "us", "52": "us", "55": "us", "61": "us", "64": "us",
    "7": "eu", "33": "eu", "34": "eu", "39": "eu", "44": "eu", "49": "eu", "31": "eu", "48": "eu",
    "91": "as", "81": "as", "82": "as", "65": "as", "852": "as", "886": "as", "66": "as", "84": "as",
}  # fmt: skip


def region_of_country(code: str) -> str:
    """Return the region of a phone country code (`+49` or `49`); unknown codes go to `eu`."""
    digits = code.strip().lstrip("+")
    for length in (3, 2, 1):
        region = _COUNTRY_REGION.get(digits[:length])
        if region is not None:
            return region
    return "eu"


class RequestRecord(NamedTuple):
    """One REST request, for rate-limit tests."""

    time: float
    method: str
    path: str
    appid: str | None


class ApiError(Exception):
    """A business error answered in the envelope."""

    def __init__(self, error: int, msg: str, data: Any = None) -> None:
        super().__init__(msg)
        self.error = error
        self.msg = msg
        self.data: Any = {} if data is None and error != 408 else data


class RateLimiter:
    """Per-IP limits (coolkit-cloud.md §11): same endpoint >= 500 ms apart, <= 300 calls / 5 min.

    [inf] Counted per (client IP, region host); only accepted calls count.
    """

    def __init__(self, min_interval: float, window: float, max_calls: int) -> None:
        self.min_interval = min_interval
        self.window = window
        self.max_calls = max_calls
        self._last: dict[tuple[str, str, str], float] = {}
        self._calls: dict[tuple[str, str], deque[float]] = {}

    def allow(self, ip: str, host: str, endpoint: str, now: float) -> bool:
        """Return True (and count the call) when it is within the limits."""
        last = self._last.get((ip, host, endpoint))
        if last is not None and now - last < self.min_interval:
            return False
        calls = self._calls.setdefault((ip, host), deque())
        while calls and now - calls[0] >= self.window:
            calls.popleft()
        if len(calls) >= self.max_calls:
            return False
        calls.append(now)
        self._last[(ip, host, endpoint)] = now
        return True

    def reset(self) -> None:
        """Forget every counter."""
        self._last.clear()
        self._calls.clear()


@dataclass(slots=True)
class Ctx:
    """One authenticated REST call."""

    request: web.Request
    region: str | None
    path: str
    raw: bytes = b""
    body: _Json = field(default_factory=dict)
    app: App | None = None
    session: Session | None = None

    @property
    def account(self) -> Account:
        """Return the caller's account (Bearer calls)."""
        if self.session is None:
            raise ApiError(401, "cannot found access token info")
        return self.session.account

    def query(self, name: str, default: str | None = None) -> str | None:
        """Return a decoded query parameter."""
        return self.request.query.get(name, default)


Handler = Callable[[Ctx], Awaitable[Any]]


def envelope(data: Any = None, error: int = 0, msg: str = "") -> web.Response:
    """Return the §3.1 envelope over HTTP 200."""
    body = {"error": error, "msg": msg, "data": {} if data is None and error != 408 else data}
    return web.Response(text=safejson.dumps(body), content_type="application/json")


def _int(value: Any, name: str, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise ApiError(400, f"params error: {name} is required")
        return default
    try:
        return int(value)
    except TypeError, ValueError, OverflowError:
        raise ApiError(400, f"params error: {name} must be an integer") from None


class RestApi:
    """The REST endpoints."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.limiter = RateLimiter(
            sim.config.rate_min_interval, sim.config.rate_window, sim.config.rate_max_calls
        )
        self.routes: dict[tuple[str, str], tuple[str, Handler]] = {
            ("POST", "/v2/user/login"): (SIGN, self.login),
            ("POST", "/v2/user/refresh"): (EITHER, self.refresh),
            ("GET", "/v2/user/profile"): (BEARER, self.profile),
            ("DELETE", "/v2/user/logout"): (BEARER, self.logout),
            ("POST", "/v2/user/oauth/token"): (SIGN, self.oauth_token),
            ("DELETE", "/v2/user/oauth/token"): (BEARER, self.logout),
            ("GET", "/v2/utils/get-region"): (SIGN, self.get_region),
            ("GET", "/v2/family"): (BEARER, self.family),
            ("POST", "/v2/family/current"): (BEARER, self.family_current),
            ("GET", "/v2/device/thing"): (BEARER, self.thing_list),
            ("POST", "/v2/device/thing"): (BEARER, self.thing_specific),
            ("GET", "/v2/device/thing/status"): (BEARER, self.status_get),
            ("POST", "/v2/device/thing/status"): (BEARER, self.status_set),
            ("POST", "/v2/device/thing/batch-status"): (BEARER, self.batch_status),
            ("POST", "/v2/device/add"): (BEARER, self.device_add),
            ("POST", "/v2/device/add-gsm"): (BEARER, self.device_add_gsm),
            ("GET", "/v2/device/group"): (BEARER, self.group_list),
            ("POST", "/v2/device/update-info"): (BEARER, self.update_info),
            ("DELETE", "/v2/device"): (BEARER, self.device_delete),
            ("POST", "/v2/device/tags"): (BEARER, self.device_tags),
            ("POST", "/v2/device/ota/query"): (BEARER, self.ota_query),
            ("POST", "/v2/homepage"): (BEARER, self.homepage),
        }

    # Plumbing ----------------------------------------------------------------------------
    async def handle_regional(self, request: web.Request) -> web.StreamResponse:
        """Serve `/{region}/v2/...`."""
        region = request.match_info["region"]
        if region not in self.sim.config.regions:
            raise web.HTTPNotFound
        return await self._handle(request, region, "/v2/" + request.match_info["tail"])

    async def handle_global(self, request: web.Request) -> web.StreamResponse:
        """Serve `/v2/...` (only the global region lookup lives there)."""
        path = "/v2/" + request.match_info["tail"]
        return await self._handle(request, None, path)

    async def _handle(
        self, request: web.Request, region: str | None, path: str
    ) -> web.StreamResponse:
        sim = self.sim
        appid_header = safejson.clean_header(request.headers.get("X-CK-Appid"))
        sim.log_request(RequestRecord(time.monotonic(), request.method, request.path, appid_header))
        if sim.faults.latency > 0:
            await asyncio.sleep(sim.faults.latency)
        status = sim.faults.http_error_for(path, request.path)
        if status is not None:
            return web.Response(status=status, text=f"{status} injected by the simulator")
        if (raw := sim.faults.raw_answer_for(path)) is not None:
            return web.Response(status=raw[0], body=raw[1], content_type="application/json")
        if sim.faults.quota_403_seconds > 0:
            return web.Response(status=403, text="Forbidden")
        if sim.faults.rest_412_seconds > 0:
            return envelope(error=412, msg="request too frequent")
        if sim.config.rate_limit and not self.limiter.allow(
            request.remote or "?", region or "global", f"{request.method} {path}", time.monotonic()
        ):
            # [inf] What the real cloud answers is not documented.
            return envelope(error=412, msg="request too frequent")
        code = sim.faults.api_error_for(path, request.path)
        if code is not None:
            return envelope(error=code, msg="injected by the simulator")
        route = self.routes.get((request.method, path))
        if route is None or (region is None and path != "/v2/utils/get-region"):
            return envelope(error=403, msg="api not found")
        kind, handler = route
        try:
            quota = self._quota(request, region, appid_header)
            if quota is not None:
                return quota
            ctx = Ctx(request, region, path)
            await self._authenticate(ctx, kind, appid_header)
            if request.method in ("POST", "PUT"):
                ctx.body = self._body(request, ctx.raw)
            data = await handler(ctx)
        except ApiError as err:
            if err.error not in (0, 10004):
                _LOGGER.debug("%s %s -> %d %s", request.method, request.path, err.error, err.msg)
            return envelope(err.data, err.error, err.msg)
        return envelope(data)

    def _quota(
        self, request: web.Request, region: str | None, appid: str | None
    ) -> web.Response | None:
        sim = self.sim
        if appid is None:
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                session = sim.store.by_at.get(auth[7:].strip())
                appid = session.appid if session is not None else None
        app = sim.store.apps.get(appid) if appid else None
        mode = sim.faults.quota_exhausted
        if app is not None:
            key = region or "global"
            app.calls[key] = app.calls.get(key, 0) + 1
            if app.monthly_quota is not None and app.calls[key] > app.monthly_quota:
                mode = mode or app.quota_mode  # type: ignore[assignment]
            if app.expired:
                raise ApiError(408, "appid has expired")
        if sim.faults.appid_expired:
            raise ApiError(408, "appid has expired")
        if mode == "http403":
            return web.Response(status=403, text="Forbidden")
        if mode == "412":
            raise ApiError(412, "monthly quota exhausted")
        return None

    async def _authenticate(self, ctx: Ctx, kind: str, appid_header: str | None) -> None:
        request = ctx.request
        ctx.raw = await request.read()
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme == "Bearer" and token and kind in (BEARER, EITHER):
            session = self.sim.store.by_at.get(token)
            if session is None or session.revoked:
                raise ApiError(401, "cannot found access token info")
            if kind == BEARER and session.at_expires <= time.time():
                raise ApiError(402, "access token expired")
            # [inf] A token is served only by its account's region.
            if ctx.region is not None and session.account.region != ctx.region:
                raise ApiError(401, "cannot found access token info")
            if appid_header and appid_header != session.appid:
                raise ApiError(401, "cannot found access token info")
            ctx.session = session
            ctx.app = self.sim.store.apps.get(session.appid)
            return
        if scheme == "Sign" and token and kind in (SIGN, EITHER):
            if not appid_header:
                raise ApiError(400, "params error: X-CK-Appid is required")
            app = self.sim.store.apps.get(appid_header)
            if app is None or self.sim.faults.reject_signature:
                raise ApiError(400, "sign verification failed")
            if request.method in ("POST", "PUT"):
                messages = [ctx.raw]
            else:
                messages = query_messages(request.rel_url.raw_query_string)
            if not any(signature_matches(app.secret, m, token) for m in messages):
                raise ApiError(400, "sign verification failed")
            ctx.app = app
            return
        if kind == BEARER and scheme == "Sign":
            raise ApiError(401, "cannot found access token info")
        raise ApiError(400, "params error: Authorization is missing or malformed")

    @staticmethod
    def _body(request: web.Request, raw: bytes) -> _Json:
        if request.content_type != "application/json":
            raise ApiError(400, "params error: Content-Type must be application/json")
        try:
            body = safejson.loads(raw) if raw else None
        except ValueError:
            raise ApiError(400, "params error: body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "params error: body must be a JSON object")
        return body

    # User ----------------------------------------------------------------------------------
    async def login(self, ctx: Ctx) -> _Json:
        """POST /v2/user/login (Sign)."""
        sim, body = self.sim, ctx.body
        app = ctx.app
        assert app is not None  # noqa: S101 - Sign authentication sets it
        if not app.password_login or sim.faults.appid_no_password_login:
            raise ApiError(407, "path of request is not allowed")
        forced = sim.faults.force_region_redirect
        if forced and forced != ctx.region:
            if sim.faults.force_region_redirect_once:
                sim.faults.force_region_redirect = None
            raise ApiError(10004, "redirection", {"region": forced})
        password = body.get("password")
        phone, email = body.get("phoneNumber"), body.get("email")
        if not isinstance(password, str) or not (isinstance(phone, str) or isinstance(email, str)):
            raise ApiError(400, "params error: password and email or phoneNumber are required")
        if isinstance(phone, str):
            if not phone.startswith("+"):
                raise ApiError(400, "params error: phoneNumber must carry the country code")
            account = sim.store.find_account(phone=phone)
        else:
            account = sim.store.find_account(email=str(email))
        if account is None:
            raise ApiError(10003, "user does not exist")
        if account.region != ctx.region:
            raise ApiError(10004, "redirection", {"region": account.region})
        if password != account.password:
            raise ApiError(10001, "password error!")
        session = sim.start_session(account, app.appid, kind="password")
        _LOGGER.info("login: %s with app %s", account.label, app.appid)
        return {
            "user": account.user_json(),
            "at": session.at,
            "rt": session.rt,
            "region": account.region,
        }

    async def refresh(self, ctx: Ctx) -> _Json:
        """POST /v2/user/refresh (Sign or Bearer): both tokens rotate."""
        rt = ctx.body.get("rt")
        if not isinstance(rt, str) or not rt:
            raise ApiError(400, "params error: rt is required")
        session = self.sim.store.by_rt.get(rt)
        app = ctx.app
        if (
            session is None
            or session.revoked
            or session.rt_expires <= time.time()
            or app is None
            or session.appid != app.appid
            or session.account.region != ctx.region
        ):
            raise ApiError(405, "can't find the account with this rt")
        if session.displaced and (other := self.sim.store.reinstate(session)) is not None:
            self.sim.hub.kick(other)
        self.sim.store.rotate(
            session,
            at_lifetime=self.sim.config.at_lifetime,
            rt_lifetime=self.sim.config.rt_lifetime,
        )
        answer = {"at": session.at, "rt": session.rt}
        faults = self.sim.faults
        if faults.login_elsewhere_after_refresh > 0:
            faults.login_elsewhere_after_refresh -= 1
            self.sim.start_session(session.account, session.appid, kind="password")
        return answer

    async def profile(self, ctx: Ctx) -> _Json:
        """GET /v2/user/profile."""
        session = ctx.session
        assert session is not None  # noqa: S101
        app = ctx.app
        if self.sim.faults.oauth_profile_denied and app is not None and not app.password_login:
            raise ApiError(407, "appid is unauthorized")
        return {"user": session.account.user_json(), "region": session.account.region}

    async def logout(self, ctx: Ctx) -> _Json:
        """DELETE /v2/user/logout and DELETE /v2/user/oauth/token: the session ends."""
        session = ctx.session
        assert session is not None  # noqa: S101
        self.sim.store.revoke(session)
        self.sim.hub.kick(session)
        return {}

    async def oauth_token(self, ctx: Ctx) -> _Json:
        """POST /v2/user/oauth/token: exchange an authorization code (Sign with the secret)."""
        body, sim = ctx.body, self.sim
        code, redirect, grant = body.get("code"), body.get("redirectUrl"), body.get("grantType")
        if (
            not isinstance(code, str)
            or not isinstance(redirect, str)
            or grant != "authorization_code"
        ):
            raise ApiError(400, "params error: code, redirectUrl and grantType are required")
        record = sim.store.codes.get(code)
        app = ctx.app
        if (
            record is None
            or record.used
            or record.expires <= time.time()
            or app is None
            or record.appid != app.appid
        ):
            raise ApiError(405, "invalid code")
        if record.account.region != ctx.region:
            # [inf] Not consumed, so a client may try the regions in turn.
            raise ApiError(405, "invalid code")
        if record.redirect_url != redirect:
            raise ApiError(400, "params error: redirectUrl does not match")
        record.used = True
        session = sim.start_session(record.account, app.appid, kind="oauth")
        _LOGGER.info("oauth code exchanged: %s with app %s", record.account.label, app.appid)
        return {
            "accessToken": session.at,
            "atExpiredTime": int(session.at_expires * 1000),
            "refreshToken": session.rt,
            "rtExpiredTime": int(session.rt_expires * 1000),
        }

    async def get_region(self, ctx: Ctx) -> _Json:
        """GET /v2/utils/get-region?countryCode=+49 (or 49)."""
        code = ctx.query("countryCode")
        if not code or not code.strip().lstrip("+").isdigit():
            raise ApiError(400, "params error: countryCode is required")
        return {"region": region_of_country(code)}

    # Homes -----------------------------------------------------------------------------------
    async def family(self, ctx: Ctx) -> _Json:
        """GET /v2/family."""
        account = ctx.account
        current = account.current_home()
        return {
            "familyList": [h.as_json() for h in account.homes],
            "currentFamilyId": current.id,
            "hasChangedCurrentFamily": False,
        }

    async def family_current(self, ctx: Ctx) -> _Json:
        """POST /v2/family/current {"id"}."""
        account = ctx.account
        home = account.home_by_id(str(ctx.body.get("id")))
        if home is None:
            raise ApiError(20001, "family not found")
        account.current_home_id = home.id
        return {}

    # Things ----------------------------------------------------------------------------------
    async def thing_list(self, ctx: Ctx) -> _Json:
        """GET /v2/device/thing?familyid&num&beginIndex."""
        account = ctx.account
        familyid = ctx.query("familyid")
        home = account.home_by_id(familyid) if familyid else account.current_home()
        if home is None:
            raise ApiError(20001, "family not found")
        num = _int(ctx.query("num"), "num", 30)
        begin = _int(ctx.query("beginIndex"), "beginIndex", -9999999)
        if num < 0:
            raise ApiError(400, "params error: num")
        things = home_things(self.sim.store, account, home)
        faults = self.sim.faults
        limit = faults.thing_list_max
        if limit is not None and (num == 0 or num > limit) and len(things) > limit:
            mode = faults.thing_list_max_mode
            if mode == "http500":
                raise web.HTTPInternalServerError(text="500 Internal Server Error")
            if mode == "timeout":
                await asyncio.sleep(faults.thing_list_timeout)
                raise web.HTTPGatewayTimeout(text="504 Gateway Timeout")
            if mode == "truncate":
                num = limit
            else:
                raise ApiError(500, "internal error")
        items, total = page(things, ctx.app, num=num, begin_index=begin)
        return {"thingList": items, "total": total}

    async def thing_specific(self, ctx: Ctx) -> _Json:
        """POST /v2/device/thing {"thingList":[{"itemType","id"}]} (1 to 10 entries, §6.5).

        Items have the shape of the thing list and pass the same brand filter. [inf] Unknown
        ids and things the caller may not see are left out; an id asked twice is answered
        once; `itemType` must be 1, 2 or 3 but need not match the thing (the cloud's check, if
        any, is undocumented).
        """
        wanted = ctx.body.get("thingList")
        if not isinstance(wanted, list) or not 1 <= len(wanted) <= 10:
            raise ApiError(400, "params error: thingList must have 1 to 10 entries")
        store, account, app = self.sim.store, ctx.account, ctx.app
        out: list[_Json] = []
        seen: set[str] = set()
        for entry in wanted:
            if not isinstance(entry, dict):
                raise ApiError(400, "params error: thingList entries must be objects")
            ident, item_type = entry.get("id"), entry.get("itemType")
            if not isinstance(ident, str) or not ident or item_type not in (1, 2, 3):
                raise ApiError(400, "params error: thingList entries need itemType and id")
            if ident in seen:
                continue
            seen.add(ident)
            device = store.devices.get(ident)
            if device is not None and device.visible_to(account):
                if app is None or app.brand_allowed(device.factory.brand_name):
                    out.append(device_item(store, device, account))
                continue
            group = store.groups.get(ident)
            if group is not None and group.owner is account:
                out.append(group_item(group))
        return {"thingList": out}

    def _device_for(self, ctx: Ctx, deviceid: Any) -> CloudDevice:
        device = self.sim.store.devices.get(str(deviceid))
        if device is None or not device.visible_to(ctx.account):
            raise ApiError(405, "device not found")
        return device

    async def status_get(self, ctx: Ctx) -> _Json:
        """GET /v2/device/thing/status?type=1&id=...&params=a|b."""
        kind = _int(ctx.query("type"), "type")
        ident = ctx.query("id")
        if not ident:
            raise ApiError(400, "params error: id is required")
        keys = [k for k in (ctx.query("params") or "").split("|") if k]
        if kind == 2:
            group = self.sim.store.groups.get(ident)
            if group is None or group.owner is not ctx.account:
                raise ApiError(405, "group not found")
            stored = group.params
        elif kind == 1:
            stored = self._device_for(ctx, ident).params
        else:
            raise ApiError(400, "params error: type must be 1 or 2")
        if keys:
            return {"params": {k: stored[k] for k in keys if k in stored}}
        return {"params": dict(stored)}

    async def status_set(self, ctx: Ctx) -> _Json:
        """POST /v2/device/thing/status {"type","id","params"}: forwarded to the device."""
        body = ctx.body
        kind = _int(body.get("type"), "type")
        params = body.get("params")
        if not isinstance(params, (dict, list)) or not params:
            raise ApiError(400, "params error: params")
        if kind == 2:
            group = self.sim.store.groups.get(str(body.get("id")))
            if group is None or group.owner is not ctx.account:
                raise ApiError(405, "group not found")
            if isinstance(params, dict):
                group.params.update(params)
            for deviceid in group.device_ids:
                member = self.sim.store.devices.get(deviceid)
                if member is not None and self.sim.hub.device_link(member) is not None:
                    await self.sim.hub.command(member, "update", params, wait=False)
            return {}
        if kind != 1:
            raise ApiError(400, "params error: type must be 1 or 2")
        device = self._device_for(ctx, body.get("id"))
        try:
            ack = await self.sim.hub.command(device, "update", params)
        except DeviceOfflineError:
            raise ApiError(4002, "device is offline") from None
        except DeviceTimeoutError:
            raise ApiError(4002, "device control timed out") from None
        if int(ack.get("error", 0)) != 0:
            raise ApiError(4002, f"device refused the command ({ack.get('error')})")
        return {}

    async def batch_status(self, ctx: Ctx) -> _Json:
        """POST /v2/device/thing/batch-status {"thingList":[...],"timeout":0..8000}."""
        body = ctx.body
        things = body.get("thingList")
        timeout = _int(body.get("timeout"), "timeout", 0)
        if not isinstance(things, list) or not 1 <= len(things) <= 10 or not 0 <= timeout <= 8000:
            raise ApiError(400, "params error: 1 to 10 things, timeout 0..8000")
        ids = [str(t.get("id")) for t in things if isinstance(t, dict)]
        if len(ids) != len(things) or len(set(ids)) != len(ids):
            raise ApiError(400, "params error: ids must be unique")

        async def one(thing: _Json) -> _Json:
            kind = _int(thing.get("type"), "type", 1)
            ident = str(thing.get("id"))
            result: _Json = {"type": kind, "id": ident, "error": 0}
            params = thing.get("params")
            if kind == 2:
                group = self.sim.store.groups.get(ident)
                if group is None or group.owner is not ctx.account:
                    result["error"] = 405
                    return result
                for deviceid in group.device_ids:
                    member = self.sim.store.devices.get(deviceid)
                    if member is not None and self.sim.hub.device_link(member) is not None:
                        await self.sim.hub.command(member, "update", params, wait=False)
                return result
            device = self.sim.store.devices.get(ident)
            if device is None or not device.visible_to(ctx.account):
                result["error"] = 405
                return result
            try:
                if timeout == 0:
                    await self.sim.hub.command(device, "update", params, wait=False)
                else:
                    ack = await self.sim.hub.command(
                        device, "update", params, ack_timeout=timeout / 1000
                    )
                    result["error"] = int(ack.get("error", 0)) and 4002
            except DeviceOfflineError:
                result["error"] = 30022
            except DeviceTimeoutError:
                result["error"] = 4002  # [inf]
            return result

        resp = await asyncio.gather(*(one(t) for t in things))
        return {"respList": list(resp)}

    # Device management -------------------------------------------------------------------
    async def device_add(self, ctx: Ctx) -> _Json:
        """POST /v2/device/add: bind a Wi-Fi device (digest and chipid checked)."""
        body, sim = ctx.body, self.sim
        name, deviceid, digest = body.get("name"), body.get("deviceid"), body.get("digest")
        if (
            not isinstance(name, str)
            or not isinstance(deviceid, str)
            or not isinstance(digest, str)
        ):
            raise ApiError(400, "params error: name, deviceid and digest are required")
        if len(deviceid) != 10 or not set(deviceid) <= DEVICEID_CHARS:
            raise ApiError(30010, "deviceid format error")
        factory = sim.store.factory.get(deviceid.lower())
        if factory is None or factory.gsm_id:
            raise ApiError(30018, "unknown deviceid")
        app = ctx.app
        if app is None or not app.brand_allowed(factory.brand_name):
            raise ApiError(30017, "this app does not support of adding this brand and its device")
        if digest != device_digest(factory.deviceid, factory.apikey):
            raise ApiError(30015, "digest error")
        chipid = body.get("chipid")
        if chipid is not None and factory.chipid and chipid != factory.chipid:
            raise ApiError(30014, "chipid error")
        device = sim.bind_device(
            factory,
            ctx.account,
            name=name,
            familyid=body.get("familyid"),
            roomid=body.get("roomid"),
            sort=_int(body.get("sort"), "sort", 1),
            settings=body.get("settings"),
        )
        return device_item(sim.store, device, ctx.account)

    async def device_add_gsm(self, ctx: Ctx) -> _Json:
        """POST /v2/device/add-gsm {"id","name"}: bind a GSM device by its QR-code id."""
        body, sim = ctx.body, self.sim
        gsm_id, name = body.get("id"), body.get("name")
        if not isinstance(gsm_id, str) or not isinstance(name, str):
            raise ApiError(400, "params error: id and name are required")
        record = sim.store.gsm.get(gsm_id)
        if record is None:
            raise ApiError(30003, "gsm device not found")
        factory = sim.store.factory[record.deviceid]
        existing = sim.store.devices.get(record.deviceid)
        if existing is not None and existing.owner is not ctx.account:
            raise ApiError(30007, "the device has been added by another user")
        device = existing or sim.bind_device(
            factory,
            ctx.account,
            name=name,
            familyid=body.get("familyid"),
            roomid=body.get("roomid"),
            sort=_int(body.get("sort"), "sort", 1),
            settings=None,
        )
        return device_item(sim.store, device, ctx.account)

    async def group_list(self, ctx: Ctx) -> _Json:
        """GET /v2/device/group."""
        account = ctx.account
        return {
            "groupList": [
                group_item(g) for g in self.sim.store.groups.values() if g.owner is account
            ]
        }

    def _own(self, ctx: Ctx, deviceid: Any) -> CloudDevice:
        device = self._device_for(ctx, deviceid)
        if device.owner is not ctx.account:
            raise ApiError(406, "no permission")
        return device

    async def update_info(self, ctx: Ctx) -> _Json:
        """POST /v2/device/update-info {"deviceid","name","roomid"}."""
        device = self._own(ctx, ctx.body.get("deviceid"))
        if isinstance(ctx.body.get("name"), str):
            device.name = ctx.body["name"]
        if isinstance(ctx.body.get("roomid"), str):
            device.roomid = ctx.body["roomid"]
        return {}

    async def device_delete(self, ctx: Ctx) -> _Json:
        """DELETE /v2/device?deviceid=...: unbind (owner) or leave the share (sharee)."""
        device = self._device_for(ctx, ctx.query("deviceid"))
        if device.owner is ctx.account:
            self.sim.unbind_device(device)
        else:
            device.shares = [s for s in device.shares if s.account is not ctx.account]
        return {}

    async def device_tags(self, ctx: Ctx) -> _Json:
        """POST /v2/device/tags {"deviceid","type":"replace|merge","tags"}."""
        device = self._own(ctx, ctx.body.get("deviceid"))
        tags = ctx.body.get("tags")
        if not isinstance(tags, dict):
            raise ApiError(400, "params error: tags")
        if ctx.body.get("type", "replace") == "merge":
            device.tags.update(tags)
        else:
            device.tags = dict(tags)
        return {}

    async def ota_query(self, ctx: Ctx) -> _Json:
        """POST /v2/device/ota/query: nothing to upgrade."""
        _ = ctx.account
        return {"otaInfoList": []}

    async def homepage(self, ctx: Ctx) -> _Json:
        """POST /v2/homepage: only the requested sections."""
        out: _Json = {}
        body = ctx.body
        if "getUser" in body:
            out["userInfo"] = ctx.account.user_json()
        if "getFamily" in body:
            out["familyInfo"] = await self.family(ctx)
        if "getThing" in body:
            spec = body.get("getThing") or {}
            if not isinstance(spec, dict):
                raise ApiError(400, "params error: getThing must be an object")
            account = ctx.account
            home = account.current_home()
            things = home_things(self.sim.store, account, home)
            items, total = page(
                things,
                ctx.app,
                num=_int(spec.get("num"), "num", 30),
                begin_index=_int(spec.get("beginIndex"), "beginIndex", -9999999),
            )
            out["thingInfo"] = {"thingList": items, "total": total}
        return out

    # Dispatch ------------------------------------------------------------------------------
    async def dispatch_app(self, request: web.Request) -> web.Response:
        """GET|POST /{region}/dispatch/app (no auth, no envelope)."""
        sim = self.sim
        region = request.match_info["region"]
        if region not in sim.config.regions:
            raise web.HTTPNotFound
        appid = safejson.clean_header(request.headers.get("X-CK-Appid"))
        sim.log_request(RequestRecord(time.monotonic(), request.method, request.path, appid))
        if sim.faults.latency > 0:
            await asyncio.sleep(sim.faults.latency)
        status = sim.faults.http_error_for("/dispatch/app", request.path)
        if status is not None:
            return web.Response(status=status, text=f"{status} injected by the simulator")
        host = sim.config.public_host
        return web.json_response(
            {"port": sim.port, "IP": host, "reason": "ok", "domain": host, "error": 0}
        )

    async def dispatch_device(self, request: web.Request) -> web.Response:
        """POST (or GET) /dispatch/device: where a device opens its websocket."""
        sim = self.sim
        status = sim.faults.http_error_for("/dispatch/device")
        if status is not None:
            return web.Response(status=status, text=f"{status} injected by the simulator")
        return web.json_response(
            {"error": 0, "reason": "ok", "IP": sim.config.public_host, "port": sim.port}
        )
