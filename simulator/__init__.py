"""A faithful local CoolKit (eWeLink) cloud with virtual devices.

Every test of the integration, `scripts/develop` and the benchmarks run against it. It follows
`coolkit-cloud.md` and `pairing.md` as strictly as they allow; where they are unsure it accepts
what real clients send. Decisions taken where the reference is silent are marked `[inf]` in the
code.

URL layout (one aiohttp server, `base = http://HOST:PORT`; regions cn, as, us, eu):

    {base}/{region}/v2/...               regional REST API v2 (envelope, Sign/Bearer, 10004, ...)
    {base}/v2/utils/get-region           global region lookup (also served per region)
    {base}/{region}/dispatch/app         app dispatch (GET/POST, no auth, no envelope)
    {base}/dispatch/device               device dispatch (POST; GET accepted)
    {base}/api/ws                        websocket for apps (userOnline) and devices (register)
    {base}/oauth/index.html              OAuth2 authorization page (GET form, POST login)
    {base}/_sim/...                      admin API (JSON, no auth)

Admin routes (`GET /_sim` lists them):

    GET    /_sim/state                         URLs, apps, accounts, homes, device counts, sessions
    GET    /_sim/devices                       {deviceid: {online, params}} (the devices' truth)
    POST   /_sim/devices                       add {deviceid, uiid, name, params, online, brandName,
                                               productModel, tags, shared_with, owner, home, room, parent}
    GET    /_sim/devices/{id}                  one device (truth, cloud params, faults)
    DELETE /_sim/devices/{id}                  remove it
    POST   /_sim/devices/{id}/params           {params}: the device reports them (a device `update`)
    POST   /_sim/devices/{id}/offline          {silent?}: power off (silent keeps the socket open)
    POST   /_sim/devices/{id}/online           power on
    POST   /_sim/devices/{id}/faults           {ack_delay, drop_acks, echo, drift}
    GET    /_sim/sessions                      live app sessions per account
    POST   /_sim/sockets/drop                  {code=1006, account?}: close app sockets
    POST   /_sim/sockets/half-open             {account?}: stop reading app sockets, keep them open
    POST   /_sim/accounts/{ref}/kick           {appid?, keep_refresh?}: as another login would (REST
                                               401, WS 406 + close); without appid every session
    POST   /_sim/accounts/{ref}/expire         {appid, access=true, refresh=false, close?=1000|1006}
    GET    /_sim/faults ; POST /_sim/faults    read / set knobs (see `Faults`); POST /_sim/faults/reset
    GET    /_sim/requests ; DELETE             REST request log [[monotonic, method, path, appid]]
    POST   /_sim/rate-limits/reset             forget the rate-limit counters
    GET    /_sim/wifi ; POST /_sim/wifi        the simulated Wi-Fi {ssid, password, bssid}
    GET    /_sim/unpaired                      devices in pairing mode (HTTP URL, UDP port)
    POST   /_sim/unpaired                      add a device in pairing mode {deviceid?, uiid?, ack_port?, ...}
    POST   /_sim/unpaired/reset                {deviceid?}: back to pairing mode (devices bound to nobody)

`{ref}` is an account's e-mail, phone number or apikey.

LAN (lan-protocol.md; `simulator.lan`): with `SimulatorConfig(lan=True)` every LAN-capable device
serves `POST /zeroconf/<cmd>` on 127.0.0.1 (its own port) and announces itself to an in-process
feed (`sim.lan.subscribe(callback)`), plus real mDNS with `lan_mdns=True` or
`sim.lan.start_mdns()`. LAN and cloud share the device state. `await sim.stop_cloud()` takes the
cloud away while the LAN keeps serving; `sim.start_cloud()` brings it back. LAN admin routes:

    GET    /_sim/lan                           LAN devices (host, port, seq, type, faults)
    POST   /_sim/lan/faults                    knobs on every LAN device (see `LanFaults`)
    POST   /_sim/lan/diy                       add a DIY-mode device {uiid, deviceid?, params?, type?}
    POST   /_sim/lan/mdns                      publish as real mDNS {interfaces?}
    GET    /_sim/lan/{id}                      one LAN device, its devicekey, its last requests
    POST   /_sim/lan/{id}/faults               its knobs ({reset: true} first turns them off)
    POST   /_sim/lan/{id}/announce             announce the full state now
    GET    /_sim/cloud ; POST /_sim/cloud      {up}: stop ({up: false}) or restart the cloud

Python API::

    async with Simulator(SimulatorConfig(hb_interval=2, rate_limit=False)) as sim:
        app = sim.add_app(password_login=True)
        acct = sim.add_account("a@example.com", password="pw", region="eu")
        dev = await sim.add_device(acct, uiid=1)
        await dev.report({"switch": "on"}); await dev.go_offline()

Scenario files (`python -m simulator --scenario FILE`) are described in `simulator.scenario`.
"""

from __future__ import annotations

from .config import REGIONS, SimulatorConfig
from .devices import VirtualDevice
from .esptouch import EspTouchDecoder, EspTouchResult, build_ack, crc8
from .faults import Faults
from .lan import LanAnnouncement, LanDevice, LanFaults, LanNetwork
from .pairing import UnpairedDevice, WifiNetwork
from .rest import RequestRecord
from .server import Simulator
from .state import Account, App, CloudDevice, Group, Home, Session

__all__ = [
    "REGIONS",
    "Account",
    "App",
    "CloudDevice",
    "EspTouchDecoder",
    "EspTouchResult",
    "Faults",
    "Group",
    "Home",
    "LanAnnouncement",
    "LanDevice",
    "LanFaults",
    "LanNetwork",
    "RequestRecord",
    "Session",
    "Simulator",
    "SimulatorConfig",
    "UnpairedDevice",
    "VirtualDevice",
    "WifiNetwork",
    "build_ack",
    "crc8",
]
