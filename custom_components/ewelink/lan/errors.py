"""Errors raised by the LAN client.

Messages carry device ids, hosts, ports and error codes, never a devicekey or a decrypted state.

How to react (lan-protocol.md §4.4, §7):

* :class:`LanConnectionError` (:class:`LanTimeoutError`, :class:`LanUnreachableError`): no
  answer at all; the device may be off the LAN. Fall back to the cloud.
* :class:`LanRejectedError`: the device answered with a non-zero `error` (it is reachable). 400
  and 422 mean "not over LAN" for this command (quirks Q6, Q10), 401 means it expects
  encryption. Fall back to the cloud.
* :class:`LanProtocolError`: the device answered, but not with the JSON the protocol describes
  (an HTML page, another HTTP status, garbage). It is reachable; fall back to the cloud.
* :class:`LanDecryptError`: data could not be decrypted with the devicekey (wrong key, or
  corrupt data). Raised when reading announcements, never by a command that the device accepted.
* :class:`LanKeyRequiredError`: the device encrypts but no devicekey is known.
"""

from __future__ import annotations


class LanError(Exception):
    """Base class of every LAN error."""


class LanConnectionError(LanError):
    """No answer: timeout, connection refused, reset (after the retries), no route."""


class LanTimeoutError(LanConnectionError):
    """The device did not answer within the timeout."""


class LanUnreachableError(LanConnectionError):
    """The connection was refused, reset on every retry, or there is no route."""


class LanProtocolError(LanError):
    """The device answered, but not with a protocol reply (HTML, another HTTP status, not JSON)."""

    def __init__(self, message: str, *, status: int = 200, html: bool = False) -> None:
        """Keep the HTTP status and whether the body was an HTML page."""
        super().__init__(message)
        self.status = status
        self.html = html


class LanRejectedError(LanError):
    """The device answered with a non-zero `error` code (lan-protocol.md §4.4)."""

    def __init__(self, code: int, *, seq: int | None = None, command: str = "") -> None:
        """Keep the device's code, its state counter and the command path."""
        self.code = code
        self.seq = seq
        self.command = command
        where = f" to {command}" if command else ""
        super().__init__(f"device answered error {code}{where}")


class LanDecryptError(LanError):
    """Data could not be decrypted or parsed (wrong devicekey, or corrupt data)."""


class LanKeyRequiredError(LanError):
    """The device encrypts its data but no devicekey was given."""
