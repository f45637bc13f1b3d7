"""mDNS announcements of eWeLink devices: validation and parsing (lan-protocol.md §2).

`parse_announcement` is a pure function from what a DNS-SD browser resolves (service name,
addresses, port, TXT properties) to an immutable `Announcement`. Decryption waits until the
devicekey is known: `Announcement.params(devicekey)`. Invalid input gives None and one debug
line, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import ipaddress
import logging
import re
from typing import Any

from .const import DEFAULT_PORT, SERVICE_TYPE, SUPPORTED_APIVERS
from .crypto import BLOCK, b64decode, decrypt_params, loads_params
from .errors import LanDecryptError, LanKeyRequiredError

_LOGGER = logging.getLogger(__name__)

MAX_TXT_STRING = 255
"""A DNS-SD TXT string (`key=value`) is at most 255 bytes."""
MAX_TXT_TOTAL = 8900
"""Refuse TXT records larger than a jumbo mDNS packet (devices stay under 1300 bytes)."""
MAX_CHUNKS = 36

_NAME = re.compile(r"^ewelink_([0-9a-f]{10})(?![0-9a-z])", re.IGNORECASE)
_ID = re.compile(r"^[0-9A-Za-z]{1,32}$")
_TYPE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
_DATA_KEY = re.compile(r"^data([1-9][0-9]?)$")
_SUFFIX = "." + SERVICE_TYPE

type Properties = Mapping[bytes, bytes | None] | Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class Announcement:
    """One device announcement (a TXT record plus where the device listens)."""

    deviceid: str
    """The device id from the instance name (for SPM-Main sub-units: the main device)."""
    subdevid: str | None
    """TXT `id` when it differs from `deviceid` (an SPM-Main sub-unit)."""
    local_type: str | None
    seq: int | None
    encrypted: bool
    iv: str | None = field(repr=False)
    data: str = field(repr=False)
    """`data1..N` joined in numeric order: base64 ciphertext, or plaintext JSON (DIY)."""
    host: str | None
    """First IPv4 address, or None when the A record did not come (see the discovery's fallback)."""
    port: int
    addresses: tuple[str, ...] = ()
    name: str = ""
    """The mDNS instance name (`eWeLink_1000abcdef`)."""
    apivers: int | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """Return what the state counter `seq` belongs to: (device, sub-unit)."""
        return self.deviceid, self.subdevid

    @property
    def has_data(self) -> bool:
        """Return True when the announcement carries params (empty data means alive only, Q5)."""
        return bool(self.data)

    def params(self, devicekey: str | None = None) -> dict[str, Any]:
        """Return the announced params (a fresh dict; empty when there are none).

        Encrypted data needs the devicekey (LanKeyRequiredError without it) and raises
        LanDecryptError when it cannot be decrypted with it. Plaintext was validated when parsed.
        """
        if not self.data:
            return {}
        if not self.encrypted:
            return loads_params(self.data)
        if not devicekey:
            raise LanKeyRequiredError(f"device {self.deviceid} encrypts and no devicekey is known")
        return decrypt_params(self.data, self.iv, devicekey)


def device_id_from_name(name: str) -> str | None:
    """Return the device id of an `eWeLink_<id>` (or `eWelink_`) instance, else None.

    Accepts the instance alone or the full service name; iHost and ZbBridge-U instances
    (`ihost-...`, `zbbridgeu-...`) and anything else give None.
    """
    instance = name.removesuffix(_SUFFIX).removesuffix(SERVICE_TYPE.rstrip("."))
    match = _NAME.match(instance)
    return match.group(1).lower() if match else None


def parse_announcement(
    name: str,
    addresses: Iterable[str | bytes],
    port: int | None,
    properties: Properties,
) -> Announcement | None:
    """Parse one resolved service; return None (with one debug line) when it is not valid."""
    try:
        return _parse(name, addresses, port, properties)
    except _InvalidError as err:
        _LOGGER.debug("Ignoring the announcement of %.80r: %s", name, err)
        return None


class _InvalidError(Exception):
    """One reason an announcement is not valid."""


def _parse(name: object, addresses: object, port: object, properties: object) -> Announcement:
    if not isinstance(name, str) or len(name) > 255:
        raise _InvalidError("bad service name")
    deviceid = device_id_from_name(name)
    if deviceid is None:
        raise _InvalidError("not an eWeLink device instance")
    txt, raw_data = _txt(properties)
    subdevid = _optional(txt, "id", _ID)
    local_type = _optional(txt, "type", _TYPE)
    seq = _integer(txt.get("seq"), "seq")
    apivers = _integer(txt.get("apivers"), "apivers")
    encrypted = (txt.get("encrypt") or "").lower() in ("true", "1")
    data = _text(raw_data, "data")
    iv = txt.get("iv") or None
    if apivers is not None and apivers > SUPPORTED_APIVERS:
        _LOGGER.debug("Not parsing data of %s: apivers %d", deviceid, apivers)
        data = ""
    if data and encrypted:
        _check_ciphertext(data, iv)
    elif data:
        _check_plaintext(data)
    ipv4, others = _addresses(addresses)
    return Announcement(
        deviceid=deviceid,
        subdevid=None if subdevid is None or subdevid.lower() == deviceid else subdevid,
        local_type=local_type,
        seq=seq,
        encrypted=encrypted,
        iv=iv if encrypted else None,
        data=data,
        host=ipv4[0] if ipv4 else None,
        port=_port(port),
        addresses=(*ipv4, *others),
        name=name.removesuffix(_SUFFIX),
        apivers=apivers,
    )


def _txt(properties: object) -> tuple[dict[str, str], bytes]:
    if not isinstance(properties, Mapping):
        raise _InvalidError("TXT properties are not a mapping")
    txt: dict[str, str] = {}
    raw_data: dict[str, bytes] = {}
    total = 0
    for raw_key, raw_value in properties.items():
        key = _text(raw_key, "TXT key")
        value = b"" if raw_value is None else _bytes(raw_value)
        size = len(key.encode()) + 1 + len(value)
        if size > MAX_TXT_STRING:
            raise _InvalidError(f"TXT string {key!r} longer than 255 bytes")
        total += size + 1
        key = key.lower()
        if _DATA_KEY.match(key):
            raw_data[key] = value  # chunks are joined as bytes: a split may cut a character
        else:
            txt[key] = _text(value, f"TXT {key}")
    if total > MAX_TXT_TOTAL:
        raise _InvalidError("TXT record too large")
    return txt, _join_chunks(raw_data) if raw_data else b""


def _join_chunks(chunks: dict[str, bytes]) -> bytes:
    numbers = sorted(int(key[4:]) for key in chunks)
    if len(numbers) > MAX_CHUNKS or numbers != list(range(1, len(numbers) + 1)):
        raise _InvalidError("dataN chunks are not data1..dataN")
    return b"".join(chunks[f"data{n}"] for n in numbers)


def _text(value: object, what: str) -> str:
    raw = _bytes(value)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise _InvalidError(f"{what} is not UTF-8") from None
    if what == "TXT key" and (not text or "=" in text):
        raise _InvalidError("bad TXT key")
    return text


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise _InvalidError(f"TXT value of type {type(value).__name__}")


def _optional(txt: dict[str, str], key: str, pattern: re.Pattern[str]) -> str | None:
    value = txt.get(key)
    if value is None or value == "":
        return None
    if not pattern.match(value):
        raise _InvalidError(f"bad {key}")
    return value


def _integer(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise _InvalidError(f"bad {what}")
    return int(value)


def _check_ciphertext(data: str, iv: str | None) -> None:
    try:
        raw = b64decode(data)
        raw_iv = b64decode(iv or "")
    except ValueError:
        raise _InvalidError("encrypted data or iv is not base64") from None
    if len(raw_iv) != BLOCK:
        raise _InvalidError("the iv is not 16 bytes")
    if not raw or len(raw) % BLOCK:
        raise _InvalidError("the ciphertext is not a whole number of blocks")


def _check_plaintext(data: str) -> None:
    try:
        loads_params(data)
    except LanDecryptError as err:
        raise _InvalidError(f"plaintext {err}") from None


def _addresses(addresses: object) -> tuple[list[str], list[str]]:
    if isinstance(addresses, (str, bytes)) or not isinstance(addresses, Iterable):
        raise _InvalidError("addresses are not a list")
    ipv4: list[str] = []
    others: list[str] = []
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw if isinstance(raw, str) else bytes(raw))
        except ValueError, TypeError:
            raise _InvalidError("bad address") from None
        bucket = ipv4 if address.version == 4 else others
        if str(address) not in bucket:
            bucket.append(str(address))
    return ipv4, others


def _port(port: object) -> int:
    if port is None or port == 0:
        return DEFAULT_PORT
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise _InvalidError("bad port")
    return port
