"""eWeLink device-local pairing over HTTP (AP mode, and Touch mode after the ACK).

In AP ("compatible") mode the device opens the hotspot ``ITEAD-<deviceid>`` (password
``12345678``) and serves plain HTTP at ``10.10.7.1:80`` (or the hotspot's gateway). In
Touch mode the same two calls go to the LAN address from the ESP-Touch ACK
(pairing.md §3.2-§3.5):

1. ``GET /device`` returns ``deviceid``, ``apikey`` (the device key, a secret), ``chipid``
   (missing on older firmware) and ``accept``.
2. ``POST /ap`` with ``{"port": <number>, "serverName": <dispatch host>, "password", "ssid"}``
   returns ``{"error": 0}``. The device answers *before* it tries the credentials, so a
   wrong Wi-Fi password is never reported here; it shows only as the device not coming
   online (pairing.md §3.8).

Order: AP mode sends ``POST /ap`` first and binds the device to the account
(``POST /v2/device/add`` with :func:`bind_digest`) after returning to the home network;
Touch mode binds between the two calls.

CoolKit says the app retries "5 times with a total interval of 70 seconds". Here each call
makes ``attempts`` (5) tries whose starts are ``retry_interval`` (14 s) apart, each limited
to ``request_timeout`` (10 s): at most about 66 s. Only transport failures, timeouts and
HTTP 5xx are retried. With ``retry_refused=False`` (AP mode: the hotspot's server is up as soon
as the hotspot is), "connection refused" (something at that address, but no device server) and
"no route to host" (this host is not on the device's network) fail at once, since waiting does
not change them; in Touch mode the device's server may start a moment after its ACK, so they
are retried there. A retried ``POST /ap`` whose first answer was lost may find the device
already gone from its hotspot, which then reports as unreachable. ``on_attempt`` is told about
each try, so a user interface can say which one is running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import errno
import hashlib
import json
import logging
import re
from typing import Final
from urllib.parse import parse_qs, urlsplit

import aiohttp
from yarl import URL

from .errors import (
    DeviceRejectedError,
    DeviceResponseError,
    DeviceUnreachableError,
    ErrorReason,
    InvalidPairingInputError,
)
from .validation import validate_port, validate_wifi_credentials

_LOGGER = logging.getLogger(__name__)

DEFAULT_DEVICE_HOST: Final = "10.10.7.1"
DEFAULT_DEVICE_PORT: Final = 80
DEFAULT_ATTEMPTS: Final = 5
DEFAULT_RETRY_INTERVAL: Final = 14.0
DEFAULT_REQUEST_TIMEOUT: Final = 10.0
DISPATCH_PORT: Final = 443
REGIONS: Final = frozenset({"cn", "as", "us", "eu"})

REQUEST_HEADERS: Final = {
    "Accept": "application/json",
    "Content-Type": "application/json; charset=utf-8",
    "Package-Name": "com.coolkit",
    "Cache-Control": "no-store",
}
_MAX_HOST_LENGTH: Final = 253
# Connection errors that a retry cannot fix (the address answers "no", or is not reachable).
FINAL_ERRNOS: Final = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}
)

type AttemptCallback = Callable[[str, int, int], None]
"""``on_attempt(request, attempt, attempts)``, e.g. ``("GET /device", 2, 5)``."""


def device_dispatch_host(region: str) -> tuple[str, int]:
    """Device dispatch host and port for an account region (``eu`` -> ``eu-dispd.coolkit.cc``).

    This is the ``serverName``/``port`` that real devices must be given in ``POST /ap``.
    Mainland China uses ``.coolkit.cn``. Unknown regions raise
    :class:`InvalidPairingInputError` (reason ``region_unknown``).
    """
    key = region.strip().lower()
    if key not in REGIONS:
        raise InvalidPairingInputError(
            f"unknown CoolKit region {region!r}", reason=ErrorReason.REGION_UNKNOWN, field="region"
        )
    tld = "cn" if key == "cn" else "cc"
    return f"{key}-dispd.coolkit.{tld}", DISPATCH_PORT


def bind_digest(deviceid: str, device_apikey: str) -> str:
    """``digest`` for ``POST /v2/device/add``: lower-case hex SHA-256 of ``deviceid + apikey``."""
    return hashlib.sha256((deviceid + device_apikey).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What ``GET /device`` reported. ``apikey`` is the device key: kept out of ``repr``."""

    deviceid: str
    apikey: str = field(repr=False)
    chipid: str | None = None
    accept: str | None = None

    @property
    def digest(self) -> str:
        """The bind digest for this device (see :func:`bind_digest`)."""
        return bind_digest(self.deviceid, self.apikey)


