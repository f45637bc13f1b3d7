"""Prepare Home Assistant's storage, finish onboarding, print what to click.

Used by scripts/develop:

* `develop_onboard.py prepare CONFIG PORT` (before Home Assistant starts): writes the HTTP
  settings to `.storage/http` (Home Assistant 2026.10 keeps them there; `http:` in YAML makes
  it ask for a confirmation and raise a deprecation repair), and on a new configuration marks
  every onboarding step but the user step done, so onboarding adds no integration that fails
  offline (Met.no, Radio Browser, Google Translate, shopping list).
* `develop_onboard.py onboard CONFIG PORT PID` (after it starts): creates the development user,
  sets the country (no "country not set" repair, and the country calling code is prefilled) and
  prints the URLs, credentials and clicks.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

USER, PASSWORD = "dev", "dev-password"
COUNTRY = "DE"  # the simulated demo account is German (+49)


def write_storage(config: Path, key: str, version: int, minor: int, data: Any) -> None:
    """Write one `.storage` file the way Home Assistant does."""
    storage = config / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    body = {"version": version, "minor_version": minor, "key": key, "data": data}
    tmp = storage / f".{key}.tmp"
    tmp.write_text(json.dumps(body, indent=2))
    tmp.replace(storage / key)


def prepare(config: Path, port: int) -> None:
    """Write the HTTP settings; on a new configuration, skip onboarding's default integrations."""
    # Home Assistant's own schema fills in its defaults (imported late: it is slow to import).
    from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA

    http = {
        **HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port}),
        "created_at": "2026-01-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    write_storage(
        config, "http", 2, 2, {"stable": http, "pending": None, "yaml_migration_done": True}
    )
    if not (config / ".storage" / "onboarding").exists():
        write_storage(
            config, "onboarding", 4, 1, {"done": ["core_config", "analytics", "integration"]}
        )


