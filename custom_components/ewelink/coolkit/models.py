"""Typed views of what the cloud returns (coolkit-cloud.md §4, §5, §6).

Everything here is parsed from untrusted input: the parsers validate shapes, drop what is
invalid (one debug line) and never raise anything but `ValueError` (tokens, users) or return
None (things). `sanitize_params` bounds device params so nothing downstream (state, storage,
diagnostics JSON) can fail on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import logging
import math
import time
from typing import Any, Final, TypeGuard

from .const import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME

_LOGGER = logging.getLogger(__name__)

# Bounds on what one params object (or tags object) may hold.
MAX_DEPTH: Final = 12
"""Containers nested below the params object itself."""
MAX_NODES: Final = 10_000
"""Values (scalars and containers) in one params object."""
MAX_STRING: Final = 16_384
"""Characters in one string value."""
MAX_KEY: Final = 256
"""Characters in one key."""
MAX_OUTLETS: Final = 64
"""Channel arrays hold outlets 0 .. MAX_OUTLETS - 1."""
# Arrays whose items are keyed by `outlet`; pushes may carry only the changed channels (§13.6).
CHANNEL_ARRAYS: Final = frozenset({"switches", "configure", "pulses"})
MAX_TOKEN: Final = 4096
MAX_ID: Final = 128
MAX_TEXT: Final = 512
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# The cloud's expiry times (epoch seconds) are believed between these bounds.
_MIN_EPOCH: Final = 1_000_000_000.0  # 2001
_MAX_LIFETIME: Final = 10 * 365 * 86400.0


def valid_token(value: object, max_length: int = MAX_TOKEN) -> str:
    """Return `value` if it can be a token, apikey or id; raise ValueError otherwise.

    Tokens are opaque (§3.4), but they travel in HTTP headers and websocket frames and are
    stored in the config entry: only printable ASCII without spaces is accepted.
    """
    if (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and value.isascii()
        and value.isprintable()
        and " " not in value
    ):
        return value
    raise ValueError("malformed token or id")


def is_valid_id(value: object) -> TypeGuard[str]:
    """Return True for a usable id (deviceid, home id, apikey...)."""
    try:
        valid_token(value, MAX_ID)
    except ValueError:
        return False
    return True


def clean_text(value: object, max_length: int = MAX_TEXT) -> str | None:
    """Return a displayable string: no control characters or lone surrogates, bounded length.

    Anything that is not a string is None.
    """
    if not isinstance(value, str):
        return None
    if not (value.isascii() and value.isprintable()):
        value = "".join(ch for ch in value if ch.isprintable() and not "\ud800" <= ch <= "\udfff")
    return value[:max_length]


def _text_ok(value: str) -> bool:
    if len(value) > MAX_STRING or "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


class _Dropped:
    """Marker for a value the sanitiser drops."""


_DROP: Final = _Dropped()
_TOO_BIG: Final = _Dropped()
"""Too deep or past the node budget: the whole top-level value is dropped, not a stub of it."""


class SanitizedParams(dict[str, Any]):
    """A params object that `sanitize_params` produced (merging it again skips the work)."""

    __slots__ = ()


def sanitize_params(value: object) -> SanitizedParams | None:
    """Return a bounded copy of a params object, or None when it is not an object.

    `params` may also be an array of objects, merged in order (§13.16). Keys must be strings;
    strings must be valid UTF-8 without NUL and at most `MAX_STRING` long; integers must fit in
    64 bits and floats be finite; containers deeper than `MAX_DEPTH` and values past
    `MAX_NODES` are dropped. Channel arrays (`switches`, ...) keep only objects with a valid
    `outlet`. What is dropped is reported in one debug line.
    """
    if isinstance(value, list):
        if not all(isinstance(item, Mapping) for item in value):
            return None
        merged: dict[Any, Any] = {}
        for item in value:
            merged.update(item)
        value = merged
    if not isinstance(value, Mapping):
        return None
    budget = [MAX_NODES]
    dropped = [0]
    out = SanitizedParams()
    for key, item in value.items():
        if not _key_ok(key):
            dropped[0] += 1
            continue
        if budget[0] > 0 and _plain(item) and key not in CHANNEL_ARRAYS:
            budget[0] -= 1
            out[key] = item
            continue
        if key in CHANNEL_ARRAYS and (items := _plain_channel_items(item)) is not None:
            budget[0] -= len(items)
            out[key] = items
            continue
        clean = _clean_value(item, 1, budget, dropped)
        if clean is _DROP or clean is _TOO_BIG:
            dropped[0] += 1
            continue
        if key in CHANNEL_ARRAYS:
            clean = _channel_items(clean, dropped)
            if clean is None:
                dropped[0] += 1
                continue
        out[key] = clean
    if dropped[0]:
        _LOGGER.debug("Dropped %d invalid or oversized value(s) from device params", dropped[0])
    return out


def _key_ok(key: object) -> bool:
    if type(key) is str and len(key) <= 64 and key.isascii() and "\x00" not in key:
        return True  # fast path: the usual short ASCII key
    return isinstance(key, str) and len(key) <= MAX_KEY and _text_ok(key)


def _plain(value: object) -> bool:
    """Return True for the usual values that need no further look: short ASCII text, bools,
    None and ints in 32 bits (the fast path of the hot push path)."""
    kind = type(value)
    if kind is str and isinstance(value, str):
        return len(value) <= 256 and value.isascii() and "\x00" not in value
    if kind is int and isinstance(value, int):
        return -(2**31) <= value < 2**31
    return kind is bool or value is None


_ON_OFF: Final = ("on", "off")


def _plain_channel_items(value: object) -> list[dict[str, Any]] | None:
    """Return a channel array as it usually comes (objects of plain values, each with a valid
    `outlet`), or None when it needs the full look (the fast path of multi-channel pushes).

    The array is a fresh object of the decoded frame, so it is kept as it is, not copied.
    """
    if type(value) is not list or len(value) > MAX_OUTLETS:
        return None
    for item in value:
        if type(item) is not dict or len(item) > 16:
            return None
        outlet = item.get("outlet")
        if type(outlet) is not int or not 0 <= outlet < MAX_OUTLETS:
            return None
        if len(item) == 2 and item.get("switch") in _ON_OFF:
            continue  # the usual `{"outlet": n, "switch": "on"}`
        for key, field_value in item.items():
            if type(key) is not str or len(key) > 64 or not key.isascii() or "\x00" in key:
                return None
            kind = type(field_value)
            if kind is str:
                if len(field_value) > 256 or not field_value.isascii() or "\x00" in field_value:
                    return None
            elif kind is int:
                if not -(2**31) <= field_value < 2**31:
                    return None
            elif kind is not bool and field_value is not None:
                return None
    return value


def _clean_value(value: object, depth: int, budget: list[int], dropped: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        return _TOO_BIG
    kind = type(value)
    if kind is str:
        return value if _text_ok(value) else _DROP  # type: ignore[arg-type]
    if kind is bool or value is None:
        return value
    if kind is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else _DROP  # type: ignore[operator]
    if kind is float:
        return value if math.isfinite(value) else _DROP  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        if depth > MAX_DEPTH:
            return _TOO_BIG
        out: dict[str, Any] = {}
        for key, item in value.items():
            if budget[0] > 0 and _plain(item) and _key_ok(key):
                budget[0] -= 1
                out[key] = item
                continue
            clean = _clean_value(item, depth + 1, budget, dropped) if _key_ok(key) else _DROP
            if clean is _TOO_BIG:
                return _TOO_BIG
            if clean is _DROP:
                dropped[0] += 1
            else:
                out[key] = clean
        return out
    if isinstance(value, list | tuple):
        if depth > MAX_DEPTH:
            return _TOO_BIG
        items: list[Any] = []
        for item in value:
            clean = _clean_value(item, depth + 1, budget, dropped)
            if clean is _TOO_BIG:
                return _TOO_BIG
            if clean is _DROP:
                dropped[0] += 1
            else:
                items.append(clean)
        return items
    if isinstance(value, str):  # a str subclass
        return _clean_value(str(value), depth, budget, dropped)
    return _DROP


@dataclass(frozen=True, slots=True)
class Tokens:
    """An access/refresh token pair with expiry times (epoch seconds)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: float
    refresh_expires_at: float
    issued_at: float

    @classmethod
    def issued_now(
        cls,
        access_token: str,
        refresh_token: str,
        *,
        access_expires_at: float | None = None,
        refresh_expires_at: float | None = None,
        access_lifetime: float = ACCESS_TOKEN_LIFETIME,
        refresh_lifetime: float = REFRESH_TOKEN_LIFETIME,
        now: float | None = None,
    ) -> Tokens:
        """Build tokens received now; missing expiry times come from the documented lifetimes."""
        now = time.time() if now is None else now
        return cls(
            access_token,
            refresh_token,
            access_expires_at if access_expires_at is not None else now + access_lifetime,
            refresh_expires_at if refresh_expires_at is not None else now + refresh_lifetime,
            now,
        )

    @classmethod
    def from_cloud(
        cls,
        access_token: object,
        refresh_token: object,
        *,
        access_expires_ms: object = None,
        refresh_expires_ms: object = None,
        access_lifetime: float = ACCESS_TOKEN_LIFETIME,
        refresh_lifetime: float = REFRESH_TOKEN_LIFETIME,
    ) -> Tokens:
        """Build tokens from a login, refresh or OAuth answer; raise ValueError when malformed.

        Expiry times (epoch milliseconds, OAuth only) that are not plausible are ignored in
        favour of the documented lifetimes.
        """
        now = time.time()
        return cls.issued_now(
            valid_token(access_token),
            valid_token(refresh_token),
            access_expires_at=_expiry(access_expires_ms, now),
            refresh_expires_at=_expiry(refresh_expires_ms, now),
            access_lifetime=access_lifetime,
            refresh_lifetime=refresh_lifetime,
            now=now,
        )

    def refresh_at(self, margin: float = 0.0) -> float:
        """Return when (epoch seconds) to refresh: at half life, or `margin` before expiry."""
        half_life = self.issued_at + (self.access_expires_at - self.issued_at) / 2
        return min(half_life, self.access_expires_at - margin)

    def refresh_due(self, now: float | None = None, margin: float = 0.0) -> bool:
        """Return True once half of the access token's life has passed (refresh proactively),
        or when it expires within `margin` seconds."""
        now = time.time() if now is None else now
        return now >= self.refresh_at(margin)

    def refresh_expired(self, now: float | None = None) -> bool:
        """Return True when the refresh token has expired."""
        return (time.time() if now is None else now) >= self.refresh_expires_at

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form (for the config entry)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "issued_at": self.issued_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tokens:
        """Rebuild tokens stored with `as_dict`; raise ValueError when they are unusable.

        (An entry written by an older version may hold a null, a number or a dict.)
        """
        try:
            times = [
                float(data[key]) for key in ("access_expires_at", "refresh_expires_at", "issued_at")
            ]
        except (KeyError, TypeError) as err:
            raise ValueError("malformed stored tokens") from err
        if not all(math.isfinite(value) for value in times):
            raise ValueError("malformed stored tokens")
        return cls(
            valid_token(data.get("access_token")),
            valid_token(data.get("refresh_token")),
            *times,
        )


