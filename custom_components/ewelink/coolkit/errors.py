"""Errors raised by the CoolKit client.

Messages carry codes and the cloud's short `msg`, never tokens, passwords, apikeys or device keys.
"""

from __future__ import annotations


class CoolkitError(Exception):
    """Base class of every client error."""


class CoolkitConnectionError(CoolkitError):
    """The cloud could not be reached, answered garbage, or a server error (5xx)."""


class NotConnectedError(CoolkitConnectionError):
    """A command needs the long connection, which is down."""


class CoolkitServerError(CoolkitConnectionError):
    """The cloud answered with an HTTP server error (5xx)."""

    def __init__(self, status: int, path: str = "") -> None:
        """Keep the HTTP status."""
        self.status = status
        super().__init__(f"{path}: HTTP {status}" if path else f"HTTP {status}")


class CoolkitTimeoutError(CoolkitConnectionError):
    """The cloud did not answer in time."""


class CoolkitApiError(CoolkitError):
    """The cloud answered with a non-zero `error` code."""

    def __init__(self, code: int, msg: str = "", path: str = "") -> None:
        """Keep the code and the cloud's message (trimmed)."""
        self.code = code
        self.msg = msg[:120]
        self.path = path
        where = f" on {path}" if path else ""
        super().__init__(f"error {code}{where}" + (f": {self.msg}" if self.msg else ""))


class InvalidCredentialsError(CoolkitApiError):
    """Wrong account or password (10001, 10003, 10014)."""


class InvalidAppCredentialsError(CoolkitApiError):
    """The signature was refused (400): the app secret does not belong to the app ID."""


class AppNotPermittedError(CoolkitApiError):
    """The app ID may not do this (407) or has expired (408)."""


class RateLimitedError(CoolkitApiError):
    """Too many calls (412, or the quota's HTTP 403); `retry_after` is a hint in seconds."""

    def __init__(self, code: int, msg: str = "", path: str = "", retry_after: float = 60.0) -> None:
        """Keep the retry hint."""
        super().__init__(code, msg, path)
        self.retry_after = retry_after


class RegionError(CoolkitApiError):
    """The account's region could not be found or is unknown to this client."""


class OAuthCodeError(CoolkitApiError):
    """The OAuth2 code is invalid, expired or already used (405)."""


class DeviceOfflineError(CoolkitApiError):
    """The device is offline (4002, 503, 30022)."""


class DeviceTimeoutError(CoolkitApiError):
    """The device did not answer in time (504, or no ack before our timeout)."""


class AckTimeoutError(DeviceTimeoutError):
    """No answer to a websocket command before our timeout: the socket may be dead, not the device."""


class CommandRejectedError(CoolkitApiError):
    """The cloud refused the command (406: no permission for this device)."""


class AuthError(CoolkitError):
    """Base of the errors that need the owner to act on the session."""


class ReauthRequiredError(AuthError):
    """The tokens cannot be renewed (refresh failed or refresh token expired): sign in again."""


class SessionTakenOverError(AuthError):
    """The access token was revoked (REST 401, websocket 406): usually another login with the same app ID.

    `retry_after` is how long the session is left to the other client before it is taken back
    (0 when unknown).
    """

    def __init__(self, message: str = "", retry_after: float = 0.0) -> None:
        """Keep the hold."""
        super().__init__(message)
        self.retry_after = retry_after
