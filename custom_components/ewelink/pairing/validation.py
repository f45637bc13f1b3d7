"""Validation of Wi-Fi credentials and addresses before anything is sent.

A config flow calls :func:`wifi_credentials_errors` (one reason per field, ready for the
form's ``errors`` dict) or :func:`validate_wifi_credentials` (raises the first problem as
:class:`InvalidPairingInputError`). The rules are the ones every pairing path shares
(pairing.md §3.8, §1.2):

* SSID: 1..32 bytes of UTF-8, no control characters. Leading/trailing spaces are kept:
  they are legal in an SSID.
* Password: empty (open network), or a WPA passphrase of 8..63 characters, or exactly 64
  hexadecimal digits (a raw PSK); no control characters. The UTF-8 form must also fit
  the device's 64-byte buffer, so a long non-ASCII passphrase is rejected with
  ``password_length`` as well.
* BSSID (optional): six hex octets separated consistently by ``:`` or ``-``, or 12 bare hex
  digits. An empty string means "not given".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import ipaddress
import re
import string
import unicodedata

from .errors import ErrorReason, InvalidPairingInputError

SSID_MAX_BYTES = 32
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 63
PSK_HEX_CHARS = 64
PASSWORD_MAX_BYTES = 64

_BSSID_RE = re.compile(r"^[0-9a-fA-F]{2}([:-]?)[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){4}$")
_HEX_DIGITS = frozenset(string.hexdigits)


@dataclass(frozen=True, slots=True)
class WifiCredentials:
    """Validated Wi-Fi credentials. The password is kept out of ``repr``."""

    ssid: str
    password: str = field(repr=False)
    bssid: bytes | None = None

    @property
    def ssid_bytes(self) -> bytes:
        """The SSID as UTF-8 bytes."""
        return self.ssid.encode("utf-8")

    @property
    def password_bytes(self) -> bytes:
        """The password as UTF-8 bytes."""
        return self.password.encode("utf-8")


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPairingInputError(
            f"{what} cannot be encoded as UTF-8", reason=ErrorReason.ENCODING, field=what
        ) from None


def validate_ssid(ssid: str) -> bytes:
    """Check an SSID and return its UTF-8 bytes."""
    if not ssid:
        raise InvalidPairingInputError("SSID is empty", reason=ErrorReason.SSID_EMPTY, field="ssid")
    if _has_control_characters(ssid):
        raise InvalidPairingInputError(
            "SSID contains control characters",
            reason=ErrorReason.CONTROL_CHARACTERS,
            field="ssid",
        )
    data = _utf8(ssid, "ssid")
    if len(data) > SSID_MAX_BYTES:
        raise InvalidPairingInputError(
            f"SSID is {len(data)} bytes long; at most {SSID_MAX_BYTES} bytes are allowed",
            reason=ErrorReason.SSID_TOO_LONG,
            field="ssid",
        )
    return data


def validate_password(password: str) -> bytes:
    """Check a Wi-Fi password and return its UTF-8 bytes.

    The error message states the rule but never echoes the password.
    """
    if not password:
        return b""
    if _has_control_characters(password):
        raise InvalidPairingInputError(
            "password contains control characters",
            reason=ErrorReason.CONTROL_CHARACTERS,
            field="password",
        )
    data = _utf8(password, "password")
    if len(password) == PSK_HEX_CHARS and set(password) <= _HEX_DIGITS:
        return data
    if (
        not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS
        or len(data) > PASSWORD_MAX_BYTES
    ):
        raise InvalidPairingInputError(
            "password must be empty, 8 to 63 characters, or 64 hexadecimal digits",
            reason=ErrorReason.PASSWORD_LENGTH,
            field="password",
        )
    return data


def parse_bssid(bssid: str) -> bytes:
    """Parse a BSSID/MAC such as ``aa:bb:cc:dd:ee:ff`` into six bytes."""
    text = bssid.strip()
    if not _BSSID_RE.fullmatch(text):
        raise InvalidPairingInputError(
            "BSSID must be six hexadecimal octets such as aa:bb:cc:dd:ee:ff",
            reason=ErrorReason.BSSID_INVALID,
            field="bssid",
        )
    return bytes.fromhex(text.replace(":", "").replace("-", ""))


def format_mac(data: bytes) -> str:
    """Format six bytes as a lower-case, colon-separated MAC address."""
    return ":".join(f"{byte:02x}" for byte in data)


def validate_ipv4(address: str, *, field_name: str = "ip") -> bytes:
    """Check a dotted IPv4 address and return its four bytes (network order)."""
    try:
        return ipaddress.IPv4Address(address).packed
    except ValueError:
        raise InvalidPairingInputError(
            f"{field_name} must be an IPv4 address", reason=ErrorReason.IP_INVALID, field=field_name
        ) from None


def validate_port(port: int, *, field_name: str = "port") -> int:
    """Check a TCP/UDP port number (a real ``int``, not ``bool`` or ``str``), 1..65535."""
    if type(port) is not int or not 1 <= port <= 65535:
        raise InvalidPairingInputError(
            f"{field_name} must be an integer from 1 to 65535",
            reason=ErrorReason.PORT_INVALID,
            field=field_name,
        )
    return port


def validate_wifi_credentials(
    ssid: str, password: str, bssid: str | None = None
) -> WifiCredentials:
    """Validate SSID, password and optional BSSID; raise the first problem found.

    Raises :class:`InvalidPairingInputError` whose ``reason`` is one of ``ssid_empty``,
    ``ssid_too_long``, ``password_length``, ``control_characters``, ``encoding`` or
    ``bssid_invalid`` and whose ``field`` is ``ssid``, ``password`` or ``bssid``.
    """
    validate_ssid(ssid)
    validate_password(password)
    bssid_bytes = parse_bssid(bssid) if bssid is not None and bssid.strip() else None
    return WifiCredentials(ssid=ssid, password=password, bssid=bssid_bytes)


def wifi_credentials_errors(
    ssid: str, password: str, bssid: str | None = None
) -> dict[str, ErrorReason]:
    """Return ``{field: reason}`` for every invalid field (empty when all are valid).

    Suitable as the ``errors`` mapping of a Home Assistant form; the reasons are the same
    strings :func:`validate_wifi_credentials` raises.
    """
    checks: dict[str, Callable[[], object]] = {
        "ssid": lambda: validate_ssid(ssid),
        "password": lambda: validate_password(password),
    }
    if bssid is not None and bssid.strip():
        checks["bssid"] = lambda: parse_bssid(bssid)
    errors: dict[str, ErrorReason] = {}
    for name, check in checks.items():
        reason = _failure_reason(check)
        if reason is not None:
            errors[name] = reason
    return errors


def _failure_reason(check: Callable[[], object]) -> ErrorReason | None:
    try:
        check()
    except InvalidPairingInputError as err:
        return err.reason
    return None