@dataclass(frozen=True, slots=True)
class UserInfo:
    """The signed-in account."""

    apikey: str = field(repr=False)
    email: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    nickname: str | None = None
    country_code: str | None = None

    @classmethod
    def from_api(cls, user: object) -> UserInfo:
        """Parse `data.user` of login/profile; raise ValueError when it is unusable."""
        if not isinstance(user, Mapping):
            raise ValueError("user is not an object")  # noqa: TRY004 - one error type for callers
        return cls(
            apikey=valid_token(user.get("apikey"), MAX_ID),
            email=_str_or_none(user.get("email")),
            phone=_str_or_none(user.get("phoneNumber")),
            nickname=_str_or_none(user.get("nickname")),
            country_code=_str_or_none(user.get("countryCode")),
        )

    @property
    def account(self) -> str:
        """Return the e-mail address or phone number the user signs in with."""
        return self.email or self.phone or self.nickname or "eWeLink"


@dataclass(frozen=True, slots=True)
class Family:
    """A home with its rooms."""

    id: str
    name: str
    rooms: Mapping[str, str]  # room id -> name
    index: int = 0
    apikey: str | None = field(default=None, repr=False)  # the user's apikey (§4.2 fallback)

    @classmethod
    def from_api(cls, item: object) -> Family | None:
        """Parse one `familyList` item; None when it is unusable (invalid rooms are skipped)."""
        if not isinstance(item, Mapping) or not is_valid_id(family_id := item.get("id")):
            return None
        room_list = item.get("roomList")
        rooms = {
            room["id"]: clean_text(room.get("name")) or ""
            for room in (room_list if isinstance(room_list, list) else ())
            if isinstance(room, Mapping) and is_valid_id(room.get("id"))
        }
        apikey = item.get("apikey")
        return cls(
            id=family_id,
            name=clean_text(item.get("name")) or "",
            rooms=rooms,
            index=_int64_or(item.get("index"), 0),
            apikey=apikey if is_valid_id(apikey) else None,
        )


