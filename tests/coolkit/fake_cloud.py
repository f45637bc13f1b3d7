"""A hostile stand-in for the cloud: a real HTTP server that answers what the test tells it to.

The simulator is faithful; this one is not. It serves arbitrary status codes and body bytes
(malformed envelopes, odd shapes, invalid UTF-8, deep nesting) over a real socket, so the real
client parses them exactly as it would parse a broken cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import json
from typing import Any, Self

from aiohttp import web

type Body = bytes | str | dict[str, Any] | list[Any]


@dataclass(slots=True)
class Answer:
    """One HTTP answer."""

    body: Body = b""
    status: int = 200
    content_type: str = "application/json"

    def encode(self) -> bytes:
        """Return the body bytes (dicts and lists as compact JSON, NaN allowed)."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8", "surrogatepass")
        return json.dumps(self.body, separators=(",", ":")).encode()


def envelope(data: Any = None, error: int = 0, msg: str = "") -> dict[str, Any]:
    """Return the §3.1 envelope."""
    return {"error": error, "msg": msg, "data": {} if data is None else data}


@dataclass
class FakeCloud:
    """Answers per path (region prefix stripped: `/v2/family`, `/dispatch/app`), or `default`."""

    answers: dict[str, Answer | Callable[[web.Request], Answer]] = field(default_factory=dict)
    default: Answer = field(default_factory=lambda: Answer(envelope(error=403, msg="not set")))
    requests: list[tuple[str, str]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """Return the base URL to give `Servers(...)`."""
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, body: Body, status: int = 200) -> None:
        """Answer `path` with `body` until told otherwise."""
        self.answers[path] = Answer(body, status)

    def ok(self, path: str, data: Any) -> None:
        """Answer `path` with a successful envelope around `data`."""
        self.answer(path, envelope(data))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        parts = path.split("/", 2)
        if len(parts) == 3 and parts[1] in ("cn", "as", "us", "eu"):
            path = "/" + parts[2]
        await request.read()
        self.requests.append((request.method, path))
        answer = self.answers.get(path, self.default)
        if callable(answer):
            answer = answer(request)
        return web.Response(
            body=answer.encode(), status=answer.status, content_type=answer.content_type
        )
