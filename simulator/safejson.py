"""JSON in and out of the simulator, safe against hostile input.

Everything a client sends is parsed with `loads`, which refuses what could poison stored state:
lone surrogates (they cannot be encoded as UTF-8, so every later answer carrying them would
fail), `NaN`/`Infinity` (not JSON), and nesting deeper than `MAX_DEPTH` (every later copy or
serialisation would recurse). `dumps` never fails on text: should an invalid string ever reach
the state, it is escaped instead of breaking every answer that carries it.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class HostileInputError(ValueError):
    """The input is not JSON the simulator accepts."""


def _refuse_constant(name: str) -> Any:
    raise HostileInputError(f"{name} is not JSON")


def loads(raw: str | bytes) -> Any:
    """Parse JSON text; raise ValueError (HostileInputError) for what the cloud would refuse."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise HostileInputError("nested too deeply") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Raise HostileInputError when `value` nests too deeply or holds an unencodable string."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise HostileInputError("nested too deeply")
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                raise HostileInputError("nested too deeply")
            stack.extend((child, depth + 1) for child in item)


def _check_text(text: Any) -> None:
    if isinstance(text, str) and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise HostileInputError("lone surrogate in a string") from None


def clean_header(value: str | None) -> str | None:
    """Return a header value fit for logs and JSON (non-printable characters escaped)."""
    if value is None or (value.isascii() and value.isprintable()):
        return value
    return value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def dumps(value: Any) -> str:
    """Serialise compactly as the cloud does (UTF-8 text, non-ASCII kept)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text
