"""The simulator: one aiohttp server standing in for every CoolKit host, plus virtual devices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import copy
import hashlib
import itertools
import logging
import time
from types import TracebackType
from typing import Any, Self
import uuid

from aiohttp import web

from .admin import AdminApi
from .config import SimulatorConfig
from .devices import Fleet, VirtualDevice
from .faults import Faults
from .lan import LanNetwork
from .oauth import OAuthPage
from .pairing import UnpairedDevice, WifiNetwork
from .rest import RequestRecord, RestApi
from .state import (
    Account,
    App,
    CloudDevice,
    FactoryRecord,
    Group,
    GsmRecord,
    Home,
    Session,
    Share,
    Store,
    new_object_id,
    random_alnum,
)
from .uiids import spec_for
from .ws import Hub

_LOGGER = logging.getLogger("simulator")

_ID_NAMESPACE = uuid.UUID("6f1c3c52-6a43-4f1e-9d0e-1f5d8c0a7e21")


def _mac_for(deviceid: str) -> str:
    digest = hashlib.sha256(deviceid.encode()).digest()
    return "d0:27:" + ":".join(f"{b:02x}" for b in digest[:4])


def _chipid_for(deviceid: str) -> str:
    return hashlib.sha256(b"chip" + deviceid.encode()).hexdigest()[:8].upper()


class Simulator:
    """A local CoolKit cloud with virtual devices. See the package docstring for the API."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.faults = Faults()
        self.store = Store()
        self.wifi = WifiNetwork()
        self.requests: list[RequestRecord] = []
        self._changed: asyncio.Event | None = None
        self.hub = Hub(self.store, self.config, self.faults, self._notify)
        self.fleet = Fleet(self.config, self.faults, self._cloud_online)
        self.rest = RestApi(self)
        self.oauth = OAuthPage(self)
        self.admin = AdminApi(self)
        self.lan = LanNetwork(self)
        self.cloud_up = True
        self.unpaired: dict[str, UnpairedDevice] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._started = False
        self._id_counter = itertools.count(1)

    # Lifecycle -------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20, middlewares=[self._cloud_gate])
        r = app.router
        r.add_get("/api/ws", self.hub.handle)
        r.add_route("*", "/dispatch/device", self.rest.dispatch_device)
        r.add_route("*", "/v2/{tail:.*}", self.rest.handle_global)
        r.add_route("*", "/oauth/index.html", self.oauth.handle)
        self.admin.add_routes(app)
        self.lan.add_routes(app)
        r.add_route("*", "/{region}/dispatch/app", self.rest.dispatch_app)
        r.add_route("*", "/{region}/v2/{tail:.*}", self.rest.handle_regional)
        return app

    async def start(self) -> None:
        """Start the server, the hub and every device meant to be online."""
        if self._started:
            return
        started = time.monotonic()
        self._changed = asyncio.Event()
        self.fleet.changed = self._changed
        runner = web.AppRunner(
            self._app(),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=self.config.shutdown_timeout,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        self._port = site.port
        self._started = True
        self.hub.start()
        await self.fleet.start()
        for device in self.fleet.devices.values():
            if device.server is None and device.factory.deviceid not in self.unpaired:
                device.server = self.device_dispatch
        for udev in self.unpaired.values():
            await udev.start()
        starting = [d for d in self.fleet.devices.values() if d.want_online]
        self.hub.quiet = len(starting) > 50
        for device in starting:
            device.start()
        waiting = [
            d
            for d in starting
            if d.deviceid in self.store.devices and (d.parent is None or d.parent.want_online)
        ]
        try:
            if waiting:
                await self.wait_for(
                    lambda: all(d.online and d.can_send for d in waiting),
                    timeout=max(10.0, len(waiting) / 50),
                )
        except TimeoutError:
            late = [d.deviceid for d in waiting if not (d.online and d.can_send)]
            _LOGGER.warning("%d devices did not come online at start: %s", len(late), late[:10])
        finally:
            self.hub.quiet = False
        await self.lan.start()
        _LOGGER.info(
            "simulator listening on %s (%d devices online) in %.2f s",
            self.base_url,
            sum(1 for d in self.store.devices.values() if d.online),
            time.monotonic() - started,
        )

    async def stop(self) -> None:
        """Close every socket, server and task."""
        if not self._started:
            return
        self._started = False
        self.hub.stopping = True
        for udev in self.unpaired.values():
            await udev.stop()
        await self.lan.stop()
        await self.fleet.stop()
        await self.hub.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        _LOGGER.info("simulator stopped")

    @web.middleware
    async def _cloud_gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """While the cloud is stopped, cut every connection but the admin API's."""
        if not self.cloud_up and not request.path.startswith("/_sim"):
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable
        response: web.StreamResponse = await handler(request)
        return response

    async def stop_cloud(self) -> None:
        """Take the cloud away (REST, dispatch, websockets) while devices keep serving the LAN.

        Live sockets are dropped and new connections are cut without an answer; the admin API
        stays up. Devices keep retrying and come back after `start_cloud`.
        """
        self.cloud_up = False
        self.hub.drop_app_sockets(1006)
        for deviceid in list(self.hub.device_conns):
            self.hub.close_device(deviceid)
        await asyncio.sleep(0)
        _LOGGER.info("cloud stopped (LAN devices keep serving)")

    def start_cloud(self) -> None:
        """Serve the cloud again; devices reconnect on their own."""
        self.cloud_up = True
        self._notify()
        _LOGGER.info("cloud started")

    @property
    def started(self) -> bool:
        """Return True while the server runs."""
        return self._started

    # URLs ------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """Return the bound port."""
        return self._port

    @property
    def base_url(self) -> str:
        """Return `http://HOST:PORT`."""
        return f"http://{self.config.public_host}:{self._port}"

    def api_url(self, region: str) -> str:
        """Return the REST base of a region (append `/v2/...`)."""
        return f"{self.base_url}/{region}"

    def dispatch_url(self, region: str) -> str:
        """Return the app dispatch URL of a region."""
        return f"{self.base_url}/{region}/dispatch/app"

    @property
    def get_region_url(self) -> str:
        """Return the global region lookup URL."""
        return f"{self.base_url}/v2/utils/get-region"

    @property
    def ws_url(self) -> str:
        """Return the websocket URL."""
        return f"ws://{self.config.public_host}:{self._port}/api/ws"

    @property
    def oauth_url(self) -> str:
        """Return the OAuth authorization page."""
        return f"{self.base_url}/oauth/index.html"

    @property
    def admin_url(self) -> str:
        """Return the admin API base (`/_sim`)."""
        return f"{self.base_url}/_sim"

    @property
    def device_dispatch(self) -> tuple[str, int]:
        """Return (serverName, port) to give devices in `POST /ap`."""
        return self.config.public_host, self._port

    def log_request(self, record: RequestRecord) -> None:
        """Append to `requests` (the oldest half is dropped beyond 100 000 entries)."""
        self.requests.append(record)
        if len(self.requests) > 100_000:
            del self.requests[:50_000]

    # Waiting ---------------------------------------------------------------------------------
    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def _cloud_online(self, deviceid: str) -> bool:
        device = self.store.devices.get(deviceid)
        return device is not None and device.online

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` is true (re-checked on every state change)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not reached in time")
            event = self._changed
            if event is None:
                await asyncio.sleep(0.01)
                continue
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))
            except TimeoutError:
                continue

    # Apps and accounts -----------------------------------------------------------------------
    def add_app(
        self,
        appid: str | None = None,
        secret: str | None = None,
        *,
        password_login: bool = True,
        redirect_urls: Iterable[str] = (),
        allowed_brands: Iterable[str] | None = None,
        monthly_quota: int | None = None,
        quota_mode: str = "http403",
    ) -> App:
        """Register an app ID (None = generated) with its secret and permissions."""
        app = App(
            appid=appid or random_alnum(32),
            secret=secret or random_alnum(32),
            password_login=password_login,
            redirect_urls=list(redirect_urls),
            allowed_brands=set(allowed_brands) if allowed_brands is not None else None,
            monthly_quota=monthly_quota,
            quota_mode=quota_mode,
        )
        self.store.apps[app.appid] = app
        return app

    def add_account(
        self,
        email: str | None = None,
        phone: str | None = None,
        *,
        password: str,
        region: str = "eu",
        country_code: str = "+49",
        nickname: str | None = None,
        apikey: str | None = None,
    ) -> Account:
        """Create an account in one region."""
        if not email and not phone:
            raise ValueError("an account needs an e-mail or a phone number")
        if region not in self.config.regions:
            raise ValueError(f"unknown region {region!r}")
        if phone and not phone.startswith("+"):
            raise ValueError("phone numbers carry their country code (+...)")
        account = Account(
            apikey=apikey or str(uuid.uuid4()),
            password=password,
            region=region,
            country_code=country_code,
            email=email,
            phone=phone,
            nickname=nickname or (email or phone or "user").split("@")[0],
        )
        self.store.accounts[account.apikey] = account
        return account

    def add_home(self, account: Account, name: str = "Home", rooms: Iterable[str] = ()) -> Home:
        """Add a home (the first one becomes current); `home.rooms` maps room name to id."""
        return account.add_home(name, list(rooms))

    def start_session(self, account: Account, appid: str, *, kind: str) -> Session:
        """Log in (account, appid): new tokens; the previous session is revoked and kicked."""
        session, old = self.store.new_session(
            account,
            appid,
            at_lifetime=self.config.at_lifetime,
            rt_lifetime=self.config.rt_lifetime,
            kind=kind,
            keep_refresh=self.faults.takeover_keeps_refresh,
        )
        if old is not None:
            self.hub.kick(old)
        return session

    def session(self, account: Account, appid: str) -> Session | None:
        """Return the active session of (account, appid)."""
        return self.store.sessions.get((account.apikey, appid))

    async def kick_session(
        self, account: Account, appid: str | None = None, *, keep_refresh: bool | None = None
    ) -> bool:
        """As another login would: revoke the tokens (REST 401), WS 406 then close 1000.

        `appid=None` kicks every session of the account. `keep_refresh` (default: the
        `takeover_keeps_refresh` knob) revokes only the at, so the rt can take the session back.
        """
        if keep_refresh is None:
            keep_refresh = self.faults.takeover_keeps_refresh
        sessions = [
            s
            for (apikey, sid), s in self.store.sessions.items()
            if apikey == account.apikey and appid in (None, sid)
        ]
        for session in sessions:
            if keep_refresh:
                self.store.displace(session)
            else:
                self.store.revoke(session)
            self.hub.kick(session)
        await asyncio.sleep(0)
        return bool(sessions)

    def expire_tokens(
        self,
        account: Account,
        appid: str,
        *,
        access: bool = True,
        refresh: bool = False,
        close: int | None = None,
    ) -> int:
        """Make the at (402 on REST, 406 on a new handshake) and/or the rt (refresh 405) expire.

        A live socket does not need the at [inf]; `close` (1000 clean, 1006 abrupt) also closes
        the session's app sockets, so the next handshake meets the expired token. Returns the
        number of sockets closed.
        """
        session = self.store.sessions.get((account.apikey, appid))
        if session is None:
            raise KeyError("no session for this account and app")
        past = time.time() - 1
        if access:
            session.at_expires = past
        if refresh:
            session.rt_expires = past
        if close is None:
            return 0
        return self.hub.close_session_sockets(session, close)

    def app_sessions(self, account: Account | None = None) -> int:
        """Return the number of live app websocket sessions (of one account)."""
        return self.hub.app_session_count(account)

    async def drop_app_sockets(self, code: int = 1006, account: Account | None = None) -> int:
        """Close every app socket (1006 = drop the TCP connection)."""
        count = self.hub.drop_app_sockets(code, account)
        await asyncio.sleep(0)
        return count

    def half_open_app_sockets(self, account: Account | None = None) -> int:
        """Stop reading and answering app sockets without closing them."""
        return self.hub.half_open_app_sockets(account)

    # Devices ---------------------------------------------------------------------------------
    def new_deviceid(self) -> str:
        """Return an unused 10-hex device id."""
        while True:
            candidate = f"10{next(self._id_counter):08x}"
            if candidate not in self.store.factory:
                return candidate

    def _factory(
        self,
        deviceid: str | None,
        uiid: int,
        *,
        brand_name: str = "SONOFF",
        product_model: str | None = None,
        model: str | None = None,
        chipid: str | None = None,
        factory_apikey: str | None = None,
        gsm_id: str | None = None,
    ) -> FactoryRecord:
        deviceid = (deviceid or self.new_deviceid()).lower()
        if len(deviceid) != 10 or any(c not in "0123456789abcdef" for c in deviceid):
            raise ValueError(f"deviceid must be 10 hex characters: {deviceid!r}")
        if deviceid in self.store.factory:
            raise ValueError(f"device {deviceid} exists")
        spec = spec_for(uiid)
        mac = _mac_for(deviceid)
        record = FactoryRecord(
            deviceid=deviceid,
            apikey=factory_apikey or str(uuid.uuid5(_ID_NAMESPACE, deviceid)),
            uiid=uiid,
            brand_name=brand_name,
            product_model=product_model or spec.product_model,
            model=model or spec.model,
            ui=spec.name,
            chipid=chipid if chipid is not None else _chipid_for(deviceid),
            mac=mac,
            apmac=mac[:-2] + f"{(int(mac[-2:], 16) + 1) % 256:02x}",
            model_info=hashlib.sha256(spec.model.encode()).hexdigest()[:24],
            gsm_id=gsm_id,
        )
        self.store.factory[deviceid] = record
        return record

    async def add_device(
        self,
        owner: Account,
        deviceid: str | None = None,
        uiid: int = 1,
        name: str | None = None,
        params: dict[str, Any] | None = None,
        *,
        online: bool = True,
        brandName: str = "SONOFF",  # noqa: N803 - the description's field name
        productModel: str | None = None,  # noqa: N803
        model: str | None = None,
        tags: dict[str, Any] | None = None,
        shared_with: Iterable[Account] = (),
        home: Home | None = None,
        room: str | None = None,
        parent: VirtualDevice | str | None = None,
        devicekey: str | None = None,
        chipid: str | None = None,
        settings: dict[str, Any] | None = None,
        dev_config: dict[str, Any] | None = None,
        wait: bool = True,
    ) -> VirtualDevice:
        """Create a bound device with its virtual device; returns once it is online (if asked)."""
        parent_dev: VirtualDevice | None = None
        if parent is not None:
            parent_dev = parent if isinstance(parent, VirtualDevice) else self.fleet.devices[parent]
            if not parent_dev.spec.bridge:
                raise ValueError(
                    f"device {parent_dev.deviceid} (uiid {parent_dev.uiid}) is not a bridge"
                )
        factory = self._factory(
            deviceid,
            uiid,
            brand_name=brandName,
            product_model=productModel,
            model=model,
            chipid=chipid,
            factory_apikey=devicekey,
        )
        device = VirtualDevice(
            self.fleet,
            factory,
            params=params,
            server=self.device_dispatch if self._started else None,
            parent=parent_dev,
            ssid=self.wifi.ssid,
        )
        self.fleet.devices[factory.deviceid] = device
        lan = self.lan.auto_attach(device) if self.config.lan else None
        if home is None and parent_dev is not None:
            parent_cloud = self.store.devices[parent_dev.deviceid]
            home = owner.home_by_id(parent_cloud.familyid)
        home = home or owner.current_home()
        cloud = self._bind(factory, owner, name or f"{spec_for(uiid).product_model} {factory.deviceid[-4:]}", home=home,
                           roomid=home.room_id(room), sort=2, settings=settings)  # fmt: skip
        cloud.params = copy.deepcopy(device.params)
        cloud.parentid = parent_dev.deviceid if parent_dev is not None else None
        cloud.tags = dict(tags or {})
        cloud.dev_config = dict(dev_config or {})
        for account in shared_with:
            self.share(cloud, account)
        if online:
            device.want_online = True
            if self._started:
                device.start()
                if wait and (parent_dev is None or parent_dev.can_send):
                    await device.wait_online()
                    if lan is not None:
                        await lan.wait_running()
        return device

    def _bind(
        self,
        factory: FactoryRecord,
        owner: Account,
        name: str,
        *,
        home: Home,
        roomid: str,
        sort: int,
        settings: dict[str, Any] | None,
    ) -> CloudDevice:
        cloud = CloudDevice(
            factory=factory,
            owner=owner,
            name=name,
            familyid=home.id,
            roomid=roomid,
            index=home.take_index(sort),
        )
        if isinstance(settings, dict):
            cloud.settings.update(settings)
        self.store.devices[factory.deviceid] = cloud
        return cloud

    def bind_device(
        self,
        factory: FactoryRecord,
        owner: Account,
        *,
        name: str,
        familyid: Any,
        roomid: Any,
        sort: int,
        settings: Any,
    ) -> CloudDevice:
        """Bind a factory device to an account (POST /v2/device/add, add-gsm)."""
        existing = self.store.devices.get(factory.deviceid)
        if existing is not None:
            if existing.owner is owner:
                return existing
            # Pairing a device again moves it to the new account [inf].
            self.unbind_device(existing)
        home = owner.home_by_id(str(familyid)) if familyid else None
        home = home or owner.current_home()
        roomid = (
            roomid
            if isinstance(roomid, str) and any(r == roomid for r in home.rooms.values())
            else ""
        )
        cloud = self._bind(
            factory, owner, name, home=home, roomid=roomid, sort=sort, settings=settings
        )
        virtual = self.fleet.devices.get(factory.deviceid)
        if virtual is not None:
            cloud.params = copy.deepcopy(virtual.params)
        _LOGGER.info("device %s bound to %s", factory.deviceid, owner.label)
        self._notify()
        return cloud

    def unbind_device(self, device: CloudDevice) -> None:
        """Remove a device from its account (the factory record stays)."""
        for child in self.store.children_of(device.deviceid):
            self.unbind_device(child)
        self.hub.set_online(device, False)
        self.store.devices.pop(device.deviceid, None)
        for group in self.store.groups.values():
            if device.deviceid in group.device_ids:
                group.device_ids.remove(device.deviceid)
        self.hub.close_device(device.deviceid)
        self._notify()

    def share(
        self, device: CloudDevice | VirtualDevice | str, account: Account, *, permit: int = 15
    ) -> Share:
        """Share a device with another account (it lands in that account's current home)."""
        cloud = self._cloud(device)
        existing = cloud.shared_with(account)
        if existing is not None:
            return existing
        home = account.current_home()
        share = Share(account=account, permit=permit, familyid=home.id, index=home.take_index(2))
        cloud.shares.append(share)
        return share

    def add_group(
        self,
        owner: Account,
        name: str,
        devices: Iterable[CloudDevice | VirtualDevice | str] = (),
        home: Home | None = None,
    ) -> Group:
        """Add a device group (itemType 3)."""
        home = home or owner.current_home()
        ids = [self._cloud(d).deviceid for d in devices]
        first = self.store.devices.get(ids[0]) if ids else None
        group = Group(
            id=new_object_id(),
            name=name,
            owner=owner,
            familyid=home.id,
            index=home.take_index(2),
            device_ids=ids,
            uiid=first.uiid if first is not None else 1,
        )
        self.store.groups[group.id] = group
        return group

    def _cloud(self, device: CloudDevice | VirtualDevice | str) -> CloudDevice:
        if isinstance(device, CloudDevice):
            return device
        deviceid = device.deviceid if isinstance(device, VirtualDevice) else device
        return self.store.devices[deviceid]

    def device(self, deviceid: str) -> VirtualDevice:
        """Return a virtual device by id."""
        return self.fleet.devices[deviceid]

    @property
    def devices(self) -> dict[str, VirtualDevice]:
        """Return every virtual device by id."""
        return self.fleet.devices

    async def remove_device(self, deviceid: str) -> None:
        """Remove a device completely (virtual device, binding, factory record)."""
        virtual = self.fleet.devices.get(deviceid)
        if virtual is not None:
            for child in list(virtual.children.values()):
                await self.remove_device(child.deviceid)
            await self.lan.detach(deviceid)
            await virtual.shutdown()
            if virtual.parent is not None:
                virtual.parent.children.pop(deviceid, None)
        cloud = self.store.devices.get(deviceid)
        if cloud is not None:
            self.unbind_device(cloud)
        self.fleet.devices.pop(deviceid, None)
        self.store.factory.pop(deviceid, None)
        self.store.gsm = {k: v for k, v in self.store.gsm.items() if v.deviceid != deviceid}
        udev = self.unpaired.pop(deviceid, None)
        if udev is not None:
            await udev.stop()

    def device_truth(self) -> dict[str, dict[str, Any]]:
        """Return `{deviceid: {"online", "params"}}`: the devices' own state, the cloud's flag."""
        out: dict[str, dict[str, Any]] = {}
        for deviceid, virtual in self.fleet.devices.items():
            out[deviceid] = {"online": virtual.online, "params": copy.deepcopy(virtual.params)}
        return out

    def add_gsm_device(
        self,
        gsm_id: str,
        uiid: int = 81,
        deviceid: str | None = None,
        *,
        brandName: str = "SONOFF",  # noqa: N803
        productModel: str | None = None,  # noqa: N803
        params: dict[str, Any] | None = None,
    ) -> VirtualDevice:
        """Add a GSM device that `POST /v2/device/add-gsm {"id": gsm_id}` can bind."""
        if gsm_id in self.store.gsm:
            raise ValueError(f"GSM id {gsm_id} exists")
        factory = self._factory(
            deviceid, uiid, brand_name=brandName, product_model=productModel, gsm_id=gsm_id
        )
        self.store.gsm[gsm_id] = GsmRecord(gsm_id, factory.deviceid)
        device = VirtualDevice(
            self.fleet,
            factory,
            params=params,
            server=self.device_dispatch if self._started else None,
        )
        self.fleet.devices[factory.deviceid] = device
        device.want_online = True  # cellular: it keeps trying to register until bound
        if self._started:
            device.start()
        return device

    async def add_unpaired_device(
        self,
        deviceid: str | None = None,
        uiid: int = 1,
        *,
        brandName: str = "SONOFF",  # noqa: N803
        productModel: str | None = None,  # noqa: N803
        chipid: str | None = None,
        factory_apikey: str | None = None,
        ap_http: bool = True,
        esptouch: bool = True,
        http_host: str = "127.0.0.1",
        http_port: int = 0,
        udp_host: str = "127.0.0.1",
        udp_port: int = 0,
        ack_port: int = 18266,
        ack_host: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> UnpairedDevice:
        """Add a device in pairing mode: in the factory database, bound to nobody."""
        factory = self._factory(
            deviceid, uiid, brand_name=brandName, product_model=productModel, chipid=chipid,
            factory_apikey=factory_apikey,
        )  # fmt: skip
        device = VirtualDevice(self.fleet, factory, params=params, ssid=self.wifi.ssid)
        self.fleet.devices[factory.deviceid] = device
        udev = UnpairedDevice(
            device,
            config=self.config,
            wifi=lambda: self.wifi,
            ap_http=ap_http,
            esptouch=esptouch,
            http_host=http_host,
            http_port=http_port,
            udp_host=udp_host,
            udp_port=udp_port,
            ack_port=ack_port,
            ack_host=ack_host,
        )
        self.unpaired[factory.deviceid] = udev
        if self._started:
            await udev.start()
        return udev
