"""The cloud's data: app IDs, accounts, homes, sessions, the factory database, bound devices.

Everything here is plain data plus lookups; the HTTP and websocket layers decide behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import secrets
import string
import time
from typing import Any
import uuid

_ALNUM = string.ascii_letters + string.digits


def new_object_id() -> str:
    """Return a 24-hex id like the cloud's home, room and group ids."""
    return secrets.token_hex(12)


def new_token() -> str:
    """Return an opaque 40-hex token (the old docs show this format; clients must not rely on it)."""
    return secrets.token_hex(20)


def random_alnum(length: int) -> str:
    """Return a random [A-Za-z0-9] string."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def now_ms() -> int:
    """Return the wall clock in epoch milliseconds."""
    return int(time.time() * 1000)


@dataclass(slots=True, eq=False)
class App:
    """An app ID registered with the cloud."""

    appid: str
    secret: str
    password_login: bool = True
    redirect_urls: list[str] = field(default_factory=list)
    allowed_brands: set[str] | None = None
    """Brands this app may add and see; None means every brand."""
    monthly_quota: int | None = None
    quota_mode: str = "http403"
    expired: bool = False
    calls: dict[str, int] = field(default_factory=dict)
    """Calls counted against the monthly quota, per region."""

    def brand_allowed(self, brand: str) -> bool:
        """Return True when this app may add (and see) devices of `brand`."""
        if self.allowed_brands is None:
            return True
        return brand.casefold() in {b.casefold() for b in self.allowed_brands}


@dataclass(slots=True, eq=False)
class Room:
    """A room of a home."""

    id: str
    name: str
    index: int


@dataclass(slots=True, eq=False)
class Home:
    """A home ("family") of an account."""

    id: str
    name: str
    index: int
    owner_apikey: str
    rooms_by_name: dict[str, Room] = field(default_factory=dict)
    next_low: int = 0
    next_high: int = 1

    @property
    def rooms(self) -> dict[str, str]:
        """Return room name -> room id."""
        return {name: room.id for name, room in self.rooms_by_name.items()}

    def add_room(self, name: str) -> Room:
        """Add a room (or return the existing one of that name)."""
        if name in self.rooms_by_name:
            return self.rooms_by_name[name]
        room = Room(new_object_id(), name, len(self.rooms_by_name))
        self.rooms_by_name[name] = room
        return room

    def room_id(self, name_or_id: str | None) -> str:
        """Resolve a room name or id to an id ("" = no room)."""
        if not name_or_id:
            return ""
        if name_or_id in self.rooms_by_name:
            return self.rooms_by_name[name_or_id].id
        if any(r.id == name_or_id for r in self.rooms_by_name.values()):
            return name_or_id
        raise KeyError(f"unknown room {name_or_id!r} in home {self.name!r}")

    def take_index(self, sort: int = 2) -> int:
        """Return a new item index: 1 = smaller than every other item, 2 = larger."""
        if sort == 1:
            self.next_low -= 1
            return self.next_low
        value = self.next_high
        self.next_high += 1
        return value

    def as_json(self) -> dict[str, Any]:
        """Return the `familyList` entry (coolkit-cloud.md §5)."""
        return {
            "id": self.id,
            "apikey": self.owner_apikey,
            "name": self.name,
            "index": self.index,
            "familyType": 1,
            "members": [],
            "roomList": [
                {"id": r.id, "name": r.name, "index": r.index} for r in self.rooms_by_name.values()
            ],
        }


@dataclass(slots=True, eq=False)
class Account:
    """A user account; it lives in exactly one region."""

    apikey: str
    password: str
    region: str
    country_code: str
    email: str | None = None
    phone: str | None = None
    nickname: str = ""
    homes: list[Home] = field(default_factory=list)
    current_home_id: str | None = None

    @property
    def label(self) -> str:
        """Return the e-mail or phone number."""
        return self.email or self.phone or self.apikey

    def user_json(self) -> dict[str, Any]:
        """Return the `user` object of login and profile answers (coolkit-cloud.md §4.1)."""
        user: dict[str, Any] = {"countryCode": self.country_code}
        if self.phone:
            user["phoneNumber"] = self.phone
        if self.email:
            user["email"] = self.email
        user.update(
            apikey=self.apikey,
            nickname=self.nickname,
            accountLevel=10,
            levelExpiredAt=0,
            denyRecharge=False,
            accountConsult=False,
            ipCountry=_IP_COUNTRY.get(self.region, "DE"),
        )
        return user

    def home_by_id(self, home_id: str) -> Home | None:
        """Return the home with this id."""
        return next((h for h in self.homes if h.id == home_id), None)

    def add_home(
        self, name: str, rooms: list[str] | None = None, home_id: str | None = None
    ) -> Home:
        """Add a home; the first one becomes the current home."""
        home = Home(home_id or new_object_id(), name, len(self.homes), self.apikey)
        for room in rooms or []:
            home.add_room(room)
        self.homes.append(home)
        if self.current_home_id is None:
            self.current_home_id = home.id
        return home

    def current_home(self) -> Home:
        """Return the current home, creating "My Home" for an account without any."""
        if not self.homes:
            return self.add_home("My Home")
        home = self.home_by_id(self.current_home_id or "")
        return home or self.homes[0]


_IP_COUNTRY = {"cn": "CN", "as": "SG", "us": "US", "eu": "DE"}


@dataclass(slots=True, eq=False)
class Session:
    """One login of an account with one app ID: the at/rt pair (coolkit-cloud.md §3.4)."""

    id: str
    account: Account
    appid: str
    at: str
    rt: str
    at_expires: float
    rt_expires: float
    kind: str = "password"
    revoked: bool = False
    displaced: bool = False
    """Its at was revoked by a login elsewhere, but its rt may still take the session back."""


@dataclass(slots=True, eq=False)
class FactoryRecord:
    """What the factory database knows of a device (deviceid, device key, chipid, model)."""

    deviceid: str
    apikey: str
    """The factory apikey ("devicekey"), used in the add digest and in `register`."""
    uiid: int
    brand_name: str = "SONOFF"
    product_model: str = ""
    model: str = ""
    """Firmware model name (extra.model), e.g. PSA-B01-GL."""
    ui: str = ""
    chipid: str = ""
    mac: str = ""
    apmac: str = ""
    rom_version: str = "3.7.0"
    manufacturer: str = "CoolKit"
    brand_id: str = "5c4c1aee3a7d24c7100be054"
    model_info: str = ""
    description: str = "20200101"
    gsm_id: str | None = None

    @property
    def sta_mac(self) -> str:
        """Return the station MAC in upper case."""
        return self.mac.upper()

    def extra_json(self) -> dict[str, Any]:
        """Return `itemData.extra`."""
        return {
            "model": self.model,
            "ui": self.ui,
            "uiid": self.uiid,
            "description": self.description,
            "manufacturer": self.manufacturer,
            "mac": self.mac,
            "apmac": self.apmac,
            "modelInfo": self.model_info,
            "brandId": self.brand_id,
            "staMac": self.sta_mac,
            "chipid": self.chipid,
        }


@dataclass(slots=True, eq=False)
class Share:
    """A device shared with another account."""

    account: Account
    permit: int = 15
    share_time: int = field(default_factory=now_ms)
    familyid: str = ""
    index: int = 0
    comment: str = ""


@dataclass(slots=True, eq=False)
class CloudDevice:
    """A device bound to an account, as the cloud stores it."""

    factory: FactoryRecord
    owner: Account
    name: str
    familyid: str
    roomid: str
    index: int
    params: dict[str, Any] = field(default_factory=dict)
    online: bool = False
    tags: dict[str, Any] = field(default_factory=dict)
    dev_config: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(
        default_factory=lambda: {"opsNotify": 0, "opsHistory": 1, "alarmNotify": 1}
    )
    shares: list[Share] = field(default_factory=list)
    parentid: str | None = None
    created: int = field(default_factory=now_ms)

    @property
    def deviceid(self) -> str:
        """Return the device id."""
        return self.factory.deviceid

    @property
    def uiid(self) -> int:
        """Return the UI type id."""
        return self.factory.uiid

    def shared_with(self, account: Account) -> Share | None:
        """Return the share of this device with `account`, if any."""
        return next((s for s in self.shares if s.account is account), None)

    def visible_to(self, account: Account) -> bool:
        """Return True when `account` owns the device or it is shared with it."""
        return self.owner is account or self.shared_with(account) is not None

    def audience(self) -> list[str]:
        """Return the apikeys of the owner and every sharee (push recipients)."""
        return [self.owner.apikey, *(s.account.apikey for s in self.shares)]


@dataclass(slots=True, eq=False)
class Group:
    """A device group (itemType 3, no deviceid)."""

    id: str
    name: str
    owner: Account
    familyid: str
    index: int
    device_ids: list[str]
    uiid: int = 1
    params: dict[str, Any] = field(default_factory=lambda: {"switch": "off"})

    @property
    def main_device_id(self) -> str:
        """Return the first member."""
        return self.device_ids[0] if self.device_ids else ""


@dataclass(slots=True, eq=False)
class OAuthCode:
    """An authorization code of the OAuth page: single use, short-lived."""

    code: str
    appid: str
    redirect_url: str
    account: Account
    expires: float
    used: bool = False


@dataclass(slots=True, eq=False)
class GsmRecord:
    """A GSM device that can be bound with POST /v2/device/add-gsm."""

    gsm_id: str
    deviceid: str


class Store:
    """All the cloud's records."""

    def __init__(self) -> None:
        self.apps: dict[str, App] = {}
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[tuple[str, str], Session] = {}
        self.by_at: dict[str, Session] = {}
        self.by_rt: dict[str, Session] = {}
        self.factory: dict[str, FactoryRecord] = {}
        self.devices: dict[str, CloudDevice] = {}
        self.groups: dict[str, Group] = {}
        self.codes: dict[str, OAuthCode] = {}
        self.gsm: dict[str, GsmRecord] = {}

    # Accounts -----------------------------------------------------------------------------
    def find_account(self, *, email: str | None = None, phone: str | None = None) -> Account | None:
        """Find an account by e-mail (case-insensitive) or full phone number."""
        for account in self.accounts.values():
            if email is not None and account.email and account.email.casefold() == email.casefold():
                return account
            if phone is not None and account.phone and _digits(account.phone) == _digits(phone):
                return account
        return None

    def account_by_ref(self, ref: str) -> Account:
        """Resolve an apikey, e-mail or phone number to an account."""
        if ref in self.accounts:
            return self.accounts[ref]
        account = self.find_account(email=ref) or self.find_account(phone=ref)
        if account is None:
            raise KeyError(f"unknown account {ref!r}")
        return account

    # Sessions -----------------------------------------------------------------------------
    def new_session(
        self,
        account: Account,
        appid: str,
        *,
        at_lifetime: float,
        rt_lifetime: float,
        kind: str,
        keep_refresh: bool = False,
    ) -> tuple[Session, Session | None]:
        """Start a session for (account, appid); return it and the session it replaced."""
        old = self.sessions.get((account.apikey, appid))
        if old is not None:
            if keep_refresh:
                self.displace(old)
            else:
                self.revoke(old)
        now = time.time()
        session = Session(
            id=uuid.uuid4().hex,
            account=account,
            appid=appid,
            at=new_token(),
            rt=new_token(),
            at_expires=now + at_lifetime,
            rt_expires=now + rt_lifetime,
            kind=kind,
        )
        self.sessions[(account.apikey, appid)] = session
        self.by_at[session.at] = session
        self.by_rt[session.rt] = session
        return session, old

    def rotate(self, session: Session, *, at_lifetime: float, rt_lifetime: float) -> None:
        """Give a session new tokens; the old ones stop working at once."""
        self.by_at.pop(session.at, None)
        self.by_rt.pop(session.rt, None)
        now = time.time()
        session.at, session.rt = new_token(), new_token()
        session.at_expires, session.rt_expires = now + at_lifetime, now + rt_lifetime
        self.by_at[session.at] = session
        self.by_rt[session.rt] = session

    def displace(self, session: Session) -> None:
        """Revoke only the at (the reference's literal reading of §3.4); the rt stays valid."""
        session.displaced = True
        self.by_at.pop(session.at, None)
        if self.sessions.get((session.account.apikey, session.appid)) is session:
            del self.sessions[(session.account.apikey, session.appid)]

    def reinstate(self, session: Session) -> Session | None:
        """Make a displaced session the active one again; return the session it displaces."""
        key = (session.account.apikey, session.appid)
        other = self.sessions.get(key)
        if other is session:
            return None
        if other is not None:
            self.displace(other)
        session.displaced = False
        self.sessions[key] = session
        return other

    def revoke(self, session: Session) -> None:
        """End a session: both tokens die."""
        session.revoked = True
        self.by_at.pop(session.at, None)
        self.by_rt.pop(session.rt, None)
        if self.sessions.get((session.account.apikey, session.appid)) is session:
            del self.sessions[(session.account.apikey, session.appid)]

    # Devices ------------------------------------------------------------------------------
    def visible_devices(self, account: Account) -> list[CloudDevice]:
        """Return the devices an account owns or has been shared."""
        return [d for d in self.devices.values() if d.visible_to(account)]

    def children_of(self, deviceid: str) -> list[CloudDevice]:
        """Return the zigbee children of a bridge."""
        return [d for d in self.devices.values() if d.parentid == deviceid]

    def groups_of(self, deviceid: str) -> list[Group]:
        """Return the groups a device belongs to."""
        return [g for g in self.groups.values() if deviceid in g.device_ids]


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())
