"""The OAuth2 authorization page (coolkit-cloud.md §4.2): a small HTML login form.

`GET /oauth/index.html?clientId&seq&authorization&redirectUrl&grantType&state&nonce[&showQRCode]`
validates every required parameter, the `authorization` HMAC of `clientId_seq` with the app secret
and that `redirectUrl` is registered for the app, then shows the form. Submitting it with the
right credentials answers `302 redirectUrl?code=<uuid>&region=<region>&state=<state>`; wrong ones
show the form again with an error (HTTP 200). Codes are single-use and short-lived.
"""

from __future__ import annotations

import html
import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit
import uuid

from aiohttp import web
from multidict import MultiDict

from .signing import oauth_authorization, signature_matches
from .state import OAuthCode

if TYPE_CHECKING:
    from multidict import MultiMapping

    from .server import Simulator
    from .state import Account, App

_LOGGER = logging.getLogger("simulator.oauth")

REQUIRED = ("clientId", "seq", "authorization", "redirectUrl", "grantType", "state", "nonce")
FIELDS = (*REQUIRED, "showQRCode")


class OAuthPage:
    """GET and POST of `/oauth/index.html`."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _validate(self, params: MultiMapping[str]) -> tuple[App | None, str | None]:
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            return None, f"missing parameter(s): {', '.join(missing)}"
        if params["grantType"] != "authorization_code":
            return None, "grantType must be authorization_code"
        app = self.sim.store.apps.get(params["clientId"])
        if app is None:
            return None, "unknown clientId"
        message = f"{params['clientId']}_{params['seq']}".encode()
        # CoolKit's SDK and demo put the base64 signature in the URL unencoded, so about half of
        # them carry a literal `+`, which query decoding turns into a space. Base64 has no spaces:
        # read a space as the `+` it was [inf].
        authorization = params["authorization"].replace(" ", "+")
        if not signature_matches(app.secret, message, authorization):
            return None, "authorization does not match clientId_seq"
        if params["redirectUrl"] not in app.redirect_urls:
            return None, "redirectUrl is not registered for this app"
        return app, None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Show the form, or check the submitted credentials."""
        if request.method == "GET":
            app, error = self._validate(request.query)
            if app is None:
                return _page(
                    f"<p class=error>Invalid authorization request: {html.escape(str(error))}</p>",
                    400,
                )
            return _form(request.query, None)
        form = await request.post()
        params = {name: str(form.get(name, "")) for name in FIELDS}
        app, error = self._validate(MultiDict(params))
        if app is None:
            return _page(
                f"<p class=error>Invalid authorization request: {html.escape(str(error))}</p>", 400
            )
        account = self._check(str(form.get("account", "")), str(form.get("password", "")))
        if account is None:
            return _form(MultiDict(params), "Incorrect account or password.")
        code = str(uuid.uuid4())
        self.sim.store.codes[code] = OAuthCode(
            code=code,
            appid=app.appid,
            redirect_url=params["redirectUrl"],
            account=account,
            expires=time.time() + self.sim.config.oauth_code_ttl,
        )
        _LOGGER.info("oauth: %s authorised app %s", account.label, app.appid)
        location = _add_query(
            params["redirectUrl"],
            {"code": code, "region": account.region, "state": params["state"]},
        )
        raise web.HTTPFound(location)

    def _check(self, login: str, password: str) -> Account | None:
        login = login.strip()
        if not login:
            return None
        store = self.sim.store
        account = (
            store.find_account(email=login) if "@" in login else store.find_account(phone=login)
        )
        if account is None or account.password != password:
            return None
        return account


def _add_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _page(body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html><head><meta charset=utf-8><title>eWeLink authorization</title>"
        "<style>body{font-family:sans-serif;max-width:24em;margin:3em auto}"
        ".error{color:#b00}label{display:block;margin:.5em 0}</style></head>"
        f"<body><h1>eWeLink</h1>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _form(params: MultiMapping[str], error: str | None) -> web.Response:
    hidden = "".join(
        f'<input type=hidden name="{name}" value="{html.escape(params.get(name, ""), quote=True)}">'
        for name in FIELDS
    )
    notice = f"<p class=error>{html.escape(error)}</p>" if error else ""
    qr = ""
    if params.get("showQRCode") == "true":
        qr = "<p>(QR-code login is not simulated; use the form.)</p>"
    body = (
        f'{qr}{notice}<form method=post action="/oauth/index.html">{hidden}'
        "<label>E-mail or phone <input name=account autocomplete=username></label>"
        "<label>Password <input name=password type=password autocomplete=current-password></label>"
        "<button type=submit>Log in and authorize</button></form>"
    )
    return _page(body)


__all__ = ["OAuthPage", "oauth_authorization"]
