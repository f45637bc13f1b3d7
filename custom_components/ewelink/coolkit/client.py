"""REST client for the CoolKit API v2 (coolkit-cloud.md §2-§9).

The client signs requests, follows the account's region, keeps the tokens fresh (proactively at
half their life and on error 402, retrying the failed call once) and paces every call through a
shared `RateLimiter`. It takes an injected `aiohttp.ClientSession` and knows nothing of Home
Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
import json
import logging
import time
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp

from .const import CLOUD, DEFAULT_REGION, REGIONS, Servers, region_for_country_code
from .errors import (
    AppNotPermittedError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitConnectionError,
    DeviceOfflineError,
    DeviceTimeoutError,
    InvalidAppCredentialsError,
    InvalidCredentialsError,
    OAuthCodeError,
    RateLimitedError,
    ReauthRequiredError,
    RegionError,
    SessionTakenOverError,
)
from .models import Family, Thing, Tokens, UserInfo
from .ratelimit import RateLimiter
from .signing import device_digest, nonce, query_message, sign

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 15.0
THING_PAGE_SIZE = 30
FIRST_BEGIN_INDEX = -9999999
TAKEOVER_WINDOW = 600.0

type Auth = Literal["sign", "bearer"]
type TokensCallback = Callable[[Tokens], None]

_CREDENTIAL_ERRORS = {10001, 10003, 10014}
_OFFLINE_ERRORS = {4002, 503, 30022}
_REDIRECT = 10004


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Where the long connection is: `{scheme}://{host}:{port}/api/ws`."""

    host: str
    port: int
    scheme: str

    @property
    def url(self) -> str:
        """Return the websocket URL."""
        return f"{self.scheme}://{self.host}:{self.port}/api/ws"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a password login returns."""

    user: UserInfo
    tokens: Tokens
    region: str


class CoolkitClient:
    """Talk to the CoolKit cloud on behalf of one account and one app ID."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        app_id: str,
        app_secret: str,
        *,
        servers: Servers = CLOUD,
        region: str | None = None,
        tokens: Tokens | None = None,
        user_apikey: str | None = None,
        on_tokens: TokensCallback | None = None,
        rate_limiter: RateLimiter | None = None,
        access_lifetime: float | None = None,
        refresh_lifetime: float | None = None,
    ) -> None:
        """Create a client; `tokens` and `region` resume a stored session."""
        self._session = session
        self.app_id = app_id
        self._app_secret = app_secret
        self.servers = servers
        self.region = region
        self.tokens = tokens
        self.user_apikey = user_apikey
        self.on_tokens: TokensCallback | None = on_tokens
        self._limiter = rate_limiter or RateLimiter()
        self._lifetimes: dict[str, float] = {}
        if access_lifetime is not None:
            self._lifetimes["access_lifetime"] = access_lifetime
        if refresh_lifetime is not None:
            self._lifetimes["refresh_lifetime"] = refresh_lifetime
        self._refresh_lock = asyncio.Lock()
        self._last_recovery: float | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """Return the injected HTTP session (the long connection uses it too)."""
        return self._session

    @property
    def rate_limiter(self) -> RateLimiter:
        """Return the limiter that paces this client's calls."""
        return self._limiter

    def __repr__(self) -> str:
        """Never show secrets."""
        return f"<CoolkitClient app_id={self.app_id} region={self.region}>"

    # -- sign-in -------------------------------------------------------------------------

    async def login(self, account: str, password: str, country_code: str) -> LoginResult:
        """Sign in with e-mail or phone number and password; find the region on the way.

        The first region is guessed from the country code; a `10004` answer names the right
        one and the same request is sent there once.
        """
        country_code = "+" + country_code.strip().lstrip("+")
        body: dict[str, Any] = {"countryCode": country_code, "password": password}
        account = account.strip()
        if "@" in account:
            body["email"] = account
        else:
            phone = account.replace(" ", "").replace("-", "")
            body["phoneNumber"] = phone if phone.startswith("+") else f"{country_code}{phone}"
        body["lang"] = "en"
        region = self.region or region_for_country_code(country_code)
        if region is None:
            region = await self.get_region(country_code)
        try:
            data = await self._request(
                "POST", "/v2/user/login", region=region, body=body, auth="sign"
            )
        except _RegionRedirectError as redirect:
            region = redirect.region
            data = await self._request(
                "POST", "/v2/user/login", region=region, body=body, auth="sign"
            )
        try:
            user = UserInfo.from_api(data["user"])
            tokens = Tokens.issued_now(str(data["at"]), str(data["rt"]), **self._lifetimes)
        except (KeyError, TypeError, ValueError) as err:
            raise CoolkitConnectionError("unexpected login response") from err
        self.region = _known_region(data.get("region"), region)
        self.user_apikey = user.apikey
        self._set_tokens(tokens)
        return LoginResult(user, tokens, self.region)

    async def get_region(self, country_code: str) -> str:
        """Ask the global lookup which region serves a country code (Sign-authenticated GET)."""
        data = await self._request(
            "GET",
            "/v2/utils/get-region",
            auth="sign",
            url=self.servers.region_lookup,
            query={"countryCode": "+" + country_code.strip().lstrip("+")},
        )
        return _known_region(data.get("region"), DEFAULT_REGION)

    def authorization_url(
        self, redirect_url: str, state: str, *, seq: str | None = None, show_qr_code: bool = False
    ) -> str:
        """Return the signed OAuth2 authorization page URL (§4.2 step 1)."""
        seq = seq or str(int(time.time() * 1000))
        query = {
            "clientId": self.app_id,
            "seq": seq,
            "authorization": sign(self._app_secret, f"{self.app_id}_{seq}"),
            "redirectUrl": redirect_url,
            "grantType": "authorization_code",
            "state": state,
            "nonce": nonce(),
            "showQRCode": "true" if show_qr_code else "false",
        }
        return f"{self.servers.oauth_page}?{urlencode(query)}"

    async def exchange_code(
        self, code: str, redirect_url: str, region: str | None = None
    ) -> Tokens:
        """Exchange an OAuth2 code for tokens (§4.2 step 3).

        The code belongs to one region. When the caller does not know it (Home Assistant's
        callback drops the `region` parameter), the regions are tried in turn, the likely
        one first: a code is only known to its own region.
        """
        body = {"code": code, "redirectUrl": redirect_url, "grantType": "authorization_code"}
        candidates = [region] if region else []
        candidates += [r for r in (self.region, *REGIONS) if r and r not in candidates]
        last_error: OAuthCodeError | None = None
        for candidate in candidates:
            try:
                data = await self._request(
                    "POST", "/v2/user/oauth/token", region=candidate, body=body, auth="sign"
                )
            except OAuthCodeError as err:
                last_error = err
                if region:
                    break
                continue
            try:
                tokens = Tokens.issued_now(
                    str(data["accessToken"]),
                    str(data["refreshToken"]),
                    access_expires_at=_ms(data.get("atExpiredTime")),
                    refresh_expires_at=_ms(data.get("rtExpiredTime")),
                    **self._lifetimes,
                )
            except (KeyError, TypeError) as err:
                raise CoolkitConnectionError("unexpected token response") from err
            self.region = candidate
            self._set_tokens(tokens)
            return tokens
        raise last_error or OAuthCodeError(405, "invalid code")

    async def refresh(self) -> Tokens:
        """Renew both tokens; raise `ReauthRequiredError` when the refresh token is refused."""
        current = self.tokens
        async with self._refresh_lock:
            if self.tokens is not current and self.tokens is not None:
                return self.tokens  # another caller refreshed while we waited
            return await self._refresh()

    async def _refresh(self) -> Tokens:
        if self.tokens is None or self.region is None:
            raise ReauthRequiredError("not signed in")
        if self.tokens.refresh_expired():
            raise ReauthRequiredError("the refresh token has expired")
        try:
            data = await self._request(
                "POST",
                "/v2/user/refresh",
                body={"rt": self.tokens.refresh_token},
                auth="sign",
            )
        except RateLimitedError, CoolkitConnectionError:
            raise
        except CoolkitApiError as err:
            raise ReauthRequiredError(f"refresh refused with error {err.code}") from err
        try:
            tokens = Tokens.issued_now(str(data["at"]), str(data["rt"]), **self._lifetimes)
        except (KeyError, TypeError) as err:
            raise CoolkitConnectionError("unexpected refresh response") from err
        _LOGGER.debug("Tokens refreshed")
        self._set_tokens(tokens)
        return tokens

    def _set_tokens(self, tokens: Tokens) -> None:
        self.tokens = tokens
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    async def logout(self) -> None:
        """End the session (only on explicit removal)."""
        await self._request("DELETE", "/v2/user/logout", auth="bearer")

    # -- account data --------------------------------------------------------------------

    async def get_profile(self) -> UserInfo:
        """Return the signed-in user (validates the token; gives the apikey after OAuth)."""
        data = await self._request("GET", "/v2/user/profile", auth="bearer")
        try:
            user = UserInfo.from_api(data["user"])
        except (KeyError, TypeError, ValueError) as err:
            raise CoolkitConnectionError("unexpected profile response") from err
        self.region = _known_region(data.get("region"), self.region)
        self.user_apikey = user.apikey
        return user

    async def get_account(self) -> UserInfo:
        """Return the signed-in user; after OAuth this is how the user apikey is learnt.

        The profile may be refused to OAuth-only app IDs (§4.2, inference); the home list
        carries the user apikey too, so fall back on it.
        """
        try:
            return await self.get_profile()
        except AppNotPermittedError:
            _LOGGER.debug("Profile refused to this app ID; taking the apikey from the homes")
        for family in await self.get_families():
            if family.apikey:
                self.user_apikey = family.apikey
                return UserInfo(apikey=family.apikey)
        raise CoolkitConnectionError("the account's apikey could not be found")

    async def get_families(self) -> list[Family]:
        """Return the account's homes."""
        data = await self._request("GET", "/v2/family", auth="bearer", query={"lang": "en"})
        families: list[Family] = []
        for item in data.get("familyList") or ():
            try:
                families.append(Family.from_api(item))
            except KeyError, TypeError, AttributeError:
                _LOGGER.warning("Skipping a malformed home in the home list")
        return families

    async def get_things(self, family_ids: Iterable[str] | None = None) -> list[Thing]:
        """Return every device of the given homes (all homes when None), own and shared.

        Pages of 30 sorted by `index`; `beginIndex` is the last index seen. Groups are skipped,
        and a device listed in two homes is returned once.
        """
        if family_ids is None:
            family_ids = [family.id for family in await self.get_families()]
        things: dict[str, Thing] = {}
        for family_id in family_ids:
            begin = FIRST_BEGIN_INDEX
            seen = 0
            while True:
                data = await self._request(
                    "GET",
                    "/v2/device/thing",
                    auth="bearer",
                    query={
                        "lang": "en",
                        "familyid": family_id,
                        "num": THING_PAGE_SIZE,
                        "beginIndex": begin,
                    },
                )
                page = data.get("thingList") or []
                if not isinstance(page, list) or not page:
                    break
                seen += len(page)
                for entry in page:
                    if isinstance(entry, Mapping) and (thing := Thing.from_api(entry)):
                        things.setdefault(thing.deviceid, thing)
                last = page[-1].get("index") if isinstance(page[-1], Mapping) else None
                total = data.get("total")
                if (
                    len(page) < THING_PAGE_SIZE
                    or not isinstance(last, int)
                    or last <= begin
                    or (isinstance(total, int) and seen >= total)
                ):
                    break
                begin = last
        return list(things.values())

    async def get_thing_status(
        self, deviceid: str, params: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Return the stored state of a device (all params when None)."""
        query: dict[str, str | int] = {"type": 1, "id": deviceid}
        if params:
            query["params"] = "|".join(params)
        data = await self._request("GET", "/v2/device/thing/status", auth="bearer", query=query)
        params_out = data.get("params")
        return dict(params_out) if isinstance(params_out, Mapping) else {}

    async def set_thing_status(self, deviceid: str, params: Mapping[str, Any]) -> None:
        """Send a command over REST (the websocket is preferred)."""
        await self._request(
            "POST",
            "/v2/device/thing/status",
            auth="bearer",
            body={"type": 1, "id": deviceid, "params": dict(params)},
        )

    async def add_wifi_device(
        self,
        deviceid: str,
        device_apikey: str,
        name: str,
        *,
        chipid: str | None = None,
        family_id: str | None = None,
        room_id: str | None = None,
    ) -> Thing:
        """Bind a Wi-Fi device in pairing mode to the account (§8)."""
        body: dict[str, Any] = {
            "name": name,
            "deviceid": deviceid,
            "digest": device_digest(deviceid, device_apikey),
        }
        if chipid:
            body["chipid"] = chipid
        if family_id:
            body["familyid"] = family_id
        if room_id:
            body["roomid"] = room_id
        return self._added_thing(
            await self._request("POST", "/v2/device/add", auth="bearer", body=body)
        )

    async def add_gsm_device(
        self, gsm_id: str, name: str, *, family_id: str | None = None
    ) -> Thing:
        """Bind a GSM (no Wi-Fi) device by the id from its QR code (§8, pairing.md §3.6)."""
        body: dict[str, Any] = {"id": gsm_id, "name": name}
        if family_id:
            body["familyid"] = family_id
        return self._added_thing(
            await self._request("POST", "/v2/device/add-gsm", auth="bearer", body=body)
        )

    @staticmethod
    def _added_thing(data: Mapping[str, Any]) -> Thing:
        thing = Thing.from_api(data)
        if thing is None:
            raise CoolkitConnectionError("unexpected device-add response")
        return thing

    async def dispatch(self) -> Dispatch:
        """Ask where the long connection is (§9); no envelope."""
        region = self._region()
        url = self.servers.dispatch(region)
        await self._limiter.acquire("dispatch/app")
        headers = {"X-CK-Appid": self.app_id}
        if self.tokens is not None:
            headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        try:
            async with self._session.get(
                url, headers=headers, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            ) as response:
                if response.status != 200:
                    raise CoolkitConnectionError(f"dispatch answered HTTP {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise CoolkitConnectionError(f"dispatch failed: {type(err).__name__}") from err
        if not isinstance(data, Mapping) or data.get("error") != 0:
            raise CoolkitConnectionError("dispatch refused")
        host = data.get("domain") or data.get("IP")
        port = data.get("port")
        if not isinstance(host, str) or not host or not isinstance(port, int):
            raise CoolkitConnectionError("dispatch answered without a host")
        return Dispatch(host, port, self.servers.websocket_scheme)

    # -- transport -----------------------------------------------------------------------

    def _region(self) -> str:
        if self.region is None:
            raise RegionError(0, "region unknown: sign in first")
        return self.region

    async def _request(
        self,
        method: str,
        path: str,
        *,
        auth: Auth,
        region: str | None = None,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str | int] | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        """Send one call and return its `data`; on 402 (expired) or 401 (revoked) renew and retry once."""
        if auth == "bearer":
            await self.ensure_fresh_tokens()
        try:
            return await self._send(
                method, path, auth=auth, region=region, body=body, query=query, url=url
            )
        except _TokenExpiredError:
            _LOGGER.debug("Access token expired; refreshing")
            await self.refresh()
        except SessionTakenOverError:
            await self.recover_session()
        try:
            return await self._send(
                method, path, auth=auth, region=region, body=body, query=query, url=url
            )
        except _TokenExpiredError as err:
            raise ReauthRequiredError("the new access token was refused") from err

    async def recover_session(self) -> None:
        """React to a revoked access token (REST 401, websocket 406).

        Usually another client signed in with the same account and app ID. Refresh once; if the
        session was already recovered within the last 10 minutes, the two clients would only
        take the session from each other, so raise `SessionTakenOverError` instead (§4.6).
        """
        now = time.monotonic()
        if self._last_recovery is not None and now - self._last_recovery < TAKEOVER_WINDOW:
            raise SessionTakenOverError("the session was taken over again")
        self._last_recovery = now
        _LOGGER.info("eWeLink session revoked (another sign-in with this app ID?); refreshing once")
        await self.refresh()

    async def ensure_fresh_tokens(self) -> None:
        """Refresh the tokens once the access token is past half its life."""
        if self.tokens is None:
            raise ReauthRequiredError("not signed in")
        if self.tokens.refresh_due():
            _LOGGER.debug("Access token past half its life; refreshing")
            await self.refresh()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        auth: Auth,
        region: str | None,
        body: Mapping[str, Any] | None,
        query: Mapping[str, str | int] | None,
        url: str | None = None,
    ) -> dict[str, Any]:
        if url is None:
            url = f"{self.servers.api(region or self._region())}{path}"
        headers = {"X-CK-Appid": self.app_id, "X-CK-Nonce": nonce()}
        payload: bytes | None = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if auth == "sign":
            # POST: the exact bytes sent; GET: sorted decoded k=v pairs (§3.3).
            message: bytes | str = payload if payload is not None else query_message(query or {})
            headers["Authorization"] = f"Sign {sign(self._app_secret, message)}"
        elif self.tokens is not None:
            headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        else:
            raise ReauthRequiredError("not signed in")
        await self._limiter.acquire(path)
        try:
            async with self._session.request(
                method,
                url,
                params={k: str(v) for k, v in query.items()} if query else None,
                data=payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            ) as response:
                status = response.status
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CoolkitConnectionError(f"{path}: {type(err).__name__}") from err
        if status == 403 and not text.lstrip().startswith("{"):
            raise RateLimitedError(403, "quota exhausted", path, retry_after=3600.0)
        if status != 200:
            raise CoolkitConnectionError(f"{path}: HTTP {status}")
        try:
            envelope = json.loads(text)
        except ValueError as err:
            raise CoolkitConnectionError(f"{path}: answer is not JSON") from err
        if not isinstance(envelope, dict) or not isinstance(envelope.get("error"), int):
            raise CoolkitConnectionError(f"{path}: answer is not an envelope")
        code: int = envelope["error"]
        if code == 0:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        msg = envelope.get("msg") if isinstance(envelope.get("msg"), str) else ""
        raise _api_error(code, str(msg), path, envelope.get("data"), auth)


class _TokenExpiredError(Exception):
    """Internal: error 402, refresh and retry."""


class _RegionRedirectError(RegionError):
    """Internal: error 10004 naming the account's region."""

    def __init__(self, region: str, path: str) -> None:
        super().__init__(_REDIRECT, "redirection", path)
        self.region = region


def _api_error(code: int, msg: str, path: str, data: object, auth: Auth) -> Exception:
    if code == 402 and auth == "bearer":
        return _TokenExpiredError()
    if code == 401 and auth == "bearer":
        return SessionTakenOverError(f"access token refused on {path} (error 401)")
    if code == _REDIRECT:
        region = data.get("region") if isinstance(data, Mapping) else None
        if isinstance(region, str) and region in REGIONS:
            return _RegionRedirectError(region, path)
        return RegionError(code, "redirect to an unknown region", path)
    if code == 400 and "sign" in msg.lower():
        return InvalidAppCredentialsError(code, msg, path)
    if code in _CREDENTIAL_ERRORS:
        return InvalidCredentialsError(code, msg, path)
    if code in (407, 408):
        return AppNotPermittedError(code, msg, path)
    if code == 412:
        return RateLimitedError(code, msg, path)
    if code == 405 and path.endswith("/oauth/token"):
        return OAuthCodeError(code, msg, path)
    if code in _OFFLINE_ERRORS:
        return DeviceOfflineError(code, msg, path)
    if code == 504:
        return DeviceTimeoutError(code, msg, path)
    if code == 406:
        return CommandRejectedError(code, msg, path)
    if code == 10005:
        return RegionError(code, msg, path)
    return CoolkitApiError(code, msg, path)


def _known_region(value: object, fallback: str | None) -> str:
    if isinstance(value, str) and value in REGIONS:
        return value
    if value not in (None, "") or fallback is None:
        raise RegionError(0, f"unknown region {value!r}")
    return fallback


def _ms(value: object) -> float | None:
    return value / 1000 if isinstance(value, int | float) and value > 0 else None