ITEM_OWN_DEVICE = 1
ITEM_SHARED_DEVICE = 2


@dataclass(slots=True)
class Thing:
    """One device of the account (own or shared), as the thing list describes it."""

    deviceid: str
    name: str
    owner_apikey: str = field(repr=False)
    uiid: int | None
    online: bool
    params: dict[str, Any]
    shared: bool = False
    brand: str | None = None
    model: str | None = None
    firmware_model: str | None = None
    mac: str | None = field(default=None, repr=False)
    tags: dict[str, Any] = field(default_factory=dict)
    family_id: str | None = None
    room_id: str | None = None
    index: int = 0
    devicekey: str | None = field(default=None, repr=False)
    """The key of the device's local (LAN) encryption (`itemData.devicekey`): a secret."""

    @property
    def parent_id(self) -> str | None:
        """Return the bridge of a zigbee child (`params.parentid`)."""
        parent = self.params.get("parentid")
        return parent if is_valid_id(parent) else None

    @classmethod
    def from_api(cls, entry: object) -> Thing | None:
        """Parse one thing-list entry; return None for groups and unusable items."""
        if not isinstance(entry, Mapping):
            return None
        item_type = entry.get("itemType")
        data = entry.get("itemData")
        if (
            type(item_type) is not int
            or item_type not in (ITEM_OWN_DEVICE, ITEM_SHARED_DEVICE)
            or not isinstance(data, Mapping)
        ):
            return None
        deviceid = data.get("deviceid")
        apikey = data.get("apikey")
        if not is_valid_id(deviceid) or not is_valid_id(apikey):
            _LOGGER.debug("Skipping a thing without a valid deviceid or apikey")
            return None
        extra = _mapping(data.get("extra"))
        params: Mapping[str, Any] = sanitize_params(data.get("params")) or {}
        family = _mapping(data.get("family"))
        tags: Mapping[str, Any] = sanitize_params(data.get("tags")) or {}
        mac = params.get("staMac") or extra.get("staMac") or extra.get("mac")
        return cls(
            deviceid=deviceid,
            name=clean_text(data.get("name"), 256) or deviceid,
            owner_apikey=apikey,
            uiid=_uiid(extra.get("uiid")),
            online=data.get("online") is True,
            params=dict(params),
            shared=item_type == ITEM_SHARED_DEVICE,
            brand=_str_or_none(data.get("brandName")),
            model=_str_or_none(data.get("productModel")),
            firmware_model=_str_or_none(extra.get("model")),
            mac=_str_or_none(mac),
            tags=dict(tags),
            family_id=_id_or_none(family.get("familyid")),
            room_id=_id_or_none(family.get("roomid")),
            index=_int64_or(entry.get("index"), 0),
            devicekey=_devicekey(data.get("devicekey")),
        )


