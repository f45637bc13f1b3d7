"""The LAN HTTP client: `POST http://<ip>:<port>/zeroconf/<command>` (lan-protocol.md §4).

One request at a time per device (its HTTP server resets a second concurrent connection, Q7),
at least 200 ms apart, `Connection: close`, retried on a connection reset. The whole call,
queueing included, is bounded by one short timeout so the caller can fall back to the cloud.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
import errno
import json
import logging
import time
from typing import Any

import aiohttp
from yarl import URL

from .announcement import Announcement
from .commands import command_for, valid_command
from .const import (
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    MIN_SPACING,
    RESET_DELAY,
    RESET_RETRIES,
    SELF_APIKEY,
)
from .crypto import decrypt_params, encrypt_params, loads_params
from .errors import (
    LanDecryptError,
    LanError,
    LanKeyRequiredError,
    LanProtocolError,
    LanRejectedError,
    LanTimeoutError,
    LanUnreachableError,
)

_LOGGER = logging.getLogger(__name__)

MAX_REPLY = 64 * 1024
_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})
_HEADERS = {"Content-Type": "application/json", "Connection": "close"}


@dataclass(frozen=True, slots=True)
class LanTarget:
    """Where and how to reach one device: its address and its devicekey (None = DIY, plaintext)."""

    deviceid: str
    host: str
    port: int = DEFAULT_PORT
    devicekey: str | None = field(default=None, repr=False)

    @classmethod
    def from_announcement(cls, announcement: Announcement, devicekey: str | None) -> LanTarget:
        """Build the target of an announced device.

        The devicekey is used only when the device encrypts (a device that announces in
        plaintext is in DIY mode and takes plaintext, lan-protocol.md §5.1). Raises
        LanKeyRequiredError when it encrypts and no key is given, LanUnreachableError when no
        address is known.
        """
        if announcement.host is None:
            raise LanUnreachableError(f"no address known for {announcement.deviceid}")
        if announcement.encrypted and not devicekey:
            raise LanKeyRequiredError(f"device {announcement.deviceid} needs its devicekey")
        return cls(
            announcement.deviceid,
            announcement.host,
            announcement.port,
            devicekey if announcement.encrypted else None,
        )

    @property
    def encrypted(self) -> bool:
        """Return True when commands are encrypted (eWeLink mode)."""
        return bool(self.devicekey)


@dataclass(frozen=True, slots=True)
class LanReply:
    """A successful reply (`error` 0)."""

    command: str
    seq: int | None
    """The device's state counter after the command (the same series as the TXT `seq`)."""
    sequence: str | None
    """The echo of the request's `sequence`."""
    params: dict[str, Any] | None = field(default=None, repr=False)
    """The new state when the device returned it (newer firmware), or a DIY query's data."""
    undecryptable: bool = False
    """The reply carried encrypted data that could not be decrypted (params is None)."""


@dataclass(slots=True)
class _Endpoint:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready_at: float = 0.0


