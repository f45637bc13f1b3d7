"""Keep the simulated world between runs: apps, accounts, homes, sessions, devices, Wi-Fi.

`save_world(sim, path)` writes one JSON file (atomically); `load_world(sim, path)` rebuilds
the same world in a simulator that has not started yet. Used by `python -m simulator --state FILE`
(and so by scripts/develop), so a Home Assistant entry keeps working across restarts: its tokens
are still valid, its devices are still there, with their last state.

The format is generic over the store: every record of `simulator.state` is written field by field
(dataclass fields, so a new field persists without changes here); records that point at an
account or a factory record are written as references and resolved on load. Virtual devices keep
their params (whatever the device type), their wish to be online and their bridge. OAuth codes
(30 s lifetime), fault knobs and live connections are not kept. A device that was in pairing
mode comes back in pairing mode.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING, Any

from . import state
from .devices import VirtualDevice
from .pairing import UnpairedDevice

if TYPE_CHECKING:
    from .server import Simulator

_LOGGER = logging.getLogger("simulator.persist")

FORMAT = 1
_RECORDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in vars(state).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == state.__name__
}
# Records that other records point at: written once at the top level, referenced elsewhere.
_REFERENCED: dict[type[Any], tuple[str, str]] = {
    state.Account: ("account", "apikey"),
    state.FactoryRecord: ("factory", "deviceid"),
}
_UNPAIRED_KEYS = (
    "ap_http", "esptouch", "http_host", "udp_host", "ack_port", "ack_host",
)  # fmt: skip


def _encode(value: Any, *, top: bool = False) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        ref = _REFERENCED.get(type(value))
        if ref is not None and not top:
            return {"$ref": ref[0], "id": getattr(value, ref[1])}
        out: dict[str, Any] = {"$type": type(value).__name__}
        for field in dataclasses.fields(value):
            out[field.name] = _encode(getattr(value, field.name))
        return out
    if isinstance(value, set | frozenset):
        return {"$set": sorted(_encode(v) for v in value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


class _Decoder:
    """Turns the JSON back into records, resolving references to accounts and factory records."""

    def __init__(self, store: state.Store) -> None:
        self.store = store

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "$ref" in value:
            table = self.store.accounts if value["$ref"] == "account" else self.store.factory
            return table[value["id"]]
        if "$set" in value:
            return {self.decode(v) for v in value["$set"]}
        if "$type" in value:
            cls = _RECORDS[value["$type"]]
            names = {f.name for f in dataclasses.fields(cls)}
            kwargs = {k: self.decode(v) for k, v in value.items() if k in names}
            return cls(**kwargs)
        return {k: self.decode(v) for k, v in value.items()}


def world(sim: Simulator) -> dict[str, Any]:
    """Return the simulator's world as JSON-ready data."""
    store = sim.store
    devices: dict[str, Any] = {}
    unpaired: dict[str, Any] = {}
    for deviceid, device in sim.fleet.devices.items():
        udev = sim.unpaired.get(deviceid)
        if udev is not None and deviceid not in store.devices:
            unpaired[deviceid] = {key: getattr(udev, key) for key in _UNPAIRED_KEYS}
        devices[deviceid] = {
            "params": device.params,
            "want_online": device.want_online,
            "parent": device.parent.deviceid if device.parent is not None else None,
        }
    sessions = {id(s): s for s in [*store.sessions.values(), *store.by_rt.values()]}
    return {
        "format": FORMAT,
        "wifi": dataclasses.asdict(sim.wifi),
        "drift": sim.config.drift,
        "apps": [_encode(a, top=True) for a in store.apps.values()],
        "factory": [_encode(f, top=True) for f in store.factory.values()],
        "accounts": [_encode(a, top=True) for a in store.accounts.values()],
        "sessions": [_encode(s, top=True) for s in sessions.values() if not s.revoked],
        "cloud_devices": [_encode(d, top=True) for d in store.devices.values()],
        "groups": [_encode(g, top=True) for g in store.groups.values()],
        "gsm": [_encode(g, top=True) for g in store.gsm.values()],
        "devices": devices,
        "unpaired": unpaired,
    }


def save_world(sim: Simulator, path: str | Path) -> None:
    """Write the world to `path` atomically (a crash never leaves half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(world(sim), separators=(",", ":"), sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(data)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_world(sim: Simulator, path: str | Path) -> None:
    """Rebuild a saved world in a simulator that has not started yet."""
    if sim.started:
        raise RuntimeError("load the world before the simulator starts")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a simulator world (format {FORMAT})")
    store = sim.store
    decoder = _Decoder(store)
    for key, value in data["wifi"].items():
        setattr(sim.wifi, key, value)
    sim.config.drift = bool(data.get("drift", sim.config.drift))
    for app in map(decoder.decode, data["apps"]):
        store.apps[app.appid] = app
    for record in map(decoder.decode, data["factory"]):
        store.factory[record.deviceid] = record
    for account in map(decoder.decode, data["accounts"]):
        store.accounts[account.apikey] = account
    for session in map(decoder.decode, data["sessions"]):
        store.by_rt[session.rt] = session
        if not session.displaced:
            store.by_at[session.at] = session
            store.sessions[(session.account.apikey, session.appid)] = session
    for cloud in map(decoder.decode, data["cloud_devices"]):
        cloud.online = False  # it comes online when its virtual device registers
        store.devices[cloud.deviceid] = cloud
    for group in map(decoder.decode, data["groups"]):
        store.groups[group.id] = group
    for gsm in map(decoder.decode, data["gsm"]):
        store.gsm[gsm.gsm_id] = gsm
    # Bridges before their children: a child's constructor registers it with its parent.
    pending = dict(data["devices"])
    while pending:
        ready = [
            d for d, v in pending.items() if v["parent"] is None or v["parent"] in sim.fleet.devices
        ]
        if not ready:
            raise ValueError(f"devices with unknown bridges: {sorted(pending)}")
        for deviceid in ready:
            saved = pending.pop(deviceid)
            if deviceid in data["unpaired"]:
                _load_unpaired(sim, deviceid, saved["params"], data["unpaired"][deviceid])
                continue
            device = VirtualDevice(
                sim.fleet,
                store.factory[deviceid],
                params=saved["params"],
                parent=sim.fleet.devices[saved["parent"]] if saved["parent"] else None,
                ssid=sim.wifi.ssid,
            )
            device.want_online = bool(saved["want_online"])
            sim.fleet.devices[deviceid] = device
            if sim.config.lan:
                sim.lan.auto_attach(device)
    _LOGGER.info(
        "world loaded from %s: %d accounts, %d sessions, %d devices",
        path,
        len(store.accounts),
        len(store.by_rt),
        len(sim.fleet.devices),
    )


def _load_unpaired(sim: Simulator, deviceid: str, params: Any, spec: dict[str, Any]) -> None:
    """A device that was in pairing mode is in pairing mode again (new ports unless fixed)."""
    device = VirtualDevice(
        sim.fleet, sim.store.factory[deviceid], params=params, ssid=sim.wifi.ssid
    )
    sim.fleet.devices[deviceid] = device
    sim.unpaired[deviceid] = UnpairedDevice(
        device, config=sim.config, wifi=lambda: sim.wifi, **{k: spec[k] for k in _UNPAIRED_KEYS}
    )