class HomeAssistant:
    """A few REST calls to the local Home Assistant."""

    def __init__(self, port: int) -> None:
        """Talk to 127.0.0.1:port."""
        self.url = f"http://127.0.0.1:{port}"

    def call(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        form: bool = False,
    ) -> Any:
        """POST (or GET without data) and return the decoded JSON."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = None
        if data is not None:
            if form:
                body = urllib.parse.urlencode(data).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(data).encode()
                headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"{self.url}{path}", data=body, headers=headers)  # noqa: S310  fixed http URL
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def wait(self, pid: int) -> list[dict[str, Any]]:
        """Return the onboarding status once Home Assistant answers."""
        started = time.monotonic()
        while time.monotonic() - started < 300:
            try:
                return list(self.call("/api/onboarding"))
            except urllib.error.HTTPError as err:
                if err.code == 404:  # onboarding was finished in an earlier run
                    return []
                raise
            except urllib.error.URLError, ConnectionError, TimeoutError:
                try:
                    os.kill(pid, 0)
                except OSError:
                    sys.exit("[develop] Home Assistant exited; see home-assistant.log")
                time.sleep(0.5)
        sys.exit("[develop] Home Assistant did not answer within 5 minutes")

    def create_user(self) -> str:
        """Create the development user; return an access token."""
        client_id = f"{self.url}/"
        code = self.call(
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": "Developer",
                "username": USER,
                "password": PASSWORD,
                "language": "en",
            },
        )["auth_code"]
        token: str = self.call(
            "/auth/token",
            {"grant_type": "authorization_code", "code": code, "client_id": client_id},
            form=True,
        )["access_token"]
        return token

    async def set_country(self, token: str) -> None:
        """Set the country over the websocket API (there is no REST call for it)."""
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{self.url}/api/websocket") as ws,
        ):
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": token})
            if (await ws.receive_json())["type"] != "auth_ok":
                sys.exit("[develop] could not sign in to the websocket API")
            await ws.send_json({"id": 1, "type": "config/core/update", "country": COUNTRY})
            answer = await ws.receive_json()
            if not answer.get("success"):
                sys.exit(f"[develop] could not set the country: {answer}")


def instructions(ha_url: str, sim: dict[str, Any]) -> list[str]:
    """What to click, with the simulator's credentials."""
    password_app = next(app for app in sim["apps"] if app["password_login"])
    oauth_app = next(app for app in sim["apps"] if app["oauth_only"])
    demo = sim["accounts"][0]
    lines = [
        "",
        f"Home Assistant is running: {ha_url}  (user {USER!r}, password {PASSWORD!r})",
        f"Simulated eWeLink cloud:   {sim['base_url']}  (admin API: {sim['admin_url']})",
        f"The cloud's world is kept in {sim.get('state_file') or 'memory only'}",
        "  (scripts/develop --fresh starts over).",
        "",
        "Add the simulated account (skip this if it is already under Settings > Devices & services):",
        "  1. Settings > Devices & services > Add integration > eWeLink",
        "  2. Choose 'Use a custom server (for developers)' and submit the prefilled URL:",
        f"       {sim['base_url']}",
        "  3. Choose 'E-mail or phone and password' and enter:",
        f"       App ID:                {password_app['appid']}",
        f"       App secret:            {password_app['secret']}",
        f"       E-mail or phone:       {demo['email']}",
        f"       Password:              {demo['password']}",
        f"       Country calling code:  {demo['country_code']} (prefilled from the country)",
        "     Your devices appear under Settings > Devices & services > eWeLink.",
        "",
        "Or sign in with eWeLink (OAuth2): choose 'Sign in with eWeLink' after step 2 and add",
        "  application credentials when asked:",
        f"       Client ID:     {oauth_app['appid']}",
        f"       Client secret: {oauth_app['secret']}",
        "  The simulator's page accepts the account above.",
    ]
    unpaired = next((u for u in sim["unpaired"] if u.get("http_url")), None)
    if unpaired:
        device_port = unpaired["http_url"].rsplit(":", 1)[1]
        wifi = sim["wifi"]
        lines += [
            "",
            f"Pair the simulated device {unpaired['deviceid']} (it waits in pairing mode):",
            "  On the eWeLink entry: Add device >",
            "  - 'Wi-Fi device, compatible pairing': continue, then",
            f"      Wi-Fi: {wifi['ssid']!r} / {wifi['password']!r};",
            f"      device address 127.0.0.1, device HTTP port {device_port}",
            "  - or 'Wi-Fi device, quick pairing': the same Wi-Fi, and under 'Quick pairing settings':",
            f"      this host 127.0.0.1, broadcast 127.0.0.1, broadcast port {unpaired['udp_port']},",
            f"      answer port {unpaired['ack_port']}, device HTTP port {device_port}",
            "  A wrong Wi-Fi password shows how a failed pairing looks; the device then goes back",
            f"  to pairing mode (or: curl -X POST {sim['admin_url']}/unpaired/reset).",
        ]
    lines += [
        "",
        "Local control: the simulated Wi-Fi devices also announce themselves on this host's",
        "network (mDNS) and take LAN commands. Stop the simulated cloud to see them keep working:",
        f"  curl -X POST {sim['admin_url']}/cloud -d '{{\"up\": false}}'   (true starts it again)",
        "",
        "Stop with Ctrl+C.",
        "",
    ]
    return lines


def main() -> None:
    """`prepare CONFIG PORT` or `onboard CONFIG PORT PID`."""
    command, config, port = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    if command == "prepare":
        prepare(config, port)
        return
    ha = HomeAssistant(port)
    status = ha.wait(int(sys.argv[4]))
    if any(step["step"] == "user" and not step["done"] for step in status):
        token = ha.create_user()
        asyncio.run(ha.set_country(token))
    sim = json.loads((config / "simulator.json").read_text().splitlines()[0])
    print("\n".join(instructions(ha.url, sim)), flush=True)


if __name__ == "__main__":
    main()