class LanClient:
    """Send commands to devices on the LAN; share one instance per HTTP session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        spacing: float = MIN_SPACING,
        reset_retries: int = RESET_RETRIES,
        reset_delay: float = RESET_DELAY,
        self_apikey: str = SELF_APIKEY,
    ) -> None:
        """Use an injected aiohttp session (Home Assistant's shared one is fine)."""
        self._session = session
        self.timeout = timeout
        self.spacing = spacing
        self.reset_retries = reset_retries
        self.reset_delay = reset_delay
        self._self_apikey = self_apikey
        self._endpoints: dict[tuple[str, int], _Endpoint] = {}
        self._last_sequence = 0
        self.stats: dict[str, int] = dict.fromkeys(
            ("requests", "ok", "rejected", "protocol", "timeouts", "unreachable", "retries"), 0
        )

    async def send(
        self,
        target: LanTarget,
        params: Mapping[str, Any],
        *,
        command: str | None = None,
        subdevid: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> LanReply:
        """Send params to a device; return its reply or raise a LanError.

        The path is `command`, else chosen from the params (`command_for`). `subdevid` addresses
        a sub-device through its parent (SPM-4Relay under SPM-Main): it goes inside `data`. The
        timeout (default: the client's) covers waiting for the device's previous request, the
        spacing, the retries and the answer.
        """
        command = command or command_for(params)
        if not valid_command(command):
            raise ValueError("invalid command path")
        data = dict(params)
        if subdevid is not None:
            data["subDevId"] = subdevid
        limit = self.timeout if timeout is None else timeout
        endpoint = self._endpoints.setdefault((target.host, target.port), _Endpoint())
        self.stats["requests"] += 1
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit):
                async with endpoint.lock:
                    delay = endpoint.ready_at - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    try:
                        reply = await self._attempts(target, command, data)
                    finally:
                        endpoint.ready_at = loop.time() + self.spacing
        except TimeoutError:
            self.stats["timeouts"] += 1
            _LOGGER.debug("LAN %s %s: no answer in %.1f s", target.deviceid, command, limit)
            raise LanTimeoutError(
                f"device {target.deviceid} did not answer {command} in {limit:.1f} s"
            ) from None
        except LanRejectedError:
            self.stats["rejected"] += 1
            raise
        except LanProtocolError:
            self.stats["protocol"] += 1
            raise
        except LanUnreachableError:
            self.stats["unreachable"] += 1
            raise
        self.stats["ok"] += 1
        return reply

    async def get_state(
        self,
        target: LanTarget,
        *,
        subdevid: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> LanReply:
        """Ask for the state (`getState`); not every firmware supports it (Q6)."""
        return await self.send(target, {}, command="getState", subdevid=subdevid, timeout=timeout)

    async def ping(self, target: LanTarget, *, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Return True when the device answers at all (any JSON error or an HTML page counts)."""
        try:
            await self.get_state(target, timeout=timeout)
        except LanRejectedError, LanProtocolError:
            return True
        except LanError:
            return False
        return True

    # Internals -------------------------------------------------------------------------------
    def _sequence(self) -> str:
        now = int(time.time() * 1000)
        self._last_sequence = max(now, self._last_sequence + 1)
        return str(self._last_sequence)

    def _body(self, target: LanTarget, data: dict[str, Any]) -> tuple[bytes, str]:
        sequence = self._sequence()
        body: dict[str, Any] = {
            "sequence": sequence,
            "deviceid": target.deviceid,
            "selfApikey": self._self_apikey,
        }
        if target.devicekey:
            ciphertext, iv = encrypt_params(data, target.devicekey)
            body.update(encrypt=True, iv=iv, data=ciphertext)
        else:
            body["data"] = data
        return json.dumps(body, separators=(",", ":")).encode(), sequence

    async def _attempts(self, target: LanTarget, command: str, data: dict[str, Any]) -> LanReply:
        raw, sequence = self._body(target, data)
        url = URL.build(
            scheme="http", host=target.host, port=target.port, path=f"/zeroconf/{command}"
        )
        attempt = 0
        while True:
            try:
                async with self._session.post(url, data=raw, headers=_HEADERS) as resp:
                    body = await resp.content.read(MAX_REPLY + 1)
                    status = resp.status
                    content_type = resp.content_type
                break
            except aiohttp.ClientConnectorError as err:
                raise LanUnreachableError(
                    f"cannot connect to {target.deviceid} at {target.host}:{target.port}"
                    f" ({err.os_error.strerror or type(err.os_error).__name__})"
                ) from None
            except (aiohttp.ClientError, OSError) as err:
                if not _is_reset(err) or attempt >= self.reset_retries:
                    raise LanUnreachableError(
                        f"connection to {target.deviceid} failed: {type(err).__name__}"
                    ) from None
            attempt += 1
            self.stats["retries"] += 1
            await asyncio.sleep(self.reset_delay)
        _LOGGER.debug(
            "LAN %s %s:%d/%s: HTTP %d after %d retries",
            target.deviceid, target.host, target.port, command, status, attempt,
        )  # fmt: skip
        return _parse_reply(
            target, command, sequence, status=status, content_type=content_type, body=body
        )


def _is_reset(err: BaseException) -> bool:
    if isinstance(err, (aiohttp.ServerDisconnectedError, ConnectionResetError)):
        return True
    return isinstance(err, OSError) and err.errno in _RESET_ERRNOS


def _parse_reply(
    target: LanTarget,
    command: str,
    sequence: str,
    *,
    status: int,
    content_type: str,
    body: bytes,
) -> LanReply:
    if len(body) > MAX_REPLY:
        raise LanProtocolError(f"{target.deviceid} answered {command} with too much data")
    if content_type == "text/html" or body.lstrip()[:1] == b"<":
        raise LanProtocolError(
            f"{target.deviceid} answered {command} with an HTML page", status=status, html=True
        )
    try:
        reply = json.loads(body)
    except ValueError, RecursionError:
        reply = None
    if not isinstance(reply, dict):
        raise LanProtocolError(
            f"{target.deviceid} answered {command} with HTTP {status} and no JSON object",
            status=status,
        )
    error = _integer(reply.get("error"))
    seq = _integer(reply.get("seq"))
    if error is None and status == 200:
        raise LanProtocolError(f"{target.deviceid} answered {command} without an error code")
    if error is None or (status != 200 and error == 0):
        error = status
    if error != 0:
        raise LanRejectedError(error, seq=seq, command=command)
    echoed = reply.get("sequence")
    params, undecryptable = _reply_params(target, reply)
    return LanReply(
        command=command,
        seq=seq,
        sequence=str(echoed) if isinstance(echoed, (str, int)) else sequence,
        params=params,
        undecryptable=undecryptable,
    )


def _reply_params(target: LanTarget, reply: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    data = reply.get("data")
    if isinstance(data, dict):
        return data, False
    if not isinstance(data, str) or not data:
        return None, False
    encrypted = reply.get("encrypt") is True or isinstance(reply.get("iv"), str)
    try:
        if not encrypted:
            return loads_params(data), False  # DIY fw 3.3.0: data is a JSON string
        if not target.devicekey:
            return None, True
        iv = reply.get("iv")
        return decrypt_params(data, iv if isinstance(iv, str) else None, target.devicekey), False
    except LanDecryptError:
        _LOGGER.debug("LAN %s: the reply's data could not be read", target.deviceid)
        return None, encrypted


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if (
        isinstance(value, str)
        and value.isascii()
        and value.lstrip("-").isdigit()
        and len(value) < 16
    ):
        return int(value)
    return None
