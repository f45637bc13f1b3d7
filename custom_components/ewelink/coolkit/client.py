"""REST client for the CoolKit API v2 (coolkit-cloud.md §2-§9).

The client signs requests, follows the account's region, keeps the tokens fresh and paces
every call through a shared `RateLimiter`. It takes an injected `aiohttp.ClientSession` and
knows nothing of Home Assistant.

Token lifecycle (§4.3, §4.6), shared with the long connection:
- Tokens are refreshed proactively at half their life (or shortly before expiry).
- A refused access token (REST 401/402, websocket 401/402/406 at the handshake) is refreshed
  first, once per call or connection attempt: expiry and clock skew explain most refusals.
- Only a refusal right after that refresh, or a websocket kicked with 406, is a takeover
  (another sign-in with the same app ID). The first takeover within 10 minutes renews the
  tokens at once; a later one puts the session on hold for a growing, jittered time, after
  which the next call renews the tokens again (taking the session back).
- A refused refresh token ends the session: every later call raises `ReauthRequiredError`
  until a new sign-in.

Every answer is untrusted: malformed bodies, odd shapes and invalid items end in
`CoolkitConnectionError` (whole answers) or are skipped with one debug line (list items).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
import itertools
import json
import logging
import random
import time
from typing import Any, Literal, TypeGuard
from urllib.parse import urlencode

import aiohttp

from .const import CLOUD, DEFAULT_REGION, REGIONS, Servers, region_for_country_code
from .errors import (
    AppNotPermittedError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitConnectionError,
    CoolkitServerError,
    CoolkitTimeoutError,
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
from .models import Family, Thing, Tokens, UserInfo, clean_text, is_valid_id, sanitize_params
from .ratelimit import RateLimiter
from .signing import device_digest, nonce, query_message, sign

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 15.0
MAX_BODY = 64 * 1024 * 1024
THING_PAGE_SIZE = 30
ONE_CALL_REFUSALS = 2
"""One-call reads of a home refused in a row (while pages worked) before reading it in pages:
one refusal can be a passing server error."""
THING_IDS_PER_CALL = 10
MAX_THING_PAGES = 400
FIRST_BEGIN_INDEX = -9999999
THING_PATH = "/v2/device/thing"
REFRESH_MARGIN = 60.0
"""Refresh when the access token expires within this many seconds (at most a quarter of its life)."""
TAKEOVER_WINDOW = 600.0
TAKEOVER_HOLD_BASE = 60.0
TAKEOVER_HOLD_MAX = 1800.0

type ThingReadMode = Literal["unknown", "one_call", "pages"]


@dataclass(slots=True)
class _Pages:
    """A paged read of one home in progress."""

    family_id: str
    entries: list[Any] = field(default_factory=list)
    begin: int = FIRST_BEGIN_INDEX
    count: int = 0
    done: bool = False


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
        request_timeout: float = REQUEST_TIMEOUT,
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
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._lifetimes: dict[str, float] = {}
        if access_lifetime is not None:
            self._lifetimes["access_lifetime"] = access_lifetime
        if refresh_lifetime is not None:
            self._lifetimes["refresh_lifetime"] = refresh_lifetime
        self._refresh_lock = asyncio.Lock()
        # Takeover handling (see the module docstring).
        self.takeover_hold_base = TAKEOVER_HOLD_BASE
        self._rng = random.Random()
        self._takeback_at: float | None = None  # last time the session was renewed after a takeover
        self._strikes = 0
        self._hold_until = 0.0
        self._revoked = False  # the cloud refused the current access token (takeover)
        self._dead = False  # the refresh token was refused: only a new sign-in helps
        # Thing-list strategy: one call per home (num=0) until refused twice in a row.
        self._one_call: bool | None = None
        self._hidden: dict[str, int] = {}  # home -> things `total` counts but no read returns
        self._refusals: dict[str, int] = {}  # home -> one-call reads refused in a row

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
            user = UserInfo.from_api(data.get("user"))
            tokens = Tokens.from_cloud(data.get("at"), data.get("rt"), **self._lifetimes)
        except ValueError as err:
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
                tokens = Tokens.from_cloud(
                    data.get("accessToken"),
                    data.get("refreshToken"),
                    access_expires_ms=data.get("atExpiredTime"),
                    refresh_expires_ms=data.get("rtExpiredTime"),
                    **self._lifetimes,
                )
            except ValueError as err:
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
        if self._dead:
            raise ReauthRequiredError("the refresh token was refused")
        if self.tokens.refresh_expired():
            self._dead = True
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
            self._dead = True
            raise ReauthRequiredError(f"refresh refused with error {err.code}") from err
        try:
            tokens = Tokens.from_cloud(data.get("at"), data.get("rt"), **self._lifetimes)
        except ValueError as err:
            raise CoolkitConnectionError("unexpected refresh response") from err
        _LOGGER.debug("Tokens refreshed")
        self._set_tokens(tokens)
        return tokens

    def _set_tokens(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self._revoked = False
        self._dead = False
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
            user = UserInfo.from_api(data.get("user"))
        except ValueError as err:
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
        """Return the account's homes (malformed items are skipped)."""
        data = await self._request("GET", "/v2/family", auth="bearer", query={"lang": "en"})
        items = data.get("familyList")
        if items is None:
            return []
        if not isinstance(items, list):
            raise CoolkitConnectionError("/v2/family: malformed home list")
        families = [family for item in items if (family := Family.from_api(item)) is not None]
        if len(families) < len(items):
            _LOGGER.debug("Skipped %d malformed home(s)", len(items) - len(families))
            if not families:
                raise CoolkitConnectionError("/v2/family: every home is malformed")
        return families

    @property
    def thing_read_mode(self) -> ThingReadMode:
        """Return how thing lists are read: one call per home, pages of 30, or not known yet."""
        if self._one_call is None:
            return "unknown"
        return "one_call" if self._one_call else "pages"

    async def get_things(self, family_ids: Iterable[str] | None = None) -> list[Thing]:
        """Return every device of the given homes (all homes when None), own and shared.

        Each home is read in one call (`num=0`) while that works; on a server error or a timeout
        the home is read in pages of 30 instead (§6.1), and after two such refusals in a row
        (one can be a passing error) this client pages from then on; a list shorter than its
        `total` that pages complete switches to pages at once. Groups and malformed items are
        skipped, and a device listed in two homes is returned once.
        """
        if family_ids is None:
            family_ids = [family.id for family in await self.get_families()]
        things: dict[str, Thing] = {}
        for family_id in family_ids:
            for thing in await self._read_home(family_id):
                things.setdefault(thing.deviceid, thing)
        return list(things.values())

    async def _read_home(self, family_id: str) -> list[Thing]:
        if self._one_call is not False:
            known_good = self._one_call is True
            entries = await self._read_home_at_once(family_id)
            if entries is not None:
                self._refusals.pop(family_id, None)
                return _things_of(entries, family_id)
            pages = _Pages(family_id)
            await self._read_page(pages)  # an outage of the endpoint raises here
            if known_good:
                # The server answers again: a one-call read that worked before failed because
                # of a passing error (an outage that just ended) or because the home grew too
                # large. Asking once more tells them apart for one call instead of all pages.
                entries = await self._read_home_at_once(family_id)
                if entries is not None:
                    self._refusals.pop(family_id, None)
                    return _things_of(entries, family_id)
            paged = await self._read_home_in_pages(family_id, pages)
            refusals = self._refusals[family_id] = self._refusals.get(family_id, 0) + 1
            if refusals >= ONE_CALL_REFUSALS:
                self._one_call = False
            return _things_of(paged, family_id)
        return _things_of(await self._read_home_in_pages(family_id), family_id)

    async def _read_home_at_once(self, family_id: str) -> list[Any] | None:
        """Read a home with `num=0`; None when it must be paged instead."""
        query: dict[str, str | int] = {"lang": "en", "familyid": family_id, "num": 0}
        try:
            data = await self._request("GET", THING_PATH, auth="bearer", query=query)
        except (CoolkitServerError, CoolkitTimeoutError) as err:
            _LOGGER.debug("Reading a whole home in one call failed (%s); paging", err)
            return None
        except CoolkitApiError as err:
            if type(err) is not CoolkitApiError or err.code != 500:
                raise
            _LOGGER.debug("Reading a whole home in one call failed (error 500); paging")
            return None
        entries = _entries(data)
        total = _count(data.get("total"))
        gap = 0 if total is None else total - len(entries)
        if gap <= self._hidden.get(family_id, 0):
            self._one_call = True
            return entries
        # Short: either the server cut the list, or the brand filter hides things (§6.1).
        paged = await self._read_home_in_pages(family_id)
        if len(paged) > len(entries):
            _LOGGER.debug("One-call read returned %d of %d things; paging", len(entries), total)
            self._one_call = False
            return paged
        self._hidden[family_id] = gap
        self._one_call = True
        return entries

    async def _read_home_in_pages(self, family_id: str, pages: _Pages | None = None) -> list[Any]:
        """Read a home in pages of 30 sorted by `index`; `beginIndex` is the last index seen.

        `pages` continues a read whose first pages were already fetched.
        """
        pages = pages or _Pages(family_id)
        while not pages.done and pages.count < MAX_THING_PAGES:
            await self._read_page(pages)
        return pages.entries

    async def _read_page(self, pages: _Pages) -> None:
        """Fetch the next page of a paged read."""
        query: dict[str, str | int] = {
            "lang": "en",
            "familyid": pages.family_id,
            "num": THING_PAGE_SIZE,
            "beginIndex": pages.begin,
        }
        data = await self._request("GET", THING_PATH, auth="bearer", query=query)
        pages.count += 1
        page = _entries(data)
        if not page:
            pages.done = True
            return
        pages.entries.extend(page)
        total = _count(data.get("total"))
        last = max(
            (e["index"] for e in page if isinstance(e, Mapping) and type(e.get("index")) is int),
            default=None,
        )
        if (
            last is None
            or last <= pages.begin
            or (total is not None and len(pages.entries) >= total)
            or (total is None and len(page) < THING_PAGE_SIZE)
        ):
            pages.done = True
        else:
            pages.begin = last

    async def get_things_by_ids(
        self, ids: Iterable[str], *, shared: Collection[str] = ()
    ) -> list[Thing]:
        """Return the current items of specific devices (`POST /v2/device/thing`, §6.5).

        Up to 10 devices per call; devices in `shared` are asked for as shared items
        (itemType 2). Unknown or malformed items are left out.
        """
        wanted = [i for i in dict.fromkeys(ids) if is_valid_id(i)]
        things: dict[str, Thing] = {}
        for chunk in itertools.batched(wanted, THING_IDS_PER_CALL, strict=False):
            body = {"thingList": [{"itemType": 2 if i in shared else 1, "id": i} for i in chunk]}
            data = await self._request("POST", THING_PATH, auth="bearer", body=body)
            for thing in _things_of(_entries(data), None):
                things.setdefault(thing.deviceid, thing)
        return list(things.values())

    async def get_thing_status(
        self, deviceid: str, params: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Return the stored state of a device (all params when None)."""
        query: dict[str, str | int] = {"type": 1, "id": deviceid}
        if params:
            query["params"] = "|".join(params)
        data = await self._request("GET", "/v2/device/thing/status", auth="bearer", query=query)
        return dict(sanitize_params(data.get("params")) or {})

    async def set_thing_status(self, deviceid: str, params: Mapping[str, Any]) -> None:
        """Send a command over REST (the websocket is preferred)."""
        await self._request(
            "POST",
            "/v2/device/thing/status",
            auth="bearer",
            body={"type": 1, "id": deviceid, "params": dict(params)},
        )

    async def rename_device(self, deviceid: str, name: str) -> None:
        """Rename a device of the account (`POST /v2/device/update-info`)."""
        await self._request(
            "POST",
            "/v2/device/update-info",
            auth="bearer",
            body={"deviceid": deviceid, "name": name},
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
            async with self._session.get(url, headers=headers, timeout=self._timeout) as response:
                status = response.status
                raw = await _read_body(response)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CoolkitConnectionError(f"dispatch failed: {type(err).__name__}") from err
        if status != 200:
            raise CoolkitConnectionError(f"dispatch answered HTTP {status}")
        data = _json(raw, "dispatch")
        if not isinstance(data, Mapping) or type(data.get("error")) is not int or data["error"]:
            raise CoolkitConnectionError("dispatch refused")
        host = data.get("domain") or data.get("IP")
        port = data.get("port")
        if not _valid_host(host) or type(port) is not int or not 0 < port < 65536:
            raise CoolkitConnectionError("dispatch answered without a valid host")
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
        """Send one call and return its `data`, renewing refused tokens as the module says."""
        args: dict[str, Any] = {
            "auth": auth, "region": region, "body": body, "query": query, "url": url
        }  # fmt: skip
        if auth == "sign":
            return await self._send(method, path, **args)
        await self.ensure_fresh_tokens()
        renewed = False
        for _ in range(4):
            try:
                return await self._send(method, path, **args)
            except _TokenRefusedError as refused:
                if not renewed:
                    # Expiry (402) or revocation (401): refresh first, once per call.
                    _LOGGER.debug("Access token refused (error %d); refreshing", refused.code)
                    await self.refresh()
                    renewed = True
                elif refused.code == 402:
                    raise CoolkitConnectionError(
                        f"{path}: a renewed access token was reported expired"
                    ) from None
                else:
                    # Refused right after a refresh: a takeover.
                    await self.recover_session()
        raise SessionTakenOverError(f"access token refused on {path}")

    @property
    def session_hold(self) -> float:
        """Return how many seconds a taken-over session is still left to the other client."""
        if not self._revoked:
            return 0.0
        return max(0.0, self._hold_until - time.monotonic())

    @property
    def reauth_required(self) -> bool:
        """Return True once the refresh token was refused (only a new sign-in helps)."""
        return self._dead

    async def recover_session(self) -> None:
        """React to a takeover: tokens were refused right after a refresh, or the websocket was
        kicked with 406 (usually another sign-in with the same account and app ID, §12.7).

        The first takeover within 10 minutes renews the tokens at once (`ReauthRequiredError`
        when the refresh token is refused too). A later one raises `SessionTakenOverError` and
        leaves the session to the other client for a growing, jittered hold (`retry_after`);
        after the hold, the next call renews the tokens, which takes the session back or
        finds that the refresh token is gone (§4.6).
        """
        if self._dead:
            raise ReauthRequiredError("the refresh token was refused")
        now = time.monotonic()
        self._revoked = True
        if self._takeback_at is None or now - self._takeback_at >= TAKEOVER_WINDOW:
            self._strikes = 0
        self._strikes += 1
        if self._strikes == 1:
            _LOGGER.info("eWeLink no longer accepts the session's access token; renewing it")
            self._takeback_at = now
            await self.refresh()
            return
        ceiling = min(TAKEOVER_HOLD_MAX, self.takeover_hold_base * 2 ** (self._strikes - 2))
        hold = ceiling * self._rng.uniform(0.5, 1.0)
        self._hold_until = now + hold
        _LOGGER.warning(
            "eWeLink session taken over again (same account and app ID in use elsewhere); "
            "leaving it for %.0f s",
            hold,
        )
        raise SessionTakenOverError("the session was taken over again", retry_after=hold)

    async def ensure_fresh_tokens(self, margin: float = REFRESH_MARGIN) -> bool:
        """Make sure the access token can be used now; return True when it was renewed.

        Refreshes at half the token's life or `margin` seconds (at most a quarter of its life)
        before it expires, and after a takeover hold. Raises `ReauthRequiredError` without
        tokens or after a refused refresh, and `SessionTakenOverError` during a hold.
        """
        if self.tokens is None:
            raise ReauthRequiredError("not signed in")
        if self._dead:
            raise ReauthRequiredError("the refresh token was refused")
        if self._revoked:
            if (hold := self.session_hold) > 0:
                raise SessionTakenOverError("the session is left to another client", hold)
            _LOGGER.debug("Takeover hold over; renewing the tokens")
            self._takeback_at = time.monotonic()
            await self.refresh()
            return True
        tokens = self.tokens
        life = tokens.access_expires_at - tokens.issued_at
        if tokens.refresh_due(margin=min(margin, max(life, 0.0) / 4)):
            _LOGGER.debug("Access token past half its life or about to expire; refreshing")
            await self.refresh()
            return True
        return False

    def refresh_delay(self, margin: float = REFRESH_MARGIN) -> float:
        """Return the seconds until `ensure_fresh_tokens` would refresh (0 when due)."""
        if self.tokens is None:
            return 0.0
        tokens = self.tokens
        life = tokens.access_expires_at - tokens.issued_at
        return max(0.0, tokens.refresh_at(min(margin, max(life, 0.0) / 4)) - time.time())

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
                timeout=self._timeout,
            ) as response:
                status = response.status
                raw = await _read_body(response)
        except TimeoutError as err:
            raise CoolkitTimeoutError(f"{path}: no answer in time") from err
        except aiohttp.ClientError as err:
            raise CoolkitConnectionError(f"{path}: {type(err).__name__}") from err
        if status == 403 and not raw.lstrip().startswith(b"{"):
            raise RateLimitedError(403, "quota exhausted", path, retry_after=3600.0)
        if status >= 500:
            raise CoolkitServerError(status, path)
        if status != 200:
            raise CoolkitConnectionError(f"{path}: HTTP {status}")
        envelope = _json(raw, path)
        if not isinstance(envelope, dict) or type(envelope.get("error")) is not int:
            raise CoolkitConnectionError(f"{path}: answer is not an envelope")
        code: int = envelope["error"]
        if code == 0:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        msg = clean_text(envelope.get("msg"), 120) or ""
        raise _api_error(code, msg, path, envelope.get("data"), auth)


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    """Read an answer, refusing bodies larger than `MAX_BODY`."""
    if (response.content_length or 0) > MAX_BODY:
        raise CoolkitConnectionError("answer too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            raise CoolkitConnectionError("answer too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(raw: bytes, where: str) -> Any:
    """Decode a JSON answer; anything unreadable is a `CoolkitConnectionError`."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise CoolkitConnectionError(f"{where}: answer is not JSON") from err


def _entries(data: Mapping[str, Any]) -> list[Any]:
    """Return the `thingList` of an answer; anything but a list is a malformed answer."""
    entries = data.get("thingList")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise CoolkitConnectionError(f"{THING_PATH}: malformed thing list")
    return entries


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and type(value) is int and value >= 0 else None


def _things_of(entries: list[Any], family_id: str | None) -> list[Thing]:
    """Parse thing-list entries: groups are skipped, malformed items too (one debug line)."""
    things: list[Thing] = []
    bad = 0
    for entry in entries:
        try:
            thing = Thing.from_api(entry)
        except Exception:  # last resort: one bad item must not hide the others
            _LOGGER.debug("Unexpected error parsing a thing", exc_info=True)
            thing = None
        if thing is not None:
            things.append(thing)
        elif not (isinstance(entry, Mapping) and entry.get("itemType") == 3):
            bad += 1
    if bad:
        _LOGGER.debug("Skipped %d malformed thing(s)", bad)
        if not things and family_id is not None:
            # Never let a garbage answer look like an empty home (devices would be removed).
            raise CoolkitConnectionError(f"{THING_PATH}: every thing is malformed")
    return things


def _valid_host(host: object) -> TypeGuard[str]:
    return (
        isinstance(host, str)
        and 0 < len(host) <= 253
        and host.isascii()
        and all(ch.isalnum() or ch in ".-_:[]" for ch in host)
    )


class _TokenRefusedError(Exception):
    """Internal: error 401 (revoked) or 402 (expired) on a Bearer call."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _RegionRedirectError(RegionError):
    """Internal: error 10004 naming the account's region."""

    def __init__(self, region: str, path: str) -> None:
        super().__init__(_REDIRECT, "redirection", path)
        self.region = region


def _api_error(code: int, msg: str, path: str, data: object, auth: Auth) -> Exception:
    if code in (401, 402) and auth == "bearer":
        return _TokenRefusedError(code)
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
    if isinstance(value, str) and value:
        raise RegionError(0, f"unknown region {clean_text(value, 16)!r}")
    if fallback is None:
        raise RegionError(0, "region unknown")
    return fallback