def _devicekey(value: object) -> str | None:
    """Return a usable devicekey (printable ASCII, like the UUID the cloud sends), else None."""
    return value if is_valid_id(value) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str_or_none(value: object) -> str | None:
    return clean_text(value) or None


def _id_or_none(value: object) -> str | None:
    return value if is_valid_id(value) else None


def _int64_or(value: object, default: int) -> int:
    if type(value) is int and _INT64_MIN <= value <= _INT64_MAX:
        return value
    return default


def _uiid(value: object) -> int | None:
    """Return a UIID from an int or a short decimal string."""
    if isinstance(value, str) and 0 < len(value) <= 6 and value.isdecimal() and value.isascii():
        value = int(value)
    if type(value) is int and 0 <= value <= 1_000_000:
        return value
    return None


def _expiry(value: object, now: float) -> float | None:
    """Return an expiry time in epoch seconds from epoch milliseconds, if it is plausible."""
    if type(value) not in (int, float):
        return None
    try:
        seconds = value / 1000  # type: ignore[operator]
    except OverflowError:  # an integer too large for a float
        return None
    if not math.isfinite(seconds) or seconds <= max(now, _MIN_EPOCH):
        return None
    return min(seconds, now + _MAX_LIFETIME)


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """A pushed state change (`action: update`): `params` are partial and must be merged."""

    deviceid: str
    params: dict[str, Any]
    # Any push but one carrying only `subDevRssi` means the device is online (§12.6, §13.1).
    implies_online: bool


