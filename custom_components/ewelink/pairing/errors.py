"""Errors raised by the pairing library.

Every error derives from :class:`PairingError` and carries a stable, machine-readable
:attr:`PairingError.reason` (an :class:`ErrorReason`, which is a ``str``) that a config flow
can use directly as a translation key. Messages are for logs and developers; they never
contain the Wi-Fi password or the device key (``apikey``).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorReason(StrEnum):
    """Stable reasons carried by :class:`PairingError` and its subclasses."""

    # Input validation (InvalidPairingInputError)
    SSID_EMPTY = "ssid_empty"
    SSID_TOO_LONG = "ssid_too_long"
    PASSWORD_LENGTH = "password_length"  # noqa: S105 - a reason code, not a secret
    CONTROL_CHARACTERS = "control_characters"
    ENCODING = "encoding"
    BSSID_INVALID = "bssid_invalid"
    IP_INVALID = "ip_invalid"
    TARGET_INVALID = "target_invalid"
    PORT_INVALID = "port_invalid"
    SERVER_INVALID = "server_invalid"
    REGION_UNKNOWN = "region_unknown"
    PAYLOAD_TOO_LONG = "payload_too_long"
    # ESP-Touch
    ESPTOUCH_FAILED = "esptouch_failed"
    NO_ACK = "no_ack"
    SOCKET_ERROR = "socket_error"
    # AP / device HTTP
    DEVICE_ERROR = "device_error"
    DEVICE_UNREACHABLE = "device_unreachable"
    INVALID_RESPONSE = "invalid_response"
    DEVICE_REJECTED = "device_rejected"
    # Fallback
    UNKNOWN = "unknown"


class PairingError(Exception):
    """Base class of every error raised by the pairing library."""

    default_reason: ErrorReason = ErrorReason.UNKNOWN

    def __init__(self, message: str, *, reason: ErrorReason | None = None) -> None:
        """Store the message and the machine-readable reason."""
        super().__init__(message)
        self.reason: ErrorReason = reason if reason is not None else self.default_reason


class InvalidPairingInputError(PairingError, ValueError):
    """An input failed validation; nothing has been sent.

    :attr:`field` names the offending input (``"ssid"``, ``"password"``, ``"bssid"``, ...)
    so that a form can attach the error to the right field.
    """

    default_reason = ErrorReason.UNKNOWN

    def __init__(self, message: str, *, reason: ErrorReason, field: str | None = None) -> None:
        """Store message, reason and the offending field."""
        super().__init__(message, reason=reason)
        self.field = field


class EspTouchError(PairingError):
    """ESP-Touch provisioning failed."""

    default_reason = ErrorReason.ESPTOUCH_FAILED


class EspTouchTimeoutError(EspTouchError):
    """No valid ESP-Touch ACK arrived before the listen deadline."""

    default_reason = ErrorReason.NO_ACK


class EspTouchSocketError(EspTouchError):
    """A UDP socket could not be opened, bound or used (e.g. the ACK port is in use)."""

    default_reason = ErrorReason.SOCKET_ERROR


class DeviceApError(PairingError):
    """The device-local HTTP exchange (``GET /device``, ``POST /ap``) failed."""

    default_reason = ErrorReason.DEVICE_ERROR


class DeviceUnreachableError(DeviceApError):
    """The device did not answer after every configured attempt."""

    default_reason = ErrorReason.DEVICE_UNREACHABLE

    def __init__(self, message: str, *, attempts: int, refused: bool = False) -> None:
        """Store how many attempts were made, and whether the address refused at once.

        ``refused`` is True for "connection refused" or "no route to host": the address
        answered (or the network said) that no device is there, so no retry was made.
        """
        super().__init__(message)
        self.attempts = attempts
        self.refused = refused


class DeviceResponseError(DeviceApError):
    """The device answered with something that is not the documented shape.

    :attr:`detail` is one of ``"http_status"``, ``"not_json"``, ``"not_object"``,
    ``"missing_field"``, ``"bad_field"``.
    """

    default_reason = ErrorReason.INVALID_RESPONSE

    def __init__(self, message: str, *, detail: str) -> None:
        """Store the detail code."""
        super().__init__(message)
        self.detail = detail


class DeviceRejectedError(DeviceApError):
    """``POST /ap`` answered with a non-zero ``error``."""

    default_reason = ErrorReason.DEVICE_REJECTED

    def __init__(self, message: str, *, error_code: object) -> None:
        """Store the device's error value."""
        super().__init__(message)
        self.error_code = error_code