def validate_server(server_name: str, server_port: int) -> None:
    """Check the dispatch host and port given to the device (``port`` must be an int)."""
    if (
        not isinstance(server_name, str)
        or not server_name
        or len(server_name) > _MAX_HOST_LENGTH
        or any(char.isspace() or not char.isprintable() for char in server_name)
    ):
        raise InvalidPairingInputError(
            "server name must be a host name or address",
            reason=ErrorReason.SERVER_INVALID,
            field="server_name",
        )
    validate_port(server_port, field_name="server_port")


def _optional_text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int)):
        return str(value).strip() or None
    return None


def _required_text(answer: dict[str, object], key: str) -> str:
    value = answer.get(key)
    if value is None:
        raise DeviceResponseError(f"GET /device answer lacks {key!r}", detail="missing_field")
    if not isinstance(value, str) or not value.strip():
        raise DeviceResponseError(f"GET /device answer has an invalid {key!r}", detail="bad_field")
    return value.strip()


def parse_device_info(answer: dict[str, object]) -> DeviceInfo:
    """Build :class:`DeviceInfo` from a ``GET /device`` JSON object (lenient on extras)."""
    return DeviceInfo(
        deviceid=_required_text(answer, "deviceid"),
        apikey=_required_text(answer, "apikey"),
        chipid=_optional_text(answer.get("chipid")),
        accept=_optional_text(answer.get("accept")),
    )


def _check_ap_answer(answer: dict[str, object]) -> None:
    if "error" not in answer:
        raise DeviceResponseError("POST /ap answer lacks 'error'", detail="missing_field")
    error = answer["error"]
    if (type(error) is int and error == 0) or (isinstance(error, str) and error.strip() == "0"):
        return
    raise DeviceRejectedError(
        f"device refused the Wi-Fi settings (error {error!r})", error_code=error
    )