@dataclass(frozen=True, slots=True)
class DeviceOnline:
    """A device went online or offline (`action: sysmsg`)."""

    deviceid: str
    online: bool


type DeviceEvent = DeviceUpdate | DeviceOnline


def _valid_outlet(outlet: object) -> TypeGuard[int]:
    return isinstance(outlet, int) and type(outlet) is int and 0 <= outlet < MAX_OUTLETS


def _channel_items(value: object, dropped: list[int]) -> list[dict[str, Any]] | None:
    """Return the items of a channel array that carry a valid outlet (None: not an array)."""
    if not isinstance(value, list):
        return None
    items = [item for item in value if isinstance(item, dict) and _valid_outlet(item.get("outlet"))]
    dropped[0] += len(value) - len(items)
    return items


def merge_params(state: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Merge pushed params into a device's state in place; channel arrays merge by `outlet`.

    Any input is survived: `update` is sanitised first (see `sanitize_params`), channel items
    without a valid `outlet` are dropped, and invalid items already in `state` are removed when
    their array is merged, so one bad push can never make later merges fail.
    """
    clean = update if type(update) is SanitizedParams else sanitize_params(update)
    if not clean:
        return
    for key, value in clean.items():
        if key in CHANNEL_ARRAYS:
            current = state.get(key)
            by_outlet: dict[int, dict[str, Any]] = {}
            if isinstance(current, list):
                for item in current:
                    if isinstance(item, dict) and _valid_outlet(outlet := item.get("outlet")):
                        by_outlet[outlet] = item
            for item in value:
                outlet = item["outlet"]
                previous = by_outlet.get(outlet)
                by_outlet[outlet] = {**previous, **item} if previous else dict(item)
            state[key] = [by_outlet[outlet] for outlet in sorted(by_outlet)]
        else:
            state[key] = value
