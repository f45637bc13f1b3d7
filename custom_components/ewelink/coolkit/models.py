"""Typed views of what the cloud returns (coolkit-cloud.md §4, §5, §6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import logging
import time
from typing import Any

from .const import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME

_LOGGER = logging.getLogger(__name__)


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

    def refresh_due(self, now: float | None = None) -> bool:
        """Return True once half of the access token's life has passed (refresh proactively)."""
        now = time.time() if now is None else now
        return now >= self.issued_at + (self.access_expires_at - self.issued_at) / 2

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
        """Rebuild tokens stored with `as_dict`."""
        return cls(
            str(data["access_token"]),
            str(data["refresh_token"]),
            float(data["access_expires_at"]),
            float(data["refresh_expires_at"]),
            float(data["issued_at"]),
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
    def from_api(cls, user: Mapping[str, Any]) -> UserInfo:
        """Parse `data.user` of login/profile."""
        apikey = user.get("apikey")
        if not isinstance(apikey, str) or not apikey:
            raise ValueError("user without apikey")
        return cls(
            apikey=apikey,
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
    def from_api(cls, item: Mapping[str, Any]) -> Family:
        """Parse one `familyList` item."""
        rooms = {
            str(room["id"]): str(room.get("name", ""))
            for room in item.get("roomList") or ()
            if isinstance(room, Mapping) and "id" in room
        }
        index = item.get("index")
        return cls(
            id=str(item["id"]),
            name=str(item.get("name") or ""),
            rooms=rooms,
            index=index if isinstance(index, int) else 0,
            apikey=_str_or_none(item.get("apikey")),
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

    @property
    def parent_id(self) -> str | None:
        """Return the bridge of a zigbee child (`params.parentid`)."""
        parent = self.params.get("parentid")
        return parent if isinstance(parent, str) and parent else None

    @classmethod
    def from_api(cls, entry: Mapping[str, Any]) -> Thing | None:
        """Parse one thing-list entry; return None for groups and unusable items."""
        item_type = entry.get("itemType")
        data = entry.get("itemData")
        if item_type not in (ITEM_OWN_DEVICE, ITEM_SHARED_DEVICE) or not isinstance(data, Mapping):
            return None
        deviceid = data.get("deviceid")
        apikey = data.get("apikey")
        if not isinstance(deviceid, str) or not deviceid or not isinstance(apikey, str):
            _LOGGER.debug("Skipping a thing without deviceid or apikey")
            return None
        extra = _mapping(data.get("extra"))
        params = _mapping(data.get("params"))
        family = _mapping(data.get("family"))
        tags = _mapping(data.get("tags"))
        uiid = extra.get("uiid")
        index = entry.get("index")
        mac = params.get("staMac") or extra.get("staMac") or extra.get("mac")
        return cls(
            deviceid=deviceid,
            name=str(data.get("name") or deviceid),
            owner_apikey=apikey,
            uiid=uiid
            if isinstance(uiid, int) and not isinstance(uiid, bool)
            else _int_or_none(uiid),
            online=data.get("online") is True,
            params=dict(params),
            shared=item_type == ITEM_SHARED_DEVICE,
            brand=_str_or_none(data.get("brandName")),
            model=_str_or_none(data.get("productModel")),
            firmware_model=_str_or_none(extra.get("model")),
            mac=_str_or_none(mac),
            tags=dict(tags),
            family_id=_str_or_none(family.get("familyid")),
            room_id=_str_or_none(family.get("roomid")),
            index=index if isinstance(index, int) else 0,
        )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


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


# Arrays whose items are keyed by `outlet`; pushes may carry only the changed channels (§13.6).
_CHANNEL_ARRAYS = frozenset({"switches", "configure", "pulses"})


def merge_params(state: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Merge pushed params into a device's state in place; channel arrays merge by `outlet`."""
    for key, value in update.items():
        current = state.get(key)
        if key in _CHANNEL_ARRAYS and isinstance(value, list) and isinstance(current, list):
            by_outlet = {item.get("outlet"): item for item in current if isinstance(item, Mapping)}
            for item in value:
                if isinstance(item, Mapping) and "outlet" in item:
                    previous = by_outlet.get(item["outlet"])
                    by_outlet[item["outlet"]] = {**previous, **item} if previous else dict(item)
            state[key] = sorted(
                by_outlet.values(), key=lambda item: _outlet_sort_key(item.get("outlet"))
            )
        else:
            state[key] = value


def _outlet_sort_key(outlet: object) -> int:
    return outlet if isinstance(outlet, int) else 1 << 30