class DeviceApClient:
    """HTTP client for a device in pairing mode (``GET /device``, ``POST /ap``).

    Uses the injected ``aiohttp.ClientSession``; never closes it.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str = DEFAULT_DEVICE_HOST,
        port: int = DEFAULT_DEVICE_PORT,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        on_attempt: AttemptCallback | None = None,
        retry_refused: bool = True,
    ) -> None:
        """Configure the device address, the retry policy and who hears about each try."""
        if not host:
            raise InvalidPairingInputError(
                "device host is empty", reason=ErrorReason.IP_INVALID, field="host"
            )
        validate_port(port, field_name="device_port")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if retry_interval < 0 or request_timeout <= 0:
            raise ValueError("retry_interval must be >= 0 and request_timeout > 0")
        self._session = session
        self._host = host
        self._port = port
        self._attempts = attempts
        self._retry_interval = retry_interval
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._on_attempt = on_attempt
        self._retry_refused = retry_refused

    def __repr__(self) -> str:
        """Describe the client (no secrets)."""
        return f"<DeviceApClient http://{self._host}:{self._port}>"

    @property
    def host(self) -> str:
        """Device host."""
        return self._host

    @property
    def port(self) -> int:
        """Device HTTP port."""
        return self._port

    @property
    def attempts(self) -> int:
        """Tries per request."""
        return self._attempts

    async def get_device(self) -> DeviceInfo:
        """``GET /device``: read ``deviceid``, ``apikey``, ``chipid`` and ``accept``."""
        answer = await self._request("GET", "/device", None)
        info = parse_device_info(answer)
        _LOGGER.debug("Device %s answered GET /device", info.deviceid)
        return info

    async def send_wifi(
        self,
        ssid: str,
        password: str,
        server_name: str,
        server_port: int,
        *,
        version: int | None = None,
    ) -> None:
        """``POST /ap``: give the device the Wi-Fi credentials and its dispatch server.

        ``server_port`` is sent as a JSON number. ``version`` (e.g. ``4``, which
        reverse-engineered tools add; CoolKit's documentation omits it) is included only
        when given. Raises :class:`DeviceRejectedError` when ``error`` is not 0.
        """
        validate_wifi_credentials(ssid, password)
        validate_server(server_name, server_port)
        body: dict[str, object] = {
            "port": server_port,
            "serverName": server_name,
            "password": password,
            "ssid": ssid,
        }
        if version is not None:
            if type(version) is not int:
                raise TypeError("version must be an int")
            body["version"] = version
        answer = await self._request("POST", "/ap", body)
        _check_ap_answer(answer)
        _LOGGER.debug("Device at %s:%d accepted POST /ap", self._host, self._port)

    async def _request(
        self, method: str, path: str, body: dict[str, object] | None
    ) -> dict[str, object]:
        url = URL.build(scheme="http", host=self._host, port=self._port, path=path)
        data = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if body is not None
            else None
        )
        loop = asyncio.get_running_loop()
        start = loop.time()
        last_error = "no attempt made"
        last_exc: BaseException | None = None
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                delay = start + (attempt - 1) * self._retry_interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            if self._on_attempt is not None:
                self._on_attempt(f"{method} {path}", attempt, self._attempts)
            try:
                async with self._session.request(
                    method, url, data=data, headers=REQUEST_HEADERS, timeout=self._timeout
                ) as response:
                    status = response.status
                    raw = await response.read()
            except (aiohttp.ClientError, TimeoutError) as err:
                last_error = type(err).__name__
                last_exc = err
                if (
                    not self._retry_refused
                    and isinstance(err, aiohttp.ClientConnectorError)
                    and err.errno in FINAL_ERRNOS
                ):
                    _LOGGER.debug("%s %s: %s, not retried", method, path, err.strerror)
                    raise DeviceUnreachableError(
                        f"device at {self._host}:{self._port} did not answer {method} {path} "
                        f"({err.strerror or last_error})",
                        attempts=attempt,
                        refused=True,
                    ) from err
                _LOGGER.debug(
                    "%s %s attempt %d/%d failed: %s",
                    method,
                    path,
                    attempt,
                    self._attempts,
                    last_error,
                )
                continue
            if status >= 500:
                last_error = f"HTTP {status}"
                last_exc = None
                _LOGGER.debug(
                    "%s %s attempt %d/%d: HTTP %d", method, path, attempt, self._attempts, status
                )
                continue
            if status != 200:
                raise DeviceResponseError(
                    f"{method} {path} answered HTTP {status}", detail="http_status"
                )
            return _decode_object(raw, method, path)
        raise DeviceUnreachableError(
            f"device at {self._host}:{self._port} did not answer {method} {path} "
            f"after {self._attempts} attempts ({last_error})",
            attempts=self._attempts,
        ) from last_exc


def _decode_object(raw: bytes, method: str, path: str) -> dict[str, object]:
    # The body may contain the device key: keep it out of messages and exception chains
    # (a JSONDecodeError holds the whole document), so raise outside the except block.
    decoded: object
    try:
        decoded = json.loads(raw.decode("utf-8"))
        valid_json = True
    except UnicodeDecodeError, ValueError:
        decoded = None
        valid_json = False
    if not valid_json:
        raise DeviceResponseError(
            f"{method} {path} answer is not JSON ({len(raw)} bytes)", detail="not_json"
        )
    if not isinstance(decoded, dict):
        raise DeviceResponseError(
            f"{method} {path} answer is not a JSON object", detail="not_object"
        )
    return {str(key): value for key, value in decoded.items()}


async def ap_provision(
    session: aiohttp.ClientSession,
    ssid: str,
    password: str,
    *,
    server_name: str,
    server_port: int,
    host: str = DEFAULT_DEVICE_HOST,
    port: int = DEFAULT_DEVICE_PORT,
    attempts: int = DEFAULT_ATTEMPTS,
    retry_interval: float = DEFAULT_RETRY_INTERVAL,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    version: int | None = None,
) -> DeviceInfo:
    """AP-mode transfer: validate, ``GET /device``, then ``POST /ap``; return the device info.

    Bind the device to the account afterwards (``POST /v2/device/add`` with
    ``info.digest``), once the host is back on a network with Internet access.
    For a real device pass :func:`device_dispatch_host` of the account's region.
    """
    validate_wifi_credentials(ssid, password)
    validate_server(server_name, server_port)
    client = DeviceApClient(
        session,
        host,
        port,
        attempts=attempts,
        retry_interval=retry_interval,
        request_timeout=request_timeout,
    )
    info = await client.get_device()
    await client.send_wifi(ssid, password, server_name, server_port, version=version)
    return info


def parse_gsm_id(text: str) -> str:
    """Return the id of a GSM device from its label or the URL of its QR code (pairing.md §3.6).

    The QR code holds `.../addGsm?id=<gsmId>`; the domain may change, the query does not.
    Returns "" when the text holds no plausible id.
    """
    text = text.strip()
    if "://" in text or "?" in text:
        ids = parse_qs(urlsplit(text).query).get("id")
        return ids[0].strip() if ids else ""
    return text if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", text) else ""
