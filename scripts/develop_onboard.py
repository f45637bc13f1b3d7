"""Wait for Home Assistant, finish onboarding with a development user, print what to click.

Used by scripts/develop; arguments: the simulator's JSON line file and Home Assistant's pid.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

HA = "http://127.0.0.1:8123"
USER, PASSWORD = "dev", "dev-password"


def call(
    path: str, data: dict[str, Any] | None = None, *, token: str | None = None, form: bool = False
) -> Any:
    """POST (or GET without data) to Home Assistant and return the decoded JSON."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None:
        if form:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{HA}{path}", data=body, headers=headers)  # noqa: S310  fixed http URL
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def wait_for_home_assistant(pid: int) -> list[dict[str, Any]]:
    """Return the onboarding status once Home Assistant answers."""
    started = time.monotonic()
    while time.monotonic() - started < 300:
        try:
            return call("/api/onboarding")
        except urllib.error.HTTPError as err:
            if err.code == 404:  # onboarding was finished in an earlier run
                return []
            raise
        except urllib.error.URLError, ConnectionError, TimeoutError:
            try:
                os.kill(pid, 0)
            except OSError:
                sys.exit("[develop] Home Assistant exited; see config/home-assistant.log")
            time.sleep(0.5)
    sys.exit("[develop] Home Assistant did not answer within 5 minutes")


def onboard(status: list[dict[str, Any]]) -> None:
    """Create the development user and finish the remaining onboarding steps."""
    if all(step["done"] for step in status):
        return
    client_id = f"{HA}/"
    code = call(
        "/api/onboarding/users",
        {
            "client_id": client_id,
            "name": "Developer",
            "username": USER,
            "password": PASSWORD,
            "language": "en",
        },
    )["auth_code"]
    token = call(
        "/auth/token",
        {"grant_type": "authorization_code", "code": code, "client_id": client_id},
        form=True,
    )["access_token"]
    call("/api/onboarding/core_config", {}, token=token)
    call("/api/onboarding/analytics", {}, token=token)
    call(
        "/api/onboarding/integration",
        {"client_id": client_id, "redirect_uri": f"{HA}/?auth_callback=1"},
        token=token,
    )


def main() -> None:
    """Print the URLs, the credentials and the clicks."""
    sim = json.loads(Path(sys.argv[1]).read_text().splitlines()[0])
    onboard(wait_for_home_assistant(int(sys.argv[2])))
    password_app = next(app for app in sim["apps"] if app["password_login"])
    oauth_app = next(app for app in sim["apps"] if app["oauth_only"])
    demo = sim["accounts"][0]
    unpaired = sim["unpaired"][0] if sim["unpaired"] else None
    lines = [
        "",
        f"Home Assistant is running: {HA}  (user {USER!r}, password {PASSWORD!r})",
        f"Simulated eWeLink cloud:   {sim['base_url']}  (admin API: {sim['admin_url']})",
        "",
        "Add the simulated account:",
        "  1. Settings > Devices & services > Add integration > eWeLink",
        "  2. Choose 'Use a custom server (advanced)' and enter:",
        f"       {sim['base_url']}",
        "  3. Choose 'E-mail or phone and password' and enter:",
        f"       App ID:                {password_app['appid']}",
        f"       App secret:            {password_app['secret']}",
        f"       E-mail or phone:       {demo['email']}",
        f"       Password:              {demo['password']}",
        f"       Country calling code:  {demo['country_code']}",
        "     Your devices appear under Settings > Devices & services > eWeLink.",
        "",
        "Or sign in with eWeLink (OAuth2): first add application credentials",
        "  (Settings > Devices & services > three-dot menu > Application credentials > eWeLink)",
        f"       Client ID:     {oauth_app['appid']}",
        f"       Client secret: {oauth_app['secret']}",
        "  then choose 'Sign in with eWeLink' after step 2; the simulator's page accepts the account above.",
    ]
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
            "  A wrong Wi-Fi password shows how a failed pairing looks.",
        ]
    lines += ["", "Stop with Ctrl+C.", ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
